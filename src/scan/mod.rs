//! `dh-mlmodel scan`: walks an upstream tree and reports every model weight by content.
//!
//! The walk is sorted and single-threaded (cheap); the per-file work (sniffing, hashing) is
//! spread across a thread pool, and results are put back in walk order so output is stable.

pub mod archive;
pub mod compression;
pub mod downloads;
pub mod embedded;
pub mod finding;
pub mod formats;
pub mod pickle;
pub mod report;
pub(crate) mod zip_view;

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use archive::SpoolBuffer;
pub use finding::{Details, Finding, Kind, LfsTarget, Verification, When};

use crate::error::ResultExt;
use crate::hash;
use crate::policy::PolicySource;
use finding::{Blob, CompiledWeights, LfsPointer, Weights};

/// How a scan runs.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Compute SHA-256 of every finding's file.
    pub hash: bool,
    /// Worker threads; 0 means one per core.
    pub jobs: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            hash: true,
            jobs: 0,
        }
    }
}

/// `policy/scan.toml`: thresholds for what is worth reporting.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ScanLimits {
    /// Unidentified binary files at least this large are reported as `blob`.
    pub blob_min_size: u64,
    /// Bytes read from the start of a file to decide whether it is binary.
    pub sniff_bytes: usize,
    /// Directory names never walked: version-control stores and quilt's backups, whose
    /// contents are copies or caches of the tree, not the tree.
    pub skip_directories: Vec<String>,
    /// Files at most this large are read whole, once, and analysed from memory.
    pub read_whole_max: u64,
}

/// Everything the per-file analysis needs, loaded once from the policy tables.
#[derive(Debug, Clone)]
pub struct ScanContext {
    pub formats: formats::FormatTable,
    pub pickle: pickle::PickleTable,
    pub limits: ScanLimits,
    pub archives: archive::ArchiveLimits,
    pub embedded: embedded::EmbeddedPolicy,
    pub downloads: downloads::DownloadPolicy,
}

impl ScanContext {
    pub fn load(policy: &PolicySource) -> Result<Self> {
        Ok(Self {
            formats: policy.table("formats.toml")?,
            pickle: policy.table("pickle.toml")?,
            limits: policy.table("scan.toml")?,
            archives: policy.table("archives.toml")?,
            embedded: policy.table("embedded.toml")?,
            downloads: policy.table("downloads.toml")?,
        })
    }
}

/// The result of a scan: findings in walk order, and the warnings met on the way.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    pub findings: Vec<Finding>,
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Scans the tree at `root`. Fails only when `root` itself cannot be read (bad input); problems
/// with files inside the tree become warnings.
pub fn scan_tree(root: &Path, ctx: &ScanContext, options: &ScanOptions) -> Result<ScanReport> {
    let meta = std::fs::metadata(root)
        .with_context(|| format!("cannot read {}", root.display()))
        .input()?;
    let (files, mut warnings) = if meta.is_dir() {
        std::fs::read_dir(root)
            .with_context(|| format!("cannot read directory {}", root.display()))
            .input()?;
        walk(root, &ctx.limits.skip_directories)
    } else {
        // A PATH naming a FIFO or a device would block or never end; one that cannot be
        // opened is unreadable input, not a warning.
        if !meta.is_file() {
            return Err(crate::error::Kind::Input.msg(format!(
                "{} is neither a directory nor a regular file",
                root.display()
            )));
        }
        File::open(root)
            .with_context(|| format!("cannot read {}", root.display()))
            .input()?;
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        (vec![(name, root.to_path_buf())], Vec::new())
    };

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs)
        .build()
        .context("cannot start worker threads")?;
    let results: Vec<FileResult> = pool.install(|| {
        files
            .par_iter()
            .map(|(rel, path)| scan_file(ctx, options, rel, path))
            .collect()
    });

    let mut findings = Vec::new();
    let mut seen = Vec::with_capacity(results.len());
    for result in results {
        findings.extend(result.findings);
        warnings.extend(result.warnings);
        seen.push(result.downloads);
    }
    warnings.extend(downloads::resolve_tree(
        &ctx.downloads,
        &files,
        &seen,
        &mut findings,
    ));
    Ok(ScanReport { findings, warnings })
}

/// What the scan found in one stream: its findings and the warnings met on the way.
#[derive(Debug, Default)]
pub struct StreamScan {
    pub findings: Vec<Finding>,
    pub warnings: Vec<String>,
}

