//! Tensor readers, one per format: each lists a file's tensors with where their bytes are,
//! from the header parsers `scan` identifies the formats with (one parser per header, serving
//! both), and never reads tensor data itself.
//!
//! The format is decided by content, by `scan`'s identification; a format without a reader
//! here is an error naming it.

mod gguf;
pub mod hdf5;
mod numpy;
mod onnx;
mod pytorch;
mod safetensors;

use std::fs::File;
use std::path::Path;

use crate::scan::ScanContext;

use super::VerifyLimits;
use super::tensors::TensorInfo;

/// A file opened as tensors.
pub struct TensorFile {
    pub format: String,
    pub tensors: Vec<TensorInfo>,
}

/// The formats with a tensor reader, as `scan` names them.
pub const READABLE: &[&str] = &[
    "safetensors",
    "gguf",
    "npy",
    "npz",
    "onnx",
    "pytorch",
    "hdf5",
    "keras",
];

/// Lists the tensors of the weight file at `path`. The error says what the file is and why it
/// cannot be read as tensors.
pub fn open(path: &Path, ctx: &ScanContext, verify: &VerifyLimits) -> Result<TensorFile, String> {
    let max_tensors = verify.max_tensors;
    let mut file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let size = file
        .metadata()
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    let name = path.to_string_lossy();
    let identified = crate::scan::formats::identify(
        &ctx.formats,
        &ctx.pickle,
        &mut file,
        size,
        &name,
        Some(path),
    )
    .map_err(|e| format!("cannot read: {e}"))?
    .ok_or("not a weight file in a known format")?;
    let limits = &ctx.formats.limits;
    let tensors = match identified.format.as_str() {
        "safetensors" => safetensors::tensors(path, size, limits)?,
        "gguf" => gguf::tensors(path, &mut file, size, limits, max_tensors)?,
        "npy" => numpy::npy(path, &mut file, limits)?,
        "npz" => numpy::npz(path, file, limits)?,
        "onnx" => onnx::tensors(path, &mut file, size, limits, max_tensors)?,
        "pytorch" => pytorch::tensors(path, file, ctx, max_tensors)?,
        "hdf5" => hdf5::tensors(path, &mut file, 0, size, verify)?,
        "keras" => hdf5::keras(path, file, verify, limits)?,
        other => {
            return Err(format!(
                "a {other} file: verify compares tensors of {} files only",
                READABLE.join(", ")
            ));
        }
    };
    if tensors.len() > max_tensors {
        return Err(format!(
            "{} tensors, more than max-tensors ({max_tensors}) in policy/verify.toml",
            tensors.len()
        ));
    }
    Ok(TensorFile {
        format: identified.format,
        tensors,
    })
}

/// Checks that `len` bytes at `offset` lie within `size` and are what `elements` values of
/// the tensor's type take; the error names the tensor.
fn check_range(info: &TensorInfo, offset: u64, len: u64, size: u64) -> Result<(), String> {
    let expected = info
        .elements()
        .and_then(|n| info.dtype.bytes_for(n))
        .ok_or_else(|| {
            format!(
                "tensor {}: shape {:?} is not whole {} blocks",
                info.name,
                info.shape,
                info.dtype.name()
            )
        })?;
    if expected != len {
        return Err(format!(
            "tensor {}: {len} bytes of data for shape {:?} of {}, which takes {expected}",
            info.name,
            info.shape,
            info.dtype.name()
        ));
    }
    if offset.checked_add(len).is_none_or(|end| end > size) {
        return Err(format!(
            "tensor {}: data at bytes {offset}+{len} runs past the end ({size} bytes)",
            info.name
        ));
    }
    Ok(())
}

/// A zip member: its name, where its data is, and its uncompressed size.
struct ZipEntry {
    name: String,
    member: super::tensors::Member,
    size: u64,
}

/// The members of the zip `file`, at most `npz-members-max` (`policy/formats.toml`), stored or
/// deflated (the methods NumPy and PyTorch write).
fn zip_entries(file: File, limits: &crate::scan::formats::Limits) -> Result<Vec<ZipEntry>, String> {
    let mut archive = zip::ZipArchive::new(file).map_err(|e| format!("not a readable zip: {e}"))?;
    if archive.len() > limits.npz_members_max {
        return Err(format!(
            "{} zip members, more than npz-members-max ({}) in policy/formats.toml",
            archive.len(),
            limits.npz_members_max
        ));
    }
    let mut entries = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let member = archive
            .by_index_raw(index)
            .map_err(|e| format!("zip member {index}: {e}"))?;
        let name = member
            .name()
            .map_err(|e| format!("zip member {index}: {e}"))?
            .into_owned();
        let deflated = match member.compression() {
            zip::CompressionMethod::Stored => false,
            zip::CompressionMethod::Deflated => true,
            other => {
                return Err(format!(
                    "zip member {name}: compression {other}, not stored or deflated"
                ));
            }
        };
        let data_start = member
            .data_start()
            .ok_or_else(|| format!("zip member {name}: no local header"))?;
        entries.push(ZipEntry {
            name,
            member: super::tensors::Member {
                data_start,
                compressed_size: member.compressed_size(),
                deflated,
            },
            size: member.size(),
        });
    }
    Ok(entries)
}
