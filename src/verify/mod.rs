//! `dh-mlmodel verify`: is a rebuilt model *the* model?
//!
//! Bitwise equal files are `identical`. Otherwise both files are opened as tensors
//! ([`readers`], on `scan`'s header parsers), paired by tensor name (their order in the file
//! does not matter), and streamed side by side ([`compare`]) to per-tensor figures judged
//! against the tolerances ([`tolerance`]): all tensors within them make the file
//! `equivalent`. A model's `[model.evaluation]` then runs on the candidate ([`evaluation`]);
//! a failed bound makes the whole `different`. Directories are compared file by file, paired
//! by relative path.

pub mod compare;
pub mod dtype;
pub mod evaluation;
pub mod readers;
pub mod report;
pub mod tensors;
pub mod tolerance;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use serde::Deserialize;

use crate::error::{Kind, ResultExt};
use crate::pipeline::Manifest;
use crate::policy::PolicySource;
use crate::scan::ScanContext;

use self::compare::TensorVerdict;
use self::report::{FileReport, Report, Summary, TensorReport, Verdict};
use self::tensors::TensorInfo;
use self::tolerance::{Tolerance, ToleranceOverride};

/// `policy/verify.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyTable {
    tolerance: Tolerance,
    limits: VerifyLimits,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VerifyLimits {
    pub chunk_elements: usize,
    pub max_tensors: usize,
    pub max_files: usize,
    pub evaluation_timeout_seconds: u64,
    pub evaluation_output_max: usize,
    pub hdf5_objects_max: u64,
    pub hdf5_chunks_max: u64,
    pub hdf5_depth_max: u32,
    pub hdf5_decompressed_max: u64,
}

/// Everything `verify` reads from the policy: its own table and the scan's (formats, pickle).
pub struct VerifyPolicy {
    pub scan: ScanContext,
    pub tolerance: Tolerance,
    pub limits: VerifyLimits,
}

impl VerifyPolicy {
    pub fn load(policy: &PolicySource) -> Result<Self> {
        let table: VerifyTable = policy.table("verify.toml")?;
        anyhow::ensure!(
            table.limits.chunk_elements >= 256 && table.limits.chunk_elements.is_multiple_of(256),
            "policy/verify.toml: chunk-elements must be a positive multiple of 256"
        );
        Ok(Self {
            scan: ScanContext::load(policy)?,
            tolerance: table.tolerance,
            limits: table.limits,
        })
    }
}

/// What to compare, and with which overrides.
pub struct Options {
    pub reference: PathBuf,
    pub candidate: PathBuf,
    /// `--tolerance`.
    pub tolerance: Option<ToleranceOverride>,
    /// `--manifest PATH --model NAME`.
    pub model: Option<(PathBuf, String)>,
}

/// Compares `options.reference` with `options.candidate`. Errors are bad input (a path that
/// cannot be read, a file that is not tensors, a malformed manifest) or I/O.
pub fn verify(options: &Options, policy: &VerifyPolicy) -> Result<Report> {
    let (model_tolerance, evaluation) = match &options.model {
        Some((manifest, name)) => model_settings(manifest, name)?,
        None => (None, None),
    };
    let mut tolerance = policy.tolerance;
    if let Some(over) = &model_tolerance {
        tolerance = tolerance.with(over);
    }
    if let Some(over) = &options.tolerance {
        tolerance = tolerance.with(over);
    }
    let pairs = pair_paths(
        &options.reference,
        &options.candidate,
        policy.limits.max_files,
    )?;
    let mut files = Vec::with_capacity(pairs.len());
    for pair in pairs {
        files.push(compare_pair(&pair, &tolerance, policy)?);
    }
    let mut verdict = files
        .iter()
        .map(|f| f.verdict)
        .fold(Verdict::Identical, |acc, v| match (acc, v) {
            (Verdict::Different, _) | (_, Verdict::Different) => Verdict::Different,
            (Verdict::Equivalent, _) | (_, Verdict::Equivalent) => Verdict::Equivalent,
            _ => Verdict::Identical,
        });
    // Identical bytes need no evaluation: the candidate is the reference.
    let evaluation = match evaluation {
        Some(evaluation) if verdict == Verdict::Equivalent => {
            let limits = evaluation::Limits {
                timeout: Duration::from_secs(policy.limits.evaluation_timeout_seconds),
                output_max: policy.limits.evaluation_output_max,
            };
            let result =
                evaluation::run(&evaluation, &options.reference, &options.candidate, &limits)
                    .map_err(|e| Kind::Input.msg(e))?;
            if !result.pass {
                verdict = Verdict::Different;
            }
            Some(result)
        }
        _ => None,
    };
    Ok(Report {
        schema: report::JSON_SCHEMA,
        verdict,
        reference: options.reference.display().to_string(),
        candidate: options.candidate.display().to_string(),
        tolerance,
        summary: Summary::of(&files),
        files,
        evaluation,
    })
}

