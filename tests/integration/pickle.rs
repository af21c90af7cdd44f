//! Pickle analysis through `scan --json`: malicious pickles in every carrier are `unsafe`
//! with a reason, benign weight pickles are `safe`. Fixtures come from `pickles`.

use crate::fixtures;
use crate::pickles::{self, Pickle};
use crate::support::{finding, scan_json, write};

/// Scans a tree holding `bytes` as a file and returns the `pickle` report of the finding at
/// `rel`: the file itself, or `file!member` for an archive member.
fn pickle_report(rel: &str, bytes: &[u8]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), rel.split('!').next().unwrap(), bytes);
    let findings = scan_json(dir.path(), &["--no-hash"]);
    let found = finding(&findings, rel)
        .unwrap_or_else(|| panic!("no finding for {rel} in {findings:#?}"))
        .clone();
    assert_eq!(found["executes_code"], true, "{found:#}");
    found["pickle"].clone()
}

fn reasons(report: &serde_json::Value) -> Vec<String> {
    report["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no reasons in {report:#}"))
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

fn assert_unsafe(report: &serde_json::Value, needle: &str) {
    assert_eq!(report["verdict"], "unsafe", "{report:#}");
    assert!(
        reasons(report).iter().any(|r| r.contains(needle)),
        "no reason containing {needle:?}: {report:#}"
    );
}

fn assert_safe(report: &serde_json::Value) {
    assert_eq!(report["verdict"], "safe", "{report:#}");
    assert!(reasons(report).is_empty(), "{report:#}");
}

#[test]
fn os_system_as_posix_system_protocol_0_and_2() {
    let report = pickle_report("model.pkl", &pickles::posix_system_protocol0());
    assert_unsafe(
        &report,
        "dangerous global posix.system (runs shell commands)",
    );
    assert_eq!(report["globals"], serde_json::json!(["posix.system"]));
    let report = pickle_report("model.pkl", &pickles::posix_system_protocol2());
    assert_unsafe(
        &report,
        "dangerous global posix.system (runs shell commands)",
    );
}

#[test]
fn importlib_import_module_is_dangerous() {
    let report = pickle_report("model.pkl", &pickles::import_module());
    assert_unsafe(
        &report,
        "dangerous global importlib.import_module (imports any module",
    );
}

#[test]
fn builtins_reached_through_a_numpy_module() {
    let report = pickle_report("model.pkl", &pickles::numpy_builtins_gadget());
    assert_unsafe(
        &report,
        "dangerous global numpy.testing._private.utils.__builtins__",
    );
    assert_unsafe(&report, "dangerous global builtins.getattr");
}

#[test]
fn stack_global_fed_from_the_memo() {
    let report = pickle_report("model.pkl", &pickles::stack_global_from_memo());
    assert_unsafe(
        &report,
        "dangerous global builtins.exec (evaluates Python code)",
    );
}

#[test]
fn torch_zip_pickle_member_found_whatever_its_name() {
    // A real torch.save layout (benign data.pkl) with a payload hidden as a storage record.
    let zip = pickles::torch_zip(
        "archive/data.pkl",
        &pickles::torch_state_dict(),
        &[("archive/data/1", &pickles::posix_system_protocol2())],
    );
    let report = pickle_report("model.pt", &zip);
    assert_unsafe(&report, "archive/data/1: dangerous global posix.system");
    assert!(
        !reasons(&report)
            .iter()
            .any(|r| r.starts_with("archive/data.pkl") || r.starts_with("archive/data/0")),
        "{report:#}"
    );

    // data.pkl renamed: no longer a torch layout, so the zip is opened as an archive and the
    // member is found as a pickle by its content.
    let zip = pickles::torch_zip(
        "archive/weights.bin",
        &pickles::posix_system_protocol2(),
        &[],
    );
    let report = pickle_report("model.pt!archive/weights.bin", &zip);
    assert_unsafe(&report, "dangerous global posix.system");
}

#[test]
fn payload_in_a_later_pickle_of_a_legacy_torch_file() {
    let file = pickles::torch_legacy(&pickles::posix_system_protocol2());
    let report = pickle_report("model.pth", &file);
    assert_unsafe(&report, "dangerous global posix.system");
}

#[test]
fn object_npy_data_is_analysed() {
    let report = pickle_report("array.npy", &pickles::object_npy());
    assert_unsafe(&report, "dangerous global posix.system");
}

