//! `debian/mlmodel.toml`: the maintainer's record of the facts a scan cannot know (DESIGN.md §5;
//! every field is documented in `docs/manifest.md`).
//!
//! Checks that need only one value (SHA-256 syntax, SPDX syntax, path shape, package-name
//! syntax) run while deserialising, so `toml` attaches the value's span to the error. Checks
//! across fields run afterwards on the `toml::Spanned` values kept in the types; either way every
//! message reads `FILE:LINE:COLUMN: …`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::ManifestError;
use crate::policy::line_column;
use crate::spdx;

pub mod draft;
pub mod pin;
pub mod update;

/// The last path segment of a URL (a trailing `/` aside), without query or fragment: the name
/// of the file a download fetches, as a manifest's `files` and pins name it.
pub fn url_file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

/// Where `classify` and `init` look for the manifest by default.
pub const DEFAULT_PATH: &str = "debian/mlmodel.toml";

/// A string value starting with this marks a fact still to be filled in (see [`Fact`]).
pub const PLACEHOLDER_PREFIX: &str = "FIXME";

/// A value the maintainer must state. `init` writes facts it cannot know as a string starting
/// with `FIXME`, whatever the field's type, so the draft parses while `classify` reports the
/// model `incomplete` and names the field.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact<T> {
    Known(T),
    Placeholder(String),
}

impl<T> Fact<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Fact::Known(value) => Some(value),
            Fact::Placeholder(_) => None,
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Fact<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = toml::Value::deserialize(deserializer)?;
        if let toml::Value::String(text) = &value
            && text.starts_with(PLACEHOLDER_PREFIX)
        {
            return Ok(Fact::Placeholder(text.clone()));
        }
        T::deserialize(value)
            .map(Fact::Known)
            .map_err(|err| D::Error::custom(err.message()))
    }
}

/// Lower-case hex SHA-256, 64 digits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Sha256(pub String);

impl TryFrom<String> for Sha256 {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        if text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Sha256(text))
        } else {
            Err(format!(
                "`{text}` is not a SHA-256 digest: expected 64 lower-case hexadecimal digits"
            ))
        }
    }
}

/// An SPDX licence expression, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct License(pub spdx::Expression);

impl TryFrom<String> for License {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        spdx::parse(&text)
            .map(License)
            .map_err(|err| format!("`{text}` is not an SPDX licence expression: {err}"))
    }
}

impl fmt::Display for License {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A path inside the upstream tree: relative, no `..`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct TreePath(pub String);

impl TryFrom<String> for TreePath {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let escapes = Path::new(&text)
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)));
        if text.is_empty() || escapes {
            Err(format!(
                "`{text}` is not a path inside the source tree: expected a relative path \
                 without `..`"
            ))
        } else {
            Ok(TreePath(text))
        }
    }
}

/// A Debian package name (Debian Policy 5.6.1): lower-case letters, digits, `+`, `-`, `.`,
/// starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct PackageName(pub String);

impl TryFrom<String> for PackageName {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let valid = text
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && text.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.')
            });
        if valid {
            Ok(PackageName(text))
        } else {
            Err(format!(
                "`{text}` is not a valid Debian package name part: expected lower-case letters, \
                 digits, `+`, `-` and `.`, starting with a letter or digit"
            ))
        }
    }
}

/// The training program: files in the source, or a Debian package that provides it.
#[derive(Debug, Clone, PartialEq)]
pub enum Program {
    Paths(Vec<TreePath>),
    Package(PackageName),
}

impl<'de> Deserialize<'de> for Program {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct InPackage {
            package: PackageName,
        }
        let expected = "a list of paths in the source (`[\"train.py\"]`) or \
                        `{ package = \"NAME\" }`";
        match toml::Value::deserialize(deserializer)? {
            value @ toml::Value::Array(_) => {
                let paths = Vec::<TreePath>::deserialize(value)
                    .map_err(|err| D::Error::custom(err.message()))?;
                if paths.is_empty() {
                    return Err(D::Error::custom(format!(
                        "an empty list names no program: expected {expected}, or leave \
                         `program` out when upstream publishes none"
                    )));
                }
                Ok(Program::Paths(paths))
            }
            value @ toml::Value::Table(_) => InPackage::deserialize(value)
                .map(|p| Program::Package(p.package))
                .map_err(|err| D::Error::custom(format!("{}: expected {expected}", err.message()))),
            other => Err(D::Error::custom(format!(
                "invalid type: {}, expected {expected}",
                other.type_str()
            ))),
        }
    }
}

