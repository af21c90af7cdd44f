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
mod packages;
mod report;
pub mod state;
mod text;
pub mod upstream;
mod views;
mod watch;

pub use report::describe;

use std::path::Path;

use anyhow::{Context, Result};
use chrono::Datelike;

use crate::pipeline::{self, PipelinePolicy, Request};
use crate::plan::{Category, Missing};
use crate::policy::PolicySource;
use buildsys::BuildSystemTable;
use packages::control_spec;
use text::{TEXT_WIDTH, license_lines, wrap};
use upstream::Upstream;
use views::{FileContext, model_views};
use watch::{github_repository, watch_line};

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
    let date = chrono::DateTime::from_timestamp(epoch, 0)
        .with_context(|| format!("SOURCE_DATE_EPOCH={epoch} is out of range"))?;

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
        date: date.to_rfc2822(),
        year: date.year().to_string(),
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
