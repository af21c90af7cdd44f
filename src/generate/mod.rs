//! `dh-mlmodel init` (alias `update`): writes a `debian/` directory that builds, from the
//! manifest's plan and what the upstream tree says about itself (DESIGN.md §2: manifest →
//! classify → plan → generate).
//!
//! * `control` is created or edited losslessly ([`control`]);
//! * the other files are rendered from `templates/debian/` ([`files`]) and written only while
//!   the maintainer has not changed them ([`state`]);
//! * `mlmodel.toml` is drafted by [`crate::pipeline::draft`] when absent and never rewritten.
//!
//! Models still `incomplete` get no packages: the code packages build, and the report (and
//! README.Debian) lists each missing fact with its `FILE:LINE:COLUMN`. Filling them in and
//! running `init` again adds the models' packages.

pub mod buildsys;
pub mod control;
pub mod files;
pub mod state;
pub mod upstream;

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::pipeline::{self, MANIFEST_PATH, PipelinePolicy, Request};
use crate::plan::{self, Area, Category, DataSource, Missing, Origin, Role};
use crate::policy::PolicySource;
use buildsys::{BuildSystem, BuildSystemTable};
use upstream::Upstream;

/// Section of the model packages (weights are data for a scientific program).
const MODEL_SECTION: &str = "science";

/// Width of wrapped text in control and copyright fields.
const TEXT_WIDTH: usize = 72;

/// Standards-Version the generated files follow (Debian 12's debhelper and lintian).
const STANDARDS_VERSION: &str = "4.6.2";

/// Every table `init` reads.
pub struct GeneratePolicy {
    pub pipeline: PipelinePolicy,
    pub build_systems: BuildSystemTable,
}

impl GeneratePolicy {
    pub fn load(policy: &PolicySource) -> Result<Self> {
        Ok(Self {
            pipeline: PipelinePolicy::load(policy)?,
            build_systems: policy.table("buildsystems.toml")?,
        })
    }
}

/// What `init` did.
#[derive(Debug, Default)]
pub struct Report {
    /// The manifest was drafted by this run.
    pub manifest_drafted: bool,
    /// Each file considered, with what happened to it.
    pub files: Vec<(String, state::Outcome)>,
    /// Binary packages in the plan (code and model packages).
    pub packages: Vec<String>,
    /// Incomplete models and their missing facts.
    pub missing: Vec<(String, Vec<Missing>)>,
    pub warnings: Vec<String>,
}