/// Optional `[source]`: helps later stages when there is no `debian/control` yet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceInfo {
    pub name: Option<Spanned<PackageName>>,
    pub version: Option<String>,
}

/// The SHA-256 and size of one model file, as the packaging step must find it. Either may be a
/// placeholder while the file is not at hand (a download, an LFS object): `dh-mlmodel pin`
/// fills them in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    pub sha256: Spanned<Fact<Sha256>>,
    pub size: Spanned<Fact<u64>>,
}

impl Pin {
    /// Both values, when neither is a placeholder.
    pub fn known(&self) -> Option<(&Sha256, u64)> {
        Some((
            self.sha256.get_ref().known()?,
            *self.size.get_ref().known()?,
        ))
    }
}

/// `[model.download]`: where the published weights are.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Download {
    pub url: Spanned<Fact<String>>,
    #[serde(default)]
    pub mirrors: Vec<Spanned<String>>,
    pub sha256: Spanned<Fact<Sha256>>,
    pub size: Spanned<Fact<u64>>,
    #[serde(default)]
    pub allow_http: bool,
    /// The installer package's postinst tries the download (never failing the postinst).
    #[serde(default)]
    pub auto_download: bool,
}

/// `[model.training]`: how to rebuild the weights.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Training {
    /// Absent when upstream publishes no training program.
    pub program: Option<Spanned<Fact<Program>>>,
    pub command: Option<Spanned<Fact<String>>>,
    #[serde(default)]
    pub outputs: Vec<Spanned<TreePath>>,
    #[serde(default)]
    pub depends: Vec<PackageName>,
    pub cpu_hours: Option<Spanned<Fact<f64>>>,
    pub gpu_hours: Option<Spanned<Fact<f64>>>,
    pub deterministic: Option<bool>,
    pub seed: Option<i64>,
    /// The maintainer asks for training during the package build (the plan may refuse).
    pub at_build: Option<Spanned<bool>>,
    /// Every training input; empty when the program makes its own (simulators, self-play).
    #[serde(default)]
    pub data: Vec<Spanned<Data>>,
}

/// `[[model.training.data]]`: one training input.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Data {
    pub name: Spanned<Fact<String>>,
    pub license: Spanned<Fact<License>>,
    pub url: Option<Spanned<Fact<String>>>,
    pub package: Option<Spanned<PackageName>>,
    pub path: Option<Spanned<TreePath>>,
    pub sha256: Option<Sha256>,
    pub size: Option<u64>,
    /// Downloadable without an account; implied for `package` and `path`.
    pub public: Option<Spanned<Fact<bool>>>,
}

/// Where a training input comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DataSource<'a> {
    Url(&'a Fact<String>),
    Package(&'a PackageName),
    Path(&'a TreePath),
}

impl Data {
    /// Where the input comes from (validation guarantees exactly one source in a loaded
    /// manifest; `None` only for a hand-built value with none).
    pub fn source(&self) -> Option<DataSource<'_>> {
        match (&self.url, &self.package, &self.path) {
            (_, Some(package), _) => Some(DataSource::Package(package.get_ref())),
            (_, _, Some(path)) => Some(DataSource::Path(path.get_ref())),
            (Some(url), _, _) => Some(DataSource::Url(url.get_ref())),
            (None, None, None) => None,
        }
    }

    /// The dataset's name for messages.
    pub fn label(&self) -> String {
        match self.name.get_ref() {
            Fact::Known(name) => format!("`{name}`"),
            Fact::Placeholder(_) => "(unnamed)".to_string(),
        }
    }
}

/// `[model.evaluation]`: how to check a rebuilt model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evaluation {
    pub command: Spanned<String>,
    pub metric: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// `[model.packages]`: the model's binary package names, when they are not the default
/// `<source>-model-<name>` and `<source>-model-<name>-installer`. A maintainer who renames a
/// package in `debian/control` records the new name here, so that `init`, `classify` and
/// `dh_mlmodel` know it instead of guessing it from `debian/control`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageNames {
    pub weights: Option<Spanned<PackageName>>,
    pub installer: Option<Spanned<PackageName>>,
}

