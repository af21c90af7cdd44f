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
    pub pin_max_bytes: u64,
    pub metadata_max_depth: usize,
    pub metadata_skip_directories: Vec<String>,
    /// README files whose first paragraph describes the project, tried in order.
    #[serde(default)]
    pub readme_names: Vec<String>,
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
    /// `policy/install.toml`: also where `check` expects the files provenance records name.
    pub install: manifest::InstallRules,
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
    let mut warnings = if manifest_drafted {
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
    let source = source_name(
        request.source,
        &root,
        manifest_source,
        &policy.draft,
        &mut warnings,
    )?;
    let in_tree = |file: &str| root.join(file).is_file();
    Ok(Loaded {
        plan: planning::plan(&source, &manifest, classes, &policy.plan, &in_tree),
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
    // No disk here: every model file counts as present, as in a tree that ships them.
    Ok(planning::plan(
        source,
        &manifest,
        classes,
        &policy.plan,
        &|_| true,
    ))
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
    let mut warnings = Vec::new();
    let source = source_name(source, root, None, policy, &mut warnings)?;
    let (mut text, draft_warnings) = manifest::draft::draft(root, &source, policy)?;
    warnings.extend(draft_warnings);
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

/// The `[source] name` of the manifest in `root`, read without validating the rest (for `init`
/// to decide whether it renames the source package).
pub fn manifest_source_name(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join(MANIFEST_PATH)).ok()?;
    let table: toml::Table = text.parse().ok()?;
    table
        .get("source")?
        .get("name")?
        .as_str()
        .map(str::to_string)
}

/// What `dh-mlmodel pin` filled in.
pub use manifest::pin::Pinned;
pub use manifest::{Evaluation, InstallRules, Manifest, url_file_name};

/// Fills the SHA-256 and size placeholders of the manifest at `manifest_path` that `targets`
/// name (model names, URLs of `[model.download]`, local files), from files in the tree, local
/// copies, or with `download` the network; rewrites the manifest losslessly.
pub fn pin(
    manifest_path: &Path,
    targets: &[String],
    download: bool,
    policy: &DraftPolicy,
) -> Result<Vec<Pinned>> {
    let origin = manifest_path.display().to_string();
    let manifest = manifest::Manifest::load(manifest_path, origin).input()?;
    let root = tree_root(manifest_path)?;
    let targets: Vec<manifest::pin::Target> = targets
        .iter()
        .map(|t| manifest::pin::Target::parse(t, &manifest))
        .collect();
    if !download
        && let Some(manifest::pin::Target::Url(url)) = targets
            .iter()
            .find(|t| matches!(t, manifest::pin::Target::Url(_)))
    {
        return Err(Kind::Input.msg(format!(
            "{url}: pass --download to fetch it, or give a local copy of the file"
        )));
    }
    let curl = manifest::pin::Curl {
        max_bytes: policy.limits.pin_max_bytes,
    };
    let (text, pinned) = manifest::pin::pin(&manifest, &root, &targets, download.then_some(&curl))?;
    // What is written must still be a valid manifest.
    manifest::Manifest::parse(manifest.origin.clone(), text.clone())
        .map_err(|err| Kind::Internal.msg(format!("the pinned manifest is invalid:\n{err}")))?;
    if !pinned.is_empty() {
        crate::fsutil::write_atomic(manifest_path, text.as_bytes(), 0o644)?;
    }
    Ok(pinned)
}

/// The source package name: `explicit` (`--source`), else `debian/control`'s `Source:`, else
/// the manifest's `[source] name`, else the upstream's name as its metadata states it, else
/// the directory's as dh_make reads it (`name-version`), made a valid package name (the
/// warnings say how).
fn source_name(
    explicit: Option<&str>,
    root: &Path,
    manifest_source: Option<&str>,
    policy: &DraftPolicy,
    warnings: &mut Vec<String>,
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
    upstream_source_name(root, policy, warnings)
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

/// A source package name from what the tree says about itself ([`crate::upstream`]): its
/// metadata's name, else its directory's name without the version, mangled to Debian Policy
/// 5.6.1 with a note when it had to change.
fn upstream_source_name(
    root: &Path,
    policy: &DraftPolicy,
    warnings: &mut Vec<String>,
) -> Result<String> {
    let upstream = crate::upstream::Upstream::detect(root, policy);
    let raw = upstream.name.unwrap_or_default();
    match crate::upstream::package_name(&raw) {
        Some(name) => {
            if name != raw {
                warnings.push(format!(
                    "source package name `{name}` made from upstream's name `{raw}` (Debian \
                     Policy 5.6.1: lower-case letters, digits, `+`, `-`, `.`); set `[source] \
                     name` in debian/mlmodel.toml for another"
                ));
            }
            Ok(name)
        }
        None => Err(Kind::Input.msg(format!(
            "cannot make a source package name of `{raw}`, the upstream's name: pass --source NAME"
        ))),
    }
}
