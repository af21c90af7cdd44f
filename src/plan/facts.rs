//! The maintainer's facts about a model, resolved: the values of `debian/mlmodel.toml` after
//! validation, without spans and without placeholders. A fact still to be filled in is absent
//! (`None`); a complete model has every fact its category needs.

use std::collections::BTreeMap;

use serde::Serialize;

/// Everything the manifest states about one model.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ModelFacts {
    /// The model's files, as paths in the upstream tree.
    pub files: Vec<String>,
    /// The SHA-256 and size of each file of `files`, keyed by its path.
    pub pins: BTreeMap<String, Pin>,
    /// The files are committed in the upstream tree.
    pub in_source: bool,
    pub description: Option<String>,
    /// The weights' licence; `None` while a placeholder.
    pub license: Option<License>,
    /// The weights' copyright holders (`Copyright:` lines); `None` while unknown. Third-party
    /// weights are rarely the code's authors' work.
    pub copyright: Option<String>,
    pub download: Option<Download>,
    /// `None` when upstream publishes no training program or data.
    pub training: Option<Recipe>,
    /// What kind of model it is (`transformer`, `supervised`…), for the bill of materials.
    pub type_of_model: Vec<String>,
    /// The fields it is meant for (`speech recognition`…).
    pub domain: Vec<String>,
    /// What it cannot do well, as upstream or the maintainer states it.
    pub limitation: Option<String>,
}

/// A licence expression, as SPDX and as `debian/copyright` (DEP-5) write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct License {
    /// The SPDX expression, as the manifest states it.
    pub spdx: String,
    /// The DEP-5 `License:` short name (`GPL-2.0-or-later` is `GPL-2+`, `MIT` is `Expat`).
    pub dep5: String,
    /// The file under /usr/share/common-licenses holding the full text, when Debian ships it.
    pub common_license: Option<String>,
    /// The `License` paragraph's body for a licence Debian ships: its notice and the pointer
    /// to the common-licenses file ([`crate::spdx::LicenseTable::dep5`]).
    pub common_text: Option<String>,
}

/// The SHA-256 and size of one file, as the packaging step must find it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pin {
    /// Lower-case hex.
    pub sha256: String,
    pub size: u64,
}

/// Where the published weights are.
#[derive(Debug, Clone, Serialize)]
pub struct Download {
    pub url: String,
    pub mirrors: Vec<String>,
    pub sha256: String,
    pub size: u64,
    pub allow_http: bool,
    /// The installer package's postinst tries the download (never failing the postinst).
    pub auto_download: bool,
}

impl Download {
    /// The URL, then the mirrors.
    pub fn urls(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.url).chain(&self.mirrors)
    }
}

/// How to rebuild the weights.
#[derive(Debug, Clone, Serialize)]
pub struct Recipe {
    /// `None` when upstream publishes no training program (or it is still a placeholder).
    pub program: Option<Program>,
    /// The command that trains, with `{data}`, `{out}` and `{seed}` placeholders.
    pub command: Option<String>,
    /// The files the command writes in `{out}`.
    pub outputs: Vec<String>,
    /// Debian packages the command needs.
    pub depends: Vec<String>,
    pub cpu_hours: Option<f64>,
    pub gpu_hours: Option<f64>,
    pub deterministic: bool,
    pub seed: Option<i64>,
    pub data: Vec<DataInput>,
}

/// The training program: files in the source, or a Debian package that provides it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Program {
    Paths(Vec<String>),
    Package(String),
}

/// One training input.
#[derive(Debug, Clone, Serialize)]
pub struct DataInput {
    /// `None` while a placeholder.
    pub name: Option<String>,
    /// Where it comes from; `None` while its URL is a placeholder.
    pub source: Option<DataSource>,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    /// The data set's licence, an SPDX expression; `None` while a placeholder.
    pub license: Option<String>,
    /// Downloadable by anyone without an account (implied for packages and paths); `None`
    /// while unstated or a placeholder.
    pub public: Option<bool>,
}

impl DataInput {
    /// The input's name for messages.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("`{name}`"),
            None => "(unnamed)".to_string(),
        }
    }

    /// Reachable only over the network: a URL, or a source still to be stated.
    pub fn needs_network(&self) -> bool {
        matches!(self.source, Some(DataSource::Url(_)) | None)
    }
}

/// Where a training input comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum DataSource {
    Url(String),
    Package(String),
    Path(String),
}
