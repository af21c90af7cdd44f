//! `dh_mlmodel` and the `mlmodel` sequence add-on: real source packages built with
//! `dpkg-buildpackage` through `dh $@`, checked with dpkg-deb and lintian; debhelper's shared
//! options exercised on the command directly.

use std::path::{Path, PathBuf};

use crate::fixtures;
use crate::support::{
    DpkgRoot, assert_host_untouched, assert_lintian_clean, built_debs, deb_field,
    dpkg_buildpackage, make_world_readable, packaging_command, runtime_for_every_user, unpack_deb,
    write,
};
use dh_mlmodel::hash::{sha256_bytes, sha256_file};

pub(crate) const INSTALL_DIR: &str = "/usr/share/foo/models/net";

/// A deterministic NumPy training program: seeded initialisation, fixed-step gradient descent,
/// weights written with numpy.save.
const TRAIN_PY: &str = r#"import sys, numpy as np
data, out, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
xy = np.loadtxt(data + "/points.csv", delimiter=",")
x, y = np.c_[xy[:, :1], np.ones(len(xy))], xy[:, 1]
w = np.random.default_rng(seed).standard_normal(2)
for _ in range(50):
    w -= 0.1 * x.T @ (x @ w - y) / len(y)
np.save(out + "/net.npy", w)
"#;

fn points_csv() -> String {
    (0..40)
        .map(|i| format!("{},{}\n", i as f64 / 10.0, 3.0 * i as f64 / 10.0 + 1.0))
        .collect()
}

/// What the test package's manifest says about training.
pub(crate) enum Recipe {
    /// Weights committed upstream and shipped from the source.
    InSource,
    /// Trained during the build with this seed; the pin is the output of seed 1.
    AtBuild { seed: i64 },
}

pub(crate) struct SourcePackage {
    _dir: tempfile::TempDir,
    pub(crate) root: PathBuf,
}

