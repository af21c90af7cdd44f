//! A weights package built in the archive: the model files from the source tree, each verified
//! against its pin, or the outputs of the training recipe run during the build, and a
//! provenance record in `/usr/share/doc/<package>/provenance.json`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use super::{Build, TOOL};
use crate::hash::sha256_file;
use crate::plan::{DataSource, ModelPlan, Pin, Recipe};
use crate::{fsutil, terminal};

/// One file as installed, with what the manifest says it should be.
#[derive(Debug, Serialize)]
struct InstalledFile {
    /// Absolute path on the installed system.
    path: String,
    sha256: String,
    size: u64,
    /// Where the bytes came from: a path in the source tree, or a training output.
    from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pinned_sha256: Option<String>,
    matches_pin: bool,
}

#[derive(Debug, Serialize)]
struct TrainingRecord {
    command: String,
    seed: Option<i64>,
    deterministic: bool,
    inputs: Vec<InputRecord>,
}

#[derive(Debug, Serialize)]
struct InputRecord {
    name: String,
    from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
}

/// `/usr/share/doc/<package>/provenance.json`. Nothing in it depends on when or where the build
/// ran, so the package stays reproducible.
#[derive(Debug, Serialize)]
struct Provenance<'a> {
    package: &'a str,
    source: &'a str,
    version: &'a str,
    model: &'a str,
    license: String,
    origin: &'static str,
    built_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    training: Option<TrainingRecord>,
    files: Vec<InstalledFile>,
}

pub(super) fn build_package(build: &Build, package: &str, plan: &ModelPlan) -> Result<()> {
    let (files, training) = if plan.train_at_build {
        let training = plan
            .facts
            .training
            .as_ref()
            .context("the plan trains this model but the manifest has no [model.training]")?;
        train(build, package, plan, training)?
    } else {
        (install_from_source(build, package, plan)?, None)
    };
    let provenance = Provenance {
        package,
        source: &build.control.source,
        version: &build.version,
        model: &plan.name,
        license: plan
            .facts
            .license
            .as_ref()
            .map(|l| l.spdx.clone())
            .context("the plan builds this model but its licence is not stated")?,
        origin: "archive",
        built_by: format!("{TOOL} {}", env!("CARGO_PKG_VERSION")),
        training,
        files,
    };
    let doc = format!("/usr/share/doc/{package}/provenance.json");
    let dest = build.staged(package, &doc);
    build.verbose(&format!(
        "install -m0644 provenance.json {}",
        dest.display()
    ));
    if !build.options.no_act {
        fsutil::write_json(&dest, &provenance)?;
    }
    Ok(())
}

/// The name a model file is installed under: its base name, in the model's install dir.
pub(super) fn installed_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Copies every model file from the source tree into the install dir, refusing any whose size
/// or SHA-256 is not the pinned one.
fn install_from_source(
    build: &Build,
    package: &str,
    plan: &ModelPlan,
) -> Result<Vec<InstalledFile>> {
    let mut installed = Vec::new();
    for rel in &plan.facts.files {
        let pin = plan.facts.pins.get(rel).with_context(|| {
            format!("debian/mlmodel.toml: model {}: {rel} has no pin", plan.name)
        })?;
        let source = build.root.join(rel);
        let (sha256, size) = verify(&source, rel, pin)?;
        let target = format!("{}/{}", plan.install_dir, installed_name(rel));
        install(build, package, &source, &target)?;
        installed.push(InstalledFile {
            path: target,
            sha256,
            size,
            from: rel.clone(),
            pinned_sha256: Some(pin.sha256.clone()),
            matches_pin: true,
        });
    }
    Ok(installed)
}

