//! Quilt patches `init` writes so that the upstream build runs without the network, as a
//! Debian build must (Debian Policy 4.9):
//!
//! * [`external_project`]: a CMake build that fetches code with `ExternalProject_Add` uses the
//!   installed Debian package instead;
//! * [`download_guard`]: a script the build runs to download weights compiled into the code
//!   exits at once when the orig component's files are in place.
//!
//! Patches are DEP-3 (<https://dep-team.pages.debian.net/deps/dep3/>) with one unified diff
//! each, computed in series order, so that `dpkg-source` applies them in turn with `patch -p1`,
//! without fuzz.
//!
//! debian/patches/series is the maintainer's: `init` only appends the patches it adds, once. A
//! patch it added that the maintainer deleted (or took out of the series) is not added again,
//! and a patch file it did not write, or that was edited since, is left alone.

pub mod download_guard;
pub mod external_project;

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::fetched::Project;
use super::state::{Outcome, State};

const USE_INSTALLED: &str = include_str!("../../../templates/debian/patch-use-installed.j2");
const USE_COMPONENT: &str = include_str!("../../../templates/debian/patch-use-component.j2");
const SERIES: &str = "debian/patches/series";

/// A patch `init` plans: its DEP-3 header is rendered with the maintainer and date later.
#[derive(Debug, Clone)]
pub struct PlannedPatch {
    /// The file's name in debian/patches.
    pub name: String,
    /// The patched file, relative to the tree.
    pub path: String,
    /// The line of the fetch the patch is for.
    pub line: u64,
    pub url: String,
    pub change: Change,
    /// The unified diff.
    pub diff: String,
}

/// What a patch changes, as its description tells it.
#[derive(Debug, Clone)]
pub enum Change {
    /// An `ExternalProject_Add(<target> …)` call replaced by `finder` and an empty target.
    UseInstalled {
        target: String,
        project: Project,
        /// The CMake that finds the installed copy.
        finder: String,
    },
    /// A download script that exits when the orig component's files are in place.
    UseComponent { component: String, model: String },
}

/// The text of the file at `path` when it is at most `cap` bytes of UTF-8.
fn read_capped(path: &Path, cap: u64) -> Option<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > cap {
        return None;
    }
    String::from_utf8(bytes).ok()
}

/// Whether a diff header (`--- a/PATH`) and the patch's description can hold `path` as it is.
fn is_plain_path(path: &str) -> bool {
    !path.is_empty()
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/+-".contains(&b))
}

/// `name` as a word of a patch's file name: lower case, `[a-z0-9-]`.
fn file_word(name: &str) -> String {
    name.chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect()
}

/// `wanted`, or, when an earlier patch already has that name, `alternative`.
fn unique_name(planned: &[PlannedPatch], wanted: String, alternative: String) -> String {
    if planned.iter().any(|p| p.name == wanted) {
        alternative
    } else {
        wanted
    }
}

/// Lines of context around a change, as `diff -u` writes.
const CONTEXT: usize = 3;

/// `text` with its lines from byte `line_start` to byte `line_end` (both at line starts, or
/// the end) replaced by `block` (whole lines; empty `line_start..line_end` inserts), and the
/// unified diff from one to the other for `patch -p1` (`a/PATH`, `b/PATH`, no timestamps, so
/// the same tree gives the same bytes).
fn splice(
    text: &str,
    line_start: usize,
    line_end: usize,
    block: &str,
    path: &str,
) -> (String, String) {
    let patched = format!("{}{block}{}", &text[..line_start], &text[line_end..]);
    let old: Vec<&str> = text.split_inclusive('\n').collect();
    let first = text[..line_start].matches('\n').count();
    let removed = text[line_start..line_end].split_inclusive('\n').count();
    let added: Vec<&str> = block.split_inclusive('\n').collect();
    let before = first.saturating_sub(CONTEXT);
    let after = (first + removed + CONTEXT).min(old.len());
    let mut diff = format!(
        "--- a/{path}\n+++ b/{path}\n@@ -{} +{} @@\n",
        range(before, after - before),
        range(before, after - before - removed + added.len()),
    );
    let mut line = |mark: char, text: &str| {
        diff.push(mark);
        diff.push_str(text);
        if !text.ends_with('\n') {
            diff.push_str("\n\\ No newline at end of file\n");
        }
    };
    for context in &old[before..first] {
        line(' ', context);
    }
    for removed in &old[first..first + removed] {
        line('-', removed);
    }
    for added in &added {
        line('+', added);
    }
    for context in &old[first + removed..after] {
        line(' ', context);
    }
    (patched, diff)
}

