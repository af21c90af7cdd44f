//! Protobuf-encoded models: ONNX `ModelProto`, Caffe `NetParameter`, TensorFlow `SavedModel`.
//!
//! Protobuf has no signature, so a file is taken for one of these messages only when the whole
//! of it parses as that message: every field number known where it matters, with the wire type
//! the schema gives it, every length inside its parent. The walk streams through the file and
//! skips payloads (tensor data) with seeks; it descends only into the small messages that hold
//! shapes and types.

use std::io::{self, BufReader, Read, Seek, SeekFrom};

use super::{Details, Probe, invalid};

/// One field's wire value. Length-delimited payloads are left unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    Varint(u64),
    Fixed64,
    Fixed32,
    Len(u64),
}

/// A streaming reader of protobuf fields with a budget on how many it will read.
struct Wire<R> {
    reader: BufReader<R>,
    pos: u64,
    fields_left: u64,
    /// The budget ran out: the walk stopped early, counts are incomplete.
    exhausted: bool,
}

impl<R: Read + Seek> Wire<R> {
    fn new(mut file: R, budget: u64) -> io::Result<Self> {
        file.seek(SeekFrom::Start(0))?;
        Ok(Self {
            reader: BufReader::new(file),
            pos: 0,
            fields_left: budget,
            exhausted: false,
        })
    }

    fn byte(&mut self) -> io::Result<u8> {
        let mut b = [0u8; 1];
        self.reader.read_exact(&mut b)?;
        self.pos += 1;
        Ok(b[0])
    }

    fn varint(&mut self, end: u64) -> io::Result<u64> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            if self.pos >= end {
                return Err(invalid("varint runs past the end of its message"));
            }
            let b = self.byte()?;
            value |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(invalid("varint longer than 10 bytes"))
    }

    fn skip(&mut self, n: u64, end: u64) -> io::Result<()> {
        let next = self
            .pos
            .checked_add(n)
            .filter(|&next| next <= end)
            .ok_or_else(|| invalid("field runs past the end of its message"))?;
        self.reader
            .seek_relative(i64::try_from(n).map_err(|_| invalid("field too long"))?)?;
        self.pos = next;
        Ok(())
    }

    /// The next field of the message ending at `end`, or `None` at its end (or when the
    /// budget runs out). Fixed-width values are skipped; a `Len` payload starts at `self.pos`
    /// and must be skipped or walked by the caller.
    fn field(&mut self, end: u64) -> io::Result<Option<(u64, Value)>> {
        if self.pos >= end {
            return Ok(None);
        }
        if self.fields_left == 0 {
            self.exhausted = true;
            return Ok(None);
        }
        self.fields_left -= 1;
        let tag = self.varint(end)?;
        let number = tag >> 3;
        if number == 0 || number > 0x1fff_ffff {
            return Err(invalid(format!("field number {number}")));
        }
        let value = match tag & 7 {
            0 => Value::Varint(self.varint(end)?),
            1 => {
                self.skip(8, end)?;
                Value::Fixed64
            }
            2 => {
                let len = self.varint(end)?;
                if self.pos.checked_add(len).is_none_or(|e| e > end) {
                    return Err(invalid("length runs past the end of its message"));
                }
                Value::Len(len)
            }
            5 => {
                self.skip(4, end)?;
                Value::Fixed32
            }
            other => return Err(invalid(format!("wire type {other}"))),
        };
        Ok(Some((number, value)))
    }

    /// Skips a field's payload when it is length-delimited.
    fn skip_value(&mut self, value: Value, end: u64) -> io::Result<()> {
        match value {
            Value::Len(len) => self.skip(len, end),
            _ => Ok(()),
        }
    }

    /// Integers of a repeated integer field, packed or not, handed to `each` as they are read:
    /// a packed field holds up to one integer per byte, never collected.
    fn integers(&mut self, value: Value, mut each: impl FnMut(u64)) -> io::Result<()> {
        match value {
            Value::Varint(v) => each(v),
            Value::Len(len) => {
                let packed_end = self.pos + len;
                while self.pos < packed_end {
                    each(self.varint(packed_end)?);
                }
            }
            _ => return Err(invalid("integer field with a fixed-width wire type")),
        }
        Ok(())
    }
}

