//! The generated `get-<weights-pkg>` helper, run under `dash` against the loopback server in
//! `http_server`, with real `curl`, `dpkg-deb`, `lintian`, `shellcheck`, and real CPU training
//! with Debian's `python3-numpy` and `python3-torch`.
//!
//! The loopback server speaks plain http, so download specs set `allow_http = true`; the https
//! policy is tested separately: an http URL under `allow_http = false` is refused before any
//! request, and a redirect from a real TLS endpoint (`openssl s_server`) to plain http is refused
//! by curl's `--proto-redir =https`.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use dh_mlmodel::hash::{sha256_bytes, sha256_file};
use dh_mlmodel::helper::{DataSource, HelperSpec, Training, WeightFile, render};

use crate::http_server::{Fault, Server};
use crate::support::{
    DEBIAN_PATH, DpkgRoot, assert_host_untouched, assert_lintian_clean, assert_success, deb_field,
    dh_mlmodel_binary, make_world_readable, owner, running_as_root, runtime_for_every_user,
    runtime_script, unpack_deb,
};

const PKG: &str = "demo-model-tiny";
const WEIGHTS_PATH: &str = "tiny.bin";

fn weights_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn spec_for(package: &str, files: Vec<WeightFile>) -> HelperSpec {
    HelperSpec {
        weights_package: package.to_owned(),
        installer_package: format!("{package}-installer"),
        version: "1.0".to_owned(),
        maintainer: "Debian Science Team <debian-science-maintainers@lists.alioth.debian.org>"
            .to_owned(),
        summary: "tiny demonstration model weights".to_owned(),
        description: "Weights of a tiny model used to test dh-mlmodel.\n\nBuilt locally."
            .to_owned(),
        section: "science".to_owned(),
        homepage: Some("https://example.org/tiny".to_owned()),
        license: "Apache-2.0".to_owned(),
        license_text: "On Debian systems, the complete text of the Apache License 2.0 can be\nfound in /usr/share/common-licenses/Apache-2.0.".to_owned(),
        copyright: "2024 Example Authors <authors@example.org>".to_owned(),
        release_epoch: 1_700_000_000,
        install_dir: format!("/usr/share/{package}/models"),
        files,
        allow_http: true,
        training: None,
        postinst_auto_download: false,
        bom: None,
    }
}

fn download_spec(body: &[u8], urls: Vec<String>) -> HelperSpec {
    spec_for(
        PKG,
        vec![WeightFile {
            path: WEIGHTS_PATH.to_owned(),
            sha256: sha256_bytes(body),
            size: body.len() as u64,
            urls,
            training_output: None,
        }],
    )
}

/// A scratch home for one helper: rendered script, cache, output and temp directories.
struct Sandbox {
    dir: tempfile::TempDir,
    spec: HelperSpec,
}

