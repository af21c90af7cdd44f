//! TensorFlow checkpoints and SavedModels, whose pieces only make sense together:
//!
//! * `*.index`: a LevelDB-style SSTable (footer of two block handles and a magic number)
//!   naming every tensor; the footer magic is shared with all LevelDB tables, hence the name
//!   requirement in the policy table;
//! * `*.data-NNNNN-of-NNNNN`: raw tensor bytes, recognisable only by name next to its index;
//! * `saved_model.pb`: a bare protobuf, taken for a SavedModel only beside
//!   `variables/variables.index`.
//!
//! The sibling checks need the file's real path, so they never match inside archives.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use super::{Check, Details, Probe, protobuf};

/// An SSTable footer: metaindex and index block handles (varints, padded) and the magic.
const FOOTER_LEN: u64 = 48;

pub(super) fn check_index<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let Some(footer_at) = probe.size.checked_sub(FOOTER_LEN) else {
        return Ok(None);
    };
    let footer = probe.read_at(footer_at, FOOTER_LEN as usize)?;
    let mut at = 0;
    for _ in 0..4 {
        let Some((value, used)) = varint(&footer[at..40]) else {
            return Ok(None);
        };
        if value > footer_at {
            return Ok(None);
        }
        at += used;
    }
    Ok(Some(Details::note("TensorFlow tensor-bundle index")))
}

fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

pub(super) fn check_saved_model<R: Read + Seek>(
    probe: &mut Probe<R>,
) -> io::Result<Option<Details>> {
    if probe.file_name() != "saved_model.pb" {
        return Ok(None);
    }
    let Some(dir) = probe.on_disk.and_then(Path::parent) else {
        return Ok(None);
    };
    if !dir.join("variables").join("variables.index").is_file() {
        return Ok(None);
    }
    let budget = probe.limits.protobuf_fields_max;
    let meta_graphs = protobuf::saved_model_meta_graphs(&mut *probe.file, probe.size, budget)?;
    Ok(meta_graphs
        .map(|n| Details::note(format!("TensorFlow SavedModel graph, {n} meta graph(s)"))))
}

pub(super) fn check_data_shard<R: Read + Seek>(
    probe: &mut Probe<R>,
) -> io::Result<Option<Details>> {
    let name = probe.file_name();
    let Some((prefix, shard, count)) = shard_name(&name) else {
        return Ok(None);
    };
    let Some(on_disk) = probe.on_disk else {
        return Ok(None);
    };
    let Some(real_name) = on_disk.file_name().and_then(|n| n.to_str()) else {
        return Ok(None);
    };
    // The index keeps the data file's prefix with its original case. The probe's name is the
    // last component after any `!`, lower-cased in ASCII only: its `.data-…` suffix has the
    // same bytes at the end of the real name, whatever comes before it.
    let suffix = name.len() - prefix.len();
    let Some(real_prefix) = real_name
        .len()
        .checked_sub(suffix)
        .and_then(|end| real_name.get(..end))
    else {
        return Ok(None);
    };
    let index = on_disk.with_file_name(format!("{real_prefix}.index"));
    if !sibling_is_index(&index, probe.formats)? {
        return Ok(None);
    }
    Ok(Some(Details::note(format!(
        "TensorFlow checkpoint data shard {} of {count}",
        shard + 1
    ))))
}

/// `prefix.data-00000-of-00002` → (`prefix`, 0, 2).
fn shard_name(name: &str) -> Option<(&str, u64, u64)> {
    let (prefix, rest) = name.rsplit_once(".data-")?;
    let (shard, count) = rest.split_once("-of-")?;
    let five_digits = |s: &str| s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit());
    if prefix.is_empty() || !five_digits(shard) || !five_digits(count) {
        return None;
    }
    let (shard, count) = (shard.parse().ok()?, count.parse().ok()?);
    (shard < count).then_some((prefix, shard, count))
}

/// Whether `path` ends with the footer magic the policy table gives TensorFlow indexes.
fn sibling_is_index(path: &Path, formats: &[super::FormatSpec]) -> io::Result<bool> {
    let Ok(mut file) = File::open(path) else {
        return Ok(false);
    };
    let size = file.metadata()?.len();
    for spec in formats.iter().filter(|s| s.check == Check::TensorflowIndex) {
        for magic in &spec.magic {
            let Some(at) = size.checked_sub(magic.offset.unsigned_abs()) else {
                continue;
            };
            if magic.offset >= 0 {
                continue;
            }
            file.seek(SeekFrom::Start(at))?;
            let mut bytes = vec![0u8; magic.hex.len()];
            if file.read_exact(&mut bytes).is_ok() && bytes == magic.hex {
                return Ok(true);
            }
        }
    }
    Ok(false)
}
