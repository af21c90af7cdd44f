//! safetensors: the header (`scan::formats::safetensors`) gives each tensor's dtype, shape
//! and byte range of the data buffer that follows it.

use std::path::Path;

use crate::scan::formats::Limits;
use crate::scan::formats::safetensors::{Entry, read_header};
use crate::verify::dtype::Dtype;
use crate::verify::tensors::{DataRef, TensorInfo};

pub(super) fn tensors(path: &Path, size: u64, limits: &Limits) -> Result<Vec<TensorInfo>, String> {
    let (header, data_start) = read_header(path, limits)?;
    let mut tensors = Vec::new();
    for (name, value) in &header {
        if name == "__metadata__" {
            continue;
        }
        let entry = Entry::parse(name, value)
            .ok_or_else(|| format!("tensor {name}: not a {{dtype, shape, data_offsets}} entry"))?;
        let dtype = Dtype::from_safetensors(&entry.dtype).ok_or_else(|| {
            format!(
                "tensor {name}: dtype {} is not one verify decodes",
                entry.dtype
            )
        })?;
        let len = entry
            .end
            .checked_sub(entry.begin)
            .ok_or_else(|| format!("tensor {name}: data_offsets end before they begin"))?;
        let mut info = TensorInfo {
            name: entry.name,
            shape: entry.shape,
            dtype,
            big_endian: false,
            data: Err(String::new()),
        };
        let offset = data_start + entry.begin;
        super::check_range(&info, offset, len, size)?;
        info.data = Ok(DataRef {
            path: path.to_path_buf(),
            member: None,
            offset,
            len,
            chunked: None,
        });
        tensors.push(info);
    }
    Ok(tensors)
}
