//! `dh-mlmodel verify`: bitwise, tensor-by-tensor and evaluated comparison of weights. Every
//! fixture is written here from the formats' specifications (safetensors, GGUF and its ggml
//! quantisation blocks, ONNX, torch.save's zip and pickle), through `fixtures` and `pickles`.

use std::path::Path;

use serde_json::Value;

use crate::fixtures;
use crate::pickles::{self, Pickle};
use crate::support::{dh_mlmodel, write};

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A small model of three layers; `bump` is added to every value of `layer1.weight`.
fn model(bump: f32, reversed: bool) -> Vec<u8> {
    let w1: Vec<f32> = (0..6).map(|i| i as f32 * 0.25 - 0.5 + bump).collect();
    let b1 = [0.125f32, -0.375];
    let w2: Vec<f32> = (0..4).map(|i| 1.0 - i as f32 * 0.5).collect();
    let (w1, b1, w2) = (f32_bytes(&w1), f32_bytes(&b1), f32_bytes(&w2));
    let mut tensors: Vec<(&str, &str, &[u64], &[u8])> = vec![
        ("layer1.weight", "F32", &[2, 3], &w1),
        ("layer1.bias", "F32", &[2], &b1),
        ("layer2.weight", "F32", &[2, 2], &w2),
    ];
    if reversed {
        tensors.reverse();
    }
    fixtures::safetensors_with_data(&tensors)
}

/// Runs `verify --json` with `extra` options; returns the exit code, the report and stderr.
fn verify(reference: &Path, candidate: &Path, extra: &[&str]) -> (i32, Value, String) {
    let output = dh_mlmodel()
        .arg("verify")
        .arg("--json")
        .args(extra)
        .arg(reference)
        .arg(candidate)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output.status.code().unwrap(), report, stderr)
}

fn pair(
    reference: &[u8],
    candidate: &[u8],
) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "reference/model.safetensors", reference);
    write(dir.path(), "candidate/model.safetensors", candidate);
    let r = dir.path().join("reference/model.safetensors");
    let c = dir.path().join("candidate/model.safetensors");
    (dir, r, c)
}

fn tensor<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["files"][0]["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no tensor {name} in {report:#}"))
}

#[test]
fn identical_files_are_identical() {
    let (_dir, r, c) = pair(&model(0.0, false), &model(0.0, false));
    let (code, report, stderr) = verify(&r, &c, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["schema"], 1);
    assert_eq!(report["verdict"], "identical");
    assert_eq!(report["files"][0]["verdict"], "identical");
    assert_eq!(report["evaluation"], Value::Null);
    assert!(report["tolerance"]["max-abs"].is_f64(), "{report:#}");
}

#[test]
fn equal_tensors_in_another_order_are_equivalent() {
    let (reference, candidate) = (model(0.0, false), model(0.0, true));
    assert_ne!(reference, candidate);
    let (_dir, r, c) = pair(&reference, &candidate);
    let (code, report, stderr) = verify(&r, &c, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["verdict"], "equivalent", "{report:#}");
    assert_eq!(report["summary"]["tensors"], 3);
    assert_eq!(report["summary"]["equal"], 3);
    assert_eq!(report["files"][0]["format"], "safetensors");
    assert_eq!(
        tensor(&report, "layer1.weight")["shape"],
        serde_json::json!([2, 3])
    );
    assert_eq!(tensor(&report, "layer1.weight")["dtype"], "float32");
}

#[test]
fn small_noise_is_within_tolerance() {
    let (_dir, r, c) = pair(&model(0.0, false), &model(1e-6, false));
    let (code, report, stderr) = verify(&r, &c, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["verdict"], "equivalent");
    let noisy = tensor(&report, "layer1.weight");
    assert_eq!(noisy["verdict"], "within");
    let max_abs = noisy["max_abs"].as_f64().unwrap();
    assert!(max_abs > 5e-7 && max_abs < 2e-6, "{noisy:#}");
    assert!(noisy["cosine"].as_f64().unwrap() > 0.99999);
    assert_eq!(report["summary"]["within"], 1);
    assert_eq!(report["summary"]["worst"]["name"], "layer1.weight");
    // A tighter --tolerance makes the same noise different.
    let (code, report, _) = verify(&r, &c, &["--tolerance", "max-abs=1e-9"]);
    assert_eq!(code, 1);
    assert_eq!(report["verdict"], "different");
    assert_eq!(report["tolerance"]["max-abs"], 1e-9);
}

