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
    scan_with_warnings(&[], root, extra).0
}

/// Runs `dh-mlmodel GLOBAL… scan --json EXTRA… root`, asserts it succeeded, and returns the
/// parsed findings and the warnings on stderr.
pub fn scan_with_warnings(
    global: &[&str],
    root: &Path,
    extra: &[&str],
) -> (Vec<serde_json::Value>, String) {
    let output = dh_mlmodel()
        .args(global)
        .arg("scan")
        .arg("--json")
        .args(extra)
        .arg(root)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "scan failed: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    (report["findings"].as_array().unwrap().clone(), stderr)
}

/// The paths of `findings`, in their order.
pub fn paths(findings: &[serde_json::Value]) -> Vec<&str> {
    findings
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect()
}

/// The finding at `path`, if any.
pub fn finding<'a>(findings: &'a [serde_json::Value], path: &str) -> Option<&'a serde_json::Value> {
    findings.iter().find(|f| f["path"] == path)
}

/// Runs `classify --json` on the manifest `text` (written as `debian/mlmodel.toml` in a fresh
/// tree); returns the exit code, the parsed report (`Null` when none) and stderr.
pub fn classify_text(text: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let tree = tempfile::tempdir().unwrap();
    write(tree.path(), "debian/mlmodel.toml", text);
    classify_tree(tree.path(), extra)
}

/// Runs `classify --json` in `root` on its `debian/mlmodel.toml`.
pub fn classify_tree(root: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let output = dh_mlmodel()
        .current_dir(root)
        .args(["classify", "--json"])
        .args(extra)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or(serde_json::Value::Null);
    (
        output.status.code().unwrap_or(-1),
        report,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