impl Sandbox {
    fn new(spec: HelperSpec) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let script = render(&spec).unwrap();
        std::fs::write(dir.path().join("get-helper"), script).unwrap();
        for sub in ["cache", "out", "tmp"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        Sandbox { dir, spec }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The helper run by a user (`id -u` says 1000, see [`Sandbox::command_as`]), with the
    /// tree's runtime.
    fn command(&self, args: &[&str]) -> Command {
        self.command_as(1000, args)
    }

    /// The helper under `dash` with this sandbox's directories and the runtime of this tree
    /// (`MLMODEL_GET_RUNTIME`), as whoever runs the tests.
    fn base_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("dash");
        command
            .arg(self.path("get-helper"))
            .args(args)
            .current_dir(self.dir.path())
            .env("MLMODEL_GET_RUNTIME", runtime_for_every_user())
            // dh-mlmodel of this tree writes the SPDX documents (`sbom`).
            .env("MLMODEL_DH_MLMODEL", dh_mlmodel_binary())
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("TMPDIR", self.path("tmp"))
            .env("MLMODEL_RETRY_DELAY", "0")
            .env("MLMODEL_PROGRESS_INTERVAL", "1")
            // A user's ordinary PATH: Debian's python3 and tools, not a developer's overrides.
            .env("PATH", DEBIAN_PATH)
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .env_remove("HTTPS_PROXY")
            .env_remove("all_proxy");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// `base_command(args)` with an `id` first on PATH that reports `uid` for `id -u`, so the
    /// script takes its path for root (0) or for a user (any other) whoever runs the tests.
    fn command_as(&self, uid: u32, args: &[&str]) -> Command {
        let bin = self.path(&format!("uid-{uid}"));
        if !bin.exists() {
            std::fs::create_dir(&bin).unwrap();
            let id = bin.join("id");
            std::fs::write(
                &id,
                format!(
                    "#!/bin/sh\nif [ \"$*\" = -u ]; then echo {uid}; else exec /usr/bin/id \"$@\"; fi\n"
                ),
            )
            .unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&id, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let mut command = self.base_command(args);
        command.env("PATH", format!("{}:{DEBIAN_PATH}", bin.display()));
        command
    }

    /// Runs the helper as a user (`id -u` says 1000) on the installation `root` (`DPKG_ROOT`).
    fn run_in(&self, root: &DpkgRoot, args: &[&str]) -> Output {
        self.command_as(1000, args)
            .env("DPKG_ROOT", root.path())
            .output()
            .unwrap()
    }

    fn deb(&self) -> PathBuf {
        self.path("out").join(self.spec.deb_file_name())
    }

    fn cache_entry(&self, sha256: &str) -> PathBuf {
        self.path("cache/dh-mlmodel/sha256").join(sha256)
    }

    /// No .deb, no cache entry under the digest, no temporary directory left behind, and the
    /// message names `cause`.
    fn assert_failed_cleanly(&self, output: &Output, cause: &str) {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "expected failure:\n{stderr}");
        assert!(stderr.contains(cause), "message lacks {cause:?}:\n{stderr}");
        assert!(!self.deb().exists(), "a .deb was left behind");
        let out_entries: Vec<_> = std::fs::read_dir(self.path("out")).unwrap().collect();
        assert!(
            out_entries.is_empty(),
            "output dir not empty: {out_entries:?}"
        );
        for file in &self.spec.files {
            assert!(
                !self.cache_entry(&file.sha256).exists(),
                "unverified bytes under the digest name"
            );
        }
        let tmp_entries: Vec<_> = std::fs::read_dir(self.path("tmp")).unwrap().collect();
        assert!(
            tmp_entries.is_empty(),
            "temporary files left: {tmp_entries:?}"
        );
    }
}

/// Extracts `deb` and returns the bytes installed at `path`.
fn deb_file(deb: &Path, path: &str) -> Vec<u8> {
    let dir = unpack_deb(deb);
    std::fs::read(dir.path().join(path.trim_start_matches('/'))).unwrap()
}

/// shellcheck on a script, following what it sources (`-x`): a helper's
/// `# shellcheck source=mlmodel-get/runtime.sh` is found in this tree's `share/`, so the
/// helper's data and the runtime's uses of it are checked together.
pub(crate) fn assert_shellcheck_clean(path: &Path) {
    let share = runtime_script();
    let share = share.parent().unwrap().parent().unwrap();
    let output = Command::new("shellcheck")
        .args(["--shell=sh", "--severity=style", "-x"])
        .arg(format!("--source-path={}", share.display()))
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "shellcheck:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn download_builds_a_verified_reproducible_lintian_clean_deb() {
    let server = Server::start();
    let body = weights_bytes(10_000);
    server.serve("/w.bin", &body);
    let sandbox = Sandbox::new(download_spec(&body, vec![server.url("/w.bin")]));

    assert_success(&sandbox.run(&["--download", "--output", "out"]));
    let deb = sandbox.deb();
    assert_eq!(deb_field(&deb, "Package"), PKG);
    assert_eq!(deb_field(&deb, "Version"), "1.0-0+local1");
    assert_eq!(deb_field(&deb, "Architecture"), "all");
    assert_eq!(deb_field(&deb, "X-Mlmodel-Origin"), "downloaded");
    let installed = format!("/usr/share/{PKG}/models/{WEIGHTS_PATH}");
    assert_eq!(deb_file(&deb, &installed), body);
    let provenance: serde_json::Value = serde_json::from_slice(&deb_file(
        &deb,
        &format!("/usr/share/doc/{PKG}/provenance.json"),
    ))
    .unwrap();
    assert_eq!(provenance["origin"], "downloaded");
    assert_eq!(provenance["files"][0]["matches_pin"], true);
    assert!(sandbox.cache_entry(&sha256_bytes(&body)).is_file());
    assert_lintian_clean(&[deb.to_path_buf()]);

    // Second run: served from the verified cache, no request, the very same bytes.
    let first = std::fs::read(&deb).unwrap();
    std::fs::remove_file(&deb).unwrap();
    assert_success(&sandbox.run(&["--output", "out"]));
    assert_eq!(std::fs::read(&deb).unwrap(), first);
    assert_eq!(server.requests().len(), 1);

    // On this system, installing needs root: a user is refused before dpkg runs.
    let refused = sandbox
        .command_as(1000, &["--install", "--output", "out"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("installing needs root"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // In a private installation (DPKG_ROOT) a user installs, checks and removes with
    // dpkg --root --force-not-root, and this system is left alone.
    let root = DpkgRoot::new();
    assert_success(&sandbox.run_in(&root, &["--install", "--output", "out"]));
    assert_eq!(root.status(PKG), "installed 1.0-0+local1");
    assert_eq!(std::fs::read(root.join(&installed)).unwrap(), body);
    let log = std::fs::read_to_string(root.join("/var/log/dpkg.log")).unwrap();
    assert!(log.contains(&format!("install {PKG}:all")), "{log}");
    assert_host_untouched(PKG, &[&installed]);
    let verify = sandbox.run_in(&root, &["--verify"]);
    assert_success(&verify);
    assert!(String::from_utf8_lossy(&verify.stderr).contains("all files match the published pins"));
    let on_host = sandbox.run(&["--verify"]);
    assert!(!on_host.status.success());
    assert!(String::from_utf8_lossy(&on_host.stderr).contains(&format!("MISSING  {installed}")));
    let status = sandbox.run_in(&root, &["--status", "--output", "out"]);
    assert_success(&status);
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.contains("1.0-0+local1 is installed (origin: downloaded)"),
        "{status}"
    );
    assert!(status.contains("tiny.bin: cached"), "{status}");
    assert_success(&sandbox.run_in(&root, &["--remove"]));
    assert!(!root.status(PKG).starts_with("installed"));
    assert!(!root.join(&installed).exists());
}

#[test]
fn usage_and_bad_arguments() {
    let sandbox = Sandbox::new(download_spec(&weights_bytes(10), Vec::new()));
    let help = sandbox.run(&["--help"]);
    assert_success(&help);
    assert!(String::from_utf8_lossy(&help.stdout).contains("--from DIR"));
    let bad = sandbox.run(&["--frobnicate"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown argument: --frobnicate"));
    let both = sandbox.run(&["--download", "--verify"]);
    assert_eq!(both.status.code(), Some(2));
    // No URL pinned and no recipe: the only way is --from.
    let none = sandbox.run(&["--output", "out"]);
    sandbox.assert_failed_cleanly(&none, "use --from DIR");
    // A runtime that cannot be read: the package to install, and who tried to read it.
    let missing = sandbox
        .command(&["--output", "out"])
        .env(
            "MLMODEL_GET_RUNTIME",
            sandbox.dir.path().join("no-runtime.sh"),
        )
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap();
    assert!(
        stderr.contains("no-runtime.sh is missing, or user ")
            && stderr.contains(user.trim())
            && stderr.contains("apt install mlmodel-get"),
        "{stderr}"
    );
}

#[test]
fn rendered_scripts_pass_shellcheck() {
    let dir = tempfile::tempdir().unwrap();
    let body = weights_bytes(10);
    let mut spec = download_spec(
        &body,
        vec!["https://example.org/it's_quoted.bin".to_owned()],
    );
    spec.training = Some(numpy_training(
        dir.path(),
        "https://example.org/d.csv",
        &sha256_bytes(b"x"),
        1,
    ));
    spec.files[0].training_output = Some("weights.npy".to_owned());
    // Manifest values holding `$`, backquotes, quotes and backslashes: each is one shell word
    // whatever it holds, and shellcheck (SC2016, SC1003) finds nothing to flag.
    let nasty = "$HOME `id` 'single' \"double\" back\\slash ${X}";
    let mut hostile = spec.clone();
    hostile.files[0].urls = vec![format!(
        "https://example.org/{}.bin",
        nasty.replace(' ', "")
    )];
    hostile.description = format!("Weights.\n\nCosts {nasty}.");
    hostile.summary = format!("weights {nasty}");
    if let Some(training) = hostile.training.as_mut() {
        training.command = format!(
            "{} --note '{nasty}' && awk '{{print $1}}' /dev/null",
            training.command
        );
    }
    for (name, spec) in [
        ("with-training", spec.clone()),
        ("download-only", download_spec(&body, vec![])),
        ("hostile-values", hostile),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, render(&spec).unwrap()).unwrap();
        assert_shellcheck_clean(&path);
        let syntax = Command::new("dash").arg("-n").arg(&path).output().unwrap();
        assert!(syntax.status.success(), "dash -n {name}: {syntax:?}");
    }
    // The shared runtime on its own, as mlmodel-get installs it.
    assert_shellcheck_clean(&runtime_script());
    let syntax = Command::new("dash")
        .arg("-n")
        .arg(runtime_script())
        .output()
        .unwrap();
    assert!(syntax.status.success(), "dash -n runtime.sh: {syntax:?}");
}

#[test]
fn corrupted_bytes_are_refused_with_both_digests() {
    let server = Server::start();
    let body = weights_bytes(4096);
    let mut corrupted = body.clone();
    corrupted[100] ^= 0xff;
    server.serve("/w.bin", &corrupted);
    let sandbox = Sandbox::new(download_spec(&body, vec![server.url("/w.bin")]));
    let output = sandbox.run(&["--download", "--output", "out"]);
    sandbox.assert_failed_cleanly(&output, "SHA-256 mismatch");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&sha256_bytes(&body)));
    assert!(stderr.contains(&sha256_bytes(&corrupted)));
}

#[test]
fn truncated_body_is_retried_then_reported() {
    let server = Server::start();
    let body = weights_bytes(4096);
    // The server holds half the file but claims the whole length, on every request.
    server.route(
        "/w.bin",
        &body[..2048],
        Vec::new(),
        Some(Fault::ClaimSize(4096)),
    );
    let sandbox = Sandbox::new(download_spec(&body, vec![server.url("/w.bin")]));
    let output = sandbox.run(&["--download", "--output", "out"]);
    sandbox.assert_failed_cleanly(&output, "truncated");
    assert_eq!(server.requests().len(), 4, "bounded retries");
}

#[test]
fn wrong_size_is_refused() {
    let server = Server::start();
    let body = weights_bytes(4096);
    server.serve("/w.bin", &weights_bytes(5000));
    let sandbox = Sandbox::new(download_spec(&body, vec![server.url("/w.bin")]));
    let output = sandbox.run(&["--download", "--output", "out"]);
    sandbox.assert_failed_cleanly(&output, "size mismatch: 5000 bytes, the pin says 4096");
}

#[test]
fn http_404_is_not_retried_and_mirrors_are_tried_in_order() {
    let server = Server::start();
    let body = weights_bytes(4096);
    let sandbox = Sandbox::new(download_spec(
        &body,
        vec![server.url("/gone.bin"), server.url("/also-gone.bin")],
    ));
    let output = sandbox.run(&["--download", "--output", "out"]);
    sandbox.assert_failed_cleanly(&output, "HTTP 404");
    let paths: Vec<_> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/gone.bin", "/also-gone.bin"]);

    // A working mirror after a dead one is used.
    server.serve("/mirror.bin", &body);
    let sandbox = Sandbox::new(download_spec(
        &body,
        vec![server.url("/gone.bin"), server.url("/mirror.bin")],
    ));
    assert_success(&sandbox.run(&["--download", "--output", "out"]));
}

#[test]
fn http_500_is_retried() {
    let server = Server::start();
    let body = weights_bytes(4096);
    server.route("/w.bin", &body, vec![Fault::Status(500)], None);
    let sandbox = Sandbox::new(download_spec(&body, vec![server.url("/w.bin")]));
    let output = sandbox.run(&["--download", "--output", "out"]);
    assert_success(&output);
    assert!(String::from_utf8_lossy(&output.stderr).contains("HTTP 500"));
    assert_eq!(server.requests().len(), 2);
    assert!(sandbox.deb().is_file());
}

#[test]
fn dropped_connection_resumes_with_range() {
    let server = Server::start();
    let body = weights_bytes(100_000);
    server.route("/w.bin", &body, vec![Fault::DropAfter(30_000)], None);
    let sandbox = Sandbox::new(download_spec(&body, vec![server.url("/w.bin")]));
    assert_success(&sandbox.run(&["--download", "--output", "out"]));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].range_start, None);
    assert_eq!(requests[1].range_start, Some(30_000));
    assert_eq!(
        deb_file(
            &sandbox.deb(),
            &format!("/usr/share/{PKG}/models/{WEIGHTS_PATH}")
        ),
        body
    );
}

