//! The per-file pass: reads one file's logical lines in its language and collects the
//! downloads it makes, the checksum checks near them, and the scripts it may run.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead};
use std::rc::Rc;

use super::hub::{self, HubFetch};
use super::policy::{Check, DownloadPolicy, FileKind, Language};
use super::syntax::{
    Blocks, ExpansionLimits, Line, LogicalLines, ScriptUse, Syntax, Variables, find_urls,
};
use super::tree::STANDALONE_SCRIPT;
use super::tree::{CatalogueRead, Summary};
use crate::scan::finding::{Details, Download, Hub};
use crate::scan::{Finding, Verification, When};

/// How a line fetches what its URLs name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fetch {
    None,
    /// A command that fetches anything (`wget`, `curl`, `file(DOWNLOAD`): a URL is a download
    /// when something says it is about models.
    Generic,
    /// A call that fetches models (`hf_hub_download`, …): every URL is a download.
    Model,
    /// A build command that fetches code (`ExternalProject_Add`, `FetchContent_Declare`,
    /// `file(DOWNLOAD`): every URL is a download, of code unless it names weights.
    Code,
}

/// A download found in one file, before `when` and verification are settled.
#[derive(Debug, Clone)]
struct Report {
    line: u64,
    block: u32,
    /// The URL fetched; none for a hub call naming only a repository.
    url: Option<String>,
    /// Shared by the URLs of one line or value: a line can hold hundreds of them.
    as_written: Option<Rc<str>>,
    on_fetch_line: bool,
    hub: Option<Hub>,
    /// A check the call makes itself (`md5_hash=`, `file_hash=`).
    checked: Option<Verification>,
    /// The format, when the URL's file name is not what says it.
    format: Option<String>,
    dataset: bool,
    note: Option<String>,
    /// Written in prose inside code (a docstring): documentation for the reader.
    prose: bool,
    /// Only checks on its own logical line apply: a CMake command that fetches code carries
    /// its own `URL_HASH`/`EXPECTED_HASH`, and a neighbour's says nothing of it.
    own_checks_only: bool,
}

impl Report {
    /// A URL found on a line.
    fn of_url(line: u64, block: u32, url: String, as_written: Option<Rc<str>>) -> Self {
        Self {
            line,
            block,
            url: Some(url),
            as_written,
            on_fetch_line: false,
            hub: None,
            checked: None,
            format: None,
            dataset: false,
            note: None,
            prose: false,
            own_checks_only: false,
        }
    }

    /// Whether `other`, the same download, tells more of it: code that fetches it rather
    /// than a mention, code rather than a docstring.
    fn outranked_by(&self, other: &Report) -> bool {
        (!self.on_fetch_line && other.on_fetch_line) || (self.prose && !other.prose)
    }

    /// What makes two reports the same download: the URL, else the hub call and its line.
    fn key(&self) -> String {
        match (&self.url, &self.hub) {
            (Some(url), _) => url.clone(),
            (None, Some(hub)) => format!("{}\0{hub:?}", self.line),
            (None, None) => self.line.to_string(),
        }
    }
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

/// Most calls (and weight-like URLs assigned to variables) a file may record; a real build
/// file names far fewer.
const MAX_CALLS: usize = 10_000;

/// Everything learnt from reading one file.
pub struct FileState<'a> {
    policy: &'a DownloadPolicy,
    /// The file's path relative to the scanned root.
    rel: String,
    syntax: Box<dyn Syntax>,
    vars: Variables,
    blocks: Blocks,
    checks: Vec<(u64, u32, Check)>,
    reports: Vec<Report>,
    /// Where each report's key is in `reports`.
    report_at: HashMap<String, usize>,
    deferred: Vec<Deferred>,
    used_vars: HashSet<String>,
    /// The variables each variable's value was made from, so using it uses them too.
    made_from: HashMap<String, Vec<String>>,
    calls: Vec<Call>,
    /// Catalogues the file names (`"models.yml"`): their file names, with the line's block.
    catalogues: Vec<(u32, String)>,
    /// Functions that fetch (`dl() { curl -o "$2" "$1"; }`): calling one is a fetch.
    fetching_functions: HashSet<String>,
    /// The first line where variable expansion stopped at a policy cap.
    limited_at: Option<u64>,
    /// Variables holding a digest of a known algorithm (`expected_hash = info["md5"]`).
    digest_variables: HashMap<String, Check>,
}

