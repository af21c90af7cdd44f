//! `dh_mlmodel`: the debhelper command that carries out the plan of `debian/mlmodel.toml`
//! during a package build (DESIGN.md §3, §4).
//!
//! For each package it acts on: a weights package built in the archive gets its files,
//! verified against the pins (or trained during the build), and a provenance record; an
//! installer package gets `get-<weights-pkg>`, its pins and the training recipe; a code package
//! gets the `mlmodel:Recommends`/`mlmodel:Suggests` substvar naming what it should pull in.

pub mod autoscript;
pub mod control;
mod installer;
pub mod options;
pub mod substvars;
mod weights;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

use crate::pipeline::{self, PipelinePolicy, Request};
use crate::plan::{Category, ModelPlan, Plan, Role};
use crate::policy::PolicySource;
use crate::terminal;

use control::ControlFile;
use options::DhOptions;

const TOOL: &str = autoscript::TOOL;

/// The build profile under which no model is trained: the packages of trained models must then
/// be excluded with `Build-Profiles: <!pkg.mlmodel.notrain>` (as `init` writes them).
pub const NOTRAIN_PROFILE: &str = "pkg.mlmodel.notrain";

/// Which part of the package build the command runs in. Training is compilation (Debian Policy
/// 4.9: the `build` target), so it happens in the build phase, never under fakeroot; the binary
/// phase only installs and verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `dh_mlmodel_train`, which the add-on runs after `dh_auto_build`.
    Build,
    /// `dh_mlmodel`, which the add-on runs after `dh_install`.
    Binary,
}

impl Phase {
    /// The command's name, which starts each of its messages.
    pub fn tool(self) -> &'static str {
        match self {
            Phase::Build => "dh_mlmodel_train",
            Phase::Binary => TOOL,
        }
    }

    fn usage(self) -> &'static str {
        match self {
            Phase::Build => TRAIN_USAGE,
            Phase::Binary => USAGE,
        }
    }
}

const SHARED_OPTIONS: &str = "\
Options (debhelper's shared options):
  -p, --package=PKG     act on PKG (may be repeated)
  -N, --no-package=PKG  do not act on PKG
  -i, --indep           act on all architecture-independent packages
  -a, --arch            act on all architecture-dependent packages
  -P, --tmpdir=DIR      use DIR as the package build directory (one package only)
  -n, --no-scripts      do not add maintainer-script snippets
  -v, --verbose         print every action
      --no-act          do nothing, only print what would be done (with -v)
  -O=OPTION             an option passed by dh; applied when the command knows it
  -h, --help            show this help
";

const USAGE: &str = "\
Usage: dh_mlmodel [debhelper options]

dh_mlmodel installs machine-learning model weights, their provenance and the
get-<weights-package> helper into package build directories, as planned from
debian/mlmodel.toml, and sets the mlmodel:Recommends, mlmodel:Suggests and
mlmodel:Depends substitution variables. Weights trained during the build come
from dh_mlmodel_train. It is part of dh-mlmodel; enable it with
Build-Depends: dh-sequence-mlmodel. See dh_mlmodel(1).

";

const TRAIN_USAGE: &str = "\
Usage: dh_mlmodel_train [debhelper options]

dh_mlmodel_train trains, during the build phase, the models that
debian/mlmodel.toml's plan builds in the archive, for the weights packages
this build produces: without network, with a deterministic environment, and
with parallel=N from DEB_BUILD_OPTIONS. Nothing is trained under the
pkg.mlmodel.notrain build profile. dh_mlmodel then installs the outputs. See
dh_mlmodel_train(1).

";

/// Entry point of the `dh_mlmodel` and `dh_mlmodel_train` binaries.
pub fn main(phase: Phase) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(phase, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            crate::error::print(phase.tool(), &err);
            // debhelper's error() exits with 255, whatever the kind of error.
            ExitCode::from(255)
        }
    }
}

