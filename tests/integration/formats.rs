//! Weight formats identified by content: every format under its usual name and renamed,
//! counts and dtypes where headers state them, negatives, and malformed headers.

use serde_json::Value;

use crate::fixtures;
use crate::support::{finding, scan_json, write};

/// (format expected, usual file name, bytes) for every format identified by content alone.
fn content_identified() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    vec![
        (
            "safetensors",
            "model.safetensors",
            fixtures::safetensors(&[("w", "F32", &[2, 3]), ("b", "BF16", &[3])]),
        ),
        ("gguf", "model-q8_0.gguf", fixtures::gguf()),
        ("ggml", "ggml-model-q4_0.bin", fixtures::ggjt()),
        ("onnx", "model.onnx", fixtures::onnx()),
        ("hdf5", "model.h5", fixtures::hdf5(0)),
        ("hdf5", "with-user-block.h5", fixtures::hdf5(512)),
        ("keras", "model.keras", fixtures::keras()),
        (
            "npy",
            "weights.npy",
            fixtures::npy("'<f4'", "(2, 3)", &fixtures::floats(6)),
        ),
        ("npz", "arrays.npz", fixtures::npz()),
        ("pytorch", "pytorch_model.bin", fixtures::pytorch_zip()),
        ("pytorch", "legacy.pth", fixtures::pytorch_legacy()),
        ("torchscript", "scripted.pt", fixtures::torchscript()),
        ("tflite", "model.tflite", fixtures::tflite()),
        ("caffe", "net.caffemodel", fixtures::caffemodel()),
        ("mxnet", "net-0000.params", fixtures::mxnet()),
        ("pickle", "model.pkl", fixtures::pickle_protocol_4()),
        ("pickle", "old.pkl", fixtures::PICKLE_PROTOCOL_0.to_vec()),
        (
            "pickle",
            "model.pkl.gz",
            fixtures::gzip(fixtures::PICKLE_EMPTY_DICT),
        ),
        ("joblib", "model.joblib", fixtures::joblib()),
        (
            "joblib",
            "model.joblib.gz",
            fixtures::gzip(&fixtures::joblib()),
        ),
        (
            "joblib",
            "model.joblib.z",
            fixtures::zlib(&fixtures::joblib()),
        ),
        ("nnue", "nn-0123456789ab.nnue", fixtures::nnue()),
        ("leela-zero", "best-network.gz", fixtures::leela_zero()),
        ("tesseract", "eng.traineddata", fixtures::traineddata()),
        (
            "dlib",
            "shape_predictor_5_face_landmarks.dat",
            fixtures::dlib_shape_predictor(),
        ),
        (
            "dlib",
            "dlib_face_recognition_resnet_model_v1.dat",
            fixtures::dlib_network(),
        ),
        (
            "opencv-cascade",
            "haarcascade_frontalface_default.xml",
            fixtures::opencv_cascade("HAAR"),
        ),
        (
            "opencv-cascade",
            "lbpcascade_frontalface.xml",
            fixtures::opencv_cascade("LBP"),
        ),
        (
            "opencv-cascade",
            "haarcascade_old.xml",
            fixtures::opencv_haar_old(),
        ),
        (
            "opencv-ml",
            "brisque_model_live.yml",
            fixtures::opencv_svm_yaml(),
        ),
        ("opencv-ml", "digits.xml", fixtures::opencv_ann_xml_named()),
        ("sphinx", "means", fixtures::sphinx_means()),
        (
            "sphinx",
            "transition_matrices",
            fixtures::sphinx_transition_matrices(),
        ),
        ("sphinx", "mdef", fixtures::sphinx_mdef_text()),
        ("sphinx", "sendump", fixtures::sphinx_sendump()),
        ("sphinx", "feat.params", fixtures::sphinx_feat_params()),
        ("sphinx-lm", "en-us.lm.bin", fixtures::sphinx_trie_lm()),
        ("sphinx-lm", "wsj.DMP", fixtures::sphinx_dmp_lm()),
        ("gnubg", "gnubg.wd", fixtures::gnubg_weights()),
        ("gnubg", "gnubg.weights", fixtures::gnubg_text_weights()),
        ("fasttext", "lid.176.ftz", fixtures::fasttext()),
        ("word2vec", "vectors.bin", fixtures::word2vec_binary()),
        ("word2vec", "wiki.en.vec", fixtures::word2vec_text()),
    ]
}

