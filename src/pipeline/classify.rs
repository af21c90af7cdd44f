//! The ML-Policy verdict per model (DESIGN.md §6), from the manifest and the policy tables only.
//!
//! A model is **free** when its licence is DFSG-free, every training input is DFSG-free and
//! downloadable without an account, and its training program is named; **toxic-candy** when the
//! licence is free but one of the others definitely fails; **non-free** when the licence is not
//! DFSG-free; **incomplete** while any fact needed is a placeholder or a licence is on neither
//! list — never a guess. The Model Openness Framework class and the Open Source AI Definition
//! components are reported beside the verdict, for information.

use serde::Deserialize;

use super::ManifestError;
use super::manifest::{DataSource, Fact, Manifest, Model};
use crate::plan::{Category, Missing, ModelClass, Osaid};
use crate::policy::PolicySource;
use crate::spdx::{LicenseTable, Status};

/// `policy/openness.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpennessTable {
    pub component: Vec<MofComponent>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MofComponent {
    pub name: String,
    pub class: u8,
    pub fact: Option<MofFact>,
    pub alternative: Option<String>,
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// Manifest facts that witness MOF components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MofFact {
    Parameters,
    TrainingCode,
    Datasets,
    Evaluation,
    /// The training program is published: the code that defines the network is.
    Architecture,
    /// Every training input is named, with its licence and where it comes from.
    DataCard,
}

/// The tables classification reads.
#[derive(Debug, Clone)]
pub struct ClassifyPolicy {
    pub licenses: LicenseTable,
    pub openness: OpennessTable,
}

impl ClassifyPolicy {
    pub fn load(policy: &PolicySource) -> anyhow::Result<Self> {
        Ok(Self {
            licenses: policy.table("licenses.toml")?,
            openness: policy.table("openness.toml")?,
        })
    }
}

