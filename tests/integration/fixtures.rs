//! Tiny but real files of every weight format, written byte by byte from the formats'
//! specifications (see `/work/shared/research/formats-security.md` §1 and the references
//! there). Nothing here is downloaded or produced by the formats' own libraries.

use std::io::{Cursor, Write};

use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

// --- little helpers --------------------------------------------------------------------------

fn u32le(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u64le(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// `n` little-endian float32 values 0.5, 1.5, 2.5, …
pub fn floats(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| (i as f32 + 0.5).to_le_bytes())
        .collect()
}

/// `len` bytes that do not compress and match no format's signature.
pub fn noise(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 6);
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A zstd frame (RFC 8878) from the reference encoder, as `zstd -3` writes it.
pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 3).unwrap()
}

/// The legacy `.lzma` (lzma-alone) format joblib writes with `compress="lzma"`: a properties
/// byte 0x5d, a dictionary size and the uncompressed size, then the LZMA1 stream (liblzma's
/// `lzma_alone_encoder`).
pub fn lzma_alone(bytes: &[u8]) -> Vec<u8> {
    let options = liblzma::stream::LzmaOptions::new_preset(6).unwrap();
    let stream = liblzma::stream::Stream::new_lzma_encoder(&options).unwrap();
    let mut encoder = liblzma::write::XzEncoder::new_stream(Vec::new(), stream);
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn bz2(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A ustar archive of `(name, bytes)` members.
pub fn tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in members {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        builder.append_data(&mut header, name, *bytes).unwrap();
    }
    builder.into_inner().unwrap()
}

/// A zip of `(name, bytes)` members, stored (as torch.save does) or deflated.
pub fn zip(members: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let method = if deflate {
        CompressionMethod::Deflated
    } else {
        CompressionMethod::Stored
    };
    let options = SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in members {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

// --- protobuf -----------------------------------------------------------------------------------

/// A minimal protobuf encoder: fields are appended in the order written.
#[derive(Default, Clone)]
pub struct Pb(pub Vec<u8>);

impl Pb {
    fn raw_varint(&mut self, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(byte);
                return;
            }
            self.0.push(byte | 0x80);
        }
    }

    fn tag(&mut self, field: u64, wire: u64) {
        self.raw_varint(field << 3 | wire);
    }

    pub fn varint(mut self, field: u64, v: u64) -> Self {
        self.tag(field, 0);
        self.raw_varint(v);
        self
    }

    pub fn bytes(mut self, field: u64, bytes: &[u8]) -> Self {
        self.tag(field, 2);
        self.raw_varint(bytes.len() as u64);
        self.0.extend_from_slice(bytes);
        self
    }

    pub fn message(self, field: u64, inner: Pb) -> Self {
        self.bytes(field, &inner.0)
    }

    pub fn packed(self, field: u64, values: &[u64]) -> Self {
        let mut inner = Pb::default();
        for v in values {
            inner.raw_varint(*v);
        }
        self.bytes(field, &inner.0)
    }
}

// --- formats ------------------------------------------------------------------------------------

/// safetensors with tensors `(name, dtype, shape)`; data is zeros.
pub fn safetensors(tensors: &[(&str, &str, &[u64])]) -> Vec<u8> {
    let zeros: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, dtype, shape)| {
            let width = match *dtype {
                "F32" | "I32" => 4,
                "F16" | "BF16" => 2,
                "U8" | "I8" | "BOOL" => 1,
                _ => 8,
            };
            vec![0u8; (shape.iter().product::<u64>() * width) as usize]
        })
        .collect();
    let with_data: Vec<(&str, &str, &[u64], &[u8])> = tensors
        .iter()
        .zip(&zeros)
        .map(|((name, dtype, shape), data)| (*name, *dtype, *shape, data.as_slice()))
        .collect();
    safetensors_with_data(&with_data)
}

/// safetensors (huggingface/safetensors `serialize`: u64 LE header length, the JSON header
/// padded with spaces to 8 bytes, the data buffer) with tensors `(name, dtype, shape, data)`,
/// their bytes laid out in the order given.
pub fn safetensors_with_data(tensors: &[(&str, &str, &[u64], &[u8])]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    header.insert("__metadata__".into(), serde_json::json!({"format": "pt"}));
    let mut offset = 0u64;
    for (name, dtype, shape, data) in tensors {
        let len = data.len() as u64;
        header.insert(
            (*name).into(),
            serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len]}),
        );
        offset += len;
    }
    let mut json = serde_json::to_vec(&header).unwrap();
    // Writers pad the header with spaces to 8-byte alignment.
    while !json.len().is_multiple_of(8) {
        json.push(b' ');
    }
    let mut out = Vec::new();
    u64le(&mut out, json.len() as u64);
    out.extend_from_slice(&json);
    for (_, _, _, data) in tensors {
        out.extend_from_slice(data);
    }
    out
}

/// GGUF v3 (ggml docs/gguf.md) with one metadata entry (`general.alignment` = 32) and tensors
/// `(name, dims in ggml order, ggml type, data)`, each at a 32-byte aligned offset of the
/// data section.
pub fn gguf_with_data(tensors: &[(&str, &[u64], u32, &[u8])]) -> Vec<u8> {
    let mut out = b"GGUF".to_vec();
    u32le(&mut out, 3);
    u64le(&mut out, tensors.len() as u64);
    u64le(&mut out, 1);
    gguf_string(&mut out, "general.alignment");
    u32le(&mut out, 4);
    u32le(&mut out, 32);
    let mut offset = 0u64;
    let mut data = Vec::new();
    for (name, dims, ggml_type, bytes) in tensors {
        gguf_string(&mut out, name);
        u32le(&mut out, dims.len() as u32);
        for d in *dims {
            u64le(&mut out, *d);
        }
        u32le(&mut out, *ggml_type);
        u64le(&mut out, offset);
        data.extend_from_slice(bytes);
        while !data.len().is_multiple_of(32) {
            data.push(0);
        }
        offset = data.len() as u64;
    }
    while !out.len().is_multiple_of(32) {
        out.push(0);
    }
    out.extend_from_slice(&data);
    out
}

