//! `[model.evaluation]` run on the candidate: the command, its metric, and the bound.
//!
//! The command runs under `sh -c` in the current directory, with `MLMODEL_CANDIDATE` (the
//! candidate path) and `MLMODEL_REFERENCE` in its environment; `{model}` in the command stands
//! for `"$MLMODEL_CANDIDATE"` and `{data}` for `"$MLMODEL_DATA"` (which the caller must set), so
//! no path is ever spliced into shell text. The metric is read from the last non-empty line
//! of its standard output: `METRIC=VALUE`, `METRIC: VALUE` (METRIC the manifest's `metric`)
//! or a bare number. A command that fails, prints no such line or runs past
//! `evaluation-timeout-seconds` does not pass.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::pipeline::Evaluation;

/// What the evaluation gave.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluationResult {
    pub command: String,
    pub metric: String,
    /// The metric's value; `None` when the command failed or printed none.
    pub value: Option<f64>,
    /// The bound, as `>= MIN`, `<= MAX` or both joined by `, `.
    pub bound: String,
    pub pass: bool,
    /// Why it did not pass, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Limits from `policy/verify.toml`.
pub struct Limits {
    pub timeout: Duration,
    pub output_max: usize,
}

/// Runs `evaluation` on `candidate`. An error only when the command cannot be started.
pub fn run(
    evaluation: &Evaluation,
    reference: &Path,
    candidate: &Path,
    limits: &Limits,
) -> Result<EvaluationResult, String> {
    let command = evaluation.command.get_ref();
    let script = command
        .replace("{model}", "\"$MLMODEL_CANDIDATE\"")
        .replace("{data}", "\"$MLMODEL_DATA\"");
    if command.contains("{data}") && std::env::var_os("MLMODEL_DATA").is_none() {
        return Err(format!(
            "the evaluation command `{command}` uses {{data}}: set MLMODEL_DATA to the \
             evaluation data's path"
        ));
    }
    let bound = describe_bound(evaluation);
    let mut result = EvaluationResult {
        command: command.clone(),
        metric: evaluation.metric.clone(),
        value: None,
        bound,
        pass: false,
        reason: None,
    };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("MLMODEL_CANDIDATE", candidate)
        .env("MLMODEL_REFERENCE", reference)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the evaluation command `{command}`: {e}"))?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let output_max = limits.output_max;
    // The output is read on its own thread, keeping only the last `output_max` bytes, so a
    // chatty command neither blocks on a full pipe nor fills memory.
    let reader = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            kept.extend_from_slice(&buf[..n]);
            if kept.len() > output_max {
                kept.drain(..kept.len() - output_max);
            }
        }
        kept
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > limits.timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for the evaluation command: {e}")),
        }
    };
    let output = reader.join().unwrap_or_default();
    match status {
        None => {
            result.reason = Some(format!(
                "stopped after {} s (evaluation-timeout-seconds in policy/verify.toml)",
                limits.timeout.as_secs()
            ));
        }
        Some(status) if !status.success() => {
            result.reason = Some(format!("the command failed ({status})"));
        }
        Some(_) => match parse_metric(&String::from_utf8_lossy(&output), &evaluation.metric) {
            Some(value) => {
                result.value = Some(value);
                result.pass = evaluation.min.is_none_or(|min| value >= min)
                    && evaluation.max.is_none_or(|max| value <= max);
                if !result.pass {
                    result.reason = Some(format!(
                        "{} = {value} does not meet {}",
                        evaluation.metric, result.bound
                    ));
                }
            }
            None => {
                result.reason = Some(format!(
                    "the last line of its output is not `{}=VALUE` or a number",
                    evaluation.metric
                ));
            }
        },
    }
    Ok(result)
}

fn describe_bound(evaluation: &Evaluation) -> String {
    let mut parts = Vec::new();
    if let Some(min) = evaluation.min {
        parts.push(format!(">= {min}"));
    }
    if let Some(max) = evaluation.max {
        parts.push(format!("<= {max}"));
    }
    parts.join(", ")
}

/// The metric on the last non-empty line of `output` (module documentation).
fn parse_metric(output: &str, metric: &str) -> Option<f64> {
    let line = output.lines().map(str::trim).rfind(|l| !l.is_empty())?;
    let value = match line.split_once(['=', ':']) {
        Some((name, value)) if name.trim() == metric => value.trim(),
        Some(_) => return None,
        None => line,
    };
    value.parse::<f64>().ok().filter(|v| !v.is_nan())
}

#[cfg(test)]
mod tests {
    use super::parse_metric;

    #[test]
    fn metric_lines() {
        assert_eq!(
            parse_metric("loading\naccuracy=0.93\n\n", "accuracy"),
            Some(0.93)
        );
        assert_eq!(parse_metric("accuracy: 0.5", "accuracy"), Some(0.5));
        assert_eq!(parse_metric("0.25\n", "accuracy"), Some(0.25));
        assert_eq!(parse_metric("loss=0.1", "accuracy"), None);
        assert_eq!(parse_metric("accuracy=0.9\ndone", "accuracy"), None);
        assert_eq!(parse_metric("", "accuracy"), None);
    }
}
