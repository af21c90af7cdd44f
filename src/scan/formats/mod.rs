//! Identification of weight files by content.
//!
//! `policy/formats.toml` lists the formats in the order they are tried, with their signatures;
//! a signature only nominates a candidate, and the format's `check` (one submodule per format
//! family) validates the header structure and reads the cheap facts it states: tensor count,
//! parameter count, dtypes. File names are hints only, except for the few formats whose content
//! is too weak alone (the table says which with `requires-extension`).
//!
//! Every read is bounded: fixed headers are read whole, larger structures are walked with seeks,
//! and every length in a header is checked against the file size before it is used.

mod compiled_in;
mod dlib;
pub mod gguf;
mod gnubg;
mod headers;
mod leela_zero;
pub mod numpy;
mod opencv;
mod pickle;
pub mod protobuf;
pub mod safetensors;
mod sphinx;
mod tensorflow;
mod tesseract;
mod vectors;
mod zip;

use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Deserializer};

use super::compression::{self, Compression};
use super::pickle::{PickleReport, PickleTable};

pub use self::compiled_in::{CompiledIn, search_compiled_in};
pub use self::zip::{ZipMembers, list_zip_members};

/// `policy/formats.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatTable {
    pub limits: Limits,
    pub tables: Tables,
    #[serde(rename = "format")]
    pub formats: Vec<FormatSpec>,
}

/// Arrays known by name to be computed tables, not trained weights; see `[tables]` in
/// `policy/formats.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Tables {
    pub npz_arrays: Vec<String>,
}

impl Tables {
    /// Whether the array `name` (an `.npz` member without `.npy`) is a known table: a listed
    /// name, or a listed prefix ending in `*`.
    pub fn is_table_array(&self, name: &str) -> bool {
        self.npz_arrays.iter().any(|t| match t.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == t,
        })
    }
}

/// Caps on what identification reads; see the comments in `policy/formats.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    pub head_bytes: usize,
    pub safetensors_header_max: u64,
    pub safetensors_array_max: usize,
    pub safetensors_values_max: usize,
    pub npy_header_max: u64,
    pub zip_directory_max: u64,
    pub npz_members_max: usize,
    pub gguf_string_max: u64,
    pub protobuf_fields_max: u64,
    pub pickle_walk_bytes: usize,
    pub leela_prefix_bytes: usize,
    pub compiled_in_candidates_max: usize,
    pub nnue_description_max: u64,
    pub darknet_min_values: u64,
    pub markup_prefix_bytes: usize,
    pub vectors_sample_bytes: usize,
    pub tflite_subgraphs_max: u64,
}

/// One `[[format]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FormatSpec {
    pub name: String,
    pub check: Check,
    pub class: Class,
    pub executes_code: bool,
    pub extensions: Vec<String>,
    #[serde(default)]
    pub requires_extension: bool,
    #[serde(default)]
    pub magic: Vec<Magic>,
    /// Executables and libraries: searched for weights compiled into them.
    #[serde(default)]
    pub search_inside: bool,
    /// Weights whose signature is searched for inside executables (`search-inside`).
    #[serde(default)]
    pub embeddable: bool,
    pub description: String,
}

/// A signature: bytes at an offset from the start, or from the end when negative.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Magic {
    pub offset: i64,
    #[serde(deserialize_with = "hex_bytes")]
    pub hex: Vec<u8>,
}

fn hex_bytes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(deserializer)?;
    let invalid = || serde::de::Error::custom(format!("`{text}` is not an even-length hex string"));
    if text.is_empty() || text.len() % 2 != 0 {
        return Err(invalid());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(invalid)
        })
        .collect()
}

