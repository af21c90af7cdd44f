//! debhelper's shared options, parsed as `Debian::Debhelper::Dh_Getopt` parses them: bundled
//! short options, `DH_INTERNAL_OPTIONS` (fields separated by the byte 0x1e) whose package
//! selection excludes every other package, `DH_OPTIONS` (whitespace-separated, unknown options
//! ignored with a warning), then the command line (unknown options are an error), `-O` values
//! applied only when they name an option this tool knows, and `DH_VERBOSE` / `DH_NO_ACT`.

use std::collections::BTreeSet;

use anyhow::{Result, bail};

use super::control::ControlFile;

/// The outcome of option parsing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DhOptions {
    pub verbose: bool,
    pub no_act: bool,
    /// `-n`/`--no-scripts`: leave maintainer scripts alone.
    pub no_scripts: bool,
    /// `-P`/`--tmpdir`: the staging directory, instead of `debian/<package>`.
    pub tmpdir: Option<String>,
    /// The packages to act on, in order, after every selection and exclusion.
    pub packages: Vec<String>,
    /// Messages debhelper would print as warnings.
    pub warnings: Vec<String>,
    /// Set when there is nothing to do; debhelper warns and exits 0.
    pub nothing_to_do: Option<String>,
    pub help: bool,
}

/// Parser state: what `%dh` holds in Dh_Getopt while the option sources are read in turn.
#[derive(Default)]
struct State {
    options: DhOptions,
    do_packages: Vec<String>,
    do_indep: bool,
    do_arch: bool,
    exclude: BTreeSet<String>,
    internal_excluded: BTreeSet<String>,
    explicitly_requested: BTreeSet<String>,
    profile_excluded: bool,
}

/// Options every debhelper command accepts that `dh_mlmodel` has no use for: accepted, ignored.
const IGNORED_FLAGS: &[&str] = &[
    "d",
    "A",
    "all",
    "remaining-packages",
    "o",
    "onlyscripts",
    "only-scripts",
];
const IGNORED_WITH_VALUE: &[&str] = &[
    "X",
    "exclude",
    "u",
    "dbg-package",
    "mainpackage",
    "name",
    "error-handler",
    "buildsystem",
];

/// Parses `args` (the command line, without the program name) and the environment.
pub fn parse(
    args: &[String],
    env: impl Fn(&str) -> Option<String>,
    control: &ControlFile,
) -> Result<DhOptions> {
    let mut state = State::default();
    let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
    state.options.verbose = set("DH_VERBOSE");
    state.options.no_act = set("DH_NO_ACT");

    if let Some(internal) = env("DH_INTERNAL_OPTIONS") {
        let fields: Vec<String> = internal
            .split('\x1e')
            .filter(|f| !f.is_empty())
            .map(String::from)
            .collect();
        let _ = parse_source(&mut state, &fields, control);
        if !state.do_packages.is_empty() || state.do_indep || state.do_arch {
            for package in control.all_names() {
                if !state.do_packages.contains(&package) {
                    state.exclude.insert(package.clone());
                    state.internal_excluded.insert(package);
                }
            }
        }
        state.do_packages.clear();
        state.do_indep = false;
        state.do_arch = false;
    }
    if let Some(options) = env("DH_OPTIONS") {
        let fields: Vec<String> = options.split_whitespace().map(String::from).collect();
        if parse_source(&mut state, &fields, control).is_err() {
            state
                .options
                .warnings
                .push("ignored unknown options in DH_OPTIONS".into());
        }
    }
    if let Err(err) = parse_source(&mut state, args, control) {
        bail!("{err}\nunknown option or error during option parsing; aborting");
    }
    if state.options.help {
        return Ok(state.options);
    }

    if state.do_packages.is_empty() {
        if state.profile_excluded {
            return Ok(nothing(
                state,
                "All requested packages have been excluded (e.g. via a Build-Profile or due to architecture restrictions).",
            ));
        }
        if state.do_indep || state.do_arch {
            return Ok(nothing(
                state,
                "You asked that all arch in(dep) packages be built, but there are none of that type.",
            ));
        }
        state.do_packages = control.both();
    }
    let mut seen = BTreeSet::new();
    let selected: Vec<String> = state
        .do_packages
        .iter()
        .filter(|p| !state.exclude.contains(*p) && seen.insert((*p).clone()))
        .cloned()
        .collect();
    if selected.is_empty() {
        let still_requested = state
            .explicitly_requested
            .iter()
            .any(|p| !state.internal_excluded.contains(p) && control.both().contains(p));
        if !state.explicitly_requested.is_empty() && !still_requested {
            return Ok(nothing(
                state,
                "All requested packages have been excluded (e.g. via a Build-Profile or due to architecture restrictions).",
            ));
        }
        let archs: BTreeSet<&str> = control
            .packages
            .iter()
            .map(|p| p.architecture.as_str())
            .collect();
        let message = format!(
            "No packages to build. Possible architecture mismatch: {}, want: {}",
            control.host_arch(),
            archs.into_iter().collect::<Vec<_>>().join(" ")
        );
        return Ok(nothing(state, &message));
    }
    state.options.packages = selected;
    if state.options.tmpdir.is_some() && state.options.packages.len() > 1 {
        bail!("-P/--tmpdir can only be used when acting on a single package");
    }
    Ok(state.options)
}