#[test]
fn a_changed_layer_is_different_and_named() {
    let (_dir, r, c) = pair(&model(0.0, false), &model(0.5, false));
    let (code, report, stderr) = verify(&r, &c, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report["verdict"], "different");
    assert_eq!(tensor(&report, "layer1.weight")["verdict"], "different");
    assert_eq!(tensor(&report, "layer1.weight")["max_abs"], 0.5);
    assert_eq!(tensor(&report, "layer2.weight")["verdict"], "equal");
    assert_eq!(report["summary"]["different"], 1);
    // The text report names it too.
    let output = dh_mlmodel().arg("verify").arg(&r).arg(&c).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("layer1.weight: different"), "{text}");
    assert!(text.contains("verdict: different"), "{text}");
}

#[test]
fn shape_mismatch_and_missing_tensors_are_different() {
    let values = f32_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let reference = fixtures::safetensors_with_data(&[
        ("w", "F32", &[2, 3], &values),
        ("gone", "F32", &[1], &values[..4]),
    ]);
    let candidate = fixtures::safetensors_with_data(&[
        ("w", "F32", &[3, 2], &values),
        ("new", "F32", &[1], &values[..4]),
    ]);
    let (_dir, r, c) = pair(&reference, &candidate);
    let (code, report, stderr) = verify(&r, &c, &[]);
    assert_eq!(code, 1, "{stderr}");
    let w = tensor(&report, "w");
    assert_eq!(w["verdict"], "different");
    assert!(
        w["reason"].as_str().unwrap().contains("shape [2, 3]"),
        "{w:#}"
    );
    assert_eq!(w["max_abs"], Value::Null);
    assert_eq!(report["files"][0]["missing"], serde_json::json!(["gone"]));
    assert_eq!(report["files"][0]["extra"], serde_json::json!(["new"]));
}

/// IEEE 754 binary16 bit patterns.
const HALF_QUARTER: u16 = 0x3400;
const HALF_HALF: u16 = 0x3800;

/// A ggml `block_q8_0` (ggml-common.h: f16 `d`, 32 int8 `qs`) with d = 0.5 and qs = i − 16,
/// dequantised (`dequantize_row_q8_0`: qs[i] · d) to (i − 16) / 2.
fn q8_0_block(bump_last: i8) -> (Vec<u8>, Vec<f32>) {
    let mut block = HALF_HALF.to_le_bytes().to_vec();
    let qs: Vec<i8> = (0..32)
        .map(|i| i as i8 - 16 + if i == 31 { bump_last } else { 0 })
        .collect();
    block.extend(qs.iter().map(|&q| q as u8));
    let values = (0..32).map(|i| (i as f32 - 16.0) * 0.5).collect();
    (block, values)
}

/// A ggml `block_q4_0` (f16 `d`, 16 bytes of nibbles) with d = 0.25; byte j holds j in its
/// low nibble (element j) and 15 − j in its high one (element j + 16), dequantised
/// (`dequantize_row_q4_0`: (nibble − 8) · d).
fn q4_0_block() -> (Vec<u8>, Vec<f32>) {
    let mut block = HALF_QUARTER.to_le_bytes().to_vec();
    block.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
    let values = (0..16)
        .map(|j| (j as f32 - 8.0) * 0.25)
        .chain((0..16).map(|j| ((15 - j) as f32 - 8.0) * 0.25))
        .collect();
    (block, values)
}

