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

use super::{PLACEHOLDER_PREFIX, url_file_name};
use crate::pipeline::DraftPolicy;
use crate::scan::{self, Finding, Kind, ScanOptions};
use crate::spdx::{self, LicenseTable};

/// A weight file going into a model, with its pin; a pin the scan could not see (a file
/// fetched from the network) is a placeholder for `dh-mlmodel pin`.
#[derive(Serialize)]
struct WeightFile {
    path: String,
    sha256: Option<String>,
    size: Option<u64>,
}

/// `[model.download]` of a model the upstream tree fetches.
#[derive(Serialize)]
struct DraftDownload {
    /// `None` for a hub call whose https URL is not known.
    url: Option<String>,
    /// The digest the fetch step checks, when the scan saw its value.
    sha256: Option<String>,
    /// Upstream fetches over plain HTTP: the draft says so, so that it validates; the pin
    /// protects the bytes.
    allow_http: bool,
    /// `file:line`, when and how the step fetches, as a comment.
    note: String,
    /// The upstream build runs the step: the draft says how to record weights compiled in.
    at_build: bool,
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
    download: Option<DraftDownload>,
}

/// Drafts the manifest text for the tree at `root`; `source` names the source package.
/// Returns the text and the warnings met on the way.
pub fn draft(root: &Path, source: &str, policy: &DraftPolicy) -> Result<(String, Vec<String>)> {
    let report = scan::scan_tree(root, &policy.scan, &ScanOptions::default())?;
    let mut warnings = report.warnings;
    let mut skipped = Vec::new();
    let mut groups: BTreeMap<(String, String), Vec<&Finding>> = BTreeMap::new();
    let mut fetched: Vec<&Finding> = Vec::new();
    let mut documentation: BTreeMap<&str, usize> = BTreeMap::new();
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
            Kind::Download if is_weights_download(finding) => {
                if finding.download().is_some_and(|d| d.documentation) {
                    *documentation.entry(finding.path.as_str()).or_default() += 1;
                } else if !fetched.iter().any(|f| same_artefact(f, finding)) {
                    fetched.push(finding);
                }
            }
            Kind::Download | Kind::Dataset => warnings.extend(finding.build_fetches_code()),
            _ => skipped.push(finding.path.clone()),
        }
    }
    // A catalogue of links in the documentation (a page of voices, a model zoo) lists what
    // users may fetch, not what the program needs: it is named for the maintainer, not
    // drafted as hundreds of models.
    for (path, links) in &documentation {
        skipped.push(format!("{path}: {links} weight links (documentation)"));
    }
    if groups.is_empty() && fetched.is_empty() {
        let also = if documentation.is_empty() {
            String::new()
        } else {
            " (only documentation links: add a [[model]] by hand for the ones to package)"
                .to_string()
        };
        return Err(crate::error::Kind::Problems.msg(format!(
            "the scan found no model weights and no weight downloads in {}{also}: nothing to draft",
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
    for finding in fetched {
        let draft = downloaded(finding, &policy.limits.generic_stems);
        // The same weights committed and fetched are one model, whose files are in the tree:
        // the fetched file has a committed file's name, or the fetch step writes to one
        // (`curl -o weights.c URL`).
        let step = step_line(root, finding, policy.limits.text_max_bytes);
        if drafts.iter().any(|d| {
            d.files.iter().any(|f| {
                file_name(&f.path) == file_name(&draft.files[0].path)
                    || step
                        .as_deref()
                        .is_some_and(|line| names_file(line, file_name(&f.path)))
            })
        }) {
            continue;
        }
        let mut draft = draft;
        let base = draft.name.clone();
        let mut n = 2;
        while drafts.iter().any(|d| d.name == draft.name) {
            draft.name = format!("{base}-{n}");
            n += 1;
        }
        drafts.push(draft);
    }
    Ok((render(source, &drafts, &skipped)?, warnings))
}

/// The line of the fetch step, read within the first `max` bytes of its file.
fn step_line(root: &Path, finding: &Finding, max: u64) -> Option<String> {
    let line = finding.download()?.line;
    let mut bytes = Vec::new();
    File::open(root.join(&finding.path))
        .and_then(|f| f.take(max).read_to_end(&mut bytes))
        .ok()?;
    String::from_utf8_lossy(&bytes)
        .lines()
        .nth(usize::try_from(line).ok()?.checked_sub(1)?)
        .map(str::to_string)
}

/// Whether `line` names `file` as a word of its own (not inside a longer name).
fn names_file(line: &str, file: &str) -> bool {
    let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || "._-".contains(c)));
    line.match_indices(file).any(|(at, _)| {
        boundary(line[..at].chars().next_back()) && boundary(line[at + file.len()..].chars().next())
    })
}

/// A download of weights (not of code the build fetches, a configuration file or a data set).
fn is_weights_download(finding: &Finding) -> bool {
    !scan::finding::CODE_FORMATS.contains(&finding.format.as_str()) && finding.format != "config"
}

/// Two fetch steps of the same artefact: the same URL, or the same hub repository and file.
fn same_artefact(a: &Finding, b: &Finding) -> bool {
    let (Some(a), Some(b)) = (a.download(), b.download()) else {
        return false;
    };
    match (&a.url, &b.url) {
        (Some(x), Some(y)) => x == y,
        _ => a.hub.is_some() && a.hub == b.hub,
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '!']).next().unwrap_or(path)
}

