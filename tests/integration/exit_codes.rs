//! Exit statuses and error lines (README, "Exit status"): 1 when the job found problems, 2 for
//! bad usage or input, 3 for I/O and internal errors, one `dh-mlmodel: error: …` line each.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use crate::support::{dh_mlmodel, running_as_root, write};

const LFS_POINTER: &str = "version https://git-lfs.github.com/spec/v1\n\
    oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n";

fn run(args: &[&str], path: &Path) -> Output {
    dh_mlmodel().args(args).arg(path).output().unwrap()
}

/// Asserts the exit status and that stderr is one line starting `start`; returns the line.
fn assert_one_error_line(output: &Output, code: i32, start: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line expected: {stderr}");
    assert!(stderr.starts_with(start), "{stderr}");
    stderr.trim_end().to_string()
}

#[test]
fn nothing_to_draft_exits_1_with_one_line() {
    let tree = tempfile::tempdir().unwrap();
    write(tree.path(), "src/main.py", "print('hello')\n");
    for args in [
        &["init", "--manifest-only", "--source", "empty"][..],
        &["init", "--source", "empty"],
    ] {
        let output = run(args, tree.path());
        let line = assert_one_error_line(&output, 1, "dh-mlmodel: error: ");
        assert_eq!(
            line,
            format!(
                "dh-mlmodel: error: the scan found no model weights and no weight downloads in {}: \
                 nothing to draft",
                tree.path().display()
            ),
            "{args:?}"
        );
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(!tree.path().join("debian").exists(), "{args:?}");
    }
}

#[test]
fn a_scan_without_findings_exits_0() {
    let tree = tempfile::tempdir().unwrap();
    write(tree.path(), "src/main.py", "print('hello')\n");
    let output = run(&["scan"], tree.path());
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");
}

#[test]
fn bad_usage_exits_2_with_the_prefix() {
    let output = dh_mlmodel()
        .args(["scan", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("dh-mlmodel: error: unexpected argument '--no-such-flag'"),
        "{stderr}"
    );
    let tree = tempfile::tempdir().unwrap();
    let output = run(&["--policy", "/nonexistent/policy", "scan"], tree.path());
    assert_one_error_line(
        &output,
        2,
        "dh-mlmodel: error: policy directory /nonexistent",
    );
    let output = run(
        &["init", "--manifest-only", "--source", "Not A Name"],
        tree.path(),
    );
    assert_one_error_line(&output, 2, "dh-mlmodel: error: --source: ");
}

#[test]
fn a_nonexistent_or_special_path_exits_2() {
    let tree = tempfile::tempdir().unwrap();
    let missing = tree.path().join("missing");
    for args in [
        &["scan"][..],
        &["init", "--manifest-only", "--source", "x"],
        &["init", "--source", "x"],
    ] {
        let output = run(args, &missing);
        let line = assert_one_error_line(&output, 2, "dh-mlmodel: error: cannot read ");
        assert!(
            line.contains("No such file or directory"),
            "{args:?}: {line}"
        );
    }
    let output = dh_mlmodel()
        .args(["classify", "--manifest"])
        .arg(tree.path().join("debian/mlmodel.toml"))
        .output()
        .unwrap();
    assert_one_error_line(&output, 2, "dh-mlmodel: error: ");
    // A FIFO would block the read until a writer came: it is refused, not read.
    let fifo = tree.path().join("fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let output = run(&["scan"], &fifo);
    assert_one_error_line(
        &output,
        2,
        &format!(
            "dh-mlmodel: error: {} is neither a directory nor a regular file",
            fifo.display()
        ),
    );
}

#[test]
fn an_unreadable_path_exits_2() {
    let tree = tempfile::tempdir().unwrap();
    write(tree.path(), "closed/weights.bin", LFS_POINTER);
    write(tree.path(), "locked.safetensors", LFS_POINTER);
    let mode = |rel: &str, bits: u32| {
        std::fs::set_permissions(tree.path().join(rel), std::fs::Permissions::from_mode(bits))
            .unwrap()
    };
    mode(".", 0o755);
    mode("closed", 0o000);
    mode("locked.safetensors", 0o000);
    // Root reads everything whatever the permission bits, so as root the tool runs as nobody.
    let command = || {
        if running_as_root() {
            let mut command = std::process::Command::new("setpriv");
            command
                .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(assert_cmd::cargo::cargo_bin!("dh-mlmodel"));
            command
        } else {
            std::process::Command::new(assert_cmd::cargo::cargo_bin!("dh-mlmodel"))
        }
    };
    let outputs: Vec<(&str, Output)> = ["closed", "locked.safetensors"]
        .into_iter()
        .map(|rel| {
            let output = command()
                .arg("scan")
                .arg(tree.path().join(rel))
                .output()
                .unwrap();
            (rel, output)
        })
        .collect();
    mode("closed", 0o755);
    for (rel, output) in outputs {
        let line = assert_one_error_line(&output, 2, "dh-mlmodel: error: cannot read ");
        assert!(
            line.contains(rel) && line.contains("Permission denied"),
            "{line}"
        );
    }
}

#[test]
fn a_write_failure_exits_3() {
    // `debian` is a regular file, so debian/mlmodel.toml cannot be created (chmod would not
    // stop root).
    let tree = tempfile::tempdir().unwrap();
    write(tree.path(), "models/net.safetensors", LFS_POINTER);
    write(tree.path(), "debian", "not a directory\n");
    for args in [
        &["init", "--manifest-only", "--source", "net"][..],
        &["init", "--source", "net"],
    ] {
        let output = run(args, tree.path());
        let line = assert_one_error_line(&output, 3, "dh-mlmodel: error: cannot create ");
        assert!(line.contains("debian"), "{args:?}: {line}");
    }
}

#[test]
fn a_panic_exits_3_with_one_line_in_any_thread() {
    let tree = tempfile::tempdir().unwrap();
    for place in ["main", "worker"] {
        let output = dh_mlmodel()
            .env("DH_MLMODEL_TEST_PANIC", place)
            .arg("scan")
            .arg(tree.path())
            .output()
            .unwrap();
        let line = assert_one_error_line(&output, 3, "dh-mlmodel: error: internal error: ");
        assert!(line.ends_with("(please report this)"), "{place}: {line}");
    }
    // dh_mlmodel exits 255 on every error, as debhelper commands do.
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin!("dh_mlmodel"))
        .env("DH_MLMODEL_TEST_PANIC", "worker")
        .current_dir(tree.path())
        .output()
        .unwrap();
    assert_one_error_line(&output, 255, "dh_mlmodel: error: internal error: ");
}