/// Writes source package `foo`: code package `foo`, weights package `foo-model-net`.
pub(crate) fn source_package(recipe: Recipe) -> SourcePackage {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("foo-1.0");
    write(
        &root,
        "bin/foo",
        "#!/bin/sh\necho foo uses /usr/share/foo/models/net\n",
    );
    write(&root, "training/train.py", TRAIN_PY);
    write(&root, "data/points.csv", points_csv());
    let weights = fixtures::safetensors(&[("w", "F32", &[4, 4])]);
    write(&root, "models/net.safetensors", &weights);
    write(
        &root,
        "debian/control",
        "Source: foo\nSection: science\nPriority: optional\n\
         Maintainer: Test Maintainer <test@example.org>\n\
         Build-Depends: debhelper-compat (= 13), dh-sequence-mlmodel\n\
         Standards-Version: 4.6.2\nRules-Requires-Root: no\n\n\
         Package: foo\nArchitecture: all\nDepends: ${misc:Depends}\n\
         Recommends: ${mlmodel:Recommends}\nSuggests: ${mlmodel:Suggests}\n\
         Description: tiny tool that uses a model\n The code half of a test package.\n\n\
         Package: foo-model-net\nArchitecture: all\nDepends: ${misc:Depends}\n\
         Description: model weights for foo\n The weights half of a test package.\n",
    );
    write(&root, "debian/rules", "#!/usr/bin/make -f\n%:\n\tdh $@\n");
    set_mode(&root.join("debian/rules"), 0o755);
    write(&root, "debian/foo.install", "bin/foo usr/bin\n");
    write(&root, "debian/source/format", "3.0 (native)\n");
    write(
        &root,
        "debian/changelog",
        concat!(
            "foo (1.0) unstable; urgency=medium\n\n  * Test build.\n\n",
            " -- Test Maintainer <test@example.org>  Sun, 22 Nov 2026 00:00:00 +0000\n"
        ),
    );
    write(
        &root,
        "debian/copyright",
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: foo\n\nFiles: *\nCopyright: 2026 Test Upstream\nLicense: MIT\n\n\
         License: MIT\n Permission is hereby granted, free of charge, to any person obtaining a copy\n \
         of this software, to deal in the Software without restriction.\n",
    );
    let (pinned, size, program_line) = match recipe {
        Recipe::InSource => (sha256_bytes(&weights), weights.len() as u64, String::new()),
        Recipe::AtBuild { seed } => {
            let (digest, size) = reference_training(&root);
            (digest, size, format!("at-build = true\nseed = {seed}\n"))
        }
    };
    let file = if program_line.is_empty() {
        "models/net.safetensors"
    } else {
        "models/net.npy"
    };
    let points = sha256_bytes(points_csv().as_bytes());
    write(
        &root,
        "debian/mlmodel.toml",
        format!(
            r#"[[model]]
name = "net"
files = ["{file}"]
format = "{format}"
license = "MIT"
install-dir = "{INSTALL_DIR}"
in-source = true

[model.pins]
"{file}" = {{ sha256 = "{pinned}", size = {size} }}

[model.training]
program = ["training/train.py"]
command = "python3 training/train.py {{data}} {{out}} {{seed}}"
outputs = ["net.npy"]
depends = ["python3-numpy"]
cpu-hours = 0.001
deterministic = true
{program_line}
[[model.training.data]]
name = "points"
license = "CC0-1.0"
path = "data/points.csv"
sha256 = "{points}"
"#,
            format = if program_line.is_empty() {
                "safetensors"
            } else {
                "npy"
            },
        ),
    );
    SourcePackage { _dir: dir, root }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Runs the training program once outside any build, seed 1, to learn the digest to pin.
fn reference_training(root: &Path) -> (String, u64) {
    let out = tempfile::tempdir().unwrap();
    let status = packaging_command("/usr/bin/python3", root)
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("OMP_NUM_THREADS", "1")
        .args(["training/train.py", "data"])
        .arg(out.path())
        .arg("1")
        .status()
        .unwrap();
    assert!(status.success(), "reference training run failed");
    sha256_file(&out.path().join("net.npy")).unwrap()
}

#[test]
fn weights_package_is_built_verified_with_provenance_and_recommended() {
    let package = source_package(Recipe::InSource);
    let (ok, log) = dpkg_buildpackage(&package.root);
    assert!(ok, "dpkg-buildpackage failed:\n{log}");
    assert!(
        log.contains("dh_mlmodel"),
        "dh ran dh_mlmodel through the add-on:\n{log}"
    );
    let debs = built_debs(&package.root);
    let weights = unpack_deb(&debs["foo-model-net"]);
    let installed = weights
        .path()
        .join(INSTALL_DIR.trim_start_matches('/'))
        .join("net.safetensors");
    let expected = sha256_file(&package.root.join("models/net.safetensors")).unwrap();
    assert_eq!(sha256_file(&installed).unwrap(), expected);

    let provenance: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            weights
                .path()
                .join("usr/share/doc/foo-model-net/provenance.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(provenance["source"], "foo");
    assert_eq!(provenance["version"], "1.0");
    assert_eq!(provenance["origin"], "archive");
    assert_eq!(
        provenance["files"][0]["path"],
        format!("{INSTALL_DIR}/net.safetensors")
    );
    assert_eq!(provenance["files"][0]["sha256"], expected.0.as_str());

    assert_eq!(deb_field(&debs["foo"], "Recommends"), "foo-model-net");
    assert_lintian_clean(&debs.values().cloned().collect::<Vec<_>>());
}

#[test]
fn tampered_model_file_fails_the_build_naming_both_digests() {
    let package = source_package(Recipe::InSource);
    let path = package.root.join("models/net.safetensors");
    let pinned = sha256_file(&path).unwrap().0;
    let mut bytes = std::fs::read(&path).unwrap();
    *bytes.last_mut().unwrap() ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let (ok, log) = dpkg_buildpackage(&package.root);
    assert!(!ok, "a tampered file must fail the build");
    assert!(log.contains("models/net.safetensors"), "{log}");
    assert!(
        log.contains(&pinned) && log.contains(&sha256_bytes(&bytes)),
        "both digests named:\n{log}"
    );
    assert!(built_debs(&package.root).is_empty());
}

#[test]
fn training_during_the_build_matches_the_pin_and_a_new_seed_fails() {
    let package = source_package(Recipe::AtBuild { seed: 1 });
    let (ok, log) = dpkg_buildpackage(&package.root);
    assert!(ok, "dpkg-buildpackage failed:\n{log}");
    let debs = built_debs(&package.root);
    let weights = unpack_deb(&debs["foo-model-net"]);
    let installed = weights
        .path()
        .join(INSTALL_DIR.trim_start_matches('/'))
        .join("net.npy");
    let (pinned, _) = reference_training(&package.root);
    assert_eq!(sha256_file(&installed).unwrap().0, pinned);
    let provenance = std::fs::read_to_string(
        weights
            .path()
            .join("usr/share/doc/foo-model-net/provenance.json"),
    )
    .unwrap();
    assert!(provenance.contains("\"matches_pin\": true"), "{provenance}");
    assert!(
        package
            .root
            .join("debian/.debhelper/mlmodel/net/training.log")
            .is_file(),
        "the training log is kept"
    );
    assert_lintian_clean(&debs.values().cloned().collect::<Vec<_>>());

    let other = source_package(Recipe::AtBuild { seed: 2 });
    let (ok, log) = dpkg_buildpackage(&other.root);
    assert!(
        !ok,
        "a different seed must not reproduce the pinned weights:\n{log}"
    );
    assert!(log.contains("net.npy") && log.contains(&pinned), "{log}");
    assert!(log.contains("the build produced SHA-256"), "{log}");
}

#[test]
fn training_belongs_to_the_build_phase_and_its_profile() {
    let package = source_package(Recipe::AtBuild { seed: 1 });
    let root = &package.root;
    let record = root.join("debian/.debhelper/mlmodel/net/training.json");

    // The binary phase never trains: without the build phase's record it stops and says why.
    let (status, stderr) = dh_mlmodel(root, &["-p", "foo-model-net"], &[]);
    assert_eq!(status, 255, "{stderr}");
    assert!(
        stderr.contains("has not been trained") && stderr.contains("dh_mlmodel_train"),
        "{stderr}"
    );
    assert!(
        !root
            .join("debian/foo-model-net")
            .join(INSTALL_DIR.trim_start_matches('/'))
            .exists()
    );

    // Under pkg.mlmodel.notrain a build that still produces the package is refused.
    let (status, stderr) = dh_mlmodel_train(root, &[("DEB_BUILD_PROFILES", "pkg.mlmodel.notrain")]);
    assert_eq!(status, 255, "{stderr}");
    assert!(
        stderr.contains("Build-Profiles: <!pkg.mlmodel.notrain>"),
        "{stderr}"
    );
    assert!(!record.exists(), "nothing is trained under the profile");

    // The build phase trains and records; the binary phase installs what was recorded.
    let (status, stderr) = dh_mlmodel_train(root, &[("DEB_BUILD_OPTIONS", "parallel=3")]);
    assert_eq!(status, 0, "{stderr}");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    assert_eq!(run["outputs"][0]["name"], "net.npy", "{run}");

    // An output changed between the phases is not installed.
    let output = root.join("debian/.debhelper/mlmodel/net/out/net.npy");
    let mut bytes = std::fs::read(&output).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    std::fs::write(&output, bytes).unwrap();
    let (status, stderr) = dh_mlmodel(root, &["-p", "foo-model-net"], &[]);
    assert_eq!(status, 255, "{stderr}");
    assert!(
        stderr.contains("changed after dh_mlmodel_train recorded it"),
        "{stderr}"
    );
}

/// Runs `dh_mlmodel_train` for the weights package with extra environment; (status, stderr).
fn dh_mlmodel_train(root: &Path, env: &[(&str, &str)]) -> (i32, String) {
    let output = packaging_command("dh_mlmodel_train", root)
        .args(["-p", "foo-model-net"])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `dh_mlmodel ARGS` in the package tree with extra environment; returns (status, stderr).
fn dh_mlmodel(root: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output = packaging_command("dh_mlmodel", root)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The files under `debian/` now, with their contents' digests: what an option may change.
fn debian_state(root: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = walkdir::WalkDir::new(root.join("debian"))
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap().display().to_string();
            (rel, sha256_file(e.path()).unwrap().0)
        })
        .collect();
    files.sort();
    files
}

fn acted_on(root: &Path) -> (bool, bool) {
    let code = root.join("debian/foo.substvars").exists();
    let weights = root
        .join("debian/foo-model-net")
        .join(INSTALL_DIR.trim_start_matches('/'))
        .exists();
    (code, weights)
}

fn reset(root: &Path) {
    let _ = std::fs::remove_file(root.join("debian/foo.substvars"));
    let _ = std::fs::remove_dir_all(root.join("debian/foo-model-net"));
}

/// Command-line arguments, environment, and whether (code, weights) were acted on.
type SelectionCase<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], (bool, bool));