/// Analyses one stream that is not a file of a tree (a member of a `.deb`'s data or control
/// archive) exactly as [`scan_tree`] analyses a file, under the name `name`: spooled (in memory
/// up to `memory-spool-bytes`, in an anonymous temporary file beyond, so memory stays flat),
/// then identified, opened when an archive, searched for embedded weights and downloads. The
/// stream is read to its end. `expected` is the size the stream's container states (a tar
/// header's), 0 when unknown: a hint for the spool's buffer. Hashing is the caller's: it sees
/// the bytes go by. `buffer` holds the stream while it is analysed, kept for the next one.
pub fn scan_stream(
    ctx: &ScanContext,
    options: &ScanOptions,
    reader: &mut dyn Read,
    expected: u64,
    name: &str,
    buffer: &mut SpoolBuffer,
) -> io::Result<StreamScan> {
    let (mut spooled, size) =
        archive::spool(reader, expected, ctx.archives.memory_spool_bytes, buffer)?;
    let mut visit = Visit {
        ctx,
        options,
        findings: Vec::new(),
        warnings: Vec::new(),
        downloads: None,
    };
    visit.analyze(&mut spooled, size, name, None, &archive::Nesting::top())?;
    Ok(StreamScan {
        findings: visit.findings,
        warnings: visit.warnings,
    })
}

/// Lists regular files under `root` in sorted order, with paths relative to it. Symbolic links
/// are never followed: one into the tree names a file scanned anyway, one out of it or a
/// broken one is reported as a warning. Directories named in `skip` are not entered (below
/// the root: a root named `.git` was asked for).
fn walk(root: &Path, skip: &[String]) -> (Vec<(String, PathBuf)>, Vec<String>) {
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            entry.depth() == 0
                || !entry.file_type().is_dir()
                || !skip.iter().any(|name| entry.file_name() == name.as_str())
        })
    {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let at = err.path().map(|p| relative(root, p)).unwrap_or_default();
                warnings.push(format!("{at}: {}", io_error_text(err.io_error())));
                continue;
            }
        };
        let rel = relative(root, entry.path());
        let file_type = entry.file_type();
        if file_type.is_symlink() {
            match entry.path().canonicalize() {
                Err(_) => warnings.push(format!("{rel}: broken symbolic link, skipped")),
                Ok(target) if !target.starts_with(&canonical_root) => warnings.push(format!(
                    "{rel}: symbolic link to {} outside the tree, not followed",
                    target.display()
                )),
                Ok(_) => {}
            }
        } else if file_type.is_file() {
            files.push((rel, entry.into_path()));
        }
    }
    (files, warnings)
}

fn io_error_text(err: Option<&io::Error>) -> String {
    err.map_or_else(|| "cannot read".to_string(), |e| e.to_string())
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// What the scan learnt from one file of the tree.
struct FileResult {
    findings: Vec<Finding>,
    warnings: Vec<String>,
    /// For the tree-level download pass.
    downloads: downloads::Seen,
}

/// Analyses one file of the tree. A file that cannot be analysed has no findings, only a
/// warning.
fn scan_file(ctx: &ScanContext, options: &ScanOptions, rel: &str, path: &Path) -> FileResult {
    let failed = |err: io::Error, downloads| FileResult {
        findings: Vec::new(),
        warnings: vec![format!("{rel}: {err}")],
        downloads,
    };
    let opened = File::open(path).and_then(|file| Ok((file.metadata()?.len(), file)));
    let (size, file) = match opened {
        Ok(opened) => opened,
        Err(err) => {
            let unreadable = downloads::Seen::Unreadable(err.to_string());
            return failed(err, unreadable);
        }
    };
    let (size, mut source) = match in_memory(file, size, ctx.limits.read_whole_max) {
        Ok(read) => read,
        Err(err) => {
            let unreadable = downloads::Seen::Unreadable(err.to_string());
            return failed(err, unreadable);
        }
    };
    let mut visit = Visit {
        ctx,
        options,
        findings: Vec::new(),
        warnings: Vec::new(),
        downloads: None,
    };
    let analysed = visit.analyze(
        &mut *source,
        size,
        rel,
        Some(path),
        &archive::Nesting::top(),
    );
    // A file whose content was not searched for downloads (binary, weights, an archive, or
    // an error on the way) may still be a script a build file runs: the tree pass needs it.
    let downloads = match visit.downloads.take() {
        Some(seen) => seen,
        None => downloads::summarize(&ctx.downloads, &mut source.as_mut(), rel, size),
    };
    match analysed {
        Ok(()) => FileResult {
            findings: visit.findings,
            warnings: visit.warnings,
            downloads,
        },
        Err(err) => failed(err, downloads),
    }
}

/// The file as the analysis reads it: a small one (at most `max` bytes) read whole with one
/// read, so that the probes' many small reads and seeks cost no system calls; a larger one as
/// it is, read as a stream. The size is what was read, should the file have shrunk since its
/// metadata was taken (a file that grew is read up to its size then).
fn in_memory(mut file: File, size: u64, max: u64) -> io::Result<(u64, Box<dyn ReadSeek>)> {
    if size > max {
        return Ok((size, Box::new(file)));
    }
    // Reads until the buffer is full or the file ends: one read call for a file that did not
    // change, where `read_to_end` would spend a second one finding the end.
    let mut bytes = vec![0u8; size as usize];
    let filled = crate::fsutil::read_full(&mut file, &mut bytes)?;
    bytes.truncate(filled);
    Ok((filled as u64, Box::new(io::Cursor::new(bytes))))
}

/// A reader the analysis can rewind: a file on disk or a spooled archive member.
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// The state of analysing one file of the tree, its archive members included.
pub(crate) struct Visit<'a> {
    pub ctx: &'a ScanContext,
    pub options: &'a ScanOptions,
    pub findings: Vec<Finding>,
    pub warnings: Vec<String>,
    /// What the download search saw of the file of the tree itself (not of archive members).
    pub downloads: Option<downloads::Seen>,
}

