//! From verdicts to packages (DESIGN.md §3): for each model, its binary packages and their
//! archive areas, where the weights come from, whether the package build trains them, how the
//! code package refers to them, and the orig tarball's repack suffix. Reads only the verdicts,
//! the manifest and the policy tables; the manifest's facts go into the plan resolved
//! ([`resolve`]), so no later stage reads the manifest.

use anyhow::Result;
use serde::Deserialize;

use super::manifest::{self, DataSource, Fact, Manifest, Model};
use crate::plan::{
    self, Area, Category, DataInput, ModelClass, ModelFacts, ModelPlan, Origin, Package, Plan,
    Recipe, Relation, Role,
};
use crate::policy::PolicySource;
use crate::spdx::LicenseTable;

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
    /// For the DEP-5 spelling of licences.
    pub licenses: LicenseTable,
}

impl PlanPolicy {
    pub fn load(policy: &PolicySource) -> Result<Self> {
        Ok(Self {
            areas: policy.table("areas.toml")?,
            build: policy.table("build.toml")?,
            licenses: policy.table("licenses.toml")?,
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

/// Builds the plan for every model of `manifest`, given its verdict in `classes`;
/// `in_tree` says whether a model file is in the upstream tree (only those are repacked away).
pub(super) fn plan(
    source: &str,
    manifest: &Manifest,
    classes: Vec<ModelClass>,
    policy: &PlanPolicy,
    in_tree: &dyn Fn(&str) -> bool,
) -> Plan {
    let models: Vec<ModelPlan> = manifest
        .models
        .iter()
        .zip(classes)
        .map(|(model, class)| {
            let mut plan = plan_model(source, model, class, policy);
            if plan.removed_from_source {
                plan.excluded_files = plan
                    .facts
                    .files
                    .iter()
                    .filter(|f| in_tree(f))
                    .cloned()
                    .collect();
            }
            plan
        })
        .collect();
    let any_incomplete = models
        .iter()
        .any(|m| m.class.category == Category::Incomplete);
    let repack_suffix = if any_incomplete {
        None
    } else {
        let removed: Vec<&str> = models
            .iter()
            .filter(|plan| !plan.excluded_files.is_empty())
            .filter_map(|plan| policy.rules(plan.class.category))
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
        upstream_version: manifest.source.as_ref().and_then(|s| s.version.clone()),
        repack_suffix,
        models,
    }
}

fn plan_model(source: &str, model: &Model, class: ModelClass, policy: &PlanPolicy) -> ModelPlan {
    let name = model.name();
    let weights_name = model.weights_package(source);
    let installer_name = model.installer_package(source);
    let install_dir = model.install_dir.as_ref().map_or_else(
        || format!("/usr/share/{source}/models/{name}"),
        |d| d.get_ref().clone(),
    );
    let category = class.category;
    let mut plan = ModelPlan {
        class,
        facts: resolve(model, &policy.licenses),
        name: name.to_string(),
        packages: Vec::new(),
        package_names: [weights_name.clone(), installer_name.clone()],
        install_dir,
        train_at_build: false,
        at_build_refused: Vec::new(),
        alternatives: Vec::new(),
        component: None,
        removed_from_source: false,
        excluded_files: Vec::new(),
        relation: None,
        build_depends: Vec::new(),
        disclaimer: None,
        readme: None,
        notes: Vec::new(),
    };
    let Some(rules) = policy.rules(category) else {
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
        plan.at_build_refused = build_training_refusals(&plan.facts, category, &policy.build);
        plan.train_at_build = plan.at_build_refused.is_empty();
    }

    // Weights compiled into the code: a free model's pinned download comes with the source as
    // an orig component, so the build runs offline and the code package carries the weights
    // in main; no weights or installer package.
    if model.compiled_in {
        if category == Category::Free && plan.facts.download.is_some() {
            plan.component = Some(plan::Component {
                name: plan::Component::name_for(name),
                generates: model
                    .generates
                    .iter()
                    .map(|g| g.get_ref().0.clone())
                    .collect(),
            });
            return plan;
        }
        plan.notes.push(format!(
            "compiled into the code, but {}: the weights cannot come with the source in main, \
             so the code cannot be built with them there; build it without the model, or \
             package it in {}",
            if category == Category::Free {
                "without a [model.download] to make the orig component from"
            } else {
                category.as_str()
            },
            rules.weights_area.as_str()
        ));
    }

    let retrainable = category == Category::Free;
    // The weights are built in the archive when the package build trains them, or, for a free
    // model whose files upstream commits, shipped as they are: they can be rebuilt from free
    // inputs, and the pins prove the bytes are upstream's.
    if plan.train_at_build || (plan.facts.in_source && category == Category::Free) {
        if plan.train_at_build {
            plan.build_depends = build_depends(&plan.facts);
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
    let (origin, alternatives) = match (plan.facts.download.is_some(), retrainable) {
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
    let data_needs_network = plan
        .facts
        .training
        .as_ref()
        .is_some_and(|t| t.data.iter().any(DataInput::needs_network));
    let uses_network = origin == Origin::Downloaded || data_needs_network;
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

/// Why a package build may not train this model; empty when it may.
fn build_training_refusals(
    facts: &ModelFacts,
    category: Category,
    limits: &BuildLimits,
) -> Vec<String> {
    let mut refusals = Vec::new();
    if category != Category::Free {
        refusals.push(format!(
            "the model is {}: only free models are trained during the package build",
            category.as_str()
        ));
    }
    let Some(t) = &facts.training else {
        return refusals;
    };
    for data in &t.data {
        if data.needs_network() {
            refusals.push(format!(
                "training data {} is only reachable by URL, and a package build must not use \
                 the network (Debian Policy 4.9): ship it in the source (`path`) or in a package \
                 (`package`)",
                data.label()
            ));
        }
    }
    if let Some(gpu) = t.gpu_hours
        && gpu > limits.max_gpu_hours
    {
        refusals.push(format!(
            "training needs {gpu} GPU-hours, and the build machines allow {} (policy/build.toml \
             max-gpu-hours)",
            limits.max_gpu_hours
        ));
    }
    match t.cpu_hours {
        Some(cpu) if cpu > limits.max_cpu_hours => refusals.push(format!(
            "training needs {cpu} CPU-hours, over the {} a package build may spend \
             (policy/build.toml max-cpu-hours)",
            limits.max_cpu_hours
        )),
        Some(_) => {}
        None => refusals.push(
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
fn build_depends(facts: &ModelFacts) -> Vec<String> {
    let mut packages = Vec::new();
    if let Some(t) = &facts.training {
        if let Some(plan::Program::Package(package)) = &t.program {
            packages.push(package.clone());
        }
        for data in &t.data {
            if let Some(plan::DataSource::Package(package)) = &data.source {
                packages.push(package.clone());
            }
        }
        packages.extend(t.depends.iter().cloned());
    }
    packages.sort();
    packages.dedup();
    packages
}

/// The manifest's facts about `model` as plain values: placeholders become `None`.
fn resolve(model: &Model, licenses: &LicenseTable) -> ModelFacts {
    let pin = |pin: &manifest::Pin| {
        pin.known().map(|(sha256, size)| plan::Pin {
            sha256: sha256.0.clone(),
            size,
        })
    };
    ModelFacts {
        files: model
            .files
            .get_ref()
            .iter()
            .map(|f| f.get_ref().0.clone())
            .collect(),
        pins: model
            .pins
            .iter()
            .filter_map(|(path, p)| Some((path.clone(), pin(p.get_ref())?)))
            .collect(),
        in_source: model.in_source,
        description: model.description.clone(),
        copyright: model
            .copyright
            .as_ref()
            .and_then(|c| c.known())
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty()),
        license: model.license.get_ref().known().map(|license| {
            let dep5 = licenses.dep5(&license.0);
            plan::License {
                spdx: license.to_string(),
                dep5: dep5.name,
                common_license: dep5.common_license,
                common_text: dep5.common_text,
            }
        }),
        // A download with a placeholder left is not one the installer can use yet (the model
        // is incomplete until it is filled in).
        download: model.download.as_ref().and_then(|d| {
            Some(plan::Download {
                url: d.url.get_ref().known()?.clone(),
                mirrors: d.mirrors.iter().map(|m| m.get_ref().clone()).collect(),
                sha256: d.sha256.get_ref().known()?.0.clone(),
                size: *d.size.get_ref().known()?,
                allow_http: d.allow_http,
                auto_download: d.auto_download,
            })
        }),
        training: model
            .training
            .as_ref()
            .map(|t| resolve_training(t.get_ref())),
        type_of_model: model.type_of_model.clone(),
        domain: model.domain.clone(),
        limitation: model.limitations.clone(),
    }
}

fn resolve_training(t: &manifest::Training) -> Recipe {
    let known =
        |fact: Option<&toml::Spanned<Fact<f64>>>| fact.and_then(|f| f.get_ref().known().copied());
    Recipe {
        program: t.program.as_ref().and_then(|p| p.get_ref().known()).map(
            |program| match program {
                manifest::Program::Paths(paths) => {
                    plan::Program::Paths(paths.iter().map(|p| p.0.clone()).collect())
                }
                manifest::Program::Package(package) => plan::Program::Package(package.0.clone()),
            },
        ),
        command: t
            .command
            .as_ref()
            .and_then(|c| c.get_ref().known().cloned()),
        outputs: t.outputs.iter().map(|o| o.get_ref().0.clone()).collect(),
        depends: t.depends.iter().map(|p| p.0.clone()).collect(),
        cpu_hours: known(t.cpu_hours.as_ref()),
        gpu_hours: known(t.gpu_hours.as_ref()),
        deterministic: t.deterministic.unwrap_or(false),
        seed: t.seed,
        data: t
            .data
            .iter()
            .map(|d| {
                let d = d.get_ref();
                plan::DataInput {
                    name: d.name.get_ref().known().cloned(),
                    source: match d.source() {
                        Some(DataSource::Url(url)) => {
                            url.known().cloned().map(plan::DataSource::Url)
                        }
                        Some(DataSource::Package(p)) => {
                            Some(plan::DataSource::Package(p.0.clone()))
                        }
                        Some(DataSource::Path(p)) => Some(plan::DataSource::Path(p.0.clone())),
                        None => None,
                    },
                    sha256: d.sha256.as_ref().map(|s| s.0.clone()),
                    size: d.size,
                    license: d.license.get_ref().known().map(|l| l.to_string()),
                    public: match d.source() {
                        Some(DataSource::Package(_) | DataSource::Path(_)) => Some(true),
                        _ => d.public.as_ref().and_then(|p| p.get_ref().known().copied()),
                    },
                }
            })
            .collect(),
    }
}