#[test]
fn resumes_with_wget_too() {
    let server = Server::start();
    let body = weights_bytes(100_000);
    server.route("/w.bin", &body, vec![Fault::DropAfter(30_000)], None);
    let sandbox = Sandbox::new(download_spec(&body, vec![server.url("/w.bin")]));
    let output = sandbox
        .command(&["--download", "--output", "out"])
        .env("MLMODEL_DOWNLOADER", "wget")
        .output()
        .unwrap();
    assert_success(&output);
    assert_eq!(server.requests()[1].range_start, Some(30_000));
}

#[test]
fn redirects_are_followed_within_the_allowed_schemes() {
    let server = Server::start();
    let body = weights_bytes(4096);
    server.serve("/real.bin", &body);
    server.route(
        "/w.bin",
        b"",
        Vec::new(),
        Some(Fault::Redirect(server.url("/real.bin"))),
    );
    let sandbox = Sandbox::new(download_spec(&body, vec![server.url("/w.bin")]));
    assert_success(&sandbox.run(&["--download", "--output", "out"]));
    let paths: Vec<_> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/w.bin", "/real.bin"]);
}

#[test]
fn plain_http_is_refused_unless_allowed() {
    let server = Server::start();
    let body = weights_bytes(4096);
    server.serve("/w.bin", &body);
    let mut spec = download_spec(&body, vec![server.url("/w.bin")]);
    spec.allow_http = false;
    let sandbox = Sandbox::new(spec);
    let output = sandbox.run(&["--download", "--output", "out"]);
    sandbox.assert_failed_cleanly(&output, "refusing plain-http URL");
    assert!(server.requests().is_empty(), "no byte fetched");
}

/// A TLS endpoint: `openssl s_server` relays the decrypted request of the first connection that
/// sends one (the readiness probe sends nothing) to us and our reply back to the client, so a real https URL can redirect to the plain-http loopback server.
#[test]
fn redirect_from_https_to_http_is_refused() {
    let server = Server::start();
    let body = weights_bytes(4096);
    server.serve("/w.bin", &body);
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut tls = Command::new("openssl")
        .args(["s_server", "-quiet"])
        .args(["-accept", &format!("127.0.0.1:{port}")])
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut tls_in = tls.stdin.take().unwrap();
    let tls_out = tls.stdout.take().unwrap();
    let redirect_to = server.url("/w.bin");
    let relay = std::thread::spawn(move || {
        let mut lines = BufReader::new(tls_out);
        let mut line = String::new();
        while lines.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
            line.clear();
        }
        let _ = write!(
            tls_in,
            "HTTP/1.1 302 Found\r\nLocation: {redirect_to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let _ = tls_in.flush();
    });
    wait_for_port(port);

    let mut spec = download_spec(&body, vec![format!("https://127.0.0.1:{port}/w.bin")]);
    spec.allow_http = false;
    let sandbox = Sandbox::new(spec);
    let output = sandbox
        .command(&["--download", "--output", "out"])
        .env("CURL_CA_BUNDLE", &cert)
        .env("MLMODEL_DOWNLOADER", "curl")
        .output()
        .unwrap();
    let _ = tls.kill();
    let _ = tls.wait();
    let _ = relay.join();
    sandbox.assert_failed_cleanly(&output, "refused: a redirect or URL left https");
    assert!(
        server.requests().is_empty(),
        "the http target was never contacted"
    );
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "openssl s_server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn from_dir_works_offline_and_checks_the_files() {
    let body = weights_bytes(4096);
    // Port 9 on loopback: nothing listens, so any network use would fail.
    let spec = download_spec(&body, vec!["http://127.0.0.1:9/w.bin".to_owned()]);
    let sandbox = Sandbox::new(spec.clone());
    std::fs::create_dir(sandbox.path("have")).unwrap();
    std::fs::write(sandbox.path("have").join(WEIGHTS_PATH), &body).unwrap();
    assert_success(&sandbox.run(&["--from", "have", "--output", "out"]));
    assert_eq!(deb_field(&sandbox.deb(), "X-Mlmodel-Origin"), "downloaded");

    let sandbox = Sandbox::new(spec);
    std::fs::create_dir(sandbox.path("have")).unwrap();
    std::fs::write(sandbox.path("have").join(WEIGHTS_PATH), weights_bytes(4000)).unwrap();
    let output = sandbox.run(&["--from", "have", "--output", "out"]);
    sandbox.assert_failed_cleanly(&output, "size mismatch: 4000 bytes, the pin says 4096");
}

/// A helper whose one pinned file is served slowly (4 KiB every 40 ms, 200,000 bytes), so a
/// test can act while a download is in progress: the server (kept alive by the caller), the
/// file's bytes and sha256, and the sandbox.
fn slow_download_sandbox() -> (Server, Vec<u8>, String, Sandbox) {
    let server = Server::start();
    let body = weights_bytes(200_000);
    server.route(
        "/w.bin",
        &body,
        Vec::new(),
        Some(Fault::Slow {
            chunk: 4096,
            delay: Duration::from_millis(40),
        }),
    );
    let spec = download_spec(&body, vec![server.url("/w.bin")]);
    let sha = spec.files[0].sha256.clone();
    let sandbox = Sandbox::new(spec);
    (server, body, sha, sandbox)
}