/// `[[model]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Model {
    pub name: Spanned<PackageName>,
    pub description: Option<String>,
    pub files: Spanned<Vec<Spanned<TreePath>>>,
    pub format: Spanned<Fact<String>>,
    pub license: Spanned<Fact<License>>,
    /// The weights' copyright holders, one per line, for debian/copyright's paragraph of the
    /// model's files and the locally built package. Unknown (a `FIXME`) does not make the model
    /// incomplete: `init` writes the placeholder into debian/copyright and says so.
    pub copyright: Option<Fact<String>>,
    pub install_dir: Option<Spanned<String>>,
    /// The weight files are committed in the upstream tree (not Git LFS pointers, not fetched
    /// by a build step): a free model may then ship them from the source, verified by the pins.
    #[serde(default)]
    pub in_source: bool,
    /// The weights are compiled into the code: upstream's build fetches the download and builds
    /// it into its binaries, so a free model's download must come with the source (an orig
    /// component tarball) for the build to work offline.
    #[serde(default)]
    pub compiled_in: bool,
    /// With `compiled-in`: the files, relative to the top of the tree, that the download puts
    /// in place for the build (`src/rnnoise_data.c`): what `debian/rules` copies from the
    /// component and removes again on clean.
    #[serde(default)]
    pub generates: Vec<Spanned<TreePath>>,
    /// SHA-256 and size of every path in `files`, keyed by that path.
    #[serde(default)]
    pub pins: BTreeMap<String, Spanned<Pin>>,
    /// Model Openness Framework components upstream releases that the other fields cannot
    /// witness (model card, research paper…), by their MOF names.
    #[serde(default)]
    pub mof_components: Vec<Spanned<String>>,
    /// The binary package names, when the maintainer chose them.
    pub packages: Option<PackageNames>,
    /// What kind of model it is (`transformer`, `supervised`…): the bill of materials'
    /// `typeOfModel`.
    #[serde(default)]
    pub type_of_model: Vec<String>,
    /// The fields it is meant for: the bill of materials' `domain`.
    #[serde(default)]
    pub domain: Vec<String>,
    /// What it cannot do well: the bill of materials' `limitation`.
    pub limitations: Option<String>,
    pub download: Option<Download>,
    pub training: Option<Spanned<Training>>,
    pub evaluation: Option<Spanned<Evaluation>>,
    /// Tolerances of `dh-mlmodel verify` for this model, over `policy/verify.toml`.
    pub verify: Option<Spanned<crate::verify::tolerance::ToleranceOverride>>,
}

/// A field still holding a placeholder.
#[derive(Debug, Clone)]
pub struct Placeholder {
    /// Dotted field name, e.g. `training.data[1].license`.
    pub field: String,
    pub span: Range<usize>,
    pub text: String,
}

impl Model {
    pub fn name(&self) -> &str {
        &self.name.get_ref().0
    }

    /// The weights package: `[model.packages] weights`, else `<source>-model-<name>`.
    pub fn weights_package(&self, source: &str) -> String {
        self.packages
            .as_ref()
            .and_then(|p| p.weights.as_ref())
            .map_or_else(
                || format!("{source}-model-{}", self.name()),
                |name| name.get_ref().0.clone(),
            )
    }

    /// The installer package: `[model.packages] installer`, else the weights package's
    /// default name with `-installer`.
    pub fn installer_package(&self, source: &str) -> String {
        self.packages
            .as_ref()
            .and_then(|p| p.installer.as_ref())
            .map_or_else(
                || format!("{source}-model-{}-installer", self.name()),
                |name| name.get_ref().0.clone(),
            )
    }

    /// The package names the maintainer wrote under `[model.packages]`, with their spans.
    fn chosen_packages(&self) -> impl Iterator<Item = &Spanned<PackageName>> {
        self.packages
            .iter()
            .flat_map(|p| p.weights.iter().chain(p.installer.iter()))
    }

