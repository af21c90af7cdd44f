//! Steps that fetch model weights, in shell scripts, Makefiles, CMake files, autotools
//! scripts, batch and PowerShell files, Python code and documentation. Tables come from
//! `policy/downloads.toml`.
//!
//! Per file, [`scan`] reads logical lines, remembers variables defined in the file, expands
//! them in URLs, and reports a URL when it fetches weights:
//!
//! * a URL written in the line that is weight-like (weight file extension, model host, GitHub
//!   release asset with a model name) is reported wherever it stands;
//! * on a line that calls a model fetcher (`hf_hub_download`, `load_state_dict_from_url`, …)
//!   every URL is reported, and on a line with a generic fetch (`wget`, `curl`,
//!   `file(DOWNLOAD`, …) a URL is reported when it is weight-like or the URL, line or
//!   enclosing function/target mentions models;
//! * a URL assembled from variables is reported where it is used (fetched, or handed to a
//!   script), not where it is assigned; a weight-like URL assigned to a variable never used in
//!   the file is reported at its assignment. A URL used on several lines is reported once, on a
//!   fetch line when there is one.
//!
//! `url` is the expanded URL; `url_as_written` the text it came from, when they differ.
//! Verification is the strongest checksum check within `verification-window` lines of the
//! download or in the same function, Make target or CMake command.
//!
//! `when` starts from the file's kind (`build` for Make/CMake/autotools/setup.py, `run` for
//! Python library modules, `manual` otherwise); Make targets not reached from the default goal
//! or from `check`/`test`/`install` are `manual`. [`resolve_tree`] then follows what build files
//! run: a script named by a build file (or by a script it runs) gets `build`, and a download
//! whose line passes a full SHA-256 to a script that checks it with a SHA-256 tool is verified.

mod syntax;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::finding::{Details, Download};
use super::{Finding, Verification, When};
use syntax::{Line, LogicalLines, Syntax, Variables};