/// Writes (or updates) `root/debian/`.
pub fn generate(
    root: &Path,
    explicit_source: Option<&str>,
    policy: &GeneratePolicy,
) -> Result<Report> {
    let mut report = Report::default();
    let request = Request {
        root,
        manifest: None,
        source: explicit_source,
        draft_when_missing: true,
    };
    let loaded = pipeline::load(&request, &policy.pipeline)?;
    report.manifest_drafted = loaded.manifest_drafted;
    report.warnings.extend(loaded.warnings);
    let plan = loaded.plan;
    let source = plan.source.clone();

    let upstream = Upstream::detect(root, &policy.pipeline.draft);
    let build = policy.build_systems.detect(root);
    let upstream_version = plan
        .upstream_version
        .clone()
        .or_else(|| upstream.version.clone())
        .unwrap_or_else(|| {
            report.warnings.push(
                "no upstream version found (pyproject.toml, setup.py, CMakeLists.txt, \
                 configure.ac): using 0; set `[source] version` in debian/mlmodel.toml"
                    .to_string(),
            );
            "0".to_string()
        });
    let maintainer = maintainer_from_env().unwrap_or_else(|| {
        report.warnings.push(
            "DEBFULLNAME and DEBEMAIL are not set: the maintainer is a placeholder; set them \
             and edit debian/control and debian/changelog"
                .to_string(),
        );
        FALLBACK_MAINTAINER.to_string()
    });
    let epoch = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => value
            .trim()
            .parse::<i64>()
            .with_context(|| format!("SOURCE_DATE_EPOCH={value} is not a number of seconds"))?,
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    };

    let code_package = build.package_name(&source, upstream.name.as_deref());
    let models = model_views(&plan);
    for model in &plan.models {
        if model.class.category == Category::Incomplete {
            report
                .missing
                .push((model.name.clone(), model.class.missing.clone()));
        }
    }

    let mut state = state::State::load(root)?;
    let spec = control_spec(
        &source,
        &code_package,
        build,
        &upstream,
        &maintainer,
        &plan,
        &models,
    );
    report.packages = spec.binaries.iter().map(|b| b.name.clone()).collect();
    let control_path = root.join("debian/control");
    let existing = match std::fs::read_to_string(&control_path) {
        Ok(text) => Some(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => {
            return Err(err).with_context(|| format!("cannot read {}", control_path.display()));
        }
    };
    let model_packages: Vec<String> = models.iter().flat_map(|m| m.packages.clone()).collect();
    let retired: Vec<String> = state
        .packages
        .iter()
        .filter(|p| !model_packages.contains(p))
        .cloned()
        .collect();
    let text = control::update(existing.as_deref(), &spec, &retired)?;
    let outcome = if existing.as_deref() == Some(text.as_str()) {
        state::Outcome::Unchanged
    } else {
        crate::fsutil::write_atomic(&control_path, text.as_bytes(), 0o644)?;
        state::Outcome::Written
    };
    report.files.push(("debian/control".to_string(), outcome));
    state.packages = model_packages;

    let files_excluded: Vec<String> = plan
        .models
        .iter()
        .filter(|m| m.removed_from_source)
        .flat_map(|m| m.facts.files.iter().cloned())
        .collect();
    let mut disclaimers: Vec<Vec<String>> = Vec::new();
    for text in plan.models.iter().filter_map(|m| m.disclaimer.as_deref()) {
        let lines = wrap(text, TEXT_WIDTH);
        if !disclaimers.contains(&lines) {
            disclaimers.push(lines);
        }
    }
    let upstream_name = upstream.name.clone().unwrap_or_else(|| source.clone());
    let repository = upstream.homepage.as_deref().and_then(github_repository);
    let context = FileContext {
        source: source.clone(),
        version: format!(
            "{upstream_version}{}-1",
            plan.repack_suffix.as_deref().unwrap_or("")
        ),
        upstream_name: upstream_name.clone(),
        maintainer,
        date: rfc2822(epoch),
        year: civil_from_epoch(epoch).0.to_string(),
        homepage: upstream.homepage.clone(),
        repository: repository.clone(),
        upstream_license: upstream
            .license
            .clone()
            .unwrap_or_else(|| "FIXME-the-upstream-licence".to_string()),
        license_text: upstream
            .license_text
            .as_deref()
            .map(license_lines)
            .unwrap_or_default(),
        copyright: upstream.copyright.clone(),
        build: build.clone(),
        exports: build.exports(&source, upstream.name.as_deref()),
        code_package: code_package.clone(),
        files_excluded,
        disclaimers,
        watch: watch_line(&upstream, repository.as_deref(), build, &upstream_name),
        repack_suffix: plan.repack_suffix.clone(),
        models,
    };
    for file in files::render_all(&context)? {
        let outcome = state.write_generated(root, file.path, &file.text, file.mode)?;
        report.files.push((file.path.to_string(), outcome));
    }
    state.save(root)?;
    Ok(report)
}

/// Used when DEBFULLNAME/DEBEMAIL are unset: valid syntax (the package builds), and obviously a
/// placeholder.
const FALLBACK_MAINTAINER: &str = "FIXME Maintainer <fixme@example.org>";

/// `Name <address>` from DEBFULLNAME/NAME and DEBEMAIL/EMAIL, as dch reads them (DEBEMAIL may
/// itself be `Name <address>`).
fn maintainer_from_env() -> Option<String> {
    let var = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
    };
    let email = var(&["DEBEMAIL", "EMAIL"])?;
    if let Some((name, rest)) = email.split_once('<') {
        let address = rest.trim_end_matches('>').trim();
        let name = var(&["DEBFULLNAME", "NAME"]).unwrap_or_else(|| name.trim().to_string());
        return (!name.is_empty()).then(|| format!("{name} <{address}>"));
    }
    let name = var(&["DEBFULLNAME", "NAME"])?;
    Some(format!("{} <{}>", name.trim(), email.trim()))
}