fn is_len(value: Value) -> bool {
    matches!(value, Value::Len(_))
}

fn is_varint(value: Value) -> bool {
    matches!(value, Value::Varint(_))
}

/// Tallies of tensors found while walking.
#[derive(Default)]
struct Tally {
    details: Details,
    tensors: u64,
    parameters: Option<u64>,
}

impl Tally {
    fn new() -> Self {
        Self {
            parameters: Some(0),
            ..Self::default()
        }
    }

    fn add(&mut self, elements: Option<u64>, dtype: Option<String>) {
        self.tensors += 1;
        self.parameters = self
            .parameters
            .zip(elements)
            .and_then(|(sum, n)| sum.checked_add(n));
        if let Some(dtype) = dtype {
            self.details.add_dtype(dtype);
        }
    }

    /// The details to report; no counts when the walk stopped early.
    fn finish(mut self, exhausted: bool, note: String) -> Details {
        if exhausted {
            self.details.note = Some(format!("{note}; too many fields to count tensors"));
        } else {
            self.details.note = Some(note);
            self.details.tensors = Some(self.tensors);
            self.details.parameters = self.parameters;
        }
        self.details
    }
}

/// ONNX `ModelProto`: `ir_version` (field 1) first, as every writer emits it, and a `graph`
/// (field 7); initializers (graph field 5) are counted with their dims and data types.
pub(super) fn check_onnx<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    if probe.head.first() != Some(&0x08) {
        return Ok(None);
    }
    let size = probe.size;
    let mut wire = Wire::new(&mut *probe.file, probe.limits.protobuf_fields_max)?;
    let mut ir_version = None;
    let mut has_graph = false;
    let mut tally = Tally::new();
    while let Some((number, value)) = wire.field(size)? {
        let expected = match number {
            1 | 5 => is_varint(value),
            2 | 3 | 4 | 6 | 7 | 8 | 14 | 20 | 25 | 26 => is_len(value),
            _ => false,
        };
        if !expected {
            return Ok(None);
        }
        match (number, value) {
            (1, Value::Varint(v)) => ir_version = Some(v),
            (7, Value::Len(len)) => {
                has_graph = true;
                let end = wire.pos + len;
                onnx_graph(&mut wire, end, &mut tally)?;
            }
            _ => wire.skip_value(value, size)?,
        }
    }
    // ONNX IR versions run from 1 (2017) to about a dozen today; leave room for growth.
    let Some(ir_version) = ir_version.filter(|v| (1..=100).contains(v)) else {
        return Ok(None);
    };
    if !has_graph {
        return Ok(None);
    }
    let exhausted = wire.exhausted;
    Ok(Some(tally.finish(
        exhausted,
        format!("ONNX IR version {ir_version}"),
    )))
}

fn onnx_graph<R: Read + Seek>(wire: &mut Wire<R>, end: u64, tally: &mut Tally) -> io::Result<()> {
    while let Some((number, value)) = wire.field(end)? {
        match (number, value) {
            (5, Value::Len(len)) => {
                let tensor_end = wire.pos + len;
                // The element count is folded as the dims arrive (`None` on overflow).
                let (mut count, mut data_type) = (Some(1u64), None);
                while let Some((number, value)) = wire.field(tensor_end)? {
                    match number {
                        1 => wire.integers(value, |d| {
                            count = count.and_then(|c| c.checked_mul(d));
                        })?,
                        2 => match value {
                            Value::Varint(v) => data_type = Some(v),
                            _ => return Err(invalid("TensorProto.data_type is not a varint")),
                        },
                        _ => wire.skip_value(value, tensor_end)?,
                    }
                }
                if wire.exhausted {
                    return Ok(());
                }
                tally.add(count, data_type.map(onnx_type_name));
            }
            (1 | 2 | 5 | 10 | 11 | 12 | 13 | 14 | 15 | 16, value) if !is_len(value) => {
                return Err(invalid(format!(
                    "GraphProto field {number} is not length-delimited"
                )));
            }
            _ => wire.skip_value(value, end)?,
        }
    }
    Ok(())
}

