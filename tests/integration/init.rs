//! `dh-mlmodel init`: a debian/ directory that builds, for three upstream shapes (a Python
//! package with committed weights and its training script; a C program whose weights are a
//! generated C array with a download script; a CMake project whose weights a Makefile target
//! fetches under a hash-prefixed name). Each is built with `dpkg-buildpackage` while facts are
//! missing (code packages only; every missing fact named) and again once they are filled in
//! (the models' packages added; lintian reports no errors). Running `init` again keeps the
//! maintainer's edits.

use std::path::{Path, PathBuf};

use crate::support::{
    assert_lintian_clean, built_debs, classify_tree, deb_field, dh_mlmodel, dpkg_buildpackage,
    unpack_deb, write,
};
use crate::upstreams::{
    c_program, cmake_project, download_table, fill_cnet_facts, fill_pynet_facts, fill_tinyc_facts,
    fill_tinynet_facts, init, manifest, python_package, set_manifest, tinynet, without_training,
};

pub(crate) fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap()
}

/// The `at` of every missing fact `classify` reports.
fn missing_locations(root: &Path) -> Vec<String> {
    let (code, report, _) = classify_tree(root, &[]);
    assert_eq!(code, 1, "the draft must be incomplete");
    report["models"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["missing"].as_array().unwrap().clone())
        .map(|m| m["at"].as_str().unwrap().to_string())
        .collect()
}

pub(crate) fn build(root: &Path) -> std::collections::BTreeMap<String, PathBuf> {
    for deb in built_debs(root).values() {
        std::fs::remove_file(deb).unwrap();
    }
    let (ok, log) = dpkg_buildpackage(root);
    assert!(ok, "dpkg-buildpackage failed:\n{log}");
    built_debs(root)
}

/// The packages built, without the automatic debug-symbol packages of compiled code.
pub(crate) fn names(debs: &std::collections::BTreeMap<String, PathBuf>) -> Vec<&str> {
    debs.keys()
        .map(String::as_str)
        .filter(|name| !name.ends_with("-dbgsym"))
        .collect()
}

/// The first run: facts missing, the code package builds, every missing fact is named in
/// init's output, and README.Debian, written for users, tells them no package has the weights
/// yet instead of listing the maintainer's missing facts.
fn first_run_builds_code_only(root: &Path, code_package: &str) {
    let stdout = init(root);
    let missing = missing_locations(root);
    assert!(!missing.is_empty());
    let readme = read(root, "debian/README.Debian");
    for at in &missing {
        assert!(stdout.contains(at.as_str()), "{at} not named in:\n{stdout}");
        assert!(
            !readme.contains(at.as_str()),
            "{at} (a maintainer's fact) in README.Debian:\n{readme}"
        );
    }
    assert!(
        readme.contains("No Debian package provides these weights yet."),
        "{readme}"
    );
    assert!(!readme.contains("FIXME"), "{readme}");
    let debs = build(root);
    assert_eq!(names(&debs), vec![code_package]);
    let control = read(root, "debian/control");
    assert!(!control.contains("-model-"), "{control}");
}

#[test]
fn python_package_with_committed_free_weights() {
    let t = python_package();
    let root = &t.root;
    first_run_builds_code_only(root, "python3-pynet");
    assert!(read(root, "debian/rules").contains("dh $@ --with python3 --buildsystem=pybuild"));

    fill_pynet_facts(root);
    let stdout = init(root);
    assert!(!stdout.contains("incomplete"), "{stdout}");
    let debs = build(root);
    assert_eq!(
        names(&debs),
        vec!["pynet-model-pynet-installer", "python3-pynet"]
    );
    let installer = &debs["pynet-model-pynet-installer"];
    assert_eq!(deb_field(installer, "Section"), "science");
    assert_eq!(
        deb_field(&debs["python3-pynet"], "Recommends"),
        "pynet-model-pynet-installer"
    );
    assert!(read(root, "debian/changelog").starts_with("pynet (0.3+ds-1) UNRELEASED;"));
    let copyright = read(root, "debian/copyright");
    assert!(
        copyright.contains("Files-Excluded:\n models/pynet.safetensors\n"),
        "{copyright}"
    );
    assert!(copyright.contains("ML-Policy"), "{copyright}");
    let watch = read(root, "debian/watch");
    assert!(
        watch.contains("repacksuffix=+ds,dversionmangle=s/\\+(ds|dfsg)\\d*$//"),
        "{watch}"
    );
    let tests = read(root, "debian/tests/control");
    assert!(tests.contains("get-pynet-model-pynet --help && get-pynet-model-pynet --status"));
    assert!(tests.contains("get-pynet-model-pynet --train"), "{tests}");
    assert_lintian_clean(&debs.values().cloned().collect::<Vec<_>>());
}

#[test]
fn c_program_with_weights_as_a_generated_c_array() {
    let t = c_program();
    let root = &t.root;
    first_run_builds_code_only(root, "tinyc");
    assert!(read(root, "debian/rules").contains("--buildsystem=makefile"));

    let drafted = manifest(root);
    assert!(drafted.contains("files = [\"weights.c\"]"), "{drafted}");
    fill_tinyc_facts(root);
    init(root);
    let debs = build(root);
    assert_eq!(names(&debs), vec!["tinyc", "tinyc-model-weights-installer"]);
    assert_eq!(
        deb_field(&debs["tinyc-model-weights-installer"], "Section"),
        "contrib/science"
    );
    assert_eq!(
        deb_field(&debs["tinyc"], "Suggests"),
        "tinyc-model-weights-installer"
    );
    let readme = read(root, "debian/README.Debian");
    assert!(readme.contains("ToxicCandy"), "{readme}");
    assert!(
        readme.contains("get-tinyc-model-weights --download --install"),
        "{readme}"
    );
    assert!(read(root, "debian/changelog").starts_with("tinyc (0+ds-1) UNRELEASED;"));
    assert_lintian_clean(&debs.values().cloned().collect::<Vec<_>>());
}

#[test]
fn cmake_project_with_weights_fetched_under_a_hash_prefixed_name() {
    let (t, file) = cmake_project();
    let root = &t.root;
    first_run_builds_code_only(root, "cnet");
    assert!(read(root, "debian/rules").contains("--buildsystem=cmake"));
    assert!(
        read(root, "debian/control")
            .contains("Build-Depends: debhelper-compat (= 13), dh-sequence-mlmodel, cmake")
    );

    fill_cnet_facts(root, &file);
    init(root);
    let debs = build(root);
    assert_eq!(names(&debs), vec!["cnet", "cnet-model-cnet-installer"]);
    let watch = read(root, "debian/watch");
    assert!(
        watch.contains("https://example.org/cnet .*/cnet@ANY_VERSION@@ARCHIVE_EXT@"),
        "{watch}"
    );
    assert!(read(root, "debian/changelog").starts_with("cnet (2.0+ds-1) UNRELEASED;"));
    assert_lintian_clean(&debs.values().cloned().collect::<Vec<_>>());
}

#[test]
fn running_init_again_keeps_the_maintainers_edits() {
    let t = c_program();
    let root = &t.root;
    init(root);
    let control = read(root, "debian/control");
    let description = "Description: print one weight\n This program prints the second weight, as edited by hand.\n";
    let edited = control
        .replace(
            control
                .split("Description: ")
                .nth(1)
                .map(|d| format!("Description: {d}"))
                .unwrap()
                .as_str(),
            description,
        )
        .replace(
            "dh-sequence-mlmodel",
            "dh-sequence-mlmodel, libfoo-dev (>= 1.2)",
        );
    write(root, "debian/control", &edited);
    // An edited generated file is left alone; an unedited one is updated.
    let rules = read(root, "debian/rules") + "# my own note\n";
    write(root, "debian/rules", &rules);

    let weights = std::fs::read(root.join("weights.c")).unwrap();
    let filled = without_training(
        &manifest(root),
        &download_table("https://example.org/tinyc/weights-1.0.c", &weights),
    );
    set_manifest(root, &filled);
    let stdout = init(root);
    let updated = read(root, "debian/control");
    assert!(updated.starts_with(&edited), "edits lost:\n{updated}");
    assert!(updated.contains(description));
    assert!(updated.contains("libfoo-dev (>= 1.2)"));
    assert!(
        updated.contains("\nPackage: tinyc-model-weights-installer\nSection: contrib/science\n"),
        "{updated}"
    );
    assert_eq!(read(root, "debian/rules"), rules);
    assert!(
        stdout.contains("left debian/rules alone: edited since dh-mlmodel wrote it"),
        "{stdout}"
    );
    assert!(stdout.contains("wrote debian/changelog"), "{stdout}");
    assert!(read(root, "debian/changelog").starts_with("tinyc (0+ds-1)"));

    // A third run changes nothing.
    let again = init(root);
    assert!(!again.lines().any(|l| l.starts_with("wrote ")), "{again}");
    assert_eq!(read(root, "debian/control"), updated);

    // `update` is the same command.
    let output = dh_mlmodel().arg("update").arg(root).output().unwrap();
    assert!(output.status.success());
}