#[test]
fn quantised_gguf_compares_after_dequantisation() {
    let (q8, q8_values) = q8_0_block(0);
    let (q4, q4_values) = q4_0_block();
    // F16 [2, 3] row-major, stored in GGUF as dims [3, 2] (ne[0] first).
    let halves: Vec<f32> = vec![0.5, 1.5, -2.0, 0.25, 0.0, 3.0];
    let f16_bytes: Vec<u8> = [0x3800u16, 0x3e00, 0xc000, 0x3400, 0x0000, 0x4200]
        .iter()
        .flat_map(|h| h.to_le_bytes())
        .collect();
    let gguf = fixtures::gguf_with_data(&[
        ("blk.0.q8", &[32], 8, &q8),
        ("blk.0.q4", &[32], 2, &q4),
        ("blk.0.half", &[3, 2], 1, &f16_bytes),
    ]);
    let (q8f, q4f, hf) = (
        f32_bytes(&q8_values),
        f32_bytes(&q4_values),
        f32_bytes(&halves),
    );
    let reference = fixtures::safetensors_with_data(&[
        ("blk.0.q8", "F32", &[32], &q8f),
        ("blk.0.q4", "F32", &[32], &q4f),
        ("blk.0.half", "F32", &[2, 3], &hf),
    ]);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ref.safetensors", &reference);
    write(dir.path(), "model.gguf", &gguf);
    let (r, c) = (
        dir.path().join("ref.safetensors"),
        dir.path().join("model.gguf"),
    );
    let (code, report, stderr) = verify(&r, &c, &["--tolerance", "max-abs=0,rel-l2=0,cosine=1"]);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_eq!(report["verdict"], "equivalent");
    assert_eq!(report["files"][0]["format"], "safetensors/gguf");
    for name in ["blk.0.q8", "blk.0.q4", "blk.0.half"] {
        let t = tensor(&report, name);
        assert_eq!(t["verdict"], "within", "{t:#}");
        assert_eq!(t["max_abs"], 0.0, "{t:#}");
    }
    assert!(
        tensor(&report, "blk.0.q8")["reason"]
            .as_str()
            .unwrap()
            .contains("q8_0")
    );
    // One quant off by one: element 31 is 0.5 away.
    let (q8_off, _) = q8_0_block(1);
    let gguf = fixtures::gguf_with_data(&[
        ("blk.0.q8", &[32], 8, &q8_off),
        ("blk.0.q4", &[32], 2, &q4),
        ("blk.0.half", &[3, 2], 1, &f16_bytes),
    ]);
    write(dir.path(), "model.gguf", &gguf);
    let (code, report, _) = verify(&r, &c, &[]);
    assert_eq!(code, 1);
    assert_eq!(tensor(&report, "blk.0.q8")["verdict"], "different");
    assert_eq!(tensor(&report, "blk.0.q8")["max_abs"], 0.5);
    assert_eq!(tensor(&report, "blk.0.q4")["verdict"], "within");
}

/// A tensor of a checkpoint: name, storage key, storage offset, size, stride.
type TorchLayout<'a> = (&'a str, &'a str, u32, &'a [u32], &'a [u32]);