fn format_of<'a>(findings: &'a [Value], path: &str) -> &'a Value {
    let found =
        finding(findings, path).unwrap_or_else(|| panic!("{path} not reported: {findings:#?}"));
    assert_eq!(found["kind"], "weights", "{path}: {found}");
    found
}

#[test]
fn every_format_is_identified_under_its_usual_name() {
    let dir = tempfile::tempdir().unwrap();
    let cases = content_identified();
    for (format, name, bytes) in &cases {
        write(dir.path(), &format!("{format}/{name}"), bytes);
    }
    let findings = scan_json(dir.path(), &[]);
    for (format, name, _) in &cases {
        let found = format_of(&findings, &format!("{format}/{name}"));
        assert_eq!(found["format"], *format, "{name}: {found}");
    }
    assert_eq!(findings.len(), cases.len(), "{findings:#?}");
}

#[test]
fn every_format_is_identified_when_renamed_to_a_neutral_name() {
    let dir = tempfile::tempdir().unwrap();
    let cases = content_identified();
    for (i, (_, _, bytes)) in cases.iter().enumerate() {
        write(dir.path(), &format!("{i:02}/blob.dat"), bytes);
    }
    let findings = scan_json(dir.path(), &[]);
    for (i, (format, name, _)) in cases.iter().enumerate() {
        let found = format_of(&findings, &format!("{i:02}/blob.dat"));
        // Only the .joblib name can tell a compressed joblib from another compressed pickle
        // when the pickle does not name joblib's wrapper: ours does, so content decides.
        assert_eq!(found["format"], *format, "{name} renamed: {found}");
    }
}

#[test]
fn header_counts_and_dtypes_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    for (format, name, bytes) in content_identified() {
        write(dir.path(), &format!("{format}/{name}"), bytes);
    }
    write(
        dir.path(),
        "npy/objects.npy",
        fixtures::npy("'|O'", "(4,)", fixtures::PICKLE_EMPTY_DICT),
    );
    write(
        dir.path(),
        "npy/structured.npy",
        fixtures::npy("[('x', '<f4'), ('y', '<i2', (3,))]", "(2,)", &[0u8; 20]),
    );
    let findings = scan_json(dir.path(), &[]);
    let check = |path: &str, tensors: Option<u64>, parameters: Option<u64>, dtypes: &[&str]| {
        let f = format_of(&findings, path);
        assert_eq!(f["tensors"].as_u64(), tensors, "{path} tensors: {f}");
        assert_eq!(
            f["parameters"].as_u64(),
            parameters,
            "{path} parameters: {f}"
        );
        let got: Vec<&str> = f["dtypes"]
            .as_array()
            .map(|a| a.iter().map(|d| d.as_str().unwrap()).collect())
            .unwrap_or_default();
        assert_eq!(got, dtypes, "{path} dtypes: {f}");
    };
    // safetensors sorts nothing: entries come in the header's (JSON object) order.
    check(
        "safetensors/model.safetensors",
        Some(2),
        Some(9),
        &["bfloat16", "float32"],
    );
    check(
        "gguf/model-q8_0.gguf",
        Some(2),
        Some(44),
        &["float32", "q8_0"],
    );
    check("onnx/model.onnx", Some(2), Some(10), &["float32", "int64"]);
    check("npy/weights.npy", Some(1), Some(6), &["float32"]);
    check("npy/structured.npy", Some(1), Some(2), &["structured"]);
    check("npz/arrays.npz", Some(2), Some(11), &["float32", "int64"]);
    check("caffe/net.caffemodel", Some(2), Some(8), &["float32"]);
    check("mxnet/net-0000.params", Some(2), None, &[]);
    // gnubg: 2 networks of hidden and output weights and thresholds, 10-4-5 and 8-2-5.
    check("gnubg/gnubg.wd", Some(8), Some(102), &["float32"]);
    check("sphinx/means", Some(1), Some(24), &["float32"]);
    check(
        "sphinx/transition_matrices",
        Some(1),
        Some(24),
        &["float32"],
    );
    check("word2vec/vectors.bin", Some(1), Some(12), &["float32"]);
    check("word2vec/wiki.en.vec", Some(1), Some(12), &[]);

    let objects = format_of(&findings, "npy/objects.npy");
    assert_eq!(objects["dtypes"][0], "object");
    assert_eq!(objects["executes_code"], true, "object arrays are pickles");
    assert_eq!(
        format_of(&findings, "npy/weights.npy")["executes_code"],
        false
    );
    for code in [
        "pytorch/pytorch_model.bin",
        "pytorch/legacy.pth",
        "torchscript/scripted.pt",
        "pickle/model.pkl",
        "joblib/model.joblib",
        "keras/model.keras",
    ] {
        assert_eq!(format_of(&findings, code)["executes_code"], true, "{code}");
    }
    for data in [
        "safetensors/model.safetensors",
        "gguf/model-q8_0.gguf",
        "onnx/model.onnx",
    ] {
        assert_eq!(format_of(&findings, data)["executes_code"], false, "{data}");
    }
    let legacy = format_of(&findings, "pytorch/legacy.pth");
    assert!(
        legacy["reason"].as_str().unwrap().contains("legacy"),
        "{legacy}"
    );
    let ggml = format_of(&findings, "ggml/ggml-model-q4_0.bin");
    assert_eq!(ggml["reason"], "ggjt v3");
    let notes = [
        (
            "tesseract/eng.traineddata",
            "LSTM network; components: lstm, lstm-unicharset, version",
        ),
        (
            "dlib/shape_predictor_5_face_landmarks.dat",
            "5 landmarks, 2 cascade levels of 3 trees",
        ),
        (
            "dlib/dlib_face_recognition_resnet_model_v1.dat",
            "loss layer loss_metric_2",
        ),
        (
            "opencv-cascade/lbpcascade_frontalface.xml",
            "LBP features, 20 stages",
        ),
        ("opencv-ml/brisque_model_live.yml", "svm"),
        ("opencv-ml/digits.xml", "ann_mlp"),
        (
            "fasttext/lid.176.ftz",
            "supervised model, dimension 10, 2 words, 1 labels",
        ),
        ("sphinx-lm/en-us.lm.bin", "trie language model, order 3"),
    ];
    for (path, note) in notes {
        let reason = format_of(&findings, path)["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(reason.contains(note), "{path}: {reason}");
    }
}

