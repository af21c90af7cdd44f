//! Command-line surface (clap derive). Each subcommand parses its arguments here and hands
//! them to the module that does the work; nothing else lives in this file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::error::{self, ExitStatus, Kind, ResultExt};
use crate::pipeline::{self, PipelinePolicy, Request};
use crate::policy::PolicySource;
use crate::{census, check, generate, plan, repack, scan, terminal};

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
    /// malformed, 3 on an I/O or internal error.
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
    /// Fill the SHA-256 and size placeholders of debian/mlmodel.toml from the files themselves.
    Pin(PinArgs),
    /// Check .deb, .udeb, .dsc and .changes files or source trees for model weights, in
    /// lintian's format.
    ///
    /// Prints one `E: package[ type]: tag [context]` line per problem, as lintian does, with
    /// lintian's options and overrides. Exit status 0 when no shown tag reaches --fail-on, 1
    /// when one does, 2 when a target cannot be read (the others are still checked) or on bad
    /// usage, 3 on an I/O or internal error.
    Check(CheckArgs),
    /// Write the orig tarballs: the upstream release without the Files-Excluded paths, and
    /// component tarballs of pinned weights, reproducibly.
    ///
    /// Run at the top of a source tree with debian/. Writes
    /// <source>_<version><suffix>.orig.tar.xz (the suffix, e.g. +ds, only when something is
    /// removed) and <source>_<version><suffix>.orig-<model>.tar.xz for each --component, with
    /// sorted members, root ownership, normalised modes, mtimes clamped to the changelog date
    /// (or SOURCE_DATE_EPOCH) and the same bytes whatever --jobs is. Refuses members with
    /// `..`, absolute names, links out of the tree, devices, FIFOs, duplicates and
    /// decompression bombs (exit status 2).
    Repack(RepackArgs),
    /// Find, check and count the model weights of a whole Debian suite.
    ///
    /// Fetches the suite's Packages and Contents indexes with a private apt configuration
    /// under --out, chooses the packages whose files suggest weights (policy/census.toml) and
    /// prints why, downloads and checks each one (as `check` does) into --out/results.jsonl,
    /// and writes --out/summary.json and --out/report.html. Resumable: packages already in
    /// results.jsonl are skipped. `--shard K/N` runs one of N independent shards; `census
    /// merge` puts their outputs together.
    Census(CensusArgs),
    /// Compare rebuilt weights with the published ones: identical, equivalent or different.
    ///
    /// Bitwise equal files are identical. Otherwise both are read as tensors (safetensors,
    /// GGUF with F32, F16, BF16, Q8_0, Q4_0 and Q4_K dequantised, NumPy .npy/.npz, ONNX
    /// initializers, PyTorch zip checkpoints, never unpickled), paired by name, and each pair
    /// is measured: largest absolute difference, relative L2 error, cosine similarity. All
    /// within the tolerances (policy/verify.toml, the model's [model.verify], --tolerance) is
    /// equivalent, as long as the model's [model.evaluation] (with --manifest and --model)
    /// meets its bound on the candidate. Directories are compared file by file. Exit status 0
    /// when identical or equivalent, 1 when different, 2 when a file cannot be read as
    /// tensors or on bad usage, 3 on an I/O or internal error.
    Verify(VerifyArgs),
    /// Generate man pages, shell completions or the lintian integration (used when building the
    /// Debian package).
    #[command(hide = true, subcommand)]
    Generate(GenerateCommand),
    /// Print the bill of materials of one weights package (used by the get-<weights-pkg>
    /// helpers of mlmodel-get).
    #[command(hide = true)]
    Sbom(SbomArgs),
}

/// The bill of materials of a weights package a helper built: the model's facts as the
/// installer package carries them (JSON), with the files as installed and how retrained weights
/// compared with the published ones. `created` is SOURCE_DATE_EPOCH.
#[derive(Debug, Args)]
struct SbomArgs {
    /// The model's facts, as JSON (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    bom: PathBuf,
    /// Where the weights came from: downloaded or retrained.
    #[arg(long, value_name = "ORIGIN")]
    origin: Option<String>,
    /// The package's staging root: each file of the model is read (hashed) at its installed
    /// path under DIR. A retrained file keeps its pinned digest as the published one.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// The report of `dh-mlmodel verify --json PUBLISHED RETRAINED`; without it, retrained
    /// files are compared with their pins bitwise.
    #[arg(long, value_name = "FILE")]
    verify_report: Option<PathBuf>,
    /// Print only the verification: its verdict on one line, the sentence for people on the
    /// next.
    #[arg(long)]
    verification_only: bool,
    /// The format to print.
    #[arg(long, value_enum, default_value = "spdx")]
    format: BomFormat,
}

