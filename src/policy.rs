//! The policy tables of DESIGN.md §6: TOML data embedded at build time (see `build.rs`),
//! replaceable file by file with `--policy DIR`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::de::DeserializeOwned;

include!(concat!(env!("OUT_DIR"), "/policy_files.rs"));

/// Where policy tables come from, most specific first: `--policy DIR`, then the package's own
/// `debian/mlmodel-policy/`, then the copies embedded in the binary. Each table is taken whole
/// from the first place that has it. (`/usr/share/dh-mlmodel/policy/` is only a reference copy
/// of the embedded tables, never read.)
#[derive(Debug, Clone, Default)]
pub struct PolicySource {
    dirs: Vec<PathBuf>,
}

/// The package's own policy overrides, relative to the top of a source tree.
pub const PACKAGE_POLICY_DIR: &str = "debian/mlmodel-policy";

impl PolicySource {
    /// The tables built into the binary.
    pub fn embedded() -> Self {
        Self { dirs: Vec::new() }
    }

    /// Tables read from `dir`; a file missing there falls back to the embedded copy.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        Self::layered(Some(dir), None)
    }

    /// The tables for work on the source tree `tree`: `explicit` (`--policy DIR`, which must
    /// exist) first, then `tree/debian/mlmodel-policy/` when it exists, then the embedded ones.
    pub fn layered(explicit: Option<&Path>, tree: Option<&Path>) -> Result<Self> {
        let mut dirs = Vec::new();
        if let Some(dir) = explicit {
            if !dir.is_dir() {
                bail!(
                    "policy directory {} does not exist or is not a directory",
                    dir.display()
                );
            }
            dirs.push(dir.to_path_buf());
        }
        if let Some(tree) = tree {
            let package = tree.join(PACKAGE_POLICY_DIR);
            if package.is_dir() {
                dirs.push(package);
            }
        }
        Ok(Self { dirs })
    }

    /// Whether any table may come from a file rather than the embedded copies: a table that
    /// fails to load is then the user's input, not a bug of ours.
    pub fn has_overrides(&self) -> bool {
        !self.dirs.is_empty()
    }

    /// Reads and parses table `name` (e.g. `formats.toml`).
    pub fn table<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        let (origin, text) = self.text(name)?;
        parse_table(&origin, &text)
    }

    fn text(&self, name: &str) -> Result<(String, String)> {
        for dir in &self.dirs {
            let path = dir.join(name);
            if path.exists() {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read policy table {}", path.display()))?;
                return Ok((path.display().to_string(), text));
            }
        }
        EMBEDDED
            .iter()
            .find(|(file, _)| *file == name)
            .map(|(file, text)| (format!("<embedded policy>/{file}"), (*text).to_string()))
            .with_context(|| format!("no policy table named {name}"))
    }
}

/// Copies the tables of `explicit` (a `--policy DIR` given to `init`) into the package's own
/// `tree/debian/mlmodel-policy/`, where every later command run in the tree finds them,
/// `dh_mlmodel` during the package build included: a policy given once on the command line
/// would otherwise be forgotten by the build, which would plan differently from what `init`
/// showed. Only tables the tool knows are copied, and only when they differ; returns their
/// names. Nothing is copied when `explicit` already is that directory.
pub fn adopt(explicit: &Path, tree: &Path) -> Result<Vec<String>> {
    let target = tree.join(PACKAGE_POLICY_DIR);
    let same = match (explicit.canonicalize(), target.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Ok(Vec::new());
    }
    let mut copied = Vec::new();
    for (name, _) in EMBEDDED {
        let from = explicit.join(name);
        if !from.is_file() {
            continue;
        }
        let text = std::fs::read(&from)
            .with_context(|| format!("cannot read policy table {}", from.display()))?;
        let to = target.join(name);
        if std::fs::read(&to).ok().as_deref() == Some(text.as_slice()) {
            continue;
        }
        std::fs::create_dir_all(&target)
            .with_context(|| format!("cannot create {}", target.display()))?;
        crate::fsutil::write_atomic(&to, &text, 0o644)?;
        copied.push((*name).to_string());
    }
    Ok(copied)
}

/// Parses the text of a policy table read from `origin`; an error names `origin`, line and
/// column.
pub fn parse_table<T: DeserializeOwned>(origin: &str, text: &str) -> Result<T> {
    toml::from_str(text)
        .map_err(|err| anyhow::anyhow!("{}", describe_toml_error(origin, text, &err)))
}

/// Formats a TOML error as `FILE:LINE:COLUMN: message`, the form compilers and lintian use, so
/// editors can jump to the spot.
pub fn describe_toml_error(origin: &str, text: &str, err: &toml::de::Error) -> String {
    let message = err.message();
    match err.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            format!("{origin}:{line}:{column}: {message}")
        }
        None => format!("{origin}: {message}"),
    }
}

/// 1-based line and column of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |tail| tail.chars().count())
        + 1;
    (line, column)
}
