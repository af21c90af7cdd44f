//! AI bills of materials: what a weights package is, where its bytes and its training data come
//! from, under which licences, and how a retrained copy compared with the published one, as an
//! SPDX 3.0.1 JSON-LD document with the AI and Dataset profiles ([`spdx`]) or a CycloneDX 1.6
//! ML-BOM ([`cyclonedx`]).
//!
//! [`ModelBom`] is the one input of both writers, built from the plan by [`ModelBom::from_plan`]
//! for every caller: `dh_mlmodel` (each weights package it builds), `classify --format` (the
//! whole source) and the installer's helper, which carries the value as JSON and has the hidden
//! `dh-mlmodel sbom` subcommand write the document of the package it built, after filling in the
//! bytes it actually installs and the verification of retrained weights. So there is one
//! generator, never a shell copy of it.

pub mod cyclonedx;
pub mod spdx;

use serde::{Deserialize, Serialize};

use crate::hash::sha256_bytes;
use crate::plan::{DataSource, ModelPlan, Plan, Program, Role};

/// The file name of the SPDX document in a weights package.
pub const FILE_NAME: &str = "sbom.spdx.json";

/// Where a weights package installs its SPDX document: beside the model's data under
/// `/usr/share`, outside `/usr/share/doc`, which dh_compress gzips and minimal images drop.
pub fn installed_path(source: &str, model: &str) -> String {
    format!("/usr/share/{source}/models/{model}/{FILE_NAME}")
}

/// Everything a bill of materials says about one model and its weights package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelBom {
    /// The Debian source package.
    pub source: String,
    /// The model's name in the manifest.
    pub model: String,
    /// The weights binary package.
    pub package: String,
    /// The weights package's version, when known.
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The weights' licence, an SPDX expression.
    #[serde(default)]
    pub license: Option<String>,
    /// Who distributes the package: debian/control's `Maintainer`.
    #[serde(default)]
    pub supplier: Option<String>,
    #[serde(default)]
    pub homepage: Option<String>,
    /// Where the published weights are fetched from.
    #[serde(default)]
    pub download_location: Option<String>,
    #[serde(default)]
    pub type_of_model: Vec<String>,
    #[serde(default)]
    pub domain: Vec<String>,
    #[serde(default)]
    pub limitation: Option<String>,
    #[serde(default)]
    pub training: Option<TrainingInfo>,
    #[serde(default)]
    pub datasets: Vec<Dataset>,
    /// The installed files.
    pub files: Vec<BomFile>,
    /// `archive`, `downloaded` or `retrained`; `None` for a plan not built yet.
    #[serde(default)]
    pub origin: Option<String>,
    /// How retrained weights compared with the published ones.
    #[serde(default)]
    pub verification: Option<Verification>,
}

/// How the weights are rebuilt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingInfo {
    #[serde(default)]
    pub command: Option<String>,
    /// The training program: paths in the source, or `package NAME`.
    #[serde(default)]
    pub program: Option<String>,
    #[serde(default)]
    pub seed: Option<i64>,
    pub deterministic: bool,
    #[serde(default)]
    pub cpu_hours: Option<f64>,
    #[serde(default)]
    pub gpu_hours: Option<f64>,
}

/// One training input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    pub name: String,
    #[serde(default)]
    pub license: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    /// The Debian package that ships it.
    #[serde(default)]
    pub package: Option<String>,
    /// Its path in the source tree.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
    /// Downloadable by anyone without an account; `None` when not stated.
    #[serde(default)]
    pub public: Option<bool>,
}

/// One installed weight file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BomFile {
    /// Absolute path on the installed system.
    pub path: String,
    pub sha256: String,
    pub size: u64,
    /// The published file's digest, when the installed bytes were built rather than fetched.
    #[serde(default)]
    pub published_sha256: Option<String>,
}

/// The comparison of retrained weights with the published ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verification {
    /// `bitwise` (digests against the pins) or `tensors` (`dh-mlmodel verify`).
    pub method: String,
    /// `identical`, `equivalent` or `different` (`dh-mlmodel verify`); `identical` or
    /// `not-identical` for a bitwise comparison, which cannot tell an equivalent model from a
    /// different one.
    pub verdict: String,
    /// Figures worth recording (tensors compared, the worst difference…), as key and value.
    #[serde(default)]
    pub figures: Vec<(String, String)>,
    /// One sentence for people.
    pub statement: String,
}

