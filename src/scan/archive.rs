//! Archive recursion: opening zip, tar (plain, gzip, xz, bzip2) and single-file gzip/xz/bzip2
//! containers and scanning each member as a file of its own.
//!
//! Which zips are themselves weight formats (PyTorch, TorchScript, Keras, NumPy `.npz`) is
//! decided before, by content, in `formats::zip`: such a file is reported whole and not opened
//! here. Only files that identification does not report as weights come here, when their first
//! bytes are an archive's.
//!
//! Nothing is extracted to the tree. Each regular member is streamed into a spool (memory for
//! small members, an anonymous temporary file otherwise) and analysed like any file, under the
//! path `outer.tar.gz!dir/member`. Decompression bombs are stopped by two caps from
//! `policy/archives.toml`: total inflated bytes per top-level file, and the compression ratio.

use std::cell::Cell;
use std::fmt;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::rc::Rc;

use serde::Deserialize;

use super::compression::{Compression, LZMA_MEMORY_LIMIT};
use super::zip_view::zip_view;
use super::{ReadSeek, Visit, human_size};

/// `policy/archives.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ArchiveLimits {
    /// Archives are opened down to this many levels of nesting.
    pub max_depth: u32,
    /// Inflated bytes allowed across one top-level file and everything nested in it.
    pub max_inflated_bytes: u64,
    /// Largest inflated/compressed ratio accepted once `ratio-grace-bytes` have been inflated.
    pub max_ratio: u64,
    /// Inflated bytes read before the ratio is enforced (small files compress oddly).
    pub ratio_grace_bytes: u64,
    /// Members up to this size are spooled in memory, larger ones to a temporary file.
    pub memory_spool_bytes: u64,
}

/// The archive kinds this module opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Zip,
    Tar,
    /// A gzip, xz or bzip2 stream: a compressed tar, or one compressed file.
    Compressed(Compression),
}

impl Container {
    /// Recognises an archive by its first bytes (at least 512: a tar header is a whole block).
    pub fn sniff(head: &[u8]) -> Option<Self> {
        if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            Some(Self::Zip)
        } else if let Some(compression) = Compression::sniff(head).filter(|c| c.has_strong_magic())
        {
            Some(Self::Compressed(compression))
        } else if tar_header(head) {
            Some(Self::Tar)
        } else {
            None
        }
    }
}

/// Whether `head` starts with a tar header as Python's `tarfile` accepts one: any format, V7
/// (no `ustar` magic) included, told by its checksum, the sum of the header's bytes with the
/// checksum field counted as spaces, unsigned or (old writers) signed.
fn tar_header(head: &[u8]) -> bool {
    let Some(block) = head.get(..512) else {
        return false;
    };
    if block.iter().all(|&b| b == 0) {
        return false;
    }
    let field = &block[148..156];
    let field = field.split(|&b| b == 0).next().unwrap_or_default();
    let Ok(text) = std::str::from_utf8(field) else {
        return false;
    };
    let text = text.trim();
    let Ok(stored) = i64::from_str_radix(if text.is_empty() { "0" } else { text }, 8) else {
        return false;
    };
    let spaces = 8 * i64::from(b' ');
    let outside = |i: &usize| !(148..156).contains(i);
    let unsigned: i64 = spaces
        + block
            .iter()
            .enumerate()
            .filter(|(i, _)| outside(i))
            .map(|(_, &b)| i64::from(b))
            .sum::<i64>();
    let signed: i64 = spaces
        + block
            .iter()
            .enumerate()
            .filter(|(i, _)| outside(i))
            .map(|(_, &b)| i64::from(b as i8))
            .sum::<i64>();
    stored == unsigned || stored == signed
}

/// Where an archive sits: how deep, and how many bytes its top-level file has inflated so far.
#[derive(Debug, Clone)]
pub struct Nesting {
    depth: u32,
    inflated: Rc<Cell<u64>>,
}

impl Nesting {
    /// A file of the tree itself.
    pub fn top() -> Self {
        Self {
            depth: 0,
            inflated: Rc::new(Cell::new(0)),
        }
    }