#[test]
fn package_selection_follows_debhelper_options() {
    let package = source_package(Recipe::InSource);
    let root = &package.root;
    let cases: &[SelectionCase] = &[
        (&[], &[], (true, true)),
        (&["-pfoo"], &[], (true, false)),
        (&["--package=foo-model-net"], &[], (false, true)),
        (&["-Nfoo"], &[], (false, true)),
        (&["-i"], &[], (true, true)),
        (&["-i", "--no-package", "foo-model-net"], &[], (true, false)),
        (&["-a"], &[], (false, false)),
        (
            &[],
            &[(
                "DH_INTERNAL_OPTIONS",
                "-O--buildsystem=pybuild\x1e-pfoo-model-net",
            )],
            (false, true),
        ),
        (&[], &[("DH_INTERNAL_OPTIONS", "-a")], (false, false)),
        (
            &["-pfoo"],
            &[("DH_INTERNAL_OPTIONS", "-pfoo-model-net")],
            (false, false),
        ),
        (&[], &[("DH_OPTIONS", "-pfoo")], (true, false)),
        (
            &["-O--buildsystem=pybuild", "-O--no-such-option", "-O-pfoo"],
            &[],
            (true, false),
        ),
    ];
    for (args, env, expected) in cases {
        reset(root);
        let (status, stderr) = dh_mlmodel(root, args, env);
        assert_eq!(status, 0, "dh_mlmodel {args:?} {env:?} failed: {stderr}");
        assert_eq!(
            acted_on(root),
            *expected,
            "dh_mlmodel {args:?} with {env:?} acted on the wrong packages"
        );
    }
}