/// TFLite states its tensors per subgraph (`SubGraph.tensors`) and its buffers
/// (`Model.buffers`): the tensor count sums the subgraphs, the note gives the buffers.
#[test]
fn tflite_tensor_count_sums_its_subgraphs() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "model.tflite",
        fixtures::tflite_with_subgraphs(),
    );
    let findings = scan_json(dir.path(), &[]);
    let found = format_of(&findings, "model.tflite");
    assert_eq!(found["tensors"], 5, "{found}");
    assert!(
        found["reason"].as_str().unwrap().contains("4 buffers"),
        "{found}"
    );
}

/// Files that share a new format's first bytes or its name but are not weights: none is
/// reported as weights. A GNU Backgammon bear-off database is a computed table (a known
/// format, not even a blob); BRISQUE's feature ranges are a plain FileStorage matrix.
#[test]
fn look_alikes_of_the_new_formats_are_not_weights() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "gnubg_os0.bd",
        fixtures::gnubg_bearoff(1_500_000),
    );
    write(
        dir.path(),
        "brisque_range_live.yml",
        fixtures::opencv_matrix_yaml(),
    );
    write(
        dir.path(),
        "sizes.txt",
        "3 4
the cat sat on
a b c d
",
    );
    write(
        dir.path(),
        "counts.txt",
        "2 3
",
    );
    write(
        dir.path(),
        "options.params",
        "-verbose yes
-jobs 4
-output out.txt
",
    );
    write(dir.path(), "table.bin", {
        // Tesseract-like: a small count, then offsets that do not start at the table's end.
        let mut bytes = 3u32.to_le_bytes().to_vec();
        for offset in [100i64, 200, 300] {
            bytes.extend_from_slice(&offset.to_le_bytes());
        }
        bytes.extend_from_slice(&fixtures::noise(400, 2));
        bytes
    });
    write(
        dir.path(),
        "version.dat",
        b"\x01\x01 not a dlib model, just two bytes of one",
    );
    write(dir.path(), "plain.xml", b"<?xml version=\"1.0\"?>\n<opencv_storage>\n<camera_matrix>1 0 0</camera_matrix>\n</opencv_storage>\n");
    let findings = scan_json(dir.path(), &[]);
    assert!(findings.is_empty(), "{findings:#?}");
}