impl<'a> FileState<'a> {
    /// Reads every logical line of `reader`, a file read by `syntax`. When the prefilter
    /// found nothing a download or check is made of (`may_fetch` false), lines are read only
    /// for the variables and the scripts they run.
    pub fn read<R: BufRead>(
        policy: &'a DownloadPolicy,
        rel: &str,
        syntax: Box<dyn Syntax>,
        reader: R,
        may_fetch: bool,
    ) -> io::Result<Self> {
        let mut state = Self {
            policy,
            rel: rel.to_string(),
            vars: Variables::new(syntax.names_ignore_case()).with_limits(ExpansionLimits {
                max_expanded_length: policy.max_expanded_length,
                max_expansions: policy.max_expansions,
            }),
            syntax,
            blocks: Blocks::default(),
            checks: Vec::new(),
            reports: Vec::new(),
            report_at: HashMap::new(),
            deferred: Vec::new(),
            used_vars: HashSet::new(),
            made_from: HashMap::new(),
            calls: Vec::new(),
            catalogues: Vec::new(),
            fetching_functions: HashSet::new(),
            limited_at: None,
            digest_variables: HashMap::new(),
        };
        let mut lines = LogicalLines::new(reader);
        while let Some(line) = lines.next_line(&*state.syntax)? {
            if may_fetch {
                state.line(&line);
            } else {
                state.calls_only(&line);
            }
            if state.vars.limited.take() && state.limited_at.is_none() {
                state.limited_at = Some(line.number);
            }
        }
        Ok(state)
    }

    /// A line of a file without any download: what the tree pass needs of it.
    fn calls_only(&mut self, line: &Line) {
        self.syntax
            .track_block(&line.text, &self.vars, &mut self.blocks);
        self.assign(line, Fetch::None);
        self.find_calls(line);
    }

    fn line(&mut self, line: &Line) {
        let substituted = self.syntax.substitute_commands(&line.text);
        let line = &Line {
            number: line.number,
            text: substituted.into_owned(),
        };
        self.syntax
            .track_block(&line.text, &self.vars, &mut self.blocks);
        self.note_digest_variable(line);
        let check = self
            .policy
            .check_on(&line.text)
            .or_else(|| self.compares_digest_variable(&line.text));
        if let Some(check) = check {
            self.checks
                .push((line.number, self.blocks.current(), check));
        }
        let fetch = self.fetch_kind(&line.text);
        let block = self.blocks.current();
        if fetch != Fetch::None && block != 0 && self.fetching_functions.len() < MAX_CALLS {
            self.fetching_functions
                .insert(self.blocks.name(block).to_string());
        }
        self.note_choices(line);
        self.find_hub_calls(line);
        let assigned = self.assign(line, fetch);
        // An assignment's URLs wait for the variable to be used, unless the line also fetches.
        if !assigned || fetch != Fetch::None {
            self.find_downloads(line, fetch);
        }
        self.find_calls(line);
    }

    /// How the line fetches: by a fetch command or call written in it, one held in a variable
    /// (`$wget_or_curl "$url"`), or a call of a function that fetches.
    fn fetch_kind(&self, text: &str) -> Fetch {
        let written = self.fetch_written(text);
        if written != Fetch::None {
            return written;
        }
        if self.syntax.fetches(self.policy, text) {
            return Fetch::Generic;
        }
        let first = self.syntax.command_name(text);
        if let Some(name) = first
            && self.fetching_functions.contains(name)
        {
            return Fetch::Generic;
        }
        match first {
            Some(command) if self.syntax.reference(command, &self.vars).is_some() => {
                self.fetch_written(&self.syntax.expand(command, &self.vars).text)
            }
            _ => Fetch::None,
        }
    }

    fn fetch_written(&self, text: &str) -> Fetch {
        let any = |list: &[String]| list.iter().any(|f| contains_word(text, f));
        if any(&self.policy.code_fetchers) {
            Fetch::Code
        } else if any(&self.policy.model_fetchers) {
            Fetch::Model
        } else if any(&self.policy.generic_fetchers) {
            Fetch::Generic
        } else {
            Fetch::None
        }
    }

    /// Remembers a variable read from a value named after a digest algorithm
    /// (`expected_hash = file_info["md5_digest"]`), so that comparing it checks with that
    /// algorithm.
    fn note_digest_variable(&mut self, line: &Line) {
        if self.digest_variables.len() >= MAX_CALLS {
            return;
        }
        let Some(assignment) = self.syntax.assignment(&line.text, &self.vars) else {
            return;
        };
        let value = line.text.split_once('=').map_or("", |(_, v)| v);
        match self.policy.algorithm_named(value) {
            Some(check) => {
                self.digest_variables.insert(assignment.name, check);
            }
            None => {
                self.digest_variables.remove(&assignment.name);
            }
        }
    }

