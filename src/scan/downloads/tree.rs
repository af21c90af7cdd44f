//! The tree-level pass: what one file's downloads are depends on other files. A script named
//! by a build file (or by a script the build runs) runs during the build, and a download
//! whose line hands a full SHA-256 to a script that checks it with a SHA-256 tool is verified.
//! The pass decides from what the per-file pass summed up of each file; it reads nothing.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;

use super::policy::{DownloadPolicy, Language};
use crate::scan::{Finding, Verification, When};

/// What the tree pass needs to know of one script or build file.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Words that may name scripts the file runs when the build runs it (nothing in a Make
    /// target no build goal reaches), in file order.
    pub runs: Vec<String>,
    /// Words that may name scripts, each with its line, on lines that also hold a full
    /// SHA-256 digest.
    pub hands_sha256: Vec<(u64, String)>,
    /// Whether the file checks a full SHA-256 digest.
    pub checks_sha256: bool,
    /// The catalogues (JSON, YAML) the file names, by file name.
    pub reads_catalogues: Vec<CatalogueRead>,
}

/// A catalogue a file of the tree names (`os.path.join(…, "models.yml")`): the program reads it,
/// and fetches what it lists, when that code runs.
#[derive(Debug, Clone)]
pub struct CatalogueRead {
    /// The catalogue's file name.
    pub name: String,
    /// When the code naming it runs.
    pub when: When,
    /// The code looks like a script run by hand, unless its file is a module of a package
    /// (an `__init__.py` beside it).
    pub unless_packaged: bool,
}

/// What the per-file pass saw of one file of the tree.
#[derive(Debug, Clone)]
pub enum Seen {
    /// Not a script, build file, documentation or catalogue.
    NotAScript,
    /// Larger than the download search reads (`max-file-size`): the size.
    TooLarge(u64),
    Script(Summary),
    /// The file could not be read: the error.
    Unreadable(String),
}

/// The summaries of the files of the tree, by path relative to the scanned root.
struct Summaries<'a> {
    by_rel: HashMap<&'a str, &'a Seen>,
    /// A file that could not be read, asked for, leaves a warning: the decision it was needed
    /// for was made without it.
    warnings: Vec<String>,
}

impl<'a> Summaries<'a> {
    fn get(&mut self, rel: &str) -> Option<&'a Summary> {
        match self.by_rel.get(rel)? {
            Seen::Script(summary) => Some(summary),
            Seen::NotAScript | Seen::TooLarge(_) => None,
            Seen::Unreadable(err) => {
                self.warnings.push(format!("{rel}: {err}"));
                None
            }
        }
    }

    /// The file of the tree a word naming a script, as written in `caller`, stands for: relative
    /// to the top of the tree or to the caller's directory, as the word's prefix says.
    fn resolve_call(&self, policy: &DownloadPolicy, caller: &str, word: &str) -> Option<&'a str> {
        let dir = caller.rsplit_once('/').map_or("", |(d, _)| d);
        let mut candidates = Vec::new();
        for prefix in &policy.calls.root_prefixes {
            if let Some(rest) = word.strip_prefix(prefix.as_str()) {
                candidates.push(rest.to_string());
            }
        }
        let mut local = word;
        for prefix in &policy.calls.dir_prefixes {
            if let Some(rest) = local.strip_prefix(prefix.as_str()) {
                local = rest;
            }
        }
        candidates.push(normalise(&if dir.is_empty() {
            local.to_string()
        } else {
            format!("{dir}/{local}")
        })?);
        candidates.push(normalise(local)?);
        candidates.into_iter().find_map(|c| {
            let (rel, _) = self.by_rel.get_key_value(c.as_str())?;
            (*rel != caller).then_some(*rel)
        })
    }
}