    fn child(&self) -> Self {
        Self {
            depth: self.depth + 1,
            inflated: Rc::clone(&self.inflated),
        }
    }
}

/// Analyses every regular member of the archive `file` (already known to be `kind`). Problems
/// (a cap reached, a corrupt archive) become warnings naming the archive; findings made before
/// them are kept.
pub(crate) fn look_inside(
    visit: &mut Visit<'_>,
    file: &mut dyn ReadSeek,
    kind: Container,
    rel: &str,
    nesting: &Nesting,
) -> io::Result<()> {
    let limits = &visit.ctx.archives;
    if nesting.depth >= limits.max_depth {
        visit.warnings.push(format!(
            "{rel}: archive nested more than {} levels deep, not opened (max-depth in policy/archives.toml)",
            limits.max_depth
        ));
        return Ok(());
    }
    file.seek(SeekFrom::Start(0))?;
    let result = match kind {
        Container::Zip => zip_members(visit, file, rel, nesting),
        Container::Tar => tar_members(visit, file, rel, nesting),
        Container::Compressed(compression) => compressed(visit, file, compression, rel, nesting),
    };
    match result {
        Ok(()) => Ok(()),
        Err(err) => {
            let why = match cap_reached(&err) {
                Some(cap) => format!("stopped reading the archive: {cap}"),
                None => format!("cannot read the archive: {err}"),
            };
            visit
                .warnings
                .push(format!("{rel}: {why}; the scan goes on"));
            Ok(())
        }
    }
}

fn zip_members(
    visit: &mut Visit<'_>,
    file: &mut dyn ReadSeek,
    rel: &str,
    nesting: &Nesting,
) -> io::Result<()> {
    let limits = &visit.ctx.archives;
    // The compressed bytes each member's decoder actually consumes, not the size its headers
    // declare: a lying header must not make a bomb look like a low ratio.
    let consumed = Rc::new(Cell::new(0));
    let size = file.seek(SeekFrom::End(0))?;
    // The central directory is walked by its size, as `zipfile` walks it: an end record
    // declaring fewer members than it holds hides none.
    let (view, _) = zip_view(file, size)?;
    let counted = Counting {
        inner: view,
        count: Rc::clone(&consumed),
    };
    let mut archive = zip::ZipArchive::new(counted).map_err(io::Error::other)?;
    let mut buffer = SpoolBuffer::default();
    for index in 0..archive.len() {
        // Each member is read on its own, as Python's zipfile does: one it cannot read
        // (unknown compression method, encrypted) is reported and the others still scanned.
        let name = archive
            .name_for_index(index)
            .and_then(Result::ok)
            .map_or_else(|| format!("member {index}"), |name| name.into_owned());
        let entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(err) => {
                visit.warnings.push(format!(
                    "{rel}!{name}: cannot read the member: {err}; the other members are scanned"
                ));
                continue;
            }
        };
        if !entry.is_file() {
            continue;
        }
        let member = format!("{rel}!{name}");
        consumed.set(0);
        let mut capped = Capped::new(entry, Rc::clone(&consumed), nesting, limits);
        // A member that breaks off (corrupt data, a method known only by number, the ratio cap)
        // is that member's problem; only the inflated-bytes cap stops the whole archive.
        let (mut spooled, size) =
            match spool(&mut capped, 0, limits.memory_spool_bytes, &mut buffer) {
                Ok(spooled) => spooled,
                Err(err) if !inflated_cap(&err) => {
                    let why = match cap_reached(&err) {
                        Some(cap) => format!("stopped reading the member: {cap}"),
                        None => format!("cannot read the member: {err}"),
                    };
                    visit
                        .warnings
                        .push(format!("{member}: {why}; the other members are scanned"));
                    continue;
                }
                Err(err) => return Err(err),
            };
        drop(capped);
        visit.analyze(&mut spooled, size, &member, None, &nesting.child())?;
    }
    Ok(())
}

/// The cap that stopped a read, if one did.
fn cap_reached(err: &io::Error) -> Option<&CapReached> {
    err.get_ref()
        .and_then(|inner| inner.downcast_ref::<CapReached>())
}

