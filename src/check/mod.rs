//! `dh-mlmodel check`: archive checks for model weights, in lintian's language.
//!
//! A target is a binary package (`.deb`, `.udeb`), a source package (a `.dsc` with its
//! tarballs beside it, or an unpacked tree), or a `.changes` (every package it lists). Targets
//! are read in parallel (`--jobs`), each in one pass ([`deb`], [`source`]); then the rules
//! ([`rules`]) turn what the scan found and what each package says about itself into tags
//! ([`tags`], defined in `policy/tags.toml`), the package's overrides ([`overrides`]) and the
//! display options ([`selection`]) decide what is shown, and [`output`] prints lintian's lines
//! or JSON.

pub mod ar;
pub mod deb;
pub mod lintian;
pub mod output;
pub mod overrides;
pub mod package;
pub mod read_ahead;
pub mod rules;
pub mod selection;
pub mod source;
pub mod tags;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::pipeline::PipelinePolicy;
use crate::plan::Area;
use crate::policy::PolicySource;
use crate::scan::{Finding, ScanContext, ScanOptions};
use crate::spdx::LicenseTable;
use package::Fields;

/// `policy/check.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CheckLimits {
    pub max_control_file_bytes: u64,
    pub max_metadata_file_bytes: u64,
    pub max_source_file_bytes: u64,
    pub xz_memlimit_threading: u64,
}

/// Everything the checks read from the policy tables, loaded once.
pub struct CheckContext {
    pub scan: ScanContext,
    pub scan_options: ScanOptions,
    pub pipeline: PipelinePolicy,
    pub licenses: LicenseTable,
    pub tags: tags::TagTable,
    pub limits: CheckLimits,
    /// Threads of each xz decoder: the cores shared among the targets read at once (set by
    /// [`check`] once it knows how many there are).
    pub xz_threads: u32,
    cores: usize,
    jobs: usize,
}

impl CheckContext {
    /// The context for reading `jobs` targets at once (0: one per core).
    pub fn load(policy: &PolicySource, jobs: usize) -> Result<Self> {
        let pipeline = PipelinePolicy::load(policy)?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let jobs = if jobs == 0 { cores } else { jobs };
        Ok(Self {
            scan: pipeline.draft.scan.clone(),
            // Hashes are taken as the bytes stream by ([`deb`]); a tree's scan shares the
            // cores with the other targets read at once.
            scan_options: ScanOptions {
                hash: false,
                jobs: (cores / jobs).max(1),
            },
            licenses: pipeline.draft.licenses.clone(),
            pipeline,
            tags: tags::TagTable::load(policy)?,
            limits: policy.table("check.toml")?,
            xz_threads: u32::try_from((cores / jobs).max(1)).unwrap_or(1),
            cores,
            jobs,
        })
    }
}

/// The kind of package a target is, as lintian names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    Binary,
    Udeb,
    Source,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Binary => "binary",
            TargetKind::Udeb => "udeb",
            TargetKind::Source => "source",
        }
    }
}

/// The packaging files of a source package the rules read.
#[derive(Debug, Clone, Default)]
pub struct SourceFacts {
    /// debian/control's source paragraph and binary paragraphs.
    pub control: Option<Fields>,
    pub binaries: Vec<Fields>,
    pub copyright: Option<String>,
    pub manifest: Option<String>,
}

/// One package read: what it says about itself and what the scan found in it.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: TargetKind,
    pub package: String,
    pub version: String,
    pub architecture: String,
    /// The binary package's control fields (empty for sources: see `source`).
    pub fields: Fields,
    pub area: Area,
    /// Findings, paths as lintian names the package's files (`usr/share/x`, `debian/rules`,
    /// maintainer scripts by their bare name).
    pub findings: Vec<Finding>,
    /// Every regular file of a binary package's data, with its SHA-256 when it lies where
    /// models are installed (`policy/install.toml`: the only files provenance records name).
    pub hashes: BTreeMap<String, Option<String>>,
    pub has_native_code: bool,
    /// `provenance.json` or `provenance.json.gz`: its path and raw bytes.
    pub provenance: Option<(String, Vec<u8>)>,
    /// The overrides file: its path and text.
    pub overrides: Option<(String, String)>,
    pub source: Option<SourceFacts>,
    pub warnings: Vec<String>,
}

impl Target {
    pub fn new(kind: TargetKind, package: String, version: String, architecture: String) -> Self {
        Self {
            kind,
            package,
            version,
            architecture,
            fields: Fields::default(),
            area: Area::Main,
            findings: Vec::new(),
            hashes: BTreeMap::new(),
            has_native_code: false,
            provenance: None,
            overrides: None,
            source: None,
            warnings: Vec::new(),
        }
    }
}

/// A target named on the command line, or listed in a `.changes`.
#[derive(Debug, Clone)]
pub enum Input {
    Deb(PathBuf, TargetKind),
    Dsc(PathBuf),
    Tree(PathBuf),
    /// A path that cannot be checked, and why.
    Unreadable(PathBuf, String),
}