#[test]
fn bad_options_and_unknown_packages_are_errors() {
    let package = source_package(Recipe::InSource);
    let (status, stderr) = dh_mlmodel(&package.root, &["--no-such-option"], &[]);
    assert_eq!(status, 255);
    assert!(
        stderr.contains("dh_mlmodel: error:") && stderr.contains("no-such-option"),
        "{stderr}"
    );
    let (status, stderr) = dh_mlmodel(&package.root, &["-pbar"], &[]);
    assert_eq!(status, 255);
    assert!(stderr.contains("unknown package bar"), "{stderr}");
    // Unknown options in DH_OPTIONS are a warning only, as in debhelper.
    let (status, stderr) = dh_mlmodel(&package.root, &[], &[("DH_OPTIONS", "--no-such-option")]);
    assert_eq!(status, 0, "{stderr}");
    assert!(
        stderr.contains("ignored unknown options in DH_OPTIONS"),
        "{stderr}"
    );
}

#[test]
fn no_act_changes_nothing_on_disk_and_verbose_says_what_it_would_do() {
    let package = source_package(Recipe::InSource);
    let before = debian_state(&package.root);
    let output = packaging_command("dh_mlmodel", &package.root)
        .args(["--no-act", "-v"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        debian_state(&package.root),
        before,
        "--no-act must not change debian/"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("\tinstall -D -m0644") && stdout.contains("net.safetensors"),
        "{stdout}"
    );
    assert!(
        stdout.contains("mlmodel:Recommends=foo-model-net"),
        "{stdout}"
    );

    let (status, _) = dh_mlmodel(&package.root, &[], &[("DH_NO_ACT", "1")]);
    assert_eq!(status, 0);
    assert_eq!(
        debian_state(&package.root),
        before,
        "DH_NO_ACT must not change debian/"
    );
}

#[test]
fn help_is_debhelper_style() {
    let package = source_package(Recipe::InSource);
    let output = packaging_command("dh_mlmodel", &package.root)
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("Usage: dh_mlmodel [debhelper options]"),
        "{text}"
    );
    assert!(text.contains("-p, --package=PKG"), "{text}");
}