/// `data.pkl` of `torch.save(OrderedDict(...))` (protocol 2), tensors given as
/// `(name, storage key, storage offset, size, stride)` over float storages of `numel`
/// elements: `_rebuild_tensor_v2(persistent_load(('storage', FloatStorage, key, 'cpu',
/// numel)), offset, size, stride, False, OrderedDict())`, stored with one SETITEMS.
fn torch_pickle(tensors: &[TorchLayout<'_>], numel: u32) -> Vec<u8> {
    let mut p = Pickle::protocol(2)
        .global("collections", "OrderedDict")
        .put(0)
        .empty_tuple()
        .reduce()
        .mark();
    for (name, key, offset, size, stride) in tensors {
        p = p
            .text(name)
            .global("torch._utils", "_rebuild_tensor_v2")
            .mark()
            .mark()
            .text("storage")
            .global("torch", "FloatStorage")
            .text(key)
            .text("cpu")
            .int(numel)
            .tuple()
            .binpersid()
            .int(*offset)
            .mark();
        for d in *size {
            p = p.int(*d);
        }
        p = p.tuple().mark();
        for s in *stride {
            p = p.int(*s);
        }
        p = p
            .tuple()
            .newfalse()
            .get(0)
            .empty_tuple()
            .reduce()
            .tuple()
            .reduce();
    }
    p.op(b'u').stop()
}

#[test]
fn pytorch_zip_matches_the_same_weights_in_safetensors() {
    // One storage of six floats shared by a [2, 2] weight (offset 0) and a [2] bias (offset 4).
    let storage = f32_bytes(&[0.5, -1.0, 2.0, 0.25, 3.0, -4.0]);
    let pickle = torch_pickle(
        &[
            ("fc.weight", "0", 0, &[2, 2], &[2, 1]),
            ("fc.bias", "0", 4, &[2], &[1]),
        ],
        6,
    );
    let checkpoint = fixtures::zip(
        &[
            ("archive/data.pkl", &pickle),
            ("archive/byteorder", b"little"),
            ("archive/data/0", &storage),
            ("archive/version", b"3\n"),
        ],
        false,
    );
    let reference = fixtures::safetensors_with_data(&[
        ("fc.bias", "F32", &[2], &storage[16..]),
        ("fc.weight", "F32", &[2, 2], &storage[..16]),
    ]);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "model.pt", &checkpoint);
    write(dir.path(), "model.safetensors", &reference);
    let (r, c) = (
        dir.path().join("model.safetensors"),
        dir.path().join("model.pt"),
    );
    let (code, report, stderr) = verify(&r, &c, &[]);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_eq!(report["verdict"], "equivalent");
    assert_eq!(report["files"][0]["format"], "safetensors/pytorch");
    assert_eq!(report["summary"]["equal"], 2, "{report:#}");
    // The bias read from the wrong offset would differ: the layout is really followed.
    let shifted = torch_pickle(
        &[
            ("fc.weight", "0", 0, &[2, 2], &[2, 1]),
            ("fc.bias", "0", 2, &[2], &[1]),
        ],
        6,
    );
    let checkpoint = fixtures::zip(
        &[
            ("archive/data.pkl", &shifted),
            ("archive/data/0", &storage),
            ("archive/version", b"3\n"),
        ],
        false,
    );
    write(dir.path(), "model.pt", &checkpoint);
    let (code, report, _) = verify(&r, &c, &[]);
    assert_eq!(code, 1);
    assert_eq!(tensor(&report, "fc.bias")["verdict"], "different");
    assert_eq!(tensor(&report, "fc.weight")["verdict"], "equal");
}

#[test]
fn an_unsafe_checkpoint_pickle_is_refused() {
    let checkpoint =
        pickles::torch_zip("archive/data.pkl", &pickles::posix_system_protocol2(), &[]);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.pt", &checkpoint);
    write(dir.path(), "b.safetensors", model(0.0, false));
    let (code, _, stderr) = verify(
        &dir.path().join("b.safetensors"),
        &dir.path().join("a.pt"),
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("a.pt") && stderr.contains("unsafe"),
        "{stderr}"
    );
}

#[test]
fn onnx_initializers_compare_with_safetensors() {
    let w = fixtures::floats(6);
    let reference = fixtures::safetensors_with_data(&[
        ("w", "F32", &[2, 3], &w),
        ("i", "I64", &[4], &[0u8; 32]),
    ]);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "model.safetensors", &reference);
    write(dir.path(), "model.onnx", fixtures::onnx());
    let (code, report, stderr) = verify(
        &dir.path().join("model.safetensors"),
        &dir.path().join("model.onnx"),
        &[],
    );
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_eq!(report["summary"]["equal"], 2);
}

const MANIFEST: &str = "[[model]]\nname = \"bar\"\nfiles = [\"model.safetensors\"]\n\
    format = \"safetensors\"\nlicense = \"Apache-2.0\"\n[model.pins]\n\"model.safetensors\" = \
    { sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\", size = 4 }\n";

fn with_manifest(
    extra: &str,
) -> (
    tempfile::TempDir,
    std::path::PathBuf,
    std::path::PathBuf,
    String,
) {
    let (dir, r, c) = pair(&model(0.0, false), &model(1e-6, false));
    let manifest = dir.path().join("mlmodel.toml");
    std::fs::write(&manifest, format!("{MANIFEST}{extra}")).unwrap();
    let manifest = manifest.to_string_lossy().into_owned();
    (dir, r, c, manifest)
}

