//! `summary.json`: the figures of a census (one run, or shards merged), computed from the run
//! descriptions (`census.json`) and the results. Two censuses of the same packages give the
//! same summary but for the fields listed in its `volatile` array: `generated` (the date) and
//! `timings` (seconds, which depend on the machine and the network).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::results::PackageResult;
use super::select::Candidate;

/// The schema of `summary.json` (and of `census.json`).
pub const SUMMARY_SCHEMA: u32 = 1;
/// The summary's fields that change from run to run of the same census.
pub const VOLATILE_FIELDS: [&str; 2] = ["generated", "timings"];
/// Packages listed under `top_by_model_size`.
pub const TOP_PACKAGES: usize = 15;
/// The description of one census run, `DIR/census.json`.
pub const RUN_FILE: &str = "census.json";

/// What one run (one shard) was asked to do and what it chose.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    pub schema: u32,
    pub suite: String,
    pub components: Vec<String>,
    pub architecture: String,
    /// Binary packages in the Packages indexes read.
    pub packages_in_indexes: u64,
    /// Candidates the rules chose in the whole suite, before `--limit` and `--shard`.
    pub candidates_selected: u64,
    pub limit: Option<u64>,
    /// `K/N`.
    pub shard: String,
    /// This run's candidates.
    pub candidates: Vec<Candidate>,
}