fn gguf_string(out: &mut Vec<u8>, s: &str) {
    u64le(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// GGUF v3: three metadata entries (one a string array) and two tensors, f32 [4, 3] and
/// q8_0 [32] (type 8).
pub fn gguf() -> Vec<u8> {
    gguf_with_tensors(true)
}

/// GGUF v3 with the same metadata and no tensor at all, as llama.cpp's `models/ggml-vocab-*.gguf`
/// (tokenizer vocabularies for its tests; gguf-py `GGUFWriter` with no `add_tensor`).
pub fn gguf_vocabulary_only() -> Vec<u8> {
    gguf_with_tensors(false)
}

fn gguf_with_tensors(with_tensors: bool) -> Vec<u8> {
    let mut out = b"GGUF".to_vec();
    u32le(&mut out, 3);
    u64le(&mut out, if with_tensors { 2 } else { 0 }); // tensors
    u64le(&mut out, 3); // metadata entries
    gguf_string(&mut out, "general.architecture");
    u32le(&mut out, 8);
    gguf_string(&mut out, "llama");
    gguf_string(&mut out, "general.alignment");
    u32le(&mut out, 4);
    u32le(&mut out, 32);
    gguf_string(&mut out, "tokenizer.ggml.tokens");
    u32le(&mut out, 9);
    u32le(&mut out, 8);
    u64le(&mut out, 2);
    gguf_string(&mut out, "<s>");
    gguf_string(&mut out, "</s>");
    if !with_tensors {
        return out;
    }
    for (name, dims, ggml_type, offset) in
        [("w", &[4u64, 3][..], 0u32, 0u64), ("q", &[32][..], 8, 64)]
    {
        gguf_string(&mut out, name);
        u32le(&mut out, dims.len() as u32);
        for d in dims {
            u64le(&mut out, *d);
        }
        u32le(&mut out, ggml_type);
        u64le(&mut out, offset);
    }
    while !out.len().is_multiple_of(32) {
        out.push(0);
    }
    out.extend_from_slice(&floats(12));
    out.resize(out.len() + 64 - 48 + 34, 0); // q8_0: 32 values in one 34-byte block
    out
}

/// GGUF whose header claims 2^60 tensors.
pub fn gguf_absurd() -> Vec<u8> {
    let mut out = b"GGUF".to_vec();
    u32le(&mut out, 3);
    u64le(&mut out, 1 << 60);
    u64le(&mut out, 0);
    out.extend_from_slice(&floats(16));
    out
}

/// Legacy GGJT v3 (llama.cpp before GGUF): magic, version, seven u32 hyperparameters.
pub fn ggjt() -> Vec<u8> {
    let mut out = b"tjgg".to_vec();
    u32le(&mut out, 3);
    for hparam in [32000, 4096, 256, 32, 32, 128, 2] {
        u32le(&mut out, hparam);
    }
    out.extend_from_slice(&floats(64));
    out
}

/// ONNX ModelProto: IR 8, a graph with one Add node and two initializers (float [2, 3] and
/// int64 [4]), opset 13.
pub fn onnx() -> Vec<u8> {
    let node = Pb::default()
        .bytes(1, b"w")
        .bytes(1, b"x")
        .bytes(2, b"y")
        .bytes(4, b"Add");
    let weight = Pb::default()
        .varint(1, 2)
        .varint(1, 3)
        .varint(2, 1)
        .bytes(8, b"w")
        .bytes(9, &floats(6));
    let index = Pb::default()
        .packed(1, &[4])
        .varint(2, 7)
        .bytes(8, b"i")
        .bytes(9, &[0u8; 32]);
    let graph = Pb::default()
        .message(1, node)
        .bytes(2, b"g")
        .message(5, weight)
        .message(5, index);
    Pb::default()
        .varint(1, 8)
        .bytes(2, b"fixture")
        .message(7, graph)
        .message(8, Pb::default().varint(2, 13))
        .0
}

/// HDF5 superblock version 2 after a `user_block` bytes user block.
pub fn hdf5(user_block: usize) -> Vec<u8> {
    let mut out = vec![0u8; user_block];
    out.extend_from_slice(b"\x89HDF\r\n\x1a\n");
    out.extend_from_slice(&[2, 8, 8, 0]); // version, size of offsets, size of lengths, flags
    u64le(&mut out, 0); // base address
    u64le(&mut out, u64::MAX); // no superblock extension
    u64le(&mut out, 96); // end of file address
    u64le(&mut out, 48); // root group object header
    u32le(&mut out, 0); // checksum (not verified by identification)
    out.resize(user_block + 96, 0);
    out
}

/// Keras 3 `.keras`: metadata.json, config.json, model.weights.h5.
pub fn keras() -> Vec<u8> {
    zip(
        &[
            ("metadata.json", br#"{"keras_version": "3.6.0"}"#),
            (
                "config.json",
                br#"{"class_name": "Sequential", "config": {"layers": []}}"#,
            ),
            ("model.weights.h5", &hdf5(0)),
        ],
        true,
    )
}

/// `.npy` version 1.0 with `descr` and `shape` as Python literals and `data` after the header.
pub fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// `.npz` (as savez_compressed): a float32 [2, 3] and an int64 [5].
pub fn npz() -> Vec<u8> {
    zip(
        &[
            ("a.npy", &npy("'<f4'", "(2, 3)", &floats(6))),
            ("b.npy", &npy("'<i8'", "(5,)", &[0u8; 40])),
        ],
        true,
    )
}

/// Protocol-2 pickle of an empty dict: PROTO 2, EMPTY_DICT, BINPUT 0, STOP.
pub const PICKLE_EMPTY_DICT: &[u8] = b"\x80\x02}q\x00.";

fn torch_members<'a>(extra: &[(&'a str, &'a [u8])]) -> Vec<(&'a str, &'a [u8])> {
    let mut members: Vec<(&str, &[u8])> = vec![
        ("archive/data.pkl", PICKLE_EMPTY_DICT),
        ("archive/byteorder", b"little"),
        ("archive/data/0", &[0u8; 64]),
        ("archive/data/1", &[0u8; 64]),
        ("archive/version", b"3\n"),
        ("archive/.data/serialization_id", b"1234567890"),
    ];
    members.extend_from_slice(extra);
    members
}

/// torch.save (≥ 1.6) zip: stored records under one top directory.
pub fn pytorch_zip() -> Vec<u8> {
    zip(&torch_members(&[]), false)
}

/// TorchScript: a torch zip plus code/ and constants.pkl.
pub fn torchscript() -> Vec<u8> {
    zip(
        &torch_members(&[
            (
                "archive/code/__torch__/model.py",
                b"class Model(Module):\n  pass\n",
            ),
            ("archive/constants.pkl", b"\x80\x02).".as_slice()),
        ]),
        false,
    )
}

/// Legacy torch.save: pickles of the magic number, protocol 1001, sys_info, the object and
/// the storage keys, then raw storage bytes.
pub fn pytorch_legacy() -> Vec<u8> {
    let mut out = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e".to_vec();
    out.extend_from_slice(b"\x80\x02\x4d\xe9\x03\x2e");
    out.extend_from_slice(PICKLE_EMPTY_DICT);
    out.extend_from_slice(PICKLE_EMPTY_DICT);
    out.extend_from_slice(b"\x80\x02]q\x00.");
    out.extend_from_slice(&floats(8));
    out
}

/// TFLite: root offset, "TFL3", a vtable with one field, and the Model table with version 3.
pub fn tflite() -> Vec<u8> {
    let mut out = Vec::new();
    u32le(&mut out, 16); // root table offset
    out.extend_from_slice(b"TFL3");
    out.extend_from_slice(&6u16.to_le_bytes()); // vtable length
    out.extend_from_slice(&8u16.to_le_bytes()); // table length
    out.extend_from_slice(&4u16.to_le_bytes()); // field 0 (version) at table + 4
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&8i32.to_le_bytes()); // table - vtable
    u32le(&mut out, 3);
    out.extend_from_slice(&[0u8; 8]);
    out
}

/// An SSTable with two empty blocks and the 48-byte footer (two block handles, padding, magic).
pub fn sstable() -> Vec<u8> {
    let mut out = vec![0u8; 10]; // two 0-byte blocks, each with its 5-byte trailer
    let mut footer = Pb::default();
    for v in [0, 0, 5, 0] {
        footer.raw_varint(v);
    }
    let mut footer = footer.0;
    footer.resize(40, 0);
    footer.extend_from_slice(&0xdb4775248b80fb57u64.to_le_bytes());
    out.extend_from_slice(&footer);
    out
}

/// SavedModel proto: schema version 1 and one MetaGraphDef with a tags entry.
pub fn saved_model_pb() -> Vec<u8> {
    let meta_info = Pb::default().bytes(4, b"serve");
    let meta_graph = Pb::default().message(1, meta_info);
    Pb::default().varint(1, 1).message(2, meta_graph).0
}

/// Caffe NetParameter: a name and one layer with two blobs (float [2, 3] via shape, and 2 values).
pub fn caffemodel() -> Vec<u8> {
    let packed_floats = floats(6);
    let blob1 = Pb::default()
        .bytes(5, &packed_floats)
        .message(7, Pb::default().packed(1, &[2, 3]));
    let blob2 = Pb::default().bytes(5, &floats(2));
    let layer = Pb::default()
        .bytes(1, b"conv1")
        .bytes(2, b"Convolution")
        .bytes(3, b"data")
        .bytes(4, b"conv1")
        .message(7, blob1)
        .message(7, blob2);
    Pb::default().bytes(1, b"LeNet").message(100, layer).0
}

/// Darknet 0.2.0: major, minor, revision, u64 images seen, then `values` float32.
pub fn darknet(values: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [0u32, 2, 0] {
        u32le(&mut out, v);
    }
    u64le(&mut out, 32_013_312);
    out.extend_from_slice(&floats(values));
    out
}

/// MXNet NDArray list with two arrays (V2 magic, default storage, shapes [3] and [2, 2],
/// CPU context, float32), then their names.
pub fn mxnet() -> Vec<u8> {
    let mut out = Vec::new();
    u64le(&mut out, 0x112);
    u64le(&mut out, 0);
    u64le(&mut out, 2);
    for shape in [&[3i64][..], &[2, 2]] {
        u32le(&mut out, 0xF993_FAC9);
        out.extend_from_slice(&0i32.to_le_bytes()); // default storage
        u32le(&mut out, shape.len() as u32);
        for d in shape {
            out.extend_from_slice(&d.to_le_bytes());
        }
        out.extend_from_slice(&1i32.to_le_bytes()); // cpu
        out.extend_from_slice(&0i32.to_le_bytes());
        out.extend_from_slice(&0i32.to_le_bytes()); // float32
        out.extend_from_slice(&floats(shape.iter().product::<i64>() as usize));
    }
    u64le(&mut out, 2);
    for name in ["arg:w", "arg:b"] {
        u64le(&mut out, name.len() as u64);
        out.extend_from_slice(name.as_bytes());
    }
    out
}

/// Protocol-0 pickle of `{'a': 1}`: MARK, DICT, PUT, STRING, PUT, INT, SETITEM, STOP.
pub const PICKLE_PROTOCOL_0: &[u8] = b"(dp0\nS'a'\np1\nI1\ns.";

/// Protocol-4 pickle of `{'a': 1}` with a FRAME.
pub fn pickle_protocol_4() -> Vec<u8> {
    let body = b"}\x94\x8c\x01a\x94K\x01s.";
    let mut out = b"\x80\x04\x95".to_vec();
    u64le(&mut out, body.len() as u64);
    out.extend_from_slice(body);
    out
}

/// joblib: a protocol-2 pickle naming NumpyArrayWrapper, raw array bytes written in the middle
/// of the stream as joblib does, then the rest of the pickle.
pub fn joblib() -> Vec<u8> {
    let mut out =
        b"\x80\x02cjoblib.numpy_pickle\nNumpyArrayWrapper\nq\x00)\x81q\x01}q\x02b".to_vec();
    out.extend_from_slice(&floats(16));
    out.push(b'.');
    out
}

/// Stockfish NNUE: version 0x7AF32F20, hash, description, then parameters.
pub fn nnue() -> Vec<u8> {
    let description = b"Features=HalfKAv2_hm(Friend)[22528->128x2],Network=AffineTransform";
    let mut out = Vec::new();
    u32le(&mut out, 0x7AF3_2F20);
    u32le(&mut out, 0x3C10_3E72);
    u32le(&mut out, description.len() as u32);
    out.extend_from_slice(description);
    out.extend_from_slice(&floats(32));
    out
}

/// Leela Zero network text (version 1, rows of coefficients), gzipped.
pub fn leela_zero() -> Vec<u8> {
    let mut text = String::from("1\n");
    for row in 0..6 {
        let values: Vec<String> = (0..8)
            .map(|i| format!("{:.4}", (row * 8 + i) as f32 / 97.0 - 0.2))
            .collect();
        text.push_str(&values.join(" "));
        text.push('\n');
    }
    gzip(text.as_bytes())
}

/// A PNG signature and IHDR chunk, padded to `size` bytes.
pub fn png(size: usize) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x02\x00\x00\x00".to_vec();
    out.extend_from_slice(&[0x90, 0x77, 0x53, 0xde]);
    out.extend((0..size.saturating_sub(out.len())).map(|i| (i * 7919 % 251) as u8));
    out
}