/// One ONNX initializer (`GraphProto.initializer`, a `TensorProto`) for `verify`: its name,
/// dims, data type and where its values are in the file.
#[derive(Debug, Clone)]
pub struct OnnxInitializer {
    pub name: String,
    pub dims: Vec<u64>,
    pub data_type: u64,
    /// Byte range of the little-endian values: `raw_data`, or a packed `float_data` or
    /// `double_data` (fixed-width, so packed they are the same bytes); `Err` with the reason
    /// for layouts read no further (external data, varint-coded `int32_data`/`int64_data`).
    pub data: Result<(u64, u64), String>,
}

/// The initializers of the ONNX model in `file` of `size` bytes, at most `max_tensors`, walked
/// with the bounded reader of identification (`protobuf-fields-max`); the error says what is
/// wrong.
pub fn onnx_initializers<R: Read + Seek>(
    file: &mut R,
    size: u64,
    limits: &super::Limits,
    max_tensors: usize,
) -> Result<Vec<OnnxInitializer>, String> {
    let mut walk = || -> io::Result<Vec<OnnxInitializer>> {
        let mut wire = Wire::new(&mut *file, limits.protobuf_fields_max)?;
        let mut found = Vec::new();
        while let Some((number, value)) = wire.field(size)? {
            let Value::Len(len) = value else { continue };
            if number != 7 {
                wire.skip(len, size)?;
                continue;
            }
            let graph_end = wire.pos + len;
            while let Some((number, value)) = wire.field(graph_end)? {
                match (number, value) {
                    (5, Value::Len(len)) => {
                        if found.len() >= max_tensors {
                            return Err(invalid(format!(
                                "more than max-tensors ({max_tensors}) initializers in policy/verify.toml"
                            )));
                        }
                        let end = wire.pos + len;
                        found.push(onnx_initializer(&mut wire, end)?);
                    }
                    _ => wire.skip_value(value, graph_end)?,
                }
            }
        }
        if wire.exhausted {
            return Err(invalid(
                "more protobuf fields than protobuf-fields-max in policy/formats.toml",
            ));
        }
        Ok(found)
    };
    walk().map_err(|e| format!("malformed ONNX model: {e}"))
}

fn onnx_initializer<R: Read + Seek>(wire: &mut Wire<R>, end: u64) -> io::Result<OnnxInitializer> {
    let mut tensor = OnnxInitializer {
        name: String::new(),
        dims: Vec::new(),
        data_type: 0,
        data: Err("no raw_data, float_data or double_data".into()),
    };
    while let Some((number, value)) = wire.field(end)? {
        match (number, value) {
            (1, _) => wire.integers(value, |d| tensor.dims.push(d))?,
            (2, Value::Varint(v)) => tensor.data_type = v,
            (8, Value::Len(len)) => {
                if len > 4096 {
                    return Err(invalid("an initializer name longer than 4096 bytes"));
                }
                let mut name = vec![0u8; len as usize];
                wire.reader.read_exact(&mut name)?;
                wire.pos += len;
                tensor.name = String::from_utf8_lossy(&name).into_owned();
            }
            // raw_data; packed float_data (fixed32) and double_data (fixed64).
            (9 | 4 | 10, Value::Len(len)) => {
                tensor.data = Ok((wire.pos, len));
                wire.skip(len, end)?;
            }
            (4 | 10, _) => tensor.data = Err("unpacked float_data or double_data".into()),
            (5 | 7 | 11, _) => {
                tensor.data = Err("varint-coded int32_data, int64_data or uint64_data".into());
                wire.skip_value(value, end)?;
            }
            (13, _) => {
                tensor.data = Err("external_data (values in another file)".into());
                wire.skip_value(value, end)?;
            }
            _ => wire.skip_value(value, end)?,
        }
    }
    Ok(tensor)
}

