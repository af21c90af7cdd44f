//! Element types of the tensors compared, and their decoding to `f64`.
//!
//! Every value is widened to `f64` before it is compared, so a float16 tensor and its float32
//! original are compared by value. The GGUF quantisation types are dequantised block by block
//! exactly as ggml's reference `dequantize_row_q8_0`, `dequantize_row_q4_0` and
//! `dequantize_row_q4_K` (ggml/src/ggml-quants.c) do, in `f32` arithmetic, so the values are
//! those llama.cpp computes.

/// The element types `verify` decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U64,
    U32,
    U16,
    U8,
    Bool,
    /// ggml `block_q8_0`: an f16 scale `d` and 32 int8 quants; `x = q * d`.
    Q8_0,
    /// ggml `block_q4_0`: an f16 scale `d` and 16 bytes of 4-bit quants; `x = (q - 8) * d`.
    Q4_0,
    /// ggml `block_q4_K`: a 256-element super-block of eight 32-element sub-blocks with 6-bit
    /// scales and mins: f16 `d`, f16 `dmin`, 12 bytes of scales, 128 bytes of quants.
    Q4K,
}

/// Elements in one ggml `QK8_0`/`QK4_0` block.
const QK: usize = 32;
/// Elements in one k-quant super-block (`QK_K`).
const QK_K: usize = 256;

impl Dtype {
    /// The project's lower-case name (NumPy's where NumPy has one, ggml's for its types).
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F64 => "float64",
            Dtype::F32 => "float32",
            Dtype::F16 => "float16",
            Dtype::BF16 => "bfloat16",
            Dtype::I64 => "int64",
            Dtype::I32 => "int32",
            Dtype::I16 => "int16",
            Dtype::I8 => "int8",
            Dtype::U64 => "uint64",
            Dtype::U32 => "uint32",
            Dtype::U16 => "uint16",
            Dtype::U8 => "uint8",
            Dtype::Bool => "bool",
            Dtype::Q8_0 => "q8_0",
            Dtype::Q4_0 => "q4_0",
            Dtype::Q4K => "q4_k",
        }
    }

    /// Bytes and elements of one block: one element for plain types.
    pub fn block(self) -> (usize, usize) {
        match self {
            Dtype::F64 | Dtype::I64 | Dtype::U64 => (8, 1),
            Dtype::F32 | Dtype::I32 | Dtype::U32 => (4, 1),
            Dtype::F16 | Dtype::BF16 | Dtype::I16 | Dtype::U16 => (2, 1),
            Dtype::I8 | Dtype::U8 | Dtype::Bool => (1, 1),
            Dtype::Q8_0 => (2 + QK, QK),
            Dtype::Q4_0 => (2 + QK / 2, QK),
            Dtype::Q4K => (2 + 2 + 12 + QK_K / 2, QK_K),
        }
    }

    /// Bytes that `elements` values take; `None` when they are not whole blocks or overflow.
    pub fn bytes_for(self, elements: u64) -> Option<u64> {
        let (bytes, per_block) = self.block();
        if !elements.is_multiple_of(per_block as u64) {
            return None;
        }
        (elements / per_block as u64).checked_mul(bytes as u64)
    }

    /// From the name safetensors writes in its header.
    pub fn from_safetensors(name: &str) -> Option<Dtype> {
        Some(match name {
            "F64" => Dtype::F64,
            "F32" => Dtype::F32,
            "F16" => Dtype::F16,
            "BF16" => Dtype::BF16,
            "I64" => Dtype::I64,
            "I32" => Dtype::I32,
            "I16" => Dtype::I16,
            "I8" => Dtype::I8,
            "U64" => Dtype::U64,
            "U32" => Dtype::U32,
            "U16" => Dtype::U16,
            "U8" => Dtype::U8,
            "BOOL" => Dtype::Bool,
            _ => return None,
        })
    }

    /// From a NumPy type string such as `<f4`; the flag is whether it is big-endian.
    pub fn from_numpy(descr: &str) -> Option<(Dtype, bool)> {
        let big_endian = descr.starts_with('>');
        let body = descr.trim_start_matches(['<', '>', '|', '=']);
        let dtype = match body {
            "f8" => Dtype::F64,
            "f4" => Dtype::F32,
            "f2" => Dtype::F16,
            "i8" => Dtype::I64,
            "i4" => Dtype::I32,
            "i2" => Dtype::I16,
            "i1" => Dtype::I8,
            "u8" => Dtype::U64,
            "u4" => Dtype::U32,
            "u2" => Dtype::U16,
            "u1" => Dtype::U8,
            "b1" | "?" => Dtype::Bool,
            _ => return None,
        };
        Some((dtype, big_endian))
    }

    /// From ggml's `ggml_type` enum (ggml.h).
    pub fn from_ggml(ggml_type: u32) -> Option<Dtype> {
        Some(match ggml_type {
            0 => Dtype::F32,
            1 => Dtype::F16,
            2 => Dtype::Q4_0,
            8 => Dtype::Q8_0,
            12 => Dtype::Q4K,
            24 => Dtype::I8,
            25 => Dtype::I16,
            26 => Dtype::I32,
            27 => Dtype::I64,
            28 => Dtype::F64,
            30 => Dtype::BF16,
            _ => return None,
        })
    }

    /// From ONNX's `TensorProto.DataType` (onnx/onnx.proto).
    pub fn from_onnx(data_type: u64) -> Option<Dtype> {
        Some(match data_type {
            1 => Dtype::F32,
            2 => Dtype::U8,
            3 => Dtype::I8,
            4 => Dtype::U16,
            5 => Dtype::I16,
            6 => Dtype::I32,
            7 => Dtype::I64,
            9 => Dtype::Bool,
            10 => Dtype::F16,
            11 => Dtype::F64,
            12 => Dtype::U32,
            13 => Dtype::U64,
            16 => Dtype::BF16,
            _ => return None,
        })
    }

    /// From PyTorch's storage class (`torch.FloatStorage`…) as `torch.save` pickles it.
    pub fn from_torch_storage(class: &str) -> Option<Dtype> {
        Some(match class {
            "DoubleStorage" => Dtype::F64,
            "FloatStorage" => Dtype::F32,
            "HalfStorage" => Dtype::F16,
            "BFloat16Storage" => Dtype::BF16,
            "LongStorage" => Dtype::I64,
            "IntStorage" => Dtype::I32,
            "ShortStorage" => Dtype::I16,
            "CharStorage" => Dtype::I8,
            "ByteStorage" => Dtype::U8,
            "BoolStorage" => Dtype::Bool,
            _ => return None,
        })
    }

    /// Decodes whole blocks of `bytes` and appends their values to `out`. A trailing partial
    /// block is ignored (callers read whole blocks).
    pub fn decode(self, bytes: &[u8], big_endian: bool, out: &mut Vec<f64>) {
        let (size, _) = self.block();
        for block in bytes.chunks_exact(size) {
            match self {
                Dtype::Q8_0 => dequantize_q8_0(block, out),
                Dtype::Q4_0 => dequantize_q4_0(block, out),
                Dtype::Q4K => dequantize_q4_k(block, out),
                _ => out.push(scalar(self, block, big_endian)),
            }
        }
    }
}