/// Whether `err` is the inflated-bytes cap, which stops the whole top-level file (the ratio
/// cap stops one stream only).
fn inflated_cap(err: &io::Error) -> bool {
    cap_reached(err).is_some_and(|cap| cap.what == "max-inflated-bytes")
}

fn tar_members(
    visit: &mut Visit<'_>,
    reader: impl Read,
    rel: &str,
    nesting: &Nesting,
) -> io::Result<()> {
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let entry = entry?;
        // Links, devices and directories carry no bytes of their own.
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let member = format!("{rel}!{}", name.trim_start_matches("./"));
        analyze_member(visit, entry, &member, nesting)?;
    }
    Ok(())
}

/// A gzip, xz or bzip2 stream: a compressed tar, or one compressed file.
fn compressed(
    visit: &mut Visit<'_>,
    file: &mut dyn ReadSeek,
    compression: Compression,
    rel: &str,
    nesting: &Nesting,
) -> io::Result<()> {
    let consumed = Rc::new(Cell::new(0));
    let counted = Counting {
        inner: file,
        count: Rc::clone(&consumed),
    };
    let limits = &visit.ctx.archives;
    let decoder = compression.decoder(counted, LZMA_MEMORY_LIMIT)?;
    let mut stream = Capped::new(decoder, consumed, nesting, limits);
    let mut head = Vec::with_capacity(512);
    (&mut stream).take(512).read_to_end(&mut head)?;
    let whole = Cursor::new(head.clone()).chain(stream);
    if Container::sniff(&head) == Some(Container::Tar) {
        tar_members(visit, whole, rel, nesting)
    } else {
        let file_name = rel.rsplit(['/', '!']).next().unwrap_or(rel);
        let lower = file_name.to_ascii_lowercase();
        let inner = compression
            .suffixes()
            .iter()
            .find(|suffix| lower.ends_with(*suffix) && lower.len() > suffix.len())
            .map_or(file_name, |suffix| {
                &file_name[..file_name.len() - suffix.len()]
            });
        analyze_member(visit, whole, &format!("{rel}!{inner}"), nesting)
    }
}

/// Spools one member and analyses it as a file one level deeper.
fn analyze_member(
    visit: &mut Visit<'_>,
    mut reader: impl Read,
    member: &str,
    nesting: &Nesting,
) -> io::Result<()> {
    let mut buffer = SpoolBuffer::default();
    let (mut spooled, size) = spool(
        &mut reader,
        0,
        visit.ctx.archives.memory_spool_bytes,
        &mut buffer,
    )?;
    visit.analyze(&mut spooled, size, member, None, &nesting.child())
}

/// A member's bytes, rewindable: in memory when small, in an anonymous temporary file (gone
/// when dropped) otherwise, so memory stays flat whatever the member's size.
pub(crate) enum Spool<'b> {
    Memory(Cursor<&'b [u8]>),
    Disk(std::fs::File),
}

impl Read for Spool<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Spool::Memory(cursor) => cursor.read(buf),
            Spool::Disk(file) => file.read(buf),
        }
    }
}

impl Seek for Spool<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            Spool::Memory(cursor) => cursor.seek(pos),
            Spool::Disk(file) => file.seek(pos),
        }
    }
}

/// The most a size hint may make [`spool`] reserve ahead: a header may lie, and a policy may
/// lift `memory-spool-bytes` without bound.
const SPOOL_RESERVE_MAX: u64 = 64 * 1024 * 1024;

/// The least a spool buffer grows by.
const SPOOL_GROWTH_MIN: usize = 64 * 1024;

/// The memory a spool fills. Its bytes stay initialised from one use to the next, so a
/// caller that spools many members in turn through one buffer (`check` reads thousands from a
/// `.deb`) pays neither fresh pages from the allocator nor the zeroing that `read_to_end`
/// does for readers that cannot fill uninitialised memory, once per member.
#[derive(Debug, Default)]
pub struct SpoolBuffer {
    /// All initialised; its length only grows.
    bytes: Vec<u8>,
}