// --- hostile zips -------------------------------------------------------------------------------

/// One member of a zip written by [`raw_zip`]: its bytes as stored (already compressed), and
/// header fields a hostile writer may set to anything.
pub struct RawMember<'a> {
    pub name: &'a str,
    /// 0 stored, 8 deflate; anything else is a method no loader knows.
    pub method: u16,
    /// General-purpose flags; bit 0 marks the member encrypted.
    pub flags: u16,
    pub stored: Vec<u8>,
    pub crc: u32,
    pub size: u32,
    /// The compressed size both headers declare.
    pub declared_compressed: u32,
}

impl<'a> RawMember<'a> {
    /// A stored (uncompressed) member, with true headers.
    pub fn stored(name: &'a str, bytes: &[u8]) -> Self {
        Self {
            name,
            method: 0,
            flags: 0,
            stored: bytes.to_vec(),
            crc: crc32(bytes),
            size: bytes.len() as u32,
            declared_compressed: bytes.len() as u32,
        }
    }

    /// A raw-deflated member, with true headers.
    pub fn deflated(name: &'a str, bytes: &[u8]) -> Self {
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(bytes).unwrap();
        let stored = encoder.finish().unwrap();
        Self {
            name,
            method: 8,
            flags: 0,
            crc: crc32(bytes),
            size: bytes.len() as u32,
            declared_compressed: stored.len() as u32,
            stored,
        }
    }
}

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    crc.sum()
}

