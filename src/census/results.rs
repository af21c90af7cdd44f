//! `results.jsonl`: one JSON object per package checked, appended as each package is done, so
//! an interrupted census resumes where it stopped and shards' files concatenate.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::select::Candidate;
use crate::check::Target;
use crate::check::output::Report;
use crate::scan::{Details, Verification};

/// The file name under the census directory.
pub const RESULTS_FILE: &str = "results.jsonl";

/// Files and bytes of one kind and format of finding.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tally {
    pub files: u64,
    pub bytes: u64,
}

/// Seconds spent on one package (volatile: they change from run to run).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Timings {
    pub fetch_seconds: f64,
    pub check_seconds: f64,
}

/// One line of `results.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PackageResult {
    pub package: String,
    pub version: String,
    pub architecture: String,
    /// The archive area (the component of the index that lists it).
    pub area: String,
    pub section: String,
    /// Why the census chose it (policy/census.toml).
    pub reasons: Vec<String>,
    /// Size of the `.deb` (bytes fetched) and its Installed-Size in bytes.
    pub deb_size: u64,
    pub installed_size: u64,
    /// Why the `.deb` could not be checked; the findings are empty then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Findings by kind (`weights`, `download`, `blob`, …) and format.
    pub findings: BTreeMap<String, BTreeMap<String, Tally>>,
    /// Bytes of the weights files (the `weights` findings).
    pub model_bytes: u64,
    /// Whether the package has `usr/share/doc/<package>/provenance.json(.gz)`.
    pub provenance: bool,
    /// ML-Policy category where the check could tell (`toxic-candy`, `non-free`), else
    /// `unknown`: a binary package says nothing of its training data.
    pub category: String,
    /// Weight downloads by the checksum they verify (`sha256`, `md5`, `none`, …).
    pub download_checksums: BTreeMap<String, u64>,
    /// Tags the check raised, with how often.
    pub tags: BTreeMap<String, u64>,
    /// What the scan could not look at (caps reached): how many warnings.
    pub scan_warnings: u64,
    pub timings: Timings,
}

impl PackageResult {
    /// The result of a package whose `.deb` could not be fetched or read.
    pub fn failed(candidate: &Candidate, error: String, timings: Timings) -> Self {
        Self {
            package: candidate.entry.package.clone(),
            version: candidate.entry.version.clone(),
            architecture: candidate.entry.architecture.clone(),
            area: candidate.entry.area.clone(),
            section: candidate.entry.section.clone(),
            reasons: candidate.reasons.clone(),
            deb_size: candidate.entry.size,
            installed_size: candidate.entry.installed_size,
            error: Some(error),
            findings: BTreeMap::new(),
            model_bytes: 0,
            provenance: false,
            category: "unknown".to_string(),
            download_checksums: BTreeMap::new(),
            tags: BTreeMap::new(),
            scan_warnings: 0,
            timings,
        }
    }

    /// The result of `target` checked, with the report the check wrote for it.
    pub fn checked(
        candidate: &Candidate,
        target: &Target,
        report: &Report,
        timings: Timings,
    ) -> Self {
        let mut result = Self::failed(candidate, String::new(), timings);
        result.error = None;
        for finding in &target.findings {
            let kind = finding.kind().as_str().to_string();
            let tally = result
                .findings
                .entry(kind)
                .or_default()
                .entry(finding.format.clone())
                .or_default();
            tally.files += 1;
            tally.bytes += finding.size;
            match &finding.details {
                Details::Weights(_) => result.model_bytes += finding.size,
                Details::Download(download) => {
                    *result
                        .download_checksums
                        .entry(verification_name(download.verification).to_string())
                        .or_default() += 1;
                }
                _ => {}
            }
        }
        result.provenance = target.provenance.is_some();
        for shown in &report.tags {
            *result.tags.entry(shown.tag.clone()).or_default() += 1;
        }
        result.category = if result.tags.contains_key("non-free-model-in-main") {
            "non-free"
        } else if result.tags.contains_key("toxic-candy-model-in-main") {
            "toxic-candy"
        } else {
            "unknown"
        }
        .to_string();
        result.scan_warnings = report.warnings.len() as u64;
        result
    }

    /// Whether the package holds weights files.
    pub fn has_weights(&self) -> bool {
        self.findings.contains_key("weights")
    }
}

/// The name a download's verification has in results and reports.
fn verification_name(verification: Verification) -> &'static str {
    match verification {
        Verification::Sha256 => "sha256",
        Verification::Sha256Prefix => "sha256-prefix",
        Verification::Md5 => "md5",
        Verification::Sha1 => "sha1",
        Verification::None => "none",
    }
}

/// Reads every result of `path`. A line that is not a result is an error naming the file and
/// line, except a last line cut short (a census killed while writing it), which is dropped.
pub fn read(path: &Path) -> Result<Vec<PackageResult>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut out = Vec::new();
    let mut lines = BufReader::new(file).lines().enumerate().peekable();
    while let Some((number, line)) = lines.next() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(result) => out.push(result),
            Err(_) if lines.peek().is_none() => {}
            Err(err) => anyhow::bail!(
                "{}: line {}: not a census result: {err}; remove the line to check the \
                 package again",
                path.display(),
                number + 1
            ),
        }
    }
    Ok(out)
}

/// `results.jsonl` open for appending.
pub struct ResultsFile {
    file: Mutex<File>,
    path: PathBuf,
    /// (package, version) already in the file.
    pub done: BTreeSet<(String, String)>,
}

impl ResultsFile {
    /// Opens (or creates) `dir/results.jsonl`, dropping a last line cut short so the next
    /// result starts on a line of its own.
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join(RESULTS_FILE);
        let existing = read(&path)?;
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let bytes = std::fs::read(&path)?;
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            let keep = bytes
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |at| at + 1);
            file.set_len(keep as u64)?;
            file.seek(SeekFrom::End(0))?;
        }
        Ok(Self {
            file: Mutex::new(file),
            path,
            done: existing
                .into_iter()
                .map(|r| (r.package, r.version))
                .collect(),
        })
    }

    /// Appends `result` as one line, written with a single `write` on a file opened for
    /// appending, so lines of parallel workers never interleave and a kill leaves at most the
    /// last line cut short.
    pub fn append(&self, result: &PackageResult) -> Result<()> {
        let mut line = serde_json::to_vec(result)?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(&line)
            .and_then(|()| file.flush())
            .with_context(|| format!("cannot append to {}", self.path.display()))
    }
}