#[test]
fn malicious_npz_member() {
    let floats: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|f| f.to_le_bytes()).collect();
    let npz = fixtures::zip(
        &[
            ("weights.npy", &fixtures::npy("'<f4'", "(2,)", &floats)),
            ("extra.npy", &pickles::object_npy()),
        ],
        false,
    );
    let report = pickle_report("arrays.npz", &npz);
    assert_unsafe(&report, "extra.npy: dangerous global posix.system");
    assert!(
        !reasons(&report)
            .iter()
            .any(|r| r.starts_with("weights.npy"))
    );
}

#[test]
fn truncated_pickle_is_a_parse_error() {
    let whole = pickles::torch_state_dict();
    let report = pickle_report("model.pkl", &whole[..whole.len() / 2]);
    assert_unsafe(&report, "parse error at byte");
}

#[test]
fn torch_state_dict_is_safe() {
    let zip = pickles::torch_zip("archive/data.pkl", &pickles::torch_state_dict(), &[]);
    let report = pickle_report("model.pt", &zip);
    assert_safe(&report);
    assert_eq!(
        report["globals"],
        serde_json::json!([
            "collections.OrderedDict",
            "torch._utils._rebuild_tensor_v2",
            "torch.FloatStorage"
        ])
    );
    let legacy = pickles::torch_legacy(&pickles::torch_state_dict());
    assert_safe(&pickle_report("old.pth", &legacy));
}

#[test]
fn numpy_array_pickle_is_safe() {
    let report = pickle_report("array.pkl", &pickles::numpy_array());
    assert_safe(&report);
    assert_eq!(
        report["globals"],
        serde_json::json!([
            "numpy.core.multiarray._reconstruct",
            "numpy.ndarray",
            "_codecs.encode",
            "numpy.dtype"
        ])
    );
}

#[test]
fn unknown_class_is_not_on_the_allow_list() {
    let bytes = Pickle::protocol(2)
        .global("mypkg.models", "Net")
        .empty_tuple()
        .op(0x81)
        .stop();
    let report = pickle_report("net.pkl", &bytes);
    assert_unsafe(&report, "global mypkg.models.Net is not on the allow-list");
}

/// Eight float64 elements whose bytes include what would read as `posix.system` if they were
/// taken for opcodes: they must be skipped as array data, exactly.
fn joblib_float_data() -> Vec<u8> {
    let mut data: Vec<u8> = [0.5f64, -1.25, 3.0, 1e-3]
        .iter()
        .flat_map(|f| f.to_le_bytes())
        .collect();
    data.extend_from_slice(b"cposix\nsystem\n(Vid\ntR.");
    data.resize(8 * 8, b'.');
    data
}

#[test]
fn joblib_float_array_is_safe() {
    let file = pickles::joblib_array("f8", &[2, 4], &joblib_float_data()).stop();
    let report = pickle_report("model.joblib", &file);
    assert_safe(&report);
    assert_eq!(
        report["globals"],
        serde_json::json!([
            "joblib.numpy_pickle.NumpyArrayWrapper",
            "numpy.ndarray",
            "numpy.dtype"
        ])
    );
}

#[test]
fn joblib_payload_after_the_array_is_unsafe() {
    let file = pickles::joblib_array("f8", &[2, 4], &joblib_float_data())
        .short_text("posix")
        .short_text("system")
        .stack_global()
        .short_text("echo pwned")
        .tuple1()
        .reduce()
        .tuple2()
        .stop();
    let report = pickle_report("model.joblib", &file);
    assert_unsafe(&report, "dangerous global posix.system");
    // The array bytes were skipped, not parsed: the only reason is the real payload.
    assert_eq!(reasons(&report).len(), 1, "{report:#}");
}

#[test]
fn joblib_object_array_pickle_is_analysed() {
    let file = pickles::joblib_array("O8", &[1], &pickles::posix_system_protocol2()).stop();
    let report = pickle_report("model.joblib", &file);
    assert_unsafe(&report, "dangerous global posix.system");
}

#[test]
fn joblib_array_of_unknown_size_stops_the_analysis() {
    // A structured dtype may hold objects, and a shape too large for 64 bits cannot be
    // skipped: neither is ever safe.
    let file = pickles::joblib_array("V16", &[2], &[0; 32]).stop();
    assert_unsafe(
        &pickle_report("model.joblib", &file),
        "dtype kind 'V' may hold Python objects",
    );
    let huge = u64::from(u32::MAX);
    let file = pickles::joblib_array("f8", &[huge, huge, huge], &[]).stop();
    assert_unsafe(
        &pickle_report("model.joblib", &file),
        "a joblib array's size overflows 64 bits",
    );
}