    /// Every field of this model still holding a placeholder, in document order.
    pub fn placeholders(&self) -> Vec<Placeholder> {
        let mut found = Vec::new();
        let mut note = |field: String, fact_span: Range<usize>, text: Option<&String>| {
            if let Some(text) = text {
                found.push(Placeholder {
                    field,
                    span: fact_span,
                    text: text.clone(),
                });
            }
        };
        fn text_of<T>(fact: &Fact<T>) -> Option<&String> {
            match fact {
                Fact::Placeholder(text) => Some(text),
                Fact::Known(_) => None,
            }
        }
        note(
            "format".into(),
            self.format.span(),
            text_of(self.format.get_ref()),
        );
        note(
            "license".into(),
            self.license.span(),
            text_of(self.license.get_ref()),
        );
        for (path, pin) in &self.pins {
            let pin = pin.get_ref();
            note(
                format!("pins.\"{path}\".sha256"),
                pin.sha256.span(),
                text_of(pin.sha256.get_ref()),
            );
            note(
                format!("pins.\"{path}\".size"),
                pin.size.span(),
                text_of(pin.size.get_ref()),
            );
        }
        if let Some(download) = &self.download {
            note(
                "download.url".into(),
                download.url.span(),
                text_of(download.url.get_ref()),
            );
            note(
                "download.sha256".into(),
                download.sha256.span(),
                text_of(download.sha256.get_ref()),
            );
            note(
                "download.size".into(),
                download.size.span(),
                text_of(download.size.get_ref()),
            );
        }
        if let Some(training) = &self.training {
            let t = training.get_ref();
            if let Some(program) = &t.program {
                note(
                    "training.program".into(),
                    program.span(),
                    text_of(program.get_ref()),
                );
            }
            if let Some(command) = &t.command {
                note(
                    "training.command".into(),
                    command.span(),
                    text_of(command.get_ref()),
                );
            }
            for (field, hours) in [("cpu-hours", &t.cpu_hours), ("gpu-hours", &t.gpu_hours)] {
                if let Some(hours) = hours {
                    note(
                        format!("training.{field}"),
                        hours.span(),
                        text_of(hours.get_ref()),
                    );
                }
            }
            for (index, data) in t.data.iter().enumerate() {
                let d = data.get_ref();
                let at = format!("training.data[{}]", index + 1);
                note(
                    format!("{at}.name"),
                    d.name.span(),
                    text_of(d.name.get_ref()),
                );
                note(
                    format!("{at}.license"),
                    d.license.span(),
                    text_of(d.license.get_ref()),
                );
                if let Some(url) = &d.url {
                    note(format!("{at}.url"), url.span(), text_of(url.get_ref()));
                }
                if let Some(public) = &d.public {
                    note(
                        format!("{at}.public"),
                        public.span(),
                        text_of(public.get_ref()),
                    );
                }
            }
        }
        found.sort_by_key(|p| p.span.start);
        found
    }
}

/// `policy/install.toml`: where weights may be installed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallRules {
    pub roots: Vec<String>,
    pub reserved: Vec<String>,
}

impl InstallRules {
    /// Whether `dir` is `ROOT/NAME[/…]` for an allowed root and a name not reserved (control
    /// characters are refused for every string of the manifest, by [`control_characters`]).
    pub fn check(&self, dir: &str) -> Result<(), String> {
        let shown = self
            .roots
            .iter()
            .map(|r| format!("{r}/NAME/…"))
            .collect::<Vec<_>>();
        let expected = format!("expected {}", shown.join(" or "));
        if dir.ends_with('/') || dir.contains("//") {
            return Err(format!("`{dir}` has an empty path component: {expected}"));
        }
        let Some(below) = self.below_root(dir) else {
            return Err(format!(
                "`{dir}` is outside the directories for package data: {expected}"
            ));
        };
        let first = below.split('/').next().unwrap_or_default();
        if self.reserved.iter().any(|r| r == first) {
            return Err(format!(
                "`{dir}` is inside `{first}`, which belongs to other tools: {expected}"
            ));
        }
        Ok(())
    }