/// Spools `reader` to its end, in `buffer` while it fits in `memory_limit` bytes. `expected`
/// is the size the container's header states (0 when unknown): only a hint, bounded by
/// `memory_limit` and `SPOOL_RESERVE_MAX`, that sizes the buffer once so that the bytes are not
/// copied again at each doubling of a growing buffer.
pub(crate) fn spool<'b>(
    reader: &mut dyn Read,
    expected: u64,
    memory_limit: u64,
    buffer: &'b mut SpoolBuffer,
) -> io::Result<(Spool<'b>, u64)> {
    // One byte past the limit tells a member that fits from one that does not (and one more
    // than expected finds the end); a policy may set the limit to u64::MAX, where `+ 1`
    // must not wrap.
    let keep = memory_limit.saturating_add(1);
    let hint = expected.min(SPOOL_RESERVE_MAX).saturating_add(1).min(keep);
    let bytes = &mut buffer.bytes;
    let mut filled = 0usize;
    loop {
        if filled == bytes.len() {
            let room = usize::try_from(keep).unwrap_or(usize::MAX);
            if filled >= room {
                break;
            }
            let wanted = usize::try_from(hint)
                .unwrap_or(0)
                .max(filled.saturating_mul(2))
                .max(SPOOL_GROWTH_MIN)
                .min(room);
            bytes.resize(wanted, 0);
        }
        let read = crate::fsutil::read_full(reader, &mut bytes[filled..])?;
        filled += read;
        if filled < bytes.len() {
            // The end of the input.
            break;
        }
    }
    let in_memory = filled as u64;
    if in_memory <= memory_limit {
        return Ok((Spool::Memory(Cursor::new(&bytes[..filled])), in_memory));
    }
    let mut file = tempfile::tempfile()?;
    file.write_all(&bytes[..filled])?;
    let rest = io::copy(reader, &mut file)?;
    file.seek(SeekFrom::Start(0))?;
    Ok((Spool::Disk(file), in_memory + rest))
}

/// Counts the compressed bytes a decoder has consumed.
pub(crate) struct Counting<R> {
    pub(crate) inner: R,
    pub(crate) count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Which cap stopped an archive.
#[derive(Debug)]
pub struct CapReached {
    what: &'static str,
    detail: String,
}

impl fmt::Display for CapReached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (possible decompression bomb; see {} in policy/archives.toml)",
            self.detail, self.what
        )
    }
}

impl std::error::Error for CapReached {}

/// Inflated output checked against the caps as it is read (also `repack`'s reader).
pub(crate) struct Capped<'a, R> {
    inner: R,
    compressed: Rc<Cell<u64>>,
    inflated_here: u64,
    nesting: Nesting,
    limits: &'a ArchiveLimits,
}

impl<'a, R: Read> Capped<'a, R> {
    pub(crate) fn new(
        inner: R,
        compressed: Rc<Cell<u64>>,
        nesting: &Nesting,
        limits: &'a ArchiveLimits,
    ) -> Self {
        Self {
            inner,
            compressed,
            inflated_here: 0,
            nesting: nesting.clone(),
            limits,
        }
    }
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.inflated_here += n as u64;
        let total = self.nesting.inflated.get() + n as u64;
        self.nesting.inflated.set(total);
        if total > self.limits.max_inflated_bytes {
            return Err(io::Error::other(CapReached {
                what: "max-inflated-bytes",
                detail: format!(
                    "more than {} inflated",
                    human_size(self.limits.max_inflated_bytes)
                ),
            }));
        }
        let compressed = self.compressed.get().max(1);
        if self.inflated_here > self.limits.ratio_grace_bytes
            && self.inflated_here / compressed > self.limits.max_ratio
        {
            return Err(io::Error::other(CapReached {
                what: "max-ratio",
                detail: format!(
                    "{} inflated from {}, a ratio over {}:1",
                    human_size(self.inflated_here),
                    human_size(compressed),
                    self.limits.max_ratio
                ),
            }));
        }
        Ok(n)
    }
}