/// One model, as the templates see it.
#[derive(Debug, Serialize)]
struct ModelView {
    name: String,
    category: &'static str,
    license: Option<String>,
    reasons: Vec<String>,
    missing: Vec<Missing>,
    readme: Option<String>,
    notes: Vec<String>,
    /// Packages in debian/control for this model.
    packages: Vec<String>,
    /// The weights package's name (built in the archive or on the user's machine).
    weights: Option<String>,
    weights_in_archive: bool,
    installer: Option<String>,
    installer_area: Option<&'static str>,
    helper: Option<String>,
    origin: Option<&'static str>,
    alternatives: Vec<&'static str>,
    install_dir: String,
    /// The model's files when they stay in the source (not `Files-Excluded`).
    kept_files: Vec<String>,
    /// The installer can retrain without network: free, every input in the source or a package.
    offline_training: bool,
    training_depends: Vec<String>,
}

fn model_views(plan: &plan::Plan) -> Vec<ModelView> {
    let mut views = Vec::new();
    for model_plan in &plan.models {
        let class = &model_plan.class;
        let facts = &model_plan.facts;
        let weights = model_plan.package(Role::Weights);
        let installer = model_plan.package(Role::Installer);
        let training = facts.training.as_ref();
        let offline_data = training.is_some_and(|t| {
            t.data
                .iter()
                .all(|d| matches!(d.source, Some(DataSource::Path(_) | DataSource::Package(_))))
        });
        let has_program = training.is_some_and(|t| t.program.is_some());
        let complete = class.category != Category::Incomplete;
        views.push(ModelView {
            name: model_plan.name.clone(),
            category: class.category.as_str(),
            license: facts.license.clone(),
            reasons: if complete {
                class.reasons.clone()
            } else {
                Vec::new()
            },
            missing: class.missing.clone(),
            readme: model_plan.readme.clone(),
            notes: model_plan.notes.clone(),
            packages: model_plan
                .packages
                .iter()
                .filter(|p| p.role == Role::Installer || p.origin == Origin::Archive)
                .map(|p| p.name.clone())
                .collect(),
            weights: weights.map(|p| p.name.clone()),
            weights_in_archive: weights.is_some_and(|p| p.origin == Origin::Archive),
            installer: installer.map(|p| p.name.clone()),
            installer_area: installer.map(|p| p.area.as_str()),
            helper: installer.and(weights).map(|p| format!("get-{}", p.name)),
            origin: weights.map(|p| p.origin.as_str()),
            alternatives: model_plan.alternatives.iter().map(|o| o.as_str()).collect(),
            install_dir: model_plan.install_dir.clone(),
            kept_files: if complete && !model_plan.removed_from_source {
                facts.files.clone()
            } else {
                Vec::new()
            },
            offline_training: installer.is_some()
                && class.category == Category::Free
                && has_program
                && offline_data,
            training_depends: training.map(|t| t.depends.clone()).unwrap_or_default(),
        });
    }
    views
}

fn section_in(area: Area) -> String {
    match area {
        Area::Main => MODEL_SECTION.to_string(),
        other => format!("{}/{MODEL_SECTION}", other.as_str()),
    }
}

