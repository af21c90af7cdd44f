//! NumPy `.npy` (one tensor, named after the file) and `.npz` (a zip of `.npy` members, each
//! named as `np.load` names it: the member name without `.npy`). Headers are parsed by
//! `scan::formats::numpy`, never evaluated.

use std::fs::File;
use std::path::Path;

use crate::scan::formats::Limits;
use crate::scan::formats::numpy::{NpyArray, read_array_header};
use crate::verify::dtype::Dtype;
use crate::verify::tensors::{DataRef, Member, TensorInfo, Values};

pub(super) fn npy(
    path: &Path,
    file: &mut File,
    limits: &Limits,
) -> Result<Vec<TensorInfo>, String> {
    use std::io::Seek;
    file.rewind().map_err(|e| format!("cannot read: {e}"))?;
    let size = file
        .metadata()
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    let array = read_array_header(file, limits)?;
    let name = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let tensor = tensor(path, name, array, None, size)?;
    Ok(vec![tensor])
}

pub(super) fn npz(path: &Path, file: File, limits: &Limits) -> Result<Vec<TensorInfo>, String> {
    let mut tensors = Vec::new();
    for entry in super::zip_entries(file, limits)? {
        let Some(name) = entry.name.strip_suffix(".npy") else {
            return Err(format!("npz member {} is not an .npy array", entry.name));
        };
        // The header is read through the member's own (maybe deflating) stream.
        let probe = DataRef {
            path: path.to_path_buf(),
            member: Some(entry.member.clone()),
            offset: 0,
            len: entry.size,
            chunked: None,
        };
        let mut reader =
            Values::raw(&probe).map_err(|e| format!("npz member {}: {e}", entry.name))?;
        let array = read_array_header(&mut reader, limits)
            .map_err(|e| format!("npz member {}: {e}", entry.name))?;
        tensors.push(tensor(
            path,
            name.to_string(),
            array,
            Some(entry.member),
            entry.size,
        )?);
    }
    Ok(tensors)
}

/// The tensor an `.npy` header describes, its data from `data_offset` to the end of the file
/// or member of `size` bytes.
fn tensor(
    path: &Path,
    name: String,
    array: NpyArray,
    member: Option<Member>,
    size: u64,
) -> Result<TensorInfo, String> {
    let descr = array.descr.ok_or_else(|| {
        format!("array {name}: a structured dtype, which verify does not compare")
    })?;
    let (dtype, big_endian) = Dtype::from_numpy(&descr)
        .ok_or_else(|| format!("array {name}: dtype {descr:?} is not one verify decodes"))?;
    let mut info = TensorInfo {
        name,
        shape: array.shape,
        dtype,
        big_endian,
        data: Err(String::new()),
    };
    let len = info
        .elements()
        .and_then(|n| dtype.bytes_for(n))
        .ok_or_else(|| format!("array {}: shape {:?} overflows", info.name, info.shape))?;
    super::check_range(&info, array.data_offset, len, size)?;
    info.data = if array.fortran_order && info.shape.iter().filter(|&&d| d > 1).count() > 1 {
        Err("Fortran (column-major) order, which verify does not compare".into())
    } else {
        Ok(DataRef {
            path: path.to_path_buf(),
            member,
            offset: array.data_offset,
            len,
            chunked: None,
        })
    };
    Ok(info)
}