/// The model's `[model.verify]` and `[model.evaluation]` from the manifest.
fn model_settings(
    manifest: &Path,
    name: &str,
) -> Result<(
    Option<ToleranceOverride>,
    Option<crate::pipeline::Evaluation>,
)> {
    let origin = manifest.display().to_string();
    let manifest = Manifest::load(manifest, origin.clone()).map_err(|e| Kind::Input.mark(e))?;
    let model = manifest
        .models
        .iter()
        .find(|m| m.name.get_ref().0 == name)
        .ok_or_else(|| {
            let names: Vec<&str> = manifest
                .models
                .iter()
                .map(|m| m.name.get_ref().0.as_str())
                .collect();
            Kind::Input.msg(format!(
                "{origin}: no model `{name}` (models: {})",
                names.join(", ")
            ))
        })?;
    Ok((
        model.verify.as_ref().map(|v| *v.get_ref()),
        model.evaluation.as_ref().map(|e| e.get_ref().clone()),
    ))
}

/// One file to compare: its name in the report and its paths on each side (`None`: absent).
struct Pair {
    name: String,
    reference: Option<PathBuf>,
    candidate: Option<PathBuf>,
}

/// Two files, or the files of two directories paired by relative path.
fn pair_paths(reference: &Path, candidate: &Path, max_files: usize) -> Result<Vec<Pair>> {
    let kind = |path: &Path| {
        std::fs::metadata(path)
            .map(|m| m.is_dir())
            .map_err(|e| Kind::Input.msg(format!("{}: cannot read: {e}", path.display())))
    };
    match (kind(reference)?, kind(candidate)?) {
        (false, false) => {
            let name = reference.file_name().map_or_else(
                || reference.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            Ok(vec![Pair {
                name,
                reference: Some(reference.to_path_buf()),
                candidate: Some(candidate.to_path_buf()),
            }])
        }
        (true, true) => {
            let mut by_name: BTreeMap<String, Pair> = BTreeMap::new();
            for (root, is_reference) in [(reference, true), (candidate, false)] {
                for relative in list_files(root, max_files)? {
                    let path = root.join(&relative);
                    let pair = by_name.entry(relative.clone()).or_insert_with(|| Pair {
                        name: relative,
                        reference: None,
                        candidate: None,
                    });
                    if is_reference {
                        pair.reference = Some(path);
                    } else {
                        pair.candidate = Some(path);
                    }
                }
            }
            Ok(by_name.into_values().collect())
        }
        _ => Err(Kind::Input.msg(format!(
            "{} and {} must both be files or both be directories",
            reference.display(),
            candidate.display()
        ))),
    }
}

/// The regular files under `root`, relative, sorted; symbolic links are not followed.
fn list_files(root: &Path, max_files: usize) -> Result<Vec<String>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.map_err(|e| Kind::Input.msg(format!("{}: {e}", root.display())))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
        files.push(relative.to_string_lossy().into_owned());
        if files.len() > max_files {
            return Err(Kind::Input.msg(format!(
                "{}: more than {max_files} files (max-files in policy/verify.toml)",
                root.display()
            )));
        }
    }
    Ok(files)
}

