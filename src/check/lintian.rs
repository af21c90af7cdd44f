//! The lintian integration: an include directory holding a check module, one tag file per tag
//! of `policy/tags.toml` and the profile `mlmodel/main`, so that
//! `lintian --include-dir DIR --profile mlmodel/main` runs the same checks as `dh-mlmodel check`.
//!
//! Lintian 2.116 loads checks only from its own tree and from `--include-dir`: modules from
//! `DIR/lib/Lintian/Check/`, tags from `*.tag` files anywhere under `DIR/tags/` (each naming its
//! `Check:`), profiles from `DIR/profiles/VENDOR/NAME.profile` (`Lintian::Profile`). Everything
//! here is written from the one tag table, so the two tools cannot disagree on a tag.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::tags::{Tag, TagTable};
use crate::fsutil;

/// The check's name as lintian derives it from the module's file name (`Mlmodel.pm`).
const CHECK: &str = "mlmodel";

/// The profile users name with `--profile`.
pub const PROFILE: &str = "mlmodel/main";

/// The check module: it runs `dh-mlmodel check --json` on the file lintian was given.
const CHECK_MODULE: &str = include_str!("../../perl/Lintian/Check/Mlmodel.pm");

/// Writes the include directory into `dir`; returns the files written, relative to `dir`.
pub fn write_include_dir(table: &TagTable, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = vec![(
        PathBuf::from("lib/Lintian/Check/Mlmodel.pm"),
        CHECK_MODULE.to_string(),
    )];
    files.push((
        PathBuf::from(format!("profiles/{PROFILE}.profile")),
        profile(),
    ));
    for tag in table.iter() {
        files.push((
            PathBuf::from(format!("tags/{CHECK}/{}.tag", tag.name)),
            tag_file(tag),
        ));
    }
    for (relative, text) in &files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fsutil::write_atomic(&path, text.as_bytes(), 0o644)?;
    }
    Ok(files.into_iter().map(|(relative, _)| relative).collect())
}

/// `mlmodel/main`: everything `debian/main` checks, plus this check's tags.
fn profile() -> String {
    format!(
        "# Lintian's Debian profile and the model-weight checks of dh-mlmodel.\n\
         Profile: {PROFILE}\n\
         Extends: debian/main\n\
         Enable-Tags-From-Check: {CHECK}\n"
    )
}

/// One tag in lintian's deb822 tag-file format (`Lintian::Tag::load`): the explanation as a
/// folded field, paragraphs separated by ` .` lines.
fn tag_file(tag: &Tag) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Tag: {}", tag.name);
    let _ = writeln!(out, "Severity: {}", tag.severity.as_str());
    let _ = writeln!(out, "Check: {CHECK}");
    out.push_str("Explanation:");
    let mut first = true;
    for line in tag.explanation.trim().lines() {
        let line = line.trim_end();
        if first {
            let _ = writeln!(out, " {line}");
            first = false;
        } else if line.is_empty() {
            out.push_str(" .\n");
        } else {
            let _ = writeln!(out, " {line}");
        }
    }
    if !tag.see_also.is_empty() {
        let _ = writeln!(out, "See-Also: {}", tag.see_also.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tags::Severity;

    #[test]
    fn a_tag_file_folds_the_explanation_and_marks_paragraphs() {
        let tag = Tag {
            name: "model-weights-without-provenance".into(),
            severity: Severity::Warning,
            explanation: "First line\nsecond line.\n\nNew paragraph.\n".into(),
            see_also: vec!["ML-Policy".into(), "dh-mlmodel(1)".into()],
        };
        assert_eq!(
            tag_file(&tag),
            "Tag: model-weights-without-provenance\nSeverity: warning\nCheck: mlmodel\n\
             Explanation: First line\n second line.\n .\n New paragraph.\n\
             See-Also: ML-Policy, dh-mlmodel(1)\n"
        );
    }
}
