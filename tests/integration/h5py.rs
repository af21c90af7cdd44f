//! HDF5 fixtures written by Debian's `python3-h5py` (the real writer: h5py on libhdf5, as
//! Keras saves weights), run with Debian's own `python3` (`PATH=/usr/sbin:/usr/bin:/sbin:/bin`).
//! Beside each file, h5py can dump the values it *reads back* as a safetensors file (header
//! and little-endian data as the safetensors specification lays them out), so a test can check
//! that `verify`'s reader agrees with h5py value for value.

use std::process::Command;

/// The writer. `spec` (JSON) says where and how:
/// `layout`: `contiguous` (h5py's default), `chunked` (chunks, gzip, shuffle), `fletcher`
/// (chunked, shuffle, Fletcher-32), `compact` (H5D_COMPACT through the low-level API),
/// `latest` (libver='latest': superblock v3, v2 object headers, link messages);
/// `big_endian`: floats stored big-endian; `bump`: added to every value of the dense kernel;
/// `changed`: a dataset one of whose values gets +1; `reshape`: a dataset stored transposed;
/// `keras`: Keras 3 names (`layers/<layer>/vars/<i>`) in a `.keras` zip (`saving_lib`:
/// `config.json`, `metadata.json`, `model.weights.h5` written stored by `writestr`);
/// `dump`: where to write the safetensors of the values h5py reads back.
const WRITER: &str = r#"
import io, json, struct, sys, zipfile
import h5py
import numpy as np

spec = json.loads(sys.argv[1])
rng = np.random.default_rng(7)
dense = "model_weights/dense/dense/kernel:0"
weights = {
    dense: rng.standard_normal((33, 17)).astype("f4"),
    "model_weights/dense/dense/bias:0": rng.standard_normal(17).astype("f4"),
    "model_weights/conv/conv/kernel:0": rng.standard_normal((3, 3, 2, 5)).astype("f8"),
    "model_weights/embed/embed/embeddings:0": rng.standard_normal((20, 6)).astype("f2"),
    "model_weights/norm/norm/mask:0": np.array([True, False, True]),
    "optimizer_weights/iterations:0": np.array(1234, dtype="i8"),
    "optimizer_weights/step:0": np.arange(6, dtype="u2").reshape(2, 3),
}
if spec.get("keras"):
    renamed = {}
    for i, (name, value) in enumerate(weights.items()):
        layer = name.split("/")[1]
        index = sum(1 for n in renamed if n.startswith(f"layers/{layer}/"))
        renamed[f"layers/{layer}/vars/{index}"] = value
    weights = renamed
    dense = "layers/dense/vars/0"
weights[dense] = weights[dense] + np.float32(spec.get("bump", 0.0))
if "changed" in spec:
    value = weights[spec["changed"]].copy()
    value.flat[5] += 1
    weights[spec["changed"]] = value
if "reshape" in spec:
    weights[spec["reshape"]] = np.ascontiguousarray(weights[spec["reshape"]].T)
if spec.get("big_endian"):
    weights = {n: v.astype(v.dtype.newbyteorder(">")) if v.dtype.kind == "f" else v
               for n, v in weights.items()}

layout = spec.get("layout", "contiguous")
target = io.BytesIO() if spec.get("keras") else spec["path"]
with h5py.File(target, "w", libver="latest" if layout == "latest" else "earliest") as f:
    for name, value in weights.items():
        if layout == "compact":
            f.require_group(name.rsplit("/", 1)[0])
            plist = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            plist.set_layout(h5py.h5d.COMPACT)
            space = h5py.h5s.create_simple(value.shape) if value.shape else h5py.h5s.create(h5py.h5s.SCALAR)
            dataset = h5py.h5d.create(f.id, name.encode(), h5py.h5t.py_create(value.dtype), space, plist)
            dataset.write(h5py.h5s.ALL, h5py.h5s.ALL, np.ascontiguousarray(value))
        elif layout in ("chunked", "fletcher") and value.ndim > 0:
            chunks = tuple(max(1, (d + 1) // 2) for d in value.shape)
            f.create_dataset(name, data=value, chunks=chunks, shuffle=True,
                             compression="gzip" if layout == "chunked" else None,
                             fletcher32=layout == "fletcher")
        else:
            f.create_dataset(name, data=value)
if spec.get("keras"):
    with zipfile.ZipFile(spec["path"], "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.0.0"}))
        archive.writestr("config.json", json.dumps({"class_name": "Sequential"}))
        archive.writestr("model.weights.h5", target.getvalue())

if "dump" in spec:
    source = spec["path"]
    if spec.get("keras"):
        source = io.BytesIO(zipfile.ZipFile(spec["path"]).read("model.weights.h5"))
    names = {"f2": "F16", "f4": "F32", "f8": "F64", "i1": "I8", "i2": "I16", "i4": "I32",
             "i8": "I64", "u1": "U8", "u2": "U16", "u4": "U32", "u8": "U64"}
    header, data = {}, b""
    with h5py.File(source, "r") as f:
        found = []
        f.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset) else None)
        for name in found:
            value = f[name][()]
            value = np.asarray(value)
            if value.dtype == np.bool_:
                value = value.astype("i1")  # stored as h5py's enum of int8
            value = value.astype(value.dtype.newbyteorder("<"))
            raw = value.tobytes()
            header[name] = {"dtype": names[value.dtype.str[1:]], "shape": list(value.shape),
                            "data_offsets": [len(data), len(data) + len(raw)]}
            data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(spec["dump"], "wb") as out:
        out.write(struct.pack("<Q", len(text)) + text + data)
"#;

/// Writes the HDF5 (or `.keras`) file `spec` describes with h5py; panics with h5py's error.
pub fn write(spec: serde_json::Value) {
    let output = Command::new("/usr/bin/python3")
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .arg("-c")
        .arg(WRITER)
        .arg(spec.to_string())
        .output()
        .expect("Debian's python3 runs (scripts/setup installs python3-h5py)");
    assert!(
        output.status.success(),
        "h5py failed on {spec}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The bytes of the file `spec` describes (its `path` is set here, in a temporary directory).
pub fn bytes(mut spec: serde_json::Value) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fixture");
    spec["path"] = path.to_string_lossy().into_owned().into();
    write(spec);
    std::fs::read(path).unwrap()
}