#[test]
fn interrupted_download_resumes_on_the_next_run() {
    let (server, body, sha, sandbox) = slow_download_sandbox();
    let mut child = {
        use std::os::unix::process::CommandExt;
        sandbox
            .command(&["--download", "--output", "out"])
            .process_group(0)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let part = sandbox.path(&format!("cache/dh-mlmodel/sha256/{sha}.part"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0) < 20_000 {
        assert!(Instant::now() < deadline, "download did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Ctrl-C reaches the whole foreground process group: the shell and curl.
    let status = Command::new("kill")
        .args(["-INT", "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let interrupted = Output {
        status,
        stdout: Vec::new(),
        stderr: stderr.into_bytes(),
    };
    sandbox.assert_failed_cleanly(&interrupted, "interrupted");
    let kept = std::fs::metadata(&part).unwrap().len();
    assert!(kept > 0 && kept < body.len() as u64);

    server.serve("/w.bin", &body);
    assert_success(&sandbox.run(&["--download", "--output", "out"]));
    assert_eq!(server.requests().last().unwrap().range_start, Some(kept));
    assert!(sandbox.cache_entry(&sha).is_file());
    assert!(!part.exists());
}

// --- training ----------------------------------------------------------------------------------

const NUMPY_TRAIN: &str = r#"
import os, sys
import numpy as np
data, out = sys.argv[1], sys.argv[2]
rows = np.loadtxt(os.path.join(data, "points.csv"), delimiter=",")
x = np.hstack([rows[:, :2], np.ones((rows.shape[0], 1))])
y = rows[:, 2]
rng = np.random.default_rng(int(os.environ["MLMODEL_SEED"]))
w = rng.normal(size=3) * 0.01
for _ in range(500):
    p = 1.0 / (1.0 + np.exp(-(x @ w)))
    w -= 0.5 * x.T @ (p - y) / len(y)
np.save(os.path.join(out, "weights.npy"), w)
print("trained", w)
"#;

fn points_csv() -> String {
    (0..40)
        .map(|i| {
            let a = (i % 7) as f64 - 3.0;
            let b = (i % 5) as f64 - 2.0;
            let label = u8::from(a + 0.5 * b > 0.0);
            format!("{a},{b},{label}\n")
        })
        .collect()
}

fn numpy_training(dir: &Path, data_url: &str, data_sha: &str, data_size: u64) -> Training {
    Training {
        command: format!(
            "python3 {} {{data}} {{out}}",
            dir.join("train.py").display()
        ),
        depends: vec!["python3-numpy".to_owned()],
        cpu_hours: 0.001,
        seed: 7,
        deterministic: true,
        data: vec![DataSource {
            name: "points".to_owned(),
            path: "points.csv".to_owned(),
            sha256: data_sha.to_owned(),
            size: data_size,
            urls: vec![data_url.to_owned()],
            package: None,
            package_path: None,
        }],
        program_dir: None,
    }
}

/// Runs the training script directly once, to learn the digest to pin.
fn reference_weights(dir: &Path, csv: &str, file: &str) -> (String, u64) {
    let data = dir.join("ref-data");
    let out = dir.join("ref-out");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(data.join("points.csv"), csv).unwrap();
    let status = Command::new("/usr/bin/python3")
        .arg(dir.join("train.py"))
        .arg(&data)
        .arg(&out)
        .env("MLMODEL_SEED", "7")
        .env("PYTHONHASHSEED", "0")
        .env("OMP_NUM_THREADS", "1")
        .status()
        .unwrap();
    assert!(status.success());
    sha256_file(&out.join(file)).unwrap()
}

#[test]
fn numpy_training_is_bit_reproducible() {
    let server = Server::start();
    let csv = points_csv();
    server.serve("/points.csv", csv.as_bytes());
    let scripts = tempfile::tempdir().unwrap();
    std::fs::write(scripts.path().join("train.py"), NUMPY_TRAIN).unwrap();
    let (sha, size) = reference_weights(scripts.path(), &csv, "weights.npy");

    let mut spec = spec_for(
        PKG,
        vec![WeightFile {
            path: "weights.npy".to_owned(),
            sha256: sha.clone(),
            size,
            urls: Vec::new(),
            training_output: Some("weights.npy".to_owned()),
        }],
    );
    spec.training = Some(numpy_training(
        scripts.path(),
        &server.url("/points.csv"),
        &sha256_bytes(csv.as_bytes()),
        csv.len() as u64,
    ));

    let mut debs = Vec::new();
    for _ in 0..2 {
        let sandbox = Sandbox::new(spec.clone());
        // No download is pinned for the weights, so training is the default mode.
        let output = sandbox.run(&["--force", "--output", "out"]);
        assert_success(&output);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("retrained bytes match the published pin"),
            "{stderr}"
        );
        let deb = sandbox.deb();
        assert_eq!(deb_field(&deb, "X-Mlmodel-Origin"), "retrained");
        let weights = deb_file(&deb, &format!("/usr/share/{PKG}/models/weights.npy"));
        assert_eq!(sha256_bytes(&weights), sha);
        let run_provenance: serde_json::Value = serde_json::from_slice(
            &std::fs::read(
                sandbox
                    .path("out")
                    .join(format!("{PKG}_1.0-0+local1_all.provenance.json")),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(run_provenance["files"][0]["matches_pin"], true);
        assert!(run_provenance["training"]["duration_seconds"].is_u64());
        assert!(run_provenance["training"]["tools"]["python3-numpy"].is_string());
        assert!(
            sandbox
                .path("out")
                .join(format!("{PKG}_1.0-0+local1_all.train.log"))
                .is_file()
        );
        assert_lintian_clean(&[deb.to_path_buf()]);
        debs.push(std::fs::read(&deb).unwrap());
    }
    assert!(debs[0] == debs[1], "two trainings gave different .debs");
}

/// Run by root, training runs as the system user `_mlmodel` (its uid in the installation's
/// `etc/passwd`, created there by mlmodel-get's postinst), never as root: the recipe's log shows
/// the uid it ran as, the cached training data is that user's, and the results copied to
/// `--output` are root's. Only root can change its user, so a run as a user checks nothing here
/// (the user's own path is every other test of this module).
#[test]
fn root_trains_as_the_system_user() {
    if !running_as_root() {
        eprintln!("root_trains_as_the_system_user: not root, nothing to drop");
        return;
    }
    let server = Server::start();
    let csv = points_csv();
    server.serve("/points.csv", csv.as_bytes());
    let scripts = tempfile::tempdir().unwrap();
    std::fs::write(scripts.path().join("train.py"), NUMPY_TRAIN).unwrap();
    make_world_readable(scripts.path());
    let (sha, size) = reference_weights(scripts.path(), &csv, "weights.npy");
    let mut spec = spec_for(
        PKG,
        vec![WeightFile {
            path: "weights.npy".to_owned(),
            sha256: sha.clone(),
            size,
            urls: Vec::new(),
            training_output: Some("weights.npy".to_owned()),
        }],
    );
    let mut training = numpy_training(
        scripts.path(),
        &server.url("/points.csv"),
        &sha256_bytes(csv.as_bytes()),
        csv.len() as u64,
    );
    training.command = format!("echo ran-as-uid $(id -u) && {}", training.command);
    spec.training = Some(training);
    let root = DpkgRoot::with_runtime();
    let uid = root.user_uid("_mlmodel");
    let sandbox = Sandbox::new(spec);
    make_world_readable(sandbox.dir.path());
    let output = sandbox
        .base_command(&["--train", "--output", "out"])
        .env("DPKG_ROOT", root.path())
        .output()
        .unwrap();
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("working as the system user _mlmodel (uid {uid})")),
        "{stderr}"
    );
    assert!(
        stderr.contains("retrained bytes match the published pin"),
        "{stderr}"
    );
    let log = std::fs::read_to_string(
        sandbox
            .path("out")
            .join(format!("{PKG}_1.0-0+local1_all.train.log")),
    )
    .unwrap();
    assert!(log.contains(&format!("ran-as-uid {uid}\n")), "{log}");
    let cached = root.join(&format!(
        "/var/cache/{PKG}-installer/dh-mlmodel/sha256/{}",
        sha256_bytes(csv.as_bytes())
    ));
    assert_eq!(owner(&cached), uid);
    assert_eq!(owner(&sandbox.deb()), 0);
    // Nothing of the system user's work is left but its cache.
    let work: Vec<_> = std::fs::read_dir(root.join(&format!("/var/cache/{PKG}-installer")))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(work, ["dh-mlmodel"], "work directories left behind");
}

/// Run as root, the helper works as the system user `_mlmodel`; where that user is missing (an
/// installation without mlmodel-get's user here, an empty private root) it refuses, unless
/// `--force` says to work as root. (The work as `_mlmodel` itself: `lifecycle`.)
#[test]
fn root_without_the_system_user_is_refused_unless_forced() {
    let scripts = tempfile::tempdir().unwrap();
    let mut spec = spec_for(
        PKG,
        vec![WeightFile {
            path: "weights.npy".to_owned(),
            sha256: sha256_bytes(b"x"),
            size: 1,
            urls: Vec::new(),
            training_output: Some("weights.npy".to_owned()),
        }],
    );
    spec.training = Some(numpy_training(
        scripts.path(),
        "http://127.0.0.1:9/p.csv",
        &sha256_bytes(b"x"),
        1,
    ));
    let sandbox = Sandbox::new(spec);
    let no_user = DpkgRoot::new();
    for mode in ["--train", "--download"] {
        let output = sandbox
            .command_as(0, &[mode, "--output", "out"])
            .env("DPKG_ROOT", no_user.path())
            .output()
            .unwrap();
        sandbox.assert_failed_cleanly(
            &output,
            "refusing to download or train as root, and the system user _mlmodel is missing",
        );
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("pass --force to work as root"),
            "{output:?}"
        );
    }
    // A user is not refused, nor root with --force: the run goes on to fetch the data (from a
    // closed port here).
    for (uid, force) in [(1000, false), (0, true)] {
        let mut args = vec!["--train", "--output", "out"];
        if force {
            args.push("--force");
        }
        let output = sandbox
            .command_as(uid, &args)
            .env("DPKG_ROOT", no_user.path())
            .output()
            .unwrap();
        sandbox.assert_failed_cleanly(&output, "training data points: could not be obtained");
        assert!(!String::from_utf8_lossy(&output.stderr).contains("refusing"));
    }
}

const TORCH_TRAIN: &str = r#"
import os, sys
import torch
data, out = sys.argv[1], sys.argv[2]
torch.manual_seed(int(os.environ["MLMODEL_SEED"]))
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
rows = [[float(v) for v in line.split(",")] for line in open(os.path.join(data, "points.csv"))]
t = torch.tensor(rows)
x, y = t[:, :2], t[:, 2:]
model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for _ in range(200):
    opt.zero_grad()
    loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y)
    loss.backward()
    opt.step()
# Raw little-endian float32 parameters in name order: a plain format that needs no loader.
state = model.state_dict()
with open(os.path.join(out, "tiny.bin"), "wb") as f:
    for name in sorted(state):
        f.write(state[name].detach().contiguous().numpy().astype("<f4").tobytes())
print("loss", float(loss))
"#;

#[test]
fn torch_training_builds_an_installable_package() {
    let server = Server::start();
    let csv = points_csv();
    server.serve("/points.csv", csv.as_bytes());
    let scripts = tempfile::tempdir().unwrap();
    std::fs::write(scripts.path().join("train.py"), TORCH_TRAIN).unwrap();
    let package = "demo-model-torchtiny";
    // The published digest is unknown to this test: the run must still package the retrained
    // bytes and record that they differ from the pin.
    let mut spec = spec_for(
        package,
        vec![WeightFile {
            path: "tiny.bin".to_owned(),
            sha256: sha256_bytes(b"published elsewhere"),
            size: 68,
            urls: Vec::new(),
            training_output: Some("tiny.bin".to_owned()),
        }],
    );
    let mut training = numpy_training(
        scripts.path(),
        &server.url("/points.csv"),
        &sha256_bytes(csv.as_bytes()),
        csv.len() as u64,
    );
    training.depends = vec!["python3-torch".to_owned()];
    // The recipe outlasts the 1 s progress interval the sandbox sets whatever the machine's
    // speed, so progress lines are always shown.
    training.command = format!("sleep 2.5 && {}", training.command);
    spec.training = Some(training);
    let sandbox = Sandbox::new(spec);
    let output = sandbox.run(&["--train", "--force", "--output", "out"]);
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("differ from the published pin"), "{stderr}");
    assert!(
        stderr.contains("elapsed, estimate 0:00:04 CPU time"),
        "{stderr}"
    );
    let deb = sandbox.deb();
    // 2*4 + 4 + 4*1 + 1 float32 parameters.
    assert_eq!(
        deb_file(&deb, &format!("/usr/share/{package}/models/tiny.bin")).len(),
        17 * 4
    );
    assert_lintian_clean(&[deb.to_path_buf()]);

    // Installed into a private installation, where the helper finds it.
    let root = DpkgRoot::new();
    root.install(&deb, &[], &[]);
    let weights = format!("/usr/share/{package}/models/tiny.bin");
    assert!(root.join(&weights).is_file());
    assert_host_untouched(package, &[&weights]);
    let status_out = sandbox.run_in(&root, &["--status"]);
    assert_success(&status_out);
    assert!(
        String::from_utf8_lossy(&status_out.stdout).contains("origin: retrained"),
        "{}",
        String::from_utf8_lossy(&status_out.stdout)
    );
    let verify = sandbox.run_in(&root, &["--verify"]);
    assert!(
        !verify.status.success(),
        "pin differs, so --verify reports it"
    );
    let stderr = String::from_utf8_lossy(&verify.stderr);
    assert!(stderr.contains("SHA-256 mismatch"), "{stderr}");
    let provenance = root.join(&format!("/usr/share/doc/{package}/provenance.json"));
    assert!(
        stderr.contains(&format!("see {}", provenance.display())),
        "{stderr}"
    );
    assert!(provenance.is_file());
    root.remove(package);
    assert!(!root.join(&weights).exists());
}

/// An installer package reduced to what its postinst needs: the helper in `/usr/bin` and the
/// auto-download snippet in the postinst, as dh_mlmodel and dh_installdeb put them.
fn installer_deb(spec: &HelperSpec, dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let stage = dir.join("stage");
    std::fs::create_dir_all(stage.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(stage.join("usr/bin")).unwrap();
    std::fs::write(
        stage.join("DEBIAN/control"),
        format!(
            "Package: {}\nVersion: 1.0\nArchitecture: all\nMaintainer: {}\n\
             Depends: mlmodel-get\nDescription: download or retrain {}\n",
            spec.installer_package, spec.maintainer, spec.weights_package
        ),
    )
    .unwrap();
    let snippet = dh_mlmodel::helper::render_postinst_autodownload(spec).unwrap();
    let postinst = stage.join("DEBIAN/postinst");
    std::fs::write(
        &postinst,
        format!("#!/bin/sh\nset -e\n\n{snippet}\nexit 0\n"),
    )
    .unwrap();
    let helper = stage.join(format!("usr/bin/{}", spec.script_name()));
    std::fs::write(&helper, render(spec).unwrap()).unwrap();
    for path in [&postinst, &helper] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let deb = dir.join(format!("{}_1.0_all.deb", spec.installer_package));
    let output = Command::new("dpkg-deb")
        .args(["--root-owner-group", "--build"])
        .arg(&stage)
        .arg(&deb)
        .output()
        .unwrap();
    assert_success(&output);
    deb
}

/// Runs the helper installed in `root` as the user running the tests, on that installation.
fn run_installed(root: &DpkgRoot, spec: &HelperSpec, args: &[&str]) -> Output {
    Command::new("dash")
        .arg(root.join(&format!("/usr/bin/{}", spec.script_name())))
        .args(args)
        .env("DPKG_ROOT", root.path())
        .env("PATH", DEBIAN_PATH)
        .output()
        .unwrap()
}

/// The postinst runs under real dpkg, chrootless in a private installation: every path it and
/// the helper use is under DPKG_ROOT.
#[test]
fn postinst_auto_download_never_fails_and_records_the_failure() {
    let server = Server::start();
    let body = weights_bytes(1000);
    let mut spec = download_spec(&body, vec![server.url("/w.bin")]);
    let package = "demo-model-postinstcheck";
    spec.weights_package = package.to_owned();
    spec.installer_package = format!("{package}-installer");
    spec.install_dir = format!("/usr/share/{package}/models");
    spec.postinst_auto_download = true;
    let dir = tempfile::tempdir().unwrap();
    let deb = installer_deb(&spec, dir.path());
    assert_shellcheck_clean(&dir.path().join("stage/DEBIAN/postinst"));
    let installer = spec.installer_package.clone();
    let state = format!("/var/lib/{installer}");
    let cache = format!("/var/cache/{installer}");
    let root = DpkgRoot::with_runtime();

    // Nothing is served yet: the download fails, the installer is configured anyway and the
    // failure is recorded in the installation.
    let output = root.install(&deb, &[], &[]);
    assert_eq!(root.status(&installer), "installed 1.0");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("Retry with: get-{package} --download --install")),
        "{stderr}"
    );
    let failed = root.join(&format!("{state}/failed"));
    assert!(stderr.contains(&failed.display().to_string()), "{stderr}");
    let record = std::fs::read_to_string(&failed).unwrap();
    assert!(record.contains("HTTP 404"), "{record}");
    assert!(record.contains(&format!("get-{package}")), "{record}");
    let status = run_installed(&root, &spec, &["--status"]);
    assert_success(&status);
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.contains(&format!("{package} is not installed")),
        "{status}"
    );
    assert!(
        status.contains(&format!(
            "the last automatic download failed; see {}",
            failed.display()
        )),
        "{status}"
    );

    // Configured again once the file is served: the weights package is built into the
    // installation's cache and the record of the failure goes.
    server.serve("/w.bin", &body);
    let output = root.install(&deb, &[], &[]);
    assert!(
        !failed.exists(),
        "the failure record outlived a good download"
    );
    let built = root.join(&format!("{cache}/{}", spec.deb_file_name()));
    assert!(built.is_file());
    assert!(
        root.join(&format!(
            "{cache}/dh-mlmodel/sha256/{}",
            sha256_bytes(&body)
        ))
        .is_file()
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("apt install {}", root.join(&cache).display())),
        "{stderr}"
    );

    // Installed as the postinst says, then checked, by the installed helper.
    let cache_dir = root.join(&cache);
    let cache_dir = cache_dir.to_str().unwrap();
    assert_success(&run_installed(
        &root,
        &spec,
        &["--install", "--output", cache_dir],
    ));
    assert_eq!(root.status(package), "installed 1.0-0+local1");
    assert_success(&run_installed(&root, &spec, &["--verify"]));
    let weights = format!("/usr/share/{package}/models/{WEIGHTS_PATH}");
    assert_eq!(std::fs::read(root.join(&weights)).unwrap(), body);
    assert_host_untouched(
        &installer,
        &[&state, &cache, &format!("/usr/bin/get-{package}")],
    );
    assert_host_untouched(package, &[&weights]);
}

