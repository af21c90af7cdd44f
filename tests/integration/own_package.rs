//! The project's own Debian packages (`debian/` at the top of this repository): built with a
//! plain `dpkg-buildpackage -us -uc -b` from a copy of the tree, offline, with Debian's Rust
//! toolchain; clean under `lintian --fail-on error,warning`; `dh-mlmodel` holding the commands,
//! the add-on, the man pages and the completions, `mlmodel-get` the helpers' shared runtime and
//! its system user; and built twice, in directories of different lengths, to the same bytes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{combined_output, copy_of_the_tree, deb_field, unpack_deb};

/// Builds the copy in `dir`; returns the files it wrote beside the tree, by name.
fn build(dir: &Path, options: &str) -> Vec<PathBuf> {
    let tree = copy_of_the_tree(dir);
    let cargo_home = std::env::var_os("CARGO_HOME").map_or_else(
        || Path::new(&std::env::var_os("HOME").unwrap()).join(".cargo"),
        PathBuf::from,
    );
    let output = Command::new("dpkg-buildpackage")
        .args(["-us", "-uc", "-b"])
        .current_dir(&tree)
        // Debian's toolchain (cargo-web) and tools only, as a package build sees them.
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("CARGO_HOME", cargo_home)
        .env("DEB_BUILD_OPTIONS", options)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("MAKEFLAGS")
        .env_remove("MAKELEVEL")
        .output()
        .unwrap();
    let log = combined_output(&output);
    assert!(
        output.status.success(),
        "dpkg-buildpackage of dh-mlmodel failed:\n{}",
        tail(&log, 60)
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb" || e == "ddeb"))
        .collect();
    files.sort();
    files
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[test]
fn own_packages_build_lint_clean_complete_and_reproducible() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::Builder::new()
        .prefix("a-longer-name-so-paths-differ-")
        .tempdir()
        .unwrap();
    // The first build runs the unit tests too (dh_auto_test); the second skips them, which must
    // not change a byte.
    let debs = build(first.path(), "parallel=2");
    let again = build(second.path(), "nocheck parallel=2");

    let names = |files: &[PathBuf]| -> Vec<String> {
        files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(names(&debs), names(&again));
    for (a, b) in debs.iter().zip(&again) {
        assert!(
            std::fs::read(a).unwrap() == std::fs::read(b).unwrap(),
            "{} differs between two builds in different directories",
            a.file_name().unwrap().to_string_lossy()
        );
    }

    let changes: Vec<PathBuf> = std::fs::read_dir(first.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "changes"))
        .collect();
    let lintian = Command::new("lintian")
        .args(["--fail-on", "error,warning", "--no-tag-display-limit"])
        .args(&changes)
        .output()
        .unwrap();
    assert!(
        lintian.status.success(),
        "lintian on dh-mlmodel's own packages:\n{}",
        combined_output(&lintian)
    );

    let runtime = debs
        .iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("mlmodel-get_")
        })
        .expect("the mlmodel-get .deb");
    assert_eq!(deb_field(runtime, "Architecture"), "all");
    assert_eq!(deb_field(runtime, "Multi-Arch"), "foreign");
    assert_eq!(
        deb_field(runtime, "Depends"),
        "curl | wget, ca-certificates, dh-mlmodel, systemd | systemd-standalone-sysusers | \
         systemd-sysusers"
    );
    let unpacked = unpack_deb(runtime);
    assert_eq!(
        std::fs::read(unpacked.path().join("usr/share/mlmodel-get/runtime.sh")).unwrap(),
        std::fs::read(crate::support::runtime_script()).unwrap()
    );
    let sysusers =
        std::fs::read_to_string(unpacked.path().join("usr/lib/sysusers.d/mlmodel-get.conf"))
            .unwrap();
    assert!(sysusers.contains("u _mlmodel - "), "{sysusers}");

    let tool = debs
        .iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("dh-mlmodel_")
        })
        .expect("the dh-mlmodel .deb");
    assert!(deb_field(tool, "Provides").contains("dh-sequence-mlmodel"));
    assert_eq!(deb_field(tool, "Multi-Arch"), "foreign");
    let unpacked = unpack_deb(tool);
    for path in [
        "usr/bin/dh-mlmodel",
        "usr/bin/dh_mlmodel",
        "usr/bin/dh_mlmodel_train",
        "usr/share/perl5/Debian/Debhelper/Sequence/mlmodel.pm",
        "usr/share/dh-mlmodel/policy/formats.toml",
        "usr/share/dh-mlmodel/templates/get-helper.sh.j2",
        "usr/share/man/man1/dh-mlmodel.1.gz",
        "usr/share/man/man1/dh-mlmodel-scan.1.gz",
        "usr/share/man/man1/dh-mlmodel-classify.1.gz",
        "usr/share/man/man1/dh-mlmodel-init.1.gz",
        "usr/share/man/man1/dh-mlmodel-pin.1.gz",
        "usr/share/man/man1/dh-mlmodel-check.1.gz",
        "usr/share/man/man1/dh-mlmodel-repack.1.gz",
        "usr/share/man/man1/dh-mlmodel-census.1.gz",
        "usr/share/man/man1/dh-mlmodel-verify.1.gz",
        "usr/share/dh-mlmodel/lintian/lib/Lintian/Check/Mlmodel.pm",
        "usr/share/dh-mlmodel/lintian/profiles/mlmodel/main.profile",
        "usr/share/dh-mlmodel/lintian/tags/mlmodel/toxic-candy-model-in-main.tag",
        "usr/share/man/man1/dh_mlmodel.1.gz",
        "usr/share/man/man1/dh_mlmodel_train.1.gz",
        "usr/share/bash-completion/completions/dh-mlmodel",
        "usr/share/zsh/vendor-completions/_dh-mlmodel",
        "usr/share/fish/vendor_completions.d/dh-mlmodel.fish",
    ] {
        assert!(
            unpacked.path().join(path).is_file(),
            "{path} is missing from the dh-mlmodel package"
        );
    }
    // The packaged tool is the real one: it answers, and its man page renders.
    let version = Command::new(unpacked.path().join("usr/bin/dh-mlmodel"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("dh-mlmodel {}", env!("CARGO_PKG_VERSION"))
    );
    let man = Command::new("man")
        .args(["--warnings", "-l"])
        .arg(
            unpacked
                .path()
                .join("usr/share/man/man1/dh-mlmodel-scan.1.gz"),
        )
        .env("MANWIDTH", "80")
        .output()
        .unwrap();
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(
        man.status.success() && page.contains("dh-mlmodel scan"),
        "{page}"
    );
    assert!(
        man.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&man.stderr)
    );
}
