//! PyTorch `torch.save` zip checkpoints, without unpickling: `data.pkl` is walked by `scan`'s
//! opcode walker (`scan::pickle::torch_tensors`), which follows the persistent ids of storages
//! and the `_rebuild_tensor_v2` calls to each tensor's storage key, dtype, offset, size and
//! stride; the bytes are the stored member `<archive>/data/<key>`. A `data.pkl` the walk finds
//! unsafe is refused: what it describes is not trusted.

use std::fs::File;
use std::path::Path;

use crate::scan::ScanContext;
use crate::scan::pickle::{Verdict, torch_tensors};
use crate::verify::dtype::Dtype;
use crate::verify::tensors::{DataRef, TensorInfo, Values};

pub(super) fn tensors(
    path: &Path,
    file: File,
    ctx: &ScanContext,
    max_tensors: usize,
) -> Result<Vec<TensorInfo>, String> {
    let entries = super::zip_entries(file, &ctx.formats.limits)?;
    let pickle = entries
        .iter()
        .find(|e| e.name.ends_with("/data.pkl") && e.name.matches('/').count() == 1)
        .ok_or("a PyTorch zip without <archive>/data.pkl")?;
    let prefix = pickle.name.trim_end_matches("data.pkl");
    if let Some(order) = entries
        .iter()
        .find(|e| e.name == format!("{prefix}byteorder"))
        && order.size != "little".len() as u64
    {
        return Err(
            "a big-endian PyTorch checkpoint (byteorder), which verify does not read".into(),
        );
    }
    let stream = Values::raw(&DataRef {
        path: path.to_path_buf(),
        member: Some(pickle.member.clone()),
        offset: 0,
        len: pickle.size,
        chunked: None,
    })
    .map_err(|e| format!("{}: {e}", pickle.name))?;
    let (layouts, report) = torch_tensors(&ctx.pickle, stream, max_tensors);
    if report.verdict == Verdict::Unsafe {
        return Err(format!(
            "{} is unsafe, so its tensor layout is not trusted: {}",
            pickle.name,
            report.reasons.join("; ")
        ));
    }
    let mut tensors = Vec::with_capacity(layouts.len());
    for (index, layout) in layouts.into_iter().enumerate() {
        let name = layout.name.unwrap_or_else(|| format!("tensor{index}"));
        let dtype = Dtype::from_torch_storage(&layout.storage_class).ok_or_else(|| {
            format!(
                "tensor {name}: storage {} is not one verify decodes",
                layout.storage_class
            )
        })?;
        let member_name = format!("{prefix}data/{}", layout.storage_key);
        let storage = entries
            .iter()
            .find(|e| e.name == member_name)
            .ok_or_else(|| format!("tensor {name}: no storage member {member_name}"))?;
        let mut info = TensorInfo {
            name,
            shape: layout.size,
            dtype,
            big_endian: false,
            data: Err(String::new()),
        };
        let item = dtype.block().0 as u64;
        let elements = info
            .elements()
            .ok_or_else(|| format!("tensor {}: shape overflows", info.name))?;
        let offset = layout.offset.checked_mul(item);
        let len = elements * item;
        info.data = if !is_contiguous(&info.shape, &layout.stride) {
            Err(format!(
                "stride {:?} is not row-major contiguous for shape {:?}, which verify does not compare",
                layout.stride, info.shape
            ))
        } else {
            let offset = offset.ok_or_else(|| format!("tensor {}: offset overflows", info.name))?;
            super::check_range(&info, offset, len, storage.size)?;
            Ok(DataRef {
                path: path.to_path_buf(),
                member: Some(storage.member.clone()),
                offset,
                len,
                chunked: None,
            })
        };
        tensors.push(info);
    }
    Ok(tensors)
}

/// Whether `stride` walks `shape` in row-major order without gaps (dimensions of size 1 may
/// have any stride, as PyTorch allows).
fn is_contiguous(shape: &[u64], stride: &[u64]) -> bool {
    if shape.len() != stride.len() {
        return false;
    }
    let mut expected = 1u64;
    for (&dim, &step) in shape.iter().zip(stride).rev() {
        if dim != 1 && step != expected {
            return false;
        }
        expected = expected.saturating_mul(dim);
    }
    true
}