#[test]
fn the_bundled_example_manifest_classifies_once_its_facts_are_filled_in() {
    let t = tinynet();
    let output = dh_mlmodel()
        .args(["init", "--manifest-only"])
        .arg(&t.root)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(!missing_locations(&t.root).is_empty());
    fill_tinynet_facts(&t.root);
    let (code, report, stderr) = classify_tree(&t.root, &[]);
    assert_eq!(code, 0, "{stderr}\n{report}");
    // The safetensors weights and their legacy pickle copy are one model.
    let models = report["models"].as_array().unwrap();
    assert_eq!(models.len(), 1, "{report}");
    assert_eq!(models[0]["name"], "tinynet");
    assert_eq!(models[0]["category"], "free", "{report}");
    let manifest = std::fs::read_to_string(t.root.join("debian/mlmodel.toml")).unwrap();
    assert!(
        manifest.contains(r#"files = ["models/tinynet.pkl", "models/tinynet.safetensors"]"#),
        "{manifest}"
    );
}

/// A build step that fetches its model tarball under its SHA-256 and checks it with
/// `sha256sum -c`, as xiph/rnnoise's `download_model.sh` does (called from the Makefile, so the
/// scan's `when` is `build`).
const DIGEST: &str = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";

fn download_script_tree() -> crate::upstreams::Tree {
    let t = crate::upstreams::tree("fetcher");
    let root = &t.root;
    write(
        root,
        "download_model.sh",
        format!(
            "#!/bin/sh\nset -e\nhash={DIGEST}\nmodel=fetcher_data-$hash.tar.gz\n\
             wget \"https://media.example.org/fetcher/models/$model\"\n\
             echo \"$hash  $model\" > model.sha256\nsha256sum -c model.sha256\n\
             tar -xzf \"$model\"\n"
        ),
    );
    write(root, "Makefile", "all:\n\tsh download_model.sh\n");
    t
}

#[test]
fn a_weight_download_is_drafted_as_a_model_with_its_url_and_checksum() {
    let t = download_script_tree();
    let root = &t.root;
    // A Git LFS pointer (spec: https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md) and a
    // hub call with no URL (a Hugging Face repository at run time) are drafted too.
    write(
        root,
        "models/net.bin",
        format!("version https://git-lfs.github.com/spec/v1\noid sha256:{DIGEST}\nsize 12345\n"),
    );
    write(
        root,
        "fetcher/load.py",
        "from transformers import AutoModel\n\ndef load():\n    return AutoModel.from_pretrained(\"gpt2\")\n",
    );
    let output = dh_mlmodel()
        .args(["init", "--manifest-only"])
        .arg(root)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let drafted = manifest(root);
    let model = |name: &str| {
        drafted
            .split("[[model]]")
            .find(|m| m.contains(&format!("name = \"{name}\"")))
            .unwrap_or_else(|| panic!("no model {name} in:\n{drafted}"))
            .to_string()
    };
    let fetched = model("fetcher-data");
    let file = format!("fetcher_data-{DIGEST}.tar.gz");
    assert!(
        fetched.contains(&format!("files = [\"{file}\"]")),
        "{fetched}"
    );
    assert!(
        fetched.contains(&format!(
            "url = \"https://media.example.org/fetcher/models/{file}\"\nsha256 = \"{DIGEST}\"\nsize = \"FIXME\""
        )),
        "{fetched}"
    );
    assert!(fetched.contains("Fetched by download_model.sh:5 (during the package build"));
    assert!(
        fetched.contains("add `compiled-in = true` and\n# `generates = [...]`"),
        "{fetched}"
    );
    assert!(
        !suggests_compiled_in(&model("gpt2")),
        "a run-time download is not compiled in"
    );
    assert!(model("net").contains(&format!("sha256 = \"{DIGEST}\", size = 12345")));
    let hub = model("gpt2");
    assert!(hub.contains("url = \"FIXME"), "{hub}");
    assert!(hub.contains("huggingface gpt2 with no revision"), "{hub}");

    // Every unknown pin is a placeholder that classify names with its place in the file.
    let (code, report, _) = classify_tree(root, &[]);
    assert_eq!(code, 1);
    let fetched = report["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "fetcher-data")
        .unwrap();
    let fields: Vec<&str> = fetched["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&format!("pins.\"{file}\".size").as_str()),
        "{fields:?}"
    );
    assert!(fields.contains(&"download.size"), "{fields:?}");
    let at = fetched["missing"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["field"] == "download.size")
        .unwrap()["at"]
        .as_str()
        .unwrap()
        .to_string();
    let line = drafted
        .lines()
        .position(|l| l == "size = \"FIXME\"")
        .unwrap()
        + 1;
    assert_eq!(at, format!("debian/mlmodel.toml:{line}:8"));
}

/// A model fetched by a script from the loopback server: drafted with placeholder pins, then
/// pinned by `dh-mlmodel pin --download`, which changes nothing else in the manifest.
#[test]
fn pin_download_fills_the_placeholders_and_keeps_the_rest_of_the_manifest() {
    let server = crate::http_server::Server::start();
    let onnx = crate::fixtures::onnx();
    server.serve("/releases/net.onnx", &onnx);
    let t = crate::upstreams::tree("fetched");
    let root = &t.root;
    let url = server.url("/releases/net.onnx");
    write(
        root,
        "get_model.sh",
        format!("#!/bin/sh\nwget -O models/net.onnx {url}\n"),
    );
    let output = dh_mlmodel()
        .args(["init", "--manifest-only"])
        .arg(root)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let drafted = manifest(root);
    assert!(drafted.contains("allow-http = true"), "{drafted}");
    let pin = |args: &[&str]| {
        dh_mlmodel()
            .current_dir(root)
            .arg("pin")
            .args(args)
            .output()
            .unwrap()
    };
    // Without --download nothing is fetched, and the manifest is untouched.
    let refused = pin(&["net"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("pass --download"));
    assert_eq!(manifest(root), drafted);
    assert!(server.requests().is_empty());

    let pinned = pin(&["--download", "net"]);
    assert!(pinned.status.success(), "{pinned:?}");
    // One request serves both the pin and [model.download].
    assert_eq!(server.requests().len(), 1);
    let digest = dh_mlmodel::hash::sha256_bytes(&onnx);
    let expected = drafted
        .replace(
            "{ sha256 = \"FIXME: run dh-mlmodel pin\", size = \"FIXME\" }",
            &format!("{{ sha256 = \"{digest}\", size = {} }}", onnx.len()),
        )
        .replace(
            "sha256 = \"FIXME: run dh-mlmodel pin --download net\"\nsize = \"FIXME\"",
            &format!("sha256 = \"{digest}\"\nsize = {}", onnx.len()),
        );
    assert_ne!(expected, drafted);
    assert_eq!(manifest(root), expected);
    let (_, report, _) = classify_tree(root, &[]);
    let missing = report["models"][0]["missing"].to_string();
    assert!(!missing.contains("pins."), "{missing}");
    assert!(!missing.contains("download."), "{missing}");
}

#[test]
fn pin_from_a_local_copy_and_a_stated_value_that_disagrees() {
    let t = download_script_tree();
    let root = &t.root;
    let output = dh_mlmodel()
        .args(["init", "--manifest-only"])
        .arg(root)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    // The copy the maintainer fetched has other bytes than the digest the script checks.
    let copy = t
        .root
        .parent()
        .unwrap()
        .join(format!("fetcher_data-{DIGEST}.tar.gz"));
    std::fs::write(&copy, b"not the published tarball").unwrap();
    let drafted = manifest(root);
    let output = dh_mlmodel()
        .current_dir(root)
        .arg("pin")
        .arg(&copy)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = drafted
        .lines()
        .position(|l| l.starts_with(&format!("\"fetcher_data-{DIGEST}")))
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!("debian/mlmodel.toml:{line}:")) && stderr.contains("sha256 is"),
        "{stderr}"
    );
    assert_eq!(manifest(root), drafted);

    // The right bytes fill the size placeholders of the pin and of the download.
    let tarball = crate::fixtures::gzip(&crate::fixtures::tar(&[("model.bin", b"weights")]));
    let digest = dh_mlmodel::hash::sha256_bytes(&tarball);
    let text = drafted.replace(DIGEST, &digest);
    set_manifest(root, &text);
    let copy = t
        .root
        .parent()
        .unwrap()
        .join(format!("fetcher_data-{digest}.tar.gz"));
    std::fs::write(&copy, &tarball).unwrap();
    let output = dh_mlmodel()
        .current_dir(root)
        .arg("pin")
        .arg(&copy)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let pinned = manifest(root);
    assert_eq!(
        pinned,
        text.replace("size = \"FIXME\"", &format!("size = {}", tarball.len()))
    );
}