fn control_spec(
    source: &str,
    code_package: &str,
    build: &BuildSystem,
    upstream: &Upstream,
    maintainer: &str,
    plan: &plan::Plan,
    models: &[ModelView],
) -> control::ControlSpec {
    let mut build_depends = vec![
        "debhelper-compat (= 13)".to_string(),
        "dh-sequence-mlmodel".to_string(),
    ];
    build_depends.extend(build.build_depends.iter().cloned());
    for model in &plan.models {
        for package in &model.build_depends {
            if !build_depends.contains(package) {
                build_depends.push(package.clone());
            }
        }
    }
    let name = upstream.name.as_deref().unwrap_or(source);
    let summary = upstream
        .summary
        .clone()
        .map(|s| synopsis(&s))
        .unwrap_or_else(|| format!("FIXME: a one-line synopsis of {name}"));
    let what = if build.name == "python" {
        format!("This package contains the Python 3 module {name}.")
    } else {
        format!("This package contains {name}, built with {}.", build.name)
    };
    let mut binaries = vec![control::BinarySpec {
        name: code_package.to_string(),
        architecture: build.architecture.clone(),
        section: build.section.clone(),
        owned: false,
        relations: vec![
            ("Depends", build.depends.clone()),
            ("Recommends", vec!["${mlmodel:Recommends}".to_string()]),
            ("Suggests", vec!["${mlmodel:Suggests}".to_string()]),
        ],
        description: description(&summary, &what),
    }];
    for (model, view) in plan.models.iter().zip(models) {
        for package in &model.packages {
            let misc = "${misc:Depends}".to_string();
            match package.role {
                Role::Weights if package.origin == Origin::Archive => {
                    binaries.push(control::BinarySpec {
                        name: package.name.clone(),
                        architecture: "all".to_string(),
                        section: section_in(package.area),
                        owned: true,
                        relations: vec![("Depends", vec![misc])],
                        description: description(
                            &format!("{} model weights for {name}", view.name),
                            &format!(
                                "The {} model {}, trained from the source during the package \
                                 build and installed under {}.",
                                view.category, view.name, model.install_dir
                            ),
                        ),
                    })
                }
                Role::Weights => {}
                Role::Installer => binaries.push(control::BinarySpec {
                    name: package.name.clone(),
                    architecture: "all".to_string(),
                    section: section_in(package.area),
                    owned: true,
                    relations: vec![("Depends", vec![misc, "${mlmodel:Depends}".to_string()])],
                    description: description(
                        &format!("installer for the {} model weights of {name}", view.name),
                        &format!(
                        "The command {} builds the package {} on this machine: it {}, then \
                         installs the weights under {}.",
                        view.helper.as_deref().unwrap_or_default(),
                        view.weights.as_deref().unwrap_or_default(),
                        match view.origin {
                            Some("retrained") => "retrains the weights from the free training data",
                            _ => "downloads the published weights and checks their pinned size and SHA-256",
                        },
                        model.install_dir
                        ),
                    ),
                }),
            }
        }
    }
    control::ControlSpec {
        source: control::SourceSpec {
            name: source.to_string(),
            section: build.section.clone(),
            maintainer: maintainer.to_string(),
            build_depends,
            homepage: upstream.homepage.clone().filter(|h| h.starts_with("http")),
            standards_version: STANDARDS_VERSION.to_string(),
        },
        binaries,
    }
}

/// A synopsis: one line, no final full stop, at most 80 characters (Debian Policy 3.4.1).
fn synopsis(text: &str) -> String {
    let line = text
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .trim_end_matches('.');
    let mut out: String = line.chars().take(79).collect();
    // "Classify points" → "classify points", but "NumPy arrays" and "C library" stay.
    let first_word = out.split_whitespace().next().unwrap_or("");
    if let Some(first) = out.get(..1)
        && first_word.len() > 1
        && first_word.chars().skip(1).all(|c| !c.is_uppercase())
    {
        out = first.to_lowercase() + &out[1..];
    }
    out
}

/// Words of `text` in lines of at most `width` characters (a longer word gets its own line).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A package description: the synopsis, then the extended text wrapped.
fn description(synopsis: &str, extended: &str) -> String {
    let mut text = synopsis.to_string();
    for line in wrap(extended, TEXT_WIDTH) {
        text.push('\n');
        text.push_str(&line);
    }
    text
}

/// The licence text as DEP-5 continuation lines (without the leading space; empty lines as `.`).
fn license_lines(text: &str) -> Vec<String> {
    text.trim()
        .lines()
        .map(|line| {
            let line = line.trim_end();
            if line.is_empty() {
                ".".to_string()
            } else {
                line.to_string()
            }
        })
        .collect()
}