/// The structural validation a format entry runs (written in Rust, one per format family).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// The signature alone decides (containers and non-weight formats).
    Magic,
    Safetensors,
    Gguf,
    Ggml,
    Npy,
    Npz,
    /// An ONNX `TensorProto` saved alone (test inputs and outputs).
    OnnxTensor,
    /// An `.npz` whose every array is named as a computed table in `[tables]`.
    NpzTable,
    Hdf5,
    Keras,
    PytorchZip,
    Torchscript,
    PytorchLegacy,
    Tflite,
    Mxnet,
    Nnue,
    Darknet,
    LeelaZero,
    Pickle,
    Joblib,
    JoblibCompressed,
    CompressedPickle,
    TensorflowIndex,
    TensorflowSavedModel,
    TensorflowData,
    Onnx,
    Caffe,
    Tesseract,
    Dlib,
    OpencvCascade,
    OpencvMl,
    Sphinx,
    SphinxFeatParams,
    SphinxLm,
    Gnubg,
    GnubgText,
    Fasttext,
    Word2vecBinary,
    Word2vecText,
}

/// What a file's content says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// Model weights.
    Weights,
    /// An archive or compressed stream whose members need a look of their own.
    Container,
    /// A known format that is not weights (images, executables, documents…).
    Other,
}

#[derive(Debug, Clone)]
pub struct Identified {
    pub format: String,
    pub class: Class,
    /// An executable or library, to be searched for weights compiled into it.
    pub search_inside: bool,
    pub executes_code: bool,
    pub tensors: Option<u64>,
    pub parameters: Option<u64>,
    pub dtypes: Vec<String>,
    pub note: Option<String>,
    pub pickle: Option<PickleReport>,
}

/// What a format check learnt from the header beyond "it is this format".
#[derive(Debug, Clone, Default)]
struct Details {
    tensors: Option<u64>,
    parameters: Option<u64>,
    dtypes: Vec<String>,
    note: Option<String>,
    /// Set when this file differs from its format's rule (a NumPy object array is a pickle).
    executes_code: Option<bool>,
    /// Set when this file is not what its format usually holds (a GGUF with no tensors is a
    /// vocabulary, a GNU Backgammon bear-off database is a table): `Other`, never reported.
    class: Option<Class>,
}

impl Details {
    fn note(note: impl Into<String>) -> Self {
        Self {
            note: Some(note.into()),
            ..Self::default()
        }
    }

    /// Adds `dtype` to the list unless already there, keeping first-seen order.
    fn add_dtype(&mut self, dtype: impl Into<String>) {
        let dtype = dtype.into();
        if !self.dtypes.contains(&dtype) {
            self.dtypes.push(dtype);
        }
    }
}

/// The file under examination, with its first bytes already read.
struct Probe<'a, R> {
    file: &'a mut R,
    size: u64,
    name: &'a str,
    on_disk: Option<&'a Path>,
    head: Vec<u8>,
    limits: &'a Limits,
    tables: &'a Tables,
    /// `policy/pickle.toml`, for the opcode walk that recognises pickles.
    pickle: &'a PickleTable,
    /// The whole table, for checks that look at sibling files in another entry's format.
    formats: &'a [FormatSpec],
    /// The zip member names, listed once for all the zip-based checks (`None` inside: not a
    /// readable zip).
    zip_names: Option<Option<Vec<String>>>,
}

