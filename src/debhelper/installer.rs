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
        copyright: copyright.holders,
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
/// `debian-copyright`): the licence text and the copyright holders of the upstream files.
struct Copyright {
    dep5: debian_copyright::lossless::Copyright,
    holders: String,
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
        let holders = dep5
            .iter_files()
            .find(|p| p.files().iter().any(|pattern| pattern == "*"))
            .map(|p| p.copyright().join("\n").trim().to_string())
            .filter(|holders| !holders.is_empty())
            .unwrap_or_else(|| "the upstream authors".to_string());
        Ok(Self { dep5, holders })
    }

    /// The name and text of `license`: a stand-alone `License:` paragraph or the body of a
    /// `Files` paragraph's `License` field, under its DEP-5 or its SPDX name; else a pointer to
    /// the copy in /usr/share/common-licenses.
    fn license_text(&self, license: &crate::plan::License) -> Result<(String, String)> {
        for name in [&license.dep5, &license.spdx] {
            if let Some(text) = self.text_of(name) {
                return Ok((name.clone(), text));
            }
        }
        if let Some(file) = &license.common_license {
            let common = Path::new("/usr/share/common-licenses").join(file);
            if common.exists() {
                return Ok((
                    license.dep5.clone(),
                    format!(
                        "On Debian systems, the complete text of the {} licence is in {}.",
                        license.dep5,
                        common.display()
                    ),
                ));
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
    fn licence(spdx: &str, dep5: &str, common: Option<&str>) -> crate::plan::License {
        crate::plan::License {
            spdx: spdx.into(),
            dep5: dep5.into(),
            common_license: common.map(str::to_string),
        }
    }

    const HEADER: &str = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: foo\n\n";

    #[test]
    fn holders_of_the_files_star_paragraph() {
        let c = copyright(&format!(
            "{HEADER}Files: debian/*\nCopyright: 2026 Packager\nLicense: MIT\n\n\
             Files: src/* *\nCopyright:\n 2024 A\n 2025 B\nLicense: MIT\n"
        ));
        assert_eq!(c.holders, "2024 A\n2025 B");
        let c = copyright(&format!(
            "{HEADER}Files: debian/*\nCopyright: 2026 P\nLicense: MIT\n"
        ));
        assert_eq!(c.holders, "the upstream authors");
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
            c.license_text(&licence("MIT", "Expat", None)).unwrap(),
            (
                "MIT".to_string(),
                "Permission is granted.\n\n 1. Indented.\n\nThe end.".to_string()
            )
        );
        let c = copyright(&format!(
            "{HEADER}Files: *\nCopyright: 2026 A\nLicense: LicenseRef-x\n Line one.\n .\n Line two.\n"
        ));
        assert_eq!(
            c.license_text(&licence("LicenseRef-x", "LicenseRef-x", None))
                .unwrap()
                .1,
            "Line one.\n\nLine two."
        );
    }

    #[test]
    fn licence_without_text_points_to_common_licenses_or_fails() {
        let c = copyright(&format!(
            "{HEADER}Files: *\nCopyright: 2026 A\nLicense: LicenseRef-none\n"
        ));
        let err = c
            .license_text(&licence("LicenseRef-none", "LicenseRef-none", None))
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"License: LicenseRef-none\""), "{err}");
        // base-files ships /usr/share/common-licenses on every Debian system.
        let (name, text) = c
            .license_text(&licence("GPL-2.0-or-later", "GPL-2+", Some("GPL-2")))
            .unwrap();
        assert_eq!(name, "GPL-2+");
        assert!(text.contains("/usr/share/common-licenses/GPL-2."), "{text}");
    }

    #[test]
    fn a_copyright_file_that_is_not_dep5_uses_the_fallbacks() {
        let c = copyright("This package was debianized by someone.\n\nCopyright: 2020 X\n");
        assert_eq!(c.holders, "the upstream authors");
        assert!(
            c.license_text(&licence("LicenseRef-none", "LicenseRef-none", None))
                .is_err()
        );
    }
}
