//! Formats with a small fixed header: HDF5, TFLite, MXNet `.params`, Stockfish NNUE, Darknet.

use std::io::{self, Read, Seek};

use super::{Details, Probe, le_u32, le_u64};

/// HDF5: the signature (at 0 or after a user block), then the superblock version (0–3).
pub(super) fn check_hdf5<R: Read + Seek>(
    probe: &mut Probe<R>,
    signature_at: u64,
) -> io::Result<Option<Details>> {
    let Some(&version) = probe.read_at(signature_at + 8, 1)?.first() else {
        return Ok(None);
    };
    if version > 3 {
        return Ok(None);
    }
    let mut note = format!("HDF5 superblock v{version}");
    if signature_at > 0 {
        note.push_str(&format!(" after a {signature_at}-byte user block"));
    }
    Ok(Some(Details::note(note)))
}

/// TFLite: a FlatBuffer whose root `Model` table holds the schema version in field 0.
pub(super) fn check_tflite<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let Some(root) = le_u32(&probe.head, 0).map(u64::from) else {
        return Ok(None);
    };
    // The root table follows the 8-byte prefix and must leave room for its vtable offset.
    if root < 8 || root.checked_add(4).is_none_or(|end| end > probe.size) {
        return Ok(None);
    }
    let soffset = probe.read_at(root, 4)?;
    let Some(soffset) = le_u32(&soffset, 0).map(|v| i64::from(v as i32)) else {
        return Ok(None);
    };
    let Some(vtable) = u64::try_from(root as i64 - soffset)
        .ok()
        .filter(|v| v.checked_add(6).is_some_and(|end| end <= probe.size))
    else {
        return Ok(None);
    };
    let vt = probe.read_at(vtable, 6)?;
    let (vtable_len, field0) = (
        u16::from_le_bytes([vt[0], vt[1]]),
        u16::from_le_bytes([vt[4], vt[5]]),
    );
    if vtable_len < 4 || vtable_len % 2 != 0 {
        return Ok(None);
    }
    if vtable_len < 6 || field0 == 0 {
        return Ok(Some(Details::note("TFLite model without a schema version")));
    }
    let version = probe.read_at(root + u64::from(field0), 4)?;
    Ok(Some(match le_u32(&version, 0) {
        Some(version) => Details::note(format!("TFLite schema v{version}")),
        None => Details::note("TFLite model with a truncated root table"),
    }))
}

/// MXNet: the list magic and reserved word, the array count, then arrays each starting with an
/// NDArray magic.
pub(super) fn check_mxnet<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    const NDARRAY_V1: u32 = 0xF993_FAC8;
    const NDARRAY_V2: u32 = 0xF993_FAC9;
    let Some(count) = le_u64(&probe.head, 16) else {
        return Ok(None);
    };
    // Each array takes at least its magic, so the count is bounded by the bytes after it.
    if count > (probe.size - 24) / 4 {
        return Ok(None);
    }
    if count > 0 && !matches!(le_u32(&probe.head, 24), Some(NDARRAY_V1 | NDARRAY_V2)) {
        return Ok(None);
    }
    Ok(Some(Details {
        tensors: Some(count),
        ..Details::default()
    }))
}

/// Stockfish NNUE: version, hash, description length and the description text.
pub(super) fn check_nnue<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let Some(description_len) = le_u32(&probe.head, 8).map(u64::from) else {
        return Ok(None);
    };
    if description_len
        .checked_add(12)
        .is_none_or(|end| end > probe.size)
    {
        return Ok(None);
    }
    // Descriptions are one line of text; read enough for the note.
    let shown = description_len.min(200) as usize;
    let description = probe.read_at(12, shown)?;
    let Ok(text) = std::str::from_utf8(&description) else {
        return Ok(None);
    };
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Ok(None);
    }
    Ok(Some(Details::note(format!(
        "NNUE network: {}",
        text.trim()
    ))))
}

/// Darknet: major, minor, revision (i32), images seen (u64 from version 0.2, i32 before), then
/// float32 values to the end. Only tried on `.weights` files (see policy): the header is just
/// small integers, so we also require the data to be whole float32 values.
pub(super) fn check_darknet<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let (Some(major), Some(minor), Some(revision)) = (
        le_u32(&probe.head, 0),
        le_u32(&probe.head, 4),
        le_u32(&probe.head, 8),
    ) else {
        return Ok(None);
    };
    if major >= 1000 || minor >= 1000 || revision >= 1000 {
        return Ok(None);
    }
    let wide_seen = major * 10 + minor >= 2;
    let header_len: u64 = if wide_seen { 20 } else { 16 };
    let seen = if wide_seen {
        le_u64(&probe.head, 12)
    } else {
        le_u32(&probe.head, 12).map(u64::from)
    };
    let Some(seen) = seen else {
        return Ok(None);
    };
    let data_len = probe.size.saturating_sub(header_len);
    if data_len == 0 || !data_len.is_multiple_of(4) {
        return Ok(None);
    }
    Ok(Some(Details {
        parameters: Some(data_len / 4),
        dtypes: vec!["float32".into()],
        note: Some(format!(
            "Darknet weights v{major}.{minor}.{revision}, {seen} images seen"
        )),
        ..Details::default()
    }))
}
