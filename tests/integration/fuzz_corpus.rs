//! The fuzz targets (`src/fuzz_targets.rs`) on every input of the committed seed corpus
//! (`fuzz/corpus/TARGET/`) and of every crash or hang the fuzzer found (`fuzz/regressions/TARGET/`):
//! no panic, and each input within a generous time budget. `scripts/fuzz` runs the same targets
//! under afl-fuzz; this is how CI replays what it found.
//!
//! The seed corpus is written by `write_seed_corpus` (ignored; `scripts/fuzz corpus` runs it)
//! from the same fixture builders as the other tests, which follow the formats' specifications:
//! valid files of every format a target reads, and the hostile inputs of the regression tests.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use dh_mlmodel::fuzz_targets::{TARGETS, target};

use crate::fixtures::{self, Pb, RawLayout, RawMember};
use crate::pickles::{self, Pickle};

/// Per input: far above what any input takes (milliseconds), far below a hang.
const BUDGET: Duration = Duration::from_secs(60);

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir`, sorted; none when it does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// Runs `run` on `data` in a thread of its own; `Err` says what went wrong: a panic, or no
/// answer within `budget`.
fn run_within_budget(run: fn(&[u8]), data: Vec<u8>, budget: Duration) -> Result<(), String> {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(|| run(&data));
        let _ = done.send(outcome.is_ok());
    });
    match finished.recv_timeout(budget) {
        Ok(true) => Ok(()),
        Ok(false) => Err("panicked".to_string()),
        Err(_) => Err(format!("took more than {} s", budget.as_secs_f32())),
    }
}

#[test]
fn every_corpus_and_regression_input_runs_without_panic_within_its_budget() {
    let mut failures = Vec::new();
    let mut count = 0;
    for t in TARGETS {
        for kind in ["corpus", "regressions"] {
            for path in inputs(&fuzz_dir().join(kind).join(t.name)) {
                count += 1;
                let data = std::fs::read(&path).unwrap();
                if let Err(what) = run_within_budget(t.run, data, BUDGET) {
                    failures.push(format!("{}: {what}", path.display()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(count > 0, "no input replayed");
}

/// A target without seeds would never be replayed; a directory without a target would never
/// be fuzzed.
#[test]
fn every_target_has_a_seed_corpus_and_every_corpus_a_target() {
    for t in TARGETS {
        let dir = fuzz_dir().join("corpus").join(t.name);
        assert!(!inputs(&dir).is_empty(), "no seeds in {}", dir.display());
    }
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind)) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            if !entry.path().is_dir() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                target(&name).is_some(),
                "fuzz/{kind}/{name}: no such target"
            );
        }
    }
}

/// The replay fails on a target that panics or does not return: otherwise it would pass
/// every input.
#[test]
fn the_replay_catches_a_panic_and_a_hang() {
    assert_eq!(
        run_within_budget(|_| panic!("planted"), Vec::new(), BUDGET),
        Err("panicked".to_string())
    );
    let hang: fn(&[u8]) = |_| std::thread::sleep(Duration::from_secs(5));
    assert!(run_within_budget(hang, Vec::new(), Duration::from_millis(100)).is_err());
}

/// Writes `fuzz/corpus/` afresh: run by `scripts/fuzz corpus`.
#[test]
#[ignore = "writes fuzz/corpus; run by scripts/fuzz corpus"]
fn write_seed_corpus() {
    let root = fuzz_dir().join("corpus");
    for t in TARGETS {
        let dir = root.join(t.name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
    }
    for (target_name, name, bytes) in seeds() {
        assert!(target(target_name).is_some(), "{target_name}");
        std::fs::write(root.join(target_name).join(name), bytes).unwrap();
    }
}

/// A Git LFS pointer, a text member the scan reports.
const LFS: &str = "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n";

fn float_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|f| f.to_le_bytes()).collect()
}

/// `(target, file name, bytes)` of every seed.
fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tinynet/models");
    let read = |name: &str| std::fs::read(example.join(name)).unwrap();
    let mut seeds = Vec::new();

    // Pickles: valid streams of every protocol, the payloads of the pickle tests, CPython's
    // number spellings, a payload before a bad byte, a frame that lies.
    let cpython_numbers = b"(I\t1\nI1\r\nL\t1L\np1_0\ng1_0\ntp2\n0cposix\nsystem\n(Vid\ntR.";
    let mut frame_liar = vec![0x80, 4, 0x95];
    frame_liar.extend_from_slice(&3u64.to_le_bytes());
    frame_liar.extend_from_slice(b"\x8c\x05posix\x94\x8c\x06system\x94\x93.");
    let joblib_floats = pickles::joblib_array("f4", &[3], &float_bytes(&[1.0, 2.0, 3.0]))
        .none()
        .stop();
    let memo_tuple = {
        let mut p = Pickle::protocol(2).mark().int(1).int(2).tuple().put(0);
        for _ in 0..200 {
            p = p.get(0).put(1).pop();
        }
        p.stop()
    };
    seeds.extend([
        ("pickle", "protocol-0", fixtures::PICKLE_PROTOCOL_0.to_vec()),
        ("pickle", "protocol-4-frame", fixtures::pickle_protocol_4()),
        ("pickle", "joblib", fixtures::joblib()),
        ("pickle", "joblib-array", joblib_floats),
        (
            "pickle",
            "posix-system-0",
            pickles::posix_system_protocol0(),
        ),
        (
            "pickle",
            "posix-system-2",
            pickles::posix_system_protocol2(),
        ),
        ("pickle", "import-module", pickles::import_module()),
        ("pickle", "numpy-gadget", pickles::numpy_builtins_gadget()),
        (
            "pickle",
            "stack-global-memo",
            pickles::stack_global_from_memo(),
        ),
        ("pickle", "torch-state-dict", pickles::torch_state_dict()),
        ("pickle", "numpy-array", pickles::numpy_array()),
        (
            "pickle",
            "torch-legacy",
            pickles::torch_legacy(&pickles::posix_system_protocol2()),
        ),
        ("pickle", "cpython-numbers", cpython_numbers.to_vec()),
        (
            "pickle",
            "payload-bad-byte",
            b"cposix\nsystem\n(Vid\ntR\xff".to_vec(),
        ),
        ("pickle", "loaders-disagree", b"(I017\nt.".to_vec()),
        ("pickle", "frame-liar", frame_liar),
        ("pickle", "memo-tuple", memo_tuple),
        (
            "pickle",
            "zlib-payload",
            fixtures::zlib(&pickles::posix_system_protocol2()),
        ),
        ("pickle", "tinynet.pkl", read("tinynet.pkl")),
    ]);

    // safetensors: valid headers, an array past the cap, a header length past the file.
    let mut big_array = b"{\"t\":{\"dtype\":\"F32\",\"shape\":[".to_vec();
    big_array.extend_from_slice(&b"0,".repeat(200));
    big_array.extend_from_slice(b"0],\"data_offsets\":[0,0]}}");
    let mut big_array_file = (big_array.len() as u64).to_le_bytes().to_vec();
    big_array_file.extend_from_slice(&big_array);
    let mut lying_length = fixtures::safetensors(&[("w", "F32", &[2])]);
    lying_length[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    seeds.extend([
        (
            "safetensors",
            "two-tensors",
            fixtures::safetensors(&[("w", "F32", &[2, 3]), ("b", "F16", &[3])]),
        ),
        ("safetensors", "huge-array", big_array_file),
        ("safetensors", "lying-length", lying_length),
        (
            "safetensors",
            "tinynet.safetensors",
            read("tinynet.safetensors"),
        ),
    ]);

    seeds.extend([
        ("gguf", "gguf-v3", fixtures::gguf()),
        ("gguf", "gguf-absurd-count", fixtures::gguf_absurd()),
        ("gguf", "ggjt", fixtures::ggjt()),
    ]);

    // NumPy: plain and object arrays, every object spelling, npz with a malicious member.
    let floats = float_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let payload = pickles::posix_system_protocol2();
    seeds.extend([
        (
            "numpy",
            "float-npy",
            fixtures::npy("'<f4'", "(2, 3)", &floats),
        ),
        ("numpy", "object-npy", pickles::object_npy()),
        (
            "numpy",
            "object-spelled",
            fixtures::npy("'object'", "(1,)", &payload),
        ),
        (
            "numpy",
            "object-subarray",
            fixtures::npy("('|O', (2,))", "(1,)", &payload),
        ),
        (
            "numpy",
            "object-structured",
            fixtures::npy("[('a', '<f4'), ('b', '|O')]", "(1,)", &payload),
        ),
        (
            "numpy",
            "object-unrecognisable",
            fixtures::npy("'|O'", "(1,)", b"\xff\xfe"),
        ),
        ("numpy", "npz", fixtures::npz()),
        (
            "numpy",
            "npz-malicious-member",
            fixtures::zip(
                &[
                    ("weights.npy", &fixtures::npy("'<f4'", "(6,)", &floats)),
                    ("extra.npy", &pickles::object_npy()),
                ],
                false,
            ),
        ),
    ]);

    // Protobuf: ONNX, Caffe, a SavedModel, packed dims.
    let tensor = Pb::default()
        .packed(1, &[1; 300])
        .varint(2, 1)
        .bytes(8, b"w");
    let packed = Pb::default()
        .varint(1, 8)
        .bytes(2, b"fixture")
        .message(7, Pb::default().bytes(2, b"g").message(5, tensor))
        .message(8, Pb::default().varint(2, 13))
        .0;
    seeds.extend([
        ("onnx", "onnx", fixtures::onnx()),
        ("onnx", "packed-dims", packed),
        ("onnx", "caffe", fixtures::caffemodel()),
        ("onnx", "saved-model", fixtures::saved_model_pb()),
    ]);

    // Zips: every zip-based format, a torch zip with a payload, and the hostile layouts of
    // the archive tests.
    let mut unknown_method = RawMember::stored("odd.bin", &fixtures::noise(200, 2));
    unknown_method.method = 99;
    let mut encrypted = RawMember::stored("secret.bin", &fixtures::noise(200, 3));
    encrypted.flags = 1;
    let mut liar = RawMember::deflated("bomb.bin", &vec![0u8; 256 << 10]);
    liar.declared_compressed = liar.stored.len() as u32 * 400;
    let lfs = || RawMember::stored("weights/net.bin", LFS.as_bytes());
    let stub = [b"MZ".as_slice(), &fixtures::noise(300, 9)].concat();
    seeds.extend([
        (
            "zip",
            "stored",
            fixtures::zip(
                &[(
                    "a.safetensors",
                    &fixtures::safetensors(&[("w", "F32", &[2])]),
                )],
                false,
            ),
        ),
        (
            "zip",
            "deflated",
            fixtures::zip(&[("README", b"hello"), ("net.bin", LFS.as_bytes())], true),
        ),
        ("zip", "pytorch", fixtures::pytorch_zip()),
        ("zip", "torchscript", fixtures::torchscript()),
        ("zip", "keras", fixtures::keras()),
        (
            "zip",
            "torch-payload",
            pickles::torch_zip("archive/data.pkl", &payload, &[]),
        ),
        (
            "zip",
            "unreadable-members",
            fixtures::raw_zip(&[unknown_method, encrypted, lfs()], &RawLayout::default()),
        ),
        (
            "zip",
            "lying-compressed-size",
            fixtures::raw_zip(&[liar, lfs()], &RawLayout::default()),
        ),
        (
            "zip",
            "self-extractor",
            fixtures::raw_zip(
                &[lfs()],
                &RawLayout {
                    prefix: &stub,
                    ..RawLayout::default()
                },
            ),
        ),
        (
            "zip",
            "lying-count",
            fixtures::raw_zip(
                &[RawMember::stored("README", b"hello"), lfs()],
                &RawLayout {
                    declared_count: Some(1),
                    ..RawLayout::default()
                },
            ),
        ),
        (
            "zip",
            "pickle-polyglot",
            fixtures::raw_zip(
                &[RawMember::stored("a\n.", b"hello"), lfs()],
                &RawLayout::default(),
            ),
        ),
    ]);

    // Tars and compressed streams.
    let members: [(&str, &[u8]); 2] = [("README", b"hello"), ("weights/net.bin", LFS.as_bytes())];
    let tar = fixtures::tar(&members);
    let nested = fixtures::tar(&[("inner.tar.gz", &fixtures::gzip(&tar))]);
    seeds.extend([
        ("tar", "ustar", tar.clone()),
        ("tar", "v7", fixtures::tar_v7(&members)),
        ("tar", "tar-gz", fixtures::gzip(&tar)),
        ("tar", "tar-xz", fixtures::xz(&tar)),
        ("tar", "tar-bz2", fixtures::bz2(&tar)),
        ("tar", "nested", fixtures::gzip(&nested)),
        ("tar", "gzip-pickle", fixtures::gzip(&payload)),
        ("tar", "leela-zero", fixtures::leela_zero()),
        ("tar", "gzip-bomb", fixtures::gzip(&vec![0u8; 4 << 20])),
    ]);

    // Download syntaxes, and the texts that once panicked or blew up memory.
    let refs = "$X".repeat(100);
    let mut expansion =
        String::from("#!/bin/sh\nX=\"https://h.org/m.bin \"\nA=https://h.org/a.bin\n");
    for i in 0..20 {
        expansion.push_str(&format!("U{i}={refs}\nA=$A$A\nB{i}=$A\n"));
    }
    expansion.push_str("wget $U1\n");
    let texts: [(&str, String); 11] = [
        (
            "shell",
            "#!/bin/sh\nset -e\nBASE=https://example.org/models\nwget -O net.pt \"$BASE/net.pt\"\necho \"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  net.pt\" | sha256sum -c\ncurl -L https://huggingface.co/org/m/resolve/main/model.safetensors -o m.safetensors\n".to_string(),
        ),
        (
            "make",
            "URL := https://example.org/models\nweights.bin:\n\twget $(URL)/weights.bin\n\tsha256sum -c weights.sha256\n".to_string(),
        ),
        (
            "cmake",
            "set(MODEL_URL \"https://example.org/model.onnx\")\nfile(DOWNLOAD ${MODEL_URL} ${CMAKE_BINARY_DIR}/model.onnx\n  EXPECTED_HASH SHA256=5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03)\n".to_string(),
        ),
        (
            "python",
            "from huggingface_hub import hf_hub_download\nimport urllib.request\nBASE = \"https://example.org\"\npath = hf_hub_download(repo_id=\"org/model\", filename=\"model.safetensors\")\nurllib.request.urlretrieve(f\"{BASE}/weights.pth\", \"w.pth\")\n".to_string(),
        ),
        (
            "batch",
            "@echo off\nset URL=https://example.org/model.bin\ncurl -L -o model.bin %URL%\ncertutil -hashfile model.bin SHA256\n".to_string(),
        ),
        (
            "powershell",
            "$url = \"https://example.org/model.onnx\"\nInvoke-WebRequest -Uri $url -OutFile model.onnx\nGet-FileHash model.onnx -Algorithm SHA256\n".to_string(),
        ),
        (
            "docs",
            "# Model\n\nDownload the weights from https://example.org/releases/download/v1/model.pth and\ncheck them with `sha256sum`.\n".to_string(),
        ),
        (
            "multi-byte",
            "Weights: «https://example.org/m.bin»\n下载：https://example.org/m.bin\nURL=«https://example.org/$F»\n".to_string(),
        ),
        (
            "yaml",
            "# YAML 1.2.2 block mappings, a sequence of mappings, an anchor and its alias\n\
             stt_models:\n  en:\n    latest: &en\n      jit: \"https://example.org/models/en.jit\"\n\
             \x20   v1: *en\nmodels:\n  - name: a\n    url: https://example.org/a.onnx\n\
             \x20 - {url: 'https://example.org/b.onnx'}\n---\nnext: ...\n"
                .to_string(),
        ),
        ("expansion", expansion),
        (
            "embedded-array",
            format!("static const float w[] = {{\n{}\n}};\n", vec!["0.5f, -1.25f, 3.0f, 2.5e-3f"; 40].join(",\n")),
        ),
    ];
    for (name, text) in texts {
        seeds.push(("downloads", name, text.into_bytes()));
    }

    seeds.push(("manifest", "valid", crate::manifest::valid().into_bytes()));
    seeds.push((
        "manifest",
        "install-dir-etc",
        crate::manifest::valid()
            .replace(
                "format = \"safetensors\"",
                "format = \"safetensors\"\ninstall-dir = \"/etc\"",
            )
            .into_bytes(),
    ));

    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("policy");
    for name in [
        "formats.toml",
        "pickle.toml",
        "scan.toml",
        "archives.toml",
        "embedded.toml",
        "downloads.toml",
    ] {
        seeds.push(("policy", name, std::fs::read(policy.join(name)).unwrap()));
    }
    // verify: every format its readers open, with real data, quantised GGUF blocks included.
    let mut q8_0 = 0x3800u16.to_le_bytes().to_vec();
    q8_0.extend((0..32u8).map(|i| i.wrapping_sub(16)));
    let mut q4_0 = 0x3400u16.to_le_bytes().to_vec();
    q4_0.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
    let mut q4_k = 0x3c00u16.to_le_bytes().to_vec();
    q4_k.extend(0x3400u16.to_le_bytes());
    q4_k.extend([1, 2, 3, 4, 0, 1, 2, 3, 0x15, 0x26, 0x37, 0x48]);
    q4_k.extend((0..128u8).map(|i| i.wrapping_mul(37)));
    let floats = float_bytes(&[0.5, -1.0, 2.0, 0.25]);
    seeds.extend([
        (
            "verify",
            "safetensors",
            fixtures::safetensors_with_data(&[
                ("a", "F32", &[2, 2], &floats),
                ("b", "F16", &[2], &floats[..4]),
            ]),
        ),
        (
            "verify",
            "gguf-quantised",
            fixtures::gguf_with_data(&[
                ("q8", &[32], 8, &q8_0),
                ("q4", &[32], 2, &q4_0),
                ("q4k", &[256], 12, &q4_k),
                ("f32", &[2, 2], 0, &floats),
            ]),
        ),
        ("verify", "npz", fixtures::npz()),
        ("verify", "onnx", fixtures::onnx()),
        (
            "verify",
            "pytorch",
            pickles::torch_zip("archive/data.pkl", &pickles::torch_state_dict(), &[]),
        ),
    ]);
    // HDF5 and Keras, written by h5py: every layout, both header versions, big-endian floats.
    for (name, spec) in [
        ("hdf5-contiguous", serde_json::json!({})),
        ("hdf5-chunked", serde_json::json!({"layout": "chunked"})),
        ("hdf5-fletcher", serde_json::json!({"layout": "fletcher"})),
        ("hdf5-compact", serde_json::json!({"layout": "compact"})),
        ("hdf5-latest", serde_json::json!({"layout": "latest"})),
        ("hdf5-big-endian", serde_json::json!({"big_endian": true})),
        (
            "keras",
            serde_json::json!({"keras": true, "layout": "chunked"}),
        ),
    ] {
        seeds.push(("verify", name, crate::h5py::bytes(spec)));
    }
    seeds
}

#[test]
fn the_fuzz_and_memory_scripts_pass_shellcheck() {
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    for script in ["scripts/fuzz", "benches/hostile-memory.sh"] {
        crate::helper::assert_shellcheck_clean(&top.join(script));
    }
}