    /// Remembers a guard restricting a name to literal strings (`assert model_type in
    /// {'gpt2', 'gpt2-xl'}`), so that a hub call given the name fetches each of them.
    fn note_choices(&mut self, line: &Line) {
        if let Some((name, values)) = self.syntax.choices(&line.text, &self.vars) {
            self.vars.set_choices(&name, values);
        }
    }

    /// The check a comparison of a digest variable makes (`if expected_hash != actual_hash:`).
    fn compares_digest_variable(&self, text: &str) -> Option<Check> {
        if self.digest_variables.is_empty() || !self.policy.compares(text) {
            return None;
        }
        text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .find_map(|word| self.digest_variables.get(word).copied())
    }

    /// The first line where variable expansion stopped at a policy cap, if any.
    pub fn limited_at(&self) -> Option<u64> {
        self.limited_at
    }

    /// Records a variable assignment; returns whether the line assigns a value it evaluated.
    fn assign(&mut self, line: &Line, fetch: Fetch) -> bool {
        // `>>> url = "…"` in a docstring assigns nothing.
        if self.syntax.is_prose() {
            return false;
        }
        let Some(assignment) = self.syntax.assignment(&line.text, &self.vars) else {
            return false;
        };
        // A value that cannot be evaluated (a dict of URLs, a call) leaves the variable unknown
        // and the line's URLs to be searched as on any other line.
        let Some(value) = assignment.value else {
            self.vars.remove(&assignment.name);
            return false;
        };
        if fetch == Fetch::None {
            let as_written: Option<Rc<str>> = value.as_written.as_deref().map(Rc::from);
            let mut seen = HashSet::new();
            for (_, url) in find_urls(&value.text) {
                if self.deferred.len() < MAX_CALLS
                    && seen.insert(url)
                    && self.policy.weight_like(url)
                {
                    self.deferred.push(Deferred {
                        name: assignment.name.clone(),
                        report: Report::of_url(
                            line.number,
                            self.blocks.current(),
                            url.to_string(),
                            as_written.clone(),
                        ),
                    });
                }
            }
        }
        self.vars.set(&assignment.name, value.text);
        self.made_from.insert(assignment.name, value.made_from);
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

    /// The hub calls of a line (`from_pretrained("gpt2")`, `get_file(origin=URL, …)`), read
    /// against the policy's table.
    fn find_hub_calls(&mut self, line: &Line) {
        let block = self.blocks.current();
        let mut calls = self.syntax.calls(&line.text, &self.vars);
        calls.extend(hub::command_calls(self.policy, &line.text));
        let calls = calls
            .into_iter()
            .flat_map(|call| hub::with_choices(call, &self.vars))
            .collect::<Vec<_>>();
        for call in calls {
            let Some(fetch) = hub::fetch_of(self.policy, &call) else {
                continue;
            };
            let HubFetch {
                hub,
                url,
                url_as_written,
                used,
                dataset,
                checked,
                format,
                note,
            } = fetch;
            self.mark_used(used);
            self.push_report(Report {
                line: line.number,
                block,
                url,
                as_written: url_as_written.map(Rc::from),
                on_fetch_line: true,
                hub: Some(hub),
                checked,
                format,
                dataset,
                note,
                prose: false,
                own_checks_only: false,
            });
        }
    }

    /// Records a download, once per URL (or hub call): the first seen, unless a later one is
    /// on a fetch line and it was not. Keeps memory to the distinct URLs of the file however
    /// often a line repeats them.
    fn push_report(&mut self, report: Report) {
        match self.report_at.get(&report.key()) {
            Some(&at) if self.reports[at].outranked_by(&report) => {
                self.reports[at] = report;
            }
            Some(_) => {}
            None => {
                self.report_at.insert(report.key(), self.reports.len());
                self.reports.push(report);
            }
        }
    }

    fn find_downloads(&mut self, line: &Line, fetch: Fetch) {
        let block = self.blocks.current();
        let prose = self.syntax.is_prose();
        for found in self.syntax.urls(&line.text, &self.vars) {
            // A docstring cites: only a URL that is itself a weight file is worth telling the
            // maintainer about (a manual download the documentation asks for).
            if prose {
                if self.policy.weight_like(&found.url) {
                    let mut report = Report::of_url(line.number, block, found.url, None);
                    report.prose = true;
                    self.push_report(report);
                }
                continue;
            }
            let report = match fetch {
                Fetch::Model | Fetch::Code => true,
                Fetch::Generic => {
                    self.policy.weight_like(&found.url)
                        || self.policy.has_model_word(&found.url)
                        || self.policy.has_model_word(&line.text)
                        || self.policy.has_model_word(self.blocks.name(block))
                        || self
                            .syntax
                            .entry()
                            .is_some_and(|e| self.policy.has_model_word(e))
                        || self.dataset_context(block)
                }
                Fetch::None => self.policy.weight_like(&found.url),
            } || self.policy.dataset_url(&found.url);
            if !report {
                continue;
            }
            self.mark_used(found.used);
            if self.policy.web_page(&found.url) {
                continue;
            }
            let mut report = Report::of_url(line.number, block, found.url, found.as_written);
            report.on_fetch_line = fetch != Fetch::None;
            report.dataset = self.dataset_context(block)
                && report
                    .url
                    .as_deref()
                    .is_some_and(|u| self.policy.weight_extension(u).is_none());
            report.own_checks_only = fetch == Fetch::Code;
            if let Some(entry) = self.syntax.entry() {
                report.note = Some(format!("catalogue entry {entry}"));
            }
            if fetch == Fetch::Code
                && let Some(url) = &report.url
                && self.policy.weight_extension(url).is_none()
            {
                report.format = Some(self.policy.code_format(url, &line.text));
                report.note = Some(
                    "fetches code from the network at build time: a Debian build has none"
                        .to_string(),
                );
            }
            self.push_report(report);
        }
    }

    /// Whether the file or the function or target `block` names a data set. (Not the line:
    /// a URL template's `{dataset}` placeholder names a voice's training set, not a fetch of
    /// it.)
    fn dataset_context(&self, block: u32) -> bool {
        self.policy.has_dataset_word(&self.rel)
            || self.policy.has_dataset_word(self.blocks.name(block))
    }

    /// Words that may be paths of scripts this file runs.
    fn find_calls(&mut self, line: &Line) {
        if self.calls.len() + self.catalogues.len() >= MAX_CALLS || !self.syntax.runs_commands() {
            return;
        }
        let expanded = self.syntax.expand(&line.text, &self.vars).text;
        // A docstring naming a catalogue does not read it.
        if !self.syntax.is_prose() {
            for word in expanded.split(|c: char| c.is_whitespace() || "\"'`(),;|&[]{}".contains(c))
            {
                if self.policy.names_catalogue(word) {
                    let name = word.rsplit('/').next().unwrap_or(word);
                    self.catalogues
                        .push((self.blocks.current(), name.to_string()));
                }
            }
        }
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
                    block: self.blocks.current(),
                    word: word.to_string(),
                    passes_sha256,
                });
            }
        }
    }

    /// The strongest check applying to a download: one its call makes, or one within the
    /// verification window or in the same block.
    fn verification(&self, report: &Report) -> Verification {
        let window = self.policy.verification_window;
        self.checks
            .iter()
            .filter(|(line, block, _)| {
                if report.own_checks_only {
                    return *line == report.line;
                }
                (*block != 0 && *block == report.block) || line.abs_diff(report.line) <= window
            })
            .filter_map(|(_, _, check)| match check {
                Check::Sha256 => Some(Verification::Sha256),
                Check::Sha256Cut => report
                    .url
                    .as_deref()
                    .is_some_and(|url| self.policy.has_hash_prefix(url))
                    .then_some(Verification::Sha256Prefix),
                Check::Sha1 => Some(Verification::Sha1),
                Check::Md5 => Some(Verification::Md5),
            })
            .chain(report.checked)
            .chain(self.digest_in_url_checked(report))
            .min_by_key(|v| verification_rank(*v))
            .unwrap_or(Verification::None)
    }

    /// A URL carrying a whole SHA-256 digest in its path, in a file that checks SHA-256
    /// digests, is checked against it (whisper: `expected_sha256 = url.split("/")[-2]`, then
    /// `hashlib.sha256(model_bytes).hexdigest() != expected_sha256`), however far apart the
    /// table of URLs and the check stand.
    fn digest_in_url_checked(&self, report: &Report) -> Option<Verification> {
        let url = report.url.as_deref()?;
        (self.policy.has_full_sha256(url)
            && self.checks.iter().any(|(_, _, c)| *c == Check::Sha256))
        .then_some(Verification::Sha256)
    }

    /// The downloads of the file `rel` of `kind`, one per URL (the first on a fetch line, else
    /// the first), and what the tree pass needs to know of it.
    pub fn finish(
        self,
        rel: &str,
        size: u64,
        kind: &FileKind,
        shebang: bool,
    ) -> (Vec<Finding>, Summary) {
        let outside_build = self
            .syntax
            .blocks_outside_build(&self.policy.make_build_goals);
        let findings = self.findings(rel, size, kind, shebang, &outside_build);
        let summary = Summary {
            runs: self
                .calls
                .iter()
                .filter(|c| !outside_build.contains(&c.block))
                .map(|c| c.word.clone())
                .collect(),
            hands_sha256: self
                .calls
                .iter()
                .filter(|c| c.passes_sha256)
                .map(|c| (c.line, c.word.clone()))
                .collect(),
            checks_sha256: self.checks.iter().any(|(_, _, c)| *c == Check::Sha256),
            reads_catalogues: self
                .catalogues
                .iter()
                .map(|(block, name)| {
                    let use_ = self.use_of(rel, kind, shebang, *block, &outside_build);
                    CatalogueRead {
                        name: name.clone(),
                        when: use_.0,
                        unless_packaged: use_.1.as_deref() == Some(STANDALONE_SCRIPT),
                    }
                })
                .collect(),
        };
        (findings, summary)
    }

    /// When what `block` of the file does runs, and why when it is not the file kind's
    /// `when`: a Make target no build goal reaches, a Python script run by hand.
    fn use_of(
        &self,
        rel: &str,
        kind: &FileKind,
        shebang: bool,
        block: u32,
        outside_build: &HashSet<u32>,
    ) -> (When, Option<String>) {
        if outside_build.contains(&block) {
            let target = self.blocks.name(block);
            let why = format!("in Make target `{target}`, which no build goal reaches");
            (When::Manual, Some(why))
        } else if kind.when == When::Run {
            match self
                .syntax
                .script_use(self.policy, rel, shebang, &self.blocks, block)
            {
                ScriptUse::Library => (When::Run, None),
                ScriptUse::Script(why) => (When::Manual, Some(why.to_string())),
                ScriptUse::ScriptUnlessPackaged => {
                    (When::Manual, Some(STANDALONE_SCRIPT.to_string()))
                }
            }
        } else {
            (kind.when, None)
        }
    }

    fn findings(
        &self,
        rel: &str,
        size: u64,
        kind: &FileKind,
        shebang: bool,
        outside_build: &HashSet<u32>,
    ) -> Vec<Finding> {
        let mut reports: Vec<Report> = Vec::new();
        let mut by_key: HashMap<String, usize> = HashMap::new();
        let unused = self
            .deferred
            .iter()
            .filter(|d| !self.used_vars.contains(&d.name))
            .map(|d| d.report.clone());
        for report in self.reports.iter().cloned().chain(unused) {
            let key = report.key();
            match by_key.get(&key) {
                Some(&at) if reports[at].outranked_by(&report) => {
                    reports[at] = report;
                }
                Some(_) => {}
                None => {
                    by_key.insert(key, reports.len());
                    reports.push(report);
                }
            }
        }
        reports.sort_by_key(|r| r.line);
        let documentation = kind.syntax == Language::Docs;
        reports
            .into_iter()
            .map(|report| {
                let format = report.format.clone().unwrap_or_else(|| {
                    let named = report.hub.as_ref().and_then(|h| h.file.as_deref());
                    let by_name = named
                        .map(|file| self.policy.url_format(file))
                        .filter(|f| f != "unknown");
                    by_name.unwrap_or_else(|| {
                        report
                            .url
                            .as_deref()
                            .map_or("unknown".to_string(), |u| self.policy.url_format(u))
                    })
                });
                let (when, reason) = if report.prose {
                    let why = "in a docstring: documentation for the reader".to_string();
                    (When::Manual, Some(why))
                } else {
                    self.use_of(rel, kind, shebang, report.block, outside_build)
                };
                let reason = match (reason, report.note.clone()) {
                    (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                    (a, b) => a.or(b),
                };
                let dataset = report.dataset
                    || report.url.as_deref().is_some_and(|u| {
                        self.policy.dataset_url(u)
                            || (self.policy.weight_extension(u).is_none()
                                && (self.policy.has_dataset_word(rel)
                                    || self
                                        .policy
                                        .has_dataset_word(self.blocks.name(report.block))))
                    });
                let download = Download {
                    reason,
                    line: report.line,
                    verification: self.verification(&report),
                    when,
                    url_as_written: report
                        .as_written
                        .filter(|w| Some(&**w) != report.url.as_deref())
                        .map(|w| w.to_string()),
                    url: report.url,
                    hub: report.hub,
                    documentation: documentation || report.prose,
                };
                let details = if dataset {
                    Details::Dataset(download)
                } else {
                    Details::Download(download)
                };
                Finding::new(rel, format, size, details)
            })
            .collect()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_only() {
        assert!(contains_word("wget -q x", "wget"));
        assert!(!contains_word("libcurl-dev", "curl"));
        assert!(contains_word("x = get_file(url)", "get_file("));
    }
}
