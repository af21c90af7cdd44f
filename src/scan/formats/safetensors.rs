//! safetensors: `u64` LE header length N, N bytes of JSON `{name: {dtype, shape,
//! data_offsets: [begin, end]}, "__metadata__": {…}}`, then the data buffer.
//!
//! Validation follows the reference reader: the header is a JSON object, every tensor's byte
//! range matches its shape and dtype, the ranges tile the buffer from 0 without gaps, and the
//! buffer ends exactly at the end of the file.

use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::Path;

use serde_json::{Map, Value};

use super::{Details, Probe, element_count, le_u64};

pub(super) fn check<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let Some(header_len) = le_u64(&probe.head, 0) else {
        return Ok(None);
    };
    let fits = header_len
        .checked_add(8)
        .is_some_and(|end| end <= probe.size);
    if header_len < 2 || header_len > probe.limits.safetensors_header_max || !fits {
        return Ok(None);
    }
    if probe.head.get(8) != Some(&b'{') {
        return Ok(None);
    }
    let header = probe.read_at(8, header_len as usize)?;
    if !parse_is_bounded(&header, probe.limits) {
        return Ok(Some(Details::note(
            "safetensors header with more JSON values than the policy parses",
        )));
    }
    let Ok(Value::Object(entries)) = serde_json::from_slice::<Value>(&header) else {
        return Ok(None);
    };
    let buffer_len = probe.size - 8 - header_len;
    Ok(describe(&entries, buffer_len))
}

/// The `__metadata__` object of the safetensors file at `path` (string keys and values, as
/// upstream writes a licence or a description there), read within the same bound as
/// identification. `None` when the file is not readable as safetensors.
pub fn metadata(path: &Path, limits: &super::Limits) -> Option<Map<String, Value>> {
    let (mut entries, _) = read_header(path, limits).ok()?;
    match entries.remove("__metadata__")? {
        Value::Object(metadata) => Some(metadata),
        _ => None,
    }
}

/// The header object of the safetensors file at `path` and where its data buffer starts,
/// read within the bound of identification: a header claiming more than
/// `limits.safetensors_header_max` bytes, or more JSON values than the policy parses, is
/// refused, never allocated. The error says why, for `verify`'s messages.
pub fn read_header(
    path: &Path,
    limits: &super::Limits,
) -> Result<(Map<String, Value>, u64), String> {
    let mut file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut length = [0u8; 8];
    file.read_exact(&mut length)
        .map_err(|_| "shorter than a safetensors header".to_string())?;
    let length = u64::from_le_bytes(length);
    if length > limits.safetensors_header_max {
        return Err(format!(
            "safetensors header of {length} bytes, over safetensors-header-max ({}) in policy/formats.toml",
            limits.safetensors_header_max
        ));
    }
    let mut header = Vec::new();
    file.take(length)
        .read_to_end(&mut header)
        .map_err(|e| format!("cannot read the header: {e}"))?;
    if header.len() as u64 != length {
        return Err("the safetensors header runs past the end of the file".into());
    }
    if !parse_is_bounded(&header, limits) {
        return Err("safetensors header with more JSON values than the policy parses".into());
    }
    match serde_json::from_slice::<Value>(&header) {
        Ok(Value::Object(entries)) => Ok((entries, 8 + length)),
        _ => Err("the safetensors header is not a JSON object".into()),
    }
}

/// One tensor of a safetensors header: `name: {dtype, shape, data_offsets: [begin, end]}`.
pub struct Entry {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<u64>,
    pub begin: u64,
    pub end: u64,
}

impl Entry {
    /// The entry `name` of a header object; `None` when it is not shaped as one.
    pub fn parse(name: &str, entry: &Value) -> Option<Entry> {
        let entry = entry.as_object()?;
        let dtype = entry.get("dtype")?.as_str()?.to_string();
        let shape: Vec<u64> = entry
            .get("shape")?
            .as_array()?
            .iter()
            .map(Value::as_u64)
            .collect::<Option<_>>()?;
        let offsets = entry.get("data_offsets")?.as_array()?;
        let [begin, end] = offsets.as_slice() else {
            return None;
        };
        Some(Entry {
            name: name.to_string(),
            dtype,
            shape,
            begin: begin.as_u64()?,
            end: end.as_u64()?,
        })
    }
}

