//! Hostile input (issue 17): text and names that once panicked, blew up memory or were accepted
//! where they must be refused. Each test builds its input and names the finding it covers in
//! `docs/robustness.md` ("Panics, memory and input").

use crate::fixtures;
use crate::support::{scan_json, write};

/// A non-ASCII character right before a URL (`«https://…»`, `下载：https://…`) once sliced a
/// string inside that character and panicked the scan.
#[test]
fn urls_right_after_multi_byte_characters_do_not_panic_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "README.md",
        "Weights: «https://example.org/m.bin»\n下载：https://example.org/m.bin\n",
    );
    write(
        dir.path(),
        "get.sh",
        "#!/bin/sh\nURL=«https://example.org/$F»\necho 下载：https://example.org/m.bin\nwget «https://example.org/x.bin»\n",
    );
    scan_json(dir.path(), &[]);
}

/// A data shard whose real name has a multi-byte character before a `!` once sliced the real
/// name at the length of the probe's shorter name and panicked.
#[test]
fn tensorflow_shard_with_multi_byte_name_before_a_bang_does_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "é!x.index", fixtures::sstable());
    write(dir.path(), "é!x.data-00000-of-00001", fixtures::floats(64));
    let findings = scan_json(dir.path(), &[]);
    let shard = findings
        .iter()
        .find(|f| f["path"] == "é!x.data-00000-of-00001")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert_eq!(shard["format"], "tensorflow", "{shard:#}");
}
