//! What debian/copyright (DEP-5, copyright-format 1.0) says about licences and holders: the
//! code's licence in DEP-5 spelling, a `Files` paragraph per model whose weights stay in the
//! source or come with it as an orig component (the model's own holders and licence, never
//! the code's), and one stand-alone `License` paragraph per licence named. A licence Debian
//! ships in /usr/share/common-licenses gets its notice and the pointer lintian looks for, from
//! the same function the locally built weights package uses
//! ([`crate::spdx::LicenseTable::dep5`]); any other gets the licence file's text, or a `FIXME`
//! line when upstream ships none.

use std::path::Path;

use serde::Serialize;

use super::text::license_lines;
use super::views::ModelView;
use crate::spdx::{Expression, LicenseTable, identifiers, parse, text_family};
use crate::upstream::Upstream;

/// The `License:` short name written while the code's licence is unknown.
const UNKNOWN_LICENSE: &str = "FIXME-the-upstream-licence";

/// A `Files` paragraph for a model's weights.
#[derive(Debug, Serialize)]
pub struct ModelFiles {
    pub name: String,
    pub files: Vec<String>,
    pub copyright: Vec<String>,
    pub license: String,
    pub category: &'static str,
}

/// A stand-alone `License` paragraph: its name and its continuation lines (`.` for a blank).
#[derive(Debug, PartialEq, Serialize)]
pub struct LicenseParagraph {
    pub name: String,
    pub lines: Vec<String>,
}

/// Everything the copyright template says about licences.
#[derive(Debug, Serialize)]
pub struct CopyrightView {
    /// The `License:` of `Files: *` and `Files: debian/*`.
    pub upstream_license: String,
    pub models: Vec<ModelFiles>,
    pub licenses: Vec<LicenseParagraph>,
}

/// Builds the view for the tree at `root`; `excluded` are the `Files-Excluded` paths (not in
/// the source package, so no paragraph names them). Unknown holders are reported in `warnings`.
pub fn view(
    root: &Path,
    upstream: &Upstream,
    models: &[ModelView],
    excluded: &[String],
    table: &LicenseTable,
    warnings: &mut Vec<String>,
) -> CopyrightView {
    let mut licenses: Vec<LicenseParagraph> = Vec::new();
    let upstream_expression = upstream
        .license
        .as_deref()
        .and_then(|l| parse(l.trim()).ok());
    let upstream_license = match (&upstream_expression, upstream.license.as_deref()) {
        (Some(expression), _) => table.dep5(expression).name,
        (None, Some(stated)) if !stated.trim().is_empty() => stated.trim().to_string(),
        _ => UNKNOWN_LICENSE.to_string(),
    };
    match &upstream_expression {
        Some(expression) => add_paragraphs(&mut licenses, expression, table, upstream),
        None => licenses.push(LicenseParagraph {
            name: upstream_license.clone(),
            lines: upstream
                .license_text
                .as_deref()
                .map(body_of)
                .unwrap_or_else(|| vec![fixme_text(&upstream_license)]),
        }),
    }
    let mut model_files = Vec::new();
    for model in models {
        // A component's files are in its directory of the unpacked source package.
        let files: Vec<String> = match &model.component {
            Some(component) => vec![format!("{component}/*")],
            None => model
                .files
                .iter()
                .filter(|f| !excluded.contains(f) && root.join(f).is_file())
                .cloned()
                .collect(),
        };
        if files.is_empty() {
            continue;
        }
        let expression = model.license.as_deref().and_then(|l| parse(l).ok());
        let license = match &expression {
            Some(expression) => {
                add_paragraphs(&mut licenses, expression, table, upstream);
                table.dep5(expression).name
            }
            None => {
                let name = format!("FIXME-the-{}-weights-licence", model.name);
                push_unique(
                    &mut licenses,
                    LicenseParagraph {
                        lines: vec![fixme_text(&name)],
                        name: name.clone(),
                    },
                );
                name
            }
        };
        let copyright = match &model.copyright {
            Some(holders) => holders.lines().map(|l| l.trim().to_string()).collect(),
            None => {
                warnings.push(format!(
                    "the copyright holders of the {} weights are unknown: debian/copyright says \
                     FIXME for {}; set `copyright` of model {} in debian/mlmodel.toml (the \
                     weights' authors, often not the code's)",
                    model.name,
                    files.join(", "),
                    model.name
                ));
                vec![format!(
                    "FIXME: the copyright holders of the {} weights",
                    model.name
                )]
            }
        };
        model_files.push(ModelFiles {
            name: model.name.clone(),
            files,
            copyright,
            license,
            category: model.category,
        });
    }
    CopyrightView {
        upstream_license,
        models: model_files,
        licenses,
    }
}

/// A stand-alone paragraph for each licence of `expression` not given yet.
fn add_paragraphs(
    paragraphs: &mut Vec<LicenseParagraph>,
    expression: &Expression,
    table: &LicenseTable,
    upstream: &Upstream,
) {
    for (id, or_later) in identifiers(expression) {
        let single = Expression::License {
            id: id.clone(),
            or_later,
        };
        let dep5 = table.dep5(&single);
        let from_file = upstream
            .license_file_id
            .as_deref()
            .filter(|read| text_family(read).eq_ignore_ascii_case(&text_family(&id)))
            .and(upstream.license_text.as_deref());
        let lines = match (&dep5.common_text, from_file) {
            (Some(common), _) => license_lines(common),
            (None, Some(text)) => body_of(text),
            (None, None) => vec![fixme_text(&dep5.name)],
        };
        push_unique(
            paragraphs,
            LicenseParagraph {
                name: dep5.name,
                lines,
            },
        );
    }
}

fn push_unique(paragraphs: &mut Vec<LicenseParagraph>, paragraph: LicenseParagraph) {
    if !paragraphs.iter().any(|p| p.name == paragraph.name) {
        paragraphs.push(paragraph);
    }
}

fn fixme_text(name: &str) -> String {
    format!("FIXME: the full text of the {name} licence")
}

/// A licence file's text as a `License` paragraph's body: its `Copyright` lines left out (they
/// are in the `Copyright` fields), runs of blank lines as one `.`.
fn body_of(text: &str) -> Vec<String> {
    let kept: String = text
        .lines()
        .filter(|line| {
            !line
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("copyright")
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let mut lines = license_lines(&kept);
    lines.dedup_by(|a, b| a == "." && b == ".");
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_licence_file_body_leaves_copyright_lines_out() {
        assert_eq!(
            body_of("MIT License\n\nCopyright (c) 2022 A\n\nPermission is granted.\n"),
            vec!["MIT License", ".", "Permission is granted."]
        );
    }
}