/// Checks `path` against `pin`; the error names the file and both digests.
fn verify(path: &Path, name: &str, pin: &Pin) -> Result<(String, u64)> {
    let (sha256, size) =
        sha256_file(path).with_context(|| format!("cannot read model file {name}"))?;
    if sha256 != pin.sha256 || size != pin.size {
        bail!(
            "model file {name} does not match its pin in debian/mlmodel.toml: expected SHA-256 {} \
             ({} bytes), found SHA-256 {sha256} ({size} bytes)",
            pin.sha256,
            pin.size
        );
    }
    Ok((sha256, size))
}

fn install(build: &Build, package: &str, source: &Path, target: &str) -> Result<()> {
    let dest = build.staged(package, target);
    build.verbose(&format!(
        "install -D -m0644 {} {}",
        source.display(),
        dest.display()
    ));
    if !build.options.no_act {
        fsutil::install_file(source, &dest, 0o644)?;
    }
    Ok(())
}

/// Runs the recipe in `debian/.debhelper/mlmodel/<model>/` (removed by dh_clean), without
/// network and with a deterministic environment, then installs its outputs.
fn train(
    build: &Build,
    package: &str,
    plan: &ModelPlan,
    training: &Recipe,
) -> Result<(Vec<InstalledFile>, Option<TrainingRecord>)> {
    let name = &plan.name;
    let Some(command) = training.command.clone() else {
        bail!("model {name}: training.command is not stated");
    };
    let scratch = build.debian_dir().join(".debhelper/mlmodel").join(name);
    let data_dir = scratch.join("data");
    let out_dir = scratch.join("out");
    let log = scratch.join("training.log");
    let mut inputs = Vec::new();
    if build.options.no_act {
        build.verbose(&format!("(train {name} in {})", scratch.display()));
        return Ok((Vec::new(), None));
    }
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)
            .with_context(|| format!("cannot clean {}", scratch.display()))?;
    }
    std::fs::create_dir_all(&data_dir)?;
    std::fs::create_dir_all(&out_dir)?;
    for data in &training.data {
        let label = data.label();
        match &data.source {
            Some(DataSource::Path(path)) => {
                let source = build.root.join(path);
                let target = data_dir.join(installed_name(path));
                let digest = match &data.sha256 {
                    Some(pin) => {
                        let (digest, _) = sha256_file(&source)
                            .with_context(|| format!("cannot read training data {path}"))?;
                        if &digest != pin {
                            bail!(
                                "training data {path} does not match its pin in debian/mlmodel.toml: expected SHA-256 {pin}, found {digest}"
                            );
                        }
                        Some(digest)
                    }
                    None => None,
                };
                fsutil::copy_tree(&source, &target)?;
                inputs.push(InputRecord {
                    name: label,
                    from: path.clone(),
                    sha256: digest,
                });
            }
            Some(DataSource::Package(package)) => {
                inputs.push(InputRecord {
                    name: label,
                    from: format!("package {package}"),
                    sha256: None,
                });
            }
            Some(DataSource::Url(_)) | None => {
                bail!(
                    "training data {label} is not in the source or a package; a package build must not download it"
                )
            }
        }
    }

    let seed = training.seed;
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let script = command
        .replace(
            "{data}",
            &crate::helper::shell_quote(&absolute(&data_dir).to_string_lossy())?,
        )
        .replace(
            "{out}",
            &crate::helper::shell_quote(&absolute(&out_dir).to_string_lossy())?,
        )
        .replace("{seed}", &seed.unwrap_or(0).to_string());
    build.verbose(&format!(
        "cd {} && {script} > {}",
        build.root.display(),
        log.display()
    ));
    let log_file =
        std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let mut runner = offline_runner();
    runner.args(["sh", "-c", &script]);
    let status = Command::new(&runner.program)
        .args(&runner.args)
        .current_dir(&build.root)
        .env("SOURCE_DATE_EPOCH", build.epoch.to_string())
        .env("PYTHONHASHSEED", "0")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("OMP_NUM_THREADS", "1")
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("MKL_NUM_THREADS", "1")
        .env("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        .env("CUDA_VISIBLE_DEVICES", "")
        .env("MLMODEL_SEED", seed.unwrap_or(0).to_string())
        .env("MLMODEL_DATA", absolute(&data_dir))
        .env("MLMODEL_OUT", absolute(&out_dir))
        .envs(runner.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .status()
        .with_context(|| format!("cannot run the training command of model {name}"))?;
    if !status.success() {
        for line in log_tail(&log, 20) {
            eprintln!("{}", terminal::escape_controls(&line));
        }
        bail!(
            "training model {name} failed ({status}); the full log is {}",
            log.display()
        );
    }

    let deterministic = training.deterministic;
    let pins: BTreeMap<&str, &Pin> = plan
        .facts
        .pins
        .iter()
        .map(|(path, pin)| (installed_name(path), pin))
        .collect();
    let mut installed = Vec::new();
    for output in &training.outputs {
        let produced = out_dir.join(output);
        if !produced.is_file() {
            bail!(
                "training model {name} did not produce {output} (listed in training.outputs); see {}",
                log.display()
            );
        }
        let (sha256, size) = sha256_file(&produced)?;
        let pin = pins.get(installed_name(output));
        let matches_pin = pin.is_some_and(|p| p.sha256 == sha256 && p.size == size);
        if deterministic && let Some(pin) = pin.filter(|_| !matches_pin) {
            bail!(
                "training model {name} is declared deterministic, but {output} differs from its pin in \
                 debian/mlmodel.toml: expected SHA-256 {} ({} bytes), the build produced SHA-256 \
                 {sha256} ({size} bytes); training log: {}",
                pin.sha256,
                pin.size,
                log.display()
            );
        }
        if !matches_pin {
            terminal::warn(
                TOOL,
                &format!(
                    "model {name}: {output} differs from the published pin (not deterministic)"
                ),
            );
        }
        let target = format!("{}/{}", plan.install_dir, output);
        install(build, package, &produced, &target)?;
        installed.push(InstalledFile {
            path: target,
            sha256,
            size,
            from: format!("training output {output}"),
            pinned_sha256: pin.map(|p| p.sha256.clone()),
            matches_pin,
        });
    }
    let record = TrainingRecord {
        command,
        seed,
        deterministic,
        inputs,
    };
    Ok((installed, Some(record)))
}

/// The last `count` lines of a log, read as a stream: a long training log is never held whole.
fn log_tail(log: &Path, count: usize) -> Vec<String> {
    use std::io::BufRead;
    let Ok(file) = std::fs::File::open(log) else {
        return Vec::new();
    };
    let mut tail = std::collections::VecDeque::with_capacity(count + 1);
    for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
        tail.push_back(line);
        if tail.len() > count {
            tail.pop_front();
        }
    }
    tail.into()
}