/// Classifies every model of `manifest`. Fails only on a `mof-components` name the openness
/// table does not know (a manifest error, with its location).
pub(super) fn classify(
    manifest: &Manifest,
    policy: &ClassifyPolicy,
) -> Result<Vec<ModelClass>, ManifestError> {
    let mut problems = Vec::new();
    let mut models = Vec::new();
    for model in &manifest.models {
        for component in &model.mof_components {
            if !policy
                .openness
                .component
                .iter()
                .any(|c| c.name == *component.get_ref())
            {
                problems.push(format!(
                    "{}: model `{}`: `{}` is not a Model Openness Framework component: \
                     expected one of {}",
                    manifest.locate(&component.span()),
                    model.name(),
                    component.get_ref(),
                    policy
                        .openness
                        .component
                        .iter()
                        .map(|c| format!("\"{}\"", c.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        models.push(classify_model(manifest, model, policy));
    }
    if problems.is_empty() {
        Ok(models)
    } else {
        Err(ManifestError { problems })
    }
}

/// What the stated facts show, before deciding.
struct Facts {
    license: Option<Status>,
    program: bool,
    /// Every training input is DFSG-free and public (false when training is absent).
    free_public_data: bool,
}

fn classify_model(manifest: &Manifest, model: &Model, policy: &ClassifyPolicy) -> ModelClass {
    let name = model.name().to_string();
    let mut missing: Vec<Missing> = model
        .placeholders()
        .into_iter()
        .map(|p| Missing {
            at: manifest.locate(&p.span),
            message: format!("`{}` is still a placeholder: {}", p.field, p.text),
            field: p.field,
        })
        .collect();
    let mut failures = Vec::new();
    let mut grounds = Vec::new();
    let mut license_ground = None;

    let license = model.license.get_ref().known().map(|license| {
        let status = policy.licenses.status(&license.0);
        match &status {
            Status::Free => license_ground = Some(format!("licence `{license}` is DFSG-free")),
            Status::NonFree(ids) => {
                license_ground = Some(format!(
                    "licence `{license}` is not DFSG-free ({})",
                    ids.join(", ")
                ))
            }
            Status::Unknown(ids) => missing.push(unknown_license(
                "license",
                manifest.locate(&model.license.span()),
                &license.to_string(),
                ids,
            )),
        }
        status
    });

    let mut facts = Facts {
        license,
        program: false,
        free_public_data: false,
    };
    match &model.training {
        None => failures.push(
            "no [model.training]: upstream publishes no training program or training data"
                .to_string(),
        ),
        Some(training) => {
            let t = training.get_ref();
            match t.program.as_ref().map(|p| p.get_ref()) {
                None => failures
                    .push("no training program: [model.training] gives no `program`".to_string()),
                Some(Fact::Known(program)) => {
                    facts.program = true;
                    grounds.push(format!("training program: {}", describe_program(program)));
                }
                Some(Fact::Placeholder(_)) => {}
            }
            let mut all_free_public = true;
            for (index, spanned) in t.data.iter().enumerate() {
                let data = spanned.get_ref();
                let field = format!("training.data[{}]", index + 1);
                let label = data.label();
                match data.license.get_ref().known() {
                    Some(license) => match policy.licenses.status(&license.0) {
                        Status::Free => {}
                        Status::NonFree(ids) => {
                            all_free_public = false;
                            failures.push(format!(
                                "training data {label}: licence `{license}` is not DFSG-free ({})",
                                ids.join(", ")
                            ));
                        }
                        Status::Unknown(ids) => {
                            all_free_public = false;
                            missing.push(unknown_license(
                                &format!("{field}.license"),
                                manifest.locate(&data.license.span()),
                                &license.to_string(),
                                &ids,
                            ));
                        }
                    },
                    None => all_free_public = false,
                }
                match (data.public.as_ref().map(|p| p.get_ref()), data.source()) {
                    (Some(Fact::Known(false)), _) => {
                        all_free_public = false;
                        failures.push(format!(
                            "training data {label} is not publicly available: it needs an \
                             account or permission (`public = false`)"
                        ));
                    }
                    (Some(Fact::Placeholder(_)), _) => all_free_public = false,
                    (None, Some(DataSource::Url(_))) => {
                        all_free_public = false;
                        missing.push(Missing {
                            field: format!("{field}.public"),
                            at: manifest.locate(&spanned.span()),
                            message: format!(
                                "training data {label}: `public` is not stated: can anyone \
                                 download it without an account?"
                            ),
                        });
                    }
                    _ => {}
                }
            }
            facts.free_public_data = all_free_public;
            if all_free_public && t.data.is_empty() && facts.program {
                grounds.push(
                    "no training inputs listed: the program makes its own data (simulation, \
                     self-play)"
                        .to_string(),
                );
            } else if all_free_public {
                grounds.push(format!(
                    "all {} training inputs are DFSG-free and public",
                    t.data.len()
                ));
            }
        }
    }

    let settled = match &facts.license {
        Some(Status::NonFree(_)) => Some(Category::NonFree),
        Some(Status::Free) if !failures.is_empty() => Some(Category::ToxicCandy),
        Some(Status::Free) if missing.is_empty() => Some(Category::Free),
        _ => None,
    };
    let mut reasons: Vec<String> = license_ground.into_iter().collect();
    match settled {
        Some(Category::NonFree) => {}
        Some(Category::ToxicCandy) => reasons.extend(failures.iter().cloned()),
        _ => reasons.extend(grounds),
    }
    let category = if missing.is_empty() {
        // Without missing facts the licence is known, so `settled` is decided.
        settled.unwrap_or(Category::Incomplete)
    } else {
        let mut listed: Vec<String> = missing
            .iter()
            .map(|m| format!("{}: {}", m.at, m.message))
            .collect();
        match settled {
            Some(category) => listed.push(format!(
                "the facts given already make it {} whatever the missing ones say: {}",
                category.as_str(),
                reasons.join("; ")
            )),
            None => listed.extend(failures.iter().cloned()),
        }
        reasons = listed;
        Category::Incomplete
    };

    let osaid = osaid(model, &facts);
    let mof = mof_class(model, &facts, &policy.openness, osaid.data_information);
    ModelClass {
        name,
        category,
        settled: settled.filter(|_| category == Category::Incomplete),
        reasons,
        missing,
        mof_class: mof.0,
        mof_missing: mof.1,
        osaid,
    }
}

fn unknown_license(field: &str, at: String, license: &str, ids: &[String]) -> Missing {
    Missing {
        field: field.to_string(),
        at,
        message: format!(
            "licence `{license}`: {} on neither the free nor the non-free list of \
             policy/licenses.toml; decide and add it there",
            ids.iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", ")
                + if ids.len() == 1 { " is" } else { " are" }
        ),
    }
}

fn describe_program(program: &super::manifest::Program) -> String {
    match program {
        super::manifest::Program::Paths(paths) => format!(
            "{} in the source",
            paths
                .iter()
                .map(|p| format!("`{}`", p.0))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        super::manifest::Program::Package(package) => format!("package `{}`", package.0),
    }
}

/// The highest MOF class whose required components (and those of every lower class) are all
/// witnessed, and the components the next class still needs.
fn mof_class(
    model: &Model,
    facts: &Facts,
    table: &OpennessTable,
    data_described: bool,
) -> (Option<String>, Vec<String>) {
    let has_fact = |fact: MofFact| match fact {
        MofFact::Architecture => facts.program,
        MofFact::DataCard => {
            data_described
                && model
                    .training
                    .as_ref()
                    .is_some_and(|t| !t.get_ref().data.is_empty())
        }
        MofFact::Parameters => facts.license == Some(Status::Free),
        MofFact::TrainingCode => facts.program,
        MofFact::Datasets => {
            facts.free_public_data
                && model
                    .training
                    .as_ref()
                    .is_some_and(|t| !t.get_ref().data.is_empty())
        }
        MofFact::Evaluation => model.evaluation.is_some(),
    };
    let listed = |name: &str| model.mof_components.iter().any(|c| c.get_ref() == name);
    let present = |component: &MofComponent| {
        component.fact.is_some_and(has_fact)
            || listed(&component.name)
            || component.alternative.as_deref().is_some_and(listed)
    };
    let mut reached = None;
    let mut missing = Vec::new();
    for class in [3u8, 2, 1] {
        missing = table
            .component
            .iter()
            .filter(|c| c.class == class && c.required && !present(c))
            .map(|c| match &c.alternative {
                Some(alternative) => format!("{} or {alternative}", c.name),
                None => c.name.clone(),
            })
            .collect();
        if !missing.is_empty() {
            break;
        }
        reached = Some(class);
    }
    (
        reached.map(|class| format!("Class {}", roman(class))),
        missing,
    )
}

/// The MOF's numbering of its classes.
pub fn roman(class: u8) -> &'static str {
    match class {
        1 => "I",
        2 => "II",
        _ => "III",
    }
}

fn osaid(model: &Model, facts: &Facts) -> Osaid {
    let data_information = model.training.as_ref().is_some_and(|training| {
        let t = training.get_ref();
        let described = t.data.iter().all(|d| {
            let d = d.get_ref();
            d.name.get_ref().known().is_some()
                && d.license.get_ref().known().is_some()
                && match d.source() {
                    Some(DataSource::Url(url)) => url.known().is_some(),
                    Some(_) => true,
                    None => false,
                }
        });
        described && (!t.data.is_empty() || facts.program)
    });
    Osaid {
        data_information,
        code: facts.program,
        parameters: facts.license == Some(Status::Free),
    }
}