/// How [`raw_zip`] lays the archive out.
#[derive(Default)]
pub struct RawLayout<'a> {
    /// Bytes before the first member (a self-extractor's stub); offsets stay relative to the
    /// zip's own start, as a stub prepended to a finished zip leaves them.
    pub prefix: &'a [u8],
    /// The member count the end-of-central-directory record declares, if not the true one.
    pub declared_count: Option<u16>,
    /// Write a zip64 end record and locator (APPNOTE 4.3.14, 4.3.15) holding the count and the
    /// directory's size and offset, the classic record marking them 0xFFFF / 0xFFFFFFFF.
    pub zip64: bool,
}

/// A zip written header by header (APPNOTE 4.3), so that any field can lie.
pub fn raw_zip(members: &[RawMember], layout: &RawLayout) -> Vec<u8> {
    let u16le = |out: &mut Vec<u8>, v: u16| out.extend_from_slice(&v.to_le_bytes());
    let mut body = Vec::new();
    let mut directory = Vec::new();
    for m in members {
        let offset = body.len() as u32;
        u32le(&mut body, 0x0403_4b50);
        u16le(&mut body, 20);
        u16le(&mut body, m.flags);
        u16le(&mut body, m.method);
        u32le(&mut body, 0); // time, date
        u32le(&mut body, m.crc);
        u32le(&mut body, m.declared_compressed);
        u32le(&mut body, m.size);
        u16le(&mut body, m.name.len() as u16);
        u16le(&mut body, 0);
        body.extend_from_slice(m.name.as_bytes());
        body.extend_from_slice(&m.stored);

        u32le(&mut directory, 0x0201_4b50);
        u16le(&mut directory, 20);
        u16le(&mut directory, 20);
        u16le(&mut directory, m.flags);
        u16le(&mut directory, m.method);
        u32le(&mut directory, 0);
        u32le(&mut directory, m.crc);
        u32le(&mut directory, m.declared_compressed);
        u32le(&mut directory, m.size);
        u16le(&mut directory, m.name.len() as u16);
        u16le(&mut directory, 0); // extra
        u16le(&mut directory, 0); // comment
        u16le(&mut directory, 0); // disk
        u16le(&mut directory, 0); // internal attributes
        u32le(&mut directory, 0o100644 << 16); // external attributes: a regular file
        u32le(&mut directory, offset);
        directory.extend_from_slice(m.name.as_bytes());
    }
    let count = layout.declared_count.unwrap_or(members.len() as u16);
    let mut out = layout.prefix.to_vec();
    let directory_at = body.len() as u32;
    out.extend_from_slice(&body);
    out.extend_from_slice(&directory);
    let (count, directory_len, directory_at) = if layout.zip64 {
        let record_at = (out.len() - layout.prefix.len()) as u64;
        u32le(&mut out, 0x0606_4b50);
        u64le(&mut out, 44); // size of the rest of the record
        u16le(&mut out, 45);
        u16le(&mut out, 45);
        u32le(&mut out, 0);
        u32le(&mut out, 0);
        u64le(&mut out, u64::from(count));
        u64le(&mut out, u64::from(count));
        u64le(&mut out, directory.len() as u64);
        u64le(&mut out, u64::from(directory_at));
        u32le(&mut out, 0x0706_4b50);
        u32le(&mut out, 0);
        u64le(&mut out, record_at);
        u32le(&mut out, 1);
        (u16::MAX, u32::MAX, u32::MAX)
    } else {
        (count, directory.len() as u32, directory_at)
    };
    u32le(&mut out, 0x0605_4b50);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, count);
    u16le(&mut out, count);
    u32le(&mut out, directory_len);
    u32le(&mut out, directory_at);
    u16le(&mut out, 0);
    out
}

