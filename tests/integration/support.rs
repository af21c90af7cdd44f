//! Helpers shared by the test modules: running the binary, temporary trees, a private dpkg
//! installation.

use std::path::{Path, PathBuf};

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
/// tree that holds every file its models list, as an upstream tree with committed weights
/// does); returns the exit code, the parsed report (`Null` when none) and stderr.
pub fn classify_text(text: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let tree = tempfile::tempdir().unwrap();
    write(tree.path(), "debian/mlmodel.toml", text);
    write_listed_files(tree.path(), text);
    classify_tree(tree.path(), extra)
}

/// Writes a small file at each path the `files` of the manifest `text` list (when it parses).
pub fn write_listed_files(root: &Path, text: &str) {
    let Ok(manifest) = text.parse::<toml::Table>() else {
        return;
    };
    let models = manifest.get("model").and_then(|m| m.as_array());
    for model in models.into_iter().flatten() {
        let files = model.get("files").and_then(|f| f.as_array());
        for file in files.into_iter().flatten().filter_map(|f| f.as_str()) {
            if !file.contains("..") && !file.starts_with('/') && !file.is_empty() {
                write(root, file, b"bar\n");
            }
        }
    }
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

/// The directory holding the freshly built binaries (`dh-mlmodel`, `dh_mlmodel`).
pub fn bin_dir() -> std::path::PathBuf {
    std::path::Path::new(assert_cmd::cargo::cargo_bin!("dh_mlmodel"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A command that sees the freshly built tools and the sequence add-on from the tree, the way a
/// package build would with dh-mlmodel installed: our binaries first on PATH, then Debian's own
/// (not a Python from elsewhere without python3-numpy), and `PERL5LIB` for
/// Debian::Debhelper::Sequence::mlmodel.
pub fn packaging_command(program: &str, dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(program);
    command
        .current_dir(dir)
        .env(
            "PATH",
            format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", bin_dir().display()),
        )
        .env(
            "PERL5LIB",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("perl"),
        )
        .env_remove("DH_VERBOSE")
        .env_remove("DH_OPTIONS")
        .env_remove("DH_INTERNAL_OPTIONS")
        .env_remove("DEB_BUILD_PROFILES")
        .env_remove("MAKEFLAGS")
        .env_remove("MAKELEVEL");
    command
}

/// Runs `dpkg-buildpackage -us -uc -b -d` in `dir`; returns (success, combined output).
pub fn dpkg_buildpackage(dir: &Path) -> (bool, String) {
    let output = packaging_command("dpkg-buildpackage", dir)
        .args(["-us", "-uc", "-b", "-d"])
        .output()
        .unwrap();
    let text = combined_output(&output);
    (output.status.success(), text)
}

/// The `.deb` files `dpkg-buildpackage` wrote next to `dir`, by package name.
pub fn built_debs(dir: &Path) -> std::collections::BTreeMap<String, std::path::PathBuf> {
    std::fs::read_dir(dir.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .map(|p| {
            (
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .split('_')
                    .next()
                    .unwrap()
                    .to_string(),
                p,
            )
        })
        .collect()
}

/// Runs lintian on `paths` and asserts it reports no errors; returns its output.
pub fn assert_lintian_clean(paths: &[std::path::PathBuf]) -> String {
    let output = std::process::Command::new("lintian")
        .args(["--fail-on", "error", "--no-tag-display-limit"])
        .args(paths)
        .output()
        .unwrap();
    let text = combined_output(&output);
    assert!(output.status.success(), "lintian reported errors:\n{text}");
    text
}

/// Unpacks a `.deb`'s files into a new temporary directory.
pub fn unpack_deb(deb: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("dpkg-deb")
        .arg("-x")
        .arg(deb)
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

/// One control field of a `.deb`.
pub fn deb_field(deb: &Path, field: &str) -> String {
    let output = std::process::Command::new("dpkg-deb")
        .arg("-f")
        .arg(deb)
        .arg(field)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "dpkg-deb -f {}: {}",
        deb.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A finished command's standard output followed by its standard error.
pub fn combined_output(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The `field` of every missing fact `classify --json` lists for `model`.
pub fn missing_fields(model: &serde_json::Value) -> Vec<&str> {
    model["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["field"].as_str().unwrap())
        .collect()
}

/// Debian's own `PATH`: its tools and `python3`, not a developer's overrides.
pub const DEBIAN_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// Whether the tests run as root.
pub fn running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false)
}

/// A private dpkg installation in a temporary directory, so that tests install and remove
/// packages without root and without touching the host's `/var/lib/dpkg` or `/var/log/dpkg.log`:
/// `dpkg --root=DIR` keeps its database in `DIR/var/lib/dpkg`, and `--log` keeps its log in
/// `DIR/var/log`. Maintainer scripts run without chroot(2) (`--force-script-chrootless`), as
/// this system's programs with `DPKG_ROOT=DIR`, which is how they must find their paths.
/// `--force-not-root` lets an ordinary user do all this in a directory of their own.
pub struct DpkgRoot {
    dir: tempfile::TempDir,
}

impl DpkgRoot {
    /// An empty installation: an empty database (`status`, `available`, `info/`, `updates/`,
    /// `triggers/`) and a `var/log` for dpkg's log.
    pub fn new() -> DpkgRoot {
        let dir = tempfile::tempdir().unwrap();
        let admin = dir.path().join("var/lib/dpkg");
        for sub in ["info", "updates", "triggers"] {
            std::fs::create_dir_all(admin.join(sub)).unwrap();
        }
        for file in ["status", "available"] {
            std::fs::write(admin.join(file), "").unwrap();
        }
        std::fs::create_dir_all(dir.path().join("var/log")).unwrap();
        DpkgRoot { dir }
    }

    /// The root directory, the value of `DPKG_ROOT` for this installation.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where the installation's absolute path `path` is on this system.
    pub fn join(&self, path: &str) -> PathBuf {
        self.dir.path().join(path.trim_start_matches('/'))
    }

    /// `dpkg` acting on this installation, with Debian's `PATH` (dpkg wants `ldconfig` and
    /// `start-stop-daemon` on it) and none of the caller's dpkg settings.
    pub fn dpkg(&self) -> std::process::Command {
        let mut command = std::process::Command::new("dpkg");
        command
            .arg(format!("--root={}", self.path().display()))
            .arg(format!(
                "--log={}",
                self.join("/var/log/dpkg.log").display()
            ))
            .arg("--force-script-chrootless")
            .env("PATH", DEBIAN_PATH)
            .env_remove("DPKG_ROOT")
            .env_remove("DPKG_ADMINDIR")
            .env_remove("DPKG_FORCE");
        if !running_as_root() {
            command.arg("--force-not-root");
        }
        command
    }

    /// `dpkg OPTIONS… -i DEB` on this installation with `env` added; asserts that it
    /// succeeded and returns its output.
    pub fn install(
        &self,
        deb: &Path,
        options: &[&str],
        env: &[(&str, &str)],
    ) -> std::process::Output {
        let mut command = self.dpkg();
        command
            .args(options)
            .arg("-i")
            .arg(deb)
            .envs(env.iter().copied());
        self.succeed(command)
    }

    /// `dpkg -r PACKAGE` on this installation; asserts that it succeeded.
    pub fn remove(&self, package: &str) {
        let mut command = self.dpkg();
        command.args(["-r", package]);
        self.succeed(command);
    }

    fn succeed(&self, mut command: std::process::Command) -> std::process::Output {
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{command:?}:\n{}",
            combined_output(&output)
        );
        output
    }

    /// The `${db:Status-Status} ${Version}` of `package` in this installation ("" if unknown).
    pub fn status(&self, package: &str) -> String {
        let output = std::process::Command::new("dpkg-query")
            .arg(format!("--root={}", self.path().display()))
            .args(["-W", "-f", "${db:Status-Status} ${Version}", package])
            .env_remove("DPKG_ROOT")
            .env_remove("DPKG_ADMINDIR")
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

/// Asserts that the host's dpkg database does not have `package` installed and that `paths` do
/// not exist on the host: what a test did in a [`DpkgRoot`] stayed there.
pub fn assert_host_untouched(package: &str, paths: &[&str]) {
    let output = std::process::Command::new("dpkg-query")
        .args(["-W", "-f", "${db:Status-Status}", package])
        .env_remove("DPKG_ROOT")
        .env_remove("DPKG_ADMINDIR")
        .output()
        .unwrap();
    assert_ne!(
        String::from_utf8_lossy(&output.stdout),
        "installed",
        "{package} is installed on the host"
    );
    for path in paths {
        assert!(!Path::new(path).exists(), "{path} exists on the host");
    }
}
