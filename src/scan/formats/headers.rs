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

/// TFLite: a FlatBuffer whose root `Model` table holds the schema version in field 0
/// (tensorflow/lite/schema/schema.fbs), the subgraphs in field 2 and the buffers in field 4.
/// The tensor count is the sum of every subgraph's `tensors` vector length (activations
/// included, as TFLite counts tensors); the buffer count is stated in the note. Each read is
/// a few bytes at an offset checked against the file size, and at most
/// `tflite-subgraphs-max` subgraphs are visited.
pub(super) fn check_tflite<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let Some(root) = le_u32(&probe.head, 0).map(u64::from) else {
        return Ok(None);
    };
    // The root table follows the 8-byte prefix and must leave room for its vtable offset.
    if root < 8 || root.checked_add(4).is_none_or(|end| end > probe.size) {
        return Ok(None);
    }
    let Some(model) = FlatTable::at(probe, root)? else {
        return Ok(None);
    };
    if model.vtable_len < 6 || model.field(probe, 0)?.is_none() {
        return Ok(Some(Details::note("TFLite model without a schema version")));
    }
    let version = match model.field(probe, 0)? {
        Some(at) => le_u32(&probe.read_at(at, 4)?, 0),
        None => None,
    };
    let Some(version) = version else {
        return Ok(Some(Details::note(
            "TFLite model with a truncated root table",
        )));
    };
    let mut details = Details::note(format!("TFLite schema v{version}"));
    let subgraphs = model.vector(probe, 2)?;
    let buffers = model.vector(probe, 4)?;
    let mut tensors = Some(0u64);
    match subgraphs {
        Some((count, elements)) if count <= probe.limits.tflite_subgraphs_max => {
            for i in 0..count {
                let at = elements + 4 * i;
                let target = le_u32(&probe.read_at(at, 4)?, 0).map(|rel| at + u64::from(rel));
                let table = match target {
                    Some(t) if t + 4 <= probe.size => FlatTable::at(probe, t)?,
                    _ => None,
                };
                let count = match table {
                    Some(table) => table.vector(probe, 0)?.map(|(n, _)| n),
                    None => None,
                };
                tensors = tensors.zip(count).map(|(sum, n)| sum + n);
            }
        }
        _ => tensors = None,
    }
    details.tensors = tensors;
    if let Some((buffers, _)) = buffers {
        details.note = Some(format!("TFLite schema v{version}, {buffers} buffers"));
    }
    Ok(Some(details))
}

/// A FlatBuffers table: its position and its vtable's (flatbuffers' binary format: the table
/// starts with an int32 offset back to its vtable, which lists uint16 field offsets after its
/// own length and the table's length).
struct FlatTable {
    at: u64,
    vtable: u64,
    vtable_len: u16,
}

impl FlatTable {
    fn at<R: Read + Seek>(probe: &mut Probe<R>, at: u64) -> io::Result<Option<Self>> {
        let Some(soffset) = le_u32(&probe.read_at(at, 4)?, 0).map(|v| i64::from(v as i32)) else {
            return Ok(None);
        };
        let Some(vtable) = u64::try_from(at as i64 - soffset)
            .ok()
            .filter(|v| v.checked_add(4).is_some_and(|end| end <= probe.size))
        else {
            return Ok(None);
        };
        let vt = probe.read_at(vtable, 2)?;
        let vtable_len = u16::from_le_bytes([vt[0], vt[1]]);
        if vtable_len < 4 || vtable_len % 2 != 0 {
            return Ok(None);
        }
        Ok(Some(Self {
            at,
            vtable,
            vtable_len,
        }))
    }

    /// The file offset of field `index`, when the table has it.
    fn field<R: Read + Seek>(&self, probe: &mut Probe<R>, index: u64) -> io::Result<Option<u64>> {
        let slot = 4 + 2 * index;
        if slot + 2 > u64::from(self.vtable_len) {
            return Ok(None);
        }
        let bytes = probe.read_at(self.vtable + slot, 2)?;
        let Some(offset) = bytes.get(..2).map(|b| u16::from_le_bytes([b[0], b[1]])) else {
            return Ok(None);
        };
        Ok((offset != 0).then_some(self.at + u64::from(offset)))
    }