/// One element of a plain type from its bytes.
fn scalar(dtype: Dtype, bytes: &[u8], big_endian: bool) -> f64 {
    let mut b = [0u8; 8];
    b[..bytes.len()].copy_from_slice(bytes);
    if big_endian {
        b[..bytes.len()].reverse();
    }
    let u16v = u16::from_le_bytes([b[0], b[1]]);
    let u32v = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let u64v = u64::from_le_bytes(b);
    match dtype {
        Dtype::F64 => f64::from_bits(u64v),
        Dtype::F32 => f64::from(f32::from_bits(u32v)),
        Dtype::F16 => f64::from(f16_to_f32(u16v)),
        Dtype::BF16 => f64::from(f32::from_bits(u32::from(u16v) << 16)),
        Dtype::I64 => u64v as i64 as f64,
        Dtype::I32 => f64::from(u32v as i32),
        Dtype::I16 => f64::from(u16v as i16),
        Dtype::I8 => f64::from(b[0] as i8),
        Dtype::U64 => u64v as f64,
        Dtype::U32 => f64::from(u32v),
        Dtype::U16 => f64::from(u16v),
        Dtype::U8 => f64::from(b[0]),
        Dtype::Bool => f64::from(u8::from(b[0] != 0)),
        Dtype::Q8_0 | Dtype::Q4_0 | Dtype::Q4K => f64::NAN,
    }
}

/// IEEE 754 binary16 to binary32, exactly (every half is a float): subnormals normalised,
/// infinities and NaNs kept (NaN payload shifted as ggml's `ggml_compute_fp16_to_fp32` does).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exponent = u32::from((h >> 10) & 0x1f);
    let mantissa = u32::from(h & 0x3ff);
    let bits = match (exponent, mantissa) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: value m * 2^-24, normalised.
            let shift = m.leading_zeros() - 21;
            let m = (m << shift) & 0x3ff;
            let e = 127 - 15 + 1 - shift;
            sign | (e << 23) | (m << 13)
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

fn half_at(block: &[u8], at: usize) -> f32 {
    f16_to_f32(u16::from_le_bytes([block[at], block[at + 1]]))
}

/// ggml-quants.c `dequantize_row_q8_0`: `y[j] = x.qs[j] * d`.
fn dequantize_q8_0(block: &[u8], out: &mut Vec<f64>) {
    let d = half_at(block, 0);
    for &q in &block[2..2 + QK] {
        out.push(f64::from(f32::from(q as i8) * d));
    }
}

/// ggml-quants.c `dequantize_row_q4_0`: the low nibbles are elements 0–15, the high nibbles
/// 16–31, each `(nibble - 8) * d`.
fn dequantize_q4_0(block: &[u8], out: &mut Vec<f64>) {
    let d = half_at(block, 0);
    let qs = &block[2..2 + QK / 2];
    for &q in qs {
        out.push(f64::from(f32::from(i16::from(q & 0x0f) as i8 - 8) * d));
    }
    for &q in qs {
        out.push(f64::from(f32::from((q >> 4) as i8 - 8) * d));
    }
}