impl Verification {
    /// The outcome of comparing each retrained file's digest with its pin.
    pub fn bitwise(files: &[BomFile]) -> Option<Verification> {
        let compared: Vec<&BomFile> = files
            .iter()
            .filter(|f| f.published_sha256.is_some())
            .collect();
        if compared.is_empty() {
            return None;
        }
        let differing = compared
            .iter()
            .filter(|f| f.published_sha256.as_deref() != Some(f.sha256.as_str()))
            .count();
        let (verdict, statement) = if differing == 0 {
            (
                "identical",
                format!(
                    "the retrained bytes of all {} file(s) match the published SHA-256 pins",
                    compared.len()
                ),
            )
        } else {
            (
                "not-identical",
                format!(
                    "{differing} of {} retrained file(s) differ from the published SHA-256 pins \
                     (no tensor comparison was made)",
                    compared.len()
                ),
            )
        };
        Some(Verification {
            method: "bitwise".into(),
            verdict: verdict.into(),
            figures: vec![
                ("files".into(), compared.len().to_string()),
                ("files_differing".into(), differing.to_string()),
            ],
            statement,
        })
    }

    /// The report of `dh-mlmodel verify --json` (schema 1): its verdict and summary figures.
    pub fn from_verify_report(report: &serde_json::Value) -> anyhow::Result<Verification> {
        use anyhow::{Context, bail};
        if report.get("schema").and_then(|s| s.as_u64()) != Some(1) {
            bail!("not a `dh-mlmodel verify --json` report of schema 1");
        }
        let verdict = report
            .get("verdict")
            .and_then(|v| v.as_str())
            .filter(|v| ["identical", "equivalent", "different"].contains(v))
            .context("the verify report has no verdict identical, equivalent or different")?;
        let mut figures = Vec::new();
        let summary = report.get("summary");
        for (key, name) in [
            ("tensors", "tensors"),
            ("equal", "tensors_equal"),
            ("within", "tensors_within_tolerance"),
            ("different", "tensors_different"),
        ] {
            if let Some(n) = summary.and_then(|s| s.get(key)).and_then(|n| n.as_u64()) {
                figures.push((name.to_string(), n.to_string()));
            }
        }
        let worst = summary.and_then(|s| s.get("worst"));
        let worst_name = worst.and_then(|w| w.get("name")).and_then(|n| n.as_str());
        if let Some(name) = worst_name {
            figures.push(("worst_tensor".into(), name.to_string()));
        }
        for key in ["max_abs", "rel_l2"] {
            if let Some(value) = worst.and_then(|w| w.get(key)).and_then(|v| v.as_f64()) {
                figures.push((format!("worst_{key}"), format!("{value:e}")));
            }
        }
        let mut statement = format!("dh-mlmodel verify: the retrained weights are {verdict}");
        let count = |key: &str| summary.and_then(|s| s.get(key)).and_then(|n| n.as_u64());
        if let Some(tensors) = count("tensors") {
            statement.push_str(&format!(
                " to the published ones ({tensors} tensors: {} equal, {} within tolerance, {} different",
                count("equal").unwrap_or(0),
                count("within").unwrap_or(0),
                count("different").unwrap_or(0)
            ));
            if let Some(name) = worst_name {
                statement.push_str(&format!("; worst {name}"));
            }
            statement.push(')');
        }
        Ok(Verification {
            method: "tensors".into(),
            verdict: verdict.into(),
            figures,
            statement,
        })
    }
}

impl ModelBom {
    /// What the plan says of `model`'s weights package, before it is built: the files as
    /// pinned. `version` is the weights package's version, `supplier` debian/control's
    /// `Maintainer`, when known.
    pub fn from_plan(
        plan: &Plan,
        model: &ModelPlan,
        version: Option<&str>,
        supplier: Option<&str>,
        homepage: Option<&str>,
    ) -> ModelBom {
        let facts = &model.facts;
        let package = model.package(Role::Weights).map_or_else(
            || format!("{}-model-{}", plan.source, model.name),
            |p| p.name.clone(),
        );
        let files = facts
            .files
            .iter()
            .filter_map(|rel| {
                let pin = facts.pins.get(rel)?;
                let name = rel.rsplit('/').next().unwrap_or(rel);
                Some(BomFile {
                    path: format!("{}/{name}", model.install_dir),
                    sha256: pin.sha256.clone(),
                    size: pin.size,
                    published_sha256: None,
                })
            })
            .collect();
        let training = facts.training.as_ref().map(|t| TrainingInfo {
            command: t.command.clone(),
            program: t.program.as_ref().map(|p| match p {
                Program::Paths(paths) => paths.join(", "),
                Program::Package(package) => format!("package {package}"),
            }),
            seed: t.seed,
            deterministic: t.deterministic,
            cpu_hours: t.cpu_hours,
            gpu_hours: t.gpu_hours,
        });
        let datasets = facts
            .training
            .iter()
            .flat_map(|t| &t.data)
            .enumerate()
            .map(|(index, input)| {
                let (url, package, path) = match &input.source {
                    Some(DataSource::Url(url)) => (Some(url.clone()), None, None),
                    Some(DataSource::Package(p)) => (None, Some(p.clone()), None),
                    Some(DataSource::Path(p)) => (None, None, Some(p.clone())),
                    None => (None, None, None),
                };
                Dataset {
                    name: input
                        .name
                        .clone()
                        .unwrap_or_else(|| format!("training input {}", index + 1)),
                    license: input.license.clone(),
                    url,
                    package,
                    path,
                    sha256: input.sha256.clone(),
                    size: input.size,
                    public: input.public,
                }
            })
            .collect();
        ModelBom {
            source: plan.source.clone(),
            model: model.name.clone(),
            package,
            version: version.map(String::from),
            description: facts.description.clone(),
            license: facts.license.as_ref().map(|l| l.spdx.clone()),
            supplier: supplier.map(String::from),
            homepage: homepage.map(String::from),
            download_location: facts.download.as_ref().map(|d| d.url.clone()),
            type_of_model: facts.type_of_model.clone(),
            domain: facts.domain.clone(),
            limitation: facts.limitation.clone(),
            training,
            datasets,
            files,
            origin: model.weights_origin().map(|o| o.as_str().to_string()),
            verification: None,
        }
    }

