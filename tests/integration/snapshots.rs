//! Snapshots of what the tool writes for the bundled example and the test upstreams: `scan
//! --json`, `classify --json` and every file `init` writes under `debian/`, before the
//! maintainer fills in the facts and after. A reshaping of the code must change none of them;
//! a change of output shows up here as a reviewable diff (`cargo insta review`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::dh_mlmodel;
use crate::upstreams::{
    Tree, c_program, cmake_project, fill_cnet_facts, fill_pynet_facts, fill_tinyc_facts,
    fill_tinynet_facts, init, python_package, tinynet,
};

/// Runs `dh-mlmodel ARGS…` in `root`; its exit code and standard output, the temporary
/// directory's path replaced by `[TREE]`.
fn run(root: &Path, args: &[&str]) -> String {
    let output = dh_mlmodel().current_dir(root).args(args).output().unwrap();
    format!(
        "exit: {}\n{}",
        output.status.code().unwrap_or(-1),
        redact(root, &String::from_utf8_lossy(&output.stdout))
    )
}

fn redact(root: &Path, text: &str) -> String {
    text.replace(&root.display().to_string(), "[TREE]")
}

/// Every file under `root/debian`, in sorted order, with its mode.
fn debian_files(root: &Path) -> String {
    let mut out = String::new();
    for entry in walkdir::WalkDir::new(root.join("debian")).sort_by_file_name() {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(root)
            .unwrap()
            .display()
            .to_string();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        let bytes = std::fs::read(entry.path()).unwrap();
        let text = String::from_utf8(bytes).expect("init writes text files");
        out.push_str(&format!("=== {rel} ({mode:o}) ===\n{text}"));
        if !text.ends_with('\n') {
            out.push_str("\n[no newline at end of file]\n");
        }
    }
    out
}

/// The outputs for `tree` while its facts are missing (`draft`) and again once `fill` filled
/// them in (`filled`).
fn snapshot_upstream(name: &str, tree: &Tree, fill: impl FnOnce(&Path)) {
    let root = &tree.root;
    insta::assert_snapshot!(format!("{name}-scan"), run(root, &["scan", "--json", "."]));
    snapshot_init(name, "draft", root);
    fill(root);
    snapshot_init(name, "filled", root);
}

/// `init`'s report, `classify --json` and the files under debian/ after running `init`.
fn snapshot_init(name: &str, stage: &str, root: &Path) {
    insta::assert_snapshot!(format!("{name}-{stage}-init"), redact(root, &init(root)));
    insta::assert_snapshot!(
        format!("{name}-{stage}-classify"),
        run(root, &["classify", "--json"])
    );
    insta::assert_snapshot!(format!("{name}-{stage}-debian"), debian_files(root));
}

#[test]
fn bundled_example() {
    let t = tinynet();
    snapshot_upstream("tinynet", &t, fill_tinynet_facts);
}

#[test]
fn python_package_upstream() {
    let t = python_package();
    snapshot_upstream("pynet", &t, fill_pynet_facts);
}

#[test]
fn c_program_upstream() {
    let t = c_program();
    snapshot_upstream("tinyc", &t, fill_tinyc_facts);
}

#[test]
fn cmake_project_upstream() {
    let (t, file) = cmake_project();
    snapshot_upstream("cnet", &t, |root| fill_cnet_facts(root, &file));
}
