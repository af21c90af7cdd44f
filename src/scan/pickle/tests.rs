//! The analysis through `analyze`, `sniff` and `PickleReport::merge`, and every opcode of the
//! table through the walk.

use super::*;
use crate::policy::PolicySource;

fn table() -> PickleTable {
    PolicySource::embedded().table("pickle.toml").unwrap()
}

fn check(bytes: &[u8], expect: Expect) -> PickleReport {
    analyze(&table(), bytes, expect)
}

fn one(bytes: &[u8]) -> PickleReport {
    check(bytes, Expect::One)
}

fn assert_unsafe_because(report: &PickleReport, needle: &str) {
    assert_eq!(report.verdict, Verdict::Unsafe, "{report:?}");
    assert!(
        report.reasons.iter().any(|r| r.contains(needle)),
        "no reason containing {needle:?} in {:?}",
        report.reasons
    );
}

/// `os.system("id")` as CPython pickles it on Linux at protocol 0.
const POSIX_SYSTEM_P0: &[u8] = b"cposix\nsystem\np0\n(Vid\np1\ntp2\nRp3\n.";

#[test]
fn protocol_0_posix_system_is_dangerous() {
    let report = one(POSIX_SYSTEM_P0);
    assert_eq!(report.globals, ["posix.system"]);
    assert_unsafe_because(
        &report,
        "dangerous global posix.system (runs shell commands)",
    );
}