/// A V7 tar (no `ustar` magic, as Unix wrote them before POSIX) of `(name, bytes)` members,
/// written header by header.
pub fn tar_v7(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, bytes) in members {
        let mut header = [0u8; 512];
        header[..name.len()].copy_from_slice(name.as_bytes());
        let octal = |header: &mut [u8; 512], at: usize, width: usize, v: u64| {
            let text = format!("{v:0w$o}\0", w = width - 1);
            header[at..at + width].copy_from_slice(text.as_bytes());
        };
        octal(&mut header, 100, 8, 0o644);
        octal(&mut header, 108, 8, 0);
        octal(&mut header, 116, 8, 0);
        octal(&mut header, 124, 12, bytes.len() as u64);
        octal(&mut header, 136, 12, 0);
        header[156] = b'0';
        header[148..156].fill(b' ');
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(bytes);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// A little-endian x86-64 ELF executable (System V gABI: `e_ident`, `e_type` ET_EXEC,
/// `e_machine` EM_X86_64, `e_version`, no program or section headers needed to be recognised)
/// of `len` bytes, with `payload` placed at `offset`, as `INCBIN` or `xxd -i` places a file's
/// bytes in `.rodata`. The filler is machine-code-like noise that holds the NNUE version word
/// as an instruction immediate (`cmp eax, 0x7AF32F20`, as stockfish's loader compiles) and the
/// string "GGUF" as an error message would, neither of them a network.
pub fn elf_with(payload: &[u8], offset: usize, len: usize) -> Vec<u8> {
    let mut out = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0];
    out.resize(16, 0);
    out.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    out.extend_from_slice(&0x3eu16.to_le_bytes()); // EM_X86_64
    u32le(&mut out, 1); // EV_CURRENT
    out.resize(64, 0);
    out.extend_from_slice(&noise(offset - 64 - 64, 7));
    out.extend_from_slice(&[
        0x3d, 0x20, 0x2f, 0xf3, 0x7a, 0x0f, 0x85, 0xa8, 0x5a, 0xfd, 0xff,
    ]);
    out.extend_from_slice(b"GGUF: bad magic\0");
    out.resize(offset, 0x90);
    out.extend_from_slice(payload);
    out.extend_from_slice(&noise(len - out.len(), 9));
    out
}

/// Tesseract 4 `.traineddata` as `TessdataManager::Serialize` writes it (tessdatamanager.cpp):
/// int32 24 entries, 24 int64 offsets (-1 absent), then the present components back to back:
/// here the version string (entry 23), an lstm network (17) and its unicharset (21).
pub fn traineddata() -> Vec<u8> {
    let components: [(usize, &[u8]); 3] = [
        (17, &floats(64)),
        (21, b"3\nNULL 0 Common 0\na 3 Latin 1\n"),
        (23, b"4.00.00alpha:eng"),
    ];
    let mut offsets = [-1i64; 24];
    let mut at = 4 + 8 * 24;
    for (index, bytes) in &components {
        offsets[*index] = at as i64;
        at += bytes.len();
    }
    let mut out = Vec::new();
    u32le(&mut out, 24);
    for offset in offsets {
        out.extend_from_slice(&offset.to_le_bytes());
    }
    for (_, bytes) in &components {
        out.extend_from_slice(bytes);
    }
    out
}

/// dlib's variable-length integer (serialize.h `pack_int`): a control byte with the byte
/// count and bit 7 for negatives, then the magnitude's bytes, least significant first.
fn dlib_int(out: &mut Vec<u8>, value: i64) {
    let magnitude = value.unsigned_abs();
    let bytes: Vec<u8> = magnitude
        .to_le_bytes()
        .into_iter()
        .take(((64 - magnitude.leading_zeros()).div_ceil(8)).max(1) as usize)
        .collect();
    out.push(bytes.len() as u8 | if value < 0 { 0x80 } else { 0 });
    out.extend_from_slice(&bytes);
}