/// Removes `.` and `..` components; `None` when `..` would leave the tree.
fn normalise(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// Runs once on the final findings of a scan whose files are `files` (path relative to the
/// scanned root, path on disk), `seen` holding what the per-file pass saw of each. Scripts run
/// by build files (directly or through other scripts) get `when = build`; a download step that
/// passes a full SHA-256 to a script checking it with a SHA-256 tool gets `verification =
/// sha256`. Returns warnings for files needed here that could not be read.
pub fn resolve_tree(
    policy: &DownloadPolicy,
    files: &[(String, PathBuf)],
    seen: &[Seen],
    findings: &mut [Finding],
) -> Vec<String> {
    let mut summaries = Summaries {
        by_rel: files
            .iter()
            .zip(seen)
            .map(|((rel, _), seen)| (rel.as_str(), seen))
            .collect(),
        warnings: Vec::new(),
    };
    let run_by = run_by_build(policy, files, &mut summaries);
    for finding in findings.iter_mut() {
        let path = finding.path.clone();
        let Some(download) = finding.download_mut() else {
            continue;
        };
        if download.when != When::Manual {
            continue;
        }
        let Some(caller) = run_by.get(path.as_str()) else {
            continue;
        };
        // A README a build file names is not run by it.
        let documentation = policy
            .file_kind(&path, "")
            .is_some_and(|k| k.syntax == Language::Docs);
        if !documentation {
            download.when = When::Build;
            download.reason = Some(format!("run by the build: {caller} calls it"));
        }
    }
    verify_by_checking_scripts(policy, &mut summaries, findings);
    run_packaged_modules(&summaries, findings);
    read_catalogues(policy, &mut summaries, findings);
    summaries.warnings
}

/// A catalogue's URLs are fetched when the code naming it runs: the strongest `when` of the
/// files that name it (build, then run, then manual). A catalogue no code of the tree names is
/// documentation: listed for the maintainer, not drafted as models. A catalogue named by code
/// but too large to search leaves a warning: what it lists is fetched, and unreported.
fn read_catalogues(
    policy: &DownloadPolicy,
    summaries: &mut Summaries<'_>,
    findings: &mut [Finding],
) {
    let mut readers: HashMap<&str, (When, &str)> = HashMap::new();
    for (&rel, seen) in &summaries.by_rel {
        let Seen::Script(summary) = seen else {
            continue;
        };
        for read in &summary.reads_catalogues {
            let packaged = read.unless_packaged && {
                let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
                let init = if dir.is_empty() {
                    "__init__.py".to_string()
                } else {
                    format!("{dir}/__init__.py")
                };
                summaries.by_rel.contains_key(init.as_str())
            };
            let when = if packaged { When::Run } else { read.when };
            let stronger = readers.get(read.name.as_str()).is_none_or(|(known, by)| {
                when_rank(when) < when_rank(*known) || (when == *known && rel < *by)
            });
            if stronger {
                readers.insert(read.name.as_str(), (when, rel));
            }
        }
    }
    let file_name = |path: &str| path.rsplit('/').next().unwrap_or(path).to_string();
    let mut too_large = Vec::new();
    for (&rel, seen) in &summaries.by_rel {
        if let Seen::TooLarge(size) = seen
            && policy.names_catalogue(rel)
            && let Some((_, by)) = readers.get(file_name(rel).as_str())
        {
            too_large.push(format!(
                "{rel}: a catalogue {by} reads, but at {size} bytes over the download search's \
                 cap ({} bytes, max-file-size in policy/downloads.toml): the URLs it lists are \
                 not reported",
                policy.max_file_size
            ));
        }
    }
    too_large.sort();
    summaries.warnings.append(&mut too_large);
    for finding in findings.iter_mut() {
        if !policy
            .file_kind(&finding.path, "")
            .is_some_and(|k| k.syntax.is_catalogue())
        {
            continue;
        }
        let reader = readers.get(file_name(&finding.path).as_str()).copied();
        let Some(download) = finding.download_mut() else {
            continue;
        };
        let why = match reader {
            Some((when, by)) => {
                download.when = when;
                format!("listed in a catalogue {by} reads")
            }
            None => {
                download.documentation = true;
                "listed in a catalogue no code of the tree names: documentation".to_string()
            }
        };
        download.reason = Some(match download.reason.take() {
            Some(entry) => format!("{why}; {entry}"),
            None => why,
        });
    }
}

/// Strongest first: what the build runs, then the program, then a person.
fn when_rank(when: When) -> u8 {
    match when {
        When::Build => 0,
        When::Run => 1,
        When::Manual => 2,
    }
}

/// Why a Python file with a `#!` line or a `__main__` guard is taken for a script run by
/// hand; [`run_packaged_modules`] takes it back when the file is a module of a package.
pub const STANDALONE_SCRIPT: &str = "in a standalone Python script";

/// A Python file that looks like a script (a `#!` line, a `__main__` guard) but lies beside an
/// `__init__.py` is a module of a package: `import` runs it, and its downloads outside the
/// guard run with the program (`fasttext/util/util.py` has a `#!` line; `gensim/downloader.py`
/// a command-line entry point).
fn run_packaged_modules(summaries: &Summaries<'_>, findings: &mut [Finding]) {
    for finding in findings.iter_mut() {
        let dir = finding.path.rsplit_once('/').map_or("", |(d, _)| d);
        let init = if dir.is_empty() {
            "__init__.py".to_string()
        } else {
            format!("{dir}/__init__.py")
        };
        if !summaries.by_rel.contains_key(init.as_str()) {
            continue;
        }
        let Some(download) = finding.download_mut() else {
            continue;
        };
        let Some(rest) = download
            .reason
            .as_deref()
            .and_then(|r| r.strip_prefix(STANDALONE_SCRIPT))
        else {
            continue;
        };
        if download.when == When::Manual && (rest.is_empty() || rest.starts_with("; ")) {
            download.when = When::Run;
            download.reason = rest.strip_prefix("; ").map(str::to_string);
        }
    }
}

/// The scripts the build runs, each with the file that runs it: breadth-first from the build
/// files, through what they run.
fn run_by_build<'a>(
    policy: &DownloadPolicy,
    files: &'a [(String, PathBuf)],
    summaries: &mut Summaries<'a>,
) -> HashMap<&'a str, &'a str> {
    let mut run_by = HashMap::new();
    let mut queue: VecDeque<&str> = files
        .iter()
        .map(|(rel, _)| rel.as_str())
        .filter(|rel| {
            policy
                .file_kind(rel, "")
                .is_some_and(|k| k.when == When::Build)
        })
        .collect();
    let mut visited: HashSet<&str> = queue.iter().copied().collect();
    while let Some(caller) = queue.pop_front() {
        let Some(summary) = summaries.get(caller) else {
            continue;
        };
        for word in &summary.runs {
            let Some(callee) = summaries.resolve_call(policy, caller, word) else {
                continue;
            };
            if visited.insert(callee) {
                run_by.insert(callee, caller);
                queue.push_back(callee);
            }
        }
    }
    run_by
}

