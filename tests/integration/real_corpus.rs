//! scripts/real-corpus: its exit status when the Debian archive does not answer, and its
//! comparison of a scan with docs/real-world/expected.toml. The real packages and upstream
//! trees themselves are fetched only by hand (docs/real-world.md).

use std::path::Path;
use std::process::Command;

use crate::support::{DEBIAN_PATH, write};

fn real_corpus(cache: &Path, args: &[&str], mirror: &str) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/real-corpus");
    let out = Command::new(script)
        .args(["--cache", cache.to_str().unwrap()])
        .args(args)
        .env("PATH", DEBIAN_PATH)
        .env("DH_MLMODEL", assert_cmd::cargo::cargo_bin!("dh-mlmodel"))
        .env("REAL_CORPUS_MIRROR", mirror)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// Port 9 (discard) on the loopback: nothing listens, so the connection is refused at once.
const NO_ARCHIVE: &str = "http://127.0.0.1:9/debian";

#[test]
fn an_archive_that_does_not_answer_is_said_and_passes() {
    let cache = tempfile::tempdir().unwrap();
    let (code, out) = real_corpus(cache.path(), &[], NO_ARCHIVE);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("did not answer"), "{out}");
}

#[test]
fn an_upstream_tree_is_compared_with_its_expectations() {
    let cache = tempfile::tempdir().unwrap();
    let tree = tempfile::tempdir().unwrap();
    // rnnoise v0.1.1 expects embedded weights in src/rnn_data.c: an empty tree misses them,
    // and a blob where none is expected is a false flag.
    write(
        tree.path(),
        "README",
        "RNNoise is a noise suppression library.\n",
    );
    write(
        tree.path(),
        "src/data.bin",
        crate::fixtures::noise(2 << 20, 5),
    );
    let arg = format!("rnnoise-0.1.1={}", tree.path().display());
    let (code, out) = real_corpus(
        cache.path(),
        &["--no-debian", "--upstream", &arg],
        NO_ARCHIVE,
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("rnnoise-0.1.1: FAIL: must-find 0/1 found, 1 missed, 1 false flags"),
        "{out}"
    );
    assert!(
        out.contains("miss (0 of 1): src/rnn_data.c, embedded-weights"),
        "{out}"
    );
    assert!(out.contains("false flag: src/data.bin, blob"), "{out}");
}
