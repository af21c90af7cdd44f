//! Fetch and check: each candidate's `.deb` downloaded with apt into `DIR/cache/`, read by the
//! check engine in-process (the same code as `dh-mlmodel check`: no JSON round trip through a
//! subprocess), one line appended to `results.jsonl`, the `.deb` deleted unless `--keep`.
//! `--jobs` packages at a time; a progress bar on a terminal, one line per package otherwise
//! (logs of batch jobs).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use super::apt::Apt;
use super::results::{PackageResult, ResultsFile, Timings};
use super::select::{Candidate, human_bytes};
use crate::check::{self, CheckContext, TargetKind};

/// What a run did.
#[derive(Debug, Default)]
pub struct RunStats {
    pub checked: u64,
    pub skipped: u64,
    /// Packages whose `.deb` could not be fetched (not recorded: a later run retries them).
    pub fetch_failures: u64,
    pub bytes_fetched: u64,
}

/// Checks every candidate not yet in `results`, `jobs` at a time.
pub fn run(
    candidates: &[Candidate],
    apt: &Apt,
    ctx: &CheckContext,
    results: &ResultsFile,
    cache: &Path,
    jobs: usize,
    keep: bool,
) -> Result<RunStats> {
    let todo: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| {
            !results
                .done
                .contains(&(c.entry.package.clone(), c.entry.version.clone()))
        })
        .collect();
    let skipped = (candidates.len() - todo.len()) as u64;
    if skipped > 0 {
        eprintln!("census: {skipped} packages already in results.jsonl, skipped");
    }
    let progress = ProgressBar::new(todo.len() as u64);
    progress.set_style(
        ProgressStyle::with_template(
            "{pos}/{len} packages  {msg}  [{elapsed_precise}, ETA {eta}] {wide_bar}",
        )
        .expect("a valid progress template"),
    );
    progress.enable_steady_tick(Duration::from_millis(500));
    let fetched = AtomicU64::new(0);
    let failures = AtomicU64::new(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .context("cannot start worker threads")?;
    let outcome: Result<()> = pool.install(|| {
        todo.par_iter().try_for_each(|candidate| {
            let line = match check_one(candidate, apt, ctx, cache, keep) {
                Ok(result) => {
                    results.append(&result)?;
                    fetched.fetch_add(result.deb_size, Ordering::Relaxed);
                    summary_line(&result)
                }
                Err(err) => {
                    failures.fetch_add(1, Ordering::Relaxed);
                    format!(
                        "{} {}: not checked, will be retried: {err:#}",
                        candidate.entry.package, candidate.entry.version
                    )
                }
            };
            progress.inc(1);
            progress.set_message(format!(
                "{} fetched",
                human_bytes(fetched.load(Ordering::Relaxed))
            ));
            if progress.is_hidden() {
                eprintln!("census: {}", crate::terminal::escape_controls(&line));
            } else {
                progress.suspend(|| {
                    eprintln!("census: {}", crate::terminal::escape_controls(&line));
                });
            }
            Ok(())
        })
    });
    progress.finish_and_clear();
    outcome?;
    Ok(RunStats {
        checked: todo.len() as u64 - failures.load(Ordering::Relaxed),
        skipped,
        fetch_failures: failures.load(Ordering::Relaxed),
        bytes_fetched: fetched.load(Ordering::Relaxed),
    })
}

/// Fetches and checks one package. An error is a fetch that failed (worth retrying); a `.deb`
/// the check cannot read is a result with its error.
fn check_one(
    candidate: &Candidate,
    apt: &Apt,
    ctx: &CheckContext,
    cache: &Path,
    keep: bool,
) -> Result<PackageResult> {
    let dir = cache.join(&candidate.entry.package);
    let start = Instant::now();
    let deb = apt.download(&candidate.entry.package, &candidate.entry.version, &dir)?;
    let fetch_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let read = check::deb::read(&deb, TargetKind::Binary, ctx);
    let result = match read {
        Ok(target) => {
            // One package judged alone: the areas it knows are its own.
            let known = check::rules::known_areas(&[&target]);
            let hints = check::rules::hints(&target, &known, ctx);
            let report = check::output::Report::new(
                deb.display().to_string(),
                &target,
                hints,
                &ctx.tags,
                &census_selection(),
            );
            let timings = Timings {
                fetch_seconds,
                check_seconds: start.elapsed().as_secs_f64(),
            };
            PackageResult::checked(candidate, &target, &report, timings)
        }
        Err(err) => {
            let timings = Timings {
                fetch_seconds,
                check_seconds: start.elapsed().as_secs_f64(),
            };
            PackageResult::failed(candidate, err, timings)
        }
    };
    if !keep {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot remove {}", dir.display()))?;
    }
    Ok(result)
}

/// Every tag at every severity, overrides ignored: a census counts what is there, not what a
/// maintainer chose to show.
fn census_selection() -> check::output::Selection {
    let mut display = check::selection::DisplayLevel::default();
    display.add_info();
    display.add_pedantic();
    check::output::Selection {
        display,
        no_override: true,
        ..Default::default()
    }
}

fn summary_line(result: &PackageResult) -> String {
    let what = if let Some(error) = &result.error {
        format!("unreadable: {error}")
    } else if result.has_weights() {
        let formats: Vec<&str> = result.findings["weights"]
            .keys()
            .map(String::as_str)
            .collect();
        format!(
            "weights ({}, {})",
            formats.join(", "),
            human_bytes(result.model_bytes)
        )
    } else {
        "no weights".to_string()
    };
    format!(
        "{} {}: {what}; {} tags; {:.1} s fetch, {:.1} s check",
        result.package,
        result.version,
        result.tags.values().sum::<u64>(),
        result.timings.fetch_seconds,
        result.timings.check_seconds
    )
}
