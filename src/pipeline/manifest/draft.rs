//! Drafts `debian/mlmodel.toml` from a scan (`dh-mlmodel init`, and `init --manifest-only`).
//!
//! One `[[model]]` per weight file found (shards `name-00001-of-00003.ext` grouped), with what
//! the scan knows (files, format, SHA-256, size) and what upstream states next to the weights
//! (model-card front matter, safetensors `__metadata__`, a licence file). Everything else is a
//! `FIXME` placeholder, so `classify` reports the model incomplete until a human fills it in.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::PLACEHOLDER_PREFIX;
use crate::pipeline::DraftPolicy;
use crate::scan::{self, Finding, Kind, ScanOptions};
use crate::spdx::{self, LicenseTable};

/// A weight file going into a model, with its pin.
#[derive(Serialize)]
struct WeightFile {
    path: String,
    sha256: String,
    size: u64,
}

/// The facts gathered for one model.
#[derive(Serialize)]
struct Draft {
    name: String,
    files: Vec<WeightFile>,
    format: Option<String>,
    format_note: Option<String>,
    license: Option<String>,
    license_note: String,
    datasets: Vec<String>,
    datasets_from: Option<String>,
}

/// Drafts the manifest text for the tree at `root`; `source` names the source package.
/// Returns the text and the warnings met on the way.
pub fn draft(root: &Path, source: &str, policy: &DraftPolicy) -> Result<(String, Vec<String>)> {
    let report = scan::scan_tree(root, &policy.scan, &ScanOptions::default())?;
    let mut warnings = report.warnings;
    let mut skipped = Vec::new();
    let mut groups: BTreeMap<(String, String), Vec<&Finding>> = BTreeMap::new();
    for finding in &report.findings {
        if finding.path.starts_with("debian/") {
            continue;
        }
        match finding.kind() {
            Kind::Weights | Kind::LfsPointer | Kind::Blob | Kind::EmbeddedWeights
                if !finding.path.contains('!') =>
            {
                // The manifest refuses control characters in every string (a file name
                // included), so such a file cannot be recorded: say so rather than draft a
                // manifest that `classify` would refuse.
                if finding.path.chars().any(char::is_control) {
                    return Err(crate::error::Kind::Input.msg(format!(
                        "{}: the name of this weight file holds control characters (a newline, \
                         an escape…), which debian/mlmodel.toml cannot hold: rename it in the \
                         upstream tree (or repack the tarball without it), then run init again",
                        crate::terminal::escape_controls(&finding.path)
                    )));
                }
                groups
                    .entry(shard_group(&finding.path))
                    .or_default()
                    .push(finding);
            }
            Kind::Download | Kind::Dataset => warnings.extend(finding.build_fetches_code()),
            _ => skipped.push(finding.path.clone()),
        }
    }
    if groups.is_empty() {
        return Err(crate::error::Kind::Problems.msg(format!(
            "the scan found no model weights in {}: nothing to draft",
            root.display()
        )));
    }

    let mut drafts: Vec<Draft> = Vec::new();
    for ((dir, stem), findings) in &groups {
        let mut name = model_name(dir, stem, &policy.limits.generic_stems);
        if drafts.iter().any(|d| d.name == name) {
            let base = name.clone();
            let mut n = 2;
            while drafts.iter().any(|d| d.name == name) {
                name = format!("{base}-{n}");
                n += 1;
            }
        }
        drafts.push(gather(root, name, dir, findings, policy, &mut warnings)?);
    }
    Ok((render(source, &drafts, &skipped)?, warnings))
}

/// One model per directory and stem: shards `stem-00001-of-00003.ext` share a group, and so do
/// the same weights saved in several formats (`net.safetensors` beside the legacy `net.pkl`).
fn shard_group(path: &str) -> (String, String) {
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    let stem = file.split_once('.').map_or(file, |(stem, _)| stem);
    (
        dir.to_string(),
        shard_base(stem).unwrap_or(stem).to_string(),
    )
}