#[test]
fn protocol_2_os_system_is_dangerous() {
    let report = one(b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.");
    assert_unsafe_because(&report, "dangerous global os.system (runs shell commands)");
}

#[test]
fn stack_global_resolved_through_the_memo() {
    // Protocol 4: "builtins" and "eval" memoized, fetched back with BINGET, then imported.
    let bytes = b"\x80\x04\x95\x30\x00\x00\x00\x00\x00\x00\x00\
        \x8c\x08builtins\x94\x8c\x04eval\x94\x85\x94\
        0h\x00h\x01\x93\x94\x8c\x051+1\x94\x85R.";
    let report = one(bytes);
    assert_eq!(report.globals, ["builtins.eval"]);
    assert_unsafe_because(
        &report,
        "dangerous global builtins.eval (evaluates Python code)",
    );
}

#[test]
fn stack_global_on_a_non_string_is_unresolved() {
    let report = one(b"\x80\x04K\x01K\x02\x93)R.");
    assert_unsafe_because(&report, "STACK_GLOBAL at byte 6");
    assert!(report.globals.is_empty());
}

#[test]
fn dunder_reach_through_numpy_is_dangerous() {
    let report = one(b"\x80\x02cnumpy\n__builtins__\n.");
    assert_unsafe_because(
        &report,
        "dangerous global numpy.__builtins__ (reaches the builtins",
    );
    let report = one(b"\x80\x04\x8c\x14numpy.core._internal\x8c\x0bsys.modules\x93.");
    assert_unsafe_because(&report, "dangerous global numpy.core._internal.sys.modules");
}

#[test]
fn renamed_and_sub_modules_are_matched() {
    let report = one(b"c__builtin__\neval\n.");
    assert_unsafe_because(&report, "dangerous global __builtin__.eval (evaluates");
    let report = one(b"casyncio.unix_events\n_UnixSubprocessTransport._start\n.");
    assert_unsafe_because(&report, "dangerous global asyncio.unix_events.");
    // A torch sub-module named like a dangerous one is only "not allowed".
    let report = one(b"ctorch.nn.modules.linear\nLinear\n.");
    assert_unsafe_because(
        &report,
        "global torch.nn.modules.linear.Linear is not on the allow-list",
    );
}

#[test]
fn unknown_global_is_not_allowed() {
    let report = one(b"\x80\x02cmypkg\nModel\n)\x81.");
    assert_unsafe_because(&report, "global mypkg.Model is not on the allow-list");
}

#[test]
fn extension_registry_is_never_safe() {
    let report = one(b"\x80\x02\x82\x01)R.");
    assert_unsafe_because(&report, "EXT1 at byte 2");
}

#[test]
fn truncated_pickle_names_the_offset() {
    let report = one(b"\x80\x02X\x10\x00\x00\x00abc");
    assert_unsafe_because(&report, "parse error at byte 2:");
    let report = one(b"\x80\x02N");
    assert_unsafe_because(&report, "parse error at byte 3: input ends");
}

#[test]
fn unknown_opcode_is_a_parse_error() {
    let report = one(b"\x80\x02\xffN.");
    assert_unsafe_because(&report, "parse error at byte 2: unknown opcode 0xff");
}

#[test]
fn second_pickle_after_stop_is_unsafe_but_junk_is_not() {
    let report = one(b"\x80\x02N.\x80\x02N.");
    assert_unsafe_because(&report, "a second pickle starts at byte 4");
    let mut stacked = b"\x80\x02N.".to_vec();
    stacked.extend_from_slice(POSIX_SYSTEM_P0);
    assert_unsafe_because(&one(&stacked), "dangerous global posix.system");
    let report = one(b"\x80\x02N.\x00\x01\x02\xfe\xff");
    assert_eq!(report.verdict, Verdict::Safe, "{report:?}");
}

#[test]
fn codecs_encode_only_for_latin1_bytes() {
    let good = b"\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00abX\x06\x00\x00\x00latin1\x86R.";
    assert_eq!(one(good).verdict, Verdict::Safe, "{:?}", one(good));
    let bad = b"\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00abX\x03\x00\x00\x00rot\x86R.";
    assert_unsafe_because(&one(bad), "calls _codecs.encode with arguments other than");
}

#[test]
fn build_on_a_global_itself_is_unsafe() {
    let report = one(b"\x80\x02cnumpy\nndarray\n}b.");
    assert_unsafe_because(
        &report,
        "BUILD at byte 18 changes the state of the global numpy.ndarray",
    );
}

#[test]
fn call_on_a_call_result_is_unsafe() {
    let report = one(b"\x80\x02ccollections\nOrderedDict\n)R)R.");
    assert_unsafe_because(
        &report,
        "REDUCE at byte 30 calls a value that is not an imported global",
    );
}

#[test]
fn large_payloads_are_skipped_not_kept() {
    // BINBYTES8 claiming 2^60 bytes must not allocate: it runs out of input instead.
    let report = one(b"\x80\x04\x8e\x00\x00\x00\x00\x00\x00\x00\x10.");
    assert_unsafe_because(&report, "parse error at byte 2: input ends");
    let mut big = b"\x80\x04\x8e".to_vec();
    big.extend_from_slice(&(1u64 << 20).to_le_bytes());
    big.resize(big.len() + (1 << 20), 0x63);
    big.push(b'.');
    assert_eq!(one(&big).verdict, Verdict::Safe);
}

#[test]
fn torch_state_dict_is_safe() {
    // OrderedDict({"w": _rebuild_tensor_v2(<storage persistent id>, 0, (2,), (1,), False,
    // OrderedDict())}) as torch.save writes it at protocol 2.
    let bytes = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x01\x00\x00\x00wq\x02\
        ctorch._utils\n_rebuild_tensor_v2\nq\x03((X\x07\x00\x00\x00storageq\x04\
        ctorch\nFloatStorage\nq\x05X\x01\x00\x00\x000q\x06X\x03\x00\x00\x00cpuq\x07K\x02tq\x08\
        QK\x00K\x02\x85K\x01\x85\x89h\x00)Rq\x09tq\x0aRq\x0bs.";
    let report = one(bytes);
    assert_eq!(report.verdict, Verdict::Safe, "{report:?}");
    assert_eq!(
        report.globals,
        [
            "collections.OrderedDict",
            "torch._utils._rebuild_tensor_v2",
            "torch.FloatStorage"
        ]
    );
}

#[test]
fn legacy_checks_all_five_pickles_and_ignores_storage_bytes() {
    let magic = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e";
    let mut file = magic.to_vec();
    file.extend_from_slice(b"\x80\x02M\xe9\x03.");
    file.extend_from_slice(b"\x80\x02}q\x00.");
    file.extend_from_slice(b"\x80\x02}q\x00.");
    file.extend_from_slice(b"\x80\x02]q\x00.");
    file.extend_from_slice(b"\x00\x01garbage storage bytes cposix\nsystem\n");
    assert_eq!(check(&file, Expect::Legacy).verdict, Verdict::Safe);

    let mut evil = magic.to_vec();
    evil.extend_from_slice(b"\x80\x02M\xe9\x03.\x80\x02}q\x00.");
    evil.extend_from_slice(POSIX_SYSTEM_P0);
    evil.extend_from_slice(b"\x80\x02]q\x00.");
    assert_unsafe_because(&check(&evil, Expect::Legacy), "posix.system");
    assert_unsafe_because(&check(&file[..28], Expect::Legacy), "parse error");
}

#[test]
fn merge_names_members() {
    let a = one(POSIX_SYSTEM_P0);
    let b = one(b"\x80\x02N.");
    let merged = PickleReport::merge([("x/data.txt", a), ("x/other", b)]);
    assert_eq!(merged.verdict, Verdict::Unsafe);
    assert!(merged.reasons[0].starts_with("x/data.txt: dangerous global posix.system"));
    let clean = PickleReport::merge([("m", one(b"\x80\x02N."))]);
    assert_eq!(clean.verdict, Verdict::Safe);
}

#[test]
fn sniff_tells_pickles_from_raw_data() {
    let table = table();
    assert!(sniff(&table, POSIX_SYSTEM_P0).is_pickle(&table, true));
    assert!(!sniff(&table, &POSIX_SYSTEM_P0[..12]).is_pickle(&table, false));
    let long_protocol_0 = b"(lp0\nI1\naI2\naI3\naI4\naVabc";
    assert!(sniff(&table, long_protocol_0).is_pickle(&table, false));
    assert!(sniff(&table, b"\x80\x02X\xff\xff\xff\x00abc").is_pickle(&table, false));
    // A payload followed by garbage still imports before failing.
    assert!(sniff(&table, b"cposix\nsystem\n\xff").is_pickle(&table, true));
    let floats: Vec<u8> = [0.5f32, -1.25, 3.0, 1e-3]
        .iter()
        .flat_map(|f| f.to_le_bytes())
        .collect();
    assert!(!sniff(&table, &floats).is_pickle(&table, true));
    assert!(!sniff(&table, b"\x80\x02\xff\x00").is_pickle(&table, false));
    // Storage bytes that read as an extension code or a long BINBYTES are not pickles,
    // nor is source text whose first line reads as a GLOBAL.
    assert!(!sniff(&table, b"\x82\x01\x00\x3f\x00\x00\x80\x3f").is_pickle(&table, true));
    assert!(!sniff(&table, b"B\xff\xff\xff\x7f\x00\x00\x80\x3f").is_pickle(&table, false));
    assert!(!sniff(&table, b"import torch\nclass Net(nn.Module):\n").is_pickle(&table, true));
    // Identification: a payload that ran before a bad byte, a long walk without STOP; not
    // text whose lines all read as PERSIDs, however many.
    assert!(sniff(&table, b"cposix\nsystem\n(Vid\ntR\xff").identified(&table));
    let long_list: Vec<u8> = (0..100)
        .flat_map(|i| format!("I{i}\n").into_bytes())
        .collect();
    assert!(sniff(&table, &long_list).identified(&table));
    assert!(!sniff(&table, &long_list[..20]).identified(&table));
    let licence = "Permission is hereby granted, free of charge.\n".repeat(100);
    assert!(!sniff(&table, licence.as_bytes()).identified(&table));
    // The outcomes format identification reads: a truncated announced pickle, a failed
    // walk that imported something first.
    assert_eq!(
        sniff(&table, b"\x80\x02(K\x01"),
        Sniff::Cut {
            announced: true,
            long: true,
            imports: false,
            walked: 3,
            executes: false,
        }
    );
    assert_eq!(
        sniff(&table, b"cat\ndog\n\xff"),
        Sniff::Invalid {
            imports: true,
            walked: 1,
            executes: false,
        }
    );
}

#[test]
fn limits_stop_the_analysis() {
    let mut deep = b"\x80\x02".to_vec();
    deep.extend(std::iter::repeat_n(b'N', 100_001));
    deep.push(b'.');
    assert_unsafe_because(&one(&deep), "max-stack-items");
}

/// A well-formed argument for `kind`: zeros for integers and lengths, short lines of text.
fn sample_argument(kind: opcode::ArgumentKind) -> Vec<u8> {
    use opcode::{ArgumentKind, Length};
    match kind {
        ArgumentKind::Empty => vec![],
        ArgumentKind::UInt1 => vec![0],
        ArgumentKind::UInt2 => vec![0; 2],
        ArgumentKind::UInt4 | ArgumentKind::Int4 => vec![0; 4],
        ArgumentKind::UInt8 | ArgumentKind::Float8 => vec![0; 8],
        ArgumentKind::KeyLine | ArgumentKind::NumberLine => b"0\n".to_vec(),
        ArgumentKind::QuotedLine => b"'a'\n".to_vec(),
        ArgumentKind::UnicodeLine | ArgumentKind::PersIdLine => b"a\n".to_vec(),
        ArgumentKind::ModuleAndName => b"a\nb\n".to_vec(),
        ArgumentKind::Counted(length, _) => match length {
            Length::UInt1 => vec![0],
            Length::Int4 | Length::UInt4 => vec![0; 4],
            Length::UInt8 => vec![0; 8],
        },
    }
}

#[test]
fn every_opcode_reads_its_argument_as_its_handler_expects() {
    // A memo entry 0, an empty list and dict, a mark and two integers below the opcode, so
    // each one finds what it pops; whatever the verdict, the walk must get past the argument.
    let prefix = b"\x80\x04K\x00\x94]}(K\x01K\x02";
    for &op in opcode::Opcode::ALL {
        let mut bytes = prefix.to_vec();
        bytes.push(op as u8);
        bytes.extend(sample_argument(op.argument()));
        bytes.push(b'.');
        let report = one(&bytes);
        assert!(
            !report.reasons.iter().any(|r| r.contains("input ends")),
            "{}: {report:?}",
            op.name()
        );
    }
}

/// `_pickle.c` reads on where `pickle.py` fails ("pickle exhausted before end of frame"): a
/// FRAME shorter than the opcodes inside it, or a new FRAME inside the previous one.
#[test]
fn frame_length_that_disagrees_with_its_opcodes_is_unsafe() {
    let crossing = b"\x80\x04\x95\x03\0\0\0\0\0\0\0\x8c\x05hello.";
    assert_unsafe_because(&one(crossing), "crosses the end of its FRAME at byte 14");
    let nested = b"\x80\x04\x95\x09\0\0\0\0\0\0\0\x8c\x05hello\x95\x01\0\0\0\0\0\0\0.";
    assert_unsafe_because(&one(nested), "starts before the previous frame's end");
    // An exact frame, and the opcodes after it, are fine.
    let exact = b"\x80\x04\x95\x08\0\0\0\0\0\0\0\x8c\x05hello.";
    assert_eq!(one(exact).verdict, Verdict::Safe, "{:?}", one(exact));
}

/// A second pickle after STOP, written with protocol 0 numbers CPython accepts (whitespace,
/// underscores), is still seen.
#[test]
fn second_pickle_with_cpython_number_spellings_is_unsafe() {
    let bytes = b"N.cposix\nsystem\np1_0\n(Vid\nI\t1\n0tR.";
    let report = one(bytes);
    assert_unsafe_because(&report, "a second pickle starts at byte 2");
    assert_unsafe_because(&report, "dangerous global posix.system");
}

/// One small tuple memoized again and again: each entry holds a copy, so the memo budget
/// counts every copy and stops the analysis (unsafe) long before memory grows.
#[test]
fn memoizing_one_tuple_millions_of_times_hits_the_memo_budget() {
    let mut bytes = b"\x80\x04(NNNNt".to_vec();
    bytes.extend(std::iter::repeat_n(0x94u8, 3_000_000));
    bytes.push(b'.');
    let report = one(&bytes);
    assert_unsafe_because(&report, "max-memo-bytes in pickle.toml");
}

/// A FRAME that declares more bytes than the stream holds, with STOP inside: `_pickle.c`
/// reads the whole frame first and fails, `pickle.py` loads the object.
#[test]
fn frame_running_past_the_end_with_stop_inside_is_unsafe() {
    let short = b"\x80\x04\x95\x10\0\0\0\0\0\0\0\x8c\x05hello.";
    assert_unsafe_because(&one(short), "runs past the end of the stream");
    // The same frame with its bytes present: both loaders read it whole and stop at STOP.
    let mut whole = short.to_vec();
    whole.extend_from_slice(&[0; 8]);
    assert_eq!(one(&whole).verdict, Verdict::Safe, "{:?}", one(&whole));
}

/// A joblib wrapper built twice through a memo alias reads a second array with both states
/// merged: never trusted.
#[test]
fn joblib_wrapper_built_twice_is_unsafe() {
    let mut bytes = b"\x80\x04\x8c\x13joblib.numpy_pickle\x8c\x11NumpyArrayWrapper\x93)\x81\x94}\
        (\x8c\x05shapeK\x01\x85\x8c\x05order\x8c\x01C\x8c\x05dtype\
        \x8c\x05numpy\x8c\x05dtype\x93\x8c\x02f8\x89\x88\x87Ru"
        .to_vec();
    bytes.extend_from_slice(b"b");
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(b"h\x00}b");
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(b"\x86.");
    assert_unsafe_because(&one(&bytes), "built a second time");
}
