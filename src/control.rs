//! The one reader of `debian/control` (with `debian_control`'s lossless parser): the source
//! paragraph's fields and the binary paragraphs, as plain values. `dh_mlmodel` decides from them
//! which packages a build acts on; `init` and `classify` take the source package name from them.
//! Writing and editing the file is `generate::control`'s job.

use std::path::Path;

use anyhow::{Context, Result, bail};
use debian_control::lossless::Control;

/// Where the file is, relative to the source tree.
pub const PATH: &str = "debian/control";

/// One binary package paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binary {
    pub name: String,
    /// `Architecture`, trimmed; empty when absent.
    pub architecture: String,
    /// `Build-Profiles`, when present.
    pub build_profiles: Option<String>,
    /// The substvars its fields use (`mlmodel:Recommends` for `${mlmodel:Recommends}`).
    pub substvars: Vec<String>,
}

/// What `debian/control` says.
#[derive(Debug, Clone)]
pub struct ControlFile {
    pub source: String,
    pub maintainer: Option<String>,
    pub homepage: Option<String>,
    pub section: Option<String>,
    /// In control-file order; names are unique.
    pub binaries: Vec<Binary>,
}

impl ControlFile {
    /// Reads `root/debian/control`.
    pub fn read(root: &Path) -> Result<Self> {
        let path = root.join(PATH);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&path, &text)
    }

    /// Reads `root/debian/control` when there is one.
    pub fn read_if_present(root: &Path) -> Result<Option<Self>> {
        if root.join(PATH).is_file() {
            Self::read(root).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Parses `text`; `path` names the file in messages. Text that is not deb822 (a line that
    /// is neither `Field: value`, a continuation, a comment nor a blank line) is an error naming
    /// its line and column, never skipped: a garbage file must not pass for one without the
    /// fields it lacks.
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        if let Some(error) = Control::parse(text).positioned_errors().first() {
            let offset = usize::from(error.range.start());
            let (line, column) = crate::policy::line_column(text, offset);
            return Err(crate::error::Kind::Input.msg(format!(
                "{}:{line}:{column}: not a control file: {}; fix it (paragraphs of \
                 `Field: value` lines, separated by blank lines; see deb-control(5))",
                path.display(),
                crate::terminal::escape_controls(&error.message)
            )));
        }
        let control = Control::read_relaxed(text.as_bytes())
            .map(|(control, _errors)| control)
            .map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))?;
        let source_paragraph = control
            .source()
            .with_context(|| format!("{}: there is no source paragraph", path.display()))?;
        let source = source_paragraph.name().with_context(|| {
            format!(
                "{}: the first paragraph has no Source field",
                path.display()
            )
        })?;
        let mut binaries: Vec<Binary> = Vec::new();
        for binary in control.binaries() {
            let Some(name) = binary.name() else {
                bail!(
                    "{}: a binary paragraph has no Package field",
                    path.display()
                );
            };
            if binaries.iter().any(|b| b.name == name) {
                bail!("{}: duplicate entry for package {name}", path.display());
            }
            binaries.push(Binary {
                architecture: binary.architecture().unwrap_or_default().trim().to_string(),
                build_profiles: binary.as_deb822().get("Build-Profiles"),
                substvars: binary
                    .as_deb822()
                    .items()
                    .flat_map(|(_, value)| substvars_used(&value))
                    .collect(),
                name,
            });
        }
        Ok(Self {
            source: source.trim().to_string(),
            maintainer: source_paragraph.maintainer(),
            homepage: source_paragraph.get("Homepage"),
            section: source_paragraph.section(),
            binaries,
        })
    }
}

/// The names of the `${name}` substitutions in a field's value.
fn substvars_used(value: &str) -> Vec<String> {
    value
        .split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::substvars_used;

    #[test]
    fn substvars_are_the_names_inside_dollar_braces() {
        assert_eq!(
            substvars_used("${misc:Depends}, libfoo (= ${binary:Version}), ${mlmodel:Recommends"),
            ["misc:Depends", "binary:Version"]
        );
        assert!(substvars_used("plain, $notone, {x}").is_empty());
    }
}