#[test]
fn an_evaluation_that_fails_its_bound_makes_it_different() {
    let evaluation = "\n[model.evaluation]\ncommand = \"test -s {model} && echo loading && \
        echo accuracy=0.5\"\nmetric = \"accuracy\"\nmin = 0.9\n";
    let (_dir, r, c, manifest) = with_manifest(evaluation);
    let (code, report, stderr) = verify(&r, &c, &["--manifest", &manifest, "--model", "bar"]);
    assert_eq!(code, 1, "{stderr}\n{report:#}");
    assert_eq!(report["verdict"], "different");
    assert_eq!(report["files"][0]["verdict"], "equivalent");
    let evaluation = &report["evaluation"];
    assert_eq!(evaluation["value"], 0.5, "{evaluation:#}");
    assert_eq!(evaluation["bound"], ">= 0.9");
    assert_eq!(evaluation["pass"], false);
    assert_eq!(evaluation["metric"], "accuracy");
}

#[test]
fn an_evaluation_that_meets_its_bound_keeps_it_equivalent() {
    // The candidate path reaches the command quoted, through MLMODEL_CANDIDATE.
    let evaluation = "\n[model.evaluation]\ncommand = \"test \\\"$MLMODEL_CANDIDATE\\\" = {model} \
        && echo 0.95\"\nmetric = \"accuracy\"\nmin = 0.9\n";
    let (_dir, r, c, manifest) = with_manifest(evaluation);
    let (code, report, stderr) = verify(&r, &c, &["--manifest", &manifest, "--model", "bar"]);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_eq!(report["verdict"], "equivalent");
    assert_eq!(report["evaluation"]["value"], 0.95);
    assert_eq!(report["evaluation"]["pass"], true);
}

#[test]
fn model_verify_tolerances_override_the_policy() {
    let (_dir, r, c, manifest) = with_manifest("\n[model.verify]\nmax-abs = 1e-9\n");
    let (code, report, stderr) = verify(&r, &c, &["--manifest", &manifest, "--model", "bar"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report["tolerance"]["max-abs"], 1e-9);
    // --tolerance overrides the manifest in turn.
    let (code, _, _) = verify(
        &r,
        &c,
        &[
            "--manifest",
            &manifest,
            "--model",
            "bar",
            "--tolerance",
            "max-abs=1e-3",
        ],
    );
    assert_eq!(code, 0);
    // A bad value in the manifest is named with its place.
    let (_dir, r, c, manifest) = with_manifest("\n[model.verify]\ncosine = 3\n");
    let (code, _, stderr) = verify(&r, &c, &["--manifest", &manifest, "--model", "bar"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("mlmodel.toml:") && stderr.contains("cosine"),
        "{stderr}"
    );
}

#[test]
fn tolerance_grammar_errors_are_clear() {
    let (_dir, r, c) = pair(&model(0.0, false), &model(0.0, true));
    for (spec, needle) in [
        ("max-abs", "not KEY=VALUE"),
        ("rel-l2=small", "not a number"),
        ("l2=1e-3", "unknown tolerance `l2`"),
        ("cosine=1.5", "from -1 to 1"),
    ] {
        let (code, _, stderr) = verify(&r, &c, &["--tolerance", spec]);
        assert_eq!(code, 2, "{spec}");
        assert!(
            stderr.starts_with("dh-mlmodel: error:") && stderr.contains(needle),
            "{spec}: {stderr}"
        );
    }
}

#[test]
fn directories_pair_files_by_relative_path() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a/model.safetensors", model(0.0, false));
    write(dir.path(), "a/config.json", b"{}");
    write(dir.path(), "a/only-here.safetensors", model(0.0, false));
    write(dir.path(), "b/model.safetensors", model(0.0, true));
    write(dir.path(), "b/config.json", b"{}");
    let (code, report, stderr) = verify(&dir.path().join("a"), &dir.path().join("b"), &[]);
    assert_eq!(code, 1, "{stderr}");
    let files = report["files"].as_array().unwrap();
    let verdicts: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("config.json", "identical"),
            ("model.safetensors", "equivalent"),
            ("only-here.safetensors", "different")
        ]
    );
    assert_eq!(files[2]["reason"], "only in the reference");
}

