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

/// Peak resident set size, in KiB, of `dh-mlmodel scan --json root` (via `/usr/bin/time`),
/// with its stderr.
fn scan_peak_rss_kib(root: &std::path::Path) -> (u64, String) {
    let output = std::process::Command::new("/usr/bin/time")
        .args(["-f", "peak-rss-kib=%M"])
        .arg(assert_cmd::cargo::cargo_bin!("dh-mlmodel"))
        .args(["scan", "--json"])
        .arg(root)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    let kib = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak-rss-kib="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{stderr}"));
    (kib, stderr)
}

/// Variable expansion once grew with the file: a 488 KB script whose values reference values
/// took 0.5–2.6 GB. Expansion now stops at `max-expanded-length`/`max-expansions`, with a
/// warning naming the line.
#[test]
fn variable_expansion_is_bounded_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut shell = String::from("#!/bin/sh\nX=\"https://h.org/m.bin \"\nA=https://h.org/a.bin\n");
    let mut python = String::from("X = \"https://h.org/m.bin \"\n");
    let refs = "$X".repeat(1000);
    let sum = vec!["X"; 1000].join(" + ");
    for i in 0..160 {
        shell.push_str(&format!("U{i}={refs}\nA=$A$A\nB{i}=$A\n"));
        python.push_str(&format!("U{i} = {sum}\n"));
    }
    shell.push_str("wget $U1\n");
    python.push_str("urlretrieve(U1)\n");
    write(dir.path(), "get.sh", &shell);
    write(dir.path(), "dl.py", &python);
    let (kib, stderr) = scan_peak_rss_kib(dir.path());
    assert!(kib < 100 * 1024, "peak RSS {kib} KiB");
    assert!(
        stderr.contains("get.sh:4: variable expansion stopped"),
        "{stderr}"
    );
    assert!(
        stderr.contains("dl.py:2: variable expansion stopped"),
        "{stderr}"
    );
}

/// A safetensors header holding a big array (`"shape": [0,0,0,…]`) once took about 25 times
/// its size to parse (1 GB for a 40 MB header). Headers with arrays longer than
/// `safetensors-array-max` or more than `safetensors-values-max` values are not parsed.
#[test]
fn safetensors_header_with_a_huge_array_is_not_materialised() {
    let dir = tempfile::tempdir().unwrap();
    for (name, shape) in [
        ("array.safetensors", "0,".repeat(8 << 20)),
        ("values.safetensors", String::new()),
    ] {
        let header = if shape.is_empty() {
            // Many small objects: values everywhere, no long array.
            let mut h =
                String::from("{\"t\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,0]");
            h.push_str(&",\"x\":{}".repeat(3 << 20));
            h.push('}');
            h
        } else {
            format!("{{\"t\":{{\"dtype\":\"F32\",\"shape\":[{shape}0],\"data_offsets\":[0,0]}}}}")
        };
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        write(dir.path(), name, bytes);
    }
    let (kib, stderr) = scan_peak_rss_kib(dir.path());
    assert!(kib < 150 * 1024, "peak RSS {kib} KiB: {stderr}");
}

/// An ONNX initializer whose packed `dims` hold one integer per byte once cost 8 bytes of
/// memory per byte of file. The element count is now folded as the dims are read.
#[test]
fn onnx_packed_dims_are_not_collected() {
    use crate::fixtures::Pb;
    let dir = tempfile::tempdir().unwrap();
    let dims = vec![1u64; 24 << 20];
    let tensor = Pb::default().packed(1, &dims).varint(2, 1).bytes(8, b"w");
    let graph = Pb::default().bytes(2, b"g").message(5, tensor);
    let model = Pb::default()
        .varint(1, 8)
        .bytes(2, b"fixture")
        .message(7, graph)
        .message(8, Pb::default().varint(2, 13))
        .0;
    write(dir.path(), "m.onnx", model);
    let (kib, stderr) = scan_peak_rss_kib(dir.path());
    assert!(kib < 120 * 1024, "peak RSS {kib} KiB: {stderr}");
}

/// The terminal table once printed escape sequences from file names and URLs raw.
#[test]
fn terminal_table_escapes_control_characters_of_names_and_urls() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "get\x1b[2J.sh",
        "#!/bin/sh\nwget https://example.org/m\x1b]0;x\x07.bin\n",
    );
    write(
        dir.path(),
        "m\x1b[31m.safetensors",
        fixtures::safetensors(&[("w", "F32", &[2])]),
    );
    let output = crate::support::dh_mlmodel()
        .arg("scan")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        !stdout.contains('\x1b') && !stdout.contains('\x07'),
        "{stdout:?}"
    );
    assert!(stdout.contains("\\u{1b}"), "{stdout}");
}

/// A FIFO and a Unix socket inside the tree are skipped, not opened: opening the FIFO would
/// block until a writer came. The scan finishes (here within a minute) and reports the
/// regular file beside them.
#[test]
fn fifos_and_sockets_in_a_tree_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "weights.safetensors",
        fixtures::safetensors(&[("w", "F32", &[2])]),
    );
    let status = std::process::Command::new("mkfifo")
        .arg(dir.path().join("pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("sock")).unwrap();
    let output = crate::support::dh_mlmodel()
        .args(["scan", "--json"])
        .arg(dir.path())
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("scan blocked on a FIFO or socket in the tree");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let paths: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["weights.safetensors"], "{report:#}");
}

/// Control characters of names taken from input are escaped in warnings and error lines, as in
/// the scan table: an escape sequence in a file name must not drive the terminal.
#[test]
fn warnings_and_errors_escape_control_characters_of_names() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("nowhere", dir.path().join("evil\x1b[2J\x07")).unwrap();
    let (_, stderr) = crate::support::scan_with_warnings(&[], dir.path(), &[]);
    assert!(
        stderr.contains("evil\\u{1b}[2J\\u{7}: broken symbolic link"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\x07'),
        "{stderr:?}"
    );

    let output = crate::support::dh_mlmodel()
        .arg("scan")
        .arg(dir.path().join("missing\x1b]0;title\x07"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("missing\\u{1b}]0;title\\u{7}"), "{stderr}");
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\x07'),
        "{stderr:?}"
    );
}

/// `memory-spool-bytes = 2^64-1` in a `--policy` table: the spool's "one byte past the limit"
/// once wrapped to zero, and every archive member read as empty (or the scan panicked).
#[test]
fn a_policy_number_at_u64_max_does_not_overflow() {
    let policy = tempfile::tempdir().unwrap();
    let archives = std::fs::read_to_string("policy/archives.toml").unwrap();
    let archives = archives
        .lines()
        .map(|line| {
            if line.starts_with("memory-spool-bytes") {
                "memory-spool-bytes = 18446744073709551615".to_string()
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    write(policy.path(), "archives.toml", archives);
    let dir = tempfile::tempdir().unwrap();
    let weights = fixtures::safetensors(&[("w", "F32", &[2])]);
    write(
        dir.path(),
        "bundle.zip",
        fixtures::zip(&[("model.safetensors", &weights)], true),
    );
    let policy_arg = policy.path().to_str().unwrap();
    let (findings, stderr) =
        crate::support::scan_with_warnings(&["--policy", policy_arg], dir.path(), &[]);
    let found = crate::support::finding(&findings, "bundle.zip!model.safetensors")
        .unwrap_or_else(|| panic!("{findings:#?} {stderr}"));
    assert_eq!(found["format"], "safetensors", "{found:#}");
}