/// Marks verified the unverified downloads whose line hands a full SHA-256 to a script that
/// checks one.
fn verify_by_checking_scripts(
    policy: &DownloadPolicy,
    summaries: &mut Summaries<'_>,
    findings: &mut [Finding],
) {
    let mut unverified: Vec<String> = Vec::new();
    let mut listed = HashSet::new();
    for finding in findings.iter() {
        if finding
            .download()
            .is_some_and(|d| d.verification == Verification::None)
            && listed.insert(finding.path.as_str())
        {
            unverified.push(finding.path.clone());
        }
    }
    let mut checks_sha256: HashMap<&str, bool> = HashMap::new();
    for rel in unverified {
        let Some(summary) = summaries.get(&rel) else {
            continue;
        };
        for (line, word) in &summary.hands_sha256 {
            let Some(callee) = summaries.resolve_call(policy, &rel, word) else {
                continue;
            };
            let checks = *checks_sha256
                .entry(callee)
                .or_insert_with(|| summaries.get(callee).is_some_and(|s| s.checks_sha256));
            if !checks {
                continue;
            }
            for finding in findings.iter_mut().filter(|f| f.path == rel) {
                if let Some(download) = finding.download_mut()
                    && download.line == *line
                    && download.verification == Verification::None
                {
                    download.verification = Verification::Sha256;
                }
            }
        }
    }
}