/// `posix.system("echo pwned")` as opcodes, without PROTO or STOP: what a hostile joblib file
/// runs after an array the walk measured wrongly.
fn payload_ops() -> Vec<u8> {
    Pickle::default()
        .short_text("posix")
        .short_text("system")
        .stack_global()
        .short_text("echo pwned")
        .tuple1()
        .reduce()
        .bytes()
}

/// A BINUNICODE opcode whose string covers `filler` bytes of its own and then `covered` more
/// bytes: read as opcodes where joblib reads array data, it swallows what joblib runs next.
fn string_over(filler: usize, covered: usize) -> Vec<u8> {
    let mut out = vec![b'X'];
    out.extend_from_slice(&((filler + covered) as u32).to_le_bytes());
    out.resize(out.len() + filler, b'N');
    out
}

/// The state entries joblib writes for a C-order array of `shape` (its dtype written by
/// `dtype`), without `numpy_array_alignment_bytes`, as joblib 1.1 and earlier wrote them.
fn wrapper_entries(p: Pickle, shape: u32, dtype: impl FnOnce(Pickle) -> Pickle) -> Pickle {
    let p = p
        .short_text("shape")
        .int(shape)
        .tuple1()
        .short_text("order")
        .short_text("C")
        .short_text("dtype");
    dtype(p).short_text("allow_mmap").newtrue()
}

/// Finishes a hostile joblib file: after the array bytes joblib reads, the payload, then the
/// tuple of (array, payload result). A walk that skipped the wrong count reads `misread` as
/// opcodes and sees one string where joblib runs the payload.
fn joblib_smuggling(mut file: Vec<u8>) -> Vec<u8> {
    file.extend(payload_ops());
    file.extend_from_slice(b"\x86.");
    file
}

/// `numpy_array_alignment_bytes = 16.0`: not `None`, so joblib reads a padding-length byte and
/// the padding; a walk that only pads for an int reads the padding as data.
#[test]
fn joblib_alignment_given_as_a_float_is_unsafe() {
    let mut file = pickles::joblib_wrapper(|p| {
        wrapper_entries(p, 1, |p| p.numpy_dtype("f8"))
            .short_text("numpy_array_alignment_bytes")
            .raw(b"G\x40\x30\0\0\0\0\0\0") // BINFLOAT 16.0, big-endian
    })
    .bytes();
    file.extend_from_slice(&[7; 8]); // padding length 7, then 7 bytes of padding
    file.extend(string_over(3, payload_ops().len())); // the 8 array bytes joblib reads
    let report = pickle_report("model.joblib", &joblib_smuggling(file));
    assert_unsafe(
        &report,
        "numpy_array_alignment_bytes is neither an int nor None",
    );
}

/// The state dict memoized, then its shape changed through the memo alias: joblib reads the
/// shape the shared dict holds at BUILD time (3 elements), not the one the stack copy held.
#[test]
fn joblib_state_changed_through_a_memo_alias_is_followed() {
    let mut file = pickles::joblib_wrapper(|p| {
        wrapper_entries(p, 1, |p| p.numpy_dtype("f8"))
            .op(b'u') // SETITEMS: the dict (memo 4) is complete
            .get(4)
            .short_text("shape")
            .int(3)
            .tuple1()
            .setitem()
            .pop()
            .mark() // for the wrapper's own SETITEMS, now empty
    })
    .bytes();
    file.extend_from_slice(&[0; 8]);
    file.extend(string_over(11, payload_ops().len())); // 16 more bytes: 24 in all
    let report = pickle_report("model.joblib", &joblib_smuggling(file));
    assert_unsafe(&report, "dangerous global posix.system");
}

/// A dtype BUILD state giving `U1` (4 bytes) an element size of 8: joblib reads 16 bytes for
/// two elements, not 8.
#[test]
fn joblib_dtype_state_changing_the_element_size_is_unsafe() {
    let mut file = pickles::joblib_wrapper(|p| {
        wrapper_entries(p, 2, |p| p.numpy_dtype_with_state("U1", 8, 8))
    })
    .bytes();
    file.extend_from_slice(&[0; 8]);
    file.extend(string_over(3, payload_ops().len()));
    let report = pickle_report("model.joblib", &joblib_smuggling(file));
    assert_unsafe(
        &report,
        "may change its element size or make it hold objects",
    );
}