/// How the recipe is run without network: in a new network namespace (`unshare --net`, with a
/// user namespace when not root) where available; otherwise with proxies pointing nowhere, which
/// stops the usual download clients, and a warning.
struct Runner {
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Runner {
    fn args<'a>(&mut self, extra: impl IntoIterator<Item = &'a str>) {
        self.args.extend(extra.into_iter().map(String::from));
    }
}

fn offline_runner() -> Runner {
    for prefix in [&["--net"][..], &["--net", "--map-root-user"][..]] {
        let works = Command::new("unshare")
            .args(prefix)
            .arg("true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if works {
            return Runner {
                program: "unshare".into(),
                args: prefix.iter().map(|s| s.to_string()).collect(),
                env: Vec::new(),
            };
        }
    }
    terminal::warn(
        TOOL,
        "cannot create a network namespace here; the training command runs with proxies set \
         to an unreachable address instead",
    );
    let dead = "http://127.0.0.1:9".to_string();
    Runner {
        program: "env".into(),
        args: Vec::new(),
        env: [
            "http_proxy",
            "https_proxy",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "all_proxy",
        ]
        .into_iter()
        .map(|k| (k.to_string(), dead.clone()))
        .chain([("no_proxy".to_string(), String::new())])
        .collect(),
    }
}
