//! Download steps in scripts, build files and Python code, in the shapes real projects use:
//! `when` (build, run, manual) and `verification` (sha256, sha256-prefix, none).

use std::path::Path;

use serde_json::Value;

use crate::support::{scan_json, write};

const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// The download findings of file `path`.
fn downloads<'a>(findings: &'a [Value], path: &str) -> Vec<&'a Value> {
    findings
        .iter()
        .filter(|f| f["path"] == path && f["kind"] == "download")
        .collect()
}

fn only_download<'a>(findings: &'a [Value], path: &str) -> &'a Value {
    let found = downloads(findings, path);
    assert_eq!(found.len(), 1, "{path}: {findings:#?}");
    found[0]
}

#[test]
fn script_taking_a_sha256_argument_verifies_the_download_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("executed");
    write(
        dir.path(),
        "scripts/download.sh",
        format!(
            "#!/bin/sh\n# usage: download.sh URL SHA256 OUTPUT\nset -e\ntouch {}\n\
             url=\"$1\"\nsha256=\"$2\"\nout=\"$3\"\ncurl -fsSL -o \"$out.part\" \"$url\"\n\
             echo \"$sha256  $out.part\" | sha256sum -c -\nmv \"$out.part\" \"$out\"\n",
            marker.display()
        ),
    );
    write(
        dir.path(),
        "get_models.sh",
        format!(
            "#!/bin/sh\nBASE=https://zenodo.org/records/4711/files\n\
             ./scripts/download.sh \"$BASE/encoder.onnx\" {SHA} models/encoder.onnx\n"
        ),
    );
    let findings = scan_json(dir.path(), &[]);
    let f = only_download(&findings, "get_models.sh");
    assert_eq!(f["line"], 3);
    assert_eq!(
        f["url"],
        "https://zenodo.org/records/4711/files/encoder.onnx"
    );
    assert_eq!(f["url_as_written"], "$BASE/encoder.onnx");
    assert_eq!(f["format"], "onnx");
    assert_eq!(f["verification"], "sha256");
    assert_eq!(f["when"], "manual");
    assert!(downloads(&findings, "scripts/download.sh").is_empty());
    assert!(!marker.exists(), "scanning ran a script");
}

#[test]
fn makefile_target_with_hash_prefixed_name_is_a_build_step_verified_by_prefix() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Makefile",
        "MODEL_HASH = 3f2a9c1e\n\
         MODEL = model-$(MODEL_HASH).bin\n\
         URL = https://example.org/releases/$(MODEL)\n\
         \n\
         all: build\n\
         \n\
         build: $(MODEL)\n\
         \tsh tools/fetch_vocab.sh\n\
         \t$(CC) -o prog prog.c\n\
         \n\
         $(MODEL):\n\
         \tcurl -fL -o $@.tmp $(URL)\n\
         \ttest \"$$(sha256sum $@.tmp | cut -c1-8)\" = \"$(MODEL_HASH)\"\n\
         \tmv $@.tmp $@\n\
         \n\
         download-extra:\n\
         \t./tools/extra.sh\n\
         \n\
         .PHONY: all build download-extra\n",
    );
    write(
        dir.path(),
        "tools/fetch_vocab.sh",
        "#!/bin/sh\nwget -O vocab.model https://huggingface.co/example/tok/resolve/main/tokenizer.model\n",
    );
    write(
        dir.path(),
        "tools/extra.sh",
        "#!/bin/sh\nwget https://example.org/extra/detector.onnx\n",
    );
    let findings = scan_json(dir.path(), &[]);

    let f = only_download(&findings, "Makefile");
    assert_eq!(f["line"], 12);
    assert_eq!(f["url"], "https://example.org/releases/model-3f2a9c1e.bin");
    assert_eq!(f["url_as_written"], "$(URL)");
    assert_eq!(f["format"], "bin");
    assert_eq!(f["when"], "build");
    assert_eq!(f["verification"], "sha256-prefix");

    let vocab = only_download(&findings, "tools/fetch_vocab.sh");
    assert_eq!(vocab["when"], "build", "called by the build target");
    assert_eq!(vocab["verification"], "none");
    assert_eq!(vocab["format"], "model");

    let extra = only_download(&findings, "tools/extra.sh");
    assert_eq!(
        extra["when"], "manual",
        "its target is not part of the build"
    );
}

