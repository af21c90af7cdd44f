//! From an upstream tree and its `debian/` to the [`Plan`] (DESIGN.md §2): scan the tree, read
//! `debian/mlmodel.toml` or draft it from the scan, classify each model, plan its packages.
//!
//! This is the only place that sees the manifest's schema: [`manifest`] is private here, and the
//! plan carries its facts resolved ([`crate::plan::facts`]). `classify`, `init` and `dh_mlmodel`
//! all start from [`load`], so they agree on the source name, the verdicts and the packages.

mod classify;
mod manifest;
mod planning;

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::error::{Kind, ResultExt};
use crate::plan::Plan;
use crate::policy::PolicySource;
use crate::scan::ScanContext;
use crate::spdx::LicenseTable;

/// Where the manifest is, relative to the source tree.
pub const MANIFEST_PATH: &str = manifest::DEFAULT_PATH;

/// Everything wrong with a manifest, one `FILE:LINE:COLUMN: message` per problem.
#[derive(Debug, Clone)]
pub struct ManifestError {
    pub problems: Vec<String>,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problems.join("\n"))
    }
}

impl std::error::Error for ManifestError {}

/// `policy/init.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DraftLimits {
    pub model_card_names: Vec<String>,
    pub license_file_names: Vec<String>,
    pub text_max_bytes: u64,
    pub generic_stems: Vec<String>,
}

/// Everything drafting needs from the policy tables.
#[derive(Debug, Clone)]
pub struct DraftPolicy {
    pub scan: ScanContext,
    pub licenses: LicenseTable,
    pub limits: DraftLimits,
}

impl DraftPolicy {
    pub fn load(policy: &PolicySource) -> Result<Self> {
        Ok(Self {
            scan: ScanContext::load(policy)?,
            licenses: policy.table("licenses.toml")?,
            limits: policy.table("init.toml")?,
        })
    }
}

/// Every policy table the pipeline reads.
pub struct PipelinePolicy {
    pub draft: DraftPolicy,
    install: manifest::InstallRules,
    classify: classify::ClassifyPolicy,
    plan: planning::PlanPolicy,
}

impl PipelinePolicy {
    pub fn load(policy: &PolicySource) -> Result<Self> {
        Ok(Self {
            draft: DraftPolicy::load(policy)?,
            install: policy.table("install.toml")?,
            classify: classify::ClassifyPolicy::load(policy)?,
            plan: planning::PlanPolicy::load(policy)?,
        })
    }
}

/// What to load.
pub struct Request<'a> {
    /// The upstream tree.
    pub root: &'a Path,
    /// The manifest; `root/debian/mlmodel.toml` when `None`.
    pub manifest: Option<&'a Path>,
    /// The source package name given by the user (or by debian/control for `dh_mlmodel`).
    pub source: Option<&'a str>,
    /// Draft the manifest from a scan when it does not exist yet.
    pub draft_when_missing: bool,
}

/// The plan of a tree, and what happened on the way.
pub struct Loaded {
    pub plan: Plan,
    /// This run drafted the manifest.
    pub manifest_drafted: bool,
    pub warnings: Vec<String>,
}

/// Reads (or drafts) the manifest of `request.root`, classifies its models and plans them.
/// A malformed manifest is a [`ManifestError`] inside the returned error, marked as bad input.
pub fn load(request: &Request, policy: &PipelinePolicy) -> Result<Loaded> {
    let manifest_path = request
        .manifest
        .map_or_else(|| request.root.join(MANIFEST_PATH), Path::to_path_buf);
    let manifest_drafted = request.draft_when_missing && !manifest_path.exists();
    let warnings = if manifest_drafted {
        draft(request.root, request.source, Existing::Keep, &policy.draft)?.warnings
    } else {
        Vec::new()
    };
    // Messages name the manifest as the user gave it, or relative to the tree.
    let origin = match request.manifest {
        Some(path) => path.display().to_string(),
        None => MANIFEST_PATH.to_string(),
    };
    let manifest = manifest::Manifest::load(&manifest_path, origin).input()?;
    let classes = judge(&manifest, policy)?;
    let manifest_source = manifest
        .source
        .as_ref()
        .and_then(|s| s.name.as_ref())
        .map(|n| n.get_ref().0.as_str());
    let root = match request.manifest {
        Some(path) => tree_root(path)?,
        None => request.root.to_path_buf(),
    };
    let source = source_name(request.source, &root, manifest_source)?;
    Ok(Loaded {
        plan: planning::plan(&source, &manifest, classes, &policy.plan),
        manifest_drafted,
        warnings,
    })
}

/// The checks and the classification every parsed manifest goes through.
fn judge(
    manifest: &manifest::Manifest,
    policy: &PipelinePolicy,
) -> Result<Vec<crate::plan::ModelClass>> {
    manifest.check_install_dirs(&policy.install).input()?;
    classify::classify(manifest, &policy.classify).input()
}

/// Parses, checks, classifies and plans the manifest `text` for source package `source`, as
/// [`load`] does with a manifest file: the fuzz target of the manifest reader
/// (`crate::fuzz_targets`), which must not touch the disk.
#[doc(hidden)]
pub fn plan_manifest_text(text: String, source: &str, policy: &PipelinePolicy) -> Result<Plan> {
    let manifest = manifest::Manifest::parse("debian/mlmodel.toml".to_string(), text).input()?;
    let classes = judge(&manifest, policy)?;
    Ok(planning::plan(source, &manifest, classes, &policy.plan))
}