    /// Whether the file at `path` (absolute) lies where `dh_mlmodel` may install a model's
    /// files: in a directory `ROOT/NAME[/…]` that [`InstallRules::check`] accepts.
    pub fn may_hold_model_file(&self, path: &str) -> bool {
        let Some(below) = self.below_root(path) else {
            return false;
        };
        match below.split_once('/') {
            Some((first, _)) => !self.reserved.iter().any(|r| r == first),
            None => false,
        }
    }

    /// What follows `ROOT/` in `path` for an allowed root.
    fn below_root<'a>(&self, path: &'a str) -> Option<&'a str> {
        self.roots
            .iter()
            .find_map(|root| path.strip_prefix(root.as_str())?.strip_prefix('/'))
    }
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    source: Option<SourceInfo>,
    #[serde(default)]
    model: Vec<Model>,
}

/// A parsed and validated manifest, with what is needed to point back into the file.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub origin: String,
    text: String,
    pub source: Option<SourceInfo>,
    pub models: Vec<Model>,
}

impl Manifest {
    /// Reads and validates the manifest at `path`; `origin` names it in messages.
    pub fn load(path: &Path, origin: String) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|err| ManifestError {
            problems: vec![format!("{origin}: cannot read the manifest: {err}")],
        })?;
        Manifest::parse(origin, text)
    }

    /// Parses and validates `text`; `origin` names it in messages.
    pub fn parse(origin: String, text: String) -> Result<Manifest, ManifestError> {
        let document: Document = match toml::from_str(&text) {
            Ok(document) => document,
            Err(err) => {
                return Err(ManifestError {
                    problems: vec![describe_with_field(&origin, &text, &err)],
                });
            }
        };
        let manifest = Manifest {
            origin,
            text,
            source: document.source,
            models: document.model,
        };
        let problems = manifest.validate();
        if problems.is_empty() {
            Ok(manifest)
        } else {
            Err(ManifestError { problems })
        }
    }

    /// Checks every `install-dir` against `rules` (`policy/install.toml`).
    pub fn check_install_dirs(&self, rules: &InstallRules) -> Result<(), ManifestError> {
        let problems: Vec<String> = self
            .models
            .iter()
            .filter_map(|model| {
                let dir = model.install_dir.as_ref()?;
                let message = rules.check(dir.get_ref()).err()?;
                Some(format!(
                    "{}: model `{}`: `install-dir`: {message}",
                    self.locate(&dir.span()),
                    model.name()
                ))
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ManifestError { problems })
        }
    }

    /// `FILE:LINE:COLUMN` of a span.
    pub fn locate(&self, span: &Range<usize>) -> String {
        let (line, column) = line_column(&self.text, span.start);
        format!("{}:{line}:{column}", self.origin)
    }

    fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut problem = |span: Range<usize>, message: String| {
            problems.push(format!("{}: {message}", self.locate(&span)));
        };
        for found in control_characters(&self.text) {
            let field = found.field(&self.models);
            problem(
                found.span,
                format!(
                    "{field}: control characters (a newline, a tab, an escape…) are not allowed \
                     in the manifest's strings; remove them"
                ),
            );
        }
        if self.models.is_empty() {
            problem(
                0..0,
                "no [[model]] table: the manifest must describe at least one model".into(),
            );
        }
        let mut names = BTreeSet::new();
        let mut packages = BTreeSet::new();
        for model in &self.models {
            let name = model.name();
            if !names.insert(name) {
                problem(
                    model.name.span(),
                    format!("model `{name}`: a second [[model]] has this `name`"),
                );
            }
            for package in model.chosen_packages() {
                let package_name = &package.get_ref().0;
                if package_name.len() < 2 {
                    problem(
                        package.span(),
                        format!(
                            "model `{name}`: packages: `{package_name}` is too short: a Debian \
                             package name has at least two characters (Policy 5.6.1)"
                        ),
                    );
                }
                if !packages.insert(package_name.as_str()) {
                    problem(
                        package.span(),
                        format!(
                            "model `{name}`: packages: `{package_name}` is already the name of \
                             another package of the manifest; every model package needs its own \
                             name"
                        ),
                    );
                }
            }
            validate_model(model, &mut problem);
        }
        problems
    }
}

