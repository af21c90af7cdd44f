//! GGUF (ggml-org/ggml docs/gguf.md) and the legacy GGML/GGMF/GGJT files it replaced.
//!
//! GGUF header: magic, u32 version, tensor count, metadata count (u32 in version 1, u64 since),
//! the metadata key-value list, then one info record per tensor (name, dims, ggml type, offset).
//! The walk streams through a buffered reader and skips values with seeks, so memory stays flat
//! whatever the vocabulary size; every count is checked against the bytes left in the file.

use std::io::{self, BufReader, Read, Seek, SeekFrom};

use super::{Details, Probe, element_count, invalid, le_u32};

/// Fewest bytes one metadata entry can take (empty key length, type).
const MIN_KV_BYTES: u64 = 8 + 4 + 1;
/// Fewest bytes one tensor info can take (empty name length, dim count, type, offset).
const MIN_TENSOR_INFO_BYTES: u64 = 8 + 4 + 4 + 8;
/// The spec allows up to 4 dimensions today; accept a little headroom.
const MAX_DIMS: u32 = 8;
/// Arrays of arrays are legal but nobody nests deeply; a bound keeps recursion finite.
const MAX_ARRAY_DEPTH: u32 = 4;

pub(super) fn check_gguf<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let Some(raw_version) = le_u32(&probe.head, 4) else {
        return Ok(None);
    };
    // Version 3 added big-endian files, which carry no marker: a version whose low half is zero
    // when read little-endian was written big-endian.
    let big_endian = raw_version & 0xffff == 0;
    let version = if big_endian {
        raw_version.swap_bytes()
    } else {
        raw_version
    };
    if !(1..=3).contains(&version) {
        return Ok(None);
    }
    let size = probe.size;
    let string_max = probe.limits.gguf_string_max;
    probe.file.seek(SeekFrom::Start(8))?;
    let mut walker = Walker {
        reader: BufReader::new(&mut *probe.file),
        big_endian,
        narrow_counts: version == 1,
        remaining: size - 8,
        string_max,
    };
    let tensor_count = walker.count()?;
    let kv_count = walker.count()?;
    let mut details = Details::note(format!("GGUF v{version}"));
    if tensor_count > walker.remaining / MIN_TENSOR_INFO_BYTES
        || kv_count > walker.remaining / MIN_KV_BYTES
    {
        details.note = Some(format!(
            "GGUF v{version} header declares {tensor_count} tensors and {kv_count} metadata entries, more than {size} bytes can hold"
        ));
        return Ok(Some(details));
    }
    match walk_entries(&mut walker, tensor_count, kv_count, None) {
        // A GGUF that holds only metadata (tokenizer vocabularies shipped for tests) carries
        // no weights at all.
        Ok(_) if tensor_count == 0 => {
            details.class = Some(super::Class::Other);
        }
        Ok(walked) => {
            details.tensors = Some(tensor_count);
            details.parameters = Some(walked.parameters);
            details.dtypes = walked.dtypes;
            if let Some(architecture) = walked.architecture {
                details.note = Some(format!("GGUF v{version}, architecture {architecture}"));
            }
        }
        // The magic and version already say GGUF; a broken header is reported as such, with
        // no counts rather than partial ones.
        Err(err)
            if err.kind() == io::ErrorKind::InvalidData
                || err.kind() == io::ErrorKind::UnexpectedEof =>
        {
            details.note = Some(format!("GGUF v{version} with a malformed header: {err}"));
        }
        Err(err) => return Err(err),
    }
    Ok(Some(details))
}

struct Walked {
    parameters: u64,
    dtypes: Vec<String>,
    architecture: Option<String>,
    /// Every tensor info, in file order.
    infos: Vec<TensorInfo>,
    /// `general.alignment`, when the metadata sets it.
    alignment: Option<u32>,
}