#[test]
fn python_library_module_fetching_from_a_hub_runs_at_run_time() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "mylib/backbone.py",
        "import torch\n\
         \n\
         _BASE = \"https://download.pytorch.org/models\"\n\
         _WEIGHTS = \"resnet18-f37072fd.pth\"\n\
         \n\
         \n\
         def load_backbone():\n\
         \x20   url = f\"{_BASE}/{_WEIGHTS}\"\n\
         \x20   return torch.hub.load_state_dict_from_url(url, check_hash=True)\n",
    );
    write(
        dir.path(),
        "examples/demo.py",
        "import urllib.request\n\
         MODEL = 'https://example.org/m/' + 'demo.safetensors'\n\
         if __name__ == \"__main__\":\n\
         \x20   urllib.request.urlretrieve(MODEL, \"demo.safetensors\")\n",
    );
    let findings = scan_json(dir.path(), &[]);
    let f = only_download(&findings, "mylib/backbone.py");
    assert_eq!(f["line"], 9);
    assert_eq!(
        f["url"],
        "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    );
    assert_eq!(f["format"], "pth");
    assert_eq!(f["when"], "run");
    assert_eq!(f["verification"], "sha256-prefix");

    let demo = only_download(&findings, "examples/demo.py");
    assert_eq!(demo["line"], 4);
    assert_eq!(demo["url"], "https://example.org/m/demo.safetensors");
    assert_eq!(demo["when"], "manual");
    assert_eq!(demo["verification"], "none");
}

#[test]
fn batch_file_without_a_check_is_manual_and_unverified() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "win/get-model.bat",
        "@echo off\r\nREM Fetch the detector.\r\nset MODEL_URL=https://example.org/releases/v2/detector.onnx\r\n\
         bitsadmin /transfer getmodel %MODEL_URL% \"%~dp0detector.onnx\"\r\n",
    );
    let findings = scan_json(dir.path(), &[]);
    let f = only_download(&findings, "win/get-model.bat");
    assert_eq!(f["line"], 4);
    assert_eq!(f["url"], "https://example.org/releases/v2/detector.onnx");
    assert_eq!(f["url_as_written"], "%MODEL_URL%");
    assert_eq!(f["when"], "manual");
    assert_eq!(f["verification"], "none");
}

#[test]
fn cmake_file_download_with_expected_hash_is_a_verified_build_step() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "CMakeLists.txt",
        format!(
            "cmake_minimum_required(VERSION 3.16)\nproject(demo C)\n\
             set(MODEL_URL \"https://huggingface.co/example/demo/resolve/main/demo.gguf\")\n\
             file(DOWNLOAD ${{MODEL_URL}} ${{CMAKE_BINARY_DIR}}/demo.gguf\n\
             \x20    EXPECTED_HASH SHA256={SHA}\n\
             \x20    SHOW_PROGRESS)\n\
             add_executable(demo main.c)\n"
        ),
    );
    let findings = scan_json(dir.path(), &[]);
    let f = only_download(&findings, "CMakeLists.txt");
    assert_eq!(f["line"], 4);
    assert_eq!(
        f["url"],
        "https://huggingface.co/example/demo/resolve/main/demo.gguf"
    );
    assert_eq!(f["url_as_written"], "${MODEL_URL}");
    assert_eq!(f["format"], "gguf");
    assert_eq!(f["when"], "build");
    assert_eq!(f["verification"], "sha256");
}

#[test]
fn homepage_links_and_source_clones_are_not_downloads() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "README.md",
        "# demo\n\nHomepage: <https://example.org/demo>, docs at [docs](https://demo.readthedocs.io/).\n\n\
         ```sh\ngit clone https://github.com/example/demo.git\ncd demo && make\n```\n",
    );
    write(
        dir.path(),
        "build-deps.sh",
        "#!/bin/sh\nset -e\ngit clone https://github.com/example/libfoo.git\n\
         wget https://example.org/src/libbar-1.2.tar.gz\n",
    );
    let findings = scan_json(dir.path(), &[]);
    assert!(
        findings.iter().all(|f| f["kind"] != "download"),
        "{findings:#?}"
    );
    assert_no_side_effects(dir.path());
}

/// The scan wrote nothing into the tree.
fn assert_no_side_effects(root: &Path) {
    let mut names: Vec<String> = walk(root);
    names.sort();
    assert_eq!(names, ["README.md", "build-deps.sh"]);
}

fn walk(root: &Path) -> Vec<String> {
    std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}