/// Darknet has no magic: a `.weights` file is accepted only with plausible versions, a
/// plausible `seen` counter, whole float32 values, enough of them, and a finite, non-zero,
/// trained-looking first sample. Random and all-zero files named `.weights` are not weights.
#[test]
fn darknet_decoys_are_not_weights() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "yolov4.weights", fixtures::darknet(4096));
    write(dir.path(), "zeros.weights", vec![0u8; 20 + 4 * 4096]);
    write(
        dir.path(),
        "noise.weights",
        fixtures::noise(20 + 4 * 4096, 1),
    );
    write(dir.path(), "tiny.weights", fixtures::darknet(100));
    let mut huge = fixtures::darknet(4096);
    huge[20..24].copy_from_slice(&f32::NAN.to_le_bytes());
    write(dir.path(), "nan.weights", huge);
    write(
        dir.path(),
        "text.weights",
        "GNU Backgammon 1.00\n250 128 5\n0.1 0.2 0.3\n".repeat(500),
    );
    let findings = scan_json(dir.path(), &[]);
    assert_eq!(
        crate::support::paths(&findings),
        ["yolov4.weights"],
        "{findings:#?}"
    );
}

/// A SavedModel's pieces are recognised through their siblings (an index is told from other
/// LevelDB tables by its name, a graph from other protobufs by the index beside it, a data shard
/// has no header at all), so they keep their real names here.
#[test]
fn tensorflow_saved_model_pieces_are_recognised_by_their_siblings() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sm/saved_model.pb", fixtures::saved_model_pb());
    write(
        dir.path(),
        "sm/variables/variables.index",
        fixtures::sstable(),
    );
    write(
        dir.path(),
        "sm/variables/variables.data-00000-of-00001",
        fixtures::floats(64),
    );
    // The same bytes without the siblings are not claimed.
    write(
        dir.path(),
        "alone/saved_model.pb",
        fixtures::saved_model_pb(),
    );
    write(
        dir.path(),
        "alone/x.data-00000-of-00001",
        fixtures::floats(64),
    );
    write(dir.path(), "leveldb/000005.ldb", fixtures::sstable());
    let findings = scan_json(dir.path(), &[]);
    for path in [
        "sm/saved_model.pb",
        "sm/variables/variables.index",
        "sm/variables/variables.data-00000-of-00001",
    ] {
        assert_eq!(format_of(&findings, path)["format"], "tensorflow", "{path}");
    }
    assert_eq!(
        format_of(&findings, "sm/saved_model.pb")["executes_code"],
        true
    );
    let paths: Vec<&str> = findings
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
}

/// Darknet files have no magic (three small integers and a counter), so only `.weights` files
/// are examined, and their size must be whole float32 values after the header.
#[test]
fn darknet_weights_need_their_extension_and_a_consistent_size() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "yolov3-tiny.weights", fixtures::darknet(2048));
    write(dir.path(), "renamed.dat", fixtures::darknet(2048));
    let mut ragged = fixtures::darknet(2048);
    ragged.push(0);
    write(dir.path(), "ragged.weights", ragged);
    let findings = scan_json(dir.path(), &[]);
    let found = format_of(&findings, "yolov3-tiny.weights");
    assert_eq!(found["format"], "darknet");
    assert_eq!(found["parameters"], 2048);
    assert_eq!(found["dtypes"][0], "float32");
    assert!(finding(&findings, "renamed.dat").is_none());
    assert!(finding(&findings, "ragged.weights").is_none());
}

