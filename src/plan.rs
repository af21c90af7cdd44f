//! From verdicts to packages (DESIGN.md §3): for each model, its binary packages and their
//! archive areas, where the weights come from, whether the package build trains them, how the
//! code package refers to them, and the orig tarball's repack suffix. Reads only the
//! [`Classification`], the [`Manifest`] and the policy tables.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::classify::{Category, Classification, ModelClass};
use crate::manifest::{DataSource, Fact, Manifest, Model, PackageName, Program};
use crate::policy::PolicySource;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    Main,
    Contrib,
    NonFree,
}

impl Area {
    pub fn as_str(self) -> &'static str {
        match self {
            Area::Main => "main",
            Area::Contrib => "contrib",
            Area::NonFree => "non-free",
        }
    }
}

/// Where the weights in `<source>-model-<name>` come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Built in the archive (trained during the package build); for the installer, the
    /// installer package itself.
    Archive,
    /// Published weights, fetched and verified by the installer on the user's machine.
    Downloaded,
    /// Retrained by the installer on the user's machine from the free recipe.
    Retrained,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Archive => "archive",
            Origin::Downloaded => "downloaded",
            Origin::Retrained => "retrained",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Weights,
    Installer,
}

#[derive(Debug, Clone, Serialize)]
pub struct Package {
    pub name: String,
    pub role: Role,
    pub area: Area,
    pub origin: Origin,
}

