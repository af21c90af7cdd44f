//! `scan --json` prints the same bytes whatever `--jobs` is (issue 17): files are analysed on
//! worker threads, but findings and warnings must come back in walk order, and the tree pass
//! over downloads must not depend on which worker finished first.
//!
//! The trees are generated from a seed by a small PRNG (SplitMix64), so a failure names a seed
//! that rebuilds the same tree: many small files of mixed kinds in nested directories.

use std::path::Path;

use crate::fixtures;
use crate::pickles;
use crate::support::{dh_mlmodel, write};

/// SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators", 2014):
/// reproducible from its seed on every platform, no dependency.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`, `n` > 0 (the tiny modulo bias does not matter here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One generated file: its bytes, and the file name ending its kind calls for.
fn generated_file(rng: &mut SplitMix64, i: u64) -> (String, Vec<u8>) {
    let n = 1 + rng.below(5) as usize;
    let floats: Vec<u8> = (0..n)
        .flat_map(|k| (k as f32 + 0.5).to_le_bytes())
        .collect();
    let url = format!("https://example.org/m{}/weights-{i}.bin", rng.below(1000));
    match rng.below(12) {
        0 => ("model.pkl".into(), pickles::posix_system_protocol2()),
        1 => ("state.pkl".into(), pickles::torch_state_dict()),
        2 => (
            "bundle.zip".into(),
            fixtures::zip(
                &[
                    (
                        "a.npy",
                        &fixtures::npy("'<f4'", &format!("({n},)"), &floats),
                    ),
                    ("evil.pkl", &pickles::posix_system_protocol0()),
                ],
                rng.below(2) == 0,
            ),
        ),
        3 => (
            "array.npy".into(),
            fixtures::npy("'<f4'", &format!("({n},)"), &floats),
        ),
        4 => ("object.npy".into(), pickles::object_npy()),
        5 => (
            "net.safetensors".into(),
            fixtures::safetensors(&[("w", "F32", &[n as u64, 2]), ("b", "F16", &[2])]),
        ),
        6 => (
            "fetch.sh".into(),
            format!("#!/bin/sh\nBASE={url}\nwget \"$BASE\"\nsha256sum -c sums\n").into_bytes(),
        ),
        7 => (
            "dl.py".into(),
            format!("import urllib.request\nurllib.request.urlretrieve(\"{url}\", \"w.bin\")\n")
                .into_bytes(),
        ),
        8 => ("model.pt".into(), fixtures::pytorch_zip()),
        9 => (
            "data.tar.gz".into(),
            fixtures::gzip(&fixtures::tar(&[
                (
                    "inner/w.npy",
                    &fixtures::npy("'<f4'", &format!("({n},)"), &floats),
                ),
                (
                    "inner/get.sh",
                    format!("#!/bin/sh\ncurl -O {url}\n").as_bytes(),
                ),
            ])),
        ),
        10 => ("README.md".into(), format!("Weights: {url}\n").into_bytes()),
        _ => (
            "Makefile".into(),
            format!("all:\n\tsh fetch.sh\n\twget {url}\n").into_bytes(),
        ),
    }
}

/// A tree of `files` generated files spread over nested directories.
fn generate_tree(root: &Path, seed: u64, files: u64) {
    let mut rng = SplitMix64(seed);
    for i in 0..files {
        let depth = rng.below(4);
        let mut dir = String::new();
        for _ in 0..depth {
            dir.push_str(&format!("d{}/", rng.below(3)));
        }
        let (name, bytes) = generated_file(&mut rng, i);
        write(root, &format!("{dir}{i:03}-{name}"), bytes);
    }
}

/// stdout and stderr of `dh-mlmodel scan --json --jobs JOBS root`.
fn scan_output(root: &Path, jobs: &str) -> (Vec<u8>, Vec<u8>) {
    let output = dh_mlmodel()
        .args(["scan", "--json", "--jobs", jobs])
        .arg(root)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    (output.stdout, output.stderr)
}

#[test]
fn scan_json_is_byte_identical_whatever_the_job_count() {
    for seed in [1, 2, 3, 0x5EED, 0xDEB1A4] {
        let dir = tempfile::tempdir().unwrap();
        generate_tree(dir.path(), seed, 60);
        let (reference, reference_warnings) = scan_output(dir.path(), "1");
        let findings: serde_json::Value = serde_json::from_slice(&reference).unwrap();
        let count = findings["findings"].as_array().unwrap().len();
        // The tree gives the scan something to report from most of its files.
        assert!(count >= 40, "seed {seed}: only {count} findings");
        for jobs in ["2", "3", "8"] {
            let (output, warnings) = scan_output(dir.path(), jobs);
            assert!(
                output == reference,
                "seed {seed}: --jobs {jobs} differs from --jobs 1:\n{}\n---\n{}",
                String::from_utf8_lossy(&output),
                String::from_utf8_lossy(&reference)
            );
            assert_eq!(
                String::from_utf8_lossy(&warnings),
                String::from_utf8_lossy(&reference_warnings),
                "seed {seed}: --jobs {jobs}"
            );
        }
    }
}