#[test]
fn unreadable_inputs_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "model.safetensors", model(0.0, false));
    write(dir.path(), "notes.txt", b"not weights at all");
    let (code, _, stderr) = verify(
        &dir.path().join("model.safetensors"),
        &dir.path().join("notes.txt"),
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("notes.txt") && stderr.contains("not a weight file"),
        "{stderr}"
    );
    let (code, _, stderr) = verify(
        &dir.path().join("model.safetensors"),
        &dir.path().join("absent"),
        &[],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("absent: cannot read"), "{stderr}");
}

#[test]
fn the_tensor_cap_comes_from_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy");
    let table =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("policy/verify.toml"))
            .unwrap()
            .replace("max-tensors = 1000000", "max-tensors = 2");
    write(&policy, "verify.toml", table);
    let (q8, _) = q8_0_block(0);
    let (q4, _) = q4_0_block();
    let gguf = |q4: &[u8]| {
        fixtures::gguf_with_data(&[
            ("a", &[32], 8, &q8),
            ("b", &[32], 2, q4),
            ("c", &[32], 2, q4),
        ])
    };
    write(dir.path(), "a.gguf", gguf(&q4));
    let mut other = q4.clone();
    other[2] ^= 1;
    write(dir.path(), "b.gguf", gguf(&other));
    let policy = policy.to_string_lossy().into_owned();
    let (code, _, stderr) = verify(
        &dir.path().join("a.gguf"),
        &dir.path().join("b.gguf"),
        &["--policy", &policy],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("a.gguf") && stderr.contains("max-tensors (2)"),
        "{stderr}"
    );
}

// HDF5 and Keras: fixtures written by h5py (`h5py.rs`), the writer Keras itself uses.

const KERNEL: &str = "model_weights/dense/dense/kernel:0";

/// The dataset names every h5py fixture holds, nested groups included.
const H5_NAMES: [&str; 7] = [
    "model_weights/conv/conv/kernel:0",
    KERNEL,
    "model_weights/dense/dense/bias:0",
    "model_weights/embed/embed/embeddings:0",
    "model_weights/norm/norm/mask:0",
    "optimizer_weights/iterations:0",
    "optimizer_weights/step:0",
];

fn h5(dir: &Path, name: &str, spec: Value) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut spec = spec;
    spec["path"] = path.to_string_lossy().into_owned().into();
    crate::h5py::write(spec);
    path
}

