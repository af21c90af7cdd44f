//! `dh-mlmodel repack`: the upstream release rewritten into the orig tarballs the plan asks
//! for (DESIGN.md §8): `<source>_<version><suffix>.orig.tar.xz` without the `Files-Excluded`
//! paths, and one `orig-<component>.tar.xz` per model whose weights the source must carry
//! but upstream's tarball lacks, made from the pinned download. Every tarball is
//! reproducible (sorted, normalised, clamped, always the threaded xz encoder with a fixed
//! block size) and written atomically inside the output directory.
//!
//! One module per concern: reading the upstream release ([`upstream`]), the exclusion
//! patterns ([`exclude`]), the checks, normalisation and order ([`rewrite`]), the tar writer
//! ([`tar_writer`]), the xz encoder ([`xz`]), the facts of `debian/` ([`packaging`]) and the
//! components ([`components`]).

pub mod components;
pub mod exclude;
pub mod packaging;
pub mod rewrite;
pub mod tar_writer;
pub mod upstream;
pub mod xz;

use std::io::BufWriter;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use self::exclude::Exclusions;
use self::packaging::Packaging;
use self::rewrite::Output;
use self::upstream::Upstream;
use crate::error::Kind;
use crate::policy::PolicySource;
use crate::scan::archive::ArchiveLimits;

/// The policy tables `repack` reads.
pub struct RepackPolicy {
    pub archives: ArchiveLimits,
    pub xz: xz::XzSettings,
    /// For the components: the plan's download pins.
    pub pipeline: crate::pipeline::PipelinePolicy,
}

impl RepackPolicy {
    pub fn load(policy: &PolicySource) -> Result<Self> {
        Ok(Self {
            archives: policy.table("archives.toml")?,
            xz: policy.table("repack.toml")?,
            pipeline: crate::pipeline::PipelinePolicy::load(policy)?,
        })
    }
}

/// Where the component's pinned file comes from.
#[derive(Debug, Clone)]
pub enum Fetch {
    /// Downloaded from `[model.download]`'s URL (then mirrors), with curl.
    Download,
    /// The file named as the URL's last component, in this directory.
    From(PathBuf),
}

/// What to repack, and where to.
#[derive(Debug, Clone)]
pub struct Options {
    /// The source tree with `debian/`.
    pub tree: PathBuf,
    /// The upstream release (tarball, zip or directory); none when only components are made.
    pub upstream: Option<PathBuf>,
    /// The upstream version, instead of debian/changelog's.
    pub version: Option<String>,
    pub output_dir: PathBuf,
    pub jobs: u32,
    /// Models whose weights become `orig-<model>` components.
    pub components: Vec<String>,
    pub fetch: Option<Fetch>,
}

/// One tarball written.
#[derive(Debug, Clone)]
pub struct Written {
    pub path: PathBuf,
    pub kept: usize,
    pub removed: usize,
}

/// What `repack` did.
#[derive(Debug, Default)]
pub struct Report {
    pub written: Vec<Written>,
    /// debian/ files edited for the components.
    pub edited: Vec<PathBuf>,
    pub warnings: Vec<String>,
    /// debian/watch now appends the suffix to every tarball (components made it switch from
    /// `repacksuffix` to `oversionmangle`).
    suffix_always: bool,
}