/// `model-00001-of-00003` → `model`.
fn shard_base(stem: &str) -> Option<&str> {
    let (head, total) = stem.rsplit_once("-of-")?;
    let (base, index) = head.rsplit_once(['-', '_'])?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(index) && digits(total)).then_some(base)
}

/// A package-name-safe model name from a file stem, or from its directory when the stem is
/// generic.
fn model_name(dir: &str, group: &str, generic: &[String]) -> String {
    let stem = group.split_once('.').map_or(group, |(s, _)| s);
    let parent = dir.rsplit('/').next().unwrap_or("");
    let chosen = if generic.iter().any(|g| g.eq_ignore_ascii_case(stem)) && !parent.is_empty() {
        parent
    } else {
        stem
    };
    let mut name = String::new();
    for c in chosen.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '+' {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_matches(['-', '.', '+']).to_string();
    if name.is_empty() {
        "model".to_string()
    } else {
        name
    }
}

fn gather(
    root: &Path,
    name: String,
    dir: &str,
    findings: &[&Finding],
    policy: &DraftPolicy,
    warnings: &mut Vec<String>,
) -> Result<Draft> {
    let mut files = Vec::new();
    for finding in findings {
        let (sha256, size) = match &finding.details {
            scan::Details::LfsPointer(scan::finding::LfsPointer { lfs: target, .. }) => (
                target
                    .oid
                    .strip_prefix("sha256:")
                    .unwrap_or(&target.oid)
                    .to_string(),
                target.size,
            ),
            _ => match &finding.sha256 {
                Some(digest) => (digest.clone(), finding.size),
                None => crate::hash::sha256_file(&root.join(&finding.path))
                    .with_context(|| format!("cannot hash {}", finding.path))?,
            },
        };
        files.push(WeightFile {
            path: finding.path.clone(),
            sha256,
            size,
        });
    }
    // The model's format is that of its safest file: a format that cannot run code when
    // loaded says more about what the model is than a pickle copy of it.
    let first = findings
        .iter()
        .min_by_key(|f| {
            let executes_code = matches!(&f.details, scan::Details::Weights(w) if w.executes_code);
            (f.kind() != Kind::Weights, executes_code)
        })
        .copied()
        .unwrap_or(findings[0]);
    let (format, format_note) = match first.kind() {
        Kind::Weights | Kind::EmbeddedWeights => (Some(first.format.clone()), None),
        Kind::LfsPointer => (
            None,
            Some("a Git LFS pointer: the weights' format is not in the tree".to_string()),
        ),
        _ => (
            None,
            Some(format!(
                "an unidentified blob ({}): remove this [[model]] if it is not model weights",
                first.reason().unwrap_or("no known format")
            )),
        ),
    };

    let dir_path = root.join(dir);
    let mut stated: Vec<(String, String)> = Vec::new();
    let mut datasets = Vec::new();
    let mut datasets_from = None;
    for card_name in &policy.limits.model_card_names {
        let card = dir_path.join(card_name);
        let Some(text) = read_bounded(&card, policy.limits.text_max_bytes, warnings) else {
            continue;
        };
        let front = front_matter(&text);
        let shown = join_rel(dir, card_name);
        if let Some(license) = front.license {
            stated.push((license, format!("{shown} (model card)")));
        }
        if !front.datasets.is_empty() && datasets.is_empty() {
            datasets = front.datasets;
            datasets_from = Some(shown);
        }
    }
    for file in findings.iter().filter(|f| f.format == "safetensors") {
        if let Some(license) =
            safetensors_license(&root.join(&file.path), &policy.scan.formats.limits)
        {
            stated.push((license, format!("{} (safetensors metadata)", file.path)));
        }
    }
    for license_name in &policy.limits.license_file_names {
        let path = dir_path.join(license_name);
        if let Some(text) = read_bounded(&path, policy.limits.text_max_bytes, warnings) {
            let shown = join_rel(dir, license_name);
            match policy.licenses.recognise_text(&text) {
                Some(id) => stated.push((id, format!("{shown} (licence file)"))),
                None => stated.push((
                    String::new(),
                    format!("{shown} (a licence file of unrecognised text)"),
                )),
            }
        }
    }
    let (license, license_note) = settle_license(&stated, &policy.licenses);
    // Notes and dataset names quote the tree (model cards, licence values, scan reasons); the
    // manifest holds no control characters, so theirs are written escaped, as visible text.
    let escape = |text: &String| crate::terminal::escape_controls(text);
    Ok(Draft {
        name,
        files,
        format,
        format_note: format_note.as_ref().map(escape),
        license,
        license_note: escape(&license_note),
        datasets: datasets.iter().map(escape).collect(),
        datasets_from: datasets_from.as_ref().map(escape),
    })
}

fn join_rel(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Agreeing, parseable statements give the licence; anything else leaves a placeholder that
/// quotes what upstream says.
fn settle_license(stated: &[(String, String)], table: &LicenseTable) -> (Option<String>, String) {
    if stated.is_empty() {
        return (
            None,
            "upstream states no licence next to the weights".to_string(),
        );
    }
    let sources: Vec<String> = stated
        .iter()
        .map(|(id, from)| {
            if id.is_empty() {
                from.clone()
            } else {
                format!("`{id}` in {from}")
            }
        })
        .collect();
    let normalised: Vec<Option<String>> = stated
        .iter()
        .map(|(id, _)| normalise_license(id, table))
        .collect();
    let first = normalised[0].clone();
    if first.is_some() && normalised.iter().all(|n| *n == first) {
        (first, format!("From {}.", sources.join(", ")))
    } else {
        (None, format!("upstream states {}", sources.join(", ")))
    }
}

/// The canonical spelling of a stated licence when it is a valid SPDX expression; `None` for
/// model-hub words such as `other`.
fn normalise_license(stated: &str, table: &LicenseTable) -> Option<String> {
    let expression = spdx::parse(stated.trim()).ok()?;
    if let spdx::Expression::License { id, .. } = &expression
        && table.canonical(id).is_none()
        && !id.contains('-')
    {
        // A bare word like `other` or `llama2` names no SPDX licence.
        return None;
    }
    Some(canonicalise(&expression, table).to_string())
}

fn canonicalise(expression: &spdx::Expression, table: &LicenseTable) -> spdx::Expression {
    use spdx::Expression as E;
    match expression {
        E::License { id, or_later } => E::License {
            id: table.canonical(id).unwrap_or(id).to_string(),
            or_later: *or_later,
        },
        E::With { license, exception } => E::With {
            license: Box::new(canonicalise(license, table)),
            exception: exception.clone(),
        },
        E::And(parts) => E::And(parts.iter().map(|p| canonicalise(p, table)).collect()),
        E::Or(parts) => E::Or(parts.iter().map(|p| canonicalise(p, table)).collect()),
    }
}

/// Up to `max` bytes of a text file, if it exists; unreadable files become warnings.
fn read_bounded(path: &Path, max: u64, warnings: &mut Vec<String>) -> Option<String> {
    if !path.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    match File::open(path).and_then(|f| f.take(max).read_to_end(&mut bytes)) {
        Ok(_) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(err) => {
            warnings.push(format!("{}: {err}", path.display()));
            None
        }
    }
}

#[derive(Debug, Default, PartialEq)]
struct FrontMatter {
    license: Option<String>,
    datasets: Vec<String>,
}

/// `license:` and `datasets:` of a Markdown file's YAML front matter (between `---` lines).
/// Only the plain scalar and list forms model hubs write are read; anything else is ignored,
/// never guessed.
fn front_matter(text: &str) -> FrontMatter {
    let mut result = FrontMatter::default();
    let mut lines = text.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return result;
    }
    let mut in_datasets = false;
    for line in lines {
        if line.trim_end() == "---" {
            break;
        }
        if in_datasets {
            if let Some(item) = line.trim_start().strip_prefix("- ") {
                result.datasets.push(unquote(item));
                continue;
            }
            in_datasets = false;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "license" if !value.is_empty() => result.license = Some(unquote(value)),
            "datasets" if value.is_empty() => in_datasets = true,
            "datasets" => {
                if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
                    result.datasets.extend(
                        inner
                            .split(',')
                            .map(unquote)
                            .filter(|item| !item.is_empty()),
                    );
                } else {
                    result.datasets.push(unquote(value));
                }
            }
            _ => {}
        }
    }
    result
}