/// `policy/downloads.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DownloadPolicy {
    pub max_file_size: u64,
    pub verification_window: u64,
    pub min_hash_prefix: usize,
    pub weight_extensions: Vec<String>,
    pub compression_extensions: Vec<String>,
    pub model_hosts: Vec<String>,
    pub model_words: Vec<String>,
    pub model_fetchers: Vec<String>,
    pub generic_fetchers: Vec<String>,
    pub make_build_goals: Vec<String>,
    pub checks: Checks,
    pub python: PythonRule,
    pub file_kinds: Vec<FileKind>,
    pub calls: Calls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Checks {
    pub sha256: Vec<String>,
    pub sha1: Vec<String>,
    pub md5: Vec<String>,
    /// On a line with a SHA-256 check, these mean only a prefix of the digest is compared.
    pub prefix_markers: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PythonRule {
    pub script_dirs: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileKind {
    pub syntax: Syntax,
    pub when: When,
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub extensions: Vec<String>,
    #[serde(default)]
    pub shebangs: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Calls {
    pub root_prefixes: Vec<String>,
    pub dir_prefixes: Vec<String>,
}

impl DownloadPolicy {
    /// The kind of file `rel` whose first line is `first_line`: by name, then extension, then
    /// the interpreter named on a `#!` line.
    fn file_kind(&self, rel: &str, first_line: &str) -> Option<&FileKind> {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let ext = name
            .rsplit_once('.')
            .filter(|(stem, _)| !stem.is_empty())
            .map(|(_, ext)| ext.to_ascii_lowercase());
        let interpreter = shebang_interpreter(first_line);
        self.file_kinds
            .iter()
            .find(|k| k.names.iter().any(|n| n == name))
            .or_else(|| {
                let ext = ext.as_deref()?;
                self.file_kinds
                    .iter()
                    .find(|k| k.extensions.iter().any(|e| e == ext))
            })
            .or_else(|| {
                let interpreter = interpreter.as_deref()?;
                self.file_kinds.iter().find(|k| {
                    k.shebangs.iter().any(|s| {
                        interpreter
                            .strip_prefix(s.as_str())
                            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
                    })
                })
            })
    }

    fn has_model_word(&self, text: &str) -> bool {
        let lower = text.to_ascii_lowercase();
        self.model_words.iter().any(|w| lower.contains(w.as_str()))
    }

    /// Whether `url` names weights by itself: a model host, a GitHub release asset with a
    /// model name, or a weight file extension.
    fn weight_like(&self, url: &str) -> bool {
        let (host, path) = split_url(url);
        let on_model_host = self.model_hosts.iter().any(|entry| {
            let (h, prefix) = entry.split_once('/').unwrap_or((entry, ""));
            (host == h || host.ends_with(&format!(".{h}")))
                && path.starts_with(&format!("/{prefix}"))
        });
        let model_release = host == "github.com"
            && path.contains("/releases/download/")
            && self.has_model_word(path);
        on_model_host || model_release || self.weight_extension(url).is_some()
    }

    /// The weight file extension the URL's file name ends with, compression removed.
    fn weight_extension(&self, url: &str) -> Option<String> {
        let (_, path) = split_url(url);
        let mut name = path.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
        for _ in 0..2 {
            match name.rsplit_once('.') {
                Some((stem, ext)) if self.compression_extensions.iter().any(|c| c == ext) => {
                    name = stem.to_string();
                }
                _ => break,
            }
        }
        let (_, ext) = name.rsplit_once('.')?;
        self.weight_extensions
            .iter()
            .any(|w| w == ext)
            .then(|| ext.to_string())
    }

    /// The check a line performs, if any.
    fn check_on(&self, text: &str) -> Option<Check> {
        let has = |markers: &[String]| markers.iter().any(|m| text.contains(m.as_str()));
        if has(&self.checks.sha256) {
            Some(if has(&self.checks.prefix_markers) {
                Check::Sha256Cut
            } else {
                Check::Sha256
            })
        } else if has(&self.checks.sha1) {
            Some(Check::Sha1)
        } else if has(&self.checks.md5) {
            Some(Check::Md5)
        } else {
            None
        }
    }

    /// Whether the URL's file name holds a run of hex digits long enough to be a digest prefix.
    fn has_hash_prefix(&self, url: &str) -> bool {
        let (_, path) = split_url(url);
        let name = path.rsplit('/').next().unwrap_or("");
        name.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|part| {
                (self.min_hash_prefix..64).contains(&part.len())
                    && part.bytes().all(|b| b.is_ascii_hexdigit())
                    && part.bytes().any(|b| b.is_ascii_digit())
            })
    }

    /// Whether a Python file is a script rather than library code.
    fn python_is_script(&self, rel: &str, shebang: bool, main_guard: bool) -> bool {
        let mut dirs = rel.split('/').collect::<Vec<_>>();
        dirs.pop();
        shebang
            || main_guard
            || dirs
                .iter()
                .any(|d| self.python.script_dirs.iter().any(|s| s == d))
    }
}

/// The interpreter a `#!` line names (`/usr/bin/env python3` → `python3`).
fn shebang_interpreter(first_line: &str) -> Option<String> {
    let rest = first_line.strip_prefix("#!")?;
    let mut words = rest.split_whitespace();
    let program = words.next()?.rsplit('/').next()?;
    if program == "env" {
        words
            .find(|w| !w.starts_with('-'))
            .map(|w| w.rsplit('/').next().unwrap_or(w).to_string())
    } else {
        Some(program.to_string())
    }
}

/// Lower-case host (no port, no credentials) and path (no query or fragment) of a URL.
fn split_url(url: &str) -> (String, &str) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = host.split(':').next().unwrap_or(host);
    (host.to_ascii_lowercase(), path)
}

/// `needle` in `text` as a whole word at its alphanumeric ends (`curl` does not match
/// `libcurl`).
fn contains_word(text: &str, needle: &str) -> bool {
    let word_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let starts_word = needle.starts_with(word_char);
    let ends_word = needle.ends_with(word_char);
    text.match_indices(needle).any(|(at, _)| {
        let before_ok = !starts_word || !text[..at].ends_with(word_char);
        let after_ok = !ends_word || !text[at + needle.len()..].starts_with(word_char);
        before_ok && after_ok
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Sha256,
    /// A SHA-256 of which only a prefix is compared.
    Sha256Cut,
    Sha1,
    Md5,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fetch {
    None,
    Generic,
    Model,
}

/// A download found in one file, before `when` and verification are settled.
#[derive(Debug, Clone)]
struct Report {
    line: u64,
    block: u32,
    url: String,
    as_written: Option<String>,
    on_fetch_line: bool,
}

/// A weight-like URL assigned to a variable, reported at the assignment if never fetched.
#[derive(Debug, Clone)]
struct Deferred {
    name: String,
    report: Report,
}

/// A word that may name a script this file runs.
#[derive(Debug, Clone)]
struct Call {
    line: u64,
    block: u32,
    word: String,
    passes_sha256: bool,
}

/// A Make rule: its targets and prerequisites (expanded), and its block.
#[derive(Debug, Clone)]
struct Rule {
    targets: Vec<String>,
    prerequisites: Vec<String>,
    block: u32,
}

/// Everything learnt from reading one file.
struct FileState<'a> {
    policy: &'a DownloadPolicy,
    syntax: Syntax,
    vars: Variables,
    block: u32,
    blocks_opened: u32,
    block_names: HashMap<u32, String>,
    python_defs: Vec<(usize, u32)>,
    make_target: Option<String>,
    rules: Vec<Rule>,
    main_guard: bool,
    checks: Vec<(u64, u32, Check)>,
    reports: Vec<Report>,
    deferred: Vec<Deferred>,
    used_vars: HashSet<String>,
    /// The variables each variable's value was made from, so using it uses them too.
    made_from: HashMap<String, Vec<String>>,
    calls: Vec<Call>,
}

/// Most calls a file may record; a real build file names far fewer.
const MAX_CALLS: usize = 10_000;

impl<'a> FileState<'a> {
    fn new(policy: &'a DownloadPolicy, syntax: Syntax) -> Self {
        Self {
            policy,
            syntax,
            vars: Variables::default(),
            block: 0,
            blocks_opened: 0,
            block_names: HashMap::new(),
            python_defs: Vec::new(),
            make_target: None,
            rules: Vec::new(),
            main_guard: false,
            checks: Vec::new(),
            reports: Vec::new(),
            deferred: Vec::new(),
            used_vars: HashSet::new(),
            made_from: HashMap::new(),
            calls: Vec::new(),
        }
    }

    /// Reads every logical line of `reader`.
    fn read<R: BufRead>(policy: &'a DownloadPolicy, syntax: Syntax, reader: R) -> io::Result<Self> {
        let mut state = Self::new(policy, syntax);
        let mut lines = LogicalLines::new(reader, syntax);
        while let Some(line) = lines.next_line()? {
            state.line(&line);
        }
        Ok(state)
    }

    fn open_block(&mut self, name: &str) -> u32 {
        self.blocks_opened += 1;
        self.block = self.blocks_opened;
        self.block_names.insert(self.block, name.to_string());
        self.block
    }

    fn block_name(&self, block: u32) -> &str {
        self.block_names.get(&block).map_or("", String::as_str)
    }

    /// Tracks the function, target or label a line belongs to.
    fn update_block(&mut self, line: &Line) {
        let text = line.text.as_str();
        let trimmed = text.trim();
        match self.syntax {
            Syntax::Make => {
                if text.starts_with('\t') {
                    return;
                }
                self.make_target = None;
                self.block = 0;
                if syntax::assignment(Syntax::Make, text).is_some() {
                    return;
                }
                let Some((targets, prerequisites)) = trimmed.split_once(':') else {
                    return;
                };
                let targets = syntax::expand(Syntax::Make, targets, &self.vars, None).text;
                let prerequisites = prerequisites.split(';').next().unwrap_or("");
                let prerequisites =
                    syntax::expand(Syntax::Make, prerequisites, &self.vars, None).text;
                let targets: Vec<String> = targets.split_whitespace().map(String::from).collect();
                if targets.is_empty() || targets[0].starts_with('.') {
                    return;
                }
                let block = self.open_block(&targets.join(" "));
                self.make_target = targets.first().cloned();
                self.rules.push(Rule {
                    targets,
                    prerequisites: prerequisites
                        .split_whitespace()
                        .filter(|p| *p != "|")
                        .map(String::from)
                        .collect(),
                    block,
                });
            }
            Syntax::Shell | Syntax::Powershell => {
                if text.starts_with('}') {
                    self.block = 0;
                } else if let Some(name) = shell_function(trimmed) {
                    self.open_block(&name);
                }
            }
            Syntax::Python => {
                let indent = text.len() - text.trim_start().len();
                while self.python_defs.last().is_some_and(|(i, _)| indent <= *i) {
                    self.python_defs.pop();
                }
                self.block = self.python_defs.last().map_or(0, |(_, b)| *b);
                let def = trimmed
                    .strip_prefix("async ")
                    .unwrap_or(trimmed)
                    .strip_prefix("def ");
                if let Some(rest) = def {
                    let name = rest.split('(').next().unwrap_or("").trim().to_string();
                    let block = self.open_block(&name);
                    self.python_defs.push((indent, block));
                }
                if trimmed.starts_with("if __name__") && trimmed.contains("__main__") {
                    self.main_guard = true;
                }
            }
            Syntax::Cmake => {
                let command = trimmed.split('(').next().unwrap_or("").trim();
                let command = command.to_ascii_lowercase();
                if command == "function" || command == "macro" {
                    let inner = trimmed.split_once('(').map_or("", |(_, r)| r);
                    let name = inner.split([' ', ')']).next().unwrap_or("").to_string();
                    self.open_block(&name);
                } else if command == "endfunction" || command == "endmacro" {
                    self.block = 0;
                }
            }
            Syntax::Batch => {
                if let Some(label) = trimmed.strip_prefix(':') {
                    self.open_block(label.trim());
                }
            }
            Syntax::Docs => {}
        }
    }

    fn line(&mut self, line: &Line) {
        self.update_block(line);
        if let Some(check) = self.policy.check_on(&line.text) {
            self.checks.push((line.number, self.block, check));
        }
        let fetch = self.fetch_kind(&line.text);
        let assigned = self.assign(line, fetch);
        if !assigned || fetch != Fetch::None {
            self.find_downloads(line, fetch);
        }
        self.find_calls(line);
    }

    fn fetch_kind(&self, text: &str) -> Fetch {
        let any = |list: &[String]| list.iter().any(|f| contains_word(text, f));
        if any(&self.policy.model_fetchers) {
            Fetch::Model
        } else if any(&self.policy.generic_fetchers) {
            Fetch::Generic
        } else {
            Fetch::None
        }
    }

    /// Records a variable assignment; returns whether the line is one.
    fn assign(&mut self, line: &Line, fetch: Fetch) -> bool {
        let (name, value, as_written, made_from) = match self.syntax {
            Syntax::Docs => return false,
            Syntax::Python => match syntax::python_assignment(&line.text, &self.vars) {
                None => return false,
                Some((name, None)) => {
                    self.vars.remove(Syntax::Python, &name);
                    return true;
                }
                Some((name, Some(value))) => {
                    let written = (!value.used.is_empty()).then_some(value.source);
                    (name, value.value, written, value.used)
                }
            },
            syntax => match syntax::assignment(syntax, &line.text) {
                None => return false,
                Some(assignment) => {
                    let expanded = syntax::expand(syntax, &assignment.value, &self.vars, None);
                    let mut value = expanded.text;
                    if assignment.append
                        && let Some(old) = self.vars.get(syntax, &assignment.name)
                    {
                        value = format!("{old} {value}");
                    }
                    let written = (!expanded.used.is_empty()).then_some(assignment.value.clone());
                    (assignment.name, value, written, expanded.used)
                }
            },
        };
        if fetch == Fetch::None {
            for (_, url) in syntax::find_urls(&value) {
                if self.policy.weight_like(url) {
                    self.deferred.push(Deferred {
                        name: name.clone(),
                        report: Report {
                            line: line.number,
                            block: self.block,
                            url: url.to_string(),
                            as_written: as_written.clone(),
                            on_fetch_line: false,
                        },
                    });
                }
            }
        }
        self.vars.set(self.syntax, &name, value);
        self.made_from.insert(name, made_from);
        true
    }

    /// Marks variables as used, with those their values were made from.
    fn mark_used(&mut self, names: Vec<String>) {
        let mut pending = names;
        while let Some(name) = pending.pop() {
            if self.used_vars.insert(name.clone())
                && let Some(sources) = self.made_from.get(&name)
            {
                pending.extend(sources.iter().cloned());
            }
        }
    }

    /// The URLs of a line: (expanded URL, text as written when it was assembled, variables).
    fn urls(&self, line: &Line) -> Vec<(String, Option<String>, Vec<String>)> {
        let mut out = Vec::new();
        if self.syntax == Syntax::Python {
            for string in syntax::python_strings(&line.text, &self.vars) {
                for (_, url) in syntax::find_urls(&string.value) {
                    let written = (!string.used.is_empty()).then(|| string.source.clone());
                    out.push((url.to_string(), written, string.used.clone()));
                }
            }
            return out;
        }
        let target = self.make_target.as_deref();
        for word in line
            .text
            .split(|c: char| c.is_whitespace() || "\"'`".contains(c))
        {
            if word.is_empty() {
                continue;
            }
            let expanded = syntax::expand(self.syntax, word, &self.vars, target);
            for (_, url) in syntax::find_urls(&expanded.text) {
                let written = (!expanded.used.is_empty()).then(|| {
                    let start = ["://", "$", "%"]
                        .iter()
                        .filter_map(|m| word.find(m))
                        .min()
                        .unwrap_or(0);
                    let start = word[..start]
                        .rfind(|c: char| !c.is_ascii_alphabetic())
                        .map_or(0, |i| i + 1)
                        .min(start);
                    balanced_end(word[start..].trim_end_matches([';', ','])).to_string()
                });
                out.push((url.to_string(), written, expanded.used.clone()));
            }
        }
        out
    }

    fn find_downloads(&mut self, line: &Line, fetch: Fetch) {
        for (url, as_written, used) in self.urls(line) {
            let report = match fetch {
                Fetch::Model => true,
                Fetch::Generic => {
                    self.policy.weight_like(&url)
                        || self.policy.has_model_word(&url)
                        || self.policy.has_model_word(&line.text)
                        || self.policy.has_model_word(self.block_name(self.block))
                }
                Fetch::None => self.policy.weight_like(&url),
            };
            if !report {
                continue;
            }
            self.mark_used(used);
            self.reports.push(Report {
                line: line.number,
                block: self.block,
                url,
                as_written,
                on_fetch_line: fetch != Fetch::None,
            });
        }
    }

    /// Words that may be paths of scripts this file runs.
    fn find_calls(&mut self, line: &Line) {
        if self.calls.len() >= MAX_CALLS || self.syntax == Syntax::Docs {
            return;
        }
        let target = self.make_target.as_deref();
        let expanded = syntax::expand(self.syntax, &line.text, &self.vars, target).text;
        let passes_sha256 = expanded
            .split(|c: char| !c.is_ascii_hexdigit())
            .any(|w| w.len() == 64);
        for word in expanded.split(|c: char| c.is_whitespace() || "\"'`();|&".contains(c)) {
            if word.contains("://") || word.is_empty() {
                continue;
            }
            let named_script = word.contains('/')
                || word
                    .rsplit_once('.')
                    .is_some_and(|(_, ext)| ["sh", "py", "bat", "cmd", "ps1"].contains(&ext));
            if named_script {
                self.calls.push(Call {
                    line: line.number,
                    block: self.block,
                    word: word.to_string(),
                    passes_sha256,
                });
            }
        }
    }

    /// Make blocks whose targets are not reached from the goals a package build runs.
    fn unreached_make_blocks(&self) -> HashSet<u32> {
        if self.syntax != Syntax::Make {
            return HashSet::new();
        }
        let mut goals: Vec<String> = self.policy.make_build_goals.clone();
        if let Some(default) = self
            .rules
            .iter()
            .flat_map(|r| r.targets.first())
            .find(|t| !t.contains('%'))
        {
            goals.push(default.clone());
        }
        let mut reached: HashSet<String> = HashSet::new();
        let mut queue: VecDeque<String> = goals.into_iter().collect();
        let mut reached_blocks = HashSet::new();
        while let Some(goal) = queue.pop_front() {
            if !reached.insert(goal.clone()) {
                continue;
            }
            for rule in &self.rules {
                if rule.targets.iter().any(|t| make_matches(t, &goal)) {
                    reached_blocks.insert(rule.block);
                    queue.extend(rule.prerequisites.iter().cloned());
                }
            }
        }
        self.rules
            .iter()
            .map(|r| r.block)
            .filter(|b| !reached_blocks.contains(b))
            .collect()
    }

    /// The strongest check applying to a download.
    fn verification(&self, report: &Report) -> Verification {
        let window = self.policy.verification_window;
        self.checks
            .iter()
            .filter(|(line, block, _)| {
                (*block != 0 && *block == report.block) || line.abs_diff(report.line) <= window
            })
            .filter_map(|(_, _, check)| match check {
                Check::Sha256 => Some(Verification::Sha256),
                Check::Sha256Cut => self
                    .policy
                    .has_hash_prefix(&report.url)
                    .then_some(Verification::Sha256Prefix),
                Check::Sha1 => Some(Verification::Sha1),
                Check::Md5 => Some(Verification::Md5),
            })
            .min_by_key(|v| verification_rank(*v))
            .unwrap_or(Verification::None)
    }

    /// The downloads of the file, one per URL (the first on a fetch line, else the first).
    fn findings(&self, rel: &str, size: u64, kind: &FileKind, shebang: bool) -> Vec<Finding> {
        let mut reports: Vec<Report> = Vec::new();
        let unused = self
            .deferred
            .iter()
            .filter(|d| !self.used_vars.contains(&d.name))
            .map(|d| d.report.clone());
        for report in self.reports.iter().cloned().chain(unused) {
            match reports.iter_mut().find(|r| r.url == report.url) {
                Some(existing) if !existing.on_fetch_line && report.on_fetch_line => {
                    *existing = report;
                }
                Some(_) => {}
                None => reports.push(report),
            }
        }
        reports.sort_by_key(|r| r.line);
        let unreached = self.unreached_make_blocks();
        let script = self.syntax == Syntax::Python
            && kind.when == When::Run
            && self.policy.python_is_script(rel, shebang, self.main_guard);
        reports
            .into_iter()
            .map(|report| {
                let format = self
                    .policy
                    .weight_extension(&report.url)
                    .unwrap_or_else(|| "unknown".to_string());
                let (when, reason) = if unreached.contains(&report.block) {
                    let target = self.block_name(report.block);
                    let why = format!("in Make target `{target}`, which no build goal reaches");
                    (When::Manual, Some(why))
                } else if script {
                    let why = "in a standalone Python script".to_string();
                    (When::Manual, Some(why))
                } else {
                    (kind.when, None)
                };
                let download = Download {
                    reason,
                    line: report.line,
                    verification: self.verification(&report),
                    when,
                    url_as_written: report.as_written.filter(|w| *w != report.url),
                    url: report.url,
                };
                Finding::new(rel, format, size, Details::Download(download))
            })
            .collect()
    }
}

/// `text` without closing parentheses that close nothing opened in it (`$(URL))` → `$(URL)`).
fn balanced_end(mut text: &str) -> &str {
    while text.ends_with(')') && text.matches(')').count() > text.matches('(').count() {
        text = &text[..text.len() - 1];
    }
    text
}

/// Strongest first.
fn verification_rank(v: Verification) -> u8 {
    match v {
        Verification::Sha256 => 0,
        Verification::Sha256Prefix => 1,
        Verification::Sha1 => 2,
        Verification::Md5 => 3,
        Verification::None => 4,
    }
}

/// A Make target or pattern (`%.bin`) matching `name`.
fn make_matches(target: &str, name: &str) -> bool {
    match target.split_once('%') {
        Some((prefix, suffix)) => {
            name.len() >= prefix.len() + suffix.len()
                && name.starts_with(prefix)
                && name.ends_with(suffix)
        }
        None => target == name,
    }
}

/// The name of a shell or PowerShell function a line opens (`name() {`, `function name {`).
fn shell_function(trimmed: &str) -> Option<String> {
    let rest = trimmed.strip_prefix("function ").map(str::trim_start);
    let body = rest.unwrap_or(trimmed);
    let end = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(body.len());
    let (name, after) = body.split_at(end);
    let after = after.trim_start();
    let opens = if rest.is_some() {
        after.is_empty() || after.starts_with('{') || after.starts_with("()")
    } else {
        after.starts_with("()")
    };
    (!name.is_empty() && opens).then(|| name.to_string())
}

/// The first line of a buffered reader, without consuming it.
fn peek_first_line<R: BufRead>(reader: &mut R) -> io::Result<String> {
    let head = reader.fill_buf()?;
    let end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    Ok(String::from_utf8_lossy(&head[..end]).trim_end().to_string())
}

/// Finds the download steps in the text file `rel` (`size` bytes), read from `reader`
/// positioned at its start.
pub fn scan<R: Read>(
    policy: &DownloadPolicy,
    reader: R,
    rel: &str,
    size: u64,
) -> io::Result<Vec<Finding>> {
    if size > policy.max_file_size {
        return Ok(Vec::new());
    }
    let mut reader = BufReader::new(reader.take(policy.max_file_size));
    let first = peek_first_line(&mut reader)?;
    let Some(kind) = policy.file_kind(rel, &first) else {
        return Ok(Vec::new());
    };
    let state = FileState::read(policy, kind.syntax, reader)?;
    Ok(state.findings(rel, size, kind, first.starts_with("#!")))
}

/// Reads a file of the tree for the tree-level pass.
fn read_state<'a>(
    policy: &'a DownloadPolicy,
    rel: &str,
    path: &Path,
) -> io::Result<Option<(FileState<'a>, Syntax)>> {
    let file = File::open(path)?;
    if file.metadata()?.len() > policy.max_file_size {
        return Ok(None);
    }
    let mut reader = BufReader::new(file.take(policy.max_file_size));
    let first = peek_first_line(&mut reader)?;
    let Some(kind) = policy.file_kind(rel, &first) else {
        return Ok(None);
    };
    let syntax = kind.syntax;
    Ok(Some((FileState::read(policy, syntax, reader)?, syntax)))
}

/// Resolves a word naming a script, as written in `caller`, to a file of the tree.
fn resolve_call(
    policy: &DownloadPolicy,
    caller: &str,
    word: &str,
    files: &HashMap<&str, &PathBuf>,
) -> Option<String> {
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
    candidates
        .into_iter()
        .find(|c| c != caller && files.contains_key(c.as_str()))
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

/// The tree-level pass, run once on the final findings of a scan whose files are `files`
/// (path relative to the scanned root, path on disk). Scripts run by build files (directly or through
/// other scripts) get `when = build`; a download step that passes a full SHA-256 to a script
/// checking it with a SHA-256 tool gets `verification = sha256`. Returns warnings for files
/// that could not be read.
pub fn resolve_tree(
    policy: &DownloadPolicy,
    files: &[(String, PathBuf)],
    findings: &mut [Finding],
) -> Vec<String> {
    let mut warnings = Vec::new();
    let by_rel: HashMap<&str, &PathBuf> = files.iter().map(|(r, p)| (r.as_str(), p)).collect();
    let mut read = |rel: &str| -> Option<(FileState<'_>, Syntax)> {
        let path = by_rel.get(rel)?;
        match read_state(policy, rel, path) {
            Ok(state) => state,
            Err(err) => {
                warnings.push(format!("{rel}: {err}"));
                None
            }
        }
    };

    // Scripts run by the build: breadth-first from the build files, through what they run.
    let mut run_by: HashMap<String, String> = HashMap::new();
    let mut queue: VecDeque<String> = files
        .iter()
        .filter(|(rel, _)| {
            policy
                .file_kind(rel, "")
                .is_some_and(|k| k.when == When::Build)
        })
        .map(|(rel, _)| rel.clone())
        .collect();
    let mut visited: HashSet<String> = queue.iter().cloned().collect();
    while let Some(caller) = queue.pop_front() {
        let Some((state, _)) = read(&caller) else {
            continue;
        };
        let unreached = state.unreached_make_blocks();
        for call in state.calls.iter().filter(|c| !unreached.contains(&c.block)) {
            let Some(callee) = resolve_call(policy, &caller, &call.word, &by_rel) else {
                continue;
            };
            if visited.insert(callee.clone()) {
                run_by.insert(callee.clone(), caller.clone());
                queue.push_back(callee);
            }
        }
    }
    for finding in findings.iter_mut() {
        let Details::Download(download) = &mut finding.details else {
            continue;
        };
        if download.when != When::Manual {
            continue;
        }
        let Some(caller) = run_by.get(&finding.path) else {
            continue;
        };
        let documentation = policy
            .file_kind(&finding.path, "")
            .is_some_and(|k| k.syntax == Syntax::Docs);
        if !documentation {
            download.when = When::Build;
            download.reason = Some(format!("run by the build: {caller} calls it"));
        }
    }

    // Downloads whose line hands a SHA-256 to a checking script.
    let unverified: HashSet<String> = findings
        .iter()
        .filter(|f| {
            matches!(
                f.details,
                Details::Download(Download {
                    verification: Verification::None,
                    ..
                })
            )
        })
        .map(|f| f.path.clone())
        .collect();
    let mut checking_scripts: HashMap<String, bool> = HashMap::new();
    for rel in unverified {
        let Some((state, _)) = read(&rel) else {
            continue;
        };
        for call in state.calls.iter().filter(|c| c.passes_sha256) {
            let Some(callee) = resolve_call(policy, &rel, &call.word, &by_rel) else {
                continue;
            };
            let checks = *checking_scripts.entry(callee.clone()).or_insert_with(|| {
                read(&callee)
                    .is_some_and(|(s, _)| s.checks.iter().any(|(_, _, c)| *c == Check::Sha256))
            });
            if !checks {
                continue;
            }
            for finding in findings.iter_mut().filter(|f| f.path == rel) {
                if let Details::Download(download) = &mut finding.details
                    && download.line == call.line
                    && download.verification == Verification::None
                {
                    download.verification = Verification::Sha256;
                }
            }
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> DownloadPolicy {
        crate::policy::PolicySource::embedded()
            .table("downloads.toml")
            .unwrap()
    }

    #[test]
    fn weight_urls_by_extension_host_and_release_name() {
        let p = policy();
        assert!(p.weight_like("https://example.org/a/net.safetensors"));
        assert!(p.weight_like("https://example.org/a/net.onnx.xz?raw=1"));
        assert!(p.weight_like("https://huggingface.co/org/repo"));
        assert!(p.weight_like("https://github.com/o/r/releases/download/v1/models.tar.gz"));
        assert!(!p.weight_like("https://github.com/o/r/releases/download/v1/src.tar.gz"));
        assert!(!p.weight_like("https://example.org/"));
        assert!(!p.weight_like("https://storage.googleapis.com/other/x.tar"));
        assert_eq!(
            p.weight_extension("https://x/m.pt.gz").as_deref(),
            Some("pt")
        );
    }

    #[test]
    fn file_kinds_by_name_extension_and_shebang() {
        let p = policy();
        let syntax = |rel: &str, first: &str| p.file_kind(rel, first).map(|k| (k.syntax, k.when));
        assert_eq!(syntax("a/Makefile", ""), Some((Syntax::Make, When::Build)));
        assert_eq!(syntax("autogen.sh", ""), Some((Syntax::Shell, When::Build)));
        assert_eq!(syntax("x/get.sh", ""), Some((Syntax::Shell, When::Manual)));
        assert_eq!(
            syntax("bin/fetch", "#!/usr/bin/env python3"),
            Some((Syntax::Python, When::Run))
        );
        assert_eq!(syntax("x/data.c", ""), None);
    }

    #[test]
    fn hash_prefixes_in_names() {
        let p = policy();
        assert!(p.has_hash_prefix("https://h/resnet18-f37072fd.pth"));
        assert!(!p.has_hash_prefix("https://h/model-deadbeef.bin"));
        assert!(!p.has_hash_prefix("https://h/model-v1.bin"));
    }

    #[test]
    fn function_openings() {
        assert_eq!(
            shell_function("fetch_model() {").as_deref(),
            Some("fetch_model")
        );
        assert_eq!(shell_function("function get {").as_deref(), Some("get"));
        assert_eq!(shell_function("wget x"), None);
    }
}
