//! `debian/control`, written and updated losslessly with `debian_control::lossless`: the tool
//! adds the paragraphs and relation entries it needs and sets the few fields it owns (a model
//! package's `Architecture` and area-qualified `Section`); everything else — field order,
//! comments, a Description or Build-Depends the maintainer edited — stays byte for byte.
//!
//! Each item the tool adds (a package, a field, a relation entry) is recorded in the
//! [`Ledger`] (kept in `debian/.mlmodel-generated`): an item recorded there and missing from
//! the file was removed by the maintainer, and is never added again.

use std::collections::BTreeSet;

use anyhow::Result;
use debian_control::lossless::Control;

#[derive(Debug, Clone)]
pub struct SourceSpec {
    pub name: String,
    pub section: String,
    pub maintainer: String,
    pub build_depends: Vec<String>,
    pub homepage: Option<String>,
    pub standards_version: String,
}

#[derive(Debug, Clone)]
pub struct BinarySpec {
    pub name: String,
    pub architecture: String,
    /// The section; for model packages qualified by area (`contrib/science`).
    pub section: String,
    /// The tool keeps `Section` and `Architecture` in step with the plan (model packages);
    /// otherwise they are written once and then belong to the maintainer.
    pub owned: bool,
    /// `Build-Profiles`, written when the paragraph is new or lacks the field.
    pub build_profiles: Option<String>,
    /// `Multi-Arch`, written when the paragraph is new (library packages: `same`).
    pub multi_arch: Option<String>,
    /// Relation fields and the entries each must contain, e.g. `("Depends", ["${misc:Depends}"])`.
    pub relations: Vec<(&'static str, Vec<String>)>,
    /// Synopsis, then the extended description's lines (blank lines as paragraph breaks).
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct ControlSpec {
    pub source: SourceSpec,
    pub binaries: Vec<BinarySpec>,
}

/// Field order of the source paragraph, as `debmake` and `dh_make` write it.
const SOURCE_ORDER: &[&str] = &[
    "Source",
    "Section",
    "Priority",
    "Maintainer",
    "Uploaders",
    "Rules-Requires-Root",
    "Build-Depends",
    "Build-Depends-Indep",
    "Standards-Version",
    "Homepage",
];

/// Field order of a new binary paragraph.
const BINARY_ORDER: &[&str] = &[
    "Package",
    "Section",
    "Architecture",
    "Multi-Arch",
    "Build-Profiles",
    "Depends",
    "Recommends",
    "Suggests",
    "Description",
];

/// The items of debian/control the tool added, as `Package: NAME`, `PARAGRAPH: FIELD` and
/// `PARAGRAPH: FIELD: ENTRY` (the source paragraph is `Source`).
#[derive(Debug, Default)]
pub struct Ledger {
    /// Every item added in an earlier run.
    pub recorded: BTreeSet<String>,
    /// The items the plan asks for that the file now holds: the next run's `recorded`.
    pub present: BTreeSet<String>,
    /// Items recorded and missing from the file: removed by the maintainer, not added again.
    pub removed: BTreeSet<String>,
}

impl Ledger {
    pub fn new(recorded: BTreeSet<String>) -> Self {
        Self {
            recorded,
            ..Self::default()
        }
    }

    /// Whether to add `item`, missing from the file: not when the maintainer removed it.
    fn may_add(&mut self, item: String) -> bool {
        if self.recorded.contains(&item) {
            self.removed.insert(item);
            false
        } else {
            self.present.insert(item);
            true
        }
    }

    fn holds(&mut self, item: String) {
        self.present.insert(item);
    }

    /// Forgets every item of a package the tool removed, so the plan may add it again later.
    fn forget_package(&mut self, name: &str) {
        let prefix = format!("{name}: ");
        let package = format!("Package: {name}");
        self.recorded
            .retain(|item| *item != package && !item.starts_with(&prefix));
    }
}

/// The control text for `spec`, starting from `existing` when there is one. Paragraphs named in
/// `retired` (packages the tool wrote earlier and the plan no longer has) are removed.
/// With `rename`, an existing source paragraph's `Source:` becomes `spec.source.name`. Items
/// the `ledger` records as added earlier and missing now are not added again.
pub fn update(
    existing: Option<&str>,
    spec: &ControlSpec,
    retired: &[String],
    rename: bool,
    ledger: &mut Ledger,
) -> Result<String> {
    let mut control = match existing {
        Some(text) => {
            let parsed = Control::parse(text);
            if !parsed.errors().is_empty() {
                return Err(crate::error::Kind::Input.msg(format!(
                    "debian/control does not parse ({}); fix it, then run dh-mlmodel again",
                    parsed.errors().join("; ")
                )));
            }
            parsed.tree()
        }
        None => Control::new(),
    };
    update_source(&mut control, &spec.source, rename, ledger);
    for name in retired {
        if !spec.binaries.iter().any(|b| &b.name == name) {
            control.remove_binary(name);
            ledger.forget_package(name);
        }
    }
    for binary in &spec.binaries {
        update_binary(&mut control, binary, ledger);
    }
    align_source_area(&mut control);
    let mut text = control.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

fn update_source(control: &mut Control, spec: &SourceSpec, rename: bool, ledger: &mut Ledger) {
    let mut source = match control.source() {
        Some(mut source) => {
            if rename {
                source.set_name(&spec.name);
            }
            source
        }
        None => {
            let mut source = control.add_source(&spec.name);
            let paragraph = source.as_mut_deb822();
            paragraph.set_with_field_order("Section", &spec.section, SOURCE_ORDER);
            paragraph.set_with_field_order("Priority", "optional", SOURCE_ORDER);
            paragraph.set_with_field_order("Maintainer", &spec.maintainer, SOURCE_ORDER);
            paragraph.set_with_field_order("Rules-Requires-Root", "no", SOURCE_ORDER);
            source
        }
    };
    let paragraph = source.as_mut_deb822();
    ensure_relations(
        paragraph,
        ("Source", "Build-Depends"),
        &spec.build_depends,
        SOURCE_ORDER,
        ledger,
    );
    ensure_field(
        paragraph,
        ("Source", "Standards-Version"),
        Some(&spec.standards_version),
        SOURCE_ORDER,
        ledger,
    );
    ensure_field(
        paragraph,
        ("Source", "Homepage"),
        spec.homepage.as_ref(),
        SOURCE_ORDER,
        ledger,
    );
}

/// Sets `field` to `value` when the paragraph lacks it and the maintainer did not remove it.
fn ensure_field(
    paragraph: &mut deb822_lossless::Paragraph,
    (owner, field): (&str, &str),
    value: Option<&String>,
    order: &[&str],
    ledger: &mut Ledger,
) {
    let Some(value) = value else {
        return;
    };
    let item = format!("{owner}: {field}");
    if paragraph.get(field).is_some() {
        ledger.holds(item);
    } else if ledger.may_add(item) {
        paragraph.set_with_field_order(field, value, order);
    }
}

fn update_binary(control: &mut Control, spec: &BinarySpec, ledger: &mut Ledger) {
    let existing = control
        .binaries()
        .find(|b| b.name().as_deref() == Some(spec.name.as_str()));
    let item = format!("Package: {}", spec.name);
    let mut binary = match existing {
        Some(binary) => {
            ledger.holds(item);
            binary
        }
        None if !ledger.may_add(item) => return,
        None => {
            let mut binary = control.add_binary(&spec.name);
            let paragraph = binary.as_mut_deb822();
            paragraph.set_with_field_order("Section", &spec.section, BINARY_ORDER);
            paragraph.set_with_field_order("Architecture", &spec.architecture, BINARY_ORDER);
            if let Some(multi_arch) = &spec.multi_arch {
                paragraph.set_with_field_order("Multi-Arch", multi_arch, BINARY_ORDER);
            }
            binary
        }
    };
    let paragraph = binary.as_mut_deb822();
    if spec.owned {
        if paragraph.get("Section").as_deref() != Some(spec.section.as_str()) {
            let section = requalified_section(paragraph.get("Section").as_deref(), &spec.section);
            paragraph.set_with_field_order("Section", &section, BINARY_ORDER);
        }
        if paragraph.get("Architecture").as_deref() != Some(spec.architecture.as_str()) {
            paragraph.set_with_field_order("Architecture", &spec.architecture, BINARY_ORDER);
        }
    }
    let name = spec.name.as_str();
    ensure_field(
        paragraph,
        (name, "Build-Profiles"),
        spec.build_profiles.as_ref(),
        BINARY_ORDER,
        ledger,
    );
    for (field, entries) in &spec.relations {
        ensure_relations(paragraph, (name, field), entries, BINARY_ORDER, ledger);
    }
    let item = format!("{name}: Description");
    if paragraph.get("Description").is_some() {
        ledger.holds(item);
    } else if ledger.may_add(item) {
        let _ = paragraph.set_multiline(
            "Description",
            &description_value(&spec.description),
            Some(BINARY_ORDER),
        );
    }
}

/// Puts the source package in the archive area its binaries allow, as lintian's
/// `archive-liberty-mismatch` wants: main when a binary is in main, else contrib when one is in
/// contrib, else non-free. A binary without `Section` follows the source and does not count.
/// The section's name is kept; only its area changes.
fn align_source_area(control: &mut Control) {
    let areas: Vec<String> = control
        .binaries()
        .filter_map(|b| b.as_deb822().get("Section"))
        .map(|section| match section.split_once('/') {
            Some((area, _)) => area.trim().to_string(),
            None => "main".to_string(),
        })
        .collect();
    let wanted = ["main", "contrib", "non-free"]
        .into_iter()
        .find(|area| areas.iter().any(|a| a == area));
    let (Some(wanted), Some(mut source)) = (wanted, control.source()) else {
        return;
    };
    let paragraph = source.as_mut_deb822();
    let Some(current) = paragraph.get("Section") else {
        return;
    };
    let name = current
        .rsplit('/')
        .next()
        .unwrap_or(&current)
        .trim()
        .to_string();
    let section = if wanted == "main" {
        name
    } else {
        format!("{wanted}/{name}")
    };
    if section != current {
        paragraph.set_with_field_order("Section", &section, SOURCE_ORDER);
    }
}

/// The planned area with the maintainer's section name: `contrib/science` planned over
/// `non-free/math` gives `contrib/math`.
fn requalified_section(current: Option<&str>, planned: &str) -> String {
    let Some(current) = current else {
        return planned.to_string();
    };
    let name = current.rsplit('/').next().unwrap_or(current);
    match planned.split_once('/') {
        Some((area, _)) => format!("{area}/{name}"),
        None => name.to_string(),
    }
}

/// Deb822 multi-line values mark blank lines with `.`.
fn description_value(text: &str) -> String {
    text.lines()
        .map(|line| if line.trim().is_empty() { "." } else { line })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The package (or substitution variable) an entry of a relation field names.
fn relation_name(entry: &str) -> &str {
    let entry = entry.trim();
    if entry.starts_with("${") {
        return entry;
    }
    entry
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | '[' | '<' | ':' | '|'))
        .next()
        .unwrap_or(entry)
}

/// Appends the entries of `required` that the field lacks (and the maintainer did not remove),
/// keeping the field as written otherwise (its entries, order, layout); a field that has them
/// all is left untouched.
fn ensure_relations(
    paragraph: &mut deb822_lossless::Paragraph,
    (owner, field): (&str, &str),
    required: &[String],
    order: &[&str],
    ledger: &mut Ledger,
) {
    let current = paragraph.get(field).unwrap_or_default();
    let present: Vec<&str> = current
        .split(',')
        .flat_map(|alternatives| alternatives.split('|'))
        .map(relation_name)
        .filter(|name| !name.is_empty())
        .collect();
    let mut missing: Vec<&String> = Vec::new();
    for entry in required {
        let item = format!("{owner}: {field}: {}", relation_name(entry));
        if present.contains(&relation_name(entry)) {
            ledger.holds(item);
        } else if ledger.may_add(item) {
            missing.push(entry);
        }
    }
    if missing.is_empty() {
        return;
    }
    let multiline = current.contains('\n');
    let separator = if multiline { ",\n" } else { ", " };
    let mut value = current.trim_end().trim_end_matches(',').to_string();
    for entry in missing {
        if !value.is_empty() {
            value.push_str(separator);
        }
        value.push_str(entry);
    }
    if multiline {
        paragraph.set_with_indent_pattern(field, &value, None, Some(order));
    } else {
        paragraph.set_with_field_order(field, &value, order);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ControlSpec {
        ControlSpec {
            source: SourceSpec {
                name: "foo".into(),
                section: "science".into(),
                maintainer: "A B <a@example.org>".into(),
                build_depends: vec![
                    "debhelper-compat (= 13)".into(),
                    "dh-sequence-mlmodel".into(),
                ],
                homepage: Some("https://example.org/foo".into()),
                standards_version: "4.6.2".into(),
            },
            binaries: vec![BinarySpec {
                name: "foo".into(),
                architecture: "any".into(),
                section: "science".into(),
                owned: false,
                build_profiles: None,
                multi_arch: None,
                relations: vec![
                    (
                        "Depends",
                        vec!["${shlibs:Depends}".into(), "${misc:Depends}".into()],
                    ),
                    ("Recommends", vec!["${mlmodel:Recommends}".into()]),
                ],
                description: "the foo program\nFoo does things.\n\nMore things.".into(),
            }],
        }
    }

    #[test]
    fn writes_a_new_control_file() {
        let text = update(None, &spec(), &[], false, &mut Ledger::default()).unwrap();
        assert_eq!(
            text,
            "Source: foo\nSection: science\nPriority: optional\nMaintainer: A B <a@example.org>\n\
             Rules-Requires-Root: no\nBuild-Depends: debhelper-compat (= 13), dh-sequence-mlmodel\n\
             Standards-Version: 4.6.2\nHomepage: https://example.org/foo\n\n\
             Package: foo\nSection: science\nArchitecture: any\n\
             Depends: ${shlibs:Depends}, ${misc:Depends}\nRecommends: ${mlmodel:Recommends}\n\
             Description: the foo program\n Foo does things.\n .\n More things.\n"
        );
    }

    #[test]
    fn keeps_edits_and_adds_what_is_missing() {
        let first = update(None, &spec(), &[], false, &mut Ledger::default()).unwrap();
        let edited = first
            .replace(
                "Foo does things.",
                "Foo does many things, says the maintainer.",
            )
            .replace(
                "dh-sequence-mlmodel\n",
                "dh-sequence-mlmodel,\n               libbar-dev\n",
            )
            .replace(
                "Priority: optional\n",
                "Priority: optional\n# keep this comment\n",
            );
        let mut more = spec();
        more.source.build_depends.push("python3-numpy".into());
        more.binaries.push(BinarySpec {
            name: "foo-model-bar-installer".into(),
            architecture: "all".into(),
            section: "contrib/science".into(),
            owned: true,
            build_profiles: None,
            multi_arch: None,
            relations: vec![(
                "Depends",
                vec!["${misc:Depends}".into(), "${mlmodel:Depends}".into()],
            )],
            description: "installer for bar\nGets bar.".into(),
        });
        let second = update(Some(&edited), &more, &[], false, &mut Ledger::default()).unwrap();
        assert!(second.contains("Foo does many things, says the maintainer."));
        assert!(second.contains("# keep this comment\n"));
        assert!(second.contains("libbar-dev"), "{second}");
        assert!(second.contains("python3-numpy"), "{second}");
        assert!(second.contains("Package: foo-model-bar-installer\nSection: contrib/science\n"));
        // Nothing to add: the text is unchanged.
        assert_eq!(
            update(Some(&second), &more, &[], false, &mut Ledger::default()).unwrap(),
            second
        );
        // The maintainer's section name survives an area change; retired packages go.
        let renamed = second.replace("contrib/science", "contrib/math");
        more.binaries[1].section = "non-free/science".into();
        let third = update(Some(&renamed), &more, &[], false, &mut Ledger::default()).unwrap();
        assert!(third.contains("Section: non-free/math"), "{third}");
        more.binaries.pop();
        let fourth = update(
            Some(&third),
            &more,
            &["foo-model-bar-installer".into()],
            false,
            &mut Ledger::default(),
        )
        .unwrap();
        assert!(!fourth.contains("foo-model-bar-installer"));
        assert!(fourth.contains("Foo does many things"));
    }

    #[test]
    fn items_the_maintainer_removed_are_not_added_again() {
        let mut ledger = Ledger::default();
        let first = update(None, &spec(), &[], false, &mut ledger).unwrap();
        assert!(ledger.present.contains("Package: foo"));
        assert!(
            ledger
                .present
                .contains("Source: Build-Depends: dh-sequence-mlmodel")
        );
        assert!(ledger.present.contains("Source: Homepage"));
        let edited = first
            .replace(", dh-sequence-mlmodel", "")
            .replace("Homepage: https://example.org/foo\n", "")
            .replace("Recommends: ${mlmodel:Recommends}\n", "");
        let mut again = Ledger::new(ledger.present.clone());
        let second = update(Some(&edited), &spec(), &[], false, &mut again).unwrap();
        assert_eq!(second, edited);
        assert_eq!(
            again.removed.iter().collect::<Vec<_>>(),
            [
                "Source: Build-Depends: dh-sequence-mlmodel",
                "Source: Homepage",
                "foo: Recommends: ${mlmodel:Recommends}"
            ]
        );
        // Without the record, the same file gets the items back.
        let fresh = update(Some(&edited), &spec(), &[], false, &mut Ledger::default()).unwrap();
        assert_eq!(fresh, first);
    }

    #[test]
    fn relation_names_ignore_versions_and_qualifiers() {
        assert_eq!(relation_name(" python3-all (>= 3.9)"), "python3-all");
        assert_eq!(relation_name("gcc:native"), "gcc");
        assert_eq!(relation_name("${misc:Depends}"), "${misc:Depends}");
    }

    #[test]
    fn the_source_area_follows_the_freest_binary() {
        let mut only_contrib = spec();
        only_contrib.binaries[0].section = "contrib/science".into();
        let text = update(None, &only_contrib, &[], false, &mut Ledger::default()).unwrap();
        assert!(
            text.starts_with("Source: foo\nSection: contrib/science\n"),
            "{text}"
        );
        // A binary moved to main brings the source back to main, keeping the section's name.
        let edited = text
            .replace(
                "Section: contrib/science\nPriority",
                "Section: contrib/math\nPriority",
            )
            .replace(
                "Section: contrib/science\nArchitecture",
                "Section: science\nArchitecture",
            );
        let back = update(Some(&edited), &spec(), &[], false, &mut Ledger::default()).unwrap();
        assert!(back.starts_with("Source: foo\nSection: math\n"), "{back}");
    }
}