/// Source package `foo` whose model is not in the source: a code package and the installer
/// package that builds `foo-model-net` on the user's machine from the published file.
pub(crate) fn installer_source_package(auto_download: bool) -> (SourcePackage, Vec<u8>) {
    let package = source_package(Recipe::InSource);
    let root = &package.root;
    let weights = std::fs::read(root.join("models/net.safetensors")).unwrap();
    std::fs::remove_file(root.join("models/net.safetensors")).unwrap();
    let control = std::fs::read_to_string(root.join("debian/control")).unwrap();
    let code = control.split("\n\nPackage: foo-model-net").next().unwrap();
    write(
        root,
        "debian/control",
        format!(
            "{code}\n\nPackage: foo-model-net-installer\nSection: contrib/science\nArchitecture: all\n\
             Depends: ${{misc:Depends}}, ${{mlmodel:Depends}}\nSuggests: ${{mlmodel:Suggests}}\n\
             Description: download or retrain the weights of foo's model\n \
             Builds foo-model-net on this machine.\n"
        ),
    );
    let manifest = std::fs::read_to_string(root.join("debian/mlmodel.toml")).unwrap();
    let manifest = manifest.replace("in-source = true\n", "").replace(
        "[model.training]",
        &format!(
            "[model.download]\nurl = \"https://models.example.org/net-1.0.safetensors\"\n\
             sha256 = \"{}\"\nsize = {}\nauto-download = {auto_download}\n\n[model.training]",
            sha256_bytes(&weights),
            weights.len()
        ),
    );
    write(root, "debian/mlmodel.toml", manifest);
    (package, weights)
}