/// The formats of a bill of materials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BomFormat {
    /// SPDX 3.0.1 JSON-LD with the AI and Dataset profiles.
    Spdx,
    /// CycloneDX 1.6 JSON, an ML-BOM.
    Cyclonedx,
}

/// What `classify` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ClassifyFormat {
    /// The verdicts and the plan, for people.
    Text,
    /// One JSON object with a `models` array.
    Json,
    /// An SPDX 3.0.1 JSON-LD document: an AI package per model, with its training data.
    Spdx,
    /// A CycloneDX 1.6 ML-BOM: a machine-learning-model component per model, data components.
    Cyclonedx,
}

#[derive(Debug, Subcommand)]
enum GenerateCommand {
    /// Write dh-mlmodel.1 and one dh-mlmodel-SUBCOMMAND.1 per subcommand into DIR.
    ManPages {
        /// The directory to write the pages into (created when missing).
        dir: PathBuf,
        /// The date in each page's header [default: from SOURCE_DATE_EPOCH, else today].
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<String>,
    },
    /// Write lintian's include directory for the checks of `check` into DIR: the check module,
    /// one tag file per tag and the profile mlmodel/main.
    Lintian {
        /// The directory to write into (created when missing), e.g.
        /// /usr/share/dh-mlmodel/lintian.
        dir: PathBuf,
    },
    /// Print the completion script of SHELL on standard output.
    Completion {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
struct ClassifyArgs {
    /// The manifest to read.
    #[arg(long, value_name = "FILE", default_value = pipeline::MANIFEST_PATH)]
    manifest: PathBuf,
    /// Print one JSON object with a `models` array instead of text (as --format json).
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// What to print: text, json, or the whole source's AI bill of materials as spdx (SPDX
    /// 3.0.1 JSON-LD) or cyclonedx (CycloneDX 1.6), its date from SOURCE_DATE_EPOCH.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<ClassifyFormat>,
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

/// Fills `sha256 = "FIXME…"` and `size = "FIXME"` of `[model.pins]` and `[model.download]`
/// from the bytes: files in the tree, a local copy, or with --download the model's
/// `[model.download]` URL (hashed as it streams, with curl). Only placeholders are filled; a
/// stated value that disagrees with the bytes is an error. The rest of the manifest (comments,
/// layout) is kept byte for byte.
#[derive(Debug, Args)]
struct PinArgs {
    /// A model's name (every placeholder of it), a URL of a `[model.download]`, or a local file
    /// (the pins of model files of that name)
    #[arg(required = true, value_name = "MODEL|PATH|URL")]
    targets: Vec<String>,
    /// Fetch `[model.download]` URLs for pins no local file gives
    #[arg(long)]
    download: bool,
    /// The manifest to edit
    #[arg(long, value_name = "FILE", default_value = pipeline::MANIFEST_PATH)]
    manifest: PathBuf,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The packages to check: .deb, .udeb, .dsc (tarballs beside it), .changes (every
    /// package it lists) or an unpacked source tree. With --explain-tags: tag names.
    #[arg(required_unless_present = "explain_tags", value_name = "TARGET")]
    targets: Vec<PathBuf>,
    /// Exit 1 when a shown tag is of one of these kinds (comma list of error, warning, info,
    /// pedantic, experimental, override; or none). Each names itself only: warning does not
    /// imply error.
    #[arg(long, value_name = "LIST", default_value = "error")]
    fail_on: Vec<String>,
    /// Only these tags (comma list).
    #[arg(long, short = 'T', value_name = "TAGS")]
    tags: Vec<String>,
    /// Never these tags (comma list).
    #[arg(long, short = 'X', value_name = "TAGS")]
    suppress_tags: Vec<String>,
    /// Which severities to show, as lintian's -L: [+=-][<|<=|=|>=|>]SEVERITY, comma list.
    #[arg(long, short = 'L', value_name = "LEVEL")]
    display_level: Vec<String>,
    /// Show info tags too (-L +>=info).
    #[arg(long, short = 'I')]
    display_info: bool,
    /// Show pedantic tags too (-L +=pedantic).
    #[arg(long)]
    pedantic: bool,
    /// Show overridden tags, as `O:` lines.
    #[arg(long)]
    show_overrides: bool,
    /// Ignore the packages' lintian overrides.
    #[arg(long, short = 'o')]
    no_override: bool,
    /// Describe each tag after its first line.
    #[arg(long, short = 'i')]
    info: bool,
    /// Print the description of the named tags (every tag when none is named) and exit.
    #[arg(long)]
    explain_tags: bool,
    /// Print one JSON object (README, "check": the schema) instead of lintian's lines.
    #[arg(long, conflicts_with = "info")]
    json: bool,
    /// Targets read at once [default: one per core].
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
}

#[derive(Debug, Args)]
struct RepackArgs {
    /// The upstream release: a tarball (plain, gzip, xz, bzip2, zstd), a zip or a directory.
    /// Without it, only the --component tarballs are written.
    upstream: Option<PathBuf>,
    /// The upstream version [default: debian/changelog's, without the repack suffix].
    #[arg(long, value_name = "VERSION")]
    version: Option<String>,
    /// Where to write the tarballs (created when missing).
    #[arg(long, value_name = "DIR", default_value = "..")]
    output_dir: PathBuf,
    /// Threads of the xz encoder; the output is the same whatever N is [default: one per
    /// core].
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<u32>,
    /// Write an orig-NAME tarball of model NAME's pinned [model.download] file (repeatable)
    /// [default: with --download or --from, the components the plan needs: free weights
    /// compiled into the code].
    #[arg(long, value_name = "NAME")]
    component: Vec<String>,
    /// Download the components' files from their pinned URLs (with curl) and verify them.
    #[arg(long, conflicts_with = "from")]
    download: bool,
    /// Take the components' files from DIR (named as the URL's last component), verified
    /// against the pins.
    #[arg(long, value_name = "DIR")]
    from: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct CensusArgs {
    #[command(subcommand)]
    command: Option<CensusCommand>,
    /// The suite (codename) to read.
    #[arg(long, default_value = "bookworm")]
    suite: String,
    /// The archive areas to read (comma list, e.g. main,contrib,non-free).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "main"
    )]
    component: Vec<String>,
    /// The architecture whose Packages and Contents indexes are read (Contents-all too).
    #[arg(long, default_value = "amd64")]
    arch: String,
    /// Check only the first N candidates, in the fixed order of the shard hash (a sample of
    /// the whole suite; shards of a limited census split the same N).
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Run shard K of N: the candidates whose name hashes to K-1 modulo N (FNV-1a).
    #[arg(long, value_name = "K/N")]
    shard: Option<census::shard::Shard>,
    /// Packages fetched and checked at once [default: one per core].
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// A local mirror (a directory with dists/ and pool/) instead of deb.debian.org; its
    /// Release files are trusted as they are.
    #[arg(long, value_name = "PATH")]
    mirror: Option<PathBuf>,
    /// Keep the downloaded .deb files in OUT/cache/.
    #[arg(long)]
    keep: bool,
    /// The census directory: apt's configuration and lists, the cache, results.jsonl,
    /// summary.json, report.html.
    #[arg(long, value_name = "DIR", required = true)]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum CensusCommand {
    /// Put the outputs of a census's shards together: results.jsonl, summary.json and
    /// report.html of the whole.
    Merge {
        /// Where to write the merged results, summary and report.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The --out directories of the shards.
        #[arg(required = true, value_name = "SHARD_DIR")]
        shards: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The published weights: a file, or a directory of them.
    reference: PathBuf,
    /// The rebuilt weights: a file, or a directory paired with REFERENCE by relative path.
    candidate: PathBuf,
    /// Print one JSON object (README, "verify": the schema) instead of text.
    #[arg(long)]
    json: bool,
    /// Tolerances over policy/verify.toml and the model's [model.verify]: a comma list of
    /// max-abs=X, rel-l2=X, cosine=X (e.g. max-abs=1e-6,rel-l2=1e-5,cosine=0.9999).
    #[arg(long, value_name = "SPEC")]
    tolerance: Option<String>,
    /// The manifest holding the model's [model.verify] and [model.evaluation].
    #[arg(long, value_name = "PATH", requires = "model")]
    manifest: Option<PathBuf>,
    /// The model of --manifest the weights are.
    #[arg(long, value_name = "NAME", requires = "manifest")]
    model: Option<String>,
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

/// The command name that starts every message.
const TOOL: &str = "dh-mlmodel";

/// Entry point of `dh-mlmodel`: runs the command and turns its outcome into the exit status
/// (crate::error): 0 success, 1 problems found, 2 bad usage or input, 3 I/O or internal error.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help, --version.
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            let text = err.render().to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text);
            eprint!("{TOOL}: error: {text}");
            return ExitStatus::Input.into();
        }
    };
    let result = run(cli);
    if let Err(err) = &result {
        error::print(TOOL, err);
    }
    ExitStatus::of(&result).into()
}

fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let explicit = cli.policy.as_deref();
    match cli.command {
        Command::Scan(args) => run_scan(&Policy::for_tree(explicit, &args.path)?, args),
        Command::Classify(args) => {
            if let Some(dir) = explicit {
                terminal::warn(
                    TOOL,
                    &format!(
                        "--policy {} applies to this run only: dh_mlmodel, during the package \
                         build, reads {} (`dh-mlmodel init --policy DIR` copies the tables there)",
                        dir.display(),
                        crate::policy::PACKAGE_POLICY_DIR
                    ),
                );
            }
            run_classify(&Policy::for_tree(explicit, Path::new("."))?, args)
        }
        Command::Init(args) => {
            let policy = Policy::for_tree(explicit, &args.path)?;
            if let Some(dir) = explicit {
                adopt_policy(dir, &args.path)?;
            }
            run_init(&policy, args)
        }
        Command::Check(args) => run_check(&Policy::for_packages(explicit)?, args),
        Command::Repack(args) => run_repack(&Policy::for_tree(explicit, Path::new("."))?, args),
        Command::Pin(args) => run_pin(&Policy::for_tree(explicit, Path::new("."))?, args),
        Command::Census(args) => run_census(&Policy::for_packages(explicit)?, args),
        Command::Verify(args) => run_verify(&Policy::for_packages(explicit)?, args),
        Command::Generate(what) => run_generate(explicit, what),
        Command::Sbom(args) => run_sbom(args),
    }
}