fn names(report: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = report["files"][0]["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn hdf5_layouts_agree_with_h5py_value_for_value() {
    let dir = tempfile::tempdir().unwrap();
    let mut expected = H5_NAMES.to_vec();
    expected.sort();
    for (layout, big_endian) in [
        ("contiguous", false),
        ("chunked", false),
        ("fletcher", false),
        ("compact", false),
        ("latest", false),
        ("contiguous", true),
    ] {
        let file = format!("{layout}-{big_endian}.h5");
        let dump = dir.path().join(format!("{file}.safetensors"));
        let path = h5(
            dir.path(),
            &file,
            serde_json::json!({"layout": layout, "big_endian": big_endian, "dump": dump}),
        );
        // The same weights under the same names, as h5py reads them, in safetensors.
        let (code, report, stderr) = verify(&path, &dump, &[]);
        assert_eq!(code, 0, "{file}: {stderr}");
        assert_eq!(report["verdict"], "equivalent", "{file}: {report:#}");
        assert_eq!(report["files"][0]["format"], "hdf5/safetensors");
        assert_eq!(names(&report), expected, "{file}");
        assert_eq!(report["summary"]["equal"], 7, "{file}: {report:#}");
        assert_eq!(
            tensor(&report, "model_weights/conv/conv/kernel:0")["shape"],
            serde_json::json!([3, 3, 2, 5])
        );
        assert_eq!(
            tensor(&report, "model_weights/conv/conv/kernel:0")["dtype"],
            "float64"
        );
        assert_eq!(
            tensor(&report, "model_weights/embed/embed/embeddings:0")["dtype"],
            "float16"
        );
        assert_eq!(
            tensor(&report, "optimizer_weights/iterations:0")["shape"],
            serde_json::json!([])
        );
    }
}

#[test]
fn hdf5_identical_rewritten_noisy_and_changed() {
    let dir = tempfile::tempdir().unwrap();
    let reference = h5(dir.path(), "reference.h5", serde_json::json!({}));
    let copy = dir.path().join("copy.h5");
    std::fs::copy(&reference, &copy).unwrap();
    let (code, report, stderr) = verify(&reference, &copy, &[]);
    assert_eq!(
        (code, &report["verdict"]),
        (0, &Value::from("identical")),
        "{stderr}"
    );

    // The same weights, chunked and deflated: other bytes, equal tensors.
    let chunked = h5(
        dir.path(),
        "chunked.h5",
        serde_json::json!({"layout": "chunked"}),
    );
    let (code, report, stderr) = verify(&reference, &chunked, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["verdict"], "equivalent");
    assert_eq!(report["summary"]["equal"], 7, "{report:#}");

    let noisy = h5(dir.path(), "noisy.h5", serde_json::json!({"bump": 1e-6}));
    let (code, report, stderr) = verify(&reference, &noisy, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["verdict"], "equivalent");
    assert_eq!(tensor(&report, KERNEL)["verdict"], "within", "{report:#}");

    let changed = "model_weights/conv/conv/kernel:0";
    let other = h5(
        dir.path(),
        "changed.h5",
        serde_json::json!({"layout": "chunked", "changed": changed}),
    );
    let (code, report, stderr) = verify(&reference, &other, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report["verdict"], "different");
    assert_eq!(tensor(&report, changed)["verdict"], "different");
    assert_eq!(tensor(&report, changed)["max_abs"], 1.0);
    assert_eq!(report["summary"]["different"], 1, "{report:#}");

    let reshaped = h5(
        dir.path(),
        "reshaped.h5",
        serde_json::json!({"reshape": KERNEL}),
    );
    let (code, report, _) = verify(&reference, &reshaped, &[]);
    assert_eq!(code, 1);
    let kernel = tensor(&report, KERNEL);
    assert!(
        kernel["reason"]
            .as_str()
            .unwrap()
            .contains("shape [33, 17]"),
        "{kernel:#}"
    );
}

#[test]
fn keras_archive_weights_are_read_from_their_member() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.safetensors");
    let keras = h5(
        dir.path(),
        "model.keras",
        serde_json::json!({"keras": true, "layout": "chunked", "dump": dump}),
    );
    let (code, report, stderr) = verify(&keras, &dump, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["files"][0]["format"], "keras/safetensors");
    assert_eq!(report["summary"]["equal"], 7, "{report:#}");
    assert_eq!(
        tensor(&report, "layers/dense/vars/0")["shape"],
        serde_json::json!([33, 17])
    );
    let changed = h5(
        dir.path(),
        "changed.keras",
        serde_json::json!({"keras": true, "changed": "layers/dense/vars/1"}),
    );
    let (code, report, _) = verify(&keras, &changed, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        tensor(&report, "layers/dense/vars/1")["verdict"],
        "different"
    );
    assert_eq!(report["summary"]["different"], 1, "{report:#}");
}

/// Offsets of `needle` in `haystack`.
fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(at, _)| at)
        .collect()
}

/// Runs `verify` on a hostile `bytes` against a good file: exit 2, the file and `expected`
/// named, no panic.
fn assert_refused(dir: &Path, good: &Path, name: &str, bytes: &[u8], expected: &str) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let (code, _, stderr) = verify(good, &path, &[]);
    assert_eq!(code, 2, "{name}: {stderr}");
    assert!(
        stderr.contains(name) && stderr.contains(expected) && !stderr.contains("internal error"),
        "{name}: {stderr}"
    );
}

