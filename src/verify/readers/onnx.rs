//! ONNX: the initializers of the graph (`scan::formats::protobuf`), each a `TensorProto`
//! whose values are `raw_data` or a packed `float_data`/`double_data`, little-endian.

use std::fs::File;
use std::path::Path;

use crate::scan::formats::Limits;
use crate::scan::formats::protobuf::{onnx_initializers, onnx_type_name};
use crate::verify::dtype::Dtype;
use crate::verify::tensors::{DataRef, TensorInfo};

pub(super) fn tensors(
    path: &Path,
    file: &mut File,
    size: u64,
    limits: &Limits,
    max_tensors: usize,
) -> Result<Vec<TensorInfo>, String> {
    let mut tensors = Vec::new();
    for init in onnx_initializers(file, size, limits, max_tensors)? {
        let dtype = Dtype::from_onnx(init.data_type).ok_or_else(|| {
            format!(
                "initializer {}: data type {} is not one verify decodes",
                init.name,
                onnx_type_name(init.data_type)
            )
        })?;
        let mut tensor = TensorInfo {
            name: init.name,
            shape: init.dims,
            dtype,
            big_endian: false,
            data: Err(String::new()),
        };
        tensor.data = match init.data {
            Ok((offset, len)) => {
                super::check_range(&tensor, offset, len, size)?;
                Ok(DataRef {
                    path: path.to_path_buf(),
                    member: None,
                    offset,
                    len,
                    chunked: None,
                })
            }
            Err(reason) => Err(format!(
                "values stored as {reason}, which verify does not read"
            )),
        };
        tensors.push(tensor);
    }
    Ok(tensors)
}