/// How the code package names the model: `Recommends` only when the target is in main (Debian
/// Policy 2.2.1), `Suggests` otherwise.
#[derive(Debug, Clone, Serialize)]
pub struct Relation {
    pub field: &'static str,
    pub package: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelPlan {
    pub name: String,
    /// Empty while the model is incomplete.
    pub packages: Vec<Package>,
    pub install_dir: String,
    pub train_at_build: bool,
    /// Why a requested `at-build` training was refused; empty when granted or not asked.
    pub at_build_refused: Vec<String>,
    /// Other ways the installer can obtain the weights, besides the package's origin.
    pub alternatives: Vec<Origin>,
    /// The model's files are removed from the orig tarball.
    pub removed_from_source: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<Relation>,
    /// Packages the build needs when it trains the model.
    pub build_depends: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disclaimer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readme: Option<String>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub source: String,
    /// `+ds`, `+dfsg`, or absent when nothing is removed or a model is still incomplete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repack_suffix: Option<String>,
    pub models: Vec<ModelPlan>,
}

/// `policy/areas.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AreasTable {
    pub free: CategoryRules,
    pub toxic_candy: CategoryRules,
    pub non_free: CategoryRules,
    pub repack: RepackRules,
    pub installer: InstallerRules,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CategoryRules {
    pub weights_area: Area,
    pub repack_suffix: String,
    pub disclaimer: String,
    pub readme: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepackRules {
    pub precedence: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallerRules {
    pub network: Area,
    pub local: Area,
}

/// `policy/build.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BuildLimits {
    pub max_cpu_hours: f64,
    pub max_gpu_hours: f64,
}

#[derive(Debug, Clone)]
pub struct PlanPolicy {
    pub areas: AreasTable,
    pub build: BuildLimits,
}

impl PlanPolicy {
    pub fn load(policy: &PolicySource) -> Result<Self> {
        Ok(Self {
            areas: policy.table("areas.toml")?,
            build: policy.table("build.toml")?,
        })
    }

    fn rules(&self, category: Category) -> Option<&CategoryRules> {
        match category {
            Category::Free => Some(&self.areas.free),
            Category::ToxicCandy => Some(&self.areas.toxic_candy),
            Category::NonFree => Some(&self.areas.non_free),
            Category::Incomplete => None,
        }
    }
}

/// Builds the plan for every classified model of `manifest`.
pub fn plan(
    source: &str,
    manifest: &Manifest,
    classification: &Classification,
    policy: &PlanPolicy,
) -> Plan {
    let models: Vec<ModelPlan> = manifest
        .models
        .iter()
        .zip(&classification.models)
        .map(|(model, class)| plan_model(source, model, class, policy))
        .collect();
    let repack_suffix = if classification.any_incomplete() {
        None
    } else {
        let removed: Vec<&str> = manifest
            .models
            .iter()
            .zip(&classification.models)
            .zip(&models)
            .filter(|(_, plan)| plan.removed_from_source)
            .filter_map(|((_, class), _)| policy.rules(class.category))
            .map(|rules| rules.repack_suffix.as_str())
            .collect();
        policy
            .areas
            .repack
            .precedence
            .iter()
            .find(|suffix| removed.contains(&suffix.as_str()))
            .cloned()
            .or_else(|| removed.first().map(|s| s.to_string()))
    };
    Plan {
        source: source.to_string(),
        repack_suffix,
        models,
    }
}

fn plan_model(source: &str, model: &Model, class: &ModelClass, policy: &PlanPolicy) -> ModelPlan {
    let name = model.name();
    let weights_name = format!("{source}-model-{name}");
    let installer_name = format!("{weights_name}-installer");
    let install_dir = model.install_dir.as_ref().map_or_else(
        || format!("/usr/share/{source}/models/{name}"),
        |d| d.get_ref().clone(),
    );
    let mut plan = ModelPlan {
        name: name.to_string(),
        packages: Vec::new(),
        install_dir,
        train_at_build: false,
        at_build_refused: Vec::new(),
        alternatives: Vec::new(),
        removed_from_source: false,
        relation: None,
        build_depends: Vec::new(),
        disclaimer: None,
        readme: None,
        notes: Vec::new(),
    };
    let Some(rules) = policy.rules(class.category) else {
        plan.notes.push(
            "no packages are planned until the manifest states every missing fact".to_string(),
        );
        return plan;
    };
    plan.disclaimer = Some(rules.disclaimer.clone());
    plan.readme = Some(rules.readme.replace("{model}", name));

    let requested = model
        .training
        .as_ref()
        .and_then(|t| t.get_ref().at_build.as_ref())
        .is_some_and(|a| *a.get_ref());
    if requested {
        plan.at_build_refused = build_training_refusals(model, class.category, &policy.build);
        plan.train_at_build = plan.at_build_refused.is_empty();
    }

    let retrainable = class.category == Category::Free;
    // The weights are built in the archive when the package build trains them, or, for a free
    // model whose files upstream commits, shipped as they are: they can be rebuilt from free
    // inputs, and the pins prove the bytes are upstream's.
    if plan.train_at_build || (model.in_source && class.category == Category::Free) {
        if plan.train_at_build {
            plan.build_depends = build_depends(model);
        }
        plan.packages.push(Package {
            name: weights_name.clone(),
            role: Role::Weights,
            area: rules.weights_area,
            origin: Origin::Archive,
        });
        plan.relation = Some(relation(&weights_name, rules.weights_area));
        return plan;
    }

    plan.removed_from_source = true;
    let (origin, alternatives) = match (model.download.is_some(), retrainable) {
        (true, true) => (Origin::Downloaded, vec![Origin::Retrained]),
        (true, false) => (Origin::Downloaded, Vec::new()),
        (false, true) => (Origin::Retrained, Vec::new()),
        (false, false) => {
            plan.notes.push(
                "no [model.download]: the installer can only install the weights from a local \
                 copy (`--from DIR`)"
                    .to_string(),
            );
            (Origin::Downloaded, Vec::new())
        }
    };
    plan.alternatives = alternatives;
    let uses_network = origin == Origin::Downloaded || data_needs_network(model);
    let installer_area = if uses_network {
        policy.areas.installer.network
    } else {
        policy.areas.installer.local
    };
    plan.packages.push(Package {
        name: weights_name,
        role: Role::Weights,
        area: rules.weights_area,
        origin,
    });
    plan.packages.push(Package {
        name: installer_name.clone(),
        role: Role::Installer,
        area: installer_area,
        origin: Origin::Archive,
    });
    plan.relation = Some(relation(&installer_name, installer_area));
    plan
}

fn relation(package: &str, area: Area) -> Relation {
    Relation {
        field: if area == Area::Main {
            "Recommends"
        } else {
            "Suggests"
        },
        package: package.to_string(),
    }
}

fn data_needs_network(model: &Model) -> bool {
    model.training.as_ref().is_some_and(|t| {
        t.get_ref()
            .data
            .iter()
            .any(|d| matches!(d.get_ref().source(), Some(DataSource::Url(_)) | None))
    })
}

/// Why a package build may not train this model; empty when it may.
fn build_training_refusals(model: &Model, category: Category, limits: &BuildLimits) -> Vec<String> {
    let mut refusals = Vec::new();
    if category != Category::Free {
        refusals.push(format!(
            "the model is {}: only free models are trained during the package build",
            category.as_str()
        ));
    }
    let Some(training) = &model.training else {
        return refusals;
    };
    let t = training.get_ref();
    for data in &t.data {
        let data = data.get_ref();
        if matches!(data.source(), Some(DataSource::Url(_)) | None) {
            refusals.push(format!(
                "training data {} is only reachable by URL, and a package build must not use \
                 the network (Debian Policy 4.9): ship it in the source (`path`) or in a package \
                 (`package`)",
                data.label()
            ));
        }
    }
    if let Some(Fact::Known(gpu)) = t.gpu_hours.as_ref().map(|h| h.get_ref())
        && *gpu > limits.max_gpu_hours
    {
        refusals.push(format!(
            "training needs {gpu} GPU-hours, and the build machines allow {} (policy/build.toml \
             max-gpu-hours)",
            limits.max_gpu_hours
        ));
    }
    match t.cpu_hours.as_ref().map(|h| h.get_ref()) {
        Some(Fact::Known(cpu)) if *cpu > limits.max_cpu_hours => refusals.push(format!(
            "training needs {cpu} CPU-hours, over the {} a package build may spend \
             (policy/build.toml max-cpu-hours)",
            limits.max_cpu_hours
        )),
        Some(Fact::Known(_)) => {}
        _ => refusals.push(
            "`training.cpu-hours` is not stated: the build cost must be known before a build \
             trains the model"
                .to_string(),
        ),
    }
    if t.outputs.is_empty() {
        refusals.push(
            "`training.outputs` does not list the files the command writes in `{out}`, so the \
             build cannot install them"
                .to_string(),
        );
    }
    refusals
}

/// Build-Depends a build that trains the model needs: the program's package, the data
/// packages, and `training.depends`.
fn build_depends(model: &Model) -> Vec<String> {
    let mut packages = Vec::new();
    if let Some(training) = &model.training {
        let t = training.get_ref();
        if let Some(Fact::Known(Program::Package(package))) =
            t.program.as_ref().map(|p| p.get_ref())
        {
            packages.push(package.0.clone());
        }
        for data in &t.data {
            if let Some(DataSource::Package(package)) = data.get_ref().source() {
                packages.push(package.0.clone());
            }
        }
        packages.extend(t.depends.iter().map(|p| p.0.clone()));
    }
    packages.sort();
    packages.dedup();
    packages
}

/// The source package name: `--source`, else `debian/control`'s `Source:`, else the manifest's
/// `[source] name`, else the name of the tree's directory `root`.
pub fn source_name(
    explicit: Option<&str>,
    root: &Path,
    manifest_source: Option<&str>,
) -> Result<String> {
    if let Some(name) = explicit {
        return PackageName::try_from(name.to_string())
            .map(|p| p.0)
            .map_err(|err| anyhow::anyhow!("--source: {err}"));
    }
    let control = root.join("debian/control");
    if control.is_file() {
        let text = std::fs::read_to_string(&control)
            .with_context(|| format!("cannot read {}", control.display()))?;
        if let Some(name) = control_source(&text) {
            return PackageName::try_from(name)
                .map(|p| p.0)
                .map_err(|err| anyhow::anyhow!("{}: Source: {err}", control.display()));
        }
    }
    if let Some(name) = manifest_source {
        return Ok(name.to_string());
    }
    directory_source_name(root)
}

/// The upstream tree holding `manifest_path`: the manifest's directory, or its parent when that
/// directory is `debian/`.
pub fn tree_root(manifest_path: &Path) -> Result<std::path::PathBuf> {
    let absolute = std::path::absolute(manifest_path)
        .with_context(|| format!("cannot resolve {}", manifest_path.display()))?;
    let dir = absolute.parent().unwrap_or(Path::new("/"));
    Ok(if dir.file_name().is_some_and(|n| n == "debian") {
        dir.parent().unwrap_or(dir).to_path_buf()
    } else {
        dir.to_path_buf()
    })
}

/// A source package name from a directory name: lower-cased, `_` and spaces as `-`, a trailing
/// `-VERSION` kept (Debian names may hold digits and dots).
pub fn directory_source_name(root: &Path) -> Result<String> {
    let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let raw = canonical
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = raw
        .to_lowercase()
        .chars()
        .map(|c| if c == '_' || c == ' ' { '-' } else { c })
        .collect();
    match PackageName::try_from(name) {
        Ok(name) if name.0.len() >= 2 => Ok(name.0),
        _ => bail!(
            "cannot make a source package name of the directory name `{raw}`: pass --source NAME"
        ),
    }
}

/// The `Source:` field of a `debian/control` text's first paragraph.
fn control_source(text: &str) -> Option<String> {
    text.lines()
        .take_while(|line| !line.trim().is_empty())
        .find_map(|line| {
            let (field, value) = line.split_once(':')?;
            field
                .eq_ignore_ascii_case("Source")
                .then(|| value.trim().to_string())
        })
}