/// A dlib `shape_predictor` of 5 landmarks (shape_predictor.h `serialize`): version 1, the
/// initial shape as `matrix<float,0,1>` (matrix.h: -rows, -cols, then each float as
/// `float_details` mantissa and exponent), then 2 cascade levels of 3 trees whose splits and
/// leaves are left out (identification stops at the level sizes).
pub fn dlib_shape_predictor() -> Vec<u8> {
    let mut out = Vec::new();
    dlib_int(&mut out, 1);
    dlib_int(&mut out, -10);
    dlib_int(&mut out, -1);
    for i in 0..10 {
        dlib_int(&mut out, 0xf1_384d + i);
        dlib_int(&mut out, -29);
    }
    dlib_int(&mut out, 2);
    dlib_int(&mut out, 3);
    out.extend_from_slice(&noise(512, 3));
    out
}

/// A dlib DNN as `serialize(net, out)` starts it (dnn/core.h `add_loss_layer`): version 1, then
/// the loss layer's name string (`loss_metric_`, as in dlib_face_recognition_resnet_model_v1).
pub fn dlib_network() -> Vec<u8> {
    let mut out = Vec::new();
    dlib_int(&mut out, 1);
    dlib_int(&mut out, "loss_metric_2".len() as i64);
    out.extend_from_slice(b"loss_metric_2");
    out.extend_from_slice(&noise(512, 4));
    out
}

/// An OpenCV cascade as `traincascade` writes it through `cv::FileStorage` (XML): a licence
/// comment first, as OpenCV's own cascades have, then `<opencv_storage><cascade>`.
pub fn opencv_cascade(feature: &str) -> Vec<u8> {
    let comment =
        "  By downloading, copying, installing or using the software you agree\n".repeat(60);
    format!(
        "<?xml version=\"1.0\"?>\n<!--\n{comment}-->\n<opencv_storage>\n<cascade type_id=\"opencv-cascade-classifier\">\n  \
         <stageType>BOOST</stageType>\n  <featureType>{feature}</featureType>\n  <height>24</height>\n  \
         <width>24</width>\n  <stageNum>20</stageNum>\n  <stages>\n    <_>\n      <maxWeakCount>3</maxWeakCount>\n    \
         </_></stages></cascade>\n</opencv_storage>\n"
    )
    .into_bytes()
}

/// The old Haar format (OpenCV 1.x `cvSave` of a `CvHaarClassifierCascade`, read by haar.cpp).
pub fn opencv_haar_old() -> Vec<u8> {
    b"<?xml version=\"1.0\"?>\n<opencv_storage>\n<haarcascade_frontalface type_id=\"opencv-haar-classifier\">\n  \
      <size>20 20</size>\n  <stages>\n    <_>\n      <trees>\n        <_>\n          <_>\n            \
      <feature><rects><_>3 7 14 4 -1.</_></rects><tilted>0</tilted></feature>\n            \
      <threshold>4.0141958743333817e-003</threshold></_></_></trees></_></stages>\n</haarcascade_frontalface>\n\
      </opencv_storage>\n"
        .to_vec()
}

/// A `cv::ml::SVM` saved as YAML (ml/src/svm.cpp `write`: the default name `opencv_ml_svm`,
/// `format: 3`, then the parameters and support vectors), as OpenCV's BRISQUE model is.
pub fn opencv_svm_yaml() -> Vec<u8> {
    b"%YAML:1.0\n---\nopencv_ml_svm:\n   format: 3\n   svmType: EPS_SVR\n   kernel:\n      type: RBF\n      \
      gamma: 5.0000000000000003e-02\n   C: 1024.\n   var_count: 2\n   sv_total: 2\n   support_vectors:\n      \
      - [ -5.97555935e-01, 1.0e-01 ]\n      - [ 2.5e-01, 3.0e-01 ]\n"
        .to_vec()
}

/// A `cv::ml::ANN_MLP` saved under a name of its own (`ann.write(fs)` inside a user node): no
/// default name, but `format: 3` and `layer_sizes`.
pub fn opencv_ann_xml_named() -> Vec<u8> {
    b"<?xml version=\"1.0\"?>\n<opencv_storage>\n<digits>\n  <format>3</format>\n  \
      <layer_sizes type_id=\"opencv-matrix\"><rows>1</rows><cols>3</cols><dt>i</dt><data>64 10 10</data></layer_sizes>\n\
      </digits>\n</opencv_storage>\n"
        .to_vec()
}

/// A plain `cv::FileStorage` matrix (BRISQUE's feature ranges): not a model.
pub fn opencv_matrix_yaml() -> Vec<u8> {
    b"%YAML:1.0\n---\nrange: !!opencv-matrix\n   rows: 2\n   cols: 2\n   dt: f\n   data: [ 1., 2., 3., 4. ]\n"
        .to_vec()
}

/// The s3 binary header (sphinxbase bio.c `bio_writehdr`): `s3\n`, `name value` lines,
/// `endhdr\n`, then the byte-order word 0x11223344 in the writer's (little-endian) order.
fn s3_header() -> Vec<u8> {
    let mut out = b"s3\nversion 1.0\nchksum0 yes\n      endhdr\n".to_vec();
    u32le(&mut out, 0x1122_3344);
    out
}

/// Sphinx `means` (ms_gauden.c `gauden_param_write` layout): 2 codebooks, 1 stream, 4
/// densities, vector length 3, the total 24, the floats, a checksum word.
pub fn sphinx_means() -> Vec<u8> {
    let mut out = s3_header();
    for v in [2u32, 1, 4, 3, 24] {
        u32le(&mut out, v);
    }
    out.extend_from_slice(&floats(24));
    u32le(&mut out, 0xdead_beef);
    out
}