impl Visit<'_> {
    /// Decides what one file (or archive member) is and records the findings: weights in a
    /// known format, an archive to look inside, a Git LFS pointer, a large blob.
    pub(crate) fn analyze(
        &mut self,
        file: &mut dyn ReadSeek,
        size: u64,
        rel: &str,
        on_disk: Option<&Path>,
        nesting: &archive::Nesting,
    ) -> io::Result<()> {
        let first_new = self.findings.len();
        file.seek(SeekFrom::Start(0))?;
        let identified = formats::identify(
            &self.ctx.formats,
            &self.ctx.pickle,
            &mut &mut *file,
            size,
            rel,
            on_disk,
        )?;
        match identified {
            Some(found) if found.class == formats::Class::Weights => {
                // Whatever can run code on load is searched for pickles by content.
                let pickle = match found.pickle {
                    Some(report) => Some(report),
                    None if found.executes_code => pickle::analyze_file(
                        &self.ctx.pickle,
                        file,
                        self.ctx.archives.max_inflated_bytes,
                    )?,
                    None => None,
                };
                let weights = Weights {
                    executes_code: found.executes_code,
                    tensors: found.tensors,
                    parameters: found.parameters,
                    dtypes: found.dtypes,
                    reason: found.note,
                    pickle,
                };
                let details = Details::Weights(weights);
                self.findings
                    .push(Finding::new(rel, found.format, size, details));
            }
            Some(found) if found.class == formats::Class::Other => {
                if found.search_inside {
                    self.compiled_in(file, size, rel, &found.format)?;
                }
            }
            identified => {
                // Containers are opened whether or not the format table named them, so that a
                // compressed or archived weight file is never mistaken for an opaque blob.
                let head = self.head(file)?;
                let kind = match archive::Container::sniff(&head) {
                    Some(kind) => Some(kind),
                    None => zip_view::zip_at_end(file, size)?.then_some(archive::Container::Zip),
                };
                if let Some(kind) = kind {
                    archive::look_inside(self, file, kind, rel, nesting)?;
                } else if identified.is_none() {
                    // Only a file of the tree itself is on disk; archive members are not.
                    self.unidentified(file, &head, size, rel, on_disk)?;
                }
            }
        }
        if self.options.hash && self.findings[first_new..].iter().any(|f| f.path == rel) {
            file.seek(SeekFrom::Start(0))?;
            let (digest, _) = hash::sha256_reader(&mut *file)?;
            for finding in self.findings[first_new..]
                .iter_mut()
                .filter(|f| f.path == rel)
            {
                finding.sha256 = Some(digest.clone());
            }
        }
        Ok(())
    }

    /// Weights compiled into an executable or library (`search-inside` in the format table).
    fn compiled_in(
        &mut self,
        file: &mut dyn ReadSeek,
        size: u64,
        rel: &str,
        container: &str,
    ) -> io::Result<()> {
        let search = formats::search_compiled_in(
            &self.ctx.formats,
            &self.ctx.pickle,
            &mut &mut *file,
            size,
            rel,
        )?;
        if search.truncated {
            self.warnings.push(format!(
                "{rel}: stopped searching for compiled-in weights after {} signature matches \
                 (compiled-in-candidates-max in policy/formats.toml)",
                self.ctx.formats.limits.compiled_in_candidates_max
            ));
        }
        for found in search.found {
            let weights = found.identified;
            let mut reason = format!(
                "{} weights compiled into this {container} file at byte {}",
                weights.format, found.offset
            );
            if let Some(note) = &weights.note {
                reason.push_str(&format!(": {note}"));
            }
            let details = Details::CompiledIn(CompiledWeights {
                reason,
                offset: found.offset,
                tensors: weights.tensors,
                parameters: weights.parameters,
                dtypes: weights.dtypes,
            });
            self.findings
                .push(Finding::new(rel, weights.format, size, details));
        }
        Ok(())
    }

    /// The first `sniff-bytes` of `file` (at least 512, for tar's magic at 257), read once for the
    /// archive, Git LFS, blob and text decisions.
    fn head(&self, file: &mut dyn ReadSeek) -> io::Result<Vec<u8>> {
        file.seek(SeekFrom::Start(0))?;
        let len = self.ctx.limits.sniff_bytes.max(512);
        let mut head = Vec::with_capacity(len);
        file.take(len as u64).read_to_end(&mut head)?;
        file.seek(SeekFrom::Start(0))?;
        Ok(head)
    }

    /// A file of no known format: a Git LFS pointer, a large binary blob, source or scripts
    /// holding embedded weights or weight downloads, or nothing.
    fn unidentified(
        &mut self,
        file: &mut dyn ReadSeek,
        head: &[u8],
        size: u64,
        rel: &str,
        on_disk: Option<&Path>,
    ) -> io::Result<()> {
        let limits = &self.ctx.limits;
        if let Some(target) = lfs_pointer(head, size) {
            let reason = format!(
                "Git LFS pointer: the {} bytes it names are not in the tree",
                target.size
            );
            let details = Details::LfsPointer(LfsPointer {
                reason,
                lfs: target,
            });
            self.findings
                .push(Finding::new(rel, "git-lfs", size, details));
        } else if looks_binary(head) {
            if size >= limits.blob_min_size {
                let reason = format!(
                    "{} binary file of no known format (threshold {})",
                    human_size(size),
                    human_size(limits.blob_min_size)
                );
                let details = Details::Blob(Blob { reason });
                self.findings
                    .push(Finding::new(rel, "unknown", size, details));
            }
        } else {
            file.seek(SeekFrom::Start(0))?;
            let embedded = embedded::scan(&self.ctx.embedded, &mut *file, rel, size)?;
            self.findings.extend(embedded);
            file.seek(SeekFrom::Start(0))?;
            let tree = on_disk.and_then(|path| downloads::TreeFiles::of(path, rel));
            let scanned =
                downloads::scan(&self.ctx.downloads, &mut *file, rel, size, tree.as_ref())?;
            self.findings.extend(scanned.findings);
            self.warnings.extend(scanned.warnings);
            // Only a file of the tree itself is on disk; archive members are not.
            if on_disk.is_some() {
                self.downloads = Some(scanned.seen);
            }
        }
        Ok(())
    }
}

