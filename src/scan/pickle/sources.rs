//! Where the pickles of a weight file are, found by content, and their analysis.
//!
//! A file that can run code when loaded is searched for pickle streams whatever its name or
//! its members' names: a plain or compressed pickle (joblib too), the stacked pickles of a
//! legacy `torch.save` file, every zip member that is a pickle (PyTorch's `data.pkl` under any
//! name, TorchScript's `constants.pkl`), and the data after the header of an `.npy` file or
//! `.npz` member (a pickle for object arrays). Each stream goes through `pickle::analyze`.

use std::io::{self, Cursor, Read, SeekFrom};

use super::{Expect, PickleReport, PickleTable, Verdict, analyze, announced_protocol, sniff};
use crate::scan::ReadSeek;
use crate::scan::compression::{Compression, LZMA_MEMORY_LIMIT};
use crate::scan::zip_view::zip_view;

/// Bytes read from the start of a stream to tell what it is.
const SNIFF_BYTES: u64 = 64 * 1024;

/// The first pickle of a legacy `torch.save` file: protocol 2, torch's magic number, STOP.
const TORCH_LEGACY_MAGIC: &[u8] = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e";

const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// Analyses every pickle stream in `file`. `None` when it holds none (a zip of JSON and HDF5,
/// a NumPy array of numbers). `max_inflated` caps the bytes decompressed from it.
pub fn analyze_file(
    table: &PickleTable,
    file: &mut dyn ReadSeek,
    max_inflated: u64,
) -> io::Result<Option<PickleReport>> {
    file.seek(SeekFrom::Start(0))?;
    let mut head = Vec::new();
    (&mut *file).take(SNIFF_BYTES).read_to_end(&mut head)?;
    file.seek(SeekFrom::Start(0))?;
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return zip_pickles(table, file, max_inflated);
    }
    if let Some(decoder) = Compression::sniff(&head)
        .and_then(|compression| compression.decoder(&mut *file, LZMA_MEMORY_LIMIT).ok())
    {
        let capped = Capped {
            inner: decoder,
            left: max_inflated,
        };
        return stream_pickle(table, capped, true);
    }
    stream_pickle(table, file, true)
}

/// A stream that is a pickle, a legacy torch file, or an `.npy` array. A `whole_file` that
/// starts with PROTO is analysed even when it fails early, so its parse error is reported;
/// inside a zip only content that walks like a pickle counts, so that storage bytes starting
/// with 0x80 by chance are not taken for one.
fn stream_pickle(
    table: &PickleTable,
    mut stream: impl Read,
    whole_file: bool,
) -> io::Result<Option<PickleReport>> {
    let mut head = Vec::new();
    (&mut stream).take(SNIFF_BYTES).read_to_end(&mut head)?;
    let complete = (head.len() as u64) < SNIFF_BYTES;
    let npy = head.starts_with(NPY_MAGIC);
    let expect = if head.starts_with(TORCH_LEGACY_MAGIC) {
        Expect::Legacy
    } else {
        Expect::One
    };
    let is_pickle = !npy
        && ((whole_file && announced_protocol(&head).is_some())
            || sniff(table, &head).is_pickle(table, complete));
    let whole = Cursor::new(head).chain(stream);
    if npy {
        return npy_pickle(table, whole);
    }
    Ok(is_pickle.then(|| analyze(table, whole, expect)))
}

/// The data after an `.npy` header, when it is a pickle (object arrays). The header length is
/// a u16 at byte 8 in version 1, a u32 in versions 2 and 3 (numpy `lib/format.py`).
fn npy_pickle(table: &PickleTable, mut stream: impl Read) -> io::Result<Option<PickleReport>> {
    let mut preamble = [0u8; 12];
    let got = read_up_to(&mut stream, &mut preamble)?;
    let header_end = match preamble.get(6) {
        Some(1) if got >= 10 => 10 + u64::from(u16::from_le_bytes([preamble[8], preamble[9]])),
        Some(2 | 3) if got >= 12 => {
            12 + u64::from(u32::from_le_bytes([
                preamble[8],
                preamble[9],
                preamble[10],
                preamble[11],
            ]))
        }
        _ => return Ok(None),
    };
    let skip = header_end.saturating_sub(got as u64);
    // The header dict starts after the preamble already read (10 or 12 bytes).
    let mut header = preamble[..got].to_vec();
    (&mut stream)
        .take(skip.min(NPY_HEADER_BYTES))
        .read_to_end(&mut header)?;
    let kept = header.len() as u64 - got as u64;
    let rest = skip - kept.min(skip);
    let skipped = io::copy(&mut (&mut stream).take(rest), &mut io::sink())?;
    if kept + skipped < skip {
        return Ok(None);
    }
    let dict = header.get(header_start(&preamble)..).unwrap_or_default();
    // An object dtype, however spelled, makes the data a pickle whatever it looks like: it is
    // analysed without the sniff, so a stream that fails at once is still `unsafe`.
    let objects = rest > 0 || crate::scan::formats::numpy::header_holds_objects(dict) == Some(true);
    if objects {
        return Ok(Some(analyze(table, stream, Expect::One)));
    }
    stream_pickle_only(table, stream)
}