    /// Deterministic identity of the weights described: their name, version and every file's
    /// SHA-256, so the same package gives the same element IDs and other bytes other IDs.
    pub fn digest(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.package,
            self.version.as_deref().unwrap_or(""),
            self.origin.as_deref().unwrap_or("")
        );
        for file in &self.files {
            text.push_str(&format!("{} {} {}\n", file.path, file.sha256, file.size));
        }
        sha256_bytes(text.as_bytes())
    }
}

/// Sets `key` in a JSON object to `value` when there is one: both documents leave out what the
/// manifest does not say rather than writing nulls.
fn insert_some(
    fields: &mut serde_json::Map<String, serde_json::Value>,
    key: &str,
    value: &Option<String>,
) {
    if let Some(value) = value {
        fields.insert(key.into(), value.clone().into());
    }
}

/// The `created` time stamp of SPDX and CycloneDX documents: `SOURCE_DATE_EPOCH` as
/// `YYYY-MM-DDThh:mm:ssZ` (SPDX 3.0.1's DateTime: UTC, seconds, no fraction).
pub fn timestamp(epoch: i64) -> anyhow::Result<String> {
    use anyhow::Context;
    chrono::DateTime::from_timestamp(epoch, 0)
        .map(|time| time.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .with_context(|| format!("SOURCE_DATE_EPOCH={epoch} is out of range"))
}

/// The tool that writes the documents, with its version.
pub fn tool_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(sha256: &str, published: &str) -> BomFile {
        BomFile {
            path: "/usr/share/foo/models/net/net.npy".into(),
            sha256: sha256.repeat(64),
            size: 1,
            published_sha256: Some(published.repeat(64)),
        }
    }

    #[test]
    fn bitwise_verification_tells_identical_from_not_identical_only() {
        let same = Verification::bitwise(&[file("a", "a")]).unwrap();
        assert_eq!(
            (same.method.as_str(), same.verdict.as_str()),
            ("bitwise", "identical")
        );
        let other = Verification::bitwise(&[file("a", "a"), file("b", "c")]).unwrap();
        assert_eq!(other.verdict, "not-identical");
        assert!(other.statement.contains("1 of 2"), "{}", other.statement);
        // Downloaded files were checked against their pins on the way in: nothing to compare.
        let mut fetched = file("a", "a");
        fetched.published_sha256 = None;
        assert!(Verification::bitwise(&[fetched]).is_none());
    }

    #[test]
    fn verify_reports_give_the_verdict_and_figures_or_an_error() {
        let report = serde_json::json!({
            "schema": 1, "verdict": "equivalent",
            "summary": {"tensors": 3, "equal": 2, "within": 1, "different": 0,
                        "worst": {"name": "layer.0.weight", "max_abs": 1e-7, "rel_l2": 2e-6}},
            "tolerance": {}, "files": []
        });
        let verification = Verification::from_verify_report(&report).unwrap();
        assert_eq!(verification.method, "tensors");
        assert_eq!(verification.verdict, "equivalent");
        assert!(
            verification
                .figures
                .contains(&("tensors".into(), "3".into()))
        );
        assert!(
            verification
                .figures
                .contains(&("worst_tensor".into(), "layer.0.weight".into()))
        );
        assert!(
            verification
                .statement
                .contains("3 tensors: 2 equal, 1 within tolerance")
        );
        for bad in [
            serde_json::json!({"schema": 2, "verdict": "equivalent"}),
            serde_json::json!({"schema": 1, "verdict": "maybe"}),
            serde_json::json!({"schema": 1}),
        ] {
            assert!(Verification::from_verify_report(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_are_utc_seconds() {
        assert_eq!(timestamp(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(1_700_000_000).unwrap(), "2023-11-14T22:13:20Z");
    }
}