/// Runs `init` and returns its standard error (warnings).
pub(crate) fn init_warnings(root: &Path) -> String {
    let output = dh_mlmodel()
        .arg("init")
        .arg(root)
        .env("DEBFULLNAME", "Ann Example")
        .env("DEBEMAIL", "ann@example.org")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn source_field(root: &Path) -> String {
    read(root, "debian/control")
        .lines()
        .find_map(|l| l.strip_prefix("Source: "))
        .unwrap()
        .to_string()
}

#[test]
fn a_name_version_directory_gives_the_source_name_and_version() {
    let t = crate::upstreams::tree("name-1.2.3~rc1");
    let root = &t.root;
    write(
        root,
        "models/net.safetensors",
        crate::fixtures::safetensors(&[("w", "F32", &[4, 4])]),
    );
    init(root);
    assert_eq!(source_field(root), "name");
    assert!(
        read(root, "debian/changelog").starts_with("name (1.2.3~rc1-1) UNRELEASED;"),
        "{}",
        read(root, "debian/changelog")
    );
    assert!(manifest(root).contains("[source]\nname = \"name\"\n"));
}

#[test]
fn upstream_metadata_below_the_top_names_the_source_but_not_that_of_tests() {
    let t = crate::upstreams::tree("checkout");
    let root = &t.root;
    write(
        root,
        "models/voice.safetensors",
        crate::fixtures::safetensors(&[("w", "F32", &[4, 4])]),
    );
    write(root, "VERSION", "1.2.0\n");
    write(
        root,
        "src/python_run/setup.py",
        "from setuptools import setup\nsetup(name=\"Piper_TTS\", version=\"1.2.0\")\n",
    );
    write(
        root,
        "tests/setup.py",
        "from setuptools import setup\nsetup(name=\"fixture\", version=\"9.9\")\n",
    );
    let warnings = init_warnings(root);
    assert_eq!(source_field(root), "piper-tts");
    assert!(
        warnings.contains("source package name `piper-tts` made from upstream's name `Piper_TTS`"),
        "{warnings}"
    );
    assert!(read(root, "debian/changelog").starts_with("piper-tts (1.2.0-1) "));
}

#[test]
fn the_manifest_renames_the_source_only_while_control_holds_what_init_wrote() {
    let t = crate::upstreams::tree("first-1.0");
    let root = &t.root;
    write(
        root,
        "models/net.safetensors",
        crate::fixtures::safetensors(&[("w", "F32", &[4, 4])]),
    );
    init(root);
    assert_eq!(source_field(root), "first");
    set_manifest(
        root,
        &manifest(root).replace("name = \"first\"", "name = \"second\""),
    );
    init(root);
    assert_eq!(source_field(root), "second");
    assert!(read(root, "debian/changelog").starts_with("second (1.0-1) "));

    // The maintainer sets Source: in control; control wins from then on, and init says so.
    let control = read(root, "debian/control").replace("Source: second", "Source: mine");
    write(root, "debian/control", &control);
    set_manifest(
        root,
        &manifest(root).replace("name = \"second\"", "name = \"third\""),
    );
    let warnings = init_warnings(root);
    assert_eq!(source_field(root), "mine");
    assert!(
        warnings.contains("debian/control says `Source: mine`, edited since dh-mlmodel wrote it"),
        "{warnings}"
    );
}

#[test]
fn a_package_and_a_build_dependency_the_maintainer_removed_stay_removed() {
    let (t, file) = cmake_project();
    let root = &t.root;
    init(root);
    fill_cnet_facts(root, &file);
    init(root);
    let control = read(root, "debian/control");
    let installer = control
        .split("\n\n")
        .find(|p| p.starts_with("Package: cnet-model-cnet-installer"))
        .unwrap()
        .to_string();
    let edited = control
        .replace(&format!("\n\n{}", installer.trim_end()), "")
        .replace(", cmake", "");
    assert!(
        !edited.contains(", cmake") && !edited.contains("-installer"),
        "{edited}"
    );
    write(root, "debian/control", &edited);

    let stdout = init(root);
    assert_eq!(read(root, "debian/control"), edited);
    assert!(
        stdout.contains("left out of debian/control: Package: cnet-model-cnet-installer"),
        "{stdout}"
    );
    assert!(
        stdout.contains("left out of debian/control: Source: Build-Depends: cmake"),
        "{stdout}"
    );
    // Reported once; still left out.
    let again = init(root);
    assert_eq!(read(root, "debian/control"), edited);
    assert!(!again.contains("left out of"), "{again}");
    assert!(again.contains("binary packages: cnet\n"), "{again}");
}

/// Whether a drafted model's text suggests `compiled-in` (only for downloads the build runs).
fn suggests_compiled_in(text: &str) -> bool {
    text.contains("compiled-in = true")
}

/// Replaces each line of `text` starting with a key in `lines` by the given line.
pub(crate) fn set_lines(text: &str, lines: &[(&str, &str)]) -> String {
    text.lines()
        .map(|line| {
            lines
                .iter()
                .find(|(start, _)| line.starts_with(start))
                .map_or(line, |(_, new)| new)
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn weights_fetched_at_build_time_are_not_repacked_away() {
    let t = download_script_tree();
    let root = &t.root;
    init(root);
    let file = format!("fetcher_data-{DIGEST}.tar.gz");
    let filled = set_lines(
        &without_training(&manifest(root), ""),
        &[
            ("format = ", "format = \"onnx\""),
            ("license = ", "license = \"MIT\""),
            (
                &format!("\"{file}\" = "),
                &format!("\"{file}\" = {{ sha256 = \"{DIGEST}\", size = 1234 }}"),
            ),
            ("size = \"FIXME\"", "size = 1234"),
        ],
    );
    set_manifest(root, &filled);
    let (code, report, stderr) = classify_tree(root, &[]);
    assert_eq!(code, 0, "{stderr}{report}");
    assert_eq!(report["models"][0]["category"], "toxic-candy");
    assert_eq!(report["repack_suffix"], serde_json::Value::Null);
    init(root);
    let copyright = read(root, "debian/copyright");
    assert!(!copyright.contains("Files-Excluded"), "{copyright}");
    assert!(read(root, "debian/changelog").starts_with("fetcher (0-1) "));
    assert!(!read(root, "debian/watch").contains("repacksuffix"));
    assert!(read(root, "debian/control").contains("Package: fetcher-model-fetcher-data-installer"));
}

/// A Python upstream's declared requirements (read with dh-python's own distribution list,
/// installed with dh-python) become the tests' build-dependencies; one that no Debian package
/// provides turns the tests off instead, saying which, and the build still passes.
#[test]
fn python_requirements_become_test_build_dependencies_or_turn_the_tests_off() {
    let with_requirements = |requirements: &str| {
        let t = crate::upstreams::tree("reqs-1.0");
        write(
            &t.root,
            "pyproject.toml",
            format!(
                "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \
                 \"setuptools.build_meta\"\n\n[project]\nname = \"reqs\"\nversion = \"1.0\"\n\
                 dependencies = [{requirements}]\n\n[tool.setuptools]\npackages = [\"reqs\"]\n"
            ),
        );
        write(&t.root, "reqs/__init__.py", "import numpy\n");
        write(
            &t.root,
            "models/net.safetensors",
            crate::fixtures::safetensors(&[("w", "F32", &[4, 4])]),
        );
        t
    };

    let packaged = with_requirements("\"NumPy>=1.20\", \"pywin32; sys_platform == 'win32'\"");
    let warnings = init_warnings(&packaged.root);
    let control = read(&packaged.root, "debian/control");
    assert!(
        control.contains("python3-numpy <!nocheck>"),
        "numpy is python3-numpy in dh-python's list:\n{control}"
    );
    assert!(!control.contains("pywin32"), "conditional: {control}");
    assert!(!read(&packaged.root, "debian/rules").contains("PYBUILD_DISABLE"));
    assert!(
        !warnings.contains("no Debian package provides"),
        "{warnings}"
    );

    let unpackaged = with_requirements("\"numpy\", \"no-such-distribution-for-dh-mlmodel\"");
    let warnings = init_warnings(&unpackaged.root);
    assert!(
        warnings.contains("no Debian package provides no-such-distribution-for-dh-mlmodel"),
        "{warnings}"
    );
    let rules = read(&unpackaged.root, "debian/rules");
    assert!(
        rules.contains(
            "# The tests import no-such-distribution-for-dh-mlmodel (pyproject.toml), which no \
             Debian package provides yet.\nexport PYBUILD_DISABLE = test\n"
        ),
        "{rules}"
    );
    assert!(
        !read(&unpackaged.root, "debian/control").contains("<!nocheck>"),
        "the tests do not run, so they need nothing"
    );
    let (ok, log) = dpkg_buildpackage(&unpackaged.root);
    assert!(ok, "the build passes with the tests off:\n{log}");
}

/// What the build itself imports (PEP 518's `[build-system] requires`, setuptools'
/// `setup_requires`) becomes plain build-dependencies through dh-python's list: setuptools as
/// its build part `python3-setuptools` (the list names the run-time `python3-pkg-resources`),
/// Cython as `cython3`. A `setup()` passing `ext_modules` (Coqui TTS's Cython extension)
/// compiles: `python3-all-dev` for the headers, `Architecture: any`, `${shlibs:Depends}`. A
/// build requirement no Debian package provides is named in a warning and in debian/rules.
#[test]
fn python_build_requirements_become_build_dependencies() {
    // PEP 518 (https://peps.python.org/pep-0518/#build-system-table): `requires` is a list of
    // PEP 508 strings; setuptools' `setup_requires` is the same, as a setup() keyword.
    let t = crate::upstreams::tree("builds-1.0");
    write(
        &t.root,
        "pyproject.toml",
        "[build-system]\nrequires = [\"setuptools>=42\", \"wheel\", \"cython~=0.29.30\", \
         \"numpy>=1.22.0\", \"no-such-backend-for-dh-mlmodel\"]\n",
    );
    write(
        &t.root,
        "setup.py",
        "from setuptools import Extension, setup\n\
         setup(\n    name=\"builds\",\n    version=\"1.0\",\n    setup_requires=[\n        \
         \"packaging\",  # the version check\n        'no-such-helper-for-dh-mlmodel>=1',\n    ],\n    \
         ext_modules=[Extension(name=\"builds.core\", sources=[\"builds/core.pyx\"])],\n)\n",
    );
    write(
        &t.root,
        "models/net.safetensors",
        crate::fixtures::safetensors(&[("w", "F32", &[4, 4])]),
    );
    let warnings = init_warnings(&t.root);
    let control = read(&t.root, "debian/control");
    let build_depends = control
        .lines()
        .find_map(|l| l.strip_prefix("Build-Depends: "))
        .unwrap_or_else(|| panic!("{control}"));
    let build_depends: Vec<&str> = build_depends.split(", ").collect();
    for package in [
        "python3-setuptools",
        "python3-wheel",
        "cython3",
        "python3-numpy",
        "python3-packaging",
        "python3-all-dev",
    ] {
        assert!(
            build_depends.contains(&package),
            "{package} in {build_depends:?}"
        );
    }
    assert!(
        !build_depends.contains(&"python3-all") && !control.contains("pkg-resources"),
        "{build_depends:?}"
    );
    assert!(
        !build_depends.iter().any(|b| b.contains("no-such")),
        "{build_depends:?}"
    );
    assert!(control.contains("Architecture: any\n"), "{control}");
    assert!(
        control.contains("Depends: ${shlibs:Depends}, ${python3:Depends}, ${misc:Depends}\n"),
        "{control}"
    );
    assert!(
        warnings.contains(
            "no Debian package provides no-such-backend-for-dh-mlmodel, \
             no-such-helper-for-dh-mlmodel (pyproject.toml [build-system] requires, setup.py \
             setup_requires;"
        ),
        "{warnings}"
    );
    let rules = read(&t.root, "debian/rules");
    assert!(
        rules.contains(
            "# The build imports no-such-backend-for-dh-mlmodel, no-such-helper-for-dh-mlmodel \
             (pyproject.toml [build-system] requires, setup.py setup_requires), which no Debian \
             package provides yet: package it first, or patch the build not to need it.\n"
        ),
        "{rules}"
    );
}

/// Code under a licence that is not DFSG-free (silero-models: CC-BY-NC-SA-4.0) goes to
/// non-free with the source, and so does the installer of its non-free weights: lintian's
/// `archive-liberty-mismatch` allows a non-free source no binary in another area.
#[test]
fn code_under_a_non_free_licence_goes_to_non_free() {
    let t = crate::upstreams::tree("nc-1.0");
    write(
        &t.root,
        "pyproject.toml",
        "[project]\nname = \"nc\"\nversion = \"1.0\"\nlicense = {text = \"CC-BY-NC-SA-4.0\"}\n",
    );
    write(
        &t.root,
        "models/net.safetensors",
        crate::fixtures::safetensors(&[("w", "F32", &[4, 4])]),
    );
    // silero's weights, downloaded at run time, under the code's licence: their installer
    // would be contrib (free code fetching non-free weights), but a non-free source allows no
    // contrib binary.
    let digest = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    write(
        &t.root,
        "debian/mlmodel.toml",
        format!(
            "[[model]]\nname = \"en-v6\"\nfiles = [\"en_v6.jit\"]\nformat = \"jit\"\n\
             license = \"CC-BY-NC-SA-4.0\"\ncopyright = \"2021 Silero Team\"\n\n\
             [model.pins]\n\"en_v6.jit\" = {{ sha256 = \"{digest}\", size = 4 }}\n\n\
             [model.download]\nurl = \"https://models.silero.ai/models/en/en_v6.jit\"\n\
             sha256 = \"{digest}\"\nsize = 4\n"
        ),
    );
    let warnings = init_warnings(&t.root);
    let control = read(&t.root, "debian/control");
    assert!(
        control.starts_with("Source: nc\nSection: non-free/python\n"),
        "{control}"
    );
    assert!(
        control.contains("Package: python3-nc\nSection: non-free/python\n"),
        "{control}"
    );
    assert!(
        control.contains("Package: nc-model-en-v6-installer\nSection: non-free/science\n"),
        "{control}"
    );
    assert!(
        warnings.contains("the code's licence CC-BY-NC-SA-4.0 is not DFSG-free"),
        "{warnings}"
    );
}

/// A model's package renamed by the maintainer, in `debian/control` and under
/// `[model.packages]`: `init` keeps the new paragraph and its edits, never adds the old name
/// back, and `classify` plans the new name (so `dh_mlmodel` acts on it).
#[test]
fn a_renamed_model_package_recorded_in_the_manifest_stays_renamed() {
    let (t, file) = cmake_project();
    let root = &t.root;
    init(root);
    fill_cnet_facts(root, &file);
    init(root);
    let control = read(root, "debian/control");
    assert!(
        control.contains("Package: cnet-model-cnet-installer\n"),
        "{control}"
    );
    let edited = control.replace(
        "Package: cnet-model-cnet-installer\n",
        "Package: get-cnet\n",
    );
    write(root, "debian/control", &edited);
    let renamed = manifest(root).replacen(
        "[model.pins]",
        "[model.packages]\ninstaller = \"get-cnet\"\n\n[model.pins]",
        1,
    );
    set_manifest(root, &renamed);

    let stdout = init(root);
    let after = read(root, "debian/control");
    assert!(after.contains("Package: get-cnet\n"), "{after}");
    assert!(!after.contains("cnet-model-cnet-installer"), "{after}");
    assert_eq!(after, edited, "init changed the renamed control file");
    assert!(stdout.contains("get-cnet"), "{stdout}");
    let (code, report, stderr) = classify_tree(root, &[]);
    assert_eq!(code, 0, "{stderr}");
    let packages: Vec<&str> = report["models"][0]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(packages.contains(&"get-cnet"), "{packages:?}");
    // Again: nothing comes back.
    init(root);
    assert_eq!(read(root, "debian/control"), edited);
}

/// Two models may not share a package name, and a chosen name is a full package name.
#[test]
fn model_package_names_must_be_distinct() {
    let (t, file) = cmake_project();
    let root = &t.root;
    init(root);
    fill_cnet_facts(root, &file);
    let clash = manifest(root).replacen(
        "[model.pins]",
        "[model.packages]\nweights = \"cnet-net\"\ninstaller = \"cnet-net\"\n\n[model.pins]",
        1,
    );
    set_manifest(root, &clash);
    let (code, _, stderr) = classify_tree(root, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("debian/mlmodel.toml:")
            && stderr.contains("`cnet-net` is already the name"),
        "{stderr}"
    );
}

/// `init --policy DIR` copies the tables into the package's `debian/mlmodel-policy/`, so the
/// package build (dh_mlmodel) and every later command plan with the policy init used; classify
/// with `--policy` warns that the build will not see it.
#[test]
fn init_policy_is_kept_in_the_package_for_every_later_command() {
    let (t, file) = cmake_project();
    let root = &t.root;
    init(root);
    fill_cnet_facts(root, &file);
    set_manifest(
        root,
        &manifest(root).replace("license = \"MIT\"", "license = \"LicenseRef-Cnet\""),
    );
    let (code, _, _) = classify_tree(root, &[]);
    assert_eq!(code, 1, "an unknown licence leaves the model incomplete");
    let policy = tempfile::tempdir().unwrap();
    let licenses = include_str!("../../policy/licenses.toml").replacen(
        "free = [",
        "free = [\"LicenseRef-Cnet\", ",
        1,
    );
    write(policy.path(), "licenses.toml", &licenses);
    let output = crate::support::dh_mlmodel()
        .arg("--policy")
        .arg(policy.path())
        .arg("init")
        .arg(root)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("copied licenses.toml from"), "{stdout}");
    assert_eq!(read(root, "debian/mlmodel-policy/licenses.toml"), licenses);
    // Without --policy now: the package's copy decides.
    let (code, report, stderr) = classify_tree(root, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["models"][0]["category"], "toxic-candy");
    let (_, _, stderr) = classify_tree(root, &["--policy", policy.path().to_str().unwrap()]);
    assert!(stderr.contains("applies to this run only"), "{stderr}");
}

/// Runs `init` on [`download_script_tree`] at `root` and fills in its model as free weights
/// compiled into the code, whose download (a tarball holding `src/fetcher_data.c`) comes with
/// the source as the orig-fetcher-data component. Returns the tarball and the C file.
fn compiled_in_fetcher(root: &Path) -> (Vec<u8>, &'static str) {
    compiled_in_download(root, "download_model.sh")
}

/// [`compiled_in_fetcher`] for a tree whose download script is `script`.
fn compiled_in_download(root: &Path, script: &str) -> (Vec<u8>, &'static str) {
    init(root);
    // The model tarball, as upstream publishes it: the generated C file under src/.
    let data_c = "const float fetcher_weights[4] = {0.1f, -0.2f, 0.3f, -0.4f};\n";
    let tarball = crate::fixtures::gzip(&crate::fixtures::tar(&[(
        "src/fetcher_data.c",
        data_c.as_bytes(),
    )]));
    let file = format!("fetcher_data-{DIGEST}.tar.gz");
    let digest = dh_mlmodel::hash::sha256_bytes(&tarball);
    let filled = set_lines(
        &without_training(&manifest(root), ""),
        &[
            ("format = ", "format = \"unknown\""),
            (
                "license = ",
                "license = \"BSD-3-Clause\"\ncompiled-in = true\ngenerates = [\"src/fetcher_data.c\"]",
            ),
            (
                &format!("\"{file}\" = "),
                &format!(
                    "\"{file}\" = {{ sha256 = \"{digest}\", size = {} }}",
                    tarball.len()
                ),
            ),
            ("sha256 = \"", &format!("sha256 = \"{digest}\"")),
            ("size = \"FIXME\"", &format!("size = {}", tarball.len())),
        ],
    ) + &format!(
        "\n[model.training]\nprogram = [\"{script}\"]\ncommand = \"sh {script} {{out}}\"\n"
    );
    set_manifest(root, &filled);
    let (code, report, stderr) = classify_tree(root, &[]);
    assert_eq!(code, 0, "{stderr}{report:#}\n{filled}");
    let model = &report["models"][0];
    assert_eq!(model["category"], "free", "{model:#}");
    assert_eq!(model["component"]["name"], "fetcher-data", "{model:#}");
    assert_eq!(model["packages"], serde_json::json!([]), "{model:#}");

    (tarball, data_c)
}

/// Weights compiled into the code, fetched by the upstream build (as xiph/rnnoise's
/// `download_model.sh` fetches `rnnoise_data-<sha256>.tar.gz`): a free model's pinned download
/// becomes an orig component. `classify` plans it, `init` says so and writes the debian/rules
/// step that puts the files in place from the component's directory (and removes them on
/// clean), and `repack --from DIR` without `--component` makes the component the plan needs.
#[test]
fn compiled_in_weights_fetched_at_build_come_with_the_source_as_a_component() {
    let t = download_script_tree();
    let root = &t.root;
    let (tarball, data_c) = compiled_in_fetcher(root);
    let file = format!("fetcher_data-{DIGEST}.tar.gz");
    let stdout = init(root);
    assert!(
        stdout.contains("the build needs the orig-fetcher-data component tarball"),
        "{stdout}"
    );
    let rules = read(root, "debian/rules");
    assert!(
        rules.contains("execute_before_dh_auto_configure:"),
        "{rules}"
    );
    assert!(
        !read(root, "debian/control").contains("-model-"),
        "no model package for compiled-in weights"
    );

    // repack without --component makes the component the plan needs.
    let from = tempfile::tempdir().unwrap();
    write(from.path(), &file, &tarball);
    let out = tempfile::tempdir().unwrap();
    let output = crate::support::dh_mlmodel()
        .current_dir(root)
        .args(["repack", "--from"])
        .arg(from.path())
        .arg("--output-dir")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let component = out.path().join("fetcher_0.orig-fetcher-data.tar.xz");
    assert!(
        component.is_file(),
        "{:?}",
        std::fs::read_dir(out.path()).unwrap().collect::<Vec<_>>()
    );

    // dpkg-source unpacks the component into fetcher-data/, dropping a single top directory
    // (Dpkg::Source::Archive::extract): here `src/`. The rules step finds the file either way.
    let unpacked = root.join("fetcher-data");
    std::fs::create_dir_all(&unpacked).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xJf")
        .arg(&component)
        .arg("-C")
        .arg(&unpacked)
        .arg("--strip-components=1")
        .status()
        .unwrap();
    assert!(status.success());
    let make = |target: &str| {
        let output = std::process::Command::new("make")
            .args(["-f", "debian/rules", target])
            .current_dir(root)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{target}: {}{}\n{rules}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    };
    make("execute_before_dh_auto_configure");
    assert_eq!(read(root, "src/fetcher_data.c"), data_c);
    make("execute_after_dh_auto_clean");
    assert!(!root.join("src/fetcher_data.c").exists());
}

/// A build that runs the download script every time (`all: sh download_model.sh`, which
/// fetches the tarball, checks it and unpacks it): `init` writes a DEP-3 patch that makes the
/// script exit when the component's files are in place, and nothing else changes. The patched
/// script still downloads where the files are missing, passes shellcheck, and the source
/// package (orig tarball, orig-fetcher-data component made by `repack`, the patch) builds with
/// the network refused, its binary holding what the build made of the component's data.
#[test]
fn a_build_that_always_downloads_compiled_in_weights_builds_offline_from_the_component() {
    let t = download_script_tree();
    let root = &t.root;
    write(
        root,
        "Makefile",
        "all:\n\tsh download_model.sh\n\
         \tsed -n 's/.*{\\(.*\\)}.*/\\1/p' src/fetcher_data.c > weights.txt\n\
         install:\n\tinstall -D -m 644 weights.txt $(DESTDIR)/usr/share/fetcher/weights.txt\n\
         clean:\n\trm -f weights.txt\n",
    );
    // BSD-3-Clause code (base-files' copy of the licence) and weights from the same authors.
    let license = read(Path::new("/usr/share/common-licenses"), "BSD");
    write(
        root,
        "LICENSE",
        format!("Copyright 2024 Fetcher Authors\n\n{license}"),
    );
    let (tarball, _) = compiled_in_fetcher(root);
    let filled = set_lines(
        &manifest(root),
        &[("copyright = ", "copyright = \"2024 Fetcher Authors\"")],
    );
    set_manifest(root, &filled);
    let stdout = init(root);
    let name = "use-orig-fetcher-data.patch";
    assert!(
        stdout.contains(&format!(
            "download_model.sh:5: the build downloads the fetcher-data weights from \
             https://media.example.org/fetcher/models/fetcher_data-{DIGEST}.tar.gz; a Debian \
             build has no network: they come with the source as its orig-fetcher-data \
             component, which debian/rules puts in place before the build; \
             debian/patches/{name} makes download_model.sh exit when they are there"
        )),
        "{stdout}"
    );
    assert_eq!(read(root, "debian/patches/series"), format!("{name}\n"));
    let patch = read(root, &format!("debian/patches/{name}"));
    assert!(
        patch.starts_with("Description: Use the fetcher-data weights that come with the source\n"),
        "{patch}"
    );
    assert!(patch.contains("\nForwarded: not-needed\n"), "{patch}");
    assert!(
        patch.contains(
            "+if [ -e \"$(dirname \"$0\")/src/fetcher_data.c\" ]; then\n+\texit 0\n+fi\n"
        ),
        "{patch}"
    );
    // A second run adds nothing.
    init(root);
    assert_eq!(read(root, "debian/patches/series"), format!("{name}\n"));

    // The patched script, run by dash from elsewhere: it still fetches while the file is
    // missing (and fails here, with no network), and exits at once when it is there.
    let copy = patched_copy(root, "download_model.sh", name);
    let script = copy.path().join("download_model.sh");
    let output = std::process::Command::new("shellcheck")
        .args(["-s", "sh"])
        .arg(&script)
        .output()
        .unwrap();
    crate::support::assert_success(&output);
    let run = || {
        std::process::Command::new("dash")
            .arg(&script)
            .current_dir("/")
            .env("PATH", "/usr/bin:/bin")
            .env("http_proxy", "http://127.0.0.1:9")
            .env("https_proxy", "http://127.0.0.1:9")
            .output()
            .unwrap()
    };
    assert!(
        !run().status.success(),
        "the download runs while the file is missing"
    );
    write(copy.path(), "src/fetcher_data.c", "/* in place */\n");
    crate::support::assert_success(&run());
    assert!(!copy.path().join("model.sha256").exists());

    // The source package: the orig tarball, its component from `repack`, unpacked where
    // dpkg-source puts it.
    let parent = root.parent().unwrap();
    let from = tempfile::tempdir().unwrap();
    write(
        from.path(),
        &format!("fetcher_data-{DIGEST}.tar.gz"),
        &tarball,
    );
    let output = crate::support::dh_mlmodel()
        .current_dir(root)
        .args(["repack", "--from"])
        .arg(from.path())
        .arg("--output-dir")
        .arg(parent)
        .output()
        .unwrap();
    crate::support::assert_success(&output);
    let unpacked = root.join("fetcher-data");
    std::fs::create_dir_all(&unpacked).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xJf")
        .arg(parent.join("fetcher_0.orig-fetcher-data.tar.xz"))
        .arg("-C")
        .arg(&unpacked)
        .arg("--strip-components=1")
        .status()
        .unwrap();
    assert!(status.success());
    // debian/copyright names the component's files with the weights' holders and licence.
    assert!(
        read(root, "debian/copyright").contains(
            "Files:\n fetcher-data/*\nCopyright:\n 2024 Fetcher Authors\nLicense: BSD-3-Clause\n"
        ),
        "{}",
        read(root, "debian/copyright")
    );
    let lintian = lintian_on_full_build(root, "fetcher", "0");
    assert_eq!(
        tags_beyond_the_itp_placeholder(&lintian),
        Vec::<&str>::new(),
        "{lintian}"
    );
    let deb = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .expect("a binary package");
    let extracted = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(extracted.path())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        read(extracted.path(), "usr/share/fetcher/weights.txt"),
        "0.1f, -0.2f, 0.3f, -0.4f\n"
    );
}

/// A directory holding a copy of `script` (relative to the tree at `root`) with
/// `debian/patches/<patch>` applied by `patch -p1 -F0`, as dpkg-source applies it.
fn patched_copy(root: &Path, script: &str, patch: &str) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    write(copy.path(), script, read(root, script));
    let output = std::process::Command::new("patch")
        .args(["-p1", "-F0", "-i"])
        .arg(root.join("debian/patches").join(patch))
        .current_dir(copy.path())
        .output()
        .unwrap();
    crate::support::assert_success(&output);
    copy
}

/// The guard finds the component's files from the script's own directory, wherever the build
/// runs it from; a download in `autogen.sh`, which does more than download, gets no patch, only
/// the advice to patch it.
#[test]
fn the_download_guard_follows_the_script_and_leaves_build_entry_points_alone() {
    let body = format!(
        "set -e\nmodel=fetcher_data-{DIGEST}.tar.gz\n\
         wget \"https://media.example.org/fetcher/models/$model\"\ntar -xzf \"$model\"\n"
    );
    // A script one directory down, which the Makefile runs.
    let t = crate::upstreams::tree("fetcher");
    let root = &t.root;
    write(
        root,
        "scripts/download_model.sh",
        format!("#!/bin/sh\n{body}"),
    );
    write(root, "Makefile", "all:\n\tsh scripts/download_model.sh\n");
    compiled_in_download(root, "scripts/download_model.sh");
    let stdout = init(root);
    assert!(
        stdout.contains(
            "debian/patches/use-orig-fetcher-data.patch makes scripts/download_model.sh exit"
        ),
        "{stdout}"
    );
    let copy = patched_copy(
        root,
        "scripts/download_model.sh",
        "use-orig-fetcher-data.patch",
    );
    assert!(
        read(copy.path(), "scripts/download_model.sh")
            .contains("[ -e \"$(dirname \"$0\")/../src/fetcher_data.c\" ]")
    );
    write(copy.path(), "src/fetcher_data.c", "/* in place */\n");
    let output = std::process::Command::new("dash")
        .arg(copy.path().join("scripts/download_model.sh"))
        .current_dir("/")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    crate::support::assert_success(&output);

    // The same download in autogen.sh: named, not patched.
    let t = crate::upstreams::tree("fetcher");
    let root = &t.root;
    write(
        root,
        "autogen.sh",
        format!("#!/bin/sh\n{body}autoreconf -fi\n"),
    );
    compiled_in_download(root, "autogen.sh");
    let stdout = init(root);
    assert!(
        stdout.contains(
            "autogen.sh:4: the build downloads the fetcher-data weights from \
             https://media.example.org/fetcher/models/"
        ) && stdout.contains("if autogen.sh still downloads them then, patch it (debian/patches)"),
        "{stdout}"
    );
    assert!(!root.join("debian/patches").exists(), "{stdout}");
}

/// A CMake project whose build fetches zlib with FetchContent (CMake's FetchContent module,
/// `FetchContent_Declare` + `FetchContent_MakeAvailable`): `init` names the fetch and the
/// Debian package that provides it (policy/fetched-code.toml), adds that package to
/// Build-Depends, and its debian/rules makes
/// CMake use the installed package (`FETCHCONTENT_TRY_FIND_PACKAGE_MODE=ALWAYS`, CMake 3.24),
/// so the package builds without network (debhelper passes
/// `FETCHCONTENT_FULLY_DISCONNECTED=ON`; the test machine has no route out either).
#[test]
fn a_cmake_build_that_fetches_code_builds_offline_against_the_installed_package() {
    let t = crate::upstreams::zlib_program(
        "include(FetchContent)\n\
         FetchContent_Declare(ZLIB\n  URL https://zlib.net/zlib-1.3.1.tar.gz\n)\n\
         FetchContent_MakeAvailable(ZLIB)\n\
         add_executable(zdemo zdemo.c)\n\
         target_link_libraries(zdemo ZLIB::ZLIB)\n",
    );
    let root = &t.root;
    let stdout = init(root);
    assert!(
        stdout.contains(
            "CMakeLists.txt:4: the build fetches code from https://zlib.net/zlib-1.3.1.tar.gz; \
             a Debian build has no network: Debian likely has it (zlib): zlib1g-dev added to \
             Build-Depends"
        ),
        "{stdout}"
    );
    let rules = read(root, "debian/rules");
    assert!(
        rules.contains("\tdh_auto_configure -- -DFETCHCONTENT_TRY_FIND_PACKAGE_MODE=ALWAYS\n"),
        "{rules}"
    );
    assert!(read(root, "debian/control").contains(", zlib1g-dev\n"));
    let debs = build(root);
    assert_eq!(names(&debs), vec!["zdemo"]);
}

/// The zlib program's build with CMake's ExternalProject module, as piper's CMakeLists.txt
/// fetches fmt and spdlog: `ExternalProject_Add(zlib_external URL … URL_HASH SHA256=…)` (the
/// digest of zlib.net's zlib-1.3.1.tar.gz), a program that `add_dependencies` on the target
/// and links `z` by name. ExternalProject has no switch for an installed copy.
const EXTERNAL_PROJECT: &str = "include(ExternalProject)\n\
add_executable(zdemo zdemo.c)\n\
ExternalProject_Add(\n  zlib_external  # zlib (the library) from zlib.net\n  \
URL https://zlib.net/zlib-1.3.1.tar.gz\n  \
URL_HASH SHA256=9a93b2b7dfdac77ceba5a558a580e74667dd6fede4585b91eefb60f03b72df23\n  \
CMAKE_ARGS \"-DCMAKE_INSTALL_PREFIX=${CMAKE_BINARY_DIR}/zi\" -DX=$<IF:$<CONFIG:Debug>,(a),(b)>\n)\n\
add_dependencies(zdemo zlib_external)\n\
target_link_libraries(zdemo z)\n";

/// `init` on the ExternalProject build: a DEP-3 quilt patch replaces the whole call with
/// `find_package(ZLIB REQUIRED)` and an empty `zlib_external` target, the series lists it after
/// the maintainer's own patch, zlib1g-dev goes to Build-Depends, and the full build (source
/// package included, so dpkg-source applies the series) succeeds offline; the built program
/// runs against the installed zlib.
#[test]
fn an_external_project_build_is_patched_to_use_the_installed_package() {
    let t = crate::upstreams::zlib_program(EXTERNAL_PROJECT);
    let root = &t.root;
    // The maintainer's own patch, already in the series.
    write(
        root,
        "debian/patches/readme-typo.patch",
        "Description: Fix a typo\nAuthor: Ann Example <ann@example.org>\nForwarded: yes\n\
         Last-Update: 2023-11-14\n---\n--- a/README\n+++ b/README\n@@ -1 +1 @@\n-zdemo prnts zlib's version\n\
         +zdemo prints zlib's version\n",
    );
    write(root, "README", "zdemo prnts zlib's version\n");
    write(root, "debian/patches/series", "readme-typo.patch\n");
    let stdout = init(root);
    assert!(
        stdout.contains(
            "CMakeLists.txt:5: the build fetches code from https://zlib.net/zlib-1.3.1.tar.gz; a \
             Debian build has no network: Debian likely has it (zlib): zlib1g-dev added to \
             Build-Depends; debian/patches/use-installed-zlib.patch replaces \
             ExternalProject_Add(zlib_external ...) with find_package(ZLIB REQUIRED) and an \
             empty zlib_external target"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("wrote debian/patches/use-installed-zlib.patch\n"));
    assert_eq!(
        read(root, "debian/patches/series"),
        "readme-typo.patch\nuse-installed-zlib.patch\n"
    );
    let patch = read(root, "debian/patches/use-installed-zlib.patch");
    // DEP-3 header (https://dep-team.pages.debian.net/deps/dep3/); Last-Update is
    // SOURCE_DATE_EPOCH's day.
    assert!(
        patch.starts_with("Description: Use the installed zlib instead of downloading it\n "),
        "{patch}"
    );
    for field in [
        "\nAuthor: Ann Example <ann@example.org>\n",
        "\nForwarded: not-needed\n",
        "\nLast-Update: 2023-11-14\n---\n--- a/CMakeLists.txt\n+++ b/CMakeLists.txt\n",
        "\n-ExternalProject_Add(\n-  zlib_external  # zlib (the library) from zlib.net\n",
        "\n+find_package(ZLIB REQUIRED)\n",
        "\n+add_custom_target(zlib_external)\n add_dependencies(zdemo zlib_external)\n",
    ] {
        assert!(patch.contains(field), "{field:?} not in:\n{patch}");
    }
    assert!(read(root, "debian/control").contains(", zlib1g-dev\n"));
    full_build(root, "zdemo", "1.0");
    let debs = built_debs(root);
    assert_eq!(names(&debs), vec!["zdemo"]);
    let unpacked = unpack_deb(&debs["zdemo"]);
    let output = std::process::Command::new(unpacked.path().join("usr/bin/zdemo"))
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "1.2.13\n");
}

/// The patch and its series line are init's only the first time: run again, nothing changes;
/// a patch the maintainer deleted (with its series line) is not added again, and a patch file
/// of the same name that init did not write is left alone and not listed.
#[test]
fn an_external_project_patch_is_added_once() {
    let t = crate::upstreams::zlib_program(EXTERNAL_PROJECT);
    let root = &t.root;
    init(root);
    let patch = read(root, "debian/patches/use-installed-zlib.patch");
    let stdout = init(root);
    assert!(stdout.contains("unchanged debian/patches/use-installed-zlib.patch\n"));
    assert_eq!(read(root, "debian/patches/use-installed-zlib.patch"), patch);
    assert_eq!(
        read(root, "debian/patches/series"),
        "use-installed-zlib.patch\n"
    );

    std::fs::remove_file(root.join("debian/patches/use-installed-zlib.patch")).unwrap();
    write(root, "debian/patches/series", "");
    let stdout = init(root);
    assert!(
        stdout.contains("left debian/patches/use-installed-zlib.patch alone: deleted since"),
        "{stdout}"
    );
    assert!(
        !root
            .join("debian/patches/use-installed-zlib.patch")
            .exists()
    );
    assert_eq!(read(root, "debian/patches/series"), "");

    // Taken out of the series only: the file is kept up to date, the series stays as it is.
    let t = crate::upstreams::zlib_program(EXTERNAL_PROJECT);
    let root = &t.root;
    init(root);
    write(root, "debian/patches/series", "# none\n");
    init(root);
    assert_eq!(read(root, "debian/patches/series"), "# none\n");

    // The maintainer's file of that name.
    let t = crate::upstreams::zlib_program(EXTERNAL_PROJECT);
    let root = &t.root;
    write(root, "debian/patches/use-installed-zlib.patch", "mine\n");
    let stdout = init(root);
    assert!(
        stdout.contains("left debian/patches/use-installed-zlib.patch alone: not written by"),
        "{stdout}"
    );
    assert_eq!(
        read(root, "debian/patches/use-installed-zlib.patch"),
        "mine\n"
    );
    assert!(!root.join("debian/patches/series").exists());
}

/// Three ExternalProject calls in one file, as piper's CMakeLists.txt has: zlib and fmt are in
/// the table, one patch each, listed in file order, the second made against the text the first
/// leaves, so `patch -p1` applies them in series order without fuzz or offset (as dpkg-source
/// does: `-F 0`); the project the table does not know keeps its call and gets the advice only.
#[test]
fn external_projects_of_one_file_get_patches_that_apply_in_series() {
    let t = crate::upstreams::zlib_program(&format!(
        "{EXTERNAL_PROJECT}ExternalProject_Add(fmt_external\n  \
         URL \"https://github.com/fmtlib/fmt/archive/refs/tags/10.0.0.zip\"\n)\n\
         ExternalProject_Add(phonemize_external URL https://example.org/phonemize.zip)\n"
    ));
    let root = &t.root;
    let stdout = init(root);
    assert!(
        stdout.contains(
            "CMakeLists.txt:16: the build fetches code from https://example.org/phonemize.zip; a \
             Debian build has no network: package it first, or ship it in the source package; \
             ExternalProject_Add always downloads: patch it (debian/patches) to use the \
             installed package\n"
        ),
        "{stdout}"
    );
    assert_eq!(
        read(root, "debian/patches/series"),
        "use-installed-zlib.patch\nuse-installed-fmt.patch\n"
    );
    assert!(read(root, "debian/control").contains(", zlib1g-dev, libfmt-dev\n"));
    for name in ["use-installed-zlib.patch", "use-installed-fmt.patch"] {
        let output = std::process::Command::new("patch")
            .args(["-p1", "-F", "0", "-N", "--no-backup-if-mismatch", "-i"])
            .arg(root.join("debian/patches").join(name))
            .current_dir(root)
            .output()
            .unwrap();
        let log = crate::support::combined_output(&output);
        assert!(output.status.success(), "{name}: {log}");
        assert!(
            !log.contains("offset") && !log.contains("fuzz"),
            "{name}: {log}"
        );
    }
    let patched = read(root, "CMakeLists.txt");
    assert!(
        patched.contains("find_package(ZLIB REQUIRED)\n")
            && patched.contains("find_package(fmt REQUIRED)\n")
            && patched.contains("add_custom_target(fmt_external)\n")
            && !patched.contains("zlib-1.3.1")
            && !patched.contains("fmtlib")
            && patched.contains("ExternalProject_Add(phonemize_external URL"),
        "{patched}"
    );
}

/// A plain-Makefile upstream licensed `license` (its metadata in package.json) whose licence
/// file is `text`, with a README and an ONNX model of unknown licence committed.
pub(crate) fn licensed_upstream(
    name: &str,
    license: &str,
    license_file: &str,
    text: &str,
) -> crate::upstreams::Tree {
    let t = crate::upstreams::tree(name);
    let root = &t.root;
    write(
        root,
        "package.json",
        format!(
            "{{\"name\": \"{name}\", \"version\": \"1.4.0\", \"license\": \"{license}\", \
             \"description\": \"Score images with a small network\", \
             \"homepage\": \"https://example.org/{name}\"}}\n"
        ),
    );
    write(
        root,
        "README.md",
        format!(
            "# {name}\n\n[![ci](https://example.org/badge.svg)](https://example.org)\n\n\
             {name} scores images with a small convolutional network. It reads PNG files\n\
             and prints one score per file.\n\n## Install\n\n    make install\n"
        ),
    );
    write(
        root,
        "Makefile",
        format!(
            "all:\n\ninstall:\n\tinstall -D -m 0644 README.md \
             $(DESTDIR)/usr/share/{name}/README.md\n"
        ),
    );
    write(
        root,
        license_file,
        format!("Copyright 2021 Example Authors\n\n{text}"),
    );
    write(root, "models/net.onnx", crate::fixtures::onnx());
    t
}

/// Builds the source package (from an orig tarball of the tree without debian/ and the
/// directories of orig component tarballs beside it, so a 3.0 (quilt) source applies
/// debian/patches) and the binary packages, with every download
/// refused (the proxy variables CMake and the other fetchers honour point at a closed port).
/// Returns dpkg-buildpackage's log.
pub(crate) fn full_build(root: &Path, source: &str, version: &str) -> String {
    let parent = root.parent().unwrap();
    let dir = root.file_name().unwrap().to_str().unwrap();
    // The directories of orig component tarballs beside it (`SOURCE_VERSION.orig-NAME.tar.*`)
    // are theirs, not the main tarball's.
    let prefix = format!("{source}_{version}.orig-");
    let mut excluded = vec![format!("{dir}/debian")];
    for entry in std::fs::read_dir(parent).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(component) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split_once(".tar."))
        {
            excluded.push(format!("{dir}/{}", component.0));
        }
    }
    let mut tar = std::process::Command::new("tar");
    tar.current_dir(parent);
    for path in &excluded {
        tar.args(["--exclude", path]);
    }
    let tar = tar
        .arg("-czf")
        .arg(format!("{source}_{version}.orig.tar.gz"))
        .arg(dir)
        .status()
        .unwrap();
    assert!(tar.success());
    let mut command = crate::support::packaging_command("dpkg-buildpackage", root);
    for proxy in [
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ] {
        command.env(proxy, "http://127.0.0.1:9");
    }
    command.env_remove("no_proxy").env_remove("NO_PROXY");
    let output = command.args(["-us", "-uc", "-d"]).output().unwrap();
    let log = crate::support::combined_output(&output);
    assert!(output.status.success(), "dpkg-buildpackage failed:\n{log}");
    log
}

