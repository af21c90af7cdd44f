//! Helpers shared by the test modules: running the binary, temporary trees.

use std::path::Path;

use assert_cmd::Command;

/// The freshly built `dh-mlmodel`.
pub fn dh_mlmodel() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin!("dh-mlmodel"))
}

/// Writes `bytes` at `root/rel`, creating parent directories.
pub fn write(root: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Runs `scan --json` on `root` and returns the parsed findings.
pub fn scan_json(root: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    let output = dh_mlmodel()
        .arg("scan")
        .arg("--json")
        .args(extra)
        .arg(root)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "scan failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    report["findings"].as_array().unwrap().clone()
}

/// The finding at `path`, if any.
pub fn finding<'a>(findings: &'a [serde_json::Value], path: &str) -> Option<&'a serde_json::Value> {
    findings.iter().find(|f| f["path"] == path)
}
