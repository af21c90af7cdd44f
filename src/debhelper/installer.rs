//! An installer package: `/usr/bin/get-<weights-pkg>` with every pin baked in, the same facts
//! as JSON under `/usr/share/<installer>/pins.json` for review, the training program and the
//! in-source training data the recipe needs, its substvars (the versioned dependency on the
//! shared runtime among them), the optional postinst download and the postrm purge of its cache
//! and state.

use std::path::Path;

use anyhow::{Context, Result, bail};
use debian_copyright::License;

use super::weights::installed_name;
use super::{Build, autoscript, substvars};
use crate::fsutil;
use crate::hash::sha256_file;
use crate::helper::{self, HelperSpec, Training, WeightFile};
use crate::plan::{DataSource, ModelPlan, Origin, Program, Recipe, Role};

pub(super) fn build_package(build: &Build, package: &str, plan: &ModelPlan) -> Result<()> {
    let share = format!("/usr/share/{package}");
    let spec = helper_spec(build, package, plan, &share)?;
    let script = helper::render(&spec)
        .with_context(|| format!("cannot generate the helper for model {}", plan.name))?;

    let bin = build.staged(package, &format!("/usr/bin/{}", spec.script_name()));
    build.verbose(&format!(
        "install -D -m0755 {} {}",
        spec.script_name(),
        bin.display()
    ));
    let pins = build.staged(package, &format!("{share}/pins.json"));
    build.verbose(&format!("install -D -m0644 pins.json {}", pins.display()));
    let man = build.staged(
        package,
        &format!("/usr/share/man/man1/{}.1.gz", spec.script_name()),
    );
    build.verbose(&format!(
        "install -D -m0644 {}.1.gz {}",
        spec.script_name(),
        man.display()
    ));
    if !build.options.no_act {
        fsutil::write_atomic(&bin, script.as_bytes(), 0o755)?;
        let page = helper::render_manpage(&spec)?;
        fsutil::write_atomic(&man, &gzip_reproducibly(page.as_bytes())?, 0o644)?;
        fsutil::write_json(&pins, &spec)?;
    }
    if spec.training.is_some() {
        ship_training_inputs(build, package, plan, &share)?;
    }

    // The helper's code is the shared runtime, at least the version that introduced the
    // interface this helper was rendered for; the runtime depends on what it runs (curl | wget,
    // ca-certificates, systemd-sysusers for its system user).
    let mut depends = vec![helper::runtime_dependency()];
    let mut suggests = Vec::new();
    if let Some(training) = &spec.training {
        // Retraining is how this package gets its weights when there is nothing to download;
        // otherwise it is an option, and its (often large) dependencies only a suggestion.
        let target = if plan.weights_origin() == Some(Origin::Retrained) {
            &mut depends
        } else {
            &mut suggests
        };
        target.extend(training.depends.iter().cloned());
    }
    for (variable, values) in [
        ("mlmodel:Depends", &depends),
        ("mlmodel:Suggests", &suggests),
    ] {
        for value in values {
            build.verbose(&format!(
                "echo '{variable}={value}' >> debian/{package}.substvars"
            ));
            substvars::add(
                &build.debian_dir(),
                package,
                variable,
                value,
                build.options.no_act,
            )?;
        }
    }
    if !build.options.no_scripts {
        let mut snippets = vec![("postrm", helper::render_postrm_purge(&spec)?)];
        if spec.postinst_auto_download {
            snippets.push(("postinst", helper::render_postinst_autodownload(&spec)?));
        }
        for (script, snippet) in snippets {
            let placement = if script == "postrm" {
                "Prepend"
            } else {
                "Append"
            };
            build.verbose(&format!(
                "[META] {placement} autosnippet to {script} [debian/{package}.{script}.debhelper]"
            ));
            autoscript::add(
                &build.debian_dir(),
                package,
                script,
                &snippet,
                build.options.no_act,
            )?;
        }
    }
    Ok(())
}