/// Builds the source and binary packages ([`full_build`]), then runs lintian on the .changes,
/// so the source checks (DEP-5) and the binary checks (common licences) both see
/// debian/copyright. Returns lintian's output.
pub(crate) fn lintian_on_full_build(root: &Path, source: &str, version: &str) -> String {
    let parent = root.parent().unwrap();
    let log = full_build(root, source, version);
    // dh_mlmodel defines every ${mlmodel:*} the generated control uses (${shlibs:Depends} of
    // an Architecture: any package without ELF files is dh_shlibdeps' business).
    assert!(
        !log.lines()
            .any(|l| l.contains("${mlmodel:") && l.contains("not defined")),
        "undefined substvars:\n{log}"
    );
    let changes = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "changes"))
        .unwrap();
    let output = std::process::Command::new("lintian")
        .args(["-I", "--no-tag-display-limit"])
        .arg(&changes)
        .output()
        .unwrap();
    crate::support::combined_output(&output)
}

/// The E: and W: tags of lintian's output, without the one the ITP placeholder of the first
/// changelog entry causes (`initial-upload-closes-no-bugs`, until the ITP bug is filed).
pub(crate) fn tags_beyond_the_itp_placeholder(lintian: &str) -> Vec<&str> {
    lintian
        .lines()
        .filter(|l| l.starts_with("E: ") || l.starts_with("W: "))
        .filter(|l| !l.contains("initial-upload-closes-no-bugs"))
        .collect()
}

