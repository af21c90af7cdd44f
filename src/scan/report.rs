//! Human-readable output: aligned tables for the terminal.

use std::io::{self, Write};

use crate::scan::finding::{CODE_FORMATS, Hub};
use crate::scan::{Details, Finding, Kind, human_size};
use crate::terminal::escape_controls;

/// Writes findings as an aligned table: path, kind, format, size, then what is known. The
/// links of one documentation file share one row (a model catalogue can hold hundreds); the
/// JSON keeps every one.
pub fn write_table(out: &mut impl Write, findings: &[Finding]) -> io::Result<()> {
    if findings.is_empty() {
        return writeln!(out, "No model weights found.");
    }
    let rows: Vec<[String; 5]> = table_rows(findings)
        .into_iter()
        .map(|row| row.map(|cell| escape_controls(&cell)))
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

/// The table's rows: one per finding, but one per file for the links of a documentation
/// file that has more than one.
fn table_rows(findings: &[Finding]) -> Vec<[String; 5]> {
    let mut rows = Vec::new();
    let mut rest = findings;
    while let Some(first) = rest.first() {
        let group = rest
            .iter()
            .take_while(|f| f.path == first.path && is_documentation_link(f))
            .count();
        if group > 1 {
            rows.push(documentation_row(&rest[..group]));
            rest = &rest[group..];
        } else {
            rows.push([
                first.path.clone(),
                first.kind().as_str().to_string(),
                first.format.clone(),
                human_size(first.size),
                details(first),
            ]);
            rest = &rest[1..];
        }
    }
    rows
}

fn is_documentation_link(f: &Finding) -> bool {
    f.download().is_some_and(|d| d.documentation)
}

/// One row for the links of one documentation file: how many of each sort
/// (`142 model URLs, 142 config URLs (documentation)`).
fn documentation_row(links: &[Finding]) -> [String; 5] {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    let mut kinds: Vec<&str> = Vec::new();
    let mut formats: Vec<&str> = Vec::new();
    for f in links {
        let sort = match (f.kind(), f.format.as_str()) {
            (Kind::Dataset, _) => "dataset",
            (_, "config") => "config",
            (_, format) if CODE_FORMATS.contains(&format) => "code",
            _ => "model",
        };
        match counts.iter_mut().find(|(s, _)| *s == sort) {
            Some((_, n)) => *n += 1,
            None => counts.push((sort, 1)),
        }
        if !kinds.contains(&f.kind().as_str()) {
            kinds.push(f.kind().as_str());
        }
        if !formats.contains(&f.format.as_str()) {
            formats.push(&f.format);
        }
    }
    let counted: Vec<String> = counts
        .iter()
        .map(|(sort, n)| format!("{n} {sort} URL{}", if *n == 1 { "" } else { "s" }))
        .collect();
    let format = if formats.len() == 1 {
        formats[0].to_string()
    } else {
        "various".to_string()
    };
    [
        links[0].path.clone(),
        kinds.join(","),
        format,
        human_size(links[0].size),
        format!("{} (documentation)", counted.join(", ")),
    ]
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
        Details::CompiledIn(compiled) => {
            parts.push(compiled.reason.clone());
            if let Some(parameters) = compiled.parameters {
                parts.push(format!("{parameters} parameters"));
            }
        }
        Details::Download(download) | Details::Dataset(download) => {
            parts.extend(download.reason.clone());
            parts.push(format!("line {}", download.line));
            if let Some(hub) = &download.hub {
                parts.push(hub_text(hub));
            }
            parts.extend(download.url.clone());
            parts.push(format!("when={}", serde_plain(&download.when)));
            parts.push(format!(
                "verified by {}",
                serde_plain(&download.verification)
            ));
        }
    }
    parts.join("; ")
}

/// `huggingface gpt2@v1.0 model.safetensors`; `(unpinned)` when no revision is named.
fn hub_text(hub: &Hub) -> String {
    let mut text = hub.service.clone();
    if let Some(repo) = &hub.repo {
        text.push(' ');
        text.push_str(repo);
    }
    match &hub.revision {
        Some(revision) => {
            text.push('@');
            text.push_str(revision);
        }
        None => text.push_str(" (unpinned)"),
    }
    if let Some(file) = &hub.file {
        text.push(' ');
        text.push_str(file);
    }
    text
}

/// The kebab-case name serde gives a unit enum variant.
fn serde_plain<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}