/// Sphinx `transition_matrices` (tmat.c, bio.c `bio_fwrite_3d`): 2 matrices of 3×4, total 24.
pub fn sphinx_transition_matrices() -> Vec<u8> {
    let mut out = s3_header();
    for v in [2u32, 3, 4, 24] {
        u32le(&mut out, v);
    }
    out.extend_from_slice(&floats(24));
    out
}

/// A text `mdef` (mdef.c): version `0.3`, then the counts, each `value name`.
pub fn sphinx_mdef_text() -> Vec<u8> {
    b"0.3\n3 n_base\n0 n_tri\n12 n_state_map\n9 n_tied_state\n9 n_tied_ci_state\n3 n_tied_tmat\n#\n\
      # Columns definitions\n#base lft  rt p attrib tmat      ... state id's ...\nSIL   -   -  - filler    0    0    1    2    N\n"
        .to_vec()
}

/// `sendump` (s2_semi_mgau.c `read_sendump`): int32 length 30 and the description opener,
/// more length-prefixed lines, then the quantised weights.
pub fn sphinx_sendump() -> Vec<u8> {
    let mut out = Vec::new();
    for line in [
        &b"BEGIN FILE FORMAT DESCRIPTION\0"[..],
        b"END FILE FORMAT DESCRIPTION\0",
    ] {
        u32le(&mut out, line.len() as u32);
        out.extend_from_slice(line);
    }
    out.extend_from_slice(&noise(256, 5));
    out
}

/// `feat.params` as pocketsphinx's en-us model ships it.
pub fn sphinx_feat_params() -> Vec<u8> {
    b"-lowerf 130\n-upperf 6800\n-nfilt 25\n-transform dct\n-lifter 22\n-feat 1s_c_d_dd\n-agc none\n-cmn batch\n"
        .to_vec()
}

/// A sphinxbase trie language model (ngram_model_trie.c `ngram_model_trie_write_bin`): the
/// signature, the order byte, then the counts and tries.
pub fn sphinx_trie_lm() -> Vec<u8> {
    let mut out = b"Trie Language Model".to_vec();
    out.push(3);
    for count in [5u32, 4, 3] {
        u32le(&mut out, count);
    }
    out.extend_from_slice(&noise(256, 6));
    out
}

/// A sphinx3 DMP language model (ngram_model_dmp.c): int32 17, "Darpa Trigram LM\0", then the
/// file format description and counts.
pub fn sphinx_dmp_lm() -> Vec<u8> {
    let mut out = Vec::new();
    u32le(&mut out, 17);
    out.extend_from_slice(b"Darpa Trigram LM\0");
    out.extend_from_slice(&noise(256, 8));
    out
}

/// `gnubg.wd` as gnubg's makeweights writes it (neuralnet.c `NeuralNetSaveBinary`): float magic
/// 472.3782, float version 1.0, then each network's cInput, cHidden, cOutput, nTrained (int32),
/// rBetaHidden, rBetaOutput (float) and its hidden and output weights and thresholds.
pub fn gnubg_weights() -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&472.3782f32.to_le_bytes());
    out.extend_from_slice(&1.0f32.to_le_bytes());
    for (inputs, hidden, outputs) in [(10u32, 4u32, 5u32), (8, 2, 5)] {
        for v in [inputs, hidden, outputs, 1] {
            u32le(&mut out, v);
        }
        out.extend_from_slice(&0.1f32.to_le_bytes());
        out.extend_from_slice(&1.0f32.to_le_bytes());
        let weights = hidden * (inputs + 1) + outputs * (hidden + 1);
        out.extend_from_slice(&floats(weights as usize));
    }
    out
}

/// A gnubg one-sided bear-off database (bearoff.c `makebearoff`): the 40-byte text header
/// `gnubg-OS-<points>-<chequers>-…`, then the tables.
pub fn gnubg_bearoff(size: usize) -> Vec<u8> {
    let mut out = b"gnubg-OS-06-15-1-1-0".to_vec();
    out.resize(39, b'x');
    out.push(b'\n');
    out.extend_from_slice(&noise(size - 40, 10));
    out
}

/// A fastText supervised model header (fasttext.cc `saveModel`, args.cc `Args::save`,
/// dictionary.cc `Dictionary::save`): magic, version 12, dim 10, ws 5, epoch 5, minCount 1,
/// neg 5, wordNgrams 1, loss softmax (3), model sup (3), bucket 0, minn 0, maxn 0,
/// lrUpdateRate 100, t 1e-4; dictionary size 3 = 2 words + 1 label, 10 tokens, no pruning;
/// the entries (word, NUL, int64 count, int8 type); then quant false and the input matrix.
pub fn fasttext() -> Vec<u8> {
    let mut out = Vec::new();
    for v in [793_712_314u32, 12, 10, 5, 5, 1, 5, 1, 3, 3, 0, 0, 0, 100] {
        u32le(&mut out, v);
    }
    out.extend_from_slice(&1e-4f64.to_le_bytes());
    for v in [3u32, 2, 1] {
        u32le(&mut out, v);
    }
    u64le(&mut out, 10);
    out.extend_from_slice(&(-1i64).to_le_bytes());
    for (word, kind) in [("hello", 0u8), ("world", 0), ("__label__greeting", 1)] {
        out.extend_from_slice(word.as_bytes());
        out.push(0);
        u64le(&mut out, 5);
        out.push(kind);
    }
    out.push(0);
    u64le(&mut out, 2);
    u64le(&mut out, 10);
    out.extend_from_slice(&floats(20));
    out
}

