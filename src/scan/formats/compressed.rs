//! Compressed streams whose content decides the format: Leela Zero text networks here, and the
//! bounded decompression that the compressed pickle/joblib checks share.

use std::io::{self, Read, Seek, SeekFrom};

use super::{Details, Probe};
use crate::scan::compression::Compression;

/// The first `limit` decompressed bytes of the file, or `None` when it is not a compressed
/// stream we know or nothing decompresses. A stream that breaks off after some output still
/// yields that output: the caller judges the prefix.
pub(super) fn decompressed_prefix<R: Read + Seek>(
    probe: &mut Probe<R>,
    limit: usize,
) -> io::Result<Option<(Compression, Vec<u8>)>> {
    let Some(compression) = Compression::sniff(&probe.head) else {
        return Ok(None);
    };
    probe.file.seek(SeekFrom::Start(0))?;
    let input = (&mut *probe.file).take(probe.size);
    // Identification only reads a bounded prefix, so an lzma stream may name any dictionary.
    let Ok(decoder) = compression.decoder(input, u64::MAX) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    let mut limited = decoder.take(limit as u64);
    let mut chunk = [0u8; 8192];
    loop {
        match limited.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            // Corrupt or truncated input: keep what came out before it.
            Err(_) => break,
        }
    }
    Ok((!out.is_empty()).then_some((compression, out)))
}

/// Leela Zero: gzip of a text file whose first line is a version number and whose every
/// other line is a row of space-separated floats. Only a bounded prefix is decompressed.
pub(super) fn check_leela_zero<R: Read + Seek>(
    probe: &mut Probe<R>,
) -> io::Result<Option<Details>> {
    let limit = probe.limits.leela_prefix_bytes;
    let Some((Compression::Gzip, text)) = decompressed_prefix(probe, limit)? else {
        return Ok(None);
    };
    let complete = text.len() < limit;
    let Ok(text) = std::str::from_utf8(&text) else {
        // A cut in the middle of a multi-byte character is not possible in a network of
        // ASCII digits, so invalid UTF-8 anywhere means this is something else.
        return Ok(None);
    };
    let mut lines: Vec<&str> = text.split('\n').collect();
    // The last piece is an unfinished line when the prefix stopped early, or empty after the
    // final newline.
    if !complete || lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let Some((version, rows)) = lines.split_first() else {
        return Ok(None);
    };
    let version = version.trim_end_matches('\r');
    let version_ok = (1..=3).contains(&version.len())
        && version.bytes().all(|b| b.is_ascii_digit())
        && version != "0";
    let row_ok = |row: &&str| {
        let mut values = row.split_ascii_whitespace().peekable();
        values.peek().is_some() && values.all(|v| v.parse::<f32>().is_ok_and(f32::is_finite))
    };
    if !version_ok || rows.is_empty() || !rows.iter().all(row_ok) {
        return Ok(None);
    }
    Ok(Some(Details::note(format!(
        "Leela Zero network, format version {version}"
    ))))
}
