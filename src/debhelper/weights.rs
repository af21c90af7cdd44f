//! A weights package built in the archive: the model files from the source tree, each verified
//! against its pin, or the outputs of the training recipe, a provenance record in
//! `/usr/share/doc/<package>/provenance.json` (what `dh-mlmodel check` reads) and the SPDX 3.0.1
//! AI bill of materials in `/usr/share/<source>/models/<model>/sbom.spdx.json`.
//!
//! Training happens in the build phase (`dh_mlmodel_train`, [`train_package`]), which leaves
//! its outputs and a record of the run in `debian/.debhelper/mlmodel/<model>/`; the binary
//! phase (`dh_mlmodel`, [`build_package`]) checks the outputs against that record and installs
//! them.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::{Build, TOOL};
use crate::hash::sha256_file;
use crate::plan::{DataSource, ModelPlan, Pin};
use crate::{fsutil, sbom, terminal};

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

#[derive(Debug, Serialize, Deserialize)]
struct TrainingRecord {
    command: String,
    seed: Option<i64>,
    deterministic: bool,
    inputs: Vec<InputRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
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

/// What `dh_mlmodel_train` leaves for `dh_mlmodel`: the record of one training run and the
/// digest of each output it produced.
#[derive(Debug, Serialize, Deserialize)]
struct TrainingRun {
    training: TrainingRecord,
    outputs: Vec<TrainedOutput>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TrainedOutput {
    /// The path the recipe wrote, relative to its output directory.
    name: String,
    sha256: String,
    size: u64,
    pinned_sha256: Option<String>,
    matches_pin: bool,
}

/// Where the build phase trains `model`: removed by dh_clean with the rest of
/// `debian/.debhelper/`.
fn scratch_dir(build: &Build, model: &str) -> std::path::PathBuf {
    build.debian_dir().join(".debhelper/mlmodel").join(model)
}

const RUN_RECORD: &str = "training.json";

pub(super) fn build_package(build: &Build, package: &str, plan: &ModelPlan) -> Result<()> {
    let (files, training) = if plan.train_at_build {
        install_trained(build, package, plan)?
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
    write_sbom(build, package, plan, &provenance.files)
}

/// The SPDX document of the package: the plan's facts, with the files as installed and, for
/// weights trained during the build, how their bytes compare with the published pins.
fn write_sbom(
    build: &Build,
    package: &str,
    plan: &ModelPlan,
    installed: &[InstalledFile],
) -> Result<()> {
    let mut bom = sbom::ModelBom::from_plan(
        &build.plan,
        plan,
        Some(&build.version),
        Some(&build.control.maintainer),
        build.control.homepage.as_deref(),
    );
    bom.package = package.to_string();
    bom.origin = Some("archive".into());
    bom.files = installed
        .iter()
        .map(|file| sbom::BomFile {
            path: file.path.clone(),
            sha256: file.sha256.clone(),
            size: file.size,
            published_sha256: plan
                .train_at_build
                .then(|| file.pinned_sha256.clone())
                .flatten(),
        })
        .collect();
    bom.verification = sbom::Verification::bitwise(&bom.files);
    let path = sbom::installed_path(&build.control.source, &plan.name);
    let dest = build.staged(package, &path);
    build.verbose(&format!(
        "install -m0644 {} {}",
        sbom::FILE_NAME,
        dest.display()
    ));
    if !build.options.no_act {
        let document =
            sbom::spdx::document(package, std::slice::from_ref(&bom), build.epoch as i64)?;
        fsutil::write_json(&dest, &document)?;
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

/// The build phase of weights package `package`: runs the recipe in
/// `debian/.debhelper/mlmodel/<model>/`, without network and with a deterministic environment,
/// checks a deterministic recipe's outputs against the pins, and records the run for the
/// binary phase.
pub(super) fn train_package(build: &Build, package: &str, plan: &ModelPlan) -> Result<()> {
    let name = &plan.name;
    if build.control.profile_active(super::NOTRAIN_PROFILE) {
        bail!(
            "the {profile} build profile is active, but this build produces {package}, whose \
             model {name} is trained during the build; exclude the package from such builds with \
             `Build-Profiles: <!{profile}>` in its debian/control paragraph",
            profile = super::NOTRAIN_PROFILE
        );
    }
    let training = plan
        .facts
        .training
        .as_ref()
        .context("the plan trains this model but the manifest has no [model.training]")?;
    let Some(command) = training.command.clone() else {
        bail!("model {name}: training.command is not stated");
    };
    let scratch = scratch_dir(build, name);
    let data_dir = scratch.join("data");
    let out_dir = scratch.join("out");
    let log = scratch.join("training.log");
    let mut inputs = Vec::new();
    if build.options.no_act {
        build.verbose(&format!("(train {name} in {})", scratch.display()));
        return Ok(());
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
    // parallel=N of DEB_BUILD_OPTIONS is offered to the recipe as MLMODEL_JOBS; the numeric
    // libraries get N threads only when the recipe is not declared deterministic, since their
    // results may depend on the thread count.
    let jobs = parallel_jobs(std::env::var("DEB_BUILD_OPTIONS").ok().as_deref());
    let threads = if training.deterministic { 1 } else { jobs };
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
        .env("MLMODEL_JOBS", jobs.to_string())
        .env("OMP_NUM_THREADS", threads.to_string())
        .env("OPENBLAS_NUM_THREADS", threads.to_string())
        .env("MKL_NUM_THREADS", threads.to_string())
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
    let mut outputs = Vec::new();
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
                super::Phase::Build.tool(),
                &format!(
                    "model {name}: {output} differs from the published pin (not deterministic)"
                ),
            );
        }
        outputs.push(TrainedOutput {
            name: output.clone(),
            sha256,
            size,
            pinned_sha256: pin.map(|p| p.sha256.clone()),
            matches_pin,
        });
    }
    let run = TrainingRun {
        training: TrainingRecord {
            command,
            seed,
            deterministic,
            inputs,
        },
        outputs,
    };
    fsutil::write_json(&scratch.join(RUN_RECORD), &run)
}

/// The binary phase of a trained model: installs each output the build phase recorded, after
/// checking it is still the file that was trained.
fn install_trained(
    build: &Build,
    package: &str,
    plan: &ModelPlan,
) -> Result<(Vec<InstalledFile>, Option<TrainingRecord>)> {
    let name = &plan.name;
    let scratch = scratch_dir(build, name);
    let record = scratch.join(RUN_RECORD);
    if build.options.no_act {
        build.verbose(&format!(
            "(install the outputs recorded in {})",
            record.display()
        ));
        return Ok((Vec::new(), None));
    }
    let text = match std::fs::read_to_string(&record) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => bail!(
            "model {name} of {package} has not been trained: {} is missing. dh_mlmodel_train \
             trains it after dh_auto_build (the mlmodel add-on runs it); if debian/rules \
             overrides the build targets, call dh_mlmodel_train there",
            record.display()
        ),
        Err(err) => {
            return Err(err).with_context(|| format!("cannot read {}", record.display()));
        }
    };
    let run: TrainingRun = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: not a training record of this version",
            record.display()
        )
    })?;
    let mut installed = Vec::new();
    for output in run.outputs {
        let produced = scratch.join("out").join(&output.name);
        let (sha256, size) = sha256_file(&produced)
            .with_context(|| format!("cannot read training output {}", produced.display()))?;
        if sha256 != output.sha256 || size != output.size {
            bail!(
                "training output {} of model {name} changed after dh_mlmodel_train recorded it: \
                 expected SHA-256 {} ({} bytes), found SHA-256 {sha256} ({size} bytes)",
                produced.display(),
                output.sha256,
                output.size
            );
        }
        let target = format!("{}/{}", plan.install_dir, output.name);
        install(build, package, &produced, &target)?;
        installed.push(InstalledFile {
            path: target,
            sha256,
            size,
            from: format!("training output {}", output.name),
            pinned_sha256: output.pinned_sha256,
            matches_pin: output.matches_pin,
        });
    }
    Ok((installed, Some(run.training)))
}

/// `parallel=N` of `DEB_BUILD_OPTIONS` (Debian Policy 4.9.1), 1 when absent or not a positive
/// number.
fn parallel_jobs(options: Option<&str>) -> u32 {
    options
        .unwrap_or_default()
        .split([' ', ','])
        .find_map(|option| option.strip_prefix("parallel="))
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1)
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

#[cfg(test)]
mod tests {
    use super::parallel_jobs;

    #[test]
    fn parallel_comes_from_deb_build_options() {
        assert_eq!(parallel_jobs(None), 1);
        assert_eq!(parallel_jobs(Some("nocheck parallel=4")), 4);
        assert_eq!(parallel_jobs(Some("parallel=0")), 1);
        assert_eq!(parallel_jobs(Some("parallel=x nostrip")), 1);
    }
}