impl<R: Read + Seek> Probe<'_, R> {
    /// Up to `len` bytes at `offset`; fewer at the end of the file.
    fn read_at(&mut self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        if let Some(start) = usize::try_from(offset)
            .ok()
            .filter(|&o| o <= self.head.len())
        {
            let complete = start
                .checked_add(len)
                .is_some_and(|end| end <= self.head.len());
            if complete || self.head.len() as u64 == self.size {
                let end = start.saturating_add(len).min(self.head.len());
                return Ok(self.head[start..end].to_vec());
            }
        }
        if offset >= self.size {
            return Ok(Vec::new());
        }
        let len = len.min(usize::try_from(self.size - offset).unwrap_or(usize::MAX));
        self.file.seek(SeekFrom::Start(offset))?;
        let mut buf = Vec::with_capacity(len);
        (&mut *self.file).take(len as u64).read_to_end(&mut buf)?;
        Ok(buf)
    }

    /// The first `limit` decompressed bytes of the file, when it is a compressed stream.
    fn decompressed_prefix(&mut self, limit: usize) -> io::Result<Option<(Compression, Vec<u8>)>> {
        compression::decompressed_prefix(&mut *self.file, self.size, &self.head, limit)
    }

    /// The last component of the file's name, lower-cased.
    fn file_name(&self) -> String {
        self.name
            .rsplit(['/', '!'])
            .next()
            .unwrap_or(self.name)
            .to_ascii_lowercase()
    }

    fn has_extension(&self, extensions: &[String]) -> bool {
        let name = self.file_name();
        extensions.iter().any(|ext| {
            name.strip_suffix(ext.as_str())
                .is_some_and(|s| s.ends_with('.'))
        })
    }

    /// The file offset of `magic` if the file holds it.
    fn magic_at(&mut self, magic: &Magic) -> io::Result<Option<u64>> {
        let len = magic.hex.len() as u64;
        let offset = if magic.offset < 0 {
            match self.size.checked_sub(magic.offset.unsigned_abs()) {
                Some(offset) => offset,
                None => return Ok(None),
            }
        } else {
            magic.offset as u64
        };
        let Some(end) = offset.checked_add(len).filter(|&end| end <= self.size) else {
            return Ok(None);
        };
        // Every file is tried against every signature of the table: those inside the head
        // already read are compared in place, without the copy `read_at` makes.
        if let (Ok(start), Ok(end)) = (usize::try_from(offset), usize::try_from(end))
            && let Some(bytes) = self.head.get(start..end)
        {
            return Ok((bytes == magic.hex.as_slice()).then_some(offset));
        }
        Ok((self.read_at(offset, magic.hex.len())? == magic.hex).then_some(offset))
    }
}

/// Identifies `file` (already open, positioned anywhere) by its content. `name` is its path
/// relative to the scan root (a hint only); `on_disk` is its real path when it is a plain
/// file, for formats split across sibling files (TensorFlow SavedModel).
pub fn identify<R: Read + Seek>(
    table: &FormatTable,
    pickle: &PickleTable,
    file: &mut R,
    size: u64,
    name: &str,
    on_disk: Option<&Path>,
) -> io::Result<Option<Identified>> {
    if size == 0 {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(0))?;
    let mut head = Vec::new();
    (&mut *file)
        .take(table.limits.head_bytes as u64)
        .read_to_end(&mut head)?;
    let mut probe = Probe {
        file,
        size,
        name,
        on_disk,
        head,
        limits: &table.limits,
        tables: &table.tables,
        pickle,
        formats: &table.formats,
        zip_names: None,
    };
    for spec in &table.formats {
        if let Some(identified) = try_format(&mut probe, spec)? {
            return Ok(Some(identified));
        }
    }
    Ok(None)
}

/// Whether the probed file is in `spec`'s format: its name (when the entry requires one), its
/// signature, then its structural check.
fn try_format<R: Read + Seek>(
    probe: &mut Probe<R>,
    spec: &FormatSpec,
) -> io::Result<Option<Identified>> {
    if spec.requires_extension && !probe.has_extension(&spec.extensions) {
        return Ok(None);
    }
    let matched_at = match first_magic_match(probe, &spec.magic)? {
        Some(at) => Some(at),
        None if spec.magic.is_empty() => None,
        None => return Ok(None),
    };
    let details = match run_check(spec.check, probe, matched_at) {
        Ok(Some(details)) => details,
        Ok(None) => return Ok(None),
        // A header that ends early or holds nonsense is not this format; real read
        // failures still stop the file.
        Err(err)
            if matches!(
                err.kind(),
                io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData
            ) =>
        {
            return Ok(None);
        }
        Err(err) => return Err(err),
    };
    Ok(Some(Identified {
        format: spec.name.clone(),
        class: details.class.unwrap_or(spec.class),
        search_inside: spec.search_inside,
        executes_code: details.executes_code.unwrap_or(spec.executes_code),
        tensors: details.tensors,
        parameters: details.parameters,
        dtypes: details.dtypes,
        note: details.note,
        pickle: None,
    }))
}