fn validate_model(model: &Model, problem: &mut impl FnMut(Range<usize>, String)) {
    let name = model.name();
    if model.files.get_ref().is_empty() {
        problem(
            model.files.span(),
            format!("model `{name}`: `files` must list at least one path"),
        );
    }
    for file in model.files.get_ref() {
        if !model.pins.contains_key(&file.get_ref().0) {
            problem(
                file.span(),
                format!(
                    "model `{name}`: `files` entry `{}` has no pin: add \
                     `\"{}\" = {{ sha256 = \"…\", size = … }}` under [model.pins]",
                    file.get_ref().0,
                    file.get_ref().0
                ),
            );
        }
    }
    for (path, pin) in &model.pins {
        if !model.files.get_ref().iter().any(|f| &f.get_ref().0 == path) {
            problem(
                pin.span(),
                format!("model `{name}`: `pins` names `{path}`, which `files` does not list"),
            );
        }
    }
    if model.compiled_in == model.generates.is_empty() {
        let span = model
            .generates
            .first()
            .map_or_else(|| model.name.span(), |g| g.span());
        problem(
            span,
            if model.compiled_in {
                format!(
                    "model `{name}`: `compiled-in = true` needs `generates`, the files the \
                     download puts in the tree for the build (`generates = [\"src/data.c\"]`)"
                )
            } else {
                format!("model `{name}`: `generates` is only meaningful with `compiled-in = true`")
            },
        );
    }
    if model.compiled_in && model.in_source {
        problem(
            model.name.span(),
            format!(
                "model `{name}`: `compiled-in` is for weights the build fetches; weights \
                 committed in the tree are `in-source` only"
            ),
        );
    }
    if let Some(dir) = &model.install_dir {
        let text = dir.get_ref();
        if !text.starts_with('/') || text.split('/').any(|part| part == "..") {
            problem(
                dir.span(),
                format!(
                    "model `{name}`: `install-dir` must be an absolute path without `..`, \
                     found `{text}`"
                ),
            );
        }
    }
    if let Some(download) = &model.download {
        let url = match download.url.get_ref() {
            Fact::Known(url) => Some((url, download.url.span())),
            Fact::Placeholder(_) => None,
        };
        let mirrors = download.mirrors.iter().map(|m| (m.get_ref(), m.span()));
        for (url, span) in url.into_iter().chain(mirrors) {
            if let Err(message) = check_url(url, download.allow_http) {
                problem(span, format!("model `{name}`: download: {message}"));
            }
        }
    }
    if let Some(training) = &model.training {
        validate_training(name, training, problem);
    }
    if let Some(verify) = &model.verify
        && let Err(message) = verify.get_ref().check()
    {
        problem(
            verify.span(),
            format!("model `{name}`: [model.verify]: {message}"),
        );
    }
    if let Some(evaluation) = &model.evaluation {
        let e = evaluation.get_ref();
        if e.min.is_none() && e.max.is_none() {
            problem(
                evaluation.span(),
                format!(
                    "model `{name}`: [model.evaluation] needs `min` or `max`: the bound \
                     `{}` must meet",
                    e.metric
                ),
            );
        }
        if let Err(message) = check_command(e.command.get_ref(), &["model", "data"], &["model"]) {
            problem(
                e.command.span(),
                format!("model `{name}`: evaluation.command: {message}"),
            );
        }
    }
}

