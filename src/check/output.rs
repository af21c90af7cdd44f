//! Lintian's output, exactly: `E: pkg[ type]: tag [context]` lines (`Lintian::Output::EWI`),
//! `O:` for overridden tags with `--show-overrides` after a `N: ` line with the justification,
//! `--info` descriptions, `--explain-tags`; and the JSON report (README, "check").

use std::io::{self, Write};

use serde::Serialize;

use super::overrides::{Override, Overrides};
use super::rules::Hint;
use super::selection::{DisplayLevel, FailOn, TagSelection};
use super::tags::{Severity, Tag, TagTable};
use super::{Target, TargetKind};
use crate::generate::text::wrap;

/// How the hints are filtered and judged.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub display: DisplayLevel,
    pub tags: TagSelection,
    pub fail_on: FailOn,
    pub show_overrides: bool,
    /// `--no-override`: overrides are not read.
    pub no_override: bool,
}

/// One tag on one package, after overrides.
#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    pub tag: String,
    pub severity: Severity,
    pub context: String,
    /// The override that silences it, when one does.
    #[serde(rename = "override")]
    pub overridden: Option<Override>,
}

/// The result of checking one target.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The file or directory checked.
    pub target: String,
    pub package: Option<String>,
    pub version: Option<String>,
    pub architecture: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<TargetKind>,
    /// Why the target could not be read; it has no tags then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub tags: Vec<Shown>,
    /// Lines of the overrides file that could not be read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub override_errors: Vec<String>,
    /// What the scan could not look at (a cap reached in a nested archive, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Report {
    /// The report of a target that could not be read.
    pub fn unreadable(target: String, error: String) -> Self {
        Self {
            target,
            package: None,
            version: None,
            architecture: None,
            kind: None,
            error: Some(error),
            tags: Vec::new(),
            override_errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The report of `target`'s hints: tags not selected or not displayed dropped, overrides
    /// attached. Overridden tags are kept (text output shows them with `--show-overrides`,
    /// JSON always).
    pub fn new(
        name: String,
        target: &Target,
        hints: Vec<Hint>,
        table: &TagTable,
        selection: &Selection,
    ) -> Self {
        let overrides = match (&target.overrides, selection.no_override) {
            (Some((_, text)), false) => Overrides::parse(
                text,
                &target.package,
                target.kind.as_str(),
                &target.architecture,
            ),
            _ => Overrides::default(),
        };
        let mut tags: Vec<Shown> = hints
            .into_iter()
            .filter(|hint| selection.tags.enabled(hint.tag))
            .filter_map(|hint| {
                let severity = table.get(hint.tag)?.severity;
                selection.display.shows(severity).then(|| Shown {
                    tag: hint.tag.to_string(),
                    severity,
                    overridden: overrides.find(hint.tag, &hint.context).cloned(),
                    context: hint.context,
                })
            })
            .collect();
        tags.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        let override_errors = match &target.overrides {
            Some((path, _)) => overrides
                .errors
                .iter()
                .map(|e| format!("{path}: {e}"))
                .collect(),
            None => Vec::new(),
        };
        Self {
            target: name,
            package: Some(target.package.clone()),
            version: Some(target.version.clone()),
            architecture: Some(target.architecture.clone()),
            kind: Some(target.kind),
            error: None,
            tags,
            override_errors,
            warnings: target.warnings.clone(),
        }
    }

    /// Whether a tag of this report reaches `--fail-on`.
    pub fn fails(&self, selection: &Selection) -> bool {
        self.tags.iter().any(|shown| {
            selection.fail_on.reached(
                shown.severity,
                shown.overridden.is_some(),
                selection.show_overrides,
            )
        })
    }
}

/// Lintian's order: overridden last, then by letter (E, W, I, P, C), tag name, context.
fn sort_key(shown: &Shown) -> (bool, u8, &str, &str) {
    let rank = match shown.severity {
        Severity::Error => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
        Severity::Pedantic => 3,
        Severity::Classification => 4,
    };
    (shown.overridden.is_some(), rank, &shown.tag, &shown.context)
}

/// Lintian's `_quote_print`: every character that is not printable becomes `?`.
fn quote_print(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Width of the `--info` and `--explain-tags` descriptions, lintian's default for a pipe.
const OUTPUT_WIDTH: usize = 80;

/// Writes the lines of `reports` as lintian does; `info` adds each tag's description after its
/// first line (`--info`).
pub fn write_text(
    out: &mut dyn Write,
    reports: &[Report],
    table: &TagTable,
    selection: &Selection,
    info: bool,
) -> io::Result<()> {
    let mut described = std::collections::BTreeSet::new();
    for report in reports {
        let (Some(package), Some(kind)) = (&report.package, report.kind) else {
            continue;
        };
        let kind_text = match kind {
            TargetKind::Binary => String::new(),
            other => format!(" {}", other.as_str()),
        };
        for shown in &report.tags {
            let code = match &shown.overridden {
                Some(_) if !selection.show_overrides => continue,
                Some(_) => 'O',
                None => shown.severity.code(),
            };
            if info {
                writeln!(out, "N:")?;
            }
            if let Some(over) = &shown.overridden
                && !over.justification.is_empty()
            {
                // Text::Wrap at `output-width - length "N: "` columns, the last one unused.
                for line in wrap(&over.justification, OUTPUT_WIDTH - 2 * "N: ".len() - 1) {
                    writeln!(out, "N: {line}")?;
                }
            }
            let context = if shown.context.is_empty() {
                String::new()
            } else {
                format!(" {}", quote_print(&shown.context))
            };
            writeln!(
                out,
                "{code}: {}{kind_text}: {}{context}",
                quote_print(package),
                shown.tag
            )?;
            if info
                && described.insert(shown.tag.clone())
                && let Some(tag) = table.get(&shown.tag)
            {
                describe(out, tag)?;
            }
        }
    }
    Ok(())
}

/// `--explain-tags`: each tag's letter and name, then its description, as
/// `lintian-explain-tags` prints them; every tag when `names` is empty.
pub fn explain(out: &mut dyn Write, table: &TagTable, names: &[String]) -> io::Result<Vec<String>> {
    let mut unknown = Vec::new();
    let tags: Vec<&Tag> = if names.is_empty() {
        table.iter().collect()
    } else {
        names
            .iter()
            .filter_map(|name| {
                let tag = table.get(name);
                if tag.is_none() {
                    unknown.push(name.clone());
                }
                tag
            })
            .collect()
    };
    for tag in tags {
        writeln!(out, "N:")?;
        writeln!(out, "{}: {}", tag.severity.code(), tag.name)?;
        describe(out, tag)?;
    }
    Ok(unknown)
}

/// Lintian's `describe_tag`: the explanation, the references, the visibility, each line
/// behind `N:   `.
fn describe(out: &mut dyn Write, tag: &Tag) -> io::Result<()> {
    const PREFIX: &str = "N:   ";
    writeln!(out, "N: ")?;
    let width = OUTPUT_WIDTH - PREFIX.len();
    for (index, paragraph) in tag.explanation.trim().split("\n\n").enumerate() {
        if index > 0 {
            writeln!(out, "{PREFIX}")?;
        }
        for line in wrap(paragraph, width) {
            writeln!(out, "{PREFIX}{line}")?;
        }
    }
    if !tag.see_also.is_empty() {
        writeln!(out, "N: ")?;
        let refs = enumeration(&tag.see_also);
        for line in wrap(&format!("Please refer to {refs} for details."), width) {
            writeln!(out, "{PREFIX}{line}")?;
        }
    }
    writeln!(out, "N: ")?;
    writeln!(out, "{PREFIX}Visibility: {}", tag.severity.as_str())?;
    writeln!(out, "N: ")?;
    Ok(())
}

/// Lintian's `oxford_enumeration` with `and`.
fn enumeration(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

/// The `--json` document (README, "check"): version 1 of the schema.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    pub schema: u32,
    pub targets: &'a [Report],
}

pub const JSON_SCHEMA: u32 = 1;