#[test]
fn installer_package_ships_the_helper_its_pins_and_recipe() {
    let (package, weights) = installer_source_package(true);
    let (ok, log) = dpkg_buildpackage(&package.root);
    assert!(ok, "dpkg-buildpackage failed:\n{log}");
    let debs = built_debs(&package.root);
    assert_eq!(
        debs.keys().collect::<Vec<_>>(),
        ["foo", "foo-model-net-installer"]
    );
    let installer = &debs["foo-model-net-installer"];
    // The helper's code is the shared runtime, at the version of the interface it follows.
    assert_eq!(deb_field(installer, "Depends"), "mlmodel-get (>= 0.1.0)");
    assert_eq!(deb_field(installer, "Suggests"), "python3-numpy");
    assert_eq!(
        deb_field(&debs["foo"], "Suggests"),
        "foo-model-net-installer"
    );

    let unpacked = unpack_deb(installer);
    let script = unpacked.path().join("usr/bin/get-foo-model-net");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&script).unwrap().permissions().mode() & 0o777,
        0o755
    );
    let share = unpacked.path().join("usr/share/foo-model-net-installer");
    let pins: serde_json::Value =
        serde_json::from_slice(&std::fs::read(share.join("pins.json")).unwrap()).unwrap();
    assert_eq!(pins["files"][0]["sha256"], sha256_bytes(&weights));
    assert_eq!(
        pins["files"][0]["urls"][0],
        "https://models.example.org/net-1.0.safetensors"
    );
    assert!(
        share.join("recipe/training/train.py").is_file(),
        "the training program is shipped"
    );
    assert!(
        share.join("data/points.csv").is_file(),
        "in-source training data is shipped"
    );

    let man = unpacked
        .path()
        .join("usr/share/man/man1/get-foo-model-net.1.gz");
    let rendered = std::process::Command::new("man")
        .arg("-l")
        .arg(&man)
        .env("MANWIDTH", "80")
        .output()
        .unwrap();
    let page = String::from_utf8_lossy(&rendered.stdout);
    assert!(
        page.contains("get-foo-model-net") && page.contains(&sha256_bytes(&weights)),
        "{page}"
    );

    // The postinst carries the snippet, wrapped as debhelper wraps its own.
    let control_dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("dpkg-deb")
        .arg("-e")
        .arg(installer)
        .arg(control_dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let postinst = std::fs::read_to_string(control_dir.path().join("postinst")).unwrap();
    assert!(
        postinst.contains("# Automatically added by dh_mlmodel/"),
        "{postinst}"
    );
    assert!(
        postinst.contains("\"${DPKG_ROOT:-}/usr/bin/get-foo-model-net\" --download"),
        "{postinst}"
    );
    assert_eq!(
        postinst
            .matches("# End automatically added section")
            .count(),
        1,
        "{postinst}"
    );

    // Its postrm purges the installer's cache and state.
    let postrm = std::fs::read_to_string(control_dir.path().join("postrm")).unwrap();
    assert!(
        postrm.contains(
            "rm -rf \"${DPKG_ROOT:-}/var/cache/foo-model-net-installer\" \"${DPKG_ROOT:-}/var/lib/foo-model-net-installer\""
        ),
        "{postrm}"
    );

    // Installed in a private installation (dpkg --root), the postinst runs without chroot(2)
    // under DPKG_ROOT: with no network (a proxy on a closed port) it records the failed
    // download there and leaves the package configured. The Depends (curl | wget, …) are this
    // system's, whose programs a chrootless postinst runs, hence --force-depends.
    let root = DpkgRoot::with_runtime();
    let installer_name = "foo-model-net-installer";
    root.install(
        installer,
        &["--force-depends"],
        &[
            ("https_proxy", "http://127.0.0.1:9"),
            ("MLMODEL_RETRIES", "1"),
        ],
    );
    assert_eq!(root.status(installer_name), "installed 1.0");
    let record =
        std::fs::read_to_string(root.join("/var/lib/foo-model-net-installer/failed")).unwrap();
    assert!(record.contains("network error"), "{record}");
    let script = root.join("/usr/bin/get-foo-model-net");
    let helper = |args: &[&str], dpkg_root: bool| {
        let out = tempfile::tempdir().unwrap();
        let mut command = packaging_command("dash", out.path());
        command
            .arg(&script)
            .args(args)
            .env("XDG_CACHE_HOME", out.path().join("cache"));
        if dpkg_root {
            command.env("DPKG_ROOT", root.path());
        } else {
            // This system has no mlmodel-get: the tree's runtime stands in for it.
            command.env("MLMODEL_GET_RUNTIME", runtime_for_every_user());
        }
        (command.output().unwrap(), out)
    };

    // The installed helper builds the weights package from a local copy, offline, and installs
    // it in the same installation.
    let from = tempfile::tempdir().unwrap();
    std::fs::write(from.path().join("net.safetensors"), &weights).unwrap();
    // Run by root, the helper reads DIR as the system user _mlmodel.
    make_world_readable(from.path());
    let from = from.path().to_str().unwrap();
    let (run, out) = helper(&["--from", from, "--output", ".", "--install"], true);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let local: Vec<PathBuf> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .collect();
    assert_eq!(local.len(), 1, "one weights package built");
    let weights_deb = unpack_deb(&local[0]);
    let installed = weights_deb
        .path()
        .join(INSTALL_DIR.trim_start_matches('/'))
        .join("net.safetensors");
    assert_eq!(std::fs::read(installed).unwrap(), weights);
    assert_eq!(deb_field(&local[0], "Package"), "foo-model-net");
    assert!(root.status("foo-model-net").starts_with("installed "));
    let weights_path = format!("{INSTALL_DIR}/net.safetensors");
    assert_eq!(std::fs::read(root.join(&weights_path)).unwrap(), weights);
    let (verify, _) = helper(&["--verify"], true);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    // It trains with the program and data its package installed in that installation; on this
    // system, where they are absent, it cannot.
    let (on_host, _) = helper(&["--train", "--force", "--output", "."], false);
    assert!(!on_host.status.success());
    assert!(
        String::from_utf8_lossy(&on_host.stderr).contains(
            "cannot copy the training program from /usr/share/foo-model-net-installer/recipe"
        ),
        "{}",
        String::from_utf8_lossy(&on_host.stderr)
    );
    // (This fixture's recipe writes net.npy, not the pinned net.safetensors, so the run ends
    // there, after the training.)
    let (retrained, _) = helper(&["--train", "--force", "--output", "."], true);
    let stderr = String::from_utf8_lossy(&retrained.stderr);
    assert!(stderr.contains("training finished"), "{stderr}");

    root.remove("foo-model-net");
    root.remove(installer_name);
    assert!(!root.join(&weights_path).exists());
    assert_host_untouched(
        installer_name,
        &[
            "/var/lib/foo-model-net-installer",
            "/usr/bin/get-foo-model-net",
        ],
    );
    assert_host_untouched("foo-model-net", &[&weights_path]);

    let mut all: Vec<PathBuf> = debs.values().cloned().collect();
    all.push(local[0].clone());
    assert_lintian_clean(&all);
}

