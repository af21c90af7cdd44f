//! Fuzz targets: one function per parser, each taking the raw bytes of one hostile input.
//!
//! The afl harness in `fuzz/` and the corpus replay of the integration tests
//! (`tests/integration/fuzz_corpus.rs`) call these same functions, so a crash found by fuzzing
//! is replayed by `cargo test` exactly as the fuzzer ran it. Every target runs the real parser
//! with the embedded policy tables, caps included, and reads the input from memory; the only
//! writes are the anonymous spool files of large archive members, in `$TMPDIR`.
//!
//! A target returns nothing: its outcome is the absence of a panic, a hang and unbounded
//! memory. Not an interface: the names and the set of targets may change at any time.

use std::io::Cursor;
use std::sync::OnceLock;

use crate::pipeline::{self, PipelinePolicy};
use crate::policy::{self, PolicySource};
use crate::scan::{self, ScanContext, ScanOptions, archive, downloads, embedded, pickle};

/// One fuzz target: its name (the directory of its corpus, the argument of `scripts/fuzz`) and
/// the function that runs one input.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
    /// What it exercises, for `scripts/fuzz list`.
    pub about: &'static str,
}

/// Every target, in the order `scripts/fuzz list` prints them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "pickle",
        run: pickle_walker,
        about: "pickle opcode walk: identification sniff, one-stream analysis, the search for pickles in a file",
    },
    Target {
        name: "safetensors",
        run: safetensors,
        about: "a file named model.safetensors through identification and analysis",
    },
    Target {
        name: "gguf",
        run: gguf,
        about: "a file named model.gguf through identification and analysis",
    },
    Target {
        name: "numpy",
        run: numpy,
        about: "the same bytes as a.npy and as a.npz through identification and analysis",
    },
    Target {
        name: "onnx",
        run: onnx,
        about: "a file named model.onnx (protobuf walk) through identification and analysis",
    },
    Target {
        name: "zip",
        run: zip,
        about: "a file named a.zip: zip-based formats and the zip walker of src/scan/archive.rs",
    },
    Target {
        name: "tar",
        run: tar,
        about: "a file named a.tar.gz: tar and compressed-stream walkers of src/scan/archive.rs",
    },
    Target {
        name: "downloads",
        run: download_syntaxes,
        about: "the same text through every download syntax (shell, make, cmake, python, batch, powershell, docs) and the embedded-array scan, whose prefilter bound must not fall below its lexer's count",
    },
    Target {
        name: "manifest",
        run: manifest,
        about: "debian/mlmodel.toml: parsing, install-dir rules, classification and planning",
    },
    Target {
        name: "verify",
        run: verify_readers,
        about: "a file through verify's tensor readers (safetensors, GGUF, npy/npz, ONNX, PyTorch zip) and the decoding of every tensor's values",
    },
    Target {
        name: "policy",
        run: policy_tables,
        about: "the text as each policy table of the scan",
    },
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// The scan's policy, loaded once per process (the fuzzer runs many inputs in one).
fn scan_context() -> &'static ScanContext {
    static CONTEXT: OnceLock<ScanContext> = OnceLock::new();
    CONTEXT.get_or_init(|| {
        ScanContext::load(&PolicySource::embedded()).expect("the embedded policy tables parse")
    })
}

/// Analyses `data` as the file `name` of a tree, as `scan` analyses each file: identification,
/// pickle analysis, archives and their members, embedded arrays and downloads.
fn analyze_as(name: &str, data: &[u8]) {
    let ctx = scan_context();
    let options = ScanOptions {
        hash: false,
        jobs: 1,
    };
    let mut visit = scan::Visit {
        ctx,
        options: &options,
        findings: Vec::new(),
        warnings: Vec::new(),
        downloads: None,
    };
    let mut file = Cursor::new(data);
    // An I/O error is an outcome like any other (the scan turns it into a warning).
    let _ = visit.analyze(
        &mut file,
        data.len() as u64,
        name,
        None,
        &archive::Nesting::top(),
    );
}