/// The Apache-2.0 and GPL-2.0-or-later upstreams: the licence file is recognised by its text,
/// debian/copyright names the licence in DEP-5 spelling and points to
/// /usr/share/common-licenses with the licence's notice instead of pasting it, and lintian's
/// copyright checks (source and binary) say nothing. The licence texts are base-files' copies.
#[test]
fn apache_and_gpl_upstreams_get_lintian_clean_copyright() {
    for (name, metadata, file, common, dep5, grant) in [
        (
            "apachenet",
            "Apache-2.0",
            "LICENSE",
            "Apache-2.0",
            "Apache-2.0",
            "Licensed under the Apache License, Version 2.0",
        ),
        (
            "gplnet",
            "GPL-2.0-or-later",
            "COPYING",
            "GPL-2",
            "GPL-2+",
            "either version 2 of the License, or",
        ),
    ] {
        let text = read(Path::new("/usr/share/common-licenses"), common);
        let t = licensed_upstream(name, metadata, file, &text);
        let root = &t.root;
        let stdout = init_warnings(root);
        let copyright = read(root, "debian/copyright");
        assert!(
            copyright.contains(&format!(
                "Files: *\nCopyright:\n 2021 Example Authors\nLicense: {dep5}\n"
            )),
            "{copyright}"
        );
        assert!(copyright.contains(grant), "{copyright}");
        assert!(
            copyright.contains(&format!("\"/usr/share/common-licenses/{common}\".")),
            "{copyright}"
        );
        assert!(
            copyright.len() < 4000,
            "the full text was pasted:\n{copyright}"
        );
        // The model's files stay in the source: their own paragraph, holders unknown.
        assert!(
            copyright.contains("Files:\n models/net.onnx\nCopyright:\n FIXME: the copyright holders of the net weights\n"),
            "{copyright}"
        );
        assert!(
            stdout.contains("the copyright holders of the net weights are unknown"),
            "{stdout}"
        );
        let control = read(root, "debian/control");
        assert!(
            control.contains(&format!(
                " {name} scores images with a small convolutional network."
            )),
            "{control}"
        );
        // A licence placeholder is an error to lintian (license-problem-undefined-license), as
        // it should be before an upload: state the weights' licence and holders first.
        fill_model_copyright(root);
        init(root);
        let copyright = read(root, "debian/copyright");
        assert!(
            copyright.contains("\nLicense: CC0-1.0\n To the extent possible under law"),
            "{copyright}"
        );
        let lintian = lintian_on_full_build(root, name, "1.4.0");
        let copyright_tags: Vec<&str> = lintian
            .lines()
            .filter(|l| l.contains("copyright"))
            .collect();
        assert!(copyright_tags.is_empty(), "{name}: {lintian}");
    }
}