fn validate_training(
    name: &str,
    training: &Spanned<Training>,
    problem: &mut impl FnMut(Range<usize>, String),
) {
    let t = training.get_ref();
    let has_program = t.program.is_some();
    match &t.command {
        None if has_program => problem(
            training.span(),
            format!(
                "model `{name}`: [model.training] names a `program` but no `command` to run it"
            ),
        ),
        Some(command) => {
            if let Fact::Known(text) = command.get_ref() {
                let required: &[&str] = if t.data.is_empty() {
                    &["out"]
                } else {
                    &["data", "out"]
                };
                if let Err(message) = check_command(text, &["data", "out", "seed"], required) {
                    problem(
                        command.span(),
                        format!("model `{name}`: training.command: {message}"),
                    );
                }
            }
        }
        None => {}
    }
    for (field, hours) in [("cpu-hours", &t.cpu_hours), ("gpu-hours", &t.gpu_hours)] {
        if let Some(hours) = hours
            && let Fact::Known(value) = hours.get_ref()
            && !(value.is_finite() && *value >= 0.0)
        {
            problem(
                hours.span(),
                format!("model `{name}`: training.{field} must be a number ≥ 0, found {value}"),
            );
        }
    }
    for (index, data) in t.data.iter().enumerate() {
        let d = data.get_ref();
        let given: Vec<&str> = [
            ("url", d.url.is_some()),
            ("package", d.package.is_some()),
            ("path", d.path.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, present)| present.then_some(key))
        .collect();
        if given.len() != 1 {
            let found = if given.is_empty() {
                "none".to_string()
            } else {
                given.join(", ")
            };
            problem(
                data.span(),
                format!(
                    "model `{name}`: training.data[{}] {}: exactly one of `url`, `package`, \
                     `path` is needed, found {found}",
                    index + 1,
                    d.label()
                ),
            );
        }
        if let Some(url) = &d.url
            && let Fact::Known(text) = url.get_ref()
            && let Err(message) = check_url(text, true)
        {
            problem(
                url.span(),
                format!(
                    "model `{name}`: training.data[{}].url: {message}",
                    index + 1
                ),
            );
        }
    }
}

/// A download location: `https://`, or `http://` when the manifest allows it.
fn check_url(url: &str, allow_http: bool) -> Result<(), String> {
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else if let Some(rest) = url.strip_prefix("http://") {
        if !allow_http {
            return Err(format!(
                "`{url}` is plain HTTP: use https://, or set `allow-http = true` (the SHA-256 \
                 pin still protects the bytes)"
            ));
        }
        rest
    } else {
        return Err(format!("`{url}` is not an https:// URL"));
    };
    if rest.is_empty() || rest.starts_with('/') || rest.contains(char::is_whitespace) {
        return Err(format!("`{url}` has no host or contains spaces"));
    }
    Ok(())
}

/// Checks the placeholders of a command: every `required` one is used. Only `{NAME}` for a
/// NAME in `allowed` is a placeholder; any other brace is shell text (`${HOME}`,
/// `awk '{print $1}'`), passed to the shell as written.
fn check_command(command: &str, allowed: &[&str], required: &[&str]) -> Result<(), String> {
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|name| !command.contains(&format!("{{{name}}}")))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "`{command}` must use {}: only {} are placeholders, other braces are shell text (to \
         pass a literal `{{{}}}` to the program, write `{{\"\"{}}}`: the shell removes the \
         empty quotes)",
        list_placeholders(&missing),
        list_placeholders(allowed),
        allowed[0],
        allowed[0]
    ))
}