fn pickle_walker(data: &[u8]) {
    let ctx = scan_context();
    let _ = pickle::sniff(&ctx.pickle, data);
    let _ = pickle::analyze(&ctx.pickle, data, pickle::Expect::One);
    let _ = pickle::analyze_file(
        &ctx.pickle,
        &mut Cursor::new(data),
        ctx.archives.max_inflated_bytes,
    );
}

fn safetensors(data: &[u8]) {
    analyze_as("model.safetensors", data);
}

fn gguf(data: &[u8]) {
    analyze_as("model.gguf", data);
}

fn numpy(data: &[u8]) {
    analyze_as("a.npy", data);
    analyze_as("a.npz", data);
}

fn onnx(data: &[u8]) {
    analyze_as("model.onnx", data);
}

fn zip(data: &[u8]) {
    analyze_as("a.zip", data);
}

fn tar(data: &[u8]) {
    analyze_as("a.tar.gz", data);
}

/// File names that select each download syntax in `policy/downloads.toml`.
const SCRIPT_NAMES: &[&str] = &[
    "get.sh",
    "Makefile",
    "CMakeLists.txt",
    "setup.py",
    "get.bat",
    "get.ps1",
    "README.md",
    "models.json",
    "models.yml",
];

fn download_syntaxes(data: &[u8]) {
    let ctx = scan_context();
    let size = data.len() as u64;
    for name in SCRIPT_NAMES {
        let _ = downloads::scan(&ctx.downloads, std::io::Cursor::new(data), name, size, None);
    }
    let _ = embedded::scan(&ctx.embedded, std::io::Cursor::new(data), "weights.h", size);
    embedded::assert_prefilter_bound(data, ctx.embedded.numbers_per_word);
}

fn manifest(data: &[u8]) {
    static POLICY: OnceLock<PipelinePolicy> = OnceLock::new();
    let policy = POLICY.get_or_init(|| {
        PipelinePolicy::load(&PolicySource::embedded()).expect("the embedded policy tables parse")
    });
    // The manifest is read as UTF-8 text (`read_to_string`): other bytes never reach the parser.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = pipeline::plan_manifest_text(text.to_string(), "fuzz", policy);
    }
}

/// `verify`'s readers reopen the file per tensor, so the input is written to a temporary file
/// (in `$TMPDIR`, removed after) and read as `verify` reads a weight file: the readers list
/// the tensors, then every tensor's values are decoded chunk by chunk.
fn verify_readers(data: &[u8]) {
    use crate::verify::{readers, tensors::Values};
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if std::io::Write::write_all(&mut file, data).is_err() {
        return;
    }
    static POLICY: OnceLock<crate::verify::VerifyPolicy> = OnceLock::new();
    let policy = POLICY.get_or_init(|| {
        crate::verify::VerifyPolicy::load(&PolicySource::embedded())
            .expect("the embedded policy tables parse")
    });
    let Ok(opened) = readers::open(file.path(), &policy.scan, &policy.limits) else {
        return;
    };
    let mut values = Vec::new();
    for tensor in &opened.tensors {
        let (Ok(data), Some(elements)) = (&tensor.data, tensor.elements()) else {
            continue;
        };
        let Ok(mut stream) = Values::open(tensor, data) else {
            continue;
        };
        let mut done = 0u64;
        while done < elements {
            let want = 4096usize.min((elements - done) as usize);
            if stream.next_chunk(want, &mut values, file.path()).is_err() || values.is_empty() {
                break;
            }
            done += values.len() as u64;
        }
    }
}

fn policy_tables(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let origin = "policy.toml";
    let _ = policy::parse_table::<scan::formats::FormatTable>(origin, text);
    let _ = policy::parse_table::<pickle::PickleTable>(origin, text);
    let _ = policy::parse_table::<scan::ScanLimits>(origin, text);
    let _ = policy::parse_table::<archive::ArchiveLimits>(origin, text);
    let _ = policy::parse_table::<embedded::EmbeddedPolicy>(origin, text);
    let _ = policy::parse_table::<downloads::DownloadPolicy>(origin, text);
}