#[test]
fn man_page_renders_without_warnings() {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("man/dh_mlmodel.1");
    let output = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "",
        "groff warnings"
    );
}

#[test]
fn build_profiles_exclude_packages_as_debhelper_does() {
    let package = source_package(Recipe::InSource);
    let root = &package.root;
    let control = std::fs::read_to_string(root.join("debian/control")).unwrap();
    write(
        root,
        "debian/control",
        control.replace(
            "Package: foo-model-net\nArchitecture: all\n",
            "Package: foo-model-net\nArchitecture: all\nBuild-Profiles: <!pkg.foo.nomodel>\n",
        ),
    );
    let (status, stderr) = dh_mlmodel(root, &[], &[("DEB_BUILD_PROFILES", "pkg.foo.nomodel")]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(
        acted_on(root),
        (true, false),
        "the profile drops the weights package"
    );
    reset(root);
    // Asking for a package the profile drops is not an error: debhelper warns and does nothing.
    let (status, stderr) = dh_mlmodel(
        root,
        &["-pfoo-model-net"],
        &[("DEB_BUILD_PROFILES", "pkg.foo.nomodel")],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(
        stderr.contains("All requested packages have been excluded"),
        "{stderr}"
    );
    assert_eq!(acted_on(root), (false, false));
    let (status, _) = dh_mlmodel(root, &[], &[]);
    assert_eq!(status, 0);
    assert_eq!(
        acted_on(root),
        (true, true),
        "without the profile both are built"
    );
}

#[test]
fn the_same_source_builds_byte_identical_debs() {
    let builds: Vec<_> = (0..2)
        .map(|_| {
            let package = source_package(Recipe::AtBuild { seed: 1 });
            let (ok, log) = dpkg_buildpackage(&package.root);
            assert!(ok, "dpkg-buildpackage failed:\n{log}");
            let debs: Vec<(String, Vec<u8>)> = built_debs(&package.root)
                .into_iter()
                .map(|(name, path)| (name, std::fs::read(path).unwrap()))
                .collect();
            debs
        })
        .collect();
    assert_eq!(builds[0].len(), 2);
    for ((name, first), (_, second)) in builds[0].iter().zip(&builds[1]) {
        assert!(first == second, "{name}: the two builds differ");
    }
}

#[test]
fn a_failing_recipe_fails_the_build_showing_its_log() {
    let package = source_package(Recipe::AtBuild { seed: 1 });
    write(
        &package.root,
        "training/train.py",
        "import sys\nprint('loading points')\nsys.exit('diverged at step 3')\n",
    );
    let (ok, log) = dpkg_buildpackage(&package.root);
    assert!(!ok, "a failing recipe must fail the build");
    assert!(log.contains("training model net failed"), "{log}");
    assert!(
        log.contains("loading points") && log.contains("diverged at step 3"),
        "the log's tail is shown:\n{log}"
    );
    assert!(
        package
            .root
            .join("debian/.debhelper/mlmodel/net/training.log")
            .is_file(),
        "the log is kept"
    );
}

/// A package of `debian/control` named as a model's package while the model is incomplete
/// would be built empty: dh_mlmodel fails the build instead, naming the package, the model and
/// every missing fact with its place in the manifest.
#[test]
fn an_incomplete_models_package_fails_the_build_naming_the_missing_facts() {
    let package = source_package(Recipe::InSource);
    let root = &package.root;
    let manifest = std::fs::read_to_string(root.join("debian/mlmodel.toml")).unwrap();
    write(
        root,
        "debian/mlmodel.toml",
        manifest.replace("license = \"MIT\"", "license = \"LicenseRef-Foo\""),
    );
    let (status, stderr) = dh_mlmodel(root, &[], &[]);
    assert_eq!(status, 255, "{stderr}");
    assert!(
        stderr.contains("foo-model-net is a package of model net, which is incomplete")
            && stderr.contains("debian/mlmodel.toml:5:11: license:"),
        "{stderr}"
    );
    assert!(!root.join("debian/foo-model-net").exists());

    // The package's own policy lists the licence as free: the same build now plans, and ships,
    // the weights package (dh_mlmodel reads debian/mlmodel-policy/ as init and classify do).
    let licenses = include_str!("../../policy/licenses.toml").replacen(
        "free = [",
        "free = [\"LicenseRef-Foo\", ",
        1,
    );
    write(root, "debian/mlmodel-policy/licenses.toml", licenses);
    let (status, stderr) = dh_mlmodel(root, &[], &[]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(acted_on(root), (true, true));
}

/// A weights package renamed in `debian/control` and recorded under `[model.packages]` is the
/// model's package for dh_mlmodel: it gets the weights, and the code package recommends it.
#[test]
fn a_renamed_weights_package_gets_the_weights() {
    let package = source_package(Recipe::InSource);
    let root = &package.root;
    let control = std::fs::read_to_string(root.join("debian/control")).unwrap();
    write(
        root,
        "debian/control",
        control.replace("Package: foo-model-net\n", "Package: foo-net-weights\n"),
    );
    let manifest = std::fs::read_to_string(root.join("debian/mlmodel.toml")).unwrap();
    write(
        root,
        "debian/mlmodel.toml",
        manifest.replacen(
            "[model.pins]",
            "[model.packages]\nweights = \"foo-net-weights\"\n\n[model.pins]",
            1,
        ),
    );
    let (status, stderr) = dh_mlmodel(root, &[], &[]);
    assert_eq!(status, 0, "{stderr}");
    assert!(
        root.join("debian/foo-net-weights")
            .join(INSTALL_DIR.trim_start_matches('/'))
            .is_dir()
    );
    let substvars = std::fs::read_to_string(root.join("debian/foo.substvars")).unwrap();
    assert!(
        substvars.contains("mlmodel:Recommends=foo-net-weights"),
        "{substvars}"
    );
}

/// Only a code package whose paragraph uses `${mlmodel:Recommends}` gets the relation: a second
/// code package (a -dev or -doc one) that does not use it gets the substvar empty, so
/// dpkg-gencontrol has no "unused, but is defined" warning to give.
#[test]
fn a_code_package_that_does_not_use_the_substvar_gets_no_relation() {
    let package = source_package(Recipe::InSource);
    let root = &package.root;
    let control = std::fs::read_to_string(root.join("debian/control")).unwrap();
    write(
        root,
        "debian/control",
        format!(
            "{control}\nPackage: foo-doc\nArchitecture: all\nDepends: ${{misc:Depends}}\n\
             Description: documentation for foo\n The documentation of a test package.\n"
        ),
    );
    let (status, stderr) = dh_mlmodel(root, &[], &[]);
    assert_eq!(status, 0, "{stderr}");
    let used = std::fs::read_to_string(root.join("debian/foo.substvars")).unwrap();
    assert!(used.contains("mlmodel:Recommends=foo-model-net"), "{used}");
    let unused = std::fs::read_to_string(root.join("debian/foo-doc.substvars")).unwrap();
    assert!(
        unused
            .lines()
            .all(|line| !line.starts_with("mlmodel:") || line.ends_with('=')),
        "{unused}"
    );
}