/// Whether parsing the JSON `text` into values stays within the policy: no array longer than
/// `safetensors-array-max`, at most `safetensors-values-max` values. Counts separators outside
/// strings, a byte at a time, without allocating.
fn parse_is_bounded(text: &[u8], limits: &super::Limits) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    let mut values = 1usize;
    // Elements so far of each open container; arrays only are bounded.
    let mut open: Vec<(bool, usize)> = Vec::new();
    for &b in text {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            // serde_json refuses nesting deeper than 128 anyway.
            b'[' | b'{' if open.len() >= 128 => return false,
            b'[' | b'{' => open.push((b == b'[', 1)),
            b']' | b'}' => {
                open.pop();
            }
            b',' | b':' => {
                values += 1;
                if let Some((is_array, elements)) = open.last_mut()
                    && b == b','
                {
                    *elements += 1;
                    if *is_array && *elements > limits.safetensors_array_max {
                        return false;
                    }
                }
                if values > limits.safetensors_values_max {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

/// `None` when the JSON is not a safetensors header at all; a note and no counts when it is one
/// but disagrees with the file (truncated or inconsistent), so no wrong count is ever claimed.
fn describe(entries: &Map<String, Value>, buffer_len: u64) -> Option<Details> {
    let mut details = Details::default();
    let mut ranges = Vec::new();
    let mut parameters = 0u64;
    for (name, entry) in entries {
        if name == "__metadata__" {
            entry.as_object()?;
            continue;
        }
        let Entry {
            dtype,
            shape,
            begin,
            end,
            ..
        } = Entry::parse(name, entry)?;
        let dtype = dtype.as_str();
        details.add_dtype(dtype_name(dtype));
        let Some(count) = element_count(shape.iter().copied()) else {
            return Some(Details::note(format!(
                "tensor {name}: shape {shape:?} overflows"
            )));
        };
        if let Some(bits) = dtype_bits(dtype) {
            let expected = count.checked_mul(bits).map(|b| b.div_ceil(8));
            if end < begin || expected != Some(end - begin) {
                return Some(Details::note(format!(
                    "tensor {name}: data_offsets [{begin}, {end}] do not fit shape {shape:?} of {dtype}"
                )));
            }
        }
        parameters = parameters.checked_add(count)?;
        ranges.push((begin, end));
    }
    ranges.sort_unstable();
    let mut expected_start = 0;
    for (begin, end) in &ranges {
        if *begin != expected_start {
            return Some(Details::note(format!(
                "tensor data is not contiguous at byte {expected_start} of the buffer"
            )));
        }
        expected_start = *end;
    }
    if expected_start != buffer_len {
        return Some(Details::note(format!(
            "header describes {expected_start} bytes of tensor data but the file holds {buffer_len}: truncated or padded"
        )));
    }
    details.tensors = Some(ranges.len() as u64);
    details.parameters = Some(parameters);
    Some(details)
}

/// Bits per element of a safetensors dtype; `None` for dtypes this reader does not know, whose
/// byte ranges are then not checked against the shape.
fn dtype_bits(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" | "F8_E4M3FNUZ"
        | "F8_E5M2FNUZ" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        _ => return None,
    })
}

/// The project's lower-case dtype names (NumPy's where NumPy has one).
fn dtype_name(dtype: &str) -> String {
    match dtype {
        "BOOL" => "bool",
        "U8" => "uint8",
        "I8" => "int8",
        "U16" => "uint16",
        "I16" => "int16",
        "U32" => "uint32",
        "I32" => "int32",
        "U64" => "uint64",
        "I64" => "int64",
        "F16" => "float16",
        "BF16" => "bfloat16",
        "F32" => "float32",
        "F64" => "float64",
        "C64" => "complex64",
        other => return other.to_ascii_lowercase().replace("f8_", "float8_"),
    }
    .to_string()
}