/// ONNX `TensorProto` on its own (onnx/onnx.proto; written by `numpy_helper.from_array` and
/// saved as the backend test suite's `input_N.pb`/`output_N.pb`): `dims` (1), `data_type` (2)
/// and `raw_data` (9) whose length is exactly the dims' product times the element size, every
/// other field one the schema lists with its wire type. A tensor of test inputs or outputs is
/// data, not a model: the entry is of class `other`, so the file is never reported.
pub(super) fn check_onnx_tensor<R: Read + Seek>(
    probe: &mut Probe<R>,
) -> io::Result<Option<Details>> {
    // Every writer emits `dims` first; a scalar has none and starts with `data_type`.
    if !matches!(probe.head.first(), Some(0x08 | 0x0a | 0x10)) {
        return Ok(None);
    }
    let size = probe.size;
    let mut wire = Wire::new(&mut *probe.file, probe.limits.protobuf_fields_max)?;
    let (mut count, mut data_type, mut raw_len) = (Some(1u64), None, None);
    while let Some((number, value)) = wire.field(size)? {
        match (number, value) {
            (1, _) => wire.integers(value, |d| count = count.and_then(|c| c.checked_mul(d)))?,
            (2, Value::Varint(v)) => data_type = Some(v),
            (9, Value::Len(len)) => {
                raw_len = Some(len);
                wire.skip(len, size)?;
            }
            // segment, float/int32/string/int64 data, name, doc_string, double/uint64 data,
            // external_data, data_location (onnx.proto field numbers).
            (3 | 4 | 5 | 6 | 7 | 8 | 10 | 11 | 12 | 13 | 14, _) => wire.skip_value(value, size)?,
            _ => return Ok(None),
        }
    }
    if wire.exhausted {
        return Ok(None);
    }
    let (Some(data_type), Some(raw_len), Some(count)) = (data_type, raw_len, count) else {
        return Ok(None);
    };
    let Some(element) = onnx_element_size(data_type) else {
        return Ok(None);
    };
    if count.checked_mul(element) != Some(raw_len) {
        return Ok(None);
    }
    Ok(Some(Details::note(format!(
        "ONNX TensorProto: {count} {} values (test data)",
        onnx_type_name(data_type)
    ))))
}

/// Bytes per element of a fixed-size `TensorProto.DataType` in `raw_data`.
fn onnx_element_size(data_type: u64) -> Option<u64> {
    Some(match data_type {
        2 | 3 | 9 | 17..=20 => 1,
        4 | 5 | 10 | 16 => 2,
        1 | 6 | 12 => 4,
        7 | 11 | 13 | 14 => 8,
        15 => 16,
        _ => return None,
    })
}

/// `TensorProto.DataType`, lower-case.
pub fn onnx_type_name(data_type: u64) -> String {
    let name = match data_type {
        1 => "float32",
        2 => "uint8",
        3 => "int8",
        4 => "uint16",
        5 => "int16",
        6 => "int32",
        7 => "int64",
        8 => "string",
        9 => "bool",
        10 => "float16",
        11 => "float64",
        12 => "uint32",
        13 => "uint64",
        14 => "complex64",
        15 => "complex128",
        16 => "bfloat16",
        17 => "float8e4m3fn",
        18 => "float8e4m3fnuz",
        19 => "float8e5m2",
        20 => "float8e5m2fnuz",
        21 => "uint4",
        22 => "int4",
        23 => "float4e2m1",
        other => return format!("onnx-type-{other}"),
    };
    name.to_string()
}

