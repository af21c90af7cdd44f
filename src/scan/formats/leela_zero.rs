//! Leela Zero networks: gzip-compressed text, told apart by what decompresses.

use std::io::{self, Read, Seek};

use super::{Details, Probe};
use crate::scan::compression::Compression;

/// Leela Zero: gzip of a text file whose first line is a version number and whose every
/// other line is a row of space-separated floats. Only a bounded prefix is decompressed.
pub(super) fn check<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let limit = probe.limits.leela_prefix_bytes;
    let Some((Compression::Gzip, text)) = probe.decompressed_prefix(limit)? else {
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