impl Input {
    pub fn path(&self) -> &Path {
        match self {
            Input::Deb(path, _) | Input::Dsc(path) | Input::Tree(path) => path,
            Input::Unreadable(path, _) => path,
        }
    }
}

/// The inputs `paths` name, `.changes` files expanded into the packages they list.
pub fn inputs(paths: &[PathBuf], ctx: &CheckContext) -> Vec<Input> {
    let mut out = Vec::new();
    for path in paths {
        let name = path.to_string_lossy();
        if path.is_dir() {
            out.push(Input::Tree(path.clone()));
        } else if name.ends_with(".deb") {
            out.push(Input::Deb(path.clone(), TargetKind::Binary));
        } else if name.ends_with(".udeb") {
            out.push(Input::Deb(path.clone(), TargetKind::Udeb));
        } else if name.ends_with(".dsc") {
            out.push(Input::Dsc(path.clone()));
        } else if name.ends_with(".changes") {
            match changes_files(path, ctx) {
                Ok(listed) => out.extend(listed),
                Err(err) => out.push(Input::Unreadable(path.clone(), err)),
            }
        } else if !path.exists() {
            out.push(Input::Unreadable(
                path.clone(),
                "no such file or directory".into(),
            ));
        } else {
            out.push(Input::Unreadable(
                path.clone(),
                "not a .deb, .udeb, .dsc, .changes or source directory".into(),
            ));
        }
    }
    out
}

/// The packages a `.changes` lists in its `Files` field (`md5 size section priority name`),
/// beside it: its `.dsc` and binary packages (the tarballs are the `.dsc`'s).
fn changes_files(path: &Path, ctx: &CheckContext) -> Result<Vec<Input>, String> {
    let cap = ctx.limits.max_source_file_bytes;
    let bytes = std::fs::read(path).map_err(|err| err.to_string())?;
    if bytes.len() as u64 > cap {
        return Err(format!(
            "larger than {cap} bytes (max-source-file-bytes in policy/check.toml)"
        ));
    }
    let what = path.display().to_string();
    let fields = package::paragraphs(&String::from_utf8_lossy(&bytes), &what)?
        .into_iter()
        .next()
        .ok_or("the .changes is empty")?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut listed = Vec::new();
    for name in source::listed_files(&fields, "Files", 4)? {
        let file = dir.join(&name);
        if name.ends_with(".deb") {
            listed.push(Input::Deb(file, TargetKind::Binary));
        } else if name.ends_with(".udeb") {
            listed.push(Input::Deb(file, TargetKind::Udeb));
        } else if name.ends_with(".dsc") {
            listed.push(Input::Dsc(file));
        }
    }
    if listed.is_empty() {
        return Err("lists no .deb, .udeb or .dsc".to_string());
    }
    Ok(listed)
}

/// Reads every input, `jobs` at a time (0: one per core).
pub fn read_all(
    inputs: &[Input],
    ctx: &CheckContext,
    jobs: usize,
) -> Result<Vec<Result<Target, String>>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|err| anyhow::anyhow!("cannot start worker threads: {err}"))?;
    Ok(pool.install(|| {
        inputs
            .par_iter()
            .map(|input| match input {
                Input::Deb(path, kind) => deb::read(path, *kind, ctx),
                Input::Dsc(path) => source::read_dsc(path, ctx),
                Input::Tree(path) => source::read_tree(path, ctx),
                Input::Unreadable(_, why) => Err(why.clone()),
            })
            .collect()
    }))
}

/// Checks every target of `paths`: reads them (`jobs` at a time), then judges each with what
/// all of them say about package areas. One report per target, in the order given (a
/// `.changes` contributes one per package it lists); a target that cannot be read has a
/// report with its error, and the others are still checked.
pub fn check(
    paths: &[PathBuf],
    ctx: &mut CheckContext,
    selection: &output::Selection,
) -> Result<Vec<output::Report>> {
    let inputs = inputs(paths, ctx);
    // Fewer targets than jobs leave cores to each target's decoder and scan.
    let at_once = ctx.jobs.min(inputs.len()).max(1);
    let share = (ctx.cores / at_once).max(1);
    ctx.xz_threads = u32::try_from(share).unwrap_or(1);
    ctx.scan_options.jobs = share;
    let ctx = &*ctx;
    let read = read_all(&inputs, ctx, at_once)?;
    let targets: Vec<&Target> = read.iter().filter_map(|r| r.as_ref().ok()).collect();
    let known = rules::known_areas(&targets);
    Ok(inputs
        .iter()
        .zip(read)
        .map(|(input, result)| {
            let name = input.path().display().to_string();
            match result {
                Ok(target) => {
                    let hints = rules::hints(&target, &known, ctx);
                    output::Report::new(name, &target, hints, &ctx.tags, selection)
                }
                Err(err) => output::Report::unreadable(name, err),
            }
        })
        .collect())
}