fn nothing(mut state: State, message: &str) -> DhOptions {
    state.options.nothing_to_do = Some(message.to_string());
    state.options
}

/// Reads one source of options into `state`. Returns an error for the first unknown option or
/// missing value, after applying every option it understood (as Getopt::Long does).
fn parse_source(state: &mut State, args: &[String], control: &ControlFile) -> Result<()> {
    let mut failure = None;
    let mut index = 0;
    while index < args.len() {
        let arg = &args[index];
        index += 1;
        let mut next_value = |name: &str| -> Result<String> {
            let value = args.get(index).cloned();
            index += 1;
            value.ok_or_else(|| anyhow::anyhow!("Option {name} requires an argument"))
        };
        let outcome = if arg == "--" {
            break;
        } else if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (long, None),
            };
            if takes_value(name) {
                match inline.map_or_else(|| next_value(&format!("--{name}")), Ok) {
                    Ok(value) => apply(state, name, Some(value), control),
                    Err(err) => Err(err),
                }
            } else if inline.is_some() {
                Err(anyhow::anyhow!("Option {name} does not take an argument"))
            } else {
                apply(state, name, None, control)
            }
        } else if let Some(bundle) = arg.strip_prefix('-').filter(|b| !b.is_empty()) {
            let mut result = Ok(());
            for (at, letter) in bundle.char_indices() {
                let name = letter.to_string();
                if takes_value(&name) {
                    let rest = &bundle[at + letter.len_utf8()..];
                    let value = if rest.is_empty() {
                        next_value(&format!("-{name}"))
                    } else {
                        Ok(rest.to_string())
                    };
                    result = value.and_then(|value| apply(state, &name, Some(value), control));
                    break;
                }
                result = apply(state, &name, None, control);
                if result.is_err() {
                    break;
                }
            }
            result
        } else {
            // Getopt's "<>" handler: non-option arguments. dh_mlmodel takes none.
            state.options.warnings.push(format!(
                "ignoring argument {arg}: dh_mlmodel takes no file arguments"
            ));
            Ok(())
        };
        if let Err(err) = outcome {
            failure.get_or_insert(err);
        }
    }
    failure.map_or(Ok(()), Err)
}

fn takes_value(name: &str) -> bool {
    matches!(
        name,
        "p" | "package" | "N" | "no-package" | "P" | "tmpdir" | "O"
    ) || IGNORED_WITH_VALUE.contains(&name)
}

/// Whether `name` is an option this tool understands (for `-O`, which passes options meant for
/// any debhelper command: only those the tool knows are applied).
fn is_known(name: &str) -> bool {
    takes_value(name)
        || IGNORED_FLAGS.contains(&name)
        || matches!(
            name,
            "v" | "verbose"
                | "no-act"
                | "i"
                | "indep"
                | "a"
                | "arch"
                | "s"
                | "same-arch"
                | "n"
                | "noscripts"
                | "no-scripts"
                | "h"
                | "help"
        )
}

fn apply(
    state: &mut State,
    name: &str,
    value: Option<String>,
    control: &ControlFile,
) -> Result<()> {
    match (name, value) {
        ("v" | "verbose", None) => state.options.verbose = true,
        ("no-act", None) => state.options.no_act = true,
        ("n" | "noscripts" | "no-scripts", None) => state.options.no_scripts = true,
        ("h" | "help", None) => state.options.help = true,
        ("i" | "indep", None) => {
            state.do_packages.extend(control.indep());
            state.do_indep = true;
        }
        ("a" | "arch" | "s" | "same-arch", None) => {
            state.do_packages.extend(control.arch());
            state.do_arch = true;
        }
        ("p" | "package", Some(package)) => {
            assert_known(control, &package, "-p/--package")?;
            state.explicitly_requested.insert(package.clone());
            if control.both().contains(&package) {
                state.do_packages.push(package);
            } else {
                state.profile_excluded = true;
            }
        }
        ("N" | "no-package", Some(package)) => {
            assert_known(control, &package, "-N/--no-package")?;
            state.exclude.insert(package);
        }
        ("P" | "tmpdir", Some(dir)) => state.options.tmpdir = Some(dir),
        ("O", Some(passed)) => {
            // dh passes its own options through -O to every command; apply the ones we know.
            let option = passed.trim_start_matches('-');
            let name = option.split_once('=').map_or(option, |(n, _)| n);
            let known = if passed.starts_with("--") {
                is_known(name) && name.len() > 1
            } else {
                is_known(&name[..name.len().min(1)])
            };
            if known {
                parse_source(state, &[passed], control)?;
            }
        }
        (other, _) if is_known(other) => {}
        (other, _) => bail!("Unknown option: {other}"),
    }
    Ok(())
}

fn assert_known(control: &ControlFile, package: &str, option: &str) -> Result<()> {
    if !control.is_known(package) {
        bail!(
            "Requested unknown package {package} via {option}, expected one of: {}",
            control.all_names().join(" ")
        );
    }
    Ok(())
}