#[test]
fn non_weights_are_neither_weights_nor_blobs() {
    let dir = tempfile::tempdir().unwrap();
    // Over the blob threshold, so only recognising them keeps them quiet.
    write(dir.path(), "model.bin", fixtures::png(1_200_000));
    write(dir.path(), "model.bin.gz", b"");
    let licence: String = (0..30_000)
        .map(|i| format!("Permission is hereby granted, free of charge, line {i}.\n"))
        .collect();
    let mut stored_gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    std::io::Write::write_all(&mut stored_gzip, licence.as_bytes()).unwrap();
    write(dir.path(), "LICENSE.gz", stored_gzip.finish().unwrap());
    write(dir.path(), "COPYING.gz", fixtures::gzip(licence.as_bytes()));
    write(dir.path(), "numbers.txt", "1 2 3\n4.5 6 7\n8 9 10\n");
    write(
        dir.path(),
        "train.py",
        "import torch\n\ndef main():\n    print('training')\n\nmain()\n",
    );
    write(
        dir.path(),
        "plain.zip",
        fixtures::zip(&[("README", b"hello")], true),
    );
    let findings = scan_json(dir.path(), &[]);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn malformed_headers_do_not_panic_or_claim_counts() {
    let dir = tempfile::tempdir().unwrap();
    let good = fixtures::safetensors(&[("w", "F32", &[64, 64])]);
    write(dir.path(), "cut-data.safetensors", &good[..good.len() / 2]);
    write(dir.path(), "cut-header.safetensors", &good[..20]);
    write(dir.path(), "absurd.gguf", fixtures::gguf_absurd());
    let mut cut_gguf = fixtures::gguf();
    cut_gguf.truncate(60);
    write(dir.path(), "cut.gguf", cut_gguf);
    write(
        dir.path(),
        "garbage.npy",
        b"\x93NUMPY\x01\x00\x20\x00{'descr': <<<garbage>>> ((((\n\x00\x00\x00\x00",
    );
    write(
        dir.path(),
        "huge-shape.npy",
        fixtures::npy("'<f4'", "(4294967296, 4294967296, 4294967296)", &[0u8; 16]),
    );
    let mut cut_onnx = fixtures::onnx();
    cut_onnx.truncate(cut_onnx.len() - 7);
    write(dir.path(), "cut.onnx", cut_onnx);
    let findings = scan_json(dir.path(), &[]);
    for f in &findings {
        assert!(
            f.get("tensors").is_none() && f.get("parameters").is_none(),
            "a malformed file claims counts: {f}"
        );
    }
    let truncated = format_of(&findings, "cut-data.safetensors");
    assert_eq!(truncated["format"], "safetensors");
    assert!(truncated["reason"].as_str().unwrap().contains("truncated"));
    let absurd = format_of(&findings, "absurd.gguf");
    assert_eq!(absurd["format"], "gguf");
    assert!(
        absurd["reason"].as_str().unwrap().contains("more than"),
        "{absurd}"
    );
    assert_eq!(format_of(&findings, "cut.gguf")["format"], "gguf");
    assert_eq!(format_of(&findings, "garbage.npy")["format"], "npy");
    assert!(finding(&findings, "cut-header.safetensors").is_none());
}

#[test]
fn a_policy_table_naming_an_unknown_check_is_refused_with_its_line() {
    let policy = tempfile::tempdir().unwrap();
    let table = include_str!("../../policy/formats.toml").replacen(
        "check = \"gguf\"",
        "check = \"guess\"",
        1,
    );
    let line = table.lines().position(|l| l.contains("\"guess\"")).unwrap() + 1;
    write(policy.path(), "formats.toml", table);
    let tree = tempfile::tempdir().unwrap();
    let output = crate::support::dh_mlmodel()
        .arg("--policy")
        .arg(policy.path())
        .args(["scan", "--json"])
        .arg(tree.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("formats.toml:{line}:")) && stderr.contains("guess"),
        "{stderr}"
    );
}

/// A protocol-2+ pickle announces itself; one too long for the bounded walk is still a pickle,
/// while protocol 0/1 (no signature) needs a complete walk or `identify-opcodes` valid opcodes
/// (`pickle::protocol_0_pickle_past_the_identification_window`).
#[test]
fn long_pickles_are_recognised_from_a_bounded_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let mut long = b"\x80\x03}q\x00X\x01\x00\x00\x00wq\x01B".to_vec();
    let payload = fixtures::floats(300_000);
    long.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    long.extend_from_slice(&payload);
    long.extend_from_slice(b"q\x02s.");
    write(dir.path(), "state.dat", &long);
    let mut unfinished = fixtures::PICKLE_PROTOCOL_0.to_vec();
    unfinished.pop();
    write(dir.path(), "unfinished.dat", unfinished);
    let findings = scan_json(dir.path(), &[]);
    assert_eq!(format_of(&findings, "state.dat")["format"], "pickle");
    assert!(
        finding(&findings, "unfinished.dat").is_none(),
        "{findings:#?}"
    );
}