/// The file offset of the first of `magic` found in the file.
fn first_magic_match<R: Read + Seek>(
    probe: &mut Probe<R>,
    magic: &[Magic],
) -> io::Result<Option<u64>> {
    for one in magic {
        if let Some(at) = probe.magic_at(one)? {
            return Ok(Some(at));
        }
    }
    Ok(None)
}

/// Runs `check`; `matched_at` is where the entry's signature was found, if it has one.
fn run_check<R: Read + Seek>(
    check: Check,
    probe: &mut Probe<R>,
    matched_at: Option<u64>,
) -> io::Result<Option<Details>> {
    match check {
        Check::Magic => Ok(Some(Details::default())),
        Check::Safetensors => safetensors::check(probe),
        Check::Gguf => gguf::check_gguf(probe),
        Check::Ggml => gguf::check_ggml(probe),
        Check::Npy => numpy::check_npy(probe),
        Check::Npz => zip::check_npz(probe),
        Check::NpzTable => zip::check_npz_table(probe),
        Check::OnnxTensor => protobuf::check_onnx_tensor(probe),
        Check::Hdf5 => headers::check_hdf5(probe, matched_at.unwrap_or(0)),
        Check::Keras => zip::check_keras(probe),
        Check::PytorchZip => zip::check_pytorch(probe),
        Check::Torchscript => zip::check_torchscript(probe),
        Check::PytorchLegacy => pickle::check_pytorch_legacy(probe),
        Check::Tflite => headers::check_tflite(probe),
        Check::Mxnet => headers::check_mxnet(probe),
        Check::Nnue => headers::check_nnue(probe),
        Check::Darknet => headers::check_darknet(probe),
        Check::LeelaZero => leela_zero::check(probe),
        Check::Pickle => pickle::check_pickle(probe),
        Check::Joblib => pickle::check_joblib(probe),
        Check::JoblibCompressed => pickle::check_compressed(probe, true),
        Check::CompressedPickle => pickle::check_compressed(probe, false),
        Check::TensorflowIndex => tensorflow::check_index(probe),
        Check::TensorflowSavedModel => tensorflow::check_saved_model(probe),
        Check::TensorflowData => tensorflow::check_data_shard(probe),
        Check::Onnx => protobuf::check_onnx(probe),
        Check::Caffe => protobuf::check_caffe(probe),
        Check::Tesseract => tesseract::check(probe),
        Check::Dlib => dlib::check(probe),
        Check::OpencvCascade => opencv::check_cascade(probe),
        Check::OpencvMl => opencv::check_ml(probe),
        Check::Sphinx => sphinx::check(probe),
        Check::SphinxFeatParams => sphinx::check_feat_params(probe),
        Check::SphinxLm => sphinx::check_lm(probe),
        Check::Gnubg => gnubg::check(probe),
        Check::GnubgText => gnubg::check_text(probe),
        Check::Fasttext => vectors::check_fasttext(probe),
        Check::Word2vecBinary => vectors::check_word2vec_binary(probe),
        Check::Word2vecText => vectors::check_word2vec_text(probe),
    }
}

/// Product of `dims`, or `None` when it overflows (a hostile header must not wrap around).
fn element_count(dims: impl IntoIterator<Item = u64>) -> Option<u64> {
    dims.into_iter().try_fold(1u64, |acc, d| acc.checked_mul(d))
}

/// Little-endian integers from a byte slice, `None` past its end.
fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn le_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

fn invalid(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}
