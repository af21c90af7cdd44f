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
        // The directories every Debian system has (base-files): systemd-sysusers --root
        // (mlmodel-get's postinst) writes the user database in etc/, and a package's purge
        // leaves var/cache as it found it.
        for sub in ["var/log", "var/cache", "etc"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        DpkgRoot { dir }
    }

    /// An installation holding the shared runtime, installed from the `mlmodel-get` package
    /// this tree builds: its postinst creates the system user `_mlmodel` in the installation's
    /// `etc/passwd`. The root is readable by all (not a private 0700 temporary directory), as `/`
    /// is, so that a helper run by root can do its work there as that user.
    pub fn with_runtime() -> DpkgRoot {
        let root = DpkgRoot::new();
        make_world_readable(root.path());
        // Its Depends (curl | wget, ca-certificates, systemd-sysusers) are programs of this
        // system, which a chrootless postinst and the helpers run.
        root.install(runtime_deb(), &["--force-depends"], &[]);
        root
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

    /// The uid of `user` in this installation's `etc/passwd`.
    pub fn user_uid(&self, user: &str) -> u32 {
        let passwd = std::fs::read_to_string(self.join("/etc/passwd")).unwrap_or_default();
        let line = passwd
            .lines()
            .find(|l| l.starts_with(&format!("{user}:")))
            .unwrap_or_else(|| panic!("no {user} in etc/passwd:\n{passwd}"));
        line.split(':').nth(2).unwrap().parse().unwrap()
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

/// Opens the directory `dir` to every user (mode 0755), as a system directory is, so that a
/// helper run by root can hand it to the system user it works as.
pub fn make_world_readable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The shared runtime of the helpers in this tree, as `mlmodel-get` installs it.
pub fn runtime_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("share/mlmodel-get/runtime.sh")
}

/// [`runtime_script`] where every user can read it ([`for_every_user`]), for a helper to run.
pub fn runtime_for_every_user() -> PathBuf {
    for_every_user(&runtime_script())
}

/// This tree's `dh-mlmodel`, where every user can run it ([`for_every_user`]).
pub fn dh_mlmodel_binary() -> PathBuf {
    for_every_user(assert_cmd::cargo::cargo_bin!("dh-mlmodel"))
}

/// `file` itself when every user can read it, or else a copy (a hard link when its own mode
/// allows) in a directory open to all, one per checkout ([`staging_dir`]). A helper run by
/// root works as the system user `_mlmodel`, who cannot reach into a private checkout (a 0700
/// directory above the tree, as `mktemp -d` makes).
pub fn for_every_user(file: &Path) -> PathBuf {
    use std::collections::HashMap;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::{Mutex, OnceLock};
    static STAGED: OnceLock<Mutex<HashMap<PathBuf, PathBuf>>> = OnceLock::new();

    let mode = |path: &Path| std::fs::metadata(path).map_or(0, |m| m.permissions().mode());
    let file_mode = mode(file);
    let file_open = file_mode & 0o004 != 0;
    let reachable = file
        .ancestors()
        .skip(1)
        .filter(|dir| !dir.as_os_str().is_empty())
        .all(|dir| mode(dir) & 0o001 != 0);
    if file_open && reachable {
        return file.to_path_buf();
    }
    let mut staged = STAGED
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(copy) = staged.get(file) {
        return copy.clone();
    }
    let dir = staging_dir();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let partial = dir.join(format!(".{name}.{}", std::process::id()));
    let _ = std::fs::remove_file(&partial);
    if !(file_open && std::fs::hard_link(file, &partial).is_ok()) {
        std::fs::copy(file, &partial).unwrap();
        let open = if file_mode & 0o100 != 0 { 0o755 } else { 0o644 };
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(open)).unwrap();
    }
    let copy = dir.join(name);
    std::fs::rename(&partial, &copy).unwrap();
    staged.insert(file.to_path_buf(), copy.clone());
    copy
}

