//! `dh-mlmodel census`: every model in a Debian suite, found, checked and reported.
//!
//! The steps, one module each: a private apt configuration fetches the suite's Packages and
//! Contents indexes ([`apt`], read by [`index`]); the rules of `policy/census.toml` choose the
//! candidates from their file names and sizes ([`select`]); `--limit` and `--shard` cut the
//! list ([`shard`]); each candidate is downloaded and checked by the `check` engine
//! ([`runner`]) into `results.jsonl` ([`results`]); the figures go to `summary.json`
//! ([`summary`]) and `report.html` ([`report`]); shards' outputs are put together by
//! [`merge`].

pub mod apt;
pub mod index;
pub mod merge;
pub mod report;
pub mod results;
pub mod runner;
pub mod select;
pub mod shard;
pub mod summary;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::check::CheckContext;
use crate::policy::PolicySource;
use apt::{Apt, Archive};
use select::{Candidate, CensusPolicy, Selector, human_bytes};
use shard::{Shard, name_hash};
use summary::{RunInfo, SUMMARY_SCHEMA, Summary};

/// What `dh-mlmodel census` was asked to do.
#[derive(Debug, Clone)]
pub struct CensusOptions {
    pub suite: String,
    pub components: Vec<String>,
    pub architecture: String,
    pub limit: Option<u64>,
    pub shard: Shard,
    pub jobs: usize,
    pub archive: Archive,
    pub keep: bool,
    pub out: PathBuf,
}

/// Runs a census (or one shard of it) into `options.out`.
pub fn run(options: &CensusOptions, policy: &PolicySource) -> Result<Summary> {
    let out = &options.out;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let rules: CensusPolicy = policy.table("census.toml")?;
    let apt = Apt::configure(
        out,
        &options.archive,
        &options.suite,
        &options.components,
        &options.architecture,
    )?;
    apt.update()?;
    let (packages, selector_candidates) = read_indexes(&apt, &rules)?;
    let selected = selector_candidates.len() as u64;
    let candidates = cut(selector_candidates, options.limit, options.shard);
    print_candidates(&candidates, packages.len() as u64, selected, options);
    let info = RunInfo {
        schema: SUMMARY_SCHEMA,
        suite: options.suite.clone(),
        components: options.components.clone(),
        architecture: options.architecture.clone(),
        packages_in_indexes: packages.len() as u64,
        candidates_selected: selected,
        limit: options.limit,
        shard: options.shard.to_string(),
        candidates,
    };
    info.write(out)?;

    let ctx = CheckContext::load(policy, options.jobs)?;
    let results_file = results::ResultsFile::open(out)?;
    let stats = runner::run(
        &info.candidates,
        &apt,
        &ctx,
        &results_file,
        &out.join("cache"),
        options.jobs,
        options.keep,
    )?;
    eprintln!(
        "census: {} checked, {} skipped (done before), {} not fetched; {} fetched",
        stats.checked,
        stats.skipped,
        stats.fetch_failures,
        human_bytes(stats.bytes_fetched)
    );
    let results = results::read(&out.join(results::RESULTS_FILE))?;
    finish(out, &[info], results)
}