/// A dtype BUILD state setting `NPY_ITEM_HASOBJECT` on `f8`: `dtype.hasobject` is true, so
/// joblib loads a nested pickle where a walk trusting the type code skips 8 raw bytes.
#[test]
fn joblib_dtype_state_setting_the_object_flag_is_unsafe() {
    let mut file = pickles::joblib_wrapper(|p| {
        wrapper_entries(p, 1, |p| p.numpy_dtype_with_state("f8", 0xffff_ffff, 1))
    })
    .bytes();
    // The nested pickle joblib loads: PROTO 2, a 6-byte string, STOP. Its string starts
    // with the byte that ends the 8 a raw read would skip; the next 5 open a string over
    // the nested STOP and the payload.
    file.extend_from_slice(b"\x80\x02X\x06\0\0\0");
    file.push(b'N');
    file.extend(string_over(0, 1 + payload_ops().len()));
    file.push(b'.');
    let report = pickle_report("model.joblib", &joblib_smuggling(file));
    assert_unsafe(
        &report,
        "may change its element size or make it hold objects",
    );
}

/// The state joblib and NumPy write for a `U5` array (element size 20, flags 8) keeps its
/// layout: the exact bytes are skipped and the file is safe.
#[test]
fn joblib_plain_dtype_state_is_trusted() {
    let mut file = pickles::joblib_wrapper(|p| {
        wrapper_entries(p, 2, |p| p.numpy_dtype_with_state("U5", 20, 8))
            .short_text("numpy_array_alignment_bytes")
            .int(16)
    })
    .bytes();
    file.push(0); // no padding
    let mut data = b"cposix\nsystem\n(Vid\ntR.".repeat(2);
    data.resize(40, b'.'); // two elements of 20 bytes, opcodes if misread
    file.extend(data);
    file.push(b'.');
    let report = pickle_report("model.joblib", &file);
    assert_safe(&report);
}

/// zlib and lzma-alone streams around a pickle that names nothing of joblib's: `joblib.load`
/// opens them whatever the file is called (`joblib/compressor.py`, `_detect_compressor`), so
/// they are found by content and analysed.
#[test]
fn zlib_and_lzma_alone_pickles_without_joblib_markers_are_analysed() {
    for (name, bytes) in [
        (
            "weights.bin",
            fixtures::zlib(&pickles::posix_system_protocol2()),
        ),
        (
            "weights.dat",
            fixtures::lzma_alone(&pickles::posix_system_protocol2()),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), name, &bytes);
        let findings = scan_json(dir.path(), &["--no-hash"]);
        let found = finding(&findings, name).unwrap_or_else(|| panic!("{name}: {findings:#?}"));
        assert_eq!(found["format"], "pickle", "{found:#}");
        assert_unsafe(&found["pickle"], "dangerous global posix.system");
    }
}

/// Bytes that merely start like a zlib header (`x\x9c`) or an lzma-alone one, but are not a
/// stream that decompresses to a pickle, are not pickles: a large one stays a blob.
#[test]
fn data_starting_like_zlib_or_lzma_is_not_a_pickle() {
    let dir = tempfile::tempdir().unwrap();
    let mut zlib_like = b"x\x9c".to_vec();
    zlib_like.extend(fixtures::noise(2 << 20, 7));
    let mut lzma_like = b"\x5d\0\0".to_vec();
    lzma_like.extend(fixtures::noise(2 << 20, 9));
    write(dir.path(), "a.bin", &zlib_like);
    write(dir.path(), "b.bin", &lzma_like);
    let findings = scan_json(dir.path(), &["--no-hash"]);
    for name in ["a.bin", "b.bin"] {
        let found = finding(&findings, name).unwrap_or_else(|| panic!("{name}: {findings:#?}"));
        assert_eq!(found["kind"], "blob", "{found:#}");
    }
}

/// Protocol 0 numbers and memo keys as CPython's `int()` and `strtol` accept them: surrounding
/// whitespace, `\r\n` line ends, underscores between digits. The walk must read them too, or
/// the file is not identified as a pickle at all.
#[test]
fn protocol_0_numbers_spelled_as_cpython_accepts_them() {
    let bytes = b"(I\t1\nI1\r\nL\t1L\np1_0\ng1_0\ntp2\n0cposix\nsystem\n(Vid\ntR.";
    let report = pickle_report("data.bin", bytes);
    assert_unsafe(
        &report,
        "dangerous global posix.system (runs shell commands)",
    );
}

