//! The installer packages' life cycle, piuparts-style, in a private dpkg installation
//! (`DpkgRoot`): the shared runtime `mlmodel-get` (built from this tree's debian/), an installer
//! package built with dh_mlmodel and the weights package its helper builds are installed,
//! used, purged, installed again and purged again; the filesystem is listed before and after,
//! and nothing may be left but the system user `_mlmodel` in `etc/` (users stay after a purge,
//! as Debian's convention is). Run as root, the helper downloads and trains as that user and
//! installs as root.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use dh_mlmodel::hash::sha256_bytes;

use crate::debhelper::{INSTALL_DIR, installer_source_package};
use crate::support::{
    DEBIAN_PATH, DpkgRoot, assert_host_untouched, built_debs, dh_mlmodel_binary, dpkg_buildpackage,
    make_world_readable, owner, running_as_root, runtime_deb,
};

const INSTALLER: &str = "foo-model-net-installer";
const WEIGHTS: &str = "foo-model-net";

/// Every path under `root` with its kind (`d`, `f`, `l`), but dpkg's own database and log,
/// which piuparts leaves out too.
fn listing(root: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if rel == "var/lib/dpkg" || rel == "var/log/dpkg.log" {
                continue;
            }
            let kind = entry.file_type().unwrap();
            let tag = if kind.is_dir() {
                'd'
            } else if kind.is_symlink() {
                'l'
            } else {
                'f'
            };
            out.insert(format!("{tag} {rel}"));
            if kind.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

/// What purging may leave: the system user in the user database systemd-sysusers writes.
const USER_DATABASE: [&str; 5] = [
    "f etc/passwd",
    "f etc/group",
    "f etc/shadow",
    "f etc/gshadow",
    "f etc/.pwd.lock",
];

/// The installed helper, run on the installation by whoever runs the tests.
fn run_helper(root: &DpkgRoot, args: &[&str]) -> Output {
    Command::new("dash")
        .arg(root.join(&format!("/usr/bin/get-{WEIGHTS}")))
        .args(args)
        .env("DPKG_ROOT", root.path())
        .env("PATH", DEBIAN_PATH)
        // The dh-mlmodel package mlmodel-get depends on, as this tree builds it.
        .env("MLMODEL_DH_MLMODEL", dh_mlmodel_binary())
        .env_remove("XDG_CACHE_HOME")
        .output()
        .unwrap()
}

#[test]
fn install_use_purge_twice_leaves_only_the_system_user() {
    let (package, weights) = installer_source_package(true);
    let (ok, log) = dpkg_buildpackage(&package.root);
    assert!(ok, "dpkg-buildpackage failed:\n{log}");
    let installer_deb = built_debs(&package.root)[INSTALLER].clone();

    let root = DpkgRoot::new();
    make_world_readable(root.path());
    let from = tempfile::tempdir().unwrap();
    std::fs::write(from.path().join("net.safetensors"), &weights).unwrap();
    make_world_readable(from.path());
    let cache = format!("/var/cache/{INSTALLER}");
    let state = format!("/var/lib/{INSTALLER}");
    let before = listing(root.path());
    let mut first_after = None;

    for round in 1..=2 {
        // Its Depends are this system's programs, which chrootless maintainer scripts run.
        root.install(runtime_deb(), &["--force-depends"], &[]);
        let uid = root.user_uid("_mlmodel");
        // The postinst tries the download: with no network (a proxy on a closed port) it
        // records the failure in the installer's state.
        root.install(
            &installer_deb,
            &["--force-depends"],
            &[
                ("https_proxy", "http://127.0.0.1:9"),
                ("MLMODEL_RETRIES", "1"),
            ],
        );
        assert!(root.join(&format!("{state}/failed")).is_file());

        // The helper builds the weights package into the installer's cache, as the postinst
        // would, and installs it.
        let cache_dir = root.join(&cache);
        let run = run_helper(
            &root,
            &[
                "--from",
                from.path().to_str().unwrap(),
                "--output",
                cache_dir.to_str().unwrap(),
                "--install",
            ],
        );
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "round {round}: {stderr}");
        assert!(root.status(WEIGHTS).starts_with("installed "));
        let weights_path = format!("{INSTALL_DIR}/net.safetensors");
        assert_eq!(std::fs::read(root.join(&weights_path)).unwrap(), weights);
        let cached = cache_dir.join(format!("dh-mlmodel/sha256/{}", sha256_bytes(&weights)));
        assert!(cached.is_file());
        if running_as_root() {
            // The work ran as the system user; only the installation ran as root.
            assert!(
                stderr.contains(&format!("working as the system user _mlmodel (uid {uid})")),
                "{stderr}"
            );
            assert_eq!(owner(&cached), uid, "the cached download is not _mlmodel's");
            let built: Vec<_> = std::fs::read_dir(&cache_dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "deb"))
                .collect();
            assert_eq!(built.len(), 1, "{built:?}");
            assert_eq!(owner(&built[0]), 0, "the .deb root installs is not root's");
        }

        // Purged in reverse order of dependency.
        for package in [WEIGHTS, INSTALLER, "mlmodel-get"] {
            let mut purge = root.dpkg();
            purge.args(["--purge", package]);
            let output = purge.output().unwrap();
            assert!(
                output.status.success(),
                "dpkg --purge {package}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert_eq!(root.status(package), "", "{package} is still known to dpkg");
        }
        let after = listing(root.path());
        let left: Vec<&String> = after
            .difference(&before)
            .filter(|path| !USER_DATABASE.contains(&path.as_str()))
            .collect();
        assert!(left.is_empty(), "round {round}: left behind: {left:#?}");
        let gone: Vec<&String> = before.difference(&after).collect();
        assert!(gone.is_empty(), "round {round}: removed: {gone:#?}");
        // The user stays, and the second round ends exactly as the first.
        assert!(
            std::fs::read_to_string(root.join("/etc/passwd"))
                .unwrap()
                .contains("_mlmodel:")
        );
        match &first_after {
            None => first_after = Some(after),
            Some(first) => assert_eq!(first, &after),
        }
    }
    assert_host_untouched(
        INSTALLER,
        &[&cache, &state, &format!("/usr/bin/get-{WEIGHTS}")],
    );
    assert_host_untouched(WEIGHTS, &[INSTALL_DIR]);
    // (mlmodel-get is not checked on the host: scripts/example installs it there.)
}