/// word2vec binary vectors as word2vec.c writes them: `"<count> <dim>\n"`, then per word the
/// word, a space, `dim` float32 values and a newline.
pub fn word2vec_binary() -> Vec<u8> {
    let mut out = b"3 4\n".to_vec();
    for (i, word) in ["the", "cat", "sat"].iter().enumerate() {
        out.extend_from_slice(word.as_bytes());
        out.push(b' ');
        out.extend_from_slice(&floats(4 + i)[4 * i..]);
        out.push(b'\n');
    }
    out
}

/// word2vec text vectors (`save_word2vec_format(binary=False)`, fastText's `.vec`).
pub fn word2vec_text() -> Vec<u8> {
    b"3 4\nthe 0.1 -0.2 0.3 0.04\ncat 1.5e-01 0.2 -0.3 0.4\nsat 0 0 0.5 -1\n".to_vec()
}

/// A TFLite model with two subgraphs of 3 and 2 tensors and 4 buffers (schema.fbs `Model`:
/// version field 0, subgraphs field 2, buffers field 4; `SubGraph`: tensors field 0). Tables
/// and vectors are laid out by hand as flatc would: offsets are relative to where they are
/// stored, a table starts with the int32 distance back to its vtable.
pub fn tflite_with_subgraphs() -> Vec<u8> {
    let mut out = vec![0u8; 8];
    out[4..8].copy_from_slice(b"TFL3");
    // Model vtable at 8: length 14 (5 fields), table length 24, fields 0..4 at 4, -, 8, -, 12.
    let model_vtable = out.len();
    for v in [14u16, 24, 4, 0, 8, 0, 12] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&[0, 0]); // pad to 4
    let model = out.len();
    out[0..4].copy_from_slice(&(model as u32).to_le_bytes());
    out.extend_from_slice(&((model - model_vtable) as i32).to_le_bytes());
    u32le(&mut out, 3); // version
    let subgraphs_slot = out.len();
    u32le(&mut out, 0);
    let buffers_slot = out.len();
    u32le(&mut out, 0);
    out.resize(model + 24, 0);
    // The subgraphs vector, then the tables it points forward to (uoffset_t is unsigned).
    let vector = out.len();
    out[subgraphs_slot..subgraphs_slot + 4]
        .copy_from_slice(&((vector - subgraphs_slot) as u32).to_le_bytes());
    u32le(&mut out, 2);
    let element_slots = [out.len(), out.len() + 4];
    out.extend_from_slice(&[0u8; 8]);
    // SubGraph vtable shared by both subgraphs: length 6, table length 8, tensors at 4.
    let sub_vtable = out.len();
    for v in [6u16, 8, 4] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&[0, 0]);
    for (tensors, element) in [3u32, 2].into_iter().zip(element_slots) {
        let table = out.len();
        out[element..element + 4].copy_from_slice(&((table - element) as u32).to_le_bytes());
        out.extend_from_slice(&((table - sub_vtable) as i32).to_le_bytes());
        let slot = out.len();
        u32le(&mut out, 4);
        u32le(&mut out, tensors);
        for _ in 0..tensors {
            u32le(&mut out, 0); // tensor table offsets, not followed
        }
        debug_assert_eq!(slot + 4, table + 8);
    }
    let vector = out.len();
    out[buffers_slot..buffers_slot + 4]
        .copy_from_slice(&((vector - buffers_slot) as u32).to_le_bytes());
    u32le(&mut out, 4);
    for _ in 0..4 {
        u32le(&mut out, 0);
    }
    out
}

/// GGJT v3 as llama.cpp's last pre-GGUF `llama_file_saver` wrote it: magic, version 3, the
/// seven hyperparameters (vocabulary 3), the vocabulary (u32 length, bytes, f32 score), then
/// per tensor u32 dimensions, name length and ggml type, the dimensions, the name, zero
/// padding to a multiple of 32 bytes, the data: an f32 [4, 3] and a q8_0 [64] (two 34-byte
/// blocks).
pub fn ggjt_with_tensors() -> Vec<u8> {
    let mut out = b"tjgg".to_vec();
    u32le(&mut out, 3);
    for hparam in [3, 4, 256, 1, 1, 4, 7] {
        u32le(&mut out, hparam);
    }
    for word in ["<unk>", "a", "b"] {
        u32le(&mut out, word.len() as u32);
        out.extend_from_slice(word.as_bytes());
        out.extend_from_slice(&0.0f32.to_le_bytes());
    }
    for (name, dims, ggml_type, data) in [
        ("tok_embeddings.weight", &[4u32, 3][..], 0u32, floats(12)),
        ("norm.weight", &[64][..], 8, vec![0u8; 68]),
    ] {
        u32le(&mut out, dims.len() as u32);
        u32le(&mut out, name.len() as u32);
        u32le(&mut out, ggml_type);
        for d in dims {
            u32le(&mut out, *d);
        }
        out.extend_from_slice(name.as_bytes());
        while !out.len().is_multiple_of(32) {
            out.push(0);
        }
        out.extend_from_slice(&data);
    }
    out
}

/// `gnubg.weights`, the text form (neuralnet.c `NeuralNetLoad`): `GNU Backgammon 1.00`, then
/// per network `cInput cHidden cOutput <word> rBetaHidden rBetaOutput` and one float a line.
pub fn gnubg_text_weights() -> Vec<u8> {
    let mut out = String::from("GNU Backgammon 1.00\n");
    for (inputs, hidden, outputs) in [(10u32, 4u32, 5u32), (8, 2, 5)] {
        out.push_str(&format!(
            "{inputs} {hidden} {outputs} s 0.100000 1.000000\n"
        ));
        for i in 0..hidden * (inputs + 1) + outputs * (hidden + 1) {
            out.push_str(&format!("{:.6}\n", (i as f32 - 20.0) / 7.0));
        }
    }
    out.into_bytes()
}