/// pyproject.toml says MIT, the licence file is Apache-2.0's text: init says so, and
/// debian/copyright follows the licence file.
#[test]
fn a_metadata_licence_the_licence_file_contradicts_is_reported() {
    let text = read(Path::new("/usr/share/common-licenses"), "Apache-2.0");
    let t = licensed_upstream("mixnet", "MIT", "LICENSE", &text);
    let root = &t.root;
    let warnings = init_warnings(root);
    assert!(
        warnings.contains(
            "package.json gives the licence as `MIT`, but LICENSE is the text of Apache-2.0"
        ),
        "{warnings}"
    );
    let copyright = read(root, "debian/copyright");
    assert!(copyright.contains("License: Apache-2.0\n"), "{copyright}");
    assert!(!copyright.contains("Expat"), "{copyright}");

    // Third-party weights: the manifest's holders and licence, never the code's.
    set_model_copyright(root, "2023 Example Vision Lab", "CC-BY-4.0");
    init(root);
    let copyright = read(root, "debian/copyright");
    assert!(
        copyright.contains(
            "Files:\n models/net.onnx\nCopyright:\n 2023 Example Vision Lab\nLicense: CC-BY-4.0\n"
        ),
        "{copyright}"
    );
    assert!(
        copyright
            .contains("\nLicense: CC-BY-4.0\n FIXME: the full text of the CC-BY-4.0 licence\n"),
        "{copyright}"
    );
}

