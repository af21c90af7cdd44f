//! What the templates of `templates/debian/` see: the plan's models and the upstream's facts as
//! plain, serialisable values.

use serde::Serialize;

use super::buildsys::BuildSystem;
use crate::plan::{self, Category, DataSource, Missing, Origin, Role};

/// One model, as the templates see it.
#[derive(Debug, Serialize)]
pub struct ModelView {
    pub name: String,
    pub category: &'static str,
    pub license: Option<String>,
    /// The weights' copyright holders, when the manifest states them.
    pub copyright: Option<String>,
    /// Every file of the model, in the tree or not.
    pub files: Vec<String>,
    /// The orig component the weights come with (compiled into the code): its files are in
    /// `<component>/` of the unpacked source.
    pub component: Option<String>,
    pub reasons: Vec<String>,
    pub missing: Vec<Missing>,
    pub readme: Option<String>,
    pub notes: Vec<String>,
    /// Packages in debian/control for this model.
    pub packages: Vec<String>,
    /// The weights package's name (built in the archive or on the user's machine).
    pub weights: Option<String>,
    pub weights_in_archive: bool,
    pub installer: Option<String>,
    pub installer_area: Option<&'static str>,
    pub helper: Option<String>,
    pub origin: Option<&'static str>,
    pub alternatives: Vec<&'static str>,
    pub install_dir: String,
    /// The model's files when they stay in the source (not `Files-Excluded`).
    pub kept_files: Vec<String>,
    /// The installer can retrain without network: free, every input in the source or a package.
    pub offline_training: bool,
    pub training_depends: Vec<String>,
}

pub fn model_views(plan: &plan::Plan) -> Vec<ModelView> {
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
            license: facts.license.as_ref().map(|l| l.spdx.clone()),
            copyright: facts.copyright.clone(),
            files: facts.files.clone(),
            component: model_plan.component.as_ref().map(|c| c.name.clone()),
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

/// An orig component the build needs, as debian/rules sees it.
#[derive(Debug, Serialize)]
pub struct ComponentView {
    pub name: String,
    pub model: String,
    pub files: Vec<ComponentFile>,
}

/// A file the component puts in the tree: its place, and where it is in the component's
/// directory when dpkg-source dropped the tarball's single top directory.
#[derive(Debug, Serialize)]
pub struct ComponentFile {
    pub path: String,
    pub below_top: String,
}

pub fn component_views(plan: &plan::Plan) -> Vec<ComponentView> {
    plan.components()
        .map(|(model, component)| ComponentView {
            name: component.name.clone(),
            model: model.name.clone(),
            files: component
                .generates
                .iter()
                .map(|path| ComponentFile {
                    path: path.clone(),
                    below_top: path
                        .split_once('/')
                        .map_or(path.as_str(), |(_, rest)| rest)
                        .to_string(),
                })
                .collect(),
        })
        .collect()
}

/// Everything the templates of `templates/debian/` read.
#[derive(Serialize)]
pub struct FileContext {
    pub source: String,
    pub version: String,
    pub upstream_name: String,
    pub maintainer: String,
    /// The maintainer as (name, address), for debian/changelog.
    #[serde(skip)]
    pub identity: (String, String),
    pub date: String,
    /// The time of debian/changelog's entry (SOURCE_DATE_EPOCH when set).
    #[serde(skip)]
    pub datetime: chrono::DateTime<chrono::Utc>,
    pub year: String,
    pub homepage: Option<String>,
    pub repository: Option<String>,
    /// Licences and holders of debian/copyright.
    pub licensing: super::copyright::CopyrightView,
    /// The code's copyright holders, from its licence file.
    pub copyright: Vec<String>,
    pub build: BuildSystem,
    pub exports: Vec<String>,
    pub code_package: String,
    pub files_excluded: Vec<String>,
    pub disclaimers: Vec<Vec<String>>,
    pub watch: Option<String>,
    pub repack_suffix: Option<String>,
    /// uscan's `opts=` of debian/watch: the repack suffix, and the prefix of a date version.
    pub watch_options: Option<String>,
    pub models: Vec<ModelView>,
    /// Orig components of weights compiled into the code.
    pub components: Vec<ComponentView>,
    /// The CMake build fetches code with FetchContent: CMake must try the installed package.
    pub fetch_content: bool,
    /// Arguments `dh_auto_configure` passes to the upstream build system.
    pub configure_arguments: Vec<String>,
    /// The library types follow CMake's BUILD_SHARED_LIBS, set on for the library layout.
    pub build_shared_libs: bool,
    /// libtool installs `.la` files, removed before dh_install.
    pub libtool_archives: bool,
    /// `debian/<package>.install` files.
    pub install_files: Vec<super::install::InstallFile>,
}