/// A hunk range `START,COUNT` (1-based; diff writes the line before an empty range).
fn range(start: usize, count: usize) -> String {
    if count == 0 {
        format!("{start},0")
    } else {
        format!("{},{count}", start + 1)
    }
}

/// What a patch's header template reads.
#[derive(Serialize)]
struct HeaderContext<'a> {
    path: &'a str,
    line: u64,
    url: &'a str,
    author: &'a str,
    date: &'a str,
    // UseInstalled
    project: &'a str,
    package: &'a str,
    target: &'a str,
    finder: &'a str,
    // UseComponent
    component: &'a str,
    model: &'a str,
}

/// The text of each planned patch: its DEP-3 header (Author `author`, Last-Update `date` as
/// YYYY-MM-DD) and diff.
pub fn render(planned: &[PlannedPatch], author: &str, date: &str) -> Result<Vec<(String, String)>> {
    let mut env = crate::templates::environment();
    env.add_template("use-installed", USE_INSTALLED)?;
    env.add_template("use-component", USE_COMPONENT)?;
    planned
        .iter()
        .map(|patch| {
            let mut context = HeaderContext {
                path: &patch.path,
                line: patch.line,
                url: &patch.url,
                author,
                date,
                project: "",
                package: "",
                target: "",
                finder: "",
                component: "",
                model: "",
            };
            let template = match &patch.change {
                Change::UseInstalled {
                    target,
                    project,
                    finder,
                } => {
                    context.project = &project.name;
                    context.package = project.packages.first().map_or("", String::as_str);
                    context.target = target;
                    context.finder = finder;
                    "use-installed"
                }
                Change::UseComponent {
                    component, model, ..
                } => {
                    context.component = component;
                    context.model = model;
                    "use-component"
                }
            };
            let header = env
                .get_template(template)?
                .render(context)
                .with_context(|| format!("rendering debian/patches/{}", patch.name))?;
            Ok((patch.name.clone(), format!("{header}{}", patch.diff)))
        })
        .collect()
}

/// Writes each patch `(name, text)` under debian/patches and appends the new ones to
/// debian/patches/series; returns what happened to each file.
pub fn write(
    root: &Path,
    state: &mut State,
    patches: &[(String, String)],
) -> Result<Vec<(String, Outcome)>> {
    let mut outcomes = Vec::new();
    let series_path = root.join(SERIES);
    let series_text = match std::fs::read_to_string(&series_path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => {
            return Err(err).with_context(|| format!("cannot read {}", series_path.display()));
        }
    };
    // A series line is a patch name, optionally followed by options; `#` starts a comment.
    let listed: Vec<&str> = series_text
        .lines()
        .filter_map(|l| l.split('#').next()?.split_whitespace().next())
        .collect();
    let mut series = series_text.clone();
    for (name, text) in patches {
        let rel = format!("debian/patches/{name}");
        if state.files.contains_key(&rel) && !root.join(&rel).exists() {
            outcomes.push((
                rel,
                Outcome::Kept(
                    "deleted since dh-mlmodel wrote it: not added again (to get it back, take \
                     its name out of `series` and `files` in debian/.mlmodel-generated)"
                        .to_string(),
                ),
            ));
            continue;
        }
        let outcome = state.write_generated(root, &rel, text, 0o644)?;
        let ours = state.files.contains_key(&rel);
        outcomes.push((rel, outcome));
        if !ours || state.series.contains(name) {
            // The maintainer's own file, or listed by an earlier run (and taken out of the
            // series by the maintainer when no longer there): the series is theirs.
            continue;
        }
        if !listed.contains(&name.as_str()) {
            if !series.is_empty() && !series.ends_with('\n') {
                series.push('\n');
            }
            series.push_str(name);
            series.push('\n');
        }
        state.series.insert(name.clone());
    }
    if series != series_text {
        crate::fsutil::write_atomic(&series_path, series.as_bytes(), 0o644)?;
        outcomes.push((SERIES.to_string(), Outcome::Written));
    } else if !patches.is_empty() && series_path.exists() {
        outcomes.push((SERIES.to_string(), Outcome::Unchanged));
    }
    Ok(outcomes)
}