/// Reads the Packages and Contents indexes apt fetched: the packages by name, and the
/// candidates the rules choose among them.
fn read_indexes(
    apt: &Apt,
    rules: &CensusPolicy,
) -> Result<(BTreeMap<String, index::PackageEntry>, Vec<Candidate>)> {
    let files = apt.index_files()?;
    let mut packages = BTreeMap::new();
    for file in files.iter().filter(|f| f.identifier == "Packages") {
        let mut reader = file.open()?;
        let what = reader.path.display().to_string();
        let skipped = index::read_packages(
            &mut reader.reader,
            &file.component,
            rules.max_index_line_bytes,
            rules.max_packages_paragraph_bytes,
            &what,
            &mut packages,
        )?;
        warn_skipped(&what, skipped, rules);
        reader.finish()?;
    }
    let mut selector = Selector::new(rules);
    let mut contents = 0;
    for file in files.iter().filter(|f| f.identifier == "Contents-deb") {
        let Ok(mut reader) = file.open() else {
            // A suite may have no Contents-all (or none at all): apt skips targets the
            // Release file does not list.
            continue;
        };
        contents += 1;
        let skipped = index::read_contents(
            &mut reader.reader,
            rules.max_index_line_bytes,
            |path, package| selector.file(path, package),
        )?;
        warn_skipped(&reader.path.display().to_string(), skipped, rules);
        reader.finish()?;
    }
    if packages.is_empty() {
        anyhow::bail!(
            "apt fetched no Packages index: check --suite, --component and --arch against the \
             mirror's dists/ directory"
        );
    }
    if contents == 0 {
        anyhow::bail!(
            "apt fetched no Contents index (Contents-<arch> or Contents-all): the mirror's \
             Release file must list them"
        );
    }
    let candidates = selector.candidates(&packages);
    Ok((packages, candidates))
}

/// Says how many lines of an index were too long to read.
fn warn_skipped(what: &str, skipped: u64, rules: &CensusPolicy) {
    if skipped > 0 {
        eprintln!(
            "census: {}: {skipped} lines longer than {} bytes skipped (max-index-line-bytes in \
             policy/census.toml)",
            crate::terminal::escape_controls(what),
            rules.max_index_line_bytes
        );
    }
}

/// The candidates a run takes: ordered by the shard hash of their name (a fixed pseudo-random
/// order, so `--limit N` samples the whole alphabet rather than the packages starting with
/// `0` and `a`), the first `limit`, then those of `shard`. The limit comes first so that the
/// N shards of a limited census split one and the same slice.
pub fn cut(mut candidates: Vec<Candidate>, limit: Option<u64>, shard: Shard) -> Vec<Candidate> {
    candidates.sort_by(|a, b| {
        (name_hash(&a.entry.package), &a.entry.package)
            .cmp(&(name_hash(&b.entry.package), &b.entry.package))
    });
    if let Some(limit) = limit {
        candidates.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    candidates.retain(|c| shard.contains(&c.entry.package));
    candidates.sort_by(|a, b| a.entry.package.cmp(&b.entry.package));
    candidates
}

fn print_candidates(
    candidates: &[Candidate],
    packages: u64,
    selected: u64,
    options: &CensusOptions,
) {
    let mut cut = Vec::new();
    if let Some(limit) = options.limit {
        cut.push(format!("--limit {limit}"));
    }
    if options.shard != Shard::WHOLE {
        cut.push(format!("shard {}", options.shard));
    }
    let cut = if cut.is_empty() {
        String::new()
    } else {
        format!(" ({selected} chosen by the rules; {})", cut.join(", "))
    };
    println!(
        "{} candidates of {packages} packages{cut}",
        candidates.len()
    );
    for candidate in candidates {
        // Names and paths come from the mirror's indexes: escaped like every other message.
        let line = format!(
            "{} {} ({}, {}): {}",
            candidate.entry.package,
            candidate.entry.version,
            candidate.entry.area,
            human_bytes(candidate.entry.size),
            candidate.reasons.join("; ")
        );
        println!("{}", crate::terminal::escape_controls(&line));
    }
}

/// Writes `summary.json` and `report.html` of `runs` and their results into `out`.
pub fn finish(
    out: &Path,
    runs: &[RunInfo],
    results: Vec<results::PackageResult>,
) -> Result<Summary> {
    let results = summary::current_results(runs, results);
    let summary = Summary::compute(runs, &results, now())?;
    let path = out.join("summary.json");
    let mut text = serde_json::to_string_pretty(&summary)?;
    text.push('\n');
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    let shards: Vec<String> = runs.iter().map(|r| r.shard.clone()).collect();
    report::write(&summary, &shards, out)?;
    Ok(summary)
}

/// The time now, UTC, RFC 3339 (to the second).
fn now() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    chrono::DateTime::from_timestamp(i64::try_from(seconds).unwrap_or(0), 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}