/// Where an `.npy` header's dict starts: after the u16 (version 1) or u32 length.
fn header_start(preamble: &[u8]) -> usize {
    if preamble.get(6) == Some(&1) { 10 } else { 12 }
}

/// Header bytes kept to read the dtype; `np.load` refuses headers past 10 000 bytes unless told
/// otherwise, and a longer one is treated as holding objects.
const NPY_HEADER_BYTES: u64 = 65536;

/// Like `stream_pickle`, for data that can only be a pickle or not one (no nested formats).
fn stream_pickle_only(
    table: &PickleTable,
    mut stream: impl Read,
) -> io::Result<Option<PickleReport>> {
    let mut head = Vec::new();
    (&mut stream).take(SNIFF_BYTES).read_to_end(&mut head)?;
    let complete = (head.len() as u64) < SNIFF_BYTES;
    if !sniff(table, &head).is_pickle(table, complete) {
        return Ok(None);
    }
    Ok(Some(analyze(
        table,
        Cursor::new(head).chain(stream),
        Expect::One,
    )))
}

/// Every member of a zip that is a pickle or an `.npy` with a pickle inside, by content.
fn zip_pickles(
    table: &PickleTable,
    file: &mut dyn ReadSeek,
    max_inflated: u64,
) -> io::Result<Option<PickleReport>> {
    // Read as `zipfile` reads it, so that a lying member count hides no pickle.
    let size = file.seek(SeekFrom::End(0))?;
    let (view, _) = zip_view(file, size)?;
    let mut archive = match zip::ZipArchive::new(view) {
        Ok(archive) => archive,
        Err(err) => {
            return Ok(Some(unreadable(format!(
                "cannot read the zip directory: {err}"
            ))));
        }
    };
    let mut parts = Vec::new();
    let mut left = max_inflated;
    for index in 0..archive.len() {
        let mut entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(err) => {
                parts.push((
                    format!("member {index}"),
                    unreadable(format!("cannot read the member: {err}")),
                ));
                continue;
            }
        };
        if !entry.is_file() {
            continue;
        }
        let name = match entry.name() {
            Ok(name) => name.to_string(),
            Err(_) => format!("member {index}"),
        };
        let capped = Capped {
            inner: &mut entry,
            left,
        };
        let mut counted = Counted {
            inner: capped,
            read: 0,
        };
        // Members named as pickles are what loaders unpickle by name (data.pkl,
        // constants.pkl): analysed whatever their first bytes look like.
        let named = [".pkl", ".pickle"].iter().any(|ext| name.ends_with(ext));
        let found = if named {
            Ok(Some(analyze(table, &mut counted, Expect::One)))
        } else {
            stream_pickle(table, &mut counted, false)
        };
        match found {
            Ok(Some(report)) => parts.push((name, report)),
            Ok(None) => {}
            Err(err) => parts.push((name, unreadable(format!("cannot read the member: {err}")))),
        }
        left = left.saturating_sub(counted.read);
    }
    Ok((!parts.is_empty()).then(|| PickleReport::merge(parts)))
}

/// A report for a container the analysis could not read: never safe.
fn unreadable(reason: String) -> PickleReport {
    PickleReport {
        verdict: Verdict::Unsafe,
        globals: Vec::new(),
        reasons: vec![reason],
    }
}

/// Stops a decompression bomb: reading past `left` bytes is an error, which the analysis
/// reports as such (never as a clean end of the pickle).
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            io::Error::other("decompressed size passes max-inflated-bytes in policy/archives.toml")
        })?;
        Ok(n)
    }
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Fills `buf` as far as the stream goes; returns how much was read.
fn read_up_to(stream: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match stream.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}