pub fn repack(options: &Options, policy: &RepackPolicy) -> Result<Report> {
    let packaging = Packaging::read(&options.tree)?;
    let version = match &options.version {
        Some(version) => version.clone(),
        None => packaging.upstream_version.clone(),
    };
    check_name_part("version", &version)?;
    check_name_part("source name", &packaging.source)?;
    let clamp = match crate::build_env::source_date_epoch().map_err(|e| Kind::Input.mark(e))? {
        Some(epoch) => epoch,
        None => packaging.changelog_epoch,
    };
    std::fs::create_dir_all(&options.output_dir)
        .with_context(|| format!("cannot create {}", options.output_dir.display()))
        .map_err(|err| Kind::Io.mark(err))?;
    let writer = TarballWriter {
        output_dir: &options.output_dir,
        policy,
        jobs: options.jobs,
        clamp,
    };
    let mut report = Report::default();
    let mut tarballs = Vec::new();
    if let Some(path) = &options.upstream {
        let upstream = Upstream::open(path)?;
        let mut exclusions = packaging::files_excluded(&options.tree, None)?;
        let made = writer.write(&upstream, &mut exclusions)?;
        for pattern in exclusions.unused() {
            report.warnings.push(format!(
                "Files-Excluded pattern `{pattern}` matched no member of {} (as the last \
                 matching pattern)",
                path.display()
            ));
        }
        tarballs.push((None, made));
    }
    // Components: those asked for, else those the plan needs (when there is a manifest).
    let has_manifest = options.tree.join(crate::pipeline::MANIFEST_PATH).is_file();
    if !options.components.is_empty() || has_manifest {
        let made = components::make(options, &packaging, &writer, &mut report)?;
        tarballs.extend(made);
    }
    // The suffix goes on every tarball's version when the watch file appends it
    // (`oversionmangle`, as uscan wants it with components) or when anything was removed:
    // all the tarballs of one source version share one version.
    let removed = tarballs.iter().any(|(_, made)| made.outcome.removed > 0);
    let suffix = if removed || packaging.suffix_always || report.suffix_always {
        packaging.suffix.as_str()
    } else {
        ""
    };
    for (component, made) in tarballs {
        let name = match &component {
            None => format!("{}_{version}{suffix}.orig.tar.xz", packaging.source),
            Some(component) => format!(
                "{}_{version}{suffix}.orig-{component}.tar.xz",
                packaging.source
            ),
        };
        let path = options.output_dir.join(name);
        made.temp
            .persist(&path)
            .map_err(|err| err.error)
            .with_context(|| format!("cannot write {}", path.display()))
            .map_err(|err| Kind::Io.mark(err))?;
        report.written.push(Written {
            path,
            kept: made.outcome.kept,
            removed: made.outcome.removed,
        });
    }
    Ok(report)
}

/// A version or source name that goes into a file name: nothing that could name another
/// directory.
fn check_name_part(what: &str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '~' | '_'));
    if ok {
        Ok(())
    } else {
        Err(Kind::Input.msg(format!(
            "the {what} `{value}` is not usable in a tarball name (letters, digits and `.+-~_` \
             only)"
        )))
    }
}

/// A finished tarball in a temporary file in the output directory, not yet named.
pub struct Made {
    temp: tempfile::NamedTempFile,
    pub outcome: rewrite::Outcome,
}

/// Writes orig tarballs into one directory with one encoder setting.
pub struct TarballWriter<'a> {
    output_dir: &'a Path,
    policy: &'a RepackPolicy,
    jobs: u32,
    clamp: i64,
}

impl TarballWriter<'_> {
    /// Rewrites `upstream` without what `exclusions` match into a temporary `.tar.xz`.
    pub fn write(&self, upstream: &Upstream, exclusions: &mut Exclusions) -> Result<Made> {
        let mut open = || -> Result<_> {
            let temp = tempfile::Builder::new()
                .prefix(".dh-mlmodel-repack-")
                .tempfile_in(self.output_dir)
                .with_context(|| {
                    format!(
                        "cannot create a temporary file in {}",
                        self.output_dir.display()
                    )
                })
                .map_err(|err| Kind::Io.mark(err))?;
            let buffered = Output(BufWriter::with_capacity(1 << 20, temp));
            xz::encoder(buffered, &self.policy.xz, self.jobs)
        };
        let (outcome, encoder) = rewrite::rewrite(
            upstream,
            exclusions,
            self.clamp,
            &self.policy.archives,
            &mut open,
        )?;
        let Output(buffered) = encoder
            .finish()
            .context("cannot finish the xz stream")
            .map_err(|err| Kind::Io.mark(err))?;
        let temp = buffered
            .into_inner()
            .map_err(|err| Kind::Io.mark(err.into_error()))?;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|err| Kind::Io.mark(err))?;
        Ok(Made { temp, outcome })
    }
}