/// debian/changelog: every line under 80 columns, the ITP placeholder to fill in, each model's
/// fate in words.
#[test]
fn the_changelog_is_wrapped_and_closes_the_itp_placeholder() {
    let text = read(Path::new("/usr/share/common-licenses"), "Apache-2.0");
    let t = licensed_upstream("wrapnet", "Apache-2.0", "LICENSE", &text);
    let root = &t.root;
    init(root);
    let changelog = read(root, "debian/changelog");
    for line in changelog.lines() {
        assert!(line.chars().count() < 80, "{}: {line}", line.len());
    }
    assert!(
        changelog.contains("\n  * Initial release. (Closes: FIXME-ITP-bug-number)\n"),
        "{changelog}"
    );
    assert!(
        changelog.contains("  * net: a model not packaged yet, for lack of facts in"),
        "{changelog}"
    );
}

/// The model's licence and holders, so debian/copyright has no placeholder (lintian's
/// `license-problem-undefined-license`), and debian/copyright drafted again.
pub(crate) fn fill_model_copyright(root: &Path) {
    set_model_copyright(root, "2020 Example Vision Lab", "CC0-1.0");
}

/// The model's `holders` and `license` in place of the drafted placeholders, and
/// debian/copyright removed so that `init` drafts it again.
fn set_model_copyright(root: &Path, holders: &str, license: &str) {
    let filled = set_lines(
        &manifest(root),
        &[
            ("copyright = ", &format!("copyright = \"{holders}\"")),
            (
                "license = \"FIXME: the weights'",
                &format!("license = \"{license}\""),
            ),
        ],
    );
    set_manifest(root, &filled);
    std::fs::remove_file(root.join("debian/copyright")).unwrap();
}
