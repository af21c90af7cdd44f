//! GGUF: the tensor infos (`scan::formats::gguf`) give each tensor's ggml type, dimensions and
//! offset in the aligned data section. Dimensions are stored fastest-varying first (`ne[0]`);
//! they are reported reversed, row-major like NumPy's and safetensors' shapes, as gguf-py's
//! reader reshapes them, so a GGUF compares with its safetensors source.

use std::fs::File;
use std::path::Path;

use crate::scan::formats::Limits;
use crate::scan::formats::gguf::{ggml_type_name, layout};
use crate::verify::dtype::Dtype;
use crate::verify::tensors::{DataRef, TensorInfo};

pub(super) fn tensors(
    path: &Path,
    file: &mut File,
    size: u64,
    limits: &Limits,
    max_tensors: usize,
) -> Result<Vec<TensorInfo>, String> {
    let layout = layout(file, size, limits, max_tensors)?;
    let mut tensors = Vec::new();
    for info in layout.tensors {
        let dtype = Dtype::from_ggml(info.ggml_type).ok_or_else(|| {
            format!(
                "tensor {}: ggml type {} is not one verify dequantises (F32, F16, BF16, Q8_0, \
                 Q4_0, Q4_K, I8–I64, F64)",
                info.name,
                ggml_type_name(info.ggml_type)
            )
        })?;
        let mut tensor = TensorInfo {
            name: info.name,
            shape: info.dims.iter().rev().copied().collect(),
            dtype,
            big_endian: layout.big_endian,
            data: Err(String::new()),
        };
        let len = tensor
            .elements()
            .and_then(|n| dtype.bytes_for(n))
            .ok_or_else(|| {
                format!(
                    "tensor {}: shape {:?} is not whole {} blocks",
                    tensor.name,
                    tensor.shape,
                    dtype.name()
                )
            })?;
        let offset = layout
            .data_start
            .checked_add(info.offset)
            .ok_or_else(|| format!("tensor {}: offset overflows", tensor.name))?;
        super::check_range(&tensor, offset, len, size)?;
        tensor.data = Ok(DataRef {
            path: path.to_path_buf(),
            member: None,
            offset,
            len,
            chunked: None,
        });
        tensors.push(tensor);
    }
    Ok(tensors)
}