/// One GGUF tensor info: name, dimensions in ggml order (`ne[0]` first, the fastest-varying),
/// ggml type and offset of its data from the start of the data section.
#[derive(Debug, Clone)]
pub struct TensorInfo {
    pub name: String,
    pub dims: Vec<u64>,
    pub ggml_type: u32,
    pub offset: u64,
}

/// The tensors of a GGUF file for `verify`: their infos, where the data section starts
/// (after the header, aligned to `general.alignment`, default 32) and whether the file is
/// big-endian.
#[derive(Debug, Clone)]
pub struct Layout {
    pub tensors: Vec<TensorInfo>,
    pub data_start: u64,
    pub big_endian: bool,
}

/// GGUF's default data alignment (gguf.md, `GGUF_DEFAULT_ALIGNMENT`).
const DEFAULT_ALIGNMENT: u64 = 32;

/// Walks the header of the GGUF `file` of `size` bytes with the same bounded walker as
/// identification, keeping at most `max_tensors` tensor infos; the error says what is wrong.
pub fn layout<R: Read + Seek>(
    file: &mut R,
    size: u64,
    limits: &super::Limits,
    max_tensors: usize,
) -> Result<Layout, String> {
    let mut head = [0u8; 8];
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_exact(&mut head))
        .map_err(|_| "shorter than a GGUF header".to_string())?;
    if &head[..4] != b"GGUF" {
        return Err("no GGUF magic".into());
    }
    let raw_version = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    let big_endian = raw_version & 0xffff == 0;
    let version = if big_endian {
        raw_version.swap_bytes()
    } else {
        raw_version
    };
    if !(1..=3).contains(&version) {
        return Err(format!("GGUF version {version}, not 1 to 3"));
    }
    let mut walker = Walker {
        reader: BufReader::new(&mut *file),
        big_endian,
        narrow_counts: version == 1,
        remaining: size - 8,
        string_max: limits.gguf_string_max,
    };
    let walk = |walker: &mut Walker<_>| -> io::Result<Walked> {
        let tensor_count = walker.count()?;
        let kv_count = walker.count()?;
        if tensor_count > walker.remaining / MIN_TENSOR_INFO_BYTES
            || kv_count > walker.remaining / MIN_KV_BYTES
        {
            return Err(invalid(format!(
                "the header declares {tensor_count} tensors and {kv_count} metadata entries, more than the file can hold"
            )));
        }
        if tensor_count > max_tensors as u64 {
            return Err(invalid(format!(
                "{tensor_count} tensors, more than max-tensors ({max_tensors}) in policy/verify.toml"
            )));
        }
        walk_entries(walker, tensor_count, kv_count, Some(max_tensors))
    };
    let walked = walk(&mut walker).map_err(|e| format!("malformed GGUF header: {e}"))?;
    let alignment = walked.alignment.map_or(DEFAULT_ALIGNMENT, u64::from);
    if alignment == 0 {
        return Err("general.alignment is 0".into());
    }
    let header_end = size - walker.remaining;
    Ok(Layout {
        tensors: walked.infos,
        data_start: header_end.div_ceil(alignment) * alignment,
        big_endian,
    })
}