fn run_sbom(args: SbomArgs) -> anyhow::Result<ExitStatus> {
    use crate::sbom::{self, BomFile, ModelBom, Verification};
    let name = args.bom.display().to_string();
    let text = if name == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read standard input")
    } else {
        std::fs::read_to_string(&args.bom).with_context(|| format!("cannot read {name}"))
    }
    .input()?;
    let mut bom: ModelBom = serde_json::from_str(&text)
        .with_context(|| format!("{name}: not the facts of a model"))
        .input()?;
    if let Some(origin) = args.origin {
        bom.origin = Some(origin);
    }
    let retrained = bom.origin.as_deref() == Some("retrained");
    if let Some(root) = &args.root {
        for file in &mut bom.files {
            let staged = root.join(file.path.trim_start_matches('/'));
            let (sha256, size) = crate::hash::sha256_file(&staged)
                .with_context(|| format!("cannot read {}", staged.display()))
                .input()?;
            *file = BomFile {
                path: file.path.clone(),
                published_sha256: retrained.then(|| file.sha256.clone()),
                sha256,
                size,
            };
        }
    }
    bom.verification = match &args.verify_report {
        Some(report) => {
            let text = std::fs::read_to_string(report)
                .with_context(|| format!("cannot read {}", report.display()))
                .input()?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: not JSON", report.display()))
                .input()?;
            Some(
                Verification::from_verify_report(&value)
                    .with_context(|| report.display().to_string())
                    .input()?,
            )
        }
        None if retrained => Verification::bitwise(&bom.files),
        None => None,
    };
    if args.verification_only {
        let verification = bom
            .verification
            .as_ref()
            .context("no verification to print: give --verify-report, or --origin retrained")
            .input()?;
        write_stdout(|out| {
            writeln!(out, "{}", verification.verdict)?;
            writeln!(
                out,
                "{}",
                terminal::escape_controls(&verification.statement)
            )?;
            Ok(())
        })?;
        return Ok(ExitStatus::Success);
    }
    let epoch = crate::build_env::epoch_or_now().input()?;
    let models = std::slice::from_ref(&bom);
    let document = match args.format {
        BomFormat::Spdx => sbom::spdx::document(&bom.package, models, epoch),
        BomFormat::Cyclonedx => sbom::cyclonedx::document(models, epoch),
    }
    .input()?;
    write_stdout(|out| {
        serde_json::to_writer_pretty(&mut *out, &document)?;
        writeln!(out)?;
        Ok(())
    })?;
    Ok(ExitStatus::Success)
}