/// `dh-mlmodel-tests/<checkout>/` in the system's temporary directory, open to all, naming its
/// checkout in a `checkout` file. The directories of checkouts that no longer exist (a CI
/// clone, removed after its run) are removed first, so runs leave one copy per live checkout.
fn staging_dir() -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let open = |dir: &Path| {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    let base = std::env::temp_dir().join("dh-mlmodel-tests");
    open(&base);
    for entry in std::fs::read_dir(&base).unwrap().flatten() {
        let recorded = std::fs::read_to_string(entry.path().join("checkout"));
        if recorded.is_ok_and(|checkout| !Path::new(checkout.trim_end()).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let checkout = env!("CARGO_MANIFEST_DIR");
    let dir = base.join(&dh_mlmodel::hash::sha256_bytes(checkout.as_bytes())[..12]);
    open(&dir);
    // Whole or absent, for another run reading it at the same time.
    let partial = dir.join(format!(".checkout.{}", std::process::id()));
    std::fs::write(&partial, format!("{checkout}\n")).unwrap();
    std::fs::rename(&partial, dir.join("checkout")).unwrap();
    dir
}

/// A copy of the repository's files (not its build products) at `dir/dh-mlmodel`.
pub fn copy_of_the_tree(dir: &Path) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dest = dir.join("dh-mlmodel");
    std::fs::create_dir_all(&dest).unwrap();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(
            "tar -C \"$1\" --exclude=./target --exclude=./.git --exclude=./debian/cargo-target \
             --exclude=./debian/generated -cf - . | tar -C \"$2\" -xf -",
        )
        .args(["sh"])
        .arg(repo)
        .arg(&dest)
        .status()
        .unwrap();
    assert!(status.success());
    dest
}

/// The `mlmodel-get` package of this tree, built once per test run with
/// `dpkg-buildpackage -A` (the architecture-independent packages only, which need no cargo: a
/// second or two) from a copy of the tree.
pub fn runtime_deb() -> &'static Path {
    static DEB: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DEB.get_or_init(|| {
        // In cargo's scratch directory for tests (target/tmp), not the system's: the file is
        // used by every test that installs the runtime, until the run ends.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mlmodel-get-deb");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let tree = copy_of_the_tree(&dir);
        let output = std::process::Command::new("dpkg-buildpackage")
            .args(["-us", "-uc", "-A"])
            .current_dir(&tree)
            .env("PATH", DEBIAN_PATH)
            .env_remove("MAKEFLAGS")
            .env_remove("MAKELEVEL")
            .env_remove("DEB_BUILD_OPTIONS")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "dpkg-buildpackage -A:\n{}",
            combined_output(&output)
        );
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("mlmodel-get_")
            })
            .expect("dpkg-buildpackage -A built no mlmodel-get .deb")
    })
}

/// The numeric owner of `path`.
pub fn owner(path: &Path) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).unwrap().uid()
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

/// Checks an SPDX 3.0.1 JSON-LD document with an independent implementation: the
/// `spdx-python-model` bindings (generated from the SPDX model; `scripts/setup` installs them in
/// a virtual environment under `target/spdx-venv`, or `DH_MLMODEL_SPDX_VENV`) deserialise it,
/// which refuses unknown properties and types, and serialise it again, which refuses a missing
/// required property. Returns the number of objects read.
pub fn assert_valid_spdx(document: &Path) -> usize {
    let venv = std::env::var_os("DH_MLMODEL_SPDX_VENV").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/spdx-venv"),
        PathBuf::from,
    );
    let python = venv.join("bin/python");
    assert!(
        python.is_file(),
        "the SPDX validator is missing: {} does not exist; run scripts/setup, which installs \
         spdx-python-model into {}",
        python.display(),
        venv.display()
    );
    const CHECK: &str = r#"
import io, sys
from spdx_python_model import v3_0_1 as spdx
objects = spdx.SHACLObjectSet()
with open(sys.argv[1]) as f:
    spdx.JSONLDDeserializer().read(f, objects)
spdx.JSONLDSerializer().write(objects, io.BytesIO())
print(len(objects.objects))
"#;
    let output = std::process::Command::new(&python)
        .args(["-c", CHECK])
        .arg(document)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "spdx-python-model refuses {}:\n{}",
        document.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

/// Asserts that a command succeeded, showing what it printed when it did not.
pub fn assert_success(output: &std::process::Output) {
    assert!(
        output.status.success(),
        "the command failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
