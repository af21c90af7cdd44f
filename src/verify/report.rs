//! The report of `verify`: the JSON object of `--json` (README, "verify": the schema) and the
//! text shown otherwise.

use std::io::{self, Write};

use serde::Serialize;

use super::compare::TensorVerdict;
use super::evaluation::EvaluationResult;
use super::tolerance::Tolerance;

/// Version of the JSON object; bumped on any incompatible change.
pub const JSON_SCHEMA: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Identical,
    Equivalent,
    Different,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Identical => "identical",
            Verdict::Equivalent => "equivalent",
            Verdict::Different => "different",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: u32,
    pub verdict: Verdict,
    pub reference: String,
    pub candidate: String,
    pub tolerance: Tolerance,
    pub files: Vec<FileReport>,
    pub summary: Summary,
    pub evaluation: Option<EvaluationResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub verdict: Verdict,
    /// The format, when the file was opened as tensors or identified.
    pub format: Option<String>,
    /// Why the file is `different` when no tensor says it (only on one side, not a weight
    /// file); `null` otherwise.
    pub reason: Option<String>,
    pub tensors: Vec<TensorReport>,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TensorReport {
    pub name: String,
    pub verdict: TensorVerdictName,
    /// The reference's shape (row-major).
    pub shape: Vec<u64>,
    /// The reference's dtype.
    pub dtype: String,
    pub max_abs: Option<f64>,
    pub rel_l2: Option<f64>,
    pub cosine: Option<f64>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TensorVerdictName {
    Equal,
    Within,
    Different,
}

impl From<TensorVerdict> for TensorVerdictName {
    fn from(verdict: TensorVerdict) -> Self {
        match verdict {
            TensorVerdict::Equal => TensorVerdictName::Equal,
            TensorVerdict::Within => TensorVerdictName::Within,
            TensorVerdict::Different => TensorVerdictName::Different,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub tensors: u64,
    pub equal: u64,
    pub within: u64,
    pub different: u64,
    /// The compared tensor with the largest relative L2 error.
    pub worst: Option<Worst>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Worst {
    pub path: String,
    pub name: String,
    pub max_abs: f64,
    pub rel_l2: f64,
}

impl Summary {
    /// Tallies the tensors of `files`.
    pub fn of(files: &[FileReport]) -> Summary {
        let mut summary = Summary::default();
        for file in files {
            for tensor in &file.tensors {
                summary.tensors += 1;
                match tensor.verdict {
                    TensorVerdictName::Equal => summary.equal += 1,
                    TensorVerdictName::Within => summary.within += 1,
                    TensorVerdictName::Different => summary.different += 1,
                }
                let (Some(max_abs), Some(rel_l2)) = (tensor.max_abs, tensor.rel_l2) else {
                    continue;
                };
                let worse = summary
                    .worst
                    .as_ref()
                    .is_none_or(|w| rel_l2 > w.rel_l2 || (rel_l2.is_nan() && !w.rel_l2.is_nan()));
                if worse {
                    summary.worst = Some(Worst {
                        path: file.path.clone(),
                        name: tensor.name.clone(),
                        max_abs,
                        rel_l2,
                    });
                }
            }
        }
        summary
    }
}

/// The text report: one line per file, one per tensor that is not `equal`, the evaluation and
/// the verdict.
pub fn write_text(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let escape = crate::terminal::escape_controls;
    for file in &report.files {
        let mut line = format!("{}: {}", escape(&file.path), file.verdict.name());
        if let Some(format) = &file.format {
            line.push_str(&format!(" ({format}"));
            if !file.tensors.is_empty() {
                let summary = Summary::of(std::slice::from_ref(file));
                line.push_str(&format!(
                    ", {} tensors: {} equal, {} within, {} different",
                    summary.tensors, summary.equal, summary.within, summary.different
                ));
            }
            line.push(')');
        }
        if let Some(reason) = &file.reason {
            line.push_str(&format!(": {}", escape(reason)));
        }
        writeln!(out, "{line}")?;
        for tensor in &file.tensors {
            if tensor.verdict == TensorVerdictName::Equal {
                continue;
            }
            let verdict = match tensor.verdict {
                TensorVerdictName::Within => "within",
                _ => "different",
            };
            let mut line = format!("  {}: {verdict}", escape(&tensor.name));
            if let (Some(max_abs), Some(rel_l2), Some(cosine)) =
                (tensor.max_abs, tensor.rel_l2, tensor.cosine)
            {
                line.push_str(&format!(
                    "  max-abs {max_abs:.3e}  rel-l2 {rel_l2:.3e}  cosine {cosine:.9}"
                ));
            }
            if let Some(reason) = &tensor.reason {
                line.push_str(&format!("  ({})", escape(reason)));
            }
            writeln!(out, "{line}")?;
        }
        for (label, names) in [("missing", &file.missing), ("extra", &file.extra)] {
            if !names.is_empty() {
                writeln!(
                    out,
                    "  {label} in the candidate: {}",
                    escape(&names.join(", "))
                )?;
            }
        }
    }
    if let Some(evaluation) = &report.evaluation {
        let value = evaluation
            .value
            .map_or_else(|| "no value".to_string(), |v| v.to_string());
        let mut line = format!(
            "evaluation: {} = {value} (bound {}): {}",
            escape(&evaluation.metric),
            evaluation.bound,
            if evaluation.pass { "pass" } else { "fail" }
        );
        if let Some(reason) = &evaluation.reason {
            line.push_str(&format!(" ({})", escape(reason)));
        }
        writeln!(out, "{line}")?;
    }
    let s = &report.summary;
    let t = &report.tolerance;
    writeln!(
        out,
        "verdict: {} ({} tensors: {} equal, {} within, {} different; tolerance max-abs={}, rel-l2={}, cosine={})",
        report.verdict.name(),
        s.tensors,
        s.equal,
        s.within,
        s.different,
        t.max_abs,
        t.rel_l2,
        t.cosine
    )
}
