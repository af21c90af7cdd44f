//! The plan: the typed boundary between the pipeline (scan → manifest → classify → plan,
//! [`crate::pipeline`]) and the stages that carry it out (`init`'s [`crate::generate`],
//! `dh_mlmodel`'s [`crate::debhelper`], the [`crate::helper`]).
//!
//! For each model it holds the verdict ([`verdict`]), the packages with their archive areas
//! and where the weights come from, and the maintainer's facts resolved into plain validated
//! values ([`facts`]): no placeholder, no manifest span. Everything the later stages need is
//! here, so none of them reads `debian/mlmodel.toml` itself.

pub mod facts;
pub mod report;
pub mod verdict;

use serde::{Deserialize, Serialize};

pub use facts::{DataInput, DataSource, Download, License, ModelFacts, Pin, Program, Recipe};
pub use verdict::{Category, Missing, ModelClass, Osaid};

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
    /// The verdict this plan follows from (`classify` prints it beside the plan).
    #[serde(skip)]
    pub class: ModelClass,
    /// The manifest's facts about the model, resolved.
    #[serde(skip)]
    pub facts: ModelFacts,
    pub name: String,
    /// Empty while the model is incomplete.
    pub packages: Vec<Package>,
    /// The names of the model's weights and installer packages (`[model.packages]` or the
    /// defaults), known even while the model is incomplete or a role is not planned: a package
    /// of `debian/control` with one of these names belongs to this model.
    #[serde(skip)]
    pub package_names: [String; 2],
    pub install_dir: String,
    pub train_at_build: bool,
    /// Why a requested `at-build` training was refused; empty when granted or not asked.
    pub at_build_refused: Vec<String>,
    /// Other ways the installer can obtain the weights, besides the package's origin.
    pub alternatives: Vec<Origin>,
    /// The weights are compiled into the code and come with the source as this orig component
    /// (`<source>_<version>.orig-<component>.tar.xz`, made by `dh-mlmodel repack`), which
    /// `debian/rules` puts where the upstream build expects it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<Component>,
    /// The model's weights do not ship from the source: the archive's packages never hold them.
    pub removed_from_source: bool,
    /// The model's files present in the upstream tree that the orig tarball must drop
    /// (`Files-Excluded`); empty when none of them is in the tree (fetched at build or run
    /// time), so that nothing is repacked for it.
    pub excluded_files: Vec<String>,
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

/// An orig component tarball the build needs.
#[derive(Debug, Clone, Serialize)]
pub struct Component {
    /// `[a-zA-Z0-9-]+`, as dpkg-source requires.
    pub name: String,
    /// The files the component puts in the tree, relative to its top.
    pub generates: Vec<String>,
}

impl Component {
    /// The component name for a model name: dpkg-source allows only letters, digits and `-`.
    pub fn name_for(model: &str) -> String {
        model
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub source: String,
    /// `[source] version` of the manifest, when the maintainer states it.
    #[serde(skip)]
    pub upstream_version: Option<String>,
    /// `+ds`, `+dfsg`, or absent when no file of the tree is removed or a model is still
    /// incomplete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repack_suffix: Option<String>,
    pub models: Vec<ModelPlan>,
}
impl Plan {
    /// The orig components the plan needs, in manifest order.
    pub fn components(&self) -> impl Iterator<Item = (&ModelPlan, &Component)> {
        self.models
            .iter()
            .filter_map(|m| m.component.as_ref().map(|c| (m, c)))
    }

    /// Whether a model still lacks facts (`classify` exits 1).
    pub fn any_incomplete(&self) -> bool {
        self.models
            .iter()
            .any(|m| m.class.category == Category::Incomplete)
    }
}

impl ModelPlan {
    /// The package of `role`, if the plan has one.
    pub fn package(&self, role: Role) -> Option<&Package> {
        self.packages.iter().find(|p| p.role == role)
    }

    /// The origin of the weights package.
    pub fn weights_origin(&self) -> Option<Origin> {
        self.package(Role::Weights).map(|p| p.origin)
    }
}
