//! Human-readable output: aligned tables for the terminal.

use std::io::{self, Write};

use crate::scan::{Details, Finding, human_size};
use crate::terminal::escape_controls;

/// Writes findings as an aligned table: path, kind, format, size, then what is known.
pub fn write_table(out: &mut impl Write, findings: &[Finding]) -> io::Result<()> {
    if findings.is_empty() {
        return writeln!(out, "No model weights found.");
    }
    let rows: Vec<[String; 5]> = findings
        .iter()
        .map(|f| {
            [
                f.path.clone(),
                f.kind().as_str().to_string(),
                f.format.clone(),
                human_size(f.size),
                details(f),
            ]
            .map(|cell| escape_controls(&cell))
        })
        .collect();
    let header = ["PATH", "KIND", "FORMAT", "SIZE", "DETAILS"].map(String::from);
    let mut widths = [0usize; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        );
        writeln!(out, "{}", line.trim_end())?;
    }
    writeln!(out, "\n{} finding(s).", findings.len())
}

/// The DETAILS column: the facts a maintainer acts on, most important first.
fn details(f: &Finding) -> String {
    let mut parts = Vec::new();
    match &f.details {
        Details::Weights(weights) => {
            if let Some(report) = &weights.pickle {
                let verdict = match report.verdict {
                    crate::scan::pickle::Verdict::Safe => "pickle: safe".to_string(),
                    crate::scan::pickle::Verdict::Unsafe => {
                        format!("pickle: UNSAFE ({})", report.reasons.join("; "))
                    }
                };
                parts.push(verdict);
            }
            if let Some(tensors) = weights.tensors {
                parts.push(format!("{tensors} tensors"));
            }
            if let Some(parameters) = weights.parameters {
                parts.push(format!("{parameters} parameters"));
            }
            if !weights.dtypes.is_empty() {
                parts.push(weights.dtypes.join(","));
            }
            parts.extend(weights.reason.clone());
        }
        // The pointer's target says more than its reason, which only restates it.
        Details::LfsPointer(pointer) => {
            parts.push(format!("{} ({} bytes)", pointer.lfs.oid, pointer.lfs.size));
        }
        Details::Blob(blob) => parts.push(blob.reason.clone()),
        Details::EmbeddedWeights(embedded) => {
            let [first, last] = embedded.lines;
            parts.push(embedded.reason.clone());
            parts.push(format!("lines {first}-{last}"));
            parts.push(format!("{} numbers", embedded.numbers));
        }
        Details::Download(download) => {
            parts.extend(download.reason.clone());
            parts.push(format!("line {}", download.line));
            parts.push(download.url.clone());
            parts.push(format!("when={}", serde_plain(&download.when)));
            parts.push(format!(
                "verified by {}",
                serde_plain(&download.verification)
            ));
        }
    }
    parts.join("; ")
}

/// The kebab-case name serde gives a unit enum variant.
fn serde_plain<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}
