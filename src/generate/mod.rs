//! `dh-mlmodel init` (alias `update`): writes a `debian/` directory that builds, from the
//! manifest's plan and what the upstream tree says about itself (DESIGN.md §2: manifest →
//! classify → plan → generate).
//!
//! * `control` is created or edited losslessly ([`control`]);
//! * `changelog` is written by `debian-changelog`, the other files are rendered from
//!   `templates/debian/` ([`files`]); each is written only while the maintainer has not changed
//!   it ([`state`]);
//! * `mlmodel.toml` is drafted by [`crate::pipeline::draft`] when absent and never rewritten.
//!
//! Models still `incomplete` get no packages: the code packages build, and the report (and
//! README.Debian) lists each missing fact with its `FILE:LINE:COLUMN`. Filling them in and
//! running `init` again adds the models' packages.

pub mod buildsys;
pub mod control;
mod copyright;
mod fetched;
pub mod files;
mod install;
mod libraries;
mod packages;
mod patches;
mod report;
mod requirements;
pub mod state;
pub(crate) mod text;
mod views;
mod watch;

pub use report::describe;

use std::path::Path;

use anyhow::{Context, Result};
use chrono::Datelike;

use crate::error::ResultExt;
use crate::pipeline::{self, PipelinePolicy, Request};
use crate::plan::{Category, Missing};
use crate::policy::PolicySource;
use crate::upstream::Upstream;
use buildsys::BuildSystemTable;
use packages::control_spec;
use text::{TEXT_WIDTH, wrap};
use views::{FileContext, model_views};
use watch::{github_repository, watch_line, watch_options};

/// Every table `init` reads.
pub struct GeneratePolicy {
    pub pipeline: PipelinePolicy,
    pub build_systems: BuildSystemTable,
    pub fetched_code: fetched::FetchedCodeTable,
}