/// What to do when the manifest exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse: the maintainer's manifest is never replaced unasked.
    Keep,
    /// Replace it with the new draft.
    Replace,
    /// Refresh what the scan knows (files, pins, format; new models), keeping every fact,
    /// comment and layout of the maintainer's ([`manifest::update`]).
    Update,
}

/// A drafted manifest, written.
pub struct Drafted {
    pub path: PathBuf,
    /// How many `FIXME` placeholders the maintainer has to fill in.
    pub placeholders: usize,
    pub warnings: Vec<String>,
    /// With [`Existing::Update`]: what changed, one line each.
    pub changes: Vec<String>,
}

/// Drafts `root/debian/mlmodel.toml` from a scan of `root` and writes it, atomically; an
/// existing manifest is handled as `existing` says.
pub fn draft(
    root: &Path,
    source: Option<&str>,
    existing: Existing,
    policy: &DraftPolicy,
) -> Result<Drafted> {
    let path = root.join(MANIFEST_PATH);
    let present = path.exists();
    if present && existing == Existing::Keep {
        return Err(Kind::Input.msg(format!(
            "{} already exists: pass --force to replace it, or --update to refresh its files \
             and pins from a new scan (your facts and comments are kept)",
            path.display()
        )));
    }
    let source = source_name(source, root, None)?;
    let (mut text, warnings) = manifest::draft::draft(root, &source, policy)?;
    let mut changes = Vec::new();
    if present && existing == Existing::Update {
        let current = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))
            .input()?;
        let (updated, report) = manifest::update::update(MANIFEST_PATH, &current, &text)?;
        text = updated;
        changes.extend(
            report
                .refreshed
                .iter()
                .map(|m| format!("model {m}: files and pins refreshed from the scan")),
        );
        changes.extend(
            report
                .added
                .iter()
                .map(|m| format!("model {m}: added (found by the scan)")),
        );
        changes.extend(report.unmatched.iter().map(|m| {
            format!("model {m}: the scan no longer finds its files; kept (remove it yourself if it is gone)")
        }));
    }
    // What is written must parse as a manifest; count what the maintainer still has to fill in.
    let written =
        manifest::Manifest::parse(MANIFEST_PATH.to_string(), text.clone()).map_err(|err| {
            match existing {
                Existing::Update => {
                    Kind::Input.msg(format!("the updated manifest would be invalid:\n{err}"))
                }
                _ => Kind::Internal.msg(format!("the drafted manifest is invalid:\n{err}")),
            }
        })?;
    let placeholders = written.models.iter().map(|m| m.placeholders().len()).sum();
    // A manifest is source, readable by all like the rest of debian/.
    if present {
        crate::fsutil::write_atomic(&path, text.as_bytes(), 0o644)?;
    } else {
        crate::fsutil::write_atomic_new(&path, text.as_bytes(), 0o644)?;
    }
    Ok(Drafted {
        path,
        placeholders,
        warnings,
        changes,
    })
}

/// The source package name: `explicit` (`--source`), else `debian/control`'s `Source:`, else
/// the manifest's `[source] name`, else the name of the tree's directory `root`.
fn source_name(
    explicit: Option<&str>,
    root: &Path,
    manifest_source: Option<&str>,
) -> Result<String> {
    if let Some(name) = explicit {
        return manifest::PackageName::try_from(name.to_string())
            .map(|p| p.0)
            .map_err(|err| Kind::Input.msg(format!("--source: {err}")));
    }
    if let Some(control) = crate::control::ControlFile::read_if_present(root).input()? {
        return manifest::PackageName::try_from(control.source)
            .map(|p| p.0)
            .map_err(|err| Kind::Input.msg(format!("{}: Source: {err}", crate::control::PATH)));
    }
    if let Some(name) = manifest_source {
        return Ok(name.to_string());
    }
    directory_source_name(root)
}

/// The upstream tree holding `manifest_path`: the manifest's directory, or its parent when that
/// directory is `debian/`.
fn tree_root(manifest_path: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(manifest_path)
        .with_context(|| format!("cannot resolve {}", manifest_path.display()))?;
    let dir = absolute.parent().unwrap_or(Path::new("/"));
    Ok(if dir.file_name().is_some_and(|n| n == "debian") {
        dir.parent().unwrap_or(dir).to_path_buf()
    } else {
        dir.to_path_buf()
    })
}

/// A source package name from a directory name: lower-cased, `_` and spaces as `-`, a trailing
/// `-VERSION` kept (Debian names may hold digits and dots).
fn directory_source_name(root: &Path) -> Result<String> {
    let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let raw = canonical
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = raw
        .to_lowercase()
        .chars()
        .map(|c| if c == '_' || c == ' ' { '-' } else { c })
        .collect();
    match manifest::PackageName::try_from(name) {
        Ok(name) if name.0.len() >= 2 => Ok(name.0),
        _ => Err(Kind::Input.msg(format!(
            "cannot make a source package name of the directory name `{raw}`: pass --source NAME"
        ))),
    }
}