/// A GGUF with no tensors is a tokenizer vocabulary (llama.cpp ships `ggml-vocab-*.gguf` for
/// its tests): a known format that holds no weights, so it is neither weights nor a blob,
/// even when large.
#[test]
fn a_gguf_without_tensors_is_a_vocabulary_not_weights() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "models/ggml-vocab-llama.gguf",
        fixtures::gguf_vocabulary_only(),
    );
    let mut large = fixtures::gguf_vocabulary_only();
    large.resize(1_500_000, 0);
    write(dir.path(), "models/ggml-vocab-large.gguf", large);
    write(dir.path(), "models/real.gguf", fixtures::gguf());
    let findings = scan_json(dir.path(), &[]);
    assert_eq!(
        crate::support::paths(&findings),
        ["models/real.gguf"],
        "{findings:#?}"
    );
}

/// GGJT v3 records are walked to the end of the file for counts; a file whose records do not
/// end exactly there (cut short) keeps its identification and claims no counts.
#[test]
fn ggjt_v3_records_give_tensor_counts() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ggml-model-q8_0.bin",
        fixtures::ggjt_with_tensors(),
    );
    let mut cut = fixtures::ggjt_with_tensors();
    cut.truncate(cut.len() - 10);
    write(dir.path(), "cut.bin", cut);
    let findings = scan_json(dir.path(), &[]);
    let found = format_of(&findings, "ggml-model-q8_0.bin");
    assert_eq!(found["format"], "ggml");
    assert_eq!(found["tensors"], 2, "{found}");
    assert_eq!(found["parameters"], 76, "{found}");
    assert_eq!(found["dtypes"], serde_json::json!(["float32", "q8_0"]));
    let cut = format_of(&findings, "cut.bin");
    assert_eq!(cut["format"], "ggml");
    assert!(cut.get("tensors").is_none(), "{cut}");
}

/// Known containers of data that are not weights, found in the real corpus as large binaries:
/// ONNX's backend test vectors (`input_0.pb`: a TensorProto alone, written by onnx's
/// `numpy_helper.from_array`, fields as in onnx/onnx.proto: dims 1, data_type 2, name 8,
/// raw_data 9), a GResource bundle (GLib's gio/gvdb/gvdb-format.h header, signature
/// "GVariant"), and `.npz` files of computed tables named in `[tables]` (resampy's Kaiser
/// filters, whisper's mel filterbanks). Each is over the blob threshold and is reported
/// neither as weights nor as a blob; a TensorProto whose raw data does not fill its dims, or an
/// `.npz` with one array not named as a table, still is.
#[test]
fn tensor_test_vectors_gresource_bundles_and_filter_tables_are_not_weights() {
    let dir = tempfile::tempdir().unwrap();
    let values = 300_000u64; // 1.2 MB of float32: over the 1 MiB blob threshold
    let tensor = |raw: &[u8]| {
        fixtures::Pb::default()
            .varint(1, 3)
            .varint(1, values / 3)
            .varint(2, 1)
            .bytes(8, b"x")
            .bytes(9, raw)
            .0
    };
    let data = fixtures::floats(values as usize);
    write(
        dir.path(),
        "test_conv/test_data_set_0/input_0.pb",
        tensor(&data),
    );
    write(
        dir.path(),
        "short/input_0.pb",
        tensor(&data[..data.len() - 4]),
    );
    let mut gvdb = b"GVariant".to_vec();
    gvdb.extend_from_slice(&[0u8; 8]);
    gvdb.extend_from_slice(&fixtures::noise(1_200_000, 7));
    write(dir.path(), "piper.gresource", gvdb);
    let window = fixtures::npy("'<f8'", "(160000,)", &fixtures::noise(1_280_000, 3));
    let scalar = fixtures::npy("'<f8'", "()", &[0u8; 8]);
    write(
        dir.path(),
        "resampy/data/kaiser_best.npz",
        fixtures::zip(
            &[
                ("half_window.npy", &window),
                ("precision.npy", &scalar),
                ("rolloff.npy", &scalar),
            ],
            false,
        ),
    );
    write(
        dir.path(),
        "mixed.npz",
        fixtures::zip(&[("half_window.npy", &window), ("W1.npy", &scalar)], false),
    );
    let findings = scan_json(dir.path(), &[]);
    assert_eq!(
        crate::support::paths(&findings),
        ["mixed.npz", "short/input_0.pb"],
        "{findings:#?}"
    );
    assert_eq!(format_of(&findings, "mixed.npz")["format"], "npz");
    assert_eq!(
        finding(&findings, "short/input_0.pb").unwrap()["kind"],
        "blob"
    );
}
