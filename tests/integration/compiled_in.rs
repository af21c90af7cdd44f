//! Weights compiled into executables and libraries: found by their format's signature and
//! check inside the file, reported as `embedded-weights` with the offset.

use crate::fixtures;
use crate::support::{finding, paths, scan_json, write};

/// Debian's stockfish links its NNUE network into the executable (`INCBIN` of
/// `nn-<hash>.nnue`): the network is found at its offset, while the version word in the
/// loader's machine code and a "GGUF" error string are not networks.
#[test]
fn a_network_inside_an_executable_is_reported_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let net = fixtures::nnue();
    write(
        dir.path(),
        "usr/games/stockfish",
        fixtures::elf_with(&net, 8192, 20_000),
    );
    write(
        dir.path(),
        "usr/lib/libggml.so",
        fixtures::elf_with(&fixtures::gguf(), 4096, 6000),
    );
    write(
        dir.path(),
        "usr/bin/plain",
        fixtures::elf_with(b"", 4096, 6000),
    );
    let findings = scan_json(dir.path(), &[]);
    assert_eq!(
        paths(&findings),
        ["usr/games/stockfish", "usr/lib/libggml.so"],
        "{findings:#?}"
    );
    let stockfish = finding(&findings, "usr/games/stockfish").unwrap();
    assert_eq!(stockfish["kind"], "embedded-weights", "{stockfish}");
    assert_eq!(stockfish["format"], "nnue");
    assert_eq!(stockfish["offset"], 8192);
    assert_eq!(stockfish["size"], 20_000);
    assert!(
        stockfish["reason"]
            .as_str()
            .unwrap()
            .contains("HalfKAv2_hm"),
        "{stockfish}"
    );
    let ggml = finding(&findings, "usr/lib/libggml.so").unwrap();
    assert_eq!(ggml["format"], "gguf");
    assert_eq!(ggml["offset"], 4096);
    assert_eq!(ggml["tensors"], 2, "{ggml}");
}

/// The same executable inside a package's data tarball is searched too (a `.deb`'s members
/// are analysed like files).
#[test]
fn a_network_inside_an_archived_executable_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let elf = fixtures::elf_with(&fixtures::nnue(), 8192, 20_000);
    write(
        dir.path(),
        "data.tar.xz",
        fixtures::xz(&fixtures::tar(&[("usr/games/stockfish", &elf)])),
    );
    let findings = scan_json(dir.path(), &[]);
    let found = finding(&findings, "data.tar.xz!usr/games/stockfish")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert_eq!(found["kind"], "embedded-weights");
    assert_eq!(found["offset"], 8192);
}

/// Signature hits examined per executable are capped (`compiled-in-candidates-max`): past the
/// cap the search stops with a warning naming the file and the policy key, so a binary full of
/// look-alike signatures costs bounded time.
#[test]
fn the_search_stops_with_a_warning_after_the_candidate_cap() {
    let policy = tempfile::tempdir().unwrap();
    let table = include_str!("../../policy/formats.toml").replace(
        "compiled-in-candidates-max = 10000",
        "compiled-in-candidates-max = 3",
    );
    write(policy.path(), "formats.toml", table);
    let mut payload = b"GGUF: bad magic\0".repeat(5);
    payload.extend_from_slice(&fixtures::nnue());
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "bin/engine",
        fixtures::elf_with(&payload, 4096, 9000),
    );
    let global = ["--policy".to_string(), policy.path().display().to_string()];
    let global: Vec<&str> = global.iter().map(String::as_str).collect();
    let (findings, stderr) = crate::support::scan_with_warnings(&global, dir.path(), &[]);
    assert!(findings.is_empty(), "{findings:#?}");
    assert!(
        stderr.contains("bin/engine: stopped searching for compiled-in weights after 3")
            && stderr.contains("compiled-in-candidates-max"),
        "{stderr}"
    );
}