impl GeneratePolicy {
    pub fn load(policy: &PolicySource) -> Result<Self> {
        Ok(Self {
            pipeline: PipelinePolicy::load(policy)?,
            build_systems: policy.table("buildsystems.toml")?,
            fetched_code: policy.table("fetched-code.toml")?,
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
    /// Items of debian/control the tool added earlier and the maintainer removed since: not
    /// added again (each reported once).
    pub removed: Vec<String>,
    /// What to do about each fetch of code, and each download of compiled-in weights, the
    /// upstream build makes.
    pub build_fetches: Vec<String>,
    /// Orig components the build needs (weights compiled into the code): (component, model).
    pub components: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

/// Writes (or updates) `root/debian/`.
pub fn generate(
    root: &Path,
    explicit_source: Option<&str>,
    policy: &GeneratePolicy,
) -> Result<Report> {
    let mut report = Report::default();
    let mut state = state::State::load(root)?;
    let renamed = match explicit_source {
        Some(_) => None,
        None => renamed_source(root, &state, &mut report.warnings)?,
    };
    let request = Request {
        root,
        manifest: None,
        source: explicit_source.or(renamed.as_deref()),
        draft_when_missing: true,
    };
    let loaded = pipeline::load(&request, &policy.pipeline)?;
    report.manifest_drafted = loaded.manifest_drafted;
    report.warnings.extend(loaded.warnings);
    let plan = loaded.plan;
    report.components = plan
        .components()
        .map(|(model, component)| (component.name.clone(), model.name.clone()))
        .collect();
    let source = plan.source.clone();

    let upstream = Upstream::detect(root, &policy.pipeline.draft);
    let mut build = policy
        .build_systems
        .detect(root)
        .for_tree(root, &mut report.warnings);
    if let Some(area) = code_area(&upstream, &policy.pipeline.draft.licenses) {
        report.warnings.push(format!(
            "the code's licence {} is not DFSG-free: its package goes to {area} (and the source \
             with it, unless another package is freer)",
            upstream.license.as_deref().unwrap_or_default()
        ));
        build.section = format!("{area}/{}", build.section);
    }
    let fetches = fetched::build_fetches(root, &policy.pipeline.draft.scan, &policy.fetched_code)?;
    let code_fetches = &fetches.code;
    let mut planned_patches =
        patches::external_project::plan(root, code_fetches, &policy.fetched_code)?;
    let patch_of = |fetch: &fetched::CodeFetch| {
        planned_patches
            .iter()
            .find(|p| p.path == fetch.path && p.line == fetch.line)
    };
    report.build_fetches = code_fetches
        .iter()
        .map(|f| f.advice(&build.name, patch_of(f)))
        .collect();
    // The build now needs the installed copy: its development package goes to Build-Depends
    // (through debian/control's ledger, so a maintainer's removal stays).
    for fetch in code_fetches {
        if let Some(project) = &fetch.project
            && fetch.uses_installed(&build.name, patch_of(fetch))
            && let Some(package) = project.packages.first()
            && !build.build_depends.contains(package)
        {
            build.build_depends.push(package.clone());
        }
    }
    let guards = patches::download_guard::plan(
        root,
        &fetches.weights,
        &plan,
        policy.fetched_code.max_build_file_bytes,
    )?;
    report.build_fetches.extend(guards.advice);
    planned_patches.extend(guards.patches);
    let fetch_content = code_fetches
        .iter()
        .any(|f| f.fetcher == fetched::Fetcher::FetchContent);
    let upstream_version = plan
        .upstream_version
        .clone()
        .or_else(|| {
            upstream
                .version
                .as_deref()
                .map(crate::upstream::debian_version)
        })
        .unwrap_or_else(|| {
            report.warnings.push(
                "no upstream version found (in pyproject.toml, setup.py, setup.cfg, \
                 CMakeLists.txt, configure.ac, meson.build, Cargo.toml, package.json, VERSION, \
                 or the directory's name as NAME-VERSION): using 0; set `[source] version` in \
                 debian/mlmodel.toml"
                    .to_string(),
            );
            "0".to_string()
        });
    let repack_suffix = plan.repack_suffix.as_deref().unwrap_or("");
    let mut version = format!("{upstream_version}{repack_suffix}-1");
    if let Err(err) = version.parse::<debversion::Version>() {
        report.warnings.push(format!(
            "{version} is not a Debian version ({err}): using 0{repack_suffix}-1 in \
             debian/changelog; set `[source] version` in debian/mlmodel.toml"
        ));
        version = format!("0{repack_suffix}-1");
    }
    let identity = maintainer_from_env(|name| std::env::var(name).ok()).unwrap_or_else(|| {
        report.warnings.push(
            "neither DEBEMAIL nor EMAIL is set: the maintainer is a placeholder; set \
             DEBFULLNAME and DEBEMAIL and edit debian/control and debian/changelog"
                .to_string(),
        );
        (FALLBACK_NAME.to_string(), FALLBACK_ADDRESS.to_string())
    });
    let maintainer = format!("{} <{}>", identity.0, identity.1);
    let epoch = crate::build_env::epoch_or_now().input()?;
    let date = chrono::DateTime::from_timestamp(epoch, 0)
        .with_context(|| format!("SOURCE_DATE_EPOCH={epoch} is out of range"))
        .input()?;

    let code_package = build.package_name(&source, upstream.name.as_deref());
    let installed = libraries::detect(root, &build.name, &policy.pipeline.draft);
    let layout = installed.as_ref().and_then(|installed| {
        install::library_layout(
            installed,
            &code_package,
            upstream.name.as_deref().unwrap_or(&source),
            &policy.build_systems.libraries,
            &mut report.warnings,
        )
    });
    let mut install_files = match &layout {
        // Several packages share what the upstream build installs: it goes to debian/tmp and
        // each package's .install file takes its part.
        Some(layout) => {
            build.install_to_package = false;
            layout.files.clone()
        }
        None if build.name == policy.build_systems.fallback.name => {
            let model_files: Vec<String> = plan
                .models
                .iter()
                .flat_map(|m| m.facts.files.iter().cloned())
                .collect();
            install::unbuilt_tree(
                root,
                &code_package,
                &source,
                &model_files,
                &policy.build_systems.unbuilt,
                &policy.pipeline.draft,
            )
            .into_iter()
            .collect()
        }
        None => Vec::new(),
    };
    let build = &build;
    let models = model_views(&plan);
    for model in &plan.models {
        if model.class.category == Category::Incomplete {
            report
                .missing
                .push((model.name.clone(), model.class.missing.clone()));
        }
    }

    let spec = control_spec(
        &source,
        &code_package,
        build,
        layout.as_ref(),
        &policy.build_systems.libraries,
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
            return Err(err)
                .with_context(|| format!("cannot read {}", control_path.display()))
                .input();
        }
    };
    let model_packages: Vec<String> = models.iter().flat_map(|m| m.packages.clone()).collect();
    // Packages the tool added earlier that the plan no longer has (a model's packages, the
    // code package of a renamed source) go; the maintainer's own paragraphs stay.
    let planned: Vec<&str> = spec.binaries.iter().map(|b| b.name.as_str()).collect();
    let mut retired: Vec<String> = state
        .packages
        .iter()
        .map(String::as_str)
        .chain(
            state
                .control
                .iter()
                .filter_map(|item| item.strip_prefix("Package: ")),
        )
        .filter(|p| !planned.contains(p))
        .map(str::to_string)
        .collect();
    retired.sort();
    retired.dedup();
    let mut ledger = control::Ledger::new(std::mem::take(&mut state.control));
    let text = control::update(
        existing.as_deref(),
        &spec,
        &retired,
        renamed.is_some(),
        &mut ledger,
    )?;
    report
        .packages
        .retain(|p| !ledger.removed.contains(&format!("Package: {p}")));
    // A package the maintainer removed gets no install file either.
    install_files.retain(|f| report.packages.contains(&f.package));
    report.removed = ledger
        .removed
        .iter()
        .filter(|item| !state.removed.contains(*item))
        .cloned()
        .collect();
    // What is still recorded and absent stays recorded, so it stays out.
    state.control = ledger.present.union(&ledger.removed).cloned().collect();
    state.removed = ledger.removed;
    let outcome = if existing.as_deref() == Some(text.as_str()) {
        state::Outcome::Unchanged
    } else {
        crate::fsutil::write_atomic(&control_path, text.as_bytes(), 0o644)?;
        state::Outcome::Written
    };
    report.files.push(("debian/control".to_string(), outcome));
    state.packages = model_packages;
    if existing.is_none() || renamed.is_some() {
        state.source = Some(source.clone());
    }

    let files_excluded: Vec<String> = plan
        .models
        .iter()
        .flat_map(|m| m.excluded_files.iter().cloned())
        .collect();
    let mut disclaimers: Vec<Vec<String>> = Vec::new();
    for text in plan.models.iter().filter_map(|m| m.disclaimer.as_deref()) {
        let lines = wrap(text, TEXT_WIDTH);
        if !disclaimers.contains(&lines) {
            disclaimers.push(lines);
        }
    }
    report
        .warnings
        .extend(upstream.license_warnings.iter().cloned());
    let licensing = copyright::view(
        root,
        &upstream,
        &models,
        &files_excluded,
        &policy.pipeline.draft.licenses,
        &mut report.warnings,
    );
    let upstream_name = upstream.name.clone().unwrap_or_else(|| source.clone());
    let mut configure_arguments = Vec::new();
    if fetch_content && build.name == "cmake" {
        configure_arguments.push("-DFETCHCONTENT_TRY_FIND_PACKAGE_MODE=ALWAYS".to_string());
    }
    let shared_libs_arguments = layout
        .as_ref()
        .map(|l| l.installed.configure_arguments.clone())
        .unwrap_or_default();
    let build_shared_libs = !shared_libs_arguments.is_empty();
    configure_arguments.extend(shared_libs_arguments);
    let repository = upstream.homepage.as_deref().and_then(github_repository);
    let context = FileContext {
        source: source.clone(),
        version,
        upstream_name: upstream_name.clone(),
        maintainer,
        identity,
        // As `date -R` and dch write it: the day of the month in two digits.
        date: date.format("%a, %d %b %Y %H:%M:%S +0000").to_string(),
        datetime: date,
        year: date.year().to_string(),
        homepage: upstream.homepage.clone(),
        repository: repository.clone(),
        licensing,
        copyright: upstream.copyright.clone(),
        build: build.clone(),
        exports: build.exports(&source, upstream.name.as_deref()),
        code_package: code_package.clone(),
        files_excluded,
        disclaimers,
        watch: watch_line(&upstream, repository.as_deref(), build, &upstream_name),
        repack_suffix: plan.repack_suffix.clone(),
        watch_options: watch_options(plan.repack_suffix.as_deref(), &upstream_version),
        models,
        components: views::component_views(&plan),
        fetch_content,
        configure_arguments,
        build_shared_libs,
        libtool_archives: layout
            .as_ref()
            .is_some_and(|l| l.installed.libtool_archives),
        install_files,
    };
    for file in files::render_all(&context)? {
        let outcome = state.write_generated(root, &file.path, &file.text, file.mode)?;
        report.files.push((file.path, outcome));
    }
    let patch_texts = patches::render(
        &planned_patches,
        &context.maintainer,
        &date.format("%Y-%m-%d").to_string(),
    )?;
    report
        .files
        .extend(patches::write(root, &mut state, &patch_texts)?);
    state.save(root)?;
    Ok(report)
}

/// The manifest's `[source] name` when it should rename the source package: debian/control
/// still holds the `Source:` `init` wrote and the manifest names another. When the maintainer
/// changed `Source:` in control, control wins, and a warning says so.
fn renamed_source(
    root: &Path,
    state: &state::State,
    warnings: &mut Vec<String>,
) -> Result<Option<String>> {
    let Some(control) = crate::control::ControlFile::read_if_present(root).input()? else {
        return Ok(None);
    };
    let Some(wanted) = pipeline::manifest_source_name(root) else {
        return Ok(None);
    };
    if wanted == control.source {
        return Ok(None);
    }
    if state.source.as_deref() == Some(control.source.as_str()) {
        return Ok(Some(wanted));
    }
    warnings.push(format!(
        "debian/control says `Source: {}`, edited since dh-mlmodel wrote it, so it wins over \
         `[source] name = \"{wanted}\"` in debian/mlmodel.toml: change one to match the other",
        control.source
    ));
    Ok(None)
}

/// Used when DEBEMAIL and EMAIL are unset: valid syntax (the package builds), and obviously a
/// placeholder.
const FALLBACK_NAME: &str = "FIXME Maintainer";
const FALLBACK_ADDRESS: &str = "fixme@example.org";

/// (name, address) from DEBFULLNAME/NAME and DEBEMAIL/EMAIL as dch reads them (either address
/// variable may be `Name <address>`; without a name variable the name is the account's, from
/// its passwd entry). `None` when neither DEBEMAIL nor EMAIL is set: dch would then make an
/// address up from the user and host names, which must not reach an upload unnoticed.
fn maintainer_from_env(env: impl Fn(&str) -> Option<String>) -> Option<(String, String)> {
    let var = |name: &str| {
        env(name)
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
    };
    let debemail = var("DEBEMAIL");
    if debemail.is_none() && var("EMAIL").is_none() {
        return None;
    }
    let (name, address) = debian_changelog::get_maintainer_from_env(var)?;
    // debian-changelog 0.2.25 takes EMAIL's address over DEBEMAIL's when DEBFULLNAME is unset;
    // dch keeps DEBEMAIL's.
    let address = match &debemail {
        Some(debemail) => debian_changelog::parseaddr(debemail).1.to_string(),
        None => address,
    };
    Some((name, address))
}

/// The archive area the code's licence puts its package in, outside main: `non-free` when the
/// licence is judged not DFSG-free (`policy/licenses.toml`); `None` for a free or unknown one
/// (an unknown licence is the maintainer's to judge, and classify says so for models).
fn code_area(upstream: &Upstream, licenses: &crate::spdx::LicenseTable) -> Option<&'static str> {
    let expression = crate::spdx::parse(upstream.license.as_deref()?).ok()?;
    matches!(
        licenses.status(&expression),
        crate::spdx::Status::NonFree(_)
    )
    .then_some("non-free")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maintainer(vars: &[(&str, &str)]) -> Option<(String, String)> {
        maintainer_from_env(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    fn pair(name: &str, address: &str) -> Option<(String, String)> {
        Some((name.to_string(), address.to_string()))
    }

    #[test]
    fn maintainer_as_dch_reads_it() {
        assert_eq!(
            maintainer(&[
                ("DEBFULLNAME", "Ann Example"),
                ("DEBEMAIL", "ann@example.org")
            ]),
            pair("Ann Example", "ann@example.org")
        );
        assert_eq!(
            maintainer(&[("DEBEMAIL", "Ann Example <ann@example.org>")]),
            pair("Ann Example", "ann@example.org")
        );
        assert_eq!(
            maintainer(&[
                ("DEBFULLNAME", "Bob"),
                ("DEBEMAIL", "Ann <ann@example.org>")
            ]),
            pair("Bob", "ann@example.org")
        );
        assert_eq!(
            maintainer(&[("NAME", "Ann"), ("EMAIL", "ann@example.org")]),
            pair("Ann", "ann@example.org")
        );
        assert_eq!(
            maintainer(&[
                ("NAME", "Ann"),
                ("DEBEMAIL", "ann@debian.org"),
                ("EMAIL", "ann@example.org")
            ]),
            pair("Ann", "ann@debian.org")
        );
        assert_eq!(
            maintainer(&[
                ("DEBEMAIL", "ann@debian.org"),
                ("EMAIL", "Ann <ann@example.org>")
            ]),
            pair("Ann", "ann@debian.org")
        );
    }

    #[test]
    fn no_address_variable_means_no_maintainer() {
        assert_eq!(maintainer(&[("DEBFULLNAME", "Ann")]), None);
        assert_eq!(
            maintainer(&[("DEBFULLNAME", "Ann"), ("DEBEMAIL", " ")]),
            None
        );
    }
}