/// Parses a Git LFS pointer (spec: `version https://git-lfs.github.com/spec/v1`, then sorted
/// `key value` lines, `oid sha256:<64 hex>` and `size <n>` required, under 1024 bytes).
pub fn lfs_pointer(head: &[u8], size: u64) -> Option<LfsTarget> {
    if size >= 1024 {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.lines();
    if !lines
        .next()?
        .starts_with("version https://git-lfs.github.com/spec/")
    {
        return None;
    }
    let (mut oid, mut bytes) = (None, None);
    for line in lines {
        match line.split_once(' ') {
            Some(("oid", value)) => {
                let hex = value.strip_prefix("sha256:")?;
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                oid = Some(value.to_string());
            }
            Some(("size", value)) => bytes = value.parse().ok(),
            _ => {}
        }
    }
    Some(LfsTarget {
        oid: oid?,
        size: bytes?,
    })
}

/// A file is binary when its first bytes hold a NUL or are not valid UTF-8 text.
fn looks_binary(head: &[u8]) -> bool {
    if head.contains(&0) {
        return true;
    }
    match std::str::from_utf8(head) {
        Ok(_) => false,
        // A multi-byte character cut at the end of the sample is still text.
        Err(err) => err.error_len().is_some(),
    }
}

/// `1.5 MiB`-style sizes for messages and tables.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