/// ggml-quants.c `get_scale_min_k4`: the 6-bit scale and min of sub-block `j` packed in the
/// 12 scale bytes.
fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

/// ggml-quants.c `dequantize_row_q4_K`: per 64 elements, two sub-blocks share 32 quant bytes,
/// the first taking the low nibbles, the second the high ones; `x = d * sc * q - dmin * m`.
fn dequantize_q4_k(block: &[u8], out: &mut Vec<f64>) {
    let d = half_at(block, 0);
    let min = half_at(block, 2);
    let scales = &block[4..16];
    let quants = &block[16..16 + QK_K / 2];
    for (pair, q) in quants.chunks_exact(32).enumerate() {
        let (sc1, m1) = scale_min_k4(2 * pair, scales);
        let (sc2, m2) = scale_min_k4(2 * pair + 1, scales);
        let (d1, m1) = (d * f32::from(sc1), min * f32::from(m1));
        let (d2, m2) = (d * f32::from(sc2), min * f32::from(m2));
        for &byte in q {
            out.push(f64::from(d1 * f32::from(byte & 0x0f) - m1));
        }
        for &byte in q {
            out.push(f64::from(d2 * f32::from(byte >> 4) - m2));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f16 bit patterns (IEEE 754 binary16) of a few exact values.
    const HALF_ONE: u16 = 0x3c00;
    const HALF_HALF: u16 = 0x3800;
    const HALF_QUARTER: u16 = 0x3400;

    #[test]
    fn half_floats_decode_exactly() {
        assert_eq!(f16_to_f32(HALF_ONE), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        // The smallest subnormal, 2^-24.
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x03ff), 1023.0 * 2f32.powi(-24));
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000);
    }

    #[test]
    fn q8_0_is_quant_times_scale() {
        let mut block = HALF_HALF.to_le_bytes().to_vec();
        block.extend((0..32).map(|i| (i as i8 - 16) as u8));
        let mut out = Vec::new();
        Dtype::Q8_0.decode(&block, false, &mut out);
        assert_eq!(out.len(), 32);
        assert_eq!(out[0], -8.0);
        assert_eq!(out[16], 0.0);
        assert_eq!(out[31], 7.5);
    }

    #[test]
    fn q4_0_low_nibbles_first_then_high() {
        // Byte j holds element j in its low nibble and element j + 16 in its high one.
        let mut block = HALF_ONE.to_le_bytes().to_vec();
        block.extend((0..16u8).map(|j| j | (15 - j) << 4));
        let mut out = Vec::new();
        Dtype::Q4_0.decode(&block, false, &mut out);
        let expected: Vec<f64> = (0..16)
            .map(|j| f64::from(j) - 8.0)
            .chain((0..16).map(|j| f64::from(15 - j) - 8.0))
            .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn q4_k_scales_and_mins_per_sub_block() {
        // d = 1, dmin = 0.25; sub-block scales 1..8 and mins 0..7 packed as get_scale_min_k4
        // reads them: sub-blocks 0–3 in the low 6 bits of bytes 0–3 (scales) and 4–7 (mins),
        // sub-blocks 4–7 in the nibbles of bytes 8–11 (their high bits are zero here).
        let mut block = HALF_ONE.to_le_bytes().to_vec();
        block.extend(HALF_QUARTER.to_le_bytes());
        let (scale, min) = (|j: u8| j + 1, |j: u8| j);
        let mut scales = [0u8; 12];
        for j in 0..4u8 {
            scales[j as usize] = scale(j);
            scales[j as usize + 4] = min(j);
            scales[j as usize + 8] = scale(j + 4) | (min(j + 4) << 4);
        }
        block.extend(scales);
        // Quants: byte l of pair p holds low nibble (l % 16) and high nibble (15 - l % 16).
        for _pair in 0..4 {
            block.extend((0..32u8).map(|l| (l % 16) | ((15 - l % 16) << 4)));
        }
        assert_eq!(block.len(), 144);
        let mut out = Vec::new();
        Dtype::Q4K.decode(&block, false, &mut out);
        assert_eq!(out.len(), 256);
        for (i, value) in out.iter().enumerate() {
            let sub = (i / 32) as u8;
            let l = (i % 32) as u8;
            let q = if sub.is_multiple_of(2) {
                l % 16
            } else {
                15 - l % 16
            };
            let expected = f64::from(scale(sub)) * f64::from(q) - 0.25 * f64::from(min(sub));
            assert_eq!(*value, expected, "element {i}");
        }
    }

    #[test]
    fn plain_types_and_byte_order() {
        let mut out = Vec::new();
        Dtype::F32.decode(&1.5f32.to_be_bytes(), true, &mut out);
        Dtype::I16.decode(&(-3i16).to_le_bytes(), false, &mut out);
        Dtype::BF16.decode(&[0x80, 0x3f], false, &mut out);
        Dtype::U8.decode(&[200], false, &mut out);
        assert_eq!(out, [1.5, -3.0, 1.0, 200.0]);
    }
}