/// gzip as `gzip -9n` does it: no file name and no time stamp in the header, so the same page
/// gives the same bytes.
fn gzip_reproducibly(bytes: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

/// Everything the helper needs, from the manifest, the plan, debian/control and
/// debian/copyright.
fn helper_spec(
    build: &Build,
    installer: &str,
    plan: &ModelPlan,
    share: &str,
) -> Result<HelperSpec> {
    let facts = &plan.facts;
    let model = &plan.name;
    let weights = plan
        .package(Role::Weights)
        .context("the plan names no weights package for this installer")?;
    let Some(license) = &facts.license else {
        bail!("model {model}: license is still a placeholder");
    };
    let copyright = Copyright::read(&build.debian_dir().join("copyright"))?;
    let (license, license_text) = copyright.license_text(license)?;
    let download = facts.download.as_ref();
    let training = match &facts.training {
        Some(training)
            if plan.weights_origin() == Some(Origin::Retrained)
                || plan.alternatives.contains(&Origin::Retrained) =>
        {
            Some(training_spec(build, installer, model, training, share)?)
        }
        _ => None,
    };
    let outputs: Vec<&str> = facts
        .training
        .as_ref()
        .map(|t| t.outputs.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let mut files = Vec::new();
    for rel in &facts.files {
        let pin = facts
            .pins
            .get(rel)
            .with_context(|| format!("model {model}: {rel} has no pin"))?;
        let name = installed_name(rel);
        // The download is the published copy of this file when its pin says so.
        let urls = match download {
            Some(d) if d.sha256 == pin.sha256 || facts.files.len() == 1 => {
                d.urls().cloned().collect()
            }
            _ => Vec::new(),
        };
        let training_output = training.as_ref().map(|_| {
            outputs
                .iter()
                .find(|o| installed_name(o) == name)
                .map_or_else(|| name.to_string(), |o| o.to_string())
        });
        files.push(WeightFile {
            path: name.to_string(),
            sha256: pin.sha256.clone(),
            size: pin.size,
            urls,
            training_output,
        });
    }
    let upstream_version = upstream_version(&build.version);
    let mut bom = crate::sbom::ModelBom::from_plan(
        &build.plan,
        plan,
        Some(&format!("{upstream_version}-{}", helper::LOCAL_REVISION)),
        Some(&build.control.maintainer),
        build.control.homepage.as_deref(),
    );
    bom.package = weights.name.clone();
    Ok(HelperSpec {
        bom: Some(bom),
        weights_package: weights.name.clone(),
        installer_package: installer.to_string(),
        version: upstream_version,
        maintainer: build.control.maintainer.clone(),
        summary: format!("{} model {model} (built locally)", build.control.source),
        description: facts.description.clone().unwrap_or_else(|| {
            format!(
                "The weights of the {} model used by {}, built on this machine by {} from the \
                 pinned published files or by retraining.",
                model,
                build.control.source,
                format_args!("get-{}", weights.name)
            )
        }),
        section: build.control.section.clone().map_or_else(
            || "misc".to_string(),
            |s| s.rsplit('/').next().unwrap_or(&s).to_string(),
        ),
        homepage: build.control.homepage.clone(),
        license,
        license_text,
        copyright: copyright.holders_of(model, facts),
        release_epoch: build.epoch,
        install_dir: plan.install_dir.clone(),
        files,
        allow_http: download.is_some_and(|d| d.allow_http),
        training,
        postinst_auto_download: download.is_some_and(|d| d.auto_download),
    })
}

/// The recipe as the helper runs it: the program copied from `share/recipe`, in-source data
/// from `share/data`, downloadable data by its pins.
fn training_spec(
    build: &Build,
    installer: &str,
    model: &str,
    training: &Recipe,
    share: &str,
) -> Result<Training> {
    let Some(command) = training.command.clone() else {
        bail!("model {model}: training.command is not stated");
    };
    let mut depends: Vec<String> = training.depends.clone();
    let program_dir = match &training.program {
        Some(Program::Paths(_)) => Some(format!("{share}/recipe")),
        Some(Program::Package(package)) => {
            depends.push(package.clone());
            None
        }
        None => None,
    };
    let mut data = Vec::new();
    for input in &training.data {
        let name = input.label();
        match &input.source {
            Some(DataSource::Path(path)) => {
                let (sha256, size) = sha256_file(&build.root.join(path))
                    .with_context(|| format!("cannot read training data {path}"))?;
                let file = installed_name(path);
                data.push(helper::DataSource {
                    name,
                    path: file.to_string(),
                    sha256,
                    size,
                    urls: Vec::new(),
                    package: Some(installer.to_string()),
                    package_path: Some(format!("{share}/data/{file}")),
                });
            }
            Some(DataSource::Url(url)) => {
                let (Some(sha256), Some(size)) = (&input.sha256, input.size) else {
                    bail!(
                        "model {model}: training data {name} needs sha256 and size to be downloaded safely"
                    );
                };
                let file = installed_name(url.split(['?', '#']).next().unwrap_or(url));
                data.push(helper::DataSource {
                    name,
                    path: file.to_string(),
                    sha256: sha256.clone(),
                    size,
                    urls: vec![url.clone()],
                    package: None,
                    package_path: None,
                });
            }
            Some(DataSource::Package(package)) => depends.push(package.clone()),
            None => bail!("model {model}: training data {name} has no usable source"),
        }
    }
    depends.sort();
    depends.dedup();
    Ok(Training {
        command,
        depends,
        cpu_hours: training.cpu_hours.unwrap_or(0.0),
        seed: training.seed.unwrap_or(0).max(0) as u64,
        deterministic: training.deterministic,
        data,
        program_dir,
    })
}

/// Copies the training program (`share/recipe/<path>`) and in-source data (`share/data/`) into
/// the installer package.
fn ship_training_inputs(build: &Build, package: &str, plan: &ModelPlan, share: &str) -> Result<()> {
    let Some(training) = &plan.facts.training else {
        return Ok(());
    };
    let mut copies = Vec::new();
    if let Some(Program::Paths(paths)) = &training.program {
        for path in paths {
            copies.push((path.clone(), format!("{share}/recipe/{path}")));
        }
    }
    for input in &training.data {
        if let Some(DataSource::Path(path)) = &input.source {
            copies.push((
                path.clone(),
                format!("{share}/data/{}", installed_name(path)),
            ));
        }
    }
    for (from, to) in copies {
        let source = build.root.join(&from);
        let dest = build.staged(package, &to);
        build.verbose(&format!("cp -R {} {}", source.display(), dest.display()));
        if !build.options.no_act {
            fsutil::copy_tree(&source, &dest)?;
        }
    }
    Ok(())
}

/// The upstream part of a Debian version: without epoch, revision and repack suffix.
fn upstream_version(version: &str) -> String {
    let without_epoch = version.split_once(':').map_or(version, |(_, v)| v);
    let upstream = without_epoch
        .rsplit_once('-')
        .map_or(without_epoch, |(u, _)| u);
    let cut = ["+ds", "+dfsg"]
        .iter()
        .filter_map(|s| upstream.find(s))
        .min()
        .unwrap_or(upstream.len());
    upstream[..cut].to_string()
}

/// What the helper's copyright file needs from debian/copyright (DEP-5, read by
/// `debian-copyright`): the licence text and the copyright holders of the model's files.
struct Copyright {
    dep5: debian_copyright::lossless::Copyright,
}

impl Copyright {
    fn read(path: &Path) -> Result<Self> {
        use debian_copyright::lossless::{Copyright as Dep5, Error};
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        // Syntax errors are tolerated and a file that is not DEP-5 reads as one without
        // paragraphs: the fallbacks below (common-licenses, "the upstream authors") apply.
        let dep5 = match Dep5::from_str_relaxed(&text) {
            Ok((dep5, _errors)) => dep5,
            Err(Error::NotMachineReadable) => Dep5::empty(),
            Err(err) => return Err(anyhow::anyhow!("cannot parse {}: {err}", path.display())),
        };
        Ok(Self { dep5 })
    }

    /// The holders of the weights, never the code's (third-party weights are rarely the code
    /// authors' work): the manifest's `copyright`, else the `Copyright` of the debian/copyright
    /// paragraph naming the model's files (the one `init` writes for them), else a statement
    /// that upstream names none.
    fn holders_of(&self, model: &str, facts: &crate::plan::ModelFacts) -> String {
        if let Some(holders) = &facts.copyright {
            return holders.clone();
        }
        self.dep5
            .iter_files()
            .filter(|p| !p.files().iter().any(|pattern| pattern == "*"))
            .find(|p| {
                p.files()
                    .iter()
                    .any(|pattern| facts.files.iter().any(|f| f == pattern))
            })
            .map(|p| p.copyright().join("\n").trim().to_string())
            .filter(|holders| !holders.is_empty() && !holders.starts_with("FIXME"))
            .unwrap_or_else(|| format!("the authors of the {model} weights (upstream names none)"))
    }

    /// The name and text of `license`: for a licence Debian ships, its notice and the pointer
    /// to /usr/share/common-licenses, as `init` writes them in debian/copyright (one function,
    /// [`crate::spdx::LicenseTable::dep5`], makes both); else a stand-alone `License:`
    /// paragraph or the body of a `Files` paragraph's `License` field, under its DEP-5 or its
    /// SPDX name.
    fn license_text(&self, license: &crate::plan::License) -> Result<(String, String)> {
        if let Some(text) = &license.common_text {
            return Ok((license.dep5.clone(), text.clone()));
        }
        for name in [&license.dep5, &license.spdx] {
            if let Some(text) = self.text_of(name) {
                return Ok((name.clone(), text));
            }
        }
        bail!(
            "debian/copyright has no text for licence {}: add a stand-alone \"License: {}\" \
             paragraph with the licence text (DEP-5), which the locally built weights package repeats",
            license.dep5,
            license.dep5
        )
    }

    /// The text given for the licence named `license`, if any.
    fn text_of(&self, license: &str) -> Option<String> {
        self.dep5
            .iter_licenses()
            .map(|p| p.license())
            .chain(self.dep5.iter_files().filter_map(|p| p.license()))
            .find_map(|l| match l {
                License::Named(name, text) if name.trim() == license && !text.trim().is_empty() => {
                    Some(text.trim_end().to_string())
                }
                _ => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copyright(text: &str) -> Copyright {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("copyright");
        std::fs::write(&path, text).unwrap();
        Copyright::read(&path).unwrap()
    }

    /// A licence as the plan resolves it.
    fn licence(spdx: &str) -> crate::plan::License {
        let table: crate::spdx::LicenseTable =
            toml::from_str(include_str!("../../policy/licenses.toml")).unwrap();
        let dep5 = table.dep5(&crate::spdx::parse(spdx).unwrap());
        crate::plan::License {
            spdx: spdx.into(),
            dep5: dep5.name,
            common_license: dep5.common_license,
            common_text: dep5.common_text,
        }
    }

    fn facts(files: &[&str], copyright: Option<&str>) -> crate::plan::ModelFacts {
        crate::plan::ModelFacts {
            files: files.iter().map(|f| f.to_string()).collect(),
            copyright: copyright.map(str::to_string),
            ..Default::default()
        }
    }

    const HEADER: &str = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: foo\n\n";

    #[test]
    fn holders_are_the_weights_never_the_codes() {
        let c = copyright(&format!(
            "{HEADER}Files: *\nCopyright: 2024 Code Author\nLicense: MIT\n\n\
             Files: models/net.onnx\nCopyright:\n 2023 Research Lab\n 2024 B\nLicense: CC-BY-4.0\n"
        ));
        assert_eq!(
            c.holders_of("net", &facts(&["models/net.onnx"], None)),
            "2023 Research Lab\n2024 B"
        );
        assert_eq!(
            c.holders_of("net", &facts(&["models/net.onnx"], Some("2025 Lab"))),
            "2025 Lab"
        );
        let other = c.holders_of("voice", &facts(&["voice.onnx"], None));
        assert!(!other.contains("Code Author"), "{other}");
        assert!(other.contains("upstream names none"), "{other}");
    }

    #[test]
    fn licence_text_from_a_stand_alone_or_files_paragraph() {
        let c = copyright(&format!(
            "{HEADER}Files: *\nCopyright: 2026 A\nLicense: MIT\n\n\
             # a comment\n\
             License: MIT\n Permission is granted.\n .\n  1. Indented.\n .\n The end.\n"
        ));
        // Found under the SPDX name when debian/copyright does not use the DEP-5 one.
        assert_eq!(
            c.license_text(&licence("MIT")).unwrap(),
            (
                "MIT".to_string(),
                "Permission is granted.\n\n 1. Indented.\n\nThe end.".to_string()
            )
        );
        let c = copyright(&format!(
            "{HEADER}Files: *\nCopyright: 2026 A\nLicense: LicenseRef-x\n Line one.\n .\n Line two.\n"
        ));
        assert_eq!(
            c.license_text(&licence("LicenseRef-x")).unwrap().1,
            "Line one.\n\nLine two."
        );
    }

    #[test]
    fn a_common_licence_gets_the_notice_init_writes_or_text_is_required() {
        let c = copyright(&format!(
            "{HEADER}Files: *\nCopyright: 2026 A\nLicense: LicenseRef-none\n"
        ));
        let err = c
            .license_text(&licence("LicenseRef-none"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"License: LicenseRef-none\""), "{err}");
        let gpl = licence("GPL-2.0-or-later");
        let (name, text) = c.license_text(&gpl).unwrap();
        assert_eq!(name, "GPL-2+");
        assert_eq!(Some(text), gpl.common_text);
    }

    #[test]
    fn a_copyright_file_that_is_not_dep5_uses_the_fallbacks() {
        let c = copyright("This package was debianized by someone.\n\nCopyright: 2020 X\n");
        assert!(
            c.holders_of("m", &facts(&["m.bin"], None))
                .contains("upstream names none")
        );
        assert!(c.license_text(&licence("LicenseRef-none")).is_err());
    }
}