fn list_placeholders(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{{{n}}}`"))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// A string of the manifest holding a control character.
struct ControlCharacters {
    span: Range<usize>,
    /// Where it is: keys and 1-based indexes from the top, e.g. `model`, 2, `pins`.
    path: Vec<PathStep>,
    /// It is a key (e.g. a `pins` entry's file name), not a value.
    key: bool,
}

#[derive(Clone)]
enum PathStep {
    Key(String),
    Index(usize),
}

impl ControlCharacters {
    /// `model `NAME`: `training.data[1].url`` (or `… key`), as the other messages name fields.
    fn field(&self, models: &[Model]) -> String {
        let mut steps = self.path.iter().peekable();
        let mut out = String::new();
        if let (Some(PathStep::Key(top)), Some(PathStep::Index(index))) =
            (self.path.first(), self.path.get(1))
            && top == "model"
        {
            steps.next();
            steps.next();
            match models.get(index - 1) {
                Some(model) => out.push_str(&format!("model `{}`: ", model.name())),
                None => out.push_str(&format!("model {index}: ")),
            }
        }
        let mut dotted = String::new();
        for step in steps {
            match step {
                PathStep::Key(key) => {
                    if !dotted.is_empty() {
                        dotted.push('.');
                    }
                    dotted.push_str(&crate::terminal::escape_controls(key));
                }
                PathStep::Index(index) => dotted.push_str(&format!("[{index}]")),
            }
        }
        let what = if self.key { " key" } else { "" };
        out.push_str(&format!("`{dotted}`{what}"));
        out
    }
}

/// Every string of the manifest, keys included, that holds a control character: one rule for
/// every field, since each string ends up in a file name, a shell script, a control file or a
/// terminal. In document order.
fn control_characters(text: &str) -> Vec<ControlCharacters> {
    let Ok(document) = toml_edit::Document::parse(text) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    table_controls(document.as_table(), &mut Vec::new(), &mut found);
    found.sort_by_key(|f| f.span.start);
    found
}

fn has_controls(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// Records `key` (at `path`, the table holding it) when it holds control characters.
fn key_controls(
    key: Option<&toml_edit::Key>,
    path: &[PathStep],
    found: &mut Vec<ControlCharacters>,
) {
    if let Some(key) = key
        && has_controls(key.get())
    {
        found.push(ControlCharacters {
            span: key.span().unwrap_or(0..0),
            path: path.to_vec(),
            key: true,
        });
    }
}

fn table_controls(
    table: &toml_edit::Table,
    path: &mut Vec<PathStep>,
    found: &mut Vec<ControlCharacters>,
) {
    for (name, item) in table.iter() {
        key_controls(table.key(name), path, found);
        path.push(PathStep::Key(name.to_string()));
        match item {
            toml_edit::Item::Value(value) => value_controls(value, path, found),
            toml_edit::Item::Table(inner) => table_controls(inner, path, found),
            toml_edit::Item::ArrayOfTables(tables) => {
                for (index, inner) in tables.iter().enumerate() {
                    path.push(PathStep::Index(index + 1));
                    table_controls(inner, path, found);
                    path.pop();
                }
            }
            toml_edit::Item::None => {}
        }
        path.pop();
    }
}

fn value_controls(
    value: &toml_edit::Value,
    path: &mut Vec<PathStep>,
    found: &mut Vec<ControlCharacters>,
) {
    match value {
        toml_edit::Value::String(text) if has_controls(text.value()) => {
            found.push(ControlCharacters {
                span: text.span().unwrap_or(0..0),
                path: path.clone(),
                key: false,
            });
        }
        toml_edit::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(PathStep::Index(index + 1));
                value_controls(item, path, found);
                path.pop();
            }
        }
        toml_edit::Value::InlineTable(table) => {
            for (name, item) in table.iter() {
                key_controls(table.key(name), path, found);
                path.push(PathStep::Key(name.to_string()));
                value_controls(item, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Like [`crate::policy::describe_toml_error`], and names the field when the error points at a
/// `key = value` (type errors carry only the value's span).
fn describe_with_field(origin: &str, text: &str, err: &toml::de::Error) -> String {
    let base = crate::policy::describe_toml_error(origin, text, err);
    if err.message().starts_with("missing field") {
        return format!("{base} in the table that starts here");
    }
    match err.span().and_then(|span| key_before(text, span.start)) {
        Some(key) if !err.message().contains(&format!("`{key}`")) => {
            format!("{base} (in `{key}`)")
        }
        _ => base,
    }
}

/// The key of the `key = ` that precedes byte `offset` on its line, if any.
fn key_before(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..offset];
    let (left, _) = before.rsplit_once('=')?;
    let key = left
        .rsplit(['{', ','])
        .next()?
        .trim()
        .trim_matches(['"', '\'']);
    (!key.is_empty()).then(|| key.to_string())
}

#[cfg(test)]
mod tests {
    use super::InstallRules;

    #[test]
    fn model_files_lie_in_a_named_directory_below_an_install_root() {
        let rules: InstallRules =
            toml::from_str(include_str!("../../../policy/install.toml")).unwrap();
        for (path, holds) in [
            ("/usr/share/foo/m.onnx", true),
            ("/usr/lib/foo/sub/m.bin", true),
            ("/usr/share/m.onnx", false),
            ("/usr/share/doc/foo/provenance.json", false),
            ("/usr/include/boost/config.hpp", false),
            ("/usr/sharefoo/x/m.onnx", false),
        ] {
            assert_eq!(rules.may_hold_model_file(path), holds, "{path}");
        }
    }
}