fn run(phase: Phase, args: &[String]) -> Result<()> {
    let tool = phase.tool();
    let usage = || print!("{}{SHARED_OPTIONS}", phase.usage());
    if args.iter().any(|a| a == "-h" || a == "--help") {
        usage();
        return Ok(());
    }
    let root = PathBuf::from(".");
    let control = ControlFile::read(&root)?;
    let options = options::parse(args, |name| std::env::var(name).ok(), &control)?;
    for warning in &options.warnings {
        terminal::warn(tool, warning);
    }
    if options.help {
        usage();
        return Ok(());
    }
    if let Some(message) = &options.nothing_to_do {
        terminal::warn(tool, message);
        return Ok(());
    }
    let build = Build::load(root, control, options)?;
    for package in &build.options.packages {
        match phase {
            Phase::Build => build.train(package)?,
            Phase::Binary => build.act_on(package)?,
        }
    }
    Ok(())
}

/// Everything known about this package build.
pub(crate) struct Build {
    root: PathBuf,
    options: DhOptions,
    control: ControlFile,
    plan: Plan,
    /// The source package version, from debian/changelog.
    version: String,
    /// `SOURCE_DATE_EPOCH`, or the changelog's timestamp.
    epoch: u64,
}

impl Build {
    fn load(root: PathBuf, control: ControlFile, options: DhOptions) -> Result<Self> {
        let manifest_path = root.join(pipeline::MANIFEST_PATH);
        if !manifest_path.exists() {
            bail!(
                "debian/mlmodel.toml not found: dh_mlmodel acts on the models it describes \
                 (draft one with `dh-mlmodel init --manifest-only`)"
            );
        }
        // The package's own `debian/mlmodel-policy/` applies here as it does to `classify` and
        // `init` run in the same tree, so the plan built is the plan they showed.
        let policy = PipelinePolicy::load(&PolicySource::layered(None, Some(&root))?)?;
        let request = Request {
            root: &root,
            manifest: None,
            source: Some(&control.source),
            draft_when_missing: false,
        };
        let plan = pipeline::load(&request, &policy)?.plan;
        let version = changelog_field(&root, "Version")?;
        let epoch = match crate::build_env::source_date_epoch()? {
            Some(epoch) => u64::try_from(epoch)
                .with_context(|| format!("SOURCE_DATE_EPOCH={epoch} is before 1970"))?,
            None => changelog_field(&root, "Timestamp")?
                .parse()
                .context("debian/changelog: the timestamp is not a number")?,
        };
        Ok(Self {
            root,
            options,
            control,
            plan,
            version,
            epoch,
        })
    }

    /// The model plan and the package's role in it, for a package the plan names.
    fn role_of(&self, package: &str) -> Option<(&ModelPlan, Role)> {
        self.plan.models.iter().find_map(|plan| {
            plan.packages
                .iter()
                .find(|p| p.name == package)
                .map(|p| (plan, p.role))
        })
    }

    /// The build phase for `package`: trains its model when the plan builds it in the archive
    /// by training.
    fn train(&self, package: &str) -> Result<()> {
        match self.role_of(package) {
            Some((plan, Role::Weights)) if plan.train_at_build => {
                weights::train_package(self, package, plan)
            }
            _ => Ok(()),
        }
    }

    fn act_on(&self, package: &str) -> Result<()> {
        match self.role_of(package) {
            Some((plan, Role::Weights)) => weights::build_package(self, package, plan)?,
            Some((plan, Role::Installer)) => installer::build_package(self, package, plan)?,
            None => match self.unplanned_model_package(package) {
                Some(plan) => return Err(unplanned_package_error(package, plan)),
                None => self.code_package(package)?,
            },
        }
        substvars::define_all(&self.debian_dir(), package, self.options.no_act)
    }

    /// The model whose weights or installer package `package` is named as (`[model.packages]`
    /// or the default names) although its plan does not build it: a package that would come
    /// out empty, or hold a helper for weights the plan cannot get.
    fn unplanned_model_package(&self, package: &str) -> Option<&ModelPlan> {
        self.plan
            .models
            .iter()
            .find(|plan| plan.package_names.iter().any(|name| name == package))
    }