fn compare_pair(pair: &Pair, tolerance: &Tolerance, policy: &VerifyPolicy) -> Result<FileReport> {
    let mut file = FileReport {
        path: pair.name.clone(),
        verdict: Verdict::Different,
        format: None,
        reason: None,
        tensors: Vec::new(),
        missing: Vec::new(),
        extra: Vec::new(),
    };
    let (reference, candidate) = match (&pair.reference, &pair.candidate) {
        (Some(r), Some(c)) => (r, c),
        (Some(_), None) => {
            file.reason = Some("only in the reference".into());
            return Ok(file);
        }
        _ => {
            file.reason = Some("only in the candidate".into());
            return Ok(file);
        }
    };
    if same_bytes(reference, candidate)? {
        file.verdict = Verdict::Identical;
        return Ok(file);
    }
    let open = |path: &Path| {
        readers::open(path, &policy.scan, &policy.limits)
            .map_err(|e| Kind::Input.msg(format!("{}: {e}", path.display())))
    };
    let ours = open(reference)?;
    let theirs = open(candidate)?;
    file.format = Some(if ours.format == theirs.format {
        ours.format.clone()
    } else {
        format!("{}/{}", ours.format, theirs.format)
    });
    let mut candidates: BTreeMap<&str, &TensorInfo> = BTreeMap::new();
    for tensor in &theirs.tensors {
        if candidates.insert(&tensor.name, tensor).is_some() {
            return Err(Kind::Input.msg(format!(
                "{}: two tensors named {}",
                candidate.display(),
                tensor.name
            )));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut sorted: Vec<&TensorInfo> = ours.tensors.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for tensor in sorted {
        if !seen.insert(tensor.name.as_str()) {
            return Err(Kind::Input.msg(format!(
                "{}: two tensors named {}",
                reference.display(),
                tensor.name
            )));
        }
        match candidates.remove(tensor.name.as_str()) {
            Some(other) => file.tensors.push(
                compare_tensor(tensor, other, tolerance, policy.limits.chunk_elements)
                    .map_err(|e| Kind::Input.msg(format!("{}: {e}", pair.name)))?,
            ),
            None => file.missing.push(tensor.name.clone()),
        }
    }
    file.extra = candidates.into_keys().map(str::to_string).collect();
    let all_fine = file
        .tensors
        .iter()
        .all(|t| t.verdict != report::TensorVerdictName::Different);
    if all_fine && file.missing.is_empty() && file.extra.is_empty() {
        file.verdict = Verdict::Equivalent;
    }
    Ok(file)
}

fn compare_tensor(
    reference: &TensorInfo,
    candidate: &TensorInfo,
    tolerance: &Tolerance,
    chunk: usize,
) -> io::Result<TensorReport> {
    let mut report = TensorReport {
        name: reference.name.clone(),
        verdict: report::TensorVerdictName::Different,
        shape: reference.shape.clone(),
        dtype: reference.dtype.name().to_string(),
        max_abs: None,
        rel_l2: None,
        cosine: None,
        reason: None,
    };
    if reference.shape != candidate.shape {
        report.reason = Some(format!(
            "shape {:?} in the reference, {:?} in the candidate",
            reference.shape, candidate.shape
        ));
        return Ok(report);
    }
    let (ours, theirs) = match (&reference.data, &candidate.data) {
        (Ok(ours), Ok(theirs)) => (ours, theirs),
        (Err(why), _) => {
            report.reason = Some(format!("not compared: in the reference, {why}"));
            return Ok(report);
        }
        (_, Err(why)) => {
            report.reason = Some(format!("not compared: in the candidate, {why}"));
            return Ok(report);
        }
    };
    let elements = reference.elements().unwrap_or(0);
    let metrics = compare::compare(
        (reference, ours, &ours.path),
        (candidate, theirs, &theirs.path),
        elements,
        chunk,
    )?;
    let same_dtype = reference.dtype == candidate.dtype;
    let verdict = compare::judge(&metrics, tolerance, same_dtype);
    report.verdict = verdict.into();
    report.max_abs = Some(metrics.max_abs);
    report.rel_l2 = Some(metrics.rel_l2);
    report.cosine = Some(metrics.cosine);
    let mut reasons = Vec::new();
    if !same_dtype {
        reasons.push(format!(
            "dtype {} in the reference, {} in the candidate, compared by value",
            reference.dtype.name(),
            candidate.dtype.name()
        ));
    }
    if let Some(element) = metrics.lone_nan {
        reasons.push(format!("NaN on one side only, first at element {element}"));
    } else if verdict == TensorVerdict::Different {
        reasons.push(format!(
            "{} of {elements} values differ, outside the tolerance",
            metrics.differing
        ));
    }
    if !reasons.is_empty() {
        report.reason = Some(reasons.join("; "));
    }
    Ok(report)
}

/// Whether the two files hold the same bytes, read side by side in fixed-size chunks.
fn same_bytes(a: &Path, b: &Path) -> Result<bool> {
    let open = |path: &Path| {
        File::open(path)
            .map_err(|e| Kind::Input.msg(format!("{}: cannot open: {e}", path.display())))
    };
    let (mut fa, mut fb) = (open(a)?, open(b)?);
    let (la, lb) = (fa.metadata().io()?.len(), fb.metadata().io()?.len());
    if la != lb {
        return Ok(false);
    }
    const CHUNK: usize = 1 << 20;
    let (mut ba, mut bb) = (vec![0u8; CHUNK], vec![0u8; CHUNK]);
    loop {
        let n = read_full(&mut fa, &mut ba).io()?;
        let m = read_full(&mut fb, &mut bb).io()?;
        if n != m || ba[..n] != bb[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

/// Reads until `buf` is full or the file ends.
fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}