impl RunInfo {
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(RUN_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {}: is {} the --out directory of a census?",
                path.display(),
                dir.display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("{}: not a census run", path.display()))
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(RUN_FILE);
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AreaCount {
    pub candidates: u64,
    pub checked: u64,
    pub with_weights: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct FormatCount {
    pub packages: u64,
    pub files: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Provenance {
    pub present: u64,
    pub absent: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TopPackage {
    pub package: String,
    pub version: String,
    pub area: String,
    pub model_bytes: u64,
    pub formats: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Bytes {
    /// `.deb` sizes of the packages checked: what the census fetched.
    pub fetched: u64,
    pub installed: u64,
    /// Weights files.
    pub models: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TimingTotals {
    pub fetch_seconds: f64,
    pub check_seconds: f64,
    pub fetch_seconds_per_package: f64,
    pub check_seconds_per_package: f64,
}

/// `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub schema: u32,
    pub volatile: Vec<String>,
    /// When the summary was written (UTC, RFC 3339).
    pub generated: String,
    pub suite: String,
    pub components: Vec<String>,
    pub architecture: String,
    pub packages_in_indexes: u64,
    pub candidates_selected: u64,
    pub candidates: u64,
    pub checked: u64,
    /// `.deb` files the check could not read.
    pub unreadable: u64,
    /// Candidates without a result yet (fetch failed, or the census was stopped).
    pub not_checked: u64,
    pub with_weights: u64,
    pub by_area: BTreeMap<String, AreaCount>,
    /// Weights files by format: packages, files, bytes.
    pub by_format: BTreeMap<String, FormatCount>,
    /// Every kind of finding (weights, download, blob, …): packages, files, bytes.
    pub by_kind: BTreeMap<String, FormatCount>,
    /// Among the packages with weights.
    pub provenance: Provenance,
    /// Among the packages with weights: ML-Policy category where known.
    pub categories: BTreeMap<String, u64>,
    /// Weight downloads by checksum algorithm (`none`: nothing checked).
    pub download_checksums: BTreeMap<String, u64>,
    /// Packages per tag.
    pub tags: BTreeMap<String, u64>,
    pub top_by_model_size: Vec<TopPackage>,
    pub bytes: Bytes,
    pub timings: TimingTotals,
}

/// The results of the runs' candidates, one per package (the version the run chose), in name
/// order: results of other versions (an older run) and duplicates (shards run twice) drop out.
pub fn current_results(runs: &[RunInfo], results: Vec<PackageResult>) -> Vec<PackageResult> {
    let wanted: BTreeSet<(&str, &str)> = runs
        .iter()
        .flat_map(|r| &r.candidates)
        .map(|c| (c.entry.package.as_str(), c.entry.version.as_str()))
        .collect();
    let mut by_package: BTreeMap<String, PackageResult> = BTreeMap::new();
    for result in results {
        if wanted.contains(&(result.package.as_str(), result.version.as_str())) {
            by_package.insert(result.package.clone(), result);
        }
    }
    by_package.into_values().collect()
}

impl Summary {
    /// The summary of `runs` (one, or the shards of a census) and their results.
    pub fn compute(runs: &[RunInfo], results: &[PackageResult], generated: String) -> Result<Self> {
        let first = runs.first().context("no census run to summarise")?;
        for run in runs {
            if (
                &run.suite,
                &run.components,
                &run.architecture,
                run.packages_in_indexes,
            ) != (
                &first.suite,
                &first.components,
                &first.architecture,
                first.packages_in_indexes,
            ) {
                anyhow::bail!(
                    "the runs are not shards of one census: shard {} read {} {} {} ({} \
                     packages), shard {} read {} {} {} ({} packages)",
                    first.shard,
                    first.suite,
                    first.components.join(","),
                    first.architecture,
                    first.packages_in_indexes,
                    run.shard,
                    run.suite,
                    run.components.join(","),
                    run.architecture,
                    run.packages_in_indexes
                );
            }
        }
        let candidates: BTreeMap<&str, &Candidate> = runs
            .iter()
            .flat_map(|r| &r.candidates)
            .map(|c| (c.entry.package.as_str(), c))
            .collect();
        let mut summary = Summary {
            schema: SUMMARY_SCHEMA,
            volatile: VOLATILE_FIELDS.iter().map(|s| s.to_string()).collect(),
            generated,
            suite: first.suite.clone(),
            components: first.components.clone(),
            architecture: first.architecture.clone(),
            packages_in_indexes: first.packages_in_indexes,
            candidates_selected: first.candidates_selected,
            candidates: candidates.len() as u64,
            checked: 0,
            unreadable: 0,
            not_checked: 0,
            with_weights: 0,
            by_area: BTreeMap::new(),
            by_format: BTreeMap::new(),
            by_kind: BTreeMap::new(),
            provenance: Provenance::default(),
            categories: BTreeMap::new(),
            download_checksums: BTreeMap::new(),
            tags: BTreeMap::new(),
            top_by_model_size: Vec::new(),
            bytes: Bytes::default(),
            timings: TimingTotals::default(),
        };
        for candidate in candidates.values() {
            summary
                .by_area
                .entry(candidate.entry.area.clone())
                .or_default()
                .candidates += 1;
        }
        for result in results {
            summary.checked += 1;
            let area = summary.by_area.entry(result.area.clone()).or_default();
            area.checked += 1;
            summary.bytes.fetched += result.deb_size;
            summary.bytes.installed += result.installed_size;
            summary.bytes.models += result.model_bytes;
            summary.timings.fetch_seconds += result.timings.fetch_seconds;
            summary.timings.check_seconds += result.timings.check_seconds;
            if result.error.is_some() {
                summary.unreadable += 1;
                continue;
            }
            for (kind, formats) in &result.findings {
                let count = summary.by_kind.entry(kind.clone()).or_default();
                count.packages += 1;
                for tally in formats.values() {
                    count.files += tally.files;
                    count.bytes += tally.bytes;
                }
            }
            for (algorithm, n) in &result.download_checksums {
                *summary
                    .download_checksums
                    .entry(algorithm.clone())
                    .or_default() += n;
            }
            for tag in result.tags.keys() {
                *summary.tags.entry(tag.clone()).or_default() += 1;
            }
            let Some(weights) = result.findings.get("weights") else {
                continue;
            };
            summary.with_weights += 1;
            area.with_weights += 1;
            for (format, tally) in weights {
                let count = summary.by_format.entry(format.clone()).or_default();
                count.packages += 1;
                count.files += tally.files;
                count.bytes += tally.bytes;
            }
            if result.provenance {
                summary.provenance.present += 1;
            } else {
                summary.provenance.absent += 1;
            }
            *summary
                .categories
                .entry(result.category.clone())
                .or_default() += 1;
            summary.top_by_model_size.push(TopPackage {
                package: result.package.clone(),
                version: result.version.clone(),
                area: result.area.clone(),
                model_bytes: result.model_bytes,
                formats: weights.keys().cloned().collect(),
            });
        }
        summary.not_checked = summary.candidates.saturating_sub(summary.checked);
        summary.top_by_model_size.sort_by(|a, b| {
            b.model_bytes
                .cmp(&a.model_bytes)
                .then(a.package.cmp(&b.package))
        });
        summary.top_by_model_size.truncate(TOP_PACKAGES);
        if summary.checked > 0 {
            summary.timings.fetch_seconds_per_package =
                summary.timings.fetch_seconds / summary.checked as f64;
            summary.timings.check_seconds_per_package =
                summary.timings.check_seconds / summary.checked as f64;
        }
        Ok(summary)
    }
}