/// Caffe `NetParameter`: only its known top-level fields, at least one layer (`layer` = 100, or
/// V1 `layers` = 2); each layer's blobs are counted with their values.
pub(super) fn check_caffe<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let size = probe.size;
    let mut wire = Wire::new(&mut *probe.file, probe.limits.protobuf_fields_max)?;
    let mut layers = 0u64;
    let mut tally = Tally::new();
    while let Some((number, value)) = wire.field(size)? {
        let expected = match number {
            1 | 2 | 3 | 6 | 8 | 100 => is_len(value),
            4 => is_len(value) || is_varint(value),
            5 | 7 => is_varint(value),
            _ => false,
        };
        if !expected {
            return Ok(None);
        }
        match (number, value) {
            (100 | 2, Value::Len(len)) => {
                layers += 1;
                let end = wire.pos + len;
                // Blobs are field 7 of LayerParameter, field 6 of the V1 layer.
                let blobs_field = if number == 100 { 7 } else { 6 };
                caffe_layer(&mut wire, end, blobs_field, &mut tally)?;
            }
            _ => wire.skip_value(value, size)?,
        }
    }
    if layers == 0 {
        return Ok(None);
    }
    let exhausted = wire.exhausted;
    Ok(Some(tally.finish(
        exhausted,
        format!("Caffe network of {layers} layer(s)"),
    )))
}

fn caffe_layer<R: Read + Seek>(
    wire: &mut Wire<R>,
    end: u64,
    blobs_field: u64,
    tally: &mut Tally,
) -> io::Result<()> {
    let mut named = false;
    while let Some((number, value)) = wire.field(end)? {
        match (number, value) {
            (n, Value::Len(len)) if n == blobs_field => {
                let blob_end = wire.pos + len;
                caffe_blob(wire, blob_end, tally)?;
            }
            // LayerParameter.name is field 1, V1's is field 4.
            (1 | 4, Value::Len(_)) => {
                named = true;
                wire.skip_value(value, end)?;
            }
            _ => wire.skip_value(value, end)?,
        }
    }
    if !named && !wire.exhausted {
        return Err(invalid("Caffe layer without a name"));
    }
    Ok(())
}

/// `BlobProto`: values in `data` (5, float) or `double_data` (8), packed or one per field.
fn caffe_blob<R: Read + Seek>(wire: &mut Wire<R>, end: u64, tally: &mut Tally) -> io::Result<()> {
    let (mut floats, mut doubles) = (0u64, 0u64);
    while let Some((number, value)) = wire.field(end)? {
        match (number, value) {
            (5, Value::Len(len)) => floats += len / 4,
            (5, Value::Fixed32) => floats += 1,
            (8, Value::Len(len)) => doubles += len / 8,
            (8, Value::Fixed64) => doubles += 1,
            _ => {}
        }
        wire.skip_value(value, end)?;
    }
    if doubles > 0 {
        tally.add(Some(doubles), Some("float64".into()));
    } else {
        tally.add(Some(floats), Some("float32".into()));
    }
    Ok(())
}

/// TensorFlow `SavedModel`: `saved_model_schema_version` (1) and `meta_graphs` (2) only.
pub(super) fn saved_model_meta_graphs<R: Read + Seek>(
    file: &mut R,
    size: u64,
    budget: u64,
) -> io::Result<Option<u64>> {
    let mut wire = Wire::new(file, budget)?;
    let mut meta_graphs = 0u64;
    while let Some((number, value)) = wire.field(size)? {
        match (number, value) {
            (1, Value::Varint(_)) => {}
            (2, Value::Len(len)) => {
                meta_graphs += 1;
                wire.skip(len, size)?;
            }
            _ => return Ok(None),
        }
    }
    Ok((meta_graphs > 0).then_some(meta_graphs))
}