fn unquote(value: &str) -> String {
    value
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .to_string()
}

/// The `license` entry of a safetensors file's `__metadata__`.
fn safetensors_license(path: &Path, limits: &scan::formats::Limits) -> Option<String> {
    scan::formats::safetensors::metadata(path, limits)?
        .get("license")?
        .as_str()
        .map(str::to_string)
}

/// The manifest text of `drafts`, from `templates/mlmodel.toml.j2`.
fn render(source: &str, drafts: &[Draft], skipped: &[String]) -> Result<String> {
    let mut env = crate::templates::environment();
    env.add_template(
        "mlmodel.toml",
        include_str!("../../../templates/mlmodel.toml.j2"),
    )?;
    env.get_template("mlmodel.toml")?
        .render(minijinja::context! {
            source,
            models => drafts,
            skipped,
            fixme => PLACEHOLDER_PREFIX,
        })
        .context("rendering debian/mlmodel.toml")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySource;
    use crate::scan::ScanContext;

    #[test]
    fn groups_shards_and_names_models() {
        assert_eq!(
            shard_group("m/model-00001-of-00003.safetensors"),
            ("m".to_string(), "model".to_string())
        );
        assert_eq!(
            shard_group("m/model-00002-of-00003.safetensors"),
            shard_group("m/model-00001-of-00003.safetensors")
        );
        assert_eq!(shard_group("m/net.pkl"), shard_group("m/net.safetensors"));
        assert_eq!(shard_base("net-of-things"), None);
        let generic = vec!["model".to_string()];
        assert_eq!(
            model_name("models/Tiny_BERT", "model.safetensors", &generic),
            "tiny-bert"
        );
        assert_eq!(model_name("", "Net_V2.onnx", &generic), "net-v2");
    }

    #[test]
    fn reads_model_card_front_matter() {
        let card = "---\nlicense: apache-2.0\ndatasets:\n  - squad\n  - \"glue\"\ntags: [x]\n---\n# Card\nlicense: mit\n";
        assert_eq!(
            front_matter(card),
            FrontMatter {
                license: Some("apache-2.0".into()),
                datasets: vec!["squad".into(), "glue".into()],
            }
        );
        let inline = "---\nlicense: 'cc-by-4.0'\ndatasets: [a, b]\n---\n";
        assert_eq!(front_matter(inline).datasets, vec!["a", "b"]);
        assert_eq!(front_matter("no front matter"), FrontMatter::default());
    }

    #[test]
    fn reads_safetensors_metadata_within_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let header = br#"{"__metadata__":{"license":"mit"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(&[0; 4]);
        let path = dir.path().join("m.safetensors");
        std::fs::write(&path, &bytes).unwrap();
        let mut limits = ScanContext::load(&PolicySource::embedded())
            .unwrap()
            .formats
            .limits;
        assert_eq!(safetensors_license(&path, &limits).as_deref(), Some("mit"));
        limits.safetensors_header_max = 8;
        assert_eq!(safetensors_license(&path, &limits), None);
        limits.safetensors_header_max = 1 << 20;
        let mut huge = u64::MAX.to_le_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        std::fs::write(&path, &huge).unwrap();
        assert_eq!(safetensors_license(&path, &limits), None);
    }
}
