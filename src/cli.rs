//! Command-line surface (clap derive). Each subcommand parses its arguments here and hands
//! them to the module that does the work; nothing else lives in this file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::pipeline::{self, ManifestError, PipelinePolicy, Request};
use crate::policy::PolicySource;
use crate::{generate, plan, scan};

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
    /// Classify each model of debian/mlmodel.toml and show the packaging plan.
    ///
    /// Each model is free, toxic-candy, non-free or incomplete under Debian's ML-Policy, with the
    /// reasons; the plan gives its packages, areas, origins and the repack suffix. Exit status 0
    /// when every model is classified, 1 when a model is incomplete, 2 when the manifest is
    /// malformed.
    Classify(ClassifyArgs),
    /// Write a debian/ directory that builds, or update it keeping your edits.
    ///
    /// Writes control, rules, copyright, watch, changelog, README.Debian, an autopkgtest and
    /// debian/mlmodel.toml (drafted from a scan when absent). Running it again (or `update`) adds
    /// the packages of models whose facts are now filled in and keeps your edits: control is
    /// edited in place, other files are rewritten only while unchanged since dh-mlmodel wrote
    /// them. With --manifest-only, write only the manifest.
    #[command(visible_alias = "update")]
    Init(InitArgs),
}

#[derive(Debug, Args)]
struct ClassifyArgs {
    /// The manifest to read.
    #[arg(long, value_name = "FILE", default_value = pipeline::MANIFEST_PATH)]
    manifest: PathBuf,
    /// Print one JSON object with a `models` array instead of text.
    #[arg(long)]
    json: bool,
    /// The source package name [default: debian/control's Source, the manifest's
    /// [source] name, or the tree's directory name].
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
}

#[derive(Debug, Args)]
struct InitArgs {
    /// The upstream tree.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Write only debian/mlmodel.toml, drafted from a scan.
    #[arg(long)]
    manifest_only: bool,
    /// With --manifest-only: replace an existing debian/mlmodel.toml.
    #[arg(long, requires = "manifest_only", conflicts_with = "update")]
    force: bool,
    /// With --manifest-only: refresh an existing debian/mlmodel.toml from a new scan (files,
    /// pins, newly found models), keeping your facts, comments and layout.
    #[arg(long, requires = "manifest_only")]
    update: bool,
    /// The source package name [default: debian/control's Source, or the tree's directory
    /// name].
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
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

/// Exit status when the job found problems, e.g. an incomplete model (DESIGN.md §4).
pub const EXIT_PROBLEMS: u8 = 1;

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
        Command::Classify(args) => run_classify(&policy, args),
        Command::Init(args) => run_init(&policy, args),
    }
}

fn run_classify(policy: &PolicySource, args: ClassifyArgs) -> anyhow::Result<ExitCode> {
    let policy = PipelinePolicy::load(policy)?;
    let request = Request {
        root: Path::new("."),
        manifest: Some(&args.manifest),
        source: args.source.as_deref(),
        draft_when_missing: false,
    };
    let plan = match pipeline::load(&request, &policy) {
        Ok(loaded) => loaded.plan,
        Err(err) => match err.downcast_ref::<ManifestError>() {
            Some(invalid) => {
                for problem in &invalid.problems {
                    eprintln!("{problem}");
                }
                return Ok(ExitCode::from(EXIT_USAGE));
            }
            None => return Err(err),
        },
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &plan::report::to_json(&plan)?)?;
        writeln!(out)?;
    } else {
        plan::report::write_text(&mut out, &plan)?;
    }
    Ok(if plan.any_incomplete() {
        ExitCode::from(EXIT_PROBLEMS)
    } else {
        ExitCode::SUCCESS
    })
}

fn run_init(policy: &PolicySource, args: InitArgs) -> anyhow::Result<ExitCode> {
    if !args.manifest_only {
        let generate_policy = generate::GeneratePolicy::load(policy)?;
        let report = generate::generate(&args.path, args.source.as_deref(), &generate_policy)?;
        for warning in &report.warnings {
            eprintln!("dh-mlmodel: warning: {warning}");
        }
        print!("{}", generate::describe(&report));
        return Ok(ExitCode::SUCCESS);
    }
    let draft_policy = pipeline::DraftPolicy::load(policy)?;
    let existing = if args.force {
        pipeline::Existing::Replace
    } else if args.update {
        pipeline::Existing::Update
    } else {
        pipeline::Existing::Keep
    };
    let drafted = pipeline::draft(&args.path, args.source.as_deref(), existing, &draft_policy)?;
    for warning in &drafted.warnings {
        eprintln!("dh-mlmodel: warning: {warning}");
    }
    for change in &drafted.changes {
        println!("{change}");
    }
    println!(
        "wrote {} ({} FIXME placeholders to fill in; then run `dh-mlmodel classify`)",
        drafted.path.display(),
        drafted.placeholders
    );
    Ok(ExitCode::SUCCESS)
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
        crate::scan::report::write_table(&mut out, &report.findings)?;
    }
    Ok(ExitCode::SUCCESS)
}