/// Walks the metadata and tensor infos. The infos are kept only when `keep` is given (for
/// `verify`, which has checked the count against it): identification keeps nothing per
/// tensor, so its memory stays flat whatever the count.
fn walk_entries<R: Read + Seek>(
    walker: &mut Walker<R>,
    tensor_count: u64,
    kv_count: u64,
    keep: Option<usize>,
) -> io::Result<Walked> {
    let mut architecture = None;
    let mut alignment = None;
    for _ in 0..kv_count {
        let key = walker.string(256)?;
        let value_type = walker.u32()?;
        if key == "general.architecture" && value_type == 8 {
            architecture = Some(walker.string(256)?);
        } else if key == "general.alignment" && value_type == 4 {
            alignment = Some(walker.u32()?);
        } else {
            walker.skip_value(value_type, 0)?;
        }
    }
    let mut parameters = 0u64;
    let mut dtypes = Details::default();
    let mut infos = Vec::new();
    for _ in 0..tensor_count {
        let name = match keep {
            Some(_) => walker.string(walker.string_max)?,
            None => {
                walker.skip_string()?;
                String::new()
            }
        };
        let dims = walker.u32()?;
        if dims > MAX_DIMS {
            return Err(invalid(format!("a tensor with {dims} dimensions")));
        }
        let mut shape = Vec::with_capacity(dims as usize);
        for _ in 0..dims {
            shape.push(walker.count()?);
        }
        let ggml_type = walker.u32()?;
        let offset = walker.u64()?;
        let count = element_count(shape.iter().copied())
            .ok_or_else(|| invalid("a tensor shape overflows"))?;
        parameters = parameters
            .checked_add(count)
            .ok_or_else(|| invalid("the parameter count overflows"))?;
        dtypes.add_dtype(ggml_type_name(ggml_type));
        if keep.is_some() {
            infos.push(TensorInfo {
                name,
                dims: shape,
                ggml_type,
                offset,
            });
        }
    }
    Ok(Walked {
        parameters,
        dtypes: dtypes.dtypes,
        architecture,
        infos,
        alignment,
    })
}

/// A bounded, endian-aware reader over the GGUF header.
struct Walker<R> {
    reader: BufReader<R>,
    big_endian: bool,
    /// Version 1 stored counts and lengths as u32.
    narrow_counts: bool,
    remaining: u64,
    string_max: u64,
}

impl<R: Read + Seek> Walker<R> {
    fn take<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        self.consume(N as u64)?;
        let mut bytes = [0u8; N];
        self.reader.read_exact(&mut bytes)?;
        Ok(bytes)
    }

    /// Accounts for `n` bytes about to be read or skipped; fails past the end of the file.
    fn consume(&mut self, n: u64) -> io::Result<()> {
        self.remaining = self
            .remaining
            .checked_sub(n)
            .ok_or_else(|| invalid("header runs past the end of the file"))?;
        Ok(())
    }

    fn u32(&mut self) -> io::Result<u32> {
        let bytes = self.take::<4>()?;
        Ok(if self.big_endian {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        })
    }

    fn u64(&mut self) -> io::Result<u64> {
        let bytes = self.take::<8>()?;
        Ok(if self.big_endian {
            u64::from_be_bytes(bytes)
        } else {
            u64::from_le_bytes(bytes)
        })
    }

    fn count(&mut self) -> io::Result<u64> {
        if self.narrow_counts {
            self.u32().map(u64::from)
        } else {
            self.u64()
        }
    }

    fn skip(&mut self, n: u64) -> io::Result<()> {
        self.consume(n)?;
        let n = i64::try_from(n).map_err(|_| invalid("length too large"))?;
        self.reader.seek_relative(n)
    }

    fn string_len(&mut self) -> io::Result<u64> {
        let len = self.count()?;
        if len > self.string_max {
            return Err(invalid(format!("string of {len} bytes")));
        }
        Ok(len)
    }

    fn skip_string(&mut self) -> io::Result<()> {
        let len = self.string_len()?;
        self.skip(len)
    }

    /// Reads a string, keeping at most `keep` bytes of it.
    fn string(&mut self, keep: u64) -> io::Result<String> {
        let len = self.string_len()?;
        let kept = len.min(keep);
        self.consume(kept)?;
        let mut bytes = vec![0u8; kept as usize];
        self.reader.read_exact(&mut bytes)?;
        self.skip(len - kept)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn skip_value(&mut self, value_type: u32, depth: u32) -> io::Result<()> {
        if let Some(width) = scalar_width(value_type) {
            return self.skip(width);
        }
        match value_type {
            8 => self.skip_string(),
            9 if depth < MAX_ARRAY_DEPTH => {
                let element_type = self.u32()?;
                let len = self.count()?;
                if let Some(width) = scalar_width(element_type) {
                    let bytes = len
                        .checked_mul(width)
                        .ok_or_else(|| invalid("array length overflows"))?;
                    return self.skip(bytes);
                }
                // Every non-scalar element takes at least 8 bytes, so this loop is bounded by
                // the file size.
                if len > self.remaining / 8 {
                    return Err(invalid(format!("array of {len} elements")));
                }
                for _ in 0..len {
                    self.skip_value(element_type, depth + 1)?;
                }
                Ok(())
            }
            other => Err(invalid(format!("metadata value type {other}"))),
        }
    }
}

