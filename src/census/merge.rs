//! `dh-mlmodel census merge`: the outputs of a census's shards (each run with `--shard K/N`,
//! wherever the job engine put it) made into one: their `results.jsonl` concatenated, and the
//! summary and report of the whole.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::results::{self, RESULTS_FILE};
use super::summary::{RunInfo, Summary};

/// Merges the census directories `shards` into `out`.
pub fn merge(out: &Path, shards: &[PathBuf]) -> Result<Summary> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut runs = Vec::new();
    let mut all = Vec::new();
    for dir in shards {
        let run = RunInfo::read(dir)?;
        if runs.iter().any(|r: &RunInfo| r.shard == run.shard) {
            bail!(
                "{}: shard {} is given twice; name each shard's directory once",
                dir.display(),
                run.shard
            );
        }
        all.extend(results::read(&dir.join(RESULTS_FILE))?);
        runs.push(run);
    }
    let counts: Vec<&str> = runs
        .iter()
        .filter_map(|r| r.shard.split_once('/').map(|(_, n)| n))
        .collect();
    if let Some(n) = counts.first()
        && (counts.iter().any(|c| c != n) || n.parse::<usize>().ok() != Some(runs.len()))
    {
        crate::terminal::warn(
            "dh-mlmodel census merge",
            &format!(
                "{} shard directories given for shards {}: the summary covers only these",
                runs.len(),
                runs.iter()
                    .map(|r| r.shard.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let current = super::summary::current_results(&runs, all);
    let path = out.join(RESULTS_FILE);
    let mut file =
        std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
    for result in &current {
        serde_json::to_writer(&mut file, result)?;
        file.write_all(b"\n")?;
    }
    super::finish(out, &runs, current)
}