    /// Field `index` as a vector: its length and the offset of its first element, checked to
    /// lie within the file for 4-byte elements.
    fn vector<R: Read + Seek>(
        &self,
        probe: &mut Probe<R>,
        index: u64,
    ) -> io::Result<Option<(u64, u64)>> {
        let Some(field) = self.field(probe, index)? else {
            return Ok(None);
        };
        let Some(start) = le_u32(&probe.read_at(field, 4)?, 0).map(|rel| field + u64::from(rel))
        else {
            return Ok(None);
        };
        let Some(len) = le_u32(&probe.read_at(start, 4)?, 0).map(u64::from) else {
            return Ok(None);
        };
        let fits = len
            .checked_mul(4)
            .and_then(|bytes| bytes.checked_add(start + 4))
            .is_some_and(|end| end <= probe.size);
        Ok(fits.then_some((len, start + 4)))
    }
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

/// Stockfish NNUE: version, hash, description length and the description text
/// (nnue_architecture.h / evaluate_nnue.cpp `read_header`). The description is one line of
/// text, so a length over `nnue-description-max` or a control character is not a network: the
/// version word alone also turns up as an immediate in machine code.
pub(super) fn check_nnue<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let Some(description_len) = le_u32(&probe.head, 8).map(u64::from) else {
        return Ok(None);
    };
    if description_len > probe.limits.nnue_description_max
        || description_len
            .checked_add(12)
            .is_none_or(|end| end > probe.size)
    {
        return Ok(None);
    }
    let description = probe.read_at(12, description_len as usize)?;
    let Ok(text) = std::str::from_utf8(&description) else {
        return Ok(None);
    };
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Ok(None);
    }
    let mut shown: String = text.trim().chars().take(200).collect();
    if shown.len() < text.trim().len() {
        shown.push('…');
    }
    Ok(Some(Details::note(format!("NNUE network: {shown}"))))
}

/// Darknet (`src/parser.c`, `save_weights_upto`/`load_weights_upto`): int32 major, minor and
/// revision, the images seen (`size_t` when `major * 10 + minor >= 2`, int32 before), then
/// float32 values to the end. There is no magic, so the file must be named `.weights` (see
/// policy) and everything must be plausible: the versions darknet and its forks write (0.1,
/// 0.2, 1.x), at least `darknet-min-values` values, and a first sample of them finite, of
/// trained magnitude, and not all zero.
pub(super) fn check_darknet<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let (Some(major), Some(minor), Some(revision)) = (
        le_u32(&probe.head, 0),
        le_u32(&probe.head, 4),
        le_u32(&probe.head, 8),
    ) else {
        return Ok(None);
    };
    if major >= 10 || minor >= 100 || revision >= 1000 {
        return Ok(None);
    }
    let wide_seen = major * 10 + minor >= 2;
    let header_len: u64 = if wide_seen { 20 } else { 16 };
    let seen = if wide_seen {
        le_u64(&probe.head, 12)
    } else {
        le_u32(&probe.head, 12).map(u64::from)
    };
    // More than a trillion images seen is a counter no training run reached.
    let Some(seen) = seen.filter(|&seen| seen < 1_000_000_000_000) else {
        return Ok(None);
    };
    let data_len = probe.size.saturating_sub(header_len);
    if !data_len.is_multiple_of(4) || data_len / 4 < probe.limits.darknet_min_values {
        return Ok(None);
    }
    let sample = probe.read_at(header_len, 4096)?;
    let values: Vec<f32> = sample
        .chunks_exact(4)
        .map(|v| f32::from_le_bytes([v[0], v[1], v[2], v[3]]))
        .collect();
    let trained =
        values.iter().all(|v| v.is_finite() && v.abs() < 1.0e6) && values.iter().any(|&v| v != 0.0);
    if !trained {
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
