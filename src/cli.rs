//! Command-line surface (clap derive). Each subcommand parses its arguments here and hands
//! them to the module that does the work; nothing else lives in this file.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::policy::PolicySource;
use crate::scan;

#[derive(Debug, Parser)]
#[command(
    name = "dh-mlmodel",
    version,
    about = "Find, classify and package machine-learning model weights for Debian",
    long_about = "Find, classify and package machine-learning model weights for Debian.\n\n\
        dh-mlmodel finds every model weight in an upstream tree by content, records the facts \
        in debian/mlmodel.toml, classifies each model under Debian's ML-Policy (free, \
        toxic-candy, non-free) and writes the packaging that follows from it."
)]
struct Cli {
    /// Read policy tables from DIR instead of the built-in ones (a file missing there falls
    /// back to the built-in copy).
    #[arg(long, global = true, value_name = "DIR")]
    policy: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Find model weights, Git LFS pointers and large unidentified blobs in a tree, by content.
    Scan(ScanArgs),
}

#[derive(Debug, Args)]
struct ScanArgs {
    /// The tree (or single file) to scan.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Print one JSON object with a `findings` array instead of a table.
    #[arg(long)]
    json: bool,
    /// Do not compute SHA-256 digests (faster on large trees).
    #[arg(long)]
    no_hash: bool,
    /// Worker threads for reading and hashing files [default: one per core].
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
}

/// Exit status for bad usage or bad input (DESIGN.md §4).
pub const EXIT_USAGE: u8 = 2;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("dh-mlmodel: error: {err:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let policy = match &cli.policy {
        Some(dir) => PolicySource::from_dir(dir)?,
        None => PolicySource::embedded(),
    };
    match cli.command {
        Command::Scan(args) => run_scan(&policy, args),
    }
}

fn run_scan(policy: &PolicySource, args: ScanArgs) -> anyhow::Result<ExitCode> {
    let ctx = scan::ScanContext::load(policy)?;
    let options = scan::ScanOptions {
        hash: !args.no_hash,
        jobs: args.jobs.unwrap_or(0),
    };
    let report = scan::scan_tree(&args.path, &ctx, &options)?;
    for warning in &report.warnings {
        eprintln!("dh-mlmodel: warning: {warning}");
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        crate::report::write_table(&mut out, &report.findings)?;
    }
    Ok(ExitCode::SUCCESS)
}