/// INT `017` is 15 to `_pickle.c` (strtol, base 0) and an error to `pickle.py`: one stream,
/// two objects.
#[test]
fn protocol_0_number_the_two_loaders_disagree_on_is_unsafe() {
    let report = pickle_report("data.bin", b"(I017\nt.");
    assert_unsafe(&report, "INT at byte 1: a leading-zero integer");
}

/// `pickle.dumps(list(range(n)), protocol=0)`: no signature, and far longer than the
/// identification window, so the walk never reaches STOP there.
fn long_protocol_0_list(bytes: usize) -> Vec<u8> {
    let mut out = b"(lp0\n".to_vec();
    let mut i = 0;
    while out.len() < bytes {
        out.extend_from_slice(format!("I{i}\na").as_bytes());
        i += 1;
    }
    out
}

#[test]
fn protocol_0_pickle_past_the_identification_window() {
    let mut whole = long_protocol_0_list(180_000);
    whole.push(b'.');
    assert_safe(&pickle_report("data.bin", &whole));
    // The same walk ending in a byte that is no opcode: still a pickle, and unsafe.
    let mut broken = long_protocol_0_list(180_000);
    broken.push(0xff);
    assert_unsafe(&pickle_report("data.bin", &broken), "unknown opcode 0xff");
}

/// CPython runs `os.system` at REDUCE; the bad byte after it fails the load only afterwards.
#[test]
fn payload_then_a_bad_byte_is_still_unsafe() {
    let report = pickle_report("data.bin", b"cposix\nsystem\n(Vid\ntR\xff");
    assert_unsafe(
        &report,
        "dangerous global posix.system (runs shell commands)",
    );
    // Failing right after the import, before any call.
    let report = pickle_report("data.bin", b"cposix\nsystem\n\xff");
    assert_unsafe(
        &report,
        "dangerous global posix.system (runs shell commands)",
    );
}

/// Object dtypes spelled other than `'|O'`: `np.load` hands the descr to `np.dtype`, which
/// takes `'object'`, `'O8'`, subarray tuples, comma-separated fields, structured lists.
#[test]
fn object_npy_however_the_dtype_is_spelled() {
    let payload = pickles::posix_system_protocol2();
    for descr in [
        "'object'",
        "'|O8'",
        "('|O', (2,))",
        "'i4,O'",
        "'(2,)O'",
        "[('a', '<f4'), ('b', '|O')]",
        "{'names': ['a'], 'formats': ['O']}",
    ] {
        let npy = fixtures::npy(descr, "(1,)", &payload);
        let report = pickle_report("array.npy", &npy);
        assert_unsafe(&report, "dangerous global posix.system");
    }
}

/// The data of an object array is a pickle whatever it looks like: one the sniff would not
/// recognise still gets a verdict.
#[test]
fn object_npy_with_an_unrecognisable_pickle_is_unsafe() {
    let npy = fixtures::npy("'|O'", "(1,)", b"\xff\xfe");
    assert_unsafe(&pickle_report("array.npy", &npy), "unknown opcode 0xff");
}

/// Text whose lines walk as GLOBAL or INST (`c`, `i`) is not a pickle: CPython's `find_class`
/// imports the module first and fails on a name like `ase 0x0000: return 1;`, so the real
/// loader stops at the first line (python3-sympy's `conftest.py`, libboost's
/// `nt_code_to_win32_code.ipp` were both flagged before). A payload spelled as Python names
/// is still one.
#[test]
fn text_lines_that_walk_as_imports_of_unimportable_modules_are_not_pickles() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "conftest.py",
        "import sys\nsys._running_pytest = True\nfrom sympy.external.gmpy import GROUND_TYPES\n\n\
         from sympy.testing.runtests import setup_pprint, _get_doctest_blacklist\n",
    );
    let cases: String = (0..40)
        .map(|i| format!("case 0x{i:04x}: return ERROR_{i};\n"))
        .collect();
    write(dir.path(), "codes.ipp", &cases);
    write(dir.path(), "payload.bin", b"cos\nsystem\n(S'true'\ntR");
    let findings = scan_json(dir.path(), &["--no-hash"]);
    let paths: Vec<&str> = findings
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["payload.bin"], "{findings:#?}");
}