/// The whole command-line definition, for the man pages and completions of [`crate::manuals`].
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

fn run_generate(explicit: Option<&Path>, what: GenerateCommand) -> anyhow::Result<ExitStatus> {
    match what {
        GenerateCommand::ManPages { dir, date } => {
            let date = match date {
                Some(date) => date,
                None => {
                    crate::build_env::date_of(crate::build_env::epoch_or_now().input()?).input()?
                }
            };
            let written = crate::manuals::write_man_pages(command(), &dir, &date).io()?;
            write_stdout(|out| {
                for file in written {
                    writeln!(out, "{}", dir.join(file).display())?;
                }
                Ok(())
            })?;
        }
        GenerateCommand::Lintian { dir } => {
            let policy = Policy::for_packages(explicit)?;
            let table = crate::check::tags::TagTable::load(&policy.source).mark(policy.kind)?;
            let written = crate::check::lintian::write_include_dir(&table, &dir).io()?;
            write_stdout(|out| {
                for file in written {
                    writeln!(out, "{}", dir.join(file).display())?;
                }
                Ok(())
            })?;
        }
        GenerateCommand::Completion { shell } => {
            let mut script = Vec::new();
            crate::manuals::write_completion(command(), shell, &mut script);
            write_stdout(|out| Ok(out.write_all(&script)?))?;
        }
    }
    Ok(ExitStatus::Success)
}