/// Size of GGUF's fixed-width value types.
fn scalar_width(value_type: u32) -> Option<u64> {
    Some(match value_type {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        10..=12 => 8,
        _ => return None,
    })
}

/// ggml's `ggml_type` enum, lower-case as ggml prints it.
pub fn ggml_type_name(ggml_type: u32) -> String {
    let name = match ggml_type {
        0 => "float32",
        1 => "float16",
        2 => "q4_0",
        3 => "q4_1",
        6 => "q5_0",
        7 => "q5_1",
        8 => "q8_0",
        9 => "q8_1",
        10 => "q2_k",
        11 => "q3_k",
        12 => "q4_k",
        13 => "q5_k",
        14 => "q6_k",
        15 => "q8_k",
        16 => "iq2_xxs",
        17 => "iq2_xs",
        18 => "iq3_xxs",
        19 => "iq1_s",
        20 => "iq4_nl",
        21 => "iq3_s",
        22 => "iq2_s",
        23 => "iq4_xs",
        24 => "int8",
        25 => "int16",
        26 => "int32",
        27 => "int64",
        28 => "float64",
        29 => "iq1_m",
        30 => "bfloat16",
        34 => "tq1_0",
        35 => "tq2_0",
        39 => "mxfp4",
        other => return format!("ggml-type-{other}"),
    };
    name.to_string()
}

/// Legacy llama.cpp files: a magic, a version (except plain GGML), then model-specific
/// hyperparameters, vocabulary and tensors. Only GGJT v3, the last llama.cpp layout, is
/// walked for counts: earlier versions stored the quantised blocks in other sizes, and plain
/// GGML files carry hyperparameters that differ per model (whisper, GPT-2, …).
pub(super) fn check_ggml<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let (Some(magic), Some(second)) = (probe.head.get(..4), le_u32(&probe.head, 4)) else {
        return Ok(None);
    };
    let (variant, versions): (&str, &[u32]) = match magic {
        b"lmgg" => ("ggml", &[]),
        b"fmgg" => ("ggmf", &[1]),
        b"tjgg" => ("ggjt", &[1, 2, 3]),
        b"algg" => ("ggla (LoRA adapter)", &[1]),
        _ => return Ok(None),
    };
    if versions.is_empty() {
        // Unversioned GGML: the next word is the first hyperparameter (vocabulary size or
        // similar), never zero, and the file goes on past it.
        if second == 0 || probe.size <= 8 {
            return Ok(None);
        }
        return Ok(Some(Details::note(variant)));
    }
    if !versions.contains(&second) {
        return Ok(None);
    }
    let mut details = Details::note(format!("{variant} v{second}"));
    if variant == "ggjt" && second == 3 {
        match walk_ggjt_v3(probe) {
            Ok(walked) => {
                details.tensors = Some(walked.tensors);
                details.parameters = Some(walked.parameters);
                details.dtypes = walked.dtypes;
            }
            // The magic and version say GGJT; records that do not add up leave no counts.
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
                ) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(Some(details))
}

struct GgjtWalked {
    tensors: u64,
    parameters: u64,
    dtypes: Vec<String>,
}