    /// A code package: substvars naming, for every model whose packages this build produces,
    /// the package the plan says the code should pull in.
    fn code_package(&self, package: &str) -> Result<()> {
        for model in &self.plan.models {
            let Some(relation) = &model.relation else {
                if model.class.category == Category::Incomplete {
                    terminal::warn(
                        TOOL,
                        &format!(
                            "model {} is incomplete (see `dh-mlmodel classify`); {package} does not refer to it",
                            model.name
                        ),
                    );
                }
                continue;
            };
            if !self.control.is_known(&relation.package) {
                terminal::warn(
                    TOOL,
                    &format!(
                        "debian/control has no package {} for model {}; {package} does not refer to it",
                        relation.package, model.name
                    ),
                );
                continue;
            }
            let variable = format!("mlmodel:{}", relation.field);
            // A -dev or tools package that does not use it gets nothing: dpkg-gencontrol would
            // warn that it is "unused, but is defined".
            if !self.control.uses_substvar(package, &variable) {
                self.verbose(&format!(
                    "debian/control's {package} does not use ${{{variable}}}: not set there"
                ));
                continue;
            }
            self.verbose(&format!(
                "echo '{variable}={}' >> debian/{package}.substvars",
                relation.package
            ));
            substvars::add(
                &self.debian_dir(),
                package,
                &variable,
                &relation.package,
                self.options.no_act,
            )?;
        }
        Ok(())
    }

    /// The package build directory: `debian/<package>`, or `-P`.
    fn tmpdir(&self, package: &str) -> PathBuf {
        match &self.options.tmpdir {
            Some(dir) => PathBuf::from(dir),
            None => self.debian_dir().join(package),
        }
    }

    fn debian_dir(&self) -> PathBuf {
        self.root.join("debian")
    }

    /// Prints an action as debhelper does with `-v`: a tab, then the equivalent command.
    fn verbose(&self, message: &str) {
        if self.options.verbose {
            println!("\t{message}");
        }
    }

    /// `path` inside the package build directory for an absolute install path.
    fn staged(&self, package: &str, absolute: &str) -> PathBuf {
        self.tmpdir(package).join(absolute.trim_start_matches('/'))
    }
}

/// The build error for a package of `debian/control` that belongs to `plan`'s model but that
/// the plan does not build: every missing fact with its place when the model is incomplete,
/// else what the plan builds instead.
fn unplanned_package_error(package: &str, plan: &ModelPlan) -> anyhow::Error {
    let model = &plan.name;
    if plan.class.category == Category::Incomplete {
        let facts: Vec<String> = plan
            .class
            .missing
            .iter()
            .map(|fact| format!("  {}: {}: {}", fact.at, fact.field, fact.message))
            .collect();
        return anyhow::anyhow!(
            "{package} is a package of model {model}, which is incomplete, so it would be built \
             empty; state these facts in debian/mlmodel.toml (or remove {package} from \
             debian/control until then):\n{}",
            facts.join("\n")
        );
    }
    let planned: Vec<&str> = plan.packages.iter().map(|p| p.name.as_str()).collect();
    anyhow::anyhow!(
        "{package} is a package of model {model}, but its plan ({}) builds {}; remove {package} \
         from debian/control (`dh-mlmodel init` updates it) or change the manifest",
        plan.class.category.as_str(),
        if planned.is_empty() {
            "no package".to_string()
        } else {
            planned.join(" and ")
        }
    )
}

/// One field of debian/changelog's latest entry, as `dpkg-parsechangelog -SFIELD` gives it in `root`.
pub(crate) fn changelog_field(root: &Path, field: &str) -> Result<String> {
    let mut command = Command::new("dpkg-parsechangelog");
    command.arg(format!("-S{field}")).current_dir(root);
    tool_output(&mut command)
}

/// Runs one of dpkg's tools and returns its trimmed standard output; failing to start it or a
/// non-zero exit is an error that names the command.
pub(crate) fn tool_output(command: &mut Command) -> Result<String> {
    let shown = format!("{command:?}").replace('"', "");
    let out = command
        .output()
        .with_context(|| format!("cannot run {shown} (is dpkg-dev installed?)"))?;
    if !out.status.success() {
        bail!(
            "{shown} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
