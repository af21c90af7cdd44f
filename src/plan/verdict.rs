//! The ML-Policy verdict of one model, as `classify` decides it (DESIGN.md §6).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Free,
    ToxicCandy,
    NonFree,
    Incomplete,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Free => "free",
            Category::ToxicCandy => "toxic-candy",
            Category::NonFree => "non-free",
            Category::Incomplete => "incomplete",
        }
    }
}

/// A fact the manifest lacks.
#[derive(Debug, Clone, Serialize)]
pub struct Missing {
    /// Dotted field name, e.g. `training.data[1].public`.
    pub field: String,
    /// `FILE:LINE:COLUMN` of the field (or of its table when the key is absent).
    pub at: String,
    pub message: String,
}

/// Open Source AI Definition 1.0: which parts of the "preferred form" the manifest shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Osaid {
    pub data_information: bool,
    pub code: bool,
    pub parameters: bool,
}

/// One model's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct ModelClass {
    pub name: String,
    pub category: Category,
    /// For an incomplete model, the category the facts given already settle, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settled: Option<Category>,
    /// Why: the facts that decided the category (for `incomplete`, the missing facts first).
    pub reasons: Vec<String>,
    pub missing: Vec<Missing>,
    /// "Class I", "Class II", "Class III", or absent when no class is reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mof_class: Option<String>,
    /// The required components of the next MOF class that nothing in the manifest witnesses
    /// (`Technical report or Research paper`), so the report can say what is missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mof_missing: Vec<String>,
    pub osaid: Osaid,
}