/// `https://github.com/OWNER/REPO` of a GitHub URL.
fn github_repository(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://github.com/")
        .or_else(|| url.strip_prefix("http://github.com/"))?;
    let mut parts = rest.split('/').filter(|p| !p.is_empty());
    let owner = parts.next()?;
    let repo = parts.next()?.trim_end_matches(".git");
    Some(format!("https://github.com/{owner}/{repo}"))
}

/// The uscan line for upstream's releases: GitHub tags, else PyPI for Python, else the home page.
fn watch_line(
    upstream: &Upstream,
    repository: Option<&str>,
    build: &BuildSystem,
    name: &str,
) -> Option<String> {
    if let Some(repository) = repository {
        return Some(format!(
            "{repository}/tags .*/archive/refs/tags/v?@ANY_VERSION@@ARCHIVE_EXT@"
        ));
    }
    if build.name == "python" && upstream.name.is_some() {
        return Some(format!(
            "https://pypi.debian.net/{name}/{name}@ANY_VERSION@@ARCHIVE_EXT@"
        ));
    }
    upstream
        .homepage
        .as_ref()
        .filter(|h| h.starts_with("http"))
        .map(|homepage| format!("{homepage} .*/{name}@ANY_VERSION@@ARCHIVE_EXT@"))
}

#[derive(Serialize)]
struct FileContext {
    source: String,
    version: String,
    upstream_name: String,
    maintainer: String,
    date: String,
    year: String,
    homepage: Option<String>,
    repository: Option<String>,
    upstream_license: String,
    license_text: Vec<String>,
    copyright: Vec<String>,
    build: BuildSystem,
    exports: Vec<String>,
    code_package: String,
    files_excluded: Vec<String>,
    disclaimers: Vec<Vec<String>>,
    watch: Option<String>,
    repack_suffix: Option<String>,
    models: Vec<ModelView>,
}

/// (year, month, day, seconds of day) of a Unix time (proleptic Gregorian calendar, UTC).
fn civil_from_epoch(epoch: i64) -> (i64, u32, u32, i64) {
    let days = epoch.div_euclid(86_400);
    let seconds = epoch.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, seconds)
}

/// The changelog's date format (RFC 5322, in UTC).
fn rfc2822(epoch: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (year, month, day, seconds) = civil_from_epoch(epoch);
    let weekday = DAYS[epoch.div_euclid(86_400).rem_euclid(7) as usize];
    format!(
        "{weekday}, {day:02} {} {year} {:02}:{:02}:{:02} +0000",
        MONTHS[month as usize - 1],
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// A readable summary of `report` for the terminal.
pub fn describe(report: &Report) -> String {
    let mut out = String::new();
    if report.manifest_drafted {
        out.push_str(&format!(
            "drafted {MANIFEST_PATH} from a scan: its FIXME placeholders are facts to fill in\n"
        ));
    }
    for (path, outcome) in &report.files {
        match outcome {
            state::Outcome::Written => out.push_str(&format!("wrote {path}\n")),
            state::Outcome::Unchanged => out.push_str(&format!("unchanged {path}\n")),
            state::Outcome::Kept(why) => out.push_str(&format!("left {path} alone: {why}\n")),
        }
    }
    out.push_str(&format!(
        "binary packages: {}\n",
        report.packages.join(", ")
    ));
    for (model, missing) in &report.missing {
        out.push_str(&format!(
            "model {model} is incomplete and not packaged yet; fill in these facts, then run \
             `dh-mlmodel init` again:\n"
        ));
        for fact in missing {
            out.push_str(&format!("  {}: {}\n", fact.at, fact.message));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_changelog_dates() {
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc2822(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 +0000");
        assert_eq!(rfc2822(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
    }

    #[test]
    fn synopsis_and_repository() {
        assert_eq!(
            synopsis("Classify 2-D points.\nMore"),
            "classify 2-D points"
        );
        assert_eq!(synopsis("NumPy arrays"), "NumPy arrays");
        assert_eq!(
            github_repository("https://github.com/o/r.git").as_deref(),
            Some("https://github.com/o/r")
        );
        assert_eq!(github_repository("https://example.org/x"), None);
    }
}