/// Bytes per block and elements per block of the ggml types a GGJT v3 file can hold (ggml.c
/// `type_traits` as of the last GGJT llama.cpp, master-ggjt-v3: q4_0 is an f16 scale and 16
/// bytes, q8_0 an f16 scale and 32 bytes, the k-quants 256-element super-blocks).
fn ggjt_v3_block(ggml_type: u32) -> Option<(u64, u64)> {
    Some(match ggml_type {
        0 => (4, 1),
        1 => (2, 1),
        2 => (18, 32),
        3 => (20, 32),
        6 => (22, 32),
        7 => (24, 32),
        8 => (34, 32),
        10 => (84, 256),
        11 => (110, 256),
        12 => (144, 256),
        13 => (176, 256),
        14 => (210, 256),
        _ => return None,
    })
}

/// The llama.cpp GGJT v3 layout (`llama_file_loader`: `read_hparams`, `read_vocab`,
/// `read_tensor_metadata`): seven u32 hyperparameters (the first the vocabulary size), the
/// vocabulary (u32 length, bytes, f32 score each), then tensor records to the end of the
/// file: u32 dimension count (1 or 2), name length and ggml type, the dimensions, the name,
/// padding to a multiple of 32 bytes, and the data. The walk must end exactly at the end of
/// the file; a type whose block size is not known stops it.
fn walk_ggjt_v3<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<GgjtWalked> {
    let size = probe.size;
    let string_max = probe.limits.gguf_string_max;
    let vocabulary = le_u32(&probe.head, 8).ok_or_else(|| invalid("no hyperparameters"))?;
    // Each vocabulary entry takes at least its length and score.
    if u64::from(vocabulary) * 8 > size {
        return Err(invalid("a vocabulary larger than the file"));
    }
    probe.file.seek(SeekFrom::Start(8 + 7 * 4))?;
    let mut reader = BufReader::new(&mut *probe.file);
    let mut at = 8 + 7 * 4u64;
    fn u32_at<R: Read>(reader: &mut R, at: &mut u64) -> io::Result<u32> {
        let mut bytes = [0u8; 4];
        reader.read_exact(&mut bytes)?;
        *at += 4;
        Ok(u32::from_le_bytes(bytes))
    }
    for _ in 0..vocabulary {
        let len = u64::from(u32_at(&mut reader, &mut at)?);
        if len > string_max || at + len + 4 > size {
            return Err(invalid("a vocabulary entry past the end of the file"));
        }
        reader.seek_relative(len as i64 + 4)?;
        at += len + 4;
    }
    let (mut tensors, mut parameters) = (0u64, 0u64);
    let mut dtypes = Details::default();
    while at < size {
        let dims = u32_at(&mut reader, &mut at)?;
        let name_len = u64::from(u32_at(&mut reader, &mut at)?);
        let ggml_type = u32_at(&mut reader, &mut at)?;
        if !(1..=2).contains(&dims) || name_len > 4096 {
            return Err(invalid("a tensor record of a shape GGJT does not write"));
        }
        let mut shape = Vec::with_capacity(dims as usize);
        for _ in 0..dims {
            shape.push(u64::from(u32_at(&mut reader, &mut at)?));
        }
        let (block_bytes, block_len) =
            ggjt_v3_block(ggml_type).ok_or_else(|| invalid("a ggml type of unknown size"))?;
        let count = element_count(shape).ok_or_else(|| invalid("a tensor shape overflows"))?;
        if count % block_len != 0 {
            return Err(invalid("a tensor that is not whole blocks"));
        }
        let padding = (32 - (at + name_len) % 32) % 32;
        let data = count / block_len * block_bytes;
        let skip = name_len + padding + data;
        if at.checked_add(skip).is_none_or(|end| end > size) {
            return Err(invalid("tensor data past the end of the file"));
        }
        reader.seek_relative(skip as i64)?;
        at += skip;
        tensors += 1;
        parameters += count;
        dtypes.add_dtype(ggml_type_name(ggml_type));
    }
    Ok(GgjtWalked {
        tensors,
        parameters,
        dtypes: dtypes.dtypes,
    })
}