#[test]
fn hostile_hdf5_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = h5(dir.path(), "good.h5", serde_json::json!({}));
    let bytes = std::fs::read(&good).unwrap();

    // Truncated: the datasets' data lies past the new end.
    assert_refused(
        dir.path(),
        &good,
        "truncated.h5",
        &bytes[..bytes.len() / 2],
        "past the end",
    );

    // A huge declared dataspace: the kernel's first dimension (33, an 8-byte length after the
    // 8-byte dataspace v1 prefix; the dimension list is followed by 17) set to 2^40.
    let mut huge = bytes.clone();
    let mut dims = 33u64.to_le_bytes().to_vec();
    dims.extend(17u64.to_le_bytes());
    let at = find_all(&huge, &dims)[0];
    huge[at..at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert_refused(
        dir.path(),
        &good,
        "huge.h5",
        &huge,
        "shape [1099511627776, 17] of float32, which takes 74766790688768",
    );

    // A chunk B-tree whose node is its own child: level 0 made 1, first child pointed back.
    let chunked = dir.path().join("chunked.h5");
    python(
        "import h5py, numpy as np, sys\n\
         with h5py.File(sys.argv[1], 'w') as f:\n\
         \x20   f.create_dataset('w', data=np.ones((8, 8), 'f4'), chunks=(2, 2), compression='gzip')\n",
        &chunked,
    );
    let mut looped = std::fs::read(&chunked).unwrap();
    let node = find_all(&looped, b"TREE\x01\x00")[0];
    looped[node + 5] = 1;
    // TREE, type, level, entries (8), siblings (16), then the first key: chunk size, filter
    // mask and one 8-byte offset per dimension plus one (rank 2).
    let child = node + 24 + 8 + 8 * 3;
    looped[child..child + 8].copy_from_slice(&(node as u64).to_le_bytes());
    assert_refused(dir.path(), &good, "loop.h5", &looped, "a loop");

    // A chunk whose Fletcher-32 checksum no longer matches: one value byte flipped.
    let checked = dir.path().join("checked.h5");
    python(
        "import h5py, numpy as np, sys\n\
         with h5py.File(sys.argv[1], 'w') as f:\n\
         \x20   f.create_dataset('w', data=np.full((8, 8), 3.0, 'f4'), chunks=(2, 2), fletcher32=True)\n",
        &checked,
    );
    let mut flipped = std::fs::read(&checked).unwrap();
    let at = find_all(&flipped, &[0, 0, 0x40, 0x40, 0, 0, 0x40, 0x40])[0];
    flipped[at + 2] ^= 1;
    assert_refused(
        dir.path(),
        &checked,
        "flipped.h5",
        &flipped,
        "fails its Fletcher-32 checksum",
    );
}

#[test]
fn hdf5_caps_and_unread_layouts_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let good = h5(dir.path(), "good.h5", serde_json::json!({}));
    let chunked = h5(
        dir.path(),
        "chunked.h5",
        serde_json::json!({"layout": "chunked"}),
    );
    let with_policy = |name: &str, from: &str, to: &str| {
        let policy = dir.path().join(name);
        let table = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("policy/verify.toml"),
        )
        .unwrap();
        assert!(table.contains(from), "{from}");
        write(&policy, "verify.toml", table.replace(from, to));
        policy.to_string_lossy().into_owned()
    };
    let policy = with_policy(
        "few-chunks",
        "hdf5-chunks-max = 1000000",
        "hdf5-chunks-max = 3",
    );
    let (code, _, stderr) = verify(&good, &chunked, &["--policy", &policy]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("chunked.h5") && stderr.contains("hdf5-chunks-max"),
        "{stderr}"
    );
    let policy = with_policy("shallow", "hdf5-depth-max = 64", "hdf5-depth-max = 2");
    let (code, _, stderr) = verify(&good, &chunked, &["--policy", &policy]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("good.h5") && stderr.contains("hdf5-depth-max (2)"),
        "{stderr}"
    );

    // Dense link storage: more links than a compact group holds (8, libhdf5's default).
    let script = "import h5py, numpy as np, sys\n\
                  with h5py.File(sys.argv[1], 'w', libver='latest') as f:\n\
                  \x20   g = f.create_group('many')\n\
                  \x20   for i in range(20):\n\
                  \x20       g.create_dataset(f'w{i}', data=np.zeros(2, 'f4'))\n";
    let dense = dir.path().join("dense.h5");
    python(script, &dense);
    let (code, _, stderr) = verify(&good, &dense, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("group many: links in dense storage"),
        "{stderr}"
    );
}

/// Runs a Python `script` with Debian's python3 (h5py) on `path`.
fn python(script: &str, path: &Path) {
    let output = std::process::Command::new("/usr/bin/python3")
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .args(["-c", script])
        .arg(path)
        .output()
        .unwrap();
    crate::support::assert_success(&output);
}
