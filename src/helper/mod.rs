//! The user-side helper `get-<weights-pkg>` (DESIGN.md §3, §4): a POSIX sh script that downloads
//! the published weights with pinned size and SHA-256, or retrains them from pinned data, and
//! builds the same weights `.deb` the archive would ship, locally and reproducibly.
//!
//! [`HelperSpec`] holds every fact the script needs; [`render`] bakes them into the script from
//! `templates/get-helper.sh.j2`. The script never reads the manifest at run time, so what the
//! user runs is exactly what the maintainer reviewed. The code that acts on the facts is the
//! shared runtime `share/mlmodel-get/runtime.sh`, shipped once by the [`RUNTIME_PACKAGE`] package and
//! sourced by every helper, so a fix to it needs no new upload of the installer packages.

mod render;

pub use render::{
    render, render_manpage, render_postinst_autodownload, render_postrm_purge, shell_quote,
};

use serde::{Deserialize, Serialize};

/// The package that ships the shared runtime, `/usr/share/mlmodel-get/runtime.sh`.
pub const RUNTIME_PACKAGE: &str = "mlmodel-get";

/// The runtime interface the rendered helpers follow: which variables and functions a helper
/// defines before it sources the runtime. `share/mlmodel-get/runtime.sh` states the one it provides
/// (`MLMODEL_GET_RUNTIME_INTERFACE`) and refuses a helper written for another.
pub const RUNTIME_INTERFACE: u32 = 1;

/// The first version of [`RUNTIME_PACKAGE`] that provides [`RUNTIME_INTERFACE`]: an installer
/// package `Depends` on `mlmodel-get (>= this)`. Raise both together.
pub const RUNTIME_SINCE_VERSION: &str = "0.1.0";

/// The installer's versioned relation on the runtime, for `${mlmodel:Depends}`.
pub fn runtime_dependency() -> String {
    format!("{RUNTIME_PACKAGE} (>= {RUNTIME_SINCE_VERSION})")
}

/// Debian revision of a locally built weights package. Revision `0` sorts below every archive
/// revision (`-1`, `-2`, …), so when the archive later ships the same upstream version it
/// replaces the local build on upgrade; `+local1` makes the origin visible in `dpkg -l`.
pub const LOCAL_REVISION: &str = "0+local1";

/// Everything the helper script needs, as plain data. Built from the manifest by the plan stage;
/// tests fill it by hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelperSpec {
    /// The weights binary package, e.g. `foo-model-bar`; the script is `get-<this>`.
    pub weights_package: String,
    /// The package that ships the script, e.g. `foo-model-bar-installer`.
    pub installer_package: String,
    /// Upstream version of the weights; the local package is `<this>-`[`LOCAL_REVISION`].
    pub version: String,
    /// `Name <address>`, copied into the package's `Maintainer` field.
    pub maintainer: String,
    /// Synopsis: the first line of `Description`.
    pub summary: String,
    /// Extended description; paragraphs separated by blank lines.
    pub description: String,
    /// Debian section, e.g. `science`.
    pub section: String,
    /// Upstream home page, written to `Homepage` and the copyright's `Source`.
    #[serde(default)]
    pub homepage: Option<String>,
    /// SPDX-style short licence name for the DEP-5 `License` field.
    pub license: String,
    /// Full licence text (the DEP-5 paragraph body).
    pub license_text: String,
    /// DEP-5 `Copyright` holders, one per line.
    pub copyright: String,
    /// Release time of the weights, seconds since the epoch: the `SOURCE_DATE_EPOCH` of every
    /// local build, so the same inputs give the same `.deb`.
    pub release_epoch: u64,
    /// Absolute directory the files are installed under, e.g. `/usr/share/foo/models/bar`.
    pub install_dir: String,
    /// The weight files, in the order they are fetched.
    pub files: Vec<WeightFile>,
    /// Permit plain `http://` URLs and redirects to them. Off unless the manifest says so.
    #[serde(default)]
    pub allow_http: bool,
    /// How to retrain the weights, when a free recipe exists.
    #[serde(default)]
    pub training: Option<Training>,
    /// Whether the installer's postinst tries a download (never failing the postinst).
    #[serde(default)]
    pub postinst_auto_download: bool,
    /// The model's facts for the SPDX document of the package the helper builds, which
    /// `dh-mlmodel sbom` writes with the files as built; `None`: no document.
    #[serde(default)]
    pub bom: Option<crate::sbom::ModelBom>,
}

/// One installed weight file and every way to obtain it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightFile {
    /// Path relative to `install_dir`.
    pub path: String,
    /// Lower-case hex SHA-256 of the published file.
    pub sha256: String,
    /// Size in bytes of the published file.
    pub size: u64,
    /// Download URLs, tried in order: the canonical one first, then mirrors. May be empty when
    /// the weights are only obtainable by training or from local files.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Where the file appears in the training output directory (`{out}`), relative to it.
    #[serde(default)]
    pub training_output: Option<String>,
}

/// The retraining recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
    /// Shell command; `{data}` and `{out}` stand for the data and output directories.
    pub command: String,
    /// Debian packages the recipe needs (e.g. `python3-numpy`).
    #[serde(default)]
    pub depends: Vec<String>,
    /// Estimated cost in CPU hours, shown beside the elapsed time.
    pub cpu_hours: f64,
    /// Seed exported as `MLMODEL_SEED`.
    pub seed: u64,
    /// Whether the recipe is expected to reproduce the published bytes exactly.
    pub deterministic: bool,
    /// The training data inputs.
    #[serde(default)]
    pub data: Vec<DataSource>,
    /// Absolute directory holding the training program (shipped by the installer package); its
    /// contents are copied into the fresh work directory the recipe runs in.
    #[serde(default)]
    pub program_dir: Option<String>,
}

/// One pinned training-data input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSource {
    /// Human name, e.g. `tiny-corpus`.
    pub name: String,
    /// Where the file goes under `{data}`, relative to it.
    pub path: String,
    /// Lower-case hex SHA-256.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Download URLs tried in order.
    #[serde(default)]
    pub urls: Vec<String>,
    /// A Debian package that ships the file …
    #[serde(default)]
    pub package: Option<String>,
    /// … at this absolute path.
    #[serde(default)]
    pub package_path: Option<String>,
}

impl HelperSpec {
    /// The version of the locally built weights package.
    pub fn package_version(&self) -> String {
        format!("{}-{}", self.version, LOCAL_REVISION)
    }

    /// The helper's command name.
    pub fn script_name(&self) -> String {
        format!("get-{}", self.weights_package)
    }

    /// The file name `dpkg-deb` output gets.
    pub fn deb_file_name(&self) -> String {
        format!(
            "{}_{}_all.deb",
            self.weights_package,
            self.package_version()
        )
    }
}