/// The model a fetch step downloads: named after the fetched file (or the hub repository), its
/// one file the fetched file, its pin and `[model.download]` what the step shows (the digest
/// it checks, when the scan saw its value), the rest placeholders.
fn downloaded(finding: &Finding, generic: &[String]) -> Draft {
    let download = finding.download().expect("a download finding");
    let hub = download.hub.as_ref();
    let fetched_name = download
        .url
        .as_deref()
        .map(url_file_name)
        .filter(|n| !matches!(*n, "" | "." | ".."))
        .map(str::to_string)
        .or_else(|| hub.and_then(|h| h.file.clone()))
        .or_else(|| hub.and_then(|h| h.repo.as_deref().map(|r| file_name(r).to_string())))
        .unwrap_or_else(|| "weights".to_string());
    // The name says what the model is: hub repositories name it best; a file name loses its
    // archive suffixes and any digest or version-like hash in it.
    let name_source = match hub.and_then(|h| h.repo.as_deref()) {
        Some(repo) => file_name(repo).to_string(),
        None => without_digests(&fetched_name),
    };
    let name = model_name("", &name_source, generic);
    let sha256 = (download.verification == scan::finding::Verification::Sha256)
        .then(|| download.url.as_deref().and_then(digest_in))
        .flatten();
    let mut note = format!(
        "Fetched by {}:{} ({}; the fetched bytes are checked by {})",
        finding.path,
        download.line,
        match download.when {
            scan::finding::When::Build => "during the package build: a Debian build has no network",
            scan::finding::When::Run => "when the program runs",
            scan::finding::When::Manual => "by hand",
        },
        match download.verification {
            scan::finding::Verification::None => "nothing".to_string(),
            v => serde_json::to_value(v)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        }
    );
    if let Some(hub) = hub {
        note.push_str(&format!(
            "; {} {}{}",
            hub.service,
            hub.repo.as_deref().unwrap_or("(repository not named)"),
            match &hub.revision {
                Some(revision) => format!(" at revision {revision}"),
                None => " with no revision: pin one".to_string(),
            }
        ));
    }
    note.push('.');
    let escape = |text: &str| crate::terminal::escape_controls(text);
    let format =
        (!matches!(finding.format.as_str(), "unknown" | "")).then(|| finding.format.clone());
    Draft {
        name,
        files: vec![WeightFile {
            path: escape(&fetched_name),
            sha256: sha256.clone(),
            size: None,
        }],
        format,
        format_note: Some("the fetched file's name does not say".to_string()),
        license: None,
        license_note: "upstream states no licence for the downloaded weights in the tree"
            .to_string(),
        datasets: Vec::new(),
        datasets_from: None,
        download: Some(DraftDownload {
            allow_http: download
                .url
                .as_deref()
                .is_some_and(|u| u.starts_with("http://")),
            url: download.url.as_deref().map(escape),
            sha256,
            note: escape(&note),
            at_build: download.when == scan::finding::When::Build,
        }),
    }
}

/// A run of 64 hexadecimal digits in the URL's file name: the SHA-256 a fetch step checks
/// when it names the file after its digest (`rnnoise_data-<sha256>.tar.gz`).
fn digest_in(url: &str) -> Option<String> {
    url_file_name(url)
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|run| run.len() == 64)
        .map(str::to_ascii_lowercase)
}

/// A file name without archive suffixes and without runs of 12 or more hexadecimal digits
/// (digests, commit ids), for naming the model.
fn without_digests(file: &str) -> String {
    let stem = file.split_once('.').map_or(file, |(stem, _)| stem);
    stem.split(['-', '_'])
        .filter(|part| !(part.len() >= 12 && part.chars().all(|c| c.is_ascii_hexdigit())))
        .collect::<Vec<_>>()
        .join("-")
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
            sha256: Some(sha256),
            size: Some(size),
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
        download: None,
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