#[test]
fn interrupted_training_stops_the_recipe_and_builds_nothing() {
    let marker = tempfile::tempdir().unwrap();
    let pid_file = marker.path().join("recipe.pid");
    let mut spec = spec_for(
        PKG,
        vec![WeightFile {
            path: "w.bin".to_owned(),
            sha256: sha256_bytes(b"w"),
            size: 1,
            urls: Vec::new(),
            training_output: Some("w.bin".to_owned()),
        }],
    );
    spec.training = Some(Training {
        // The recipe's work happens in a grandchild, as with a wrapper script around python.
        command: format!("sleep 60 & echo $! > {}; wait", pid_file.display()),
        depends: Vec::new(),
        cpu_hours: 1.0,
        seed: 1,
        deterministic: false,
        data: Vec::new(),
        program_dir: None,
    });
    let sandbox = Sandbox::new(spec);
    let mut child = {
        use std::os::unix::process::CommandExt;
        sandbox
            .command(&["--train", "--force", "--output", "out"])
            .process_group(0)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let recipe_pid = loop {
        if let Ok(pid) = std::fs::read_to_string(&pid_file)
            && !pid.trim().is_empty()
        {
            break pid.trim().to_owned();
        }
        assert!(Instant::now() < deadline, "recipe did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    let sent = Command::new("kill")
        .args(["-INT", "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    assert!(sent.success());
    assert!(!child.wait().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{recipe_pid}")).exists() {
        assert!(Instant::now() < deadline, "the recipe outlived the helper");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!sandbox.deb().exists());
    let tmp_entries: Vec<_> = std::fs::read_dir(sandbox.path("tmp")).unwrap().collect();
    assert!(
        tmp_entries.is_empty(),
        "temporary files left: {tmp_entries:?}"
    );
}

/// One run at a time uses a cache (flock(1) on `CACHE/.lock`): while a slow download holds it,
/// a second run with `--no-wait` stops at once and says why; without it, a run waits, then
/// finds the file verified in the cache and fetches nothing.
#[test]
fn concurrent_runs_wait_for_the_cache_lock_or_stop_with_no_wait() {
    let (server, _body, sha, sandbox) = slow_download_sandbox();
    let first = sandbox
        .command(&["--download", "--output", "out"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let part = sandbox.path(&format!("cache/dh-mlmodel/sha256/{sha}.part"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0) == 0 {
        assert!(Instant::now() < deadline, "download did not start");
        std::thread::sleep(Duration::from_millis(20));
    }

    let refused = sandbox.run(&["--download", "--no-wait", "--output", "second"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("another run is using the cache")
            && stderr.contains(".lock is held")
            && stderr.contains("without --no-wait to wait for it"),
        "{stderr}"
    );
    assert!(!sandbox.path("second").exists(), "the refused run built");

    let waiting = sandbox
        .command(&["--download", "--output", "second"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = first.wait_with_output().unwrap();
    assert_success(&first);
    let waited = waiting.wait_with_output().unwrap();
    assert_success(&waited);
    let stderr = String::from_utf8_lossy(&waited.stderr);
    assert!(
        stderr.contains("waiting for another run that is using the cache"),
        "{stderr}"
    );
    assert!(
        stderr.contains("using the verified cached copy"),
        "{stderr}"
    );
    let fetches = server
        .requests()
        .iter()
        .filter(|r| r.path == "/w.bin")
        .count();
    assert_eq!(fetches, 1, "the waiting run downloaded again");
    assert_eq!(
        std::fs::read(sandbox.path("second").join(sandbox.spec.deb_file_name())).unwrap(),
        std::fs::read(sandbox.deb()).unwrap()
    );
}

/// Downloads show the downloader's progress bar when standard error is a terminal (a real pty,
/// from script(1)) and only the helper's step lines otherwise, with curl and with wget.
#[test]
fn download_progress_is_shown_on_a_terminal_only() {
    let server = Server::start();
    let body = weights_bytes(50_000);
    server.serve("/w.bin", &body);
    // What each downloader's bar ends with at 100%.
    for (downloader, bar) in [("curl", "100.0%"), ("wget", "100%[")] {
        let sandbox = Sandbox::new(download_spec(&body, vec![server.url("/w.bin")]));
        let quiet = sandbox
            .command(&["--download", "--output", "out"])
            .env("MLMODEL_DOWNLOADER", downloader)
            .output()
            .unwrap();
        assert_success(&quiet);
        let stderr = String::from_utf8_lossy(&quiet.stderr);
        assert!(stderr.contains("downloading http://"), "{stderr}");
        assert!(
            !stderr.contains('%'),
            "{downloader}: a bar without a terminal:\n{stderr}"
        );

        std::fs::remove_dir_all(sandbox.path("cache")).unwrap();
        std::fs::create_dir(sandbox.path("cache")).unwrap();
        let mut helper = sandbox.command(&["--download", "--output", "out"]);
        helper.env("MLMODEL_DOWNLOADER", downloader);
        let on_terminal = on_a_terminal(&helper).output().unwrap();
        assert_success(&on_terminal);
        let screen = String::from_utf8_lossy(&on_terminal.stdout);
        assert!(
            screen.contains(bar),
            "{downloader}: no progress bar:\n{screen}"
        );
        assert!(screen.contains("built out/"), "{screen}");
    }
}

/// `command` run by script(1) on a new pseudo-terminal (its standard input, output and error),
/// with the same environment and directory; what the terminal showed is script's output.
fn on_a_terminal(command: &Command) -> Command {
    let line = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|word| dh_mlmodel::helper::shell_quote(&word.to_string_lossy()).unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    let mut script = Command::new("script");
    script
        .args(["--quiet", "--return", "--command", &line, "/dev/null"])
        .stdin(Stdio::null());
    if let Some(dir) = command.get_current_dir() {
        script.current_dir(dir);
    }
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => script.env(key, value),
            None => script.env_remove(key),
        };
    }
    script
}

// --- verification of retrained weights and the SPDX document -----------------------------------

/// The bill of materials the installer would carry for `spec` (`dh_mlmodel` builds it from the
/// plan; here by hand, as the rest of the spec).
fn bom_for(spec: &HelperSpec, data_url: &str, data_sha: &str) -> dh_mlmodel::sbom::ModelBom {
    serde_json::from_value(serde_json::json!({
        "source": "demo",
        "model": "tiny",
        "package": spec.weights_package,
        "version": spec.package_version(),
        "license": "Apache-2.0",
        "supplier": spec.maintainer,
        "type_of_model": ["logistic regression"],
        "training": {"command": "python3 train.py {data} {out}", "seed": 7, "deterministic": false},
        "datasets": [{"name": "points", "license": "CC0-1.0", "url": data_url,
                      "sha256": data_sha, "public": true}],
        "files": spec.files.iter().map(|f| serde_json::json!({
            "path": format!("{}/{}", spec.install_dir, f.path),
            "sha256": f.sha256,
            "size": f.size,
        })).collect::<Vec<_>>(),
        "origin": "retrained",
    }))
    .unwrap()
}

/// A `dh-mlmodel` for the helper to run, in `dir`: `verify` answers with `report` and exit
/// status `status` (the contract of `dh-mlmodel verify --json`: 0 identical or equivalent, 1
/// different), writing the digests and names of the files it was given to `dir/verify.args`
/// (the helper removes them when it ends); `verify` is missing when
/// `report` is `None`; every other subcommand is this tree's dh-mlmodel. It stands in for the
/// verify engine of the dh-mlmodel package, which this stand-in lets the test control.
fn stand_in_dh_mlmodel(dir: &Path, report: Option<&str>, status: i32) -> PathBuf {
    let real = assert_cmd::cargo::cargo_bin!("dh-mlmodel");
    let verify = match report {
        Some(report) => {
            std::fs::write(dir.join("verify.json"), report).unwrap();
            format!(
                "[ \"$2\" = --help ] && exit 0\n\
                 shift 2\nsha256sum \"$@\" > {dir}/verify.args\n\
                 cat {dir}/verify.json\nexit {status}",
                dir = dir.display()
            )
        }
        None => "echo \"error: unrecognized subcommand 'verify'\" >&2; exit 2".to_owned(),
    };
    let script = dir.join("dh-mlmodel");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nif [ \"$1\" = verify ]; then\n{verify}\nfi\nexec {} \"$@\"\n",
            real.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn verify_report(verdict: &str) -> String {
    serde_json::json!({
        "schema": 1,
        "verdict": verdict,
        "summary": {"tensors": 1, "equal": 0,
                    "within": u8::from(verdict == "equivalent"),
                    "different": u8::from(verdict == "different"),
                    "worst": {"name": "w", "max_abs": 0.25, "rel_l2": 0.125}},
        "tolerance": {"max_abs": 1e-6, "rel_l2": 1e-5},
        "files": [],
    })
    .to_string()
}

/// A training spec whose published weights (`published`, served at `/published/weights.npy`)
/// differ from what the recipe gives, as a non-deterministic recipe's would.
struct Retraining {
    server: Server,
    scripts: tempfile::TempDir,
    spec: HelperSpec,
    csv: String,
    published: Vec<u8>,
    retrained_sha: String,
}

fn retraining() -> Retraining {
    let server = Server::start();
    let csv = points_csv();
    server.serve("/points.csv", csv.as_bytes());
    let published = b"\x93NUMPY the published weights, other bytes".to_vec();
    server.serve("/published/weights.npy", &published);
    let scripts = tempfile::tempdir().unwrap();
    std::fs::write(scripts.path().join("train.py"), NUMPY_TRAIN).unwrap();
    let (retrained_sha, _) = reference_weights(scripts.path(), &csv, "weights.npy");
    let mut spec = spec_for(
        PKG,
        vec![WeightFile {
            path: "weights.npy".to_owned(),
            sha256: sha256_bytes(&published),
            size: published.len() as u64,
            urls: vec![server.url("/published/weights.npy")],
            training_output: Some("weights.npy".to_owned()),
        }],
    );
    let data_sha = sha256_bytes(csv.as_bytes());
    let mut training = numpy_training(
        scripts.path(),
        &server.url("/points.csv"),
        &data_sha,
        csv.len() as u64,
    );
    training.deterministic = false;
    spec.training = Some(training);
    spec.bom = Some(bom_for(&spec, &server.url("/points.csv"), &data_sha));
    Retraining {
        server,
        scripts,
        spec,
        csv,
        published,
        retrained_sha,
    }
}

/// The SPDX document inside `deb`, checked by spdx-python-model.
fn deb_spdx(deb: &Path) -> serde_json::Value {
    let dir = unpack_deb(deb);
    let path = dir.path().join("usr/share/demo/models/tiny/sbom.spdx.json");
    assert!(path.is_file(), "no SPDX document in {}", deb.display());
    crate::support::assert_valid_spdx(&path);
    let document = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    crate::sbom::assert_spdx_shape(&document);
    document
}

fn ai_package(document: &serde_json::Value) -> &serde_json::Value {
    crate::sbom::of_type(document, "ai_AIPackage")[0]
}

#[test]
fn different_retrained_weights_are_refused_unless_accepted() {
    let retraining = retraining();
    let sandbox = Sandbox::new(retraining.spec.clone());
    let stand_in = stand_in_dh_mlmodel(
        retraining.scripts.path(),
        Some(&verify_report("different")),
        1,
    );
    let run = |extra: &[&str]| {
        let mut args = vec![
            "--train",
            "--download-reference",
            "--force",
            "--output",
            "out",
        ];
        args.extend(extra);
        sandbox
            .command(&args)
            .env("MLMODEL_DH_MLMODEL", &stand_in)
            .output()
            .unwrap()
    };

    let refused = run(&[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(stderr.contains("verification: different"), "{stderr}");
    assert!(stderr.contains("worst w"), "{stderr}");
    assert!(stderr.contains("pass --accept-different"), "{stderr}");
    assert!(!sandbox.deb().exists(), "a different model was built");
    // The published file was fetched (--download-reference), verified against its pin, and
    // compared with the retrained one, in that order.
    assert!(
        retraining
            .server
            .requests()
            .iter()
            .any(|r| r.path == "/published/weights.npy")
    );
    let args = std::fs::read_to_string(retraining.scripts.path().join("verify.args")).unwrap();
    let files: Vec<(&str, &str)> = args
        .lines()
        .map(|line| line.split_once("  ").unwrap())
        .collect();
    assert_eq!(files.len(), 2, "{args}");
    assert_eq!(files[0].0, sha256_bytes(&retraining.published));
    assert!(
        files[0].1.ends_with("/verify/published/weights.npy"),
        "{args}"
    );
    assert_eq!(files[1].0, retraining.retrained_sha);
    assert!(
        files[1].1.ends_with("/verify/retrained/weights.npy"),
        "{args}"
    );
    let report = sandbox
        .path("out")
        .join(format!("{PKG}_1.0-0+local1_all.verify.json"));
    assert!(report.is_file(), "the verify report is not kept");

    let accepted = run(&["--accept-different"]);
    assert_success(&accepted);
    let stderr = String::from_utf8_lossy(&accepted.stderr);
    assert!(stderr.contains("verification: different"), "{stderr}");
    let document = deb_spdx(&sandbox.deb());
    let ai = ai_package(&document);
    let metrics = crate::sbom::metrics(ai);
    assert_eq!(metrics["verdict"], "different");
    assert_eq!(metrics["verification_method"], "tensors");
    assert_eq!(metrics["worst_tensor"], "w");
    assert_eq!(metrics["tensors_different"], "1");
    let note = crate::sbom::of_type(&document, "Annotation")[0];
    assert!(
        note["statement"]
            .as_str()
            .unwrap()
            .contains("retrained weights are different"),
        "{note}"
    );
    // The installed file is the retrained one; the published digest is kept beside it.
    let file = crate::sbom::related(&document, &ai["spdxId"], "contains")[0];
    assert_eq!(
        file["verifiedUsing"][0]["hashValue"],
        retraining.retrained_sha
    );
    assert!(
        file["comment"]
            .as_str()
            .unwrap()
            .contains(&sha256_bytes(&retraining.published))
    );
    let provenance: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            sandbox
                .path("out")
                .join(format!("{PKG}_1.0-0+local1_all.provenance.json")),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        provenance["training"]["verification"],
        serde_json::json!({"method": "tensors", "verdict": "different",
                           "report": format!("{PKG}_1.0-0+local1_all.verify.json")})
    );
}

#[test]
fn equivalent_retrained_weights_from_the_from_dir_are_built() {
    let retraining = retraining();
    let sandbox = Sandbox::new(retraining.spec.clone());
    let stand_in = stand_in_dh_mlmodel(
        retraining.scripts.path(),
        Some(&verify_report("equivalent")),
        0,
    );
    // --from DIR holds the training data and the published weights: no network at all.
    let from = sandbox.path("from");
    std::fs::create_dir(&from).unwrap();
    std::fs::write(from.join("points.csv"), &retraining.csv).unwrap();
    std::fs::write(from.join("weights.npy"), &retraining.published).unwrap();
    let output = sandbox
        .command(&["--train", "--from", "from", "--force", "--output", "out"])
        .env("MLMODEL_DH_MLMODEL", &stand_in)
        .output()
        .unwrap();
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("verification: equivalent: dh-mlmodel verify: the retrained weights are equivalent to the published ones (1 tensors: 0 equal, 1 within tolerance, 0 different; worst w)"),
        "{stderr}"
    );
    assert!(retraining.server.requests().is_empty());
    let document = deb_spdx(&sandbox.deb());
    assert_eq!(
        crate::sbom::metrics(ai_package(&document))["verdict"],
        "equivalent"
    );
    let data = crate::sbom::related(&document, &ai_package(&document)["spdxId"], "trainedOn");
    assert_eq!(data[0]["name"], "points");
    assert_eq!(data[0]["dataset_datasetAvailability"], "directDownload");
}

#[test]
fn without_verify_or_the_published_files_only_the_bitwise_check_is_made() {
    let retraining = retraining();
    for (report, expected) in [
        (None, "dh-mlmodel verify is not available"),
        (
            Some(verify_report("different")),
            "the published file(s) weights.npy are not at hand",
        ),
    ] {
        let sandbox = Sandbox::new(retraining.spec.clone());
        let stand_in = stand_in_dh_mlmodel(retraining.scripts.path(), report.as_deref(), 1);
        let output = sandbox
            .command(&["--train", "--force", "--output", "out"])
            .env("MLMODEL_DH_MLMODEL", &stand_in)
            .output()
            .unwrap();
        assert_success(&output);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{stderr}");
        assert!(
            stderr.contains("only the bitwise check against the pins was made"),
            "{stderr}"
        );
        let document = deb_spdx(&sandbox.deb());
        let metrics = crate::sbom::metrics(ai_package(&document));
        assert_eq!(metrics["verdict"], "not-identical");
        assert_eq!(metrics["verification_method"], "bitwise");
    }
    // Nothing but the training data was fetched: no published file without
    // --download-reference.
    assert!(
        retraining
            .server
            .requests()
            .iter()
            .all(|r| r.path == "/points.csv")
    );
}

#[test]
fn downloaded_package_carries_the_spdx_document_without_a_verification() {
    let body = weights_bytes(4096);
    let server = Server::start();
    server.serve("/w.bin", &body);
    let mut spec = download_spec(&body, vec![server.url("/w.bin")]);
    let mut bom = bom_for(&spec, "https://example.org/points.csv", &"0".repeat(64));
    bom.origin = Some("downloaded".to_owned());
    spec.bom = Some(bom);
    let sandbox = Sandbox::new(spec);
    assert_success(&sandbox.run(&["--download", "--output", "out"]));
    let document = deb_spdx(&sandbox.deb());
    let ai = ai_package(&document);
    assert!(ai.get("ai_metric").is_none());
    assert!(crate::sbom::of_type(&document, "Annotation").is_empty());
    assert_eq!(ai["software_packageVersion"], "1.0-0+local1");
    // The same inputs give the same .deb, document included.
    let first = std::fs::read(sandbox.deb()).unwrap();
    std::fs::remove_file(sandbox.deb()).unwrap();
    assert_success(&sandbox.run(&["--download", "--output", "out"]));
    assert!(first == std::fs::read(sandbox.deb()).unwrap());
}
