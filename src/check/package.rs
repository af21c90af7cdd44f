//! What a package says about itself: the fields of its control paragraph (a `.deb`'s `control`
//! file, a `.dsc`, a `.changes`, `debian/control`), the archive area its `Section` puts it in,
//! and the package names its relation fields list.

use std::collections::BTreeMap;

use crate::plan::Area;

/// The fields of one deb822 paragraph, names folded to lower case (deb822 field names are
/// case-insensitive, deb-control(5)).
#[derive(Debug, Clone, Default)]
pub struct Fields {
    fields: BTreeMap<String, String>,
}

impl Fields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// `get`, trimmed, empty taken as absent.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// Parses deb822 text into its paragraphs, after removing an OpenPGP clear-signature wrapper
/// (`.dsc` and `.changes` are usually signed). `what` names the text in messages. Text that is
/// not deb822 is an error naming its line.
pub fn paragraphs(text: &str, what: &str) -> Result<Vec<Fields>, String> {
    let text = strip_signature(text);
    let parsed = deb822_lossless::Deb822::parse(&text);
    if let Some(error) = parsed.positioned_errors().first() {
        let offset = usize::from(error.range.start());
        let (line, _) = crate::policy::line_column(&text, offset);
        return Err(format!(
            "{what}:{line}: not a control paragraph: {} (see deb822(5))",
            crate::terminal::escape_controls(&error.message)
        ));
    }
    Ok(parsed
        .tree()
        .paragraphs()
        .map(|paragraph| Fields {
            fields: paragraph
                .entries()
                .filter_map(|entry| Some((entry.key()?.to_ascii_lowercase(), entry.value())))
                .collect(),
        })
        .collect())
}

/// The signed text inside an OpenPGP cleartext signature (RFC 4880 §7), dash-escapes undone;
/// text that is not signed as it is.
fn strip_signature(text: &str) -> String {
    if !text.starts_with("-----BEGIN PGP SIGNED MESSAGE-----") {
        return text.to_string();
    }
    let mut lines = text.lines().skip(1);
    // Armor headers (`Hash: SHA512`) up to the first empty line.
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
    }
    let mut out = String::new();
    for line in lines {
        if line.starts_with("-----BEGIN PGP SIGNATURE-----") {
            break;
        }
        out.push_str(line.strip_prefix("- ").unwrap_or(line));
        out.push('\n');
    }
    out
}

/// The archive area of a `Section` value (Debian Policy 2.4: `area/section`, no prefix for
/// main). `non-free-firmware` is non-free for what the checks care about.
pub fn area_of(section: Option<&str>) -> Area {
    match section.and_then(|s| s.trim().split_once('/')) {
        Some(("contrib", _)) => Area::Contrib,
        Some(("non-free" | "non-free-firmware", _)) => Area::NonFree,
        _ => Area::Main,
    }
}

/// The relation fields that bind a package in main to what they name (Debian Policy 2.2.1:
/// main packages must not require or recommend packages outside main; `Suggests` and
/// `Enhances` may name anything).
pub const BINARY_STRONG_RELATIONS: [&str; 3] = ["Pre-Depends", "Depends", "Recommends"];
pub const SOURCE_BUILD_RELATIONS: [&str; 3] =
    ["Build-Depends", "Build-Depends-Indep", "Build-Depends-Arch"];

/// The package names a relation field lists (deb-control(5) syntax): alternatives, version
/// constraints `(…)`, architecture lists `[…]`, build profiles `<…>` and `:any` qualifiers
/// dropped. Substitution variables (`${misc:Depends}`) name no package.
pub fn relation_names(value: &str) -> Vec<String> {
    let mut names = Vec::new();
    for alternative in value.split([',', '|']) {
        let name: String = alternative
            .trim()
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, '(' | '[' | '<'))
            .collect();
        let name = name.split(':').next().unwrap_or_default();
        if !name.is_empty() && !name.starts_with('$') && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relation_names_drop_constraints_and_variables() {
        assert_eq!(
            relation_names("${misc:Depends}, foo (>= 1.0) [amd64] <!nocheck>, bar:any | baz"),
            ["foo", "bar", "baz"]
        );
    }

    #[test]
    fn areas() {
        assert_eq!(area_of(Some("contrib/science")), Area::Contrib);
        assert_eq!(area_of(Some("non-free/science")), Area::NonFree);
        assert_eq!(area_of(Some("non-free-firmware/kernel")), Area::NonFree);
        assert_eq!(area_of(Some("science")), Area::Main);
        assert_eq!(area_of(None), Area::Main);
    }

    #[test]
    fn signed_paragraphs() {
        let text = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nSource: foo\nVersion: 1\n\n-----BEGIN PGP SIGNATURE-----\nxx\n-----END PGP SIGNATURE-----\n";
        let fields = paragraphs(text, "foo.dsc").unwrap();
        assert_eq!(fields[0].value("source"), Some("foo"));
    }
}
