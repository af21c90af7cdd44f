//! The walk, Git LFS pointers, blobs, digests, warnings and exit codes of `scan`.

use crate::fixtures::noise;
use crate::support::{
    dh_mlmodel, finding, paths, running_as_root, scan_json, scan_with_warnings, write,
};

#[test]
fn lfs_pointer_reports_oid_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let oid = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";
    write(
        dir.path(),
        "models/net.safetensors",
        format!("version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 12345\n"),
    );
    let findings = scan_json(dir.path(), &[]);
    let f = finding(&findings, "models/net.safetensors").expect("pointer reported");
    assert_eq!(f["kind"], "lfs-pointer");
    assert_eq!(f["lfs"]["oid"], format!("sha256:{oid}"));
    assert_eq!(f["lfs"]["size"], 12345);
}

#[test]
fn large_unknown_binary_is_a_blob_and_small_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let noise = noise(2_000_000, 1);
    write(dir.path(), "data/big.bin", &noise);
    write(dir.path(), "data/small.bin", &noise[..4096]);
    let findings = scan_json(dir.path(), &[]);
    let blob = finding(&findings, "data/big.bin").expect("blob reported");
    assert_eq!(blob["kind"], "blob");
    assert!(blob["reason"].as_str().unwrap().contains("no known format"));
    assert!(finding(&findings, "data/small.bin").is_none());
}

#[test]
fn sha256_matches_sha256sum_and_no_hash_omits_it() {
    let dir = tempfile::tempdir().unwrap();
    let noise = noise(3_000_000, 2);
    write(dir.path(), "w.bin", &noise);
    let findings = scan_json(dir.path(), &[]);
    let ours = finding(&findings, "w.bin").unwrap()["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let out = std::process::Command::new("sha256sum")
        .arg(dir.path().join("w.bin"))
        .output()
        .unwrap();
    let theirs = String::from_utf8(out.stdout).unwrap();
    assert_eq!(ours, theirs.split_whitespace().next().unwrap());

    let findings = scan_json(dir.path(), &["--no-hash"]);
    assert!(finding(&findings, "w.bin").unwrap().get("sha256").is_none());
}

#[test]
fn findings_come_in_sorted_path_order_whatever_the_job_count() {
    let dir = tempfile::tempdir().unwrap();
    let noise = noise(1_100_000, 3);
    for name in ["z.bin", "a.bin", "m/b.bin", "m/a.bin"] {
        write(dir.path(), name, &noise);
    }
    for jobs in ["1", "4"] {
        let findings = scan_json(dir.path(), &["--jobs", jobs]);
        assert_eq!(paths(&findings), ["a.bin", "m/a.bin", "m/b.bin", "z.bin"]);
    }
}

#[test]
fn unreadable_path_exits_2_and_bad_usage_exits_2() {
    dh_mlmodel()
        .args(["scan", "/nonexistent/tree"])
        .assert()
        .code(2);
    dh_mlmodel()
        .args(["scan", "--no-such-flag"])
        .assert()
        .code(2);
}

#[test]
fn broken_and_outward_links_warn_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let noise = noise(1_100_000, 4);
    write(outside.path(), "secret.bin", &noise);
    write(dir.path(), "inside.bin", &noise);
    std::os::unix::fs::symlink(
        outside.path().join("secret.bin"),
        dir.path().join("escape.bin"),
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path().join("missing"), dir.path().join("broken")).unwrap();
    let (findings, stderr) = scan_with_warnings(&[], dir.path(), &[]);
    assert!(
        stderr.contains("escape.bin") && stderr.contains("outside the tree"),
        "{stderr}"
    );
    assert!(
        stderr.contains("broken") && stderr.contains("broken symbolic link"),
        "{stderr}"
    );
    assert_eq!(paths(&findings), ["inside.bin"]);
}

#[test]
fn unreadable_file_and_directory_are_warnings() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |path: &str, bits: u32| {
        std::fs::set_permissions(dir.path().join(path), std::fs::Permissions::from_mode(bits))
            .unwrap()
    };
    write(dir.path(), "locked.bin", [0u8; 16]);
    write(dir.path(), "closed/inner.bin", [0u8; 16]);
    write(dir.path(), "open.bin", LFS_POINTER);
    mode("locked.bin", 0o000);
    mode("closed", 0o000);
    mode(".", 0o755);
    // Root reads everything whatever the permission bits, so as root the scan runs as nobody.
    let mut command = if running_as_root() {
        let mut command = assert_cmd::Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(assert_cmd::cargo::cargo_bin!("dh-mlmodel"));
        command
    } else {
        dh_mlmodel()
    };
    let output = command
        .args(["scan", "--json"])
        .arg(dir.path())
        .output()
        .unwrap();
    mode("closed", 0o755);
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("locked.bin: Permission denied"), "{stderr}");
    assert!(stderr.contains("closed: Permission denied"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["findings"][0]["path"], "open.bin",
        "the scan went on"
    );
}

const LFS_POINTER: &str = "version https://git-lfs.github.com/spec/v1\n\
    oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n";

/// Version-control stores and quilt's backups are never walked (`skip-directories` in
/// policy/scan.toml): a `.git/lfs` cache holds the real bytes of LFS-tracked weights, which
/// are not the tree's; a directory merely named like a model is walked.
#[test]
fn version_control_and_quilt_directories_are_not_walked() {
    let dir = tempfile::tempdir().unwrap();
    let weights = crate::fixtures::safetensors(&[("w", "F32", &[4, 4])]);
    for hidden in [
        ".git/lfs/objects/ab/cd/abcd",
        ".hg/store/data/model.safetensors.i",
        ".svn/pristine/ab/abcd.svn-base",
        ".bzr/repository/packs/model",
        ".pc/fix-loader.patch/model.safetensors",
        "sub/.git/lfs/objects/ef/gh/efgh",
    ] {
        write(dir.path(), hidden, &weights);
    }
    write(dir.path(), "models/model.safetensors", &weights);
    write(dir.path(), "git/model.safetensors", &weights);
    let findings = scan_json(dir.path(), &[]);
    assert_eq!(
        paths(&findings),
        ["git/model.safetensors", "models/model.safetensors"],
        "{findings:#?}"
    );
}