/// The policy tables and the kind of error their failing to load is.
struct Policy {
    source: PolicySource,
    kind: Kind,
}

impl Policy {
    /// The tables for checking packages: `--policy DIR`, then the built-in ones. A package
    /// checked never brings its own `debian/mlmodel-policy/`: it must not relax its own
    /// review.
    fn for_packages(explicit: Option<&Path>) -> anyhow::Result<Self> {
        let source = PolicySource::layered(explicit, None).input()?;
        let kind = if source.has_overrides() {
            Kind::Input
        } else {
            Kind::Internal
        };
        Ok(Self { source, kind })
    }

    /// The tables for work on `tree`: `--policy DIR`, then `tree/debian/mlmodel-policy/`, then
    /// the built-in ones. A table that fails to load is bad input when a directory may have
    /// supplied it; the built-in tables are tested, so their failing is a bug.
    fn for_tree(explicit: Option<&Path>, tree: &Path) -> anyhow::Result<Self> {
        let source = PolicySource::layered(explicit, Some(tree)).input()?;
        let kind = if source.has_overrides() {
            Kind::Input
        } else {
            Kind::Internal
        };
        Ok(Self { source, kind })
    }
}

/// Writes a command's report on standard output; failing to is an I/O error, except that a
/// reader who stopped reading (`dh-mlmodel scan | head`) is no error: the rest is not wanted.
fn write_stdout(
    write: impl FnOnce(&mut std::io::StdoutLock<'static>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match write(&mut out).and_then(|()| out.flush().map_err(Into::into)) {
        Err(err) if is_broken_pipe(&err) => Ok(()),
        result => result.context("cannot write to standard output").io(),
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The bill of materials of every model of the source, with what debian/control and
/// debian/changelog say of the packages when they are there.
fn source_bom(plan: &plan::Plan, spdx: bool) -> anyhow::Result<serde_json::Value> {
    use crate::sbom;
    let control = crate::control::ControlFile::read(Path::new(".")).ok();
    let version = crate::debhelper::changelog_field(Path::new("."), "Version")
        .ok()
        .or_else(|| plan.upstream_version.clone());
    let models: Vec<sbom::ModelBom> = plan
        .models
        .iter()
        .map(|model| {
            sbom::ModelBom::from_plan(
                plan,
                model,
                version.as_deref(),
                control.as_ref().and_then(|c| c.maintainer.as_deref()),
                control.as_ref().and_then(|c| c.homepage.as_deref()),
            )
        })
        .collect();
    let epoch = crate::build_env::epoch_or_now().input()?;
    if spdx {
        sbom::spdx::document(&plan.source, &models, epoch)
    } else {
        sbom::cyclonedx::document(&models, epoch)
    }
    .internal()
}

fn run_classify(policy: &Policy, args: ClassifyArgs) -> anyhow::Result<ExitStatus> {
    let pipeline_policy = PipelinePolicy::load(&policy.source).mark(policy.kind)?;
    let request = Request {
        root: Path::new("."),
        manifest: Some(&args.manifest),
        source: args.source.as_deref(),
        draft_when_missing: false,
    };
    // A malformed manifest is bad input: one `FILE:LINE:COLUMN: message` line per problem.
    let plan = pipeline::load(&request, &pipeline_policy)?.plan;
    let format = match (args.json, args.format) {
        (true, _) => ClassifyFormat::Json,
        (false, format) => format.unwrap_or(ClassifyFormat::Text),
    };
    let json = match format {
        ClassifyFormat::Text => None,
        ClassifyFormat::Json => Some(plan::report::to_json(&plan).internal()?),
        ClassifyFormat::Spdx | ClassifyFormat::Cyclonedx => {
            Some(source_bom(&plan, format == ClassifyFormat::Spdx)?)
        }
    };
    write_stdout(|out| {
        match &json {
            Some(json) => {
                serde_json::to_writer_pretty(&mut *out, json)?;
                writeln!(out)?;
            }
            None => {
                let mut text = Vec::new();
                plan::report::write_text(&mut text, &plan)?;
                let text = terminal::escape_lines(&String::from_utf8_lossy(&text));
                out.write_all(text.as_bytes())?;
            }
        }
        Ok(())
    })?;
    Ok(if plan.any_incomplete() {
        ExitStatus::Problems
    } else {
        ExitStatus::Success
    })
}

/// Copies `init --policy DIR`'s tables into the package's `debian/mlmodel-policy/`, so the
/// package build plans with the policy `init` used, and says so.
fn adopt_policy(dir: &Path, tree: &Path) -> anyhow::Result<()> {
    let copied = crate::policy::adopt(dir, tree).io()?;
    if !copied.is_empty() {
        let text = format!(
            "copied {} from {} into {}/: every command run in this tree reads it from there, \
             dh_mlmodel during the package build included\n",
            copied.join(", "),
            dir.display(),
            tree.join(crate::policy::PACKAGE_POLICY_DIR).display()
        );
        let text = terminal::escape_lines(&text);
        write_stdout(|out| Ok(out.write_all(text.as_bytes())?))?;
    }
    Ok(())
}

fn run_init(policy: &Policy, args: InitArgs) -> anyhow::Result<ExitStatus> {
    if !args.manifest_only {
        let generate_policy = generate::GeneratePolicy::load(&policy.source).mark(policy.kind)?;
        let report = generate::generate(&args.path, args.source.as_deref(), &generate_policy)?;
        for warning in &report.warnings {
            terminal::warn(TOOL, warning);
        }
        let text = terminal::escape_lines(&generate::describe(&report));
        write_stdout(|out| Ok(out.write_all(text.as_bytes())?))?;
        return Ok(ExitStatus::Success);
    }
    let draft_policy = pipeline::DraftPolicy::load(&policy.source).mark(policy.kind)?;
    let existing = if args.force {
        pipeline::Existing::Replace
    } else if args.update {
        pipeline::Existing::Update
    } else {
        pipeline::Existing::Keep
    };
    let drafted = pipeline::draft(&args.path, args.source.as_deref(), existing, &draft_policy)?;
    for warning in &drafted.warnings {
        terminal::warn(TOOL, warning);
    }
    write_stdout(|out| {
        for change in &drafted.changes {
            writeln!(out, "{}", terminal::escape_controls(&change.to_string()))?;
        }
        writeln!(
            out,
            "wrote {} ({} FIXME placeholders to fill in; then run `dh-mlmodel classify`)",
            terminal::escape_controls(&drafted.path.display().to_string()),
            drafted.placeholders
        )?;
        Ok(())
    })?;
    Ok(ExitStatus::Success)
}

fn run_repack(policy: &Policy, args: RepackArgs) -> anyhow::Result<ExitStatus> {
    let repack_policy = repack::RepackPolicy::load(&policy.source).mark(policy.kind)?;
    let fetch = match (args.download, args.from) {
        (true, _) => Some(repack::Fetch::Download),
        (false, Some(dir)) => Some(repack::Fetch::From(dir)),
        (false, None) => None,
    };
    if args.upstream.is_none() && args.component.is_empty() && fetch.is_none() {
        return Err(Kind::Input.msg(
            "nothing to repack: give the upstream tarball (or directory), --component NAME, or \
             --download / --from DIR for the components the plan needs",
        ));
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u32));
    let options = repack::Options {
        tree: PathBuf::from("."),
        upstream: args.upstream,
        version: args.version,
        output_dir: args.output_dir,
        jobs,
        components: args.component,
        fetch,
    };
    let report = repack::repack(&options, &repack_policy)?;
    for warning in &report.warnings {
        terminal::warn(TOOL, warning);
    }
    write_stdout(|out| {
        for written in &report.written {
            let line = format!(
                "wrote {} ({} members, {} removed)",
                written.path.display(),
                written.kept,
                written.removed
            );
            writeln!(out, "{}", terminal::escape_controls(&line))?;
        }
        for edited in &report.edited {
            let line = format!("edited {}", edited.display());
            writeln!(out, "{}", terminal::escape_controls(&line))?;
        }
        Ok(())
    })?;
    Ok(ExitStatus::Success)
}

fn run_pin(policy: &Policy, args: PinArgs) -> anyhow::Result<ExitStatus> {
    let draft_policy = pipeline::DraftPolicy::load(&policy.source).mark(policy.kind)?;
    let pinned = pipeline::pin(&args.manifest, &args.targets, args.download, &draft_policy)?;
    write_stdout(|out| {
        for p in &pinned {
            let line = format!(
                "model {}: {} = {{ sha256 = \"{}\", size = {} }}",
                p.model, p.field, p.sha256, p.size
            );
            writeln!(out, "{}", terminal::escape_controls(&line))?;
        }
        writeln!(
            out,
            "wrote {}",
            terminal::escape_controls(&args.manifest.display().to_string())
        )?;
        Ok(())
    })?;
    Ok(ExitStatus::Success)
}

fn run_verify(policy: &Policy, args: VerifyArgs) -> anyhow::Result<ExitStatus> {
    let tolerance = match &args.tolerance {
        Some(spec) => Some(
            crate::verify::tolerance::ToleranceOverride::parse(spec)
                .map_err(|e| Kind::Input.msg(e))?,
        ),
        None => None,
    };
    let verify_policy = crate::verify::VerifyPolicy::load(&policy.source).mark(policy.kind)?;
    let options = crate::verify::Options {
        reference: args.reference,
        candidate: args.candidate,
        tolerance,
        model: args.manifest.zip(args.model),
    };
    let report = crate::verify::verify(&options, &verify_policy)?;
    write_stdout(|out| {
        if args.json {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        } else {
            crate::verify::report::write_text(out, &report)?;
        }
        Ok(())
    })?;
    Ok(match report.verdict {
        crate::verify::report::Verdict::Different => ExitStatus::Problems,
        _ => ExitStatus::Success,
    })
}

fn run_scan(policy: &Policy, args: ScanArgs) -> anyhow::Result<ExitStatus> {
    let ctx = scan::ScanContext::load(&policy.source).mark(policy.kind)?;
    let options = scan::ScanOptions {
        hash: !args.no_hash,
        jobs: args.jobs.unwrap_or(0),
    };
    let report = scan::scan_tree(&args.path, &ctx, &options)?;
    for warning in &report.warnings {
        terminal::warn(TOOL, warning);
    }
    write_stdout(|out| {
        if args.json {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        } else {
            crate::scan::report::write_table(out, &report.findings)?;
        }
        Ok(())
    })?;
    // Findings are not failures.
    Ok(ExitStatus::Success)
}

fn run_census(policy: &Policy, args: CensusArgs) -> anyhow::Result<ExitStatus> {
    if let Some(CensusCommand::Merge { out, shards }) = args.command {
        census::merge::merge(&out, &shards).mark(Kind::Input)?;
        eprintln!("census: merged into {}", out.join("report.html").display());
        return Ok(ExitStatus::Success);
    }
    let out = args.out.context("--out DIR is required")?;
    let archive = match args.mirror {
        Some(path) => {
            if !path.join("dists").is_dir() {
                return Err(Kind::Input.msg(format!(
                    "--mirror {}: no dists/ directory there; give the top of a Debian mirror",
                    terminal::escape_controls(&path.display().to_string())
                )));
            }
            census::apt::Archive::Local(path)
        }
        None => census::apt::Archive::Remote {
            uri: census::apt::DEFAULT_MIRROR.to_string(),
            keyring: PathBuf::from(census::apt::DEFAULT_KEYRING),
        },
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let options = census::CensusOptions {
        suite: args.suite,
        components: args.component,
        architecture: args.arch,
        limit: args.limit,
        shard: args.shard.unwrap_or(census::shard::Shard::WHOLE),
        jobs: args.jobs.filter(|j| *j > 0).unwrap_or(cores),
        archive,
        keep: args.keep,
        out: out.clone(),
    };
    let summary = census::run(&options, &policy.source).mark(Kind::Io)?;
    eprintln!(
        "census: {} of {} candidates checked, {} with weights; {}",
        summary.checked,
        summary.candidates,
        summary.with_weights,
        out.join("report.html").display()
    );
    Ok(ExitStatus::Success)
}

/// Scan warnings printed per target by `check`; `--json` carries all of them.
const SCAN_WARNINGS_SHOWN: usize = 3;

fn run_check(policy: &Policy, args: CheckArgs) -> anyhow::Result<ExitStatus> {
    let jobs = args.jobs.unwrap_or(0);
    let mut ctx = check::CheckContext::load(&policy.source, jobs).mark(policy.kind)?;
    if args.explain_tags {
        let names: Vec<String> = args
            .targets
            .iter()
            .map(|t| t.to_string_lossy().into_owned())
            .collect();
        let mut unknown = Vec::new();
        write_stdout(|out| {
            unknown = check::output::explain(out, &ctx.tags, &names)?;
            Ok(())
        })?;
        if !unknown.is_empty() {
            return Err(Kind::Input.msg(format!(
                "unknown tag {}; `dh-mlmodel check --explain-tags` lists them all",
                terminal::escape_controls(&unknown.join(", "))
            )));
        }
        return Ok(ExitStatus::Success);
    }
    let mut display = check::selection::DisplayLevel::default();
    if args.display_info {
        display.add_info();
    }
    if args.pedantic {
        display.add_pedantic();
    }
    for item in args.display_level.iter().flat_map(|l| l.split(',')) {
        display.apply_item(item).map_err(|e| Kind::Input.msg(e))?;
    }
    let selection = check::output::Selection {
        display,
        tags: check::selection::TagSelection::new(&args.tags, &args.suppress_tags),
        fail_on: check::selection::FailOn::parse(&args.fail_on).map_err(|e| Kind::Input.msg(e))?,
        show_overrides: args.show_overrides,
        no_override: args.no_override,
    };
    let reports = check::check(&args.targets, &mut ctx, &selection)?;
    let mut status = ExitStatus::Success;
    for report in &reports {
        let target = terminal::escape_controls(&report.target);
        if let Some(error) = &report.error {
            eprintln!(
                "{TOOL}: error: {target}: {}",
                terminal::escape_controls(error)
            );
            status = status.max(ExitStatus::Input);
        }
        for warning in &report.override_errors {
            terminal::warn(TOOL, &format!("{target}: {warning}"));
        }
        // The scan's own warnings (a cap reached) can run to hundreds on a large package:
        // the first few here, every one in --json.
        for warning in report.warnings.iter().take(SCAN_WARNINGS_SHOWN) {
            terminal::warn(TOOL, &format!("{target}: {warning}"));
        }
        if report.warnings.len() > SCAN_WARNINGS_SHOWN && !args.json {
            terminal::warn(
                TOOL,
                &format!(
                    "{target}: … and {} more scan warnings (all of them are in --json)",
                    report.warnings.len() - SCAN_WARNINGS_SHOWN
                ),
            );
        }
        if report.fails(&selection) {
            status = status.max(ExitStatus::Problems);
        }
    }
    write_stdout(|out| {
        if args.json {
            let json = check::output::JsonReport {
                schema: check::output::JSON_SCHEMA,
                targets: &reports,
            };
            serde_json::to_writer_pretty(&mut *out, &json)?;
            writeln!(out)?;
        } else {
            check::output::write_text(out, &reports, &ctx.tags, &selection, args.info)?;
        }
        Ok(())
    })?;
    Ok(status)
}
