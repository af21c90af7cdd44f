//! `policy/downloads.toml`: what makes a URL a weight download, how files are recognised, and
//! the questions about URLs and lines that only the policy tables answer.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use serde::Deserialize;

use crate::scan::finding::CODE_FORMATS;
use crate::scan::{Verification, When};

/// `policy/downloads.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DownloadPolicy {
    pub max_file_size: u64,
    /// Longest expansion of a variable reference, a value or a line, in bytes.
    pub max_expanded_length: usize,
    /// Most variable references expanded in one value or line.
    pub max_expansions: usize,
    pub verification_window: u64,
    pub min_hash_prefix: usize,
    pub weight_extensions: Vec<String>,
    pub compression_extensions: Vec<String>,
    pub model_hosts: Vec<String>,
    pub dataset_hosts: Vec<String>,
    pub dataset_words: Vec<String>,
    pub json_url_keys: Vec<String>,
    /// Most levels of a YAML catalogue's key path followed; deeper keys are not named.
    pub catalogue_max_depth: usize,
    /// Most bytes of a catalogue entry's key path kept for its report.
    pub catalogue_max_key_path: usize,
    pub page_hosts: Vec<String>,
    pub page_segments: Vec<String>,
    pub config_extensions: Vec<String>,
    pub model_words: Vec<String>,
    pub model_fetchers: Vec<String>,
    pub generic_fetchers: Vec<String>,
    pub code_fetchers: Vec<String>,
    pub git_markers: Vec<String>,
    pub local_prefixes: Vec<String>,
    pub make_build_goals: Vec<String>,
    pub checks: Checks,
    pub python: PythonRule,
    pub file_kinds: Vec<FileKind>,
    pub calls: Calls,
    pub hub_calls: Vec<HubCall>,
    /// Built from the tables above on first use: see [`DownloadPolicy::may_fetch`].
    #[serde(skip)]
    prefilter: OnceLock<Option<AhoCorasick>>,
}

/// A Python call that fetches from a hub by name (`[[hub-calls]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HubCall {
    /// Dotted names, matched whole or by their last parts; `*` for any call.
    pub names: Vec<String>,
    pub service: String,
    pub repo: Option<Argument>,
    pub file: Option<Argument>,
    pub revision: Option<Argument>,
    pub url: Option<Argument>,
    pub url_template: Option<String>,
    pub dataset_url_template: Option<String>,
    pub default_revision: Option<String>,
    pub revision_separator: Option<String>,
    /// Keyword values that must be given for the call to fetch anything.
    #[serde(default)]
    pub require: BTreeMap<String, String>,
    /// Keyword values that make the call read a local path instead.
    #[serde(default)]
    pub unless: BTreeMap<String, String>,
    /// Keyword values that make what is fetched a data set.
    #[serde(default)]
    pub dataset_if: BTreeMap<String, String>,
    #[serde(default)]
    pub hashes: Vec<HashArgument>,
    pub hash_algorithm: Option<Argument>,
    pub format: Option<String>,
}

/// Where a call's argument is: by position, by keyword, or the call's own name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Argument {
    pub position: Option<usize>,
    pub keyword: Option<String>,
    #[serde(default)]
    pub call_name: bool,
}

/// An argument carrying a digest, and the algorithm it is checked with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HashArgument {
    pub position: Option<usize>,
    pub keyword: Option<String>,
    pub algorithm: HashAlgorithm,
}

impl HashArgument {
    pub fn argument(&self) -> Argument {
        Argument {
            position: self.position,
            keyword: self.keyword.clone(),
            call_name: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HashAlgorithm {
    Md5,
    Sha1,
    Sha256,
    Sha256Prefix,
    /// SHA-256 for 64 hex digits, MD5 otherwise (Keras' `hash_algorithm="auto"`).
    ByLength,
}

impl HashAlgorithm {
    /// The check a digest argument makes, given its value when known and the algorithm the
    /// call names (`hash_algorithm=`), if any.
    pub fn verification(self, digest: Option<&str>, named: Option<&str>) -> Verification {
        match self {
            HashAlgorithm::Md5 => Verification::Md5,
            HashAlgorithm::Sha1 => Verification::Sha1,
            HashAlgorithm::Sha256 => Verification::Sha256,
            HashAlgorithm::Sha256Prefix => Verification::Sha256Prefix,
            HashAlgorithm::ByLength => match named.map(str::to_ascii_lowercase).as_deref() {
                Some("sha256") => Verification::Sha256,
                Some("md5") => Verification::Md5,
                // An unknown digest is taken as the weaker of the two the call may use.
                _ if digest.is_some_and(|d| d.len() == 64) => Verification::Sha256,
                _ => Verification::Md5,
            },
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Checks {
    pub sha256: Vec<String>,
    pub sha1: Vec<String>,
    pub md5: Vec<String>,
    /// Comparison operators that, with a name from `compared_names`, make a line a check.
    pub comparisons: Vec<String>,
    pub compared_names: ComparedNames,
    /// On a line with a SHA-256 check, these mean only a prefix of the digest is compared.
    pub prefix_markers: Vec<String>,
}

/// Names that, compared on a line, say which algorithm a check uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ComparedNames {
    pub sha256: Vec<String>,
    pub sha1: Vec<String>,
    pub md5: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PythonRule {
    pub script_dirs: Vec<String>,
}

/// How to recognise one kind of file, the language it is written in, and when its downloads run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileKind {
    pub syntax: Language,
    pub when: When,
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub extensions: Vec<String>,
    #[serde(default)]
    pub shebangs: Vec<String>,
}

/// The languages a file kind can be written in (`syntax = "…"` in the table); each has one
/// reader, see [`super::syntax::Syntax`]. Autotools files are shell (`configure.ac`,
/// `autogen.sh`) or Make (`Makefile.am`, `Makefile.in`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Language {
    Shell,
    Make,
    Cmake,
    Python,
    Batch,
    Powershell,
    /// Documentation: no variables, no comments, every line stands alone.
    Docs,
    /// JSON data: a URL is fetched by whatever reads the file, when its key says it is one.
    Json,
    /// YAML data, read as JSON is; its entries are named by their key paths.
    Yaml,
}

impl Language {
    /// Whether files of this language are catalogues: data some program reads, whose URLs it
    /// fetches (JSON, YAML), rather than code that fetches or prose that shows.
    pub fn is_catalogue(self) -> bool {
        matches!(self, Language::Json | Language::Yaml)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Calls {
    pub root_prefixes: Vec<String>,
    pub dir_prefixes: Vec<String>,
}

/// A checksum check found on a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Sha256,
    /// A SHA-256 of which only a prefix is compared.
    Sha256Cut,
    Sha1,
    Md5,
}

impl DownloadPolicy {
    /// Whether the text read from `reader` holds anything a download or a check is made of: a
    /// URL (`://`), a fetch command or call, a hub call's name, a checksum marker, a command
    /// substitution reading a file. One pass of an Aho-Corasick automaton over the bytes, as
    /// ripgrep prefilters, stopping at the first match: a file without any needs no per-line
    /// download search at all.
    pub fn may_fetch<R: Read>(&self, reader: R) -> io::Result<bool> {
        // Patterns beyond what the automaton can hold (a huge --policy table) disable the
        // prefilter: every file is then searched line by line.
        let Some(automaton) = self.prefilter.get_or_init(|| self.build_prefilter()) else {
            return Ok(true);
        };
        match automaton.stream_find_iter(reader).next() {
            Some(Ok(_)) => Ok(true),
            Some(Err(err)) => Err(err),
            None => Ok(false),
        }
    }

    fn build_prefilter(&self) -> Option<AhoCorasick> {
        let checks = &self.checks;
        let names = &checks.compared_names;
        let hub_words = self.hub_calls.iter().flat_map(|call| {
            let named = call.names.iter().filter(|n| *n != "*");
            // A call of any name is told by the keyword values it requires.
            let required = call
                .require
                .values()
                .filter(|_| call.names.iter().any(|n| n == "*"));
            named.chain(required)
        });
        let patterns: Vec<&str> = ["://", "$(cat ", "`cat "]
            .into_iter()
            .chain(
                [
                    &self.model_fetchers,
                    &self.generic_fetchers,
                    &self.code_fetchers,
                    &checks.sha256,
                    &checks.sha1,
                    &checks.md5,
                    &names.sha256,
                    &names.sha1,
                    &names.md5,
                ]
                .into_iter()
                .flatten()
                .map(String::as_str),
            )
            .chain(hub_words.map(String::as_str))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build(patterns)
            .ok()
    }

    /// The kind of file `rel` whose first line is `first_line`: by name, then extension, then
    /// the interpreter named on a `#!` line.
    pub fn file_kind(&self, rel: &str, first_line: &str) -> Option<&FileKind> {
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

    /// Whether `rel` (whose first line is `first_line`) is a shell script of its own, told by
    /// its extension or `#!` line, rather than a build system's entry point read by name
    /// (`configure`, `autogen.sh`): running it does one job, so a guard at its top that exits
    /// skips only that job.
    pub fn is_standalone_shell_script(&self, rel: &str, first_line: &str) -> bool {
        self.file_kind(rel, first_line)
            .is_some_and(|k| k.syntax == Language::Shell && k.names.is_empty())
    }

    pub fn has_model_word(&self, text: &str) -> bool {
        let lower = text.to_ascii_lowercase();
        self.model_words.iter().any(|w| lower.contains(w.as_str()))
    }

    /// Whether `url` names weights by itself: a model host, a GitHub release asset with a
    /// model name, or a weight file extension.
    pub fn weight_like(&self, url: &str) -> bool {
        if self.web_page(url) {
            return false;
        }
        let (host, path) = split_url(url);
        let model_release = host == "github.com"
            && path.contains("/releases/download/")
            && self.has_model_word(path);
        on_host(&self.model_hosts, &host, path)
            || model_release
            || self.weight_extension(url).is_some()
    }

    /// Whether `url` is on a data set host.
    pub fn dataset_url(&self, url: &str) -> bool {
        let (host, path) = split_url(url);
        on_host(&self.dataset_hosts, &host, path)
            && !self.web_page(url)
            && self.weight_extension(url).is_none()
    }

    /// Whether `url` is a page to browse rather than a file to fetch: a repository's file
    /// listing or file view (`huggingface.co/…/tree/main`, `github.com/…/blob/…`), not asked
    /// for as a download (`?download=true`, `?raw=true`).
    pub fn web_page(&self, url: &str) -> bool {
        let (host, path) = split_url(url);
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        on_host(&self.page_hosts, &host, path)
            && !query.contains("download=true")
            && !query.contains("raw=true")
            && path
                .split('/')
                .any(|segment| self.page_segments.iter().any(|s| s == segment))
    }

    /// Whether a line of JSON holds a URL under a key that names one to fetch
    /// (`"url": "https://…"`).
    pub fn json_url_value(&self, text: &str) -> bool {
        self.json_url_keys.iter().any(|key| {
            let quoted = format!("\"{key}\"");
            text.match_indices(quoted.as_str()).any(|(at, _)| {
                let rest = text[at + quoted.len()..].trim_start();
                rest.strip_prefix(':').is_some_and(|value| {
                    let value = value.trim_start().trim_start_matches('"');
                    value.starts_with("https://") || value.starts_with("http://")
                })
            })
        })
    }

    /// Whether a line of YAML maps a key that names a URL to fetch to one (`url: https://…`,
    /// `- "model_url": 'https://…'`).
    pub fn yaml_url_value(&self, text: &str) -> bool {
        let entry = text.trim_start();
        let entry = entry.strip_prefix("- ").unwrap_or(entry).trim_start();
        let Some((key, value)) = entry.split_once(':') else {
            return false;
        };
        let key = key.trim().trim_matches(['"', '\'']);
        let value = value.trim_start().trim_start_matches(['"', '\'']);
        self.json_url_keys.iter().any(|k| k == key)
            && (value.starts_with("https://") || value.starts_with("http://"))
    }

    /// Whether `word` (a path a program names) names a catalogue: a file of a catalogue
    /// language by its name (`../.models.json`, `models.yml`).
    pub fn names_catalogue(&self, word: &str) -> bool {
        !word.contains("://")
            && self
                .file_kind(word, "")
                .is_some_and(|k| k.syntax.is_catalogue())
    }

    /// Whether `text` (a path, a function name, a line) names a data set (`get_coco_dataset.sh`,
    /// `torchvision/datasets/`), case-insensitively.
    pub fn has_dataset_word(&self, text: &str) -> bool {
        let lower = text.to_ascii_lowercase();
        self.dataset_words
            .iter()
            .any(|w| lower.contains(w.as_str()))
    }

    /// The format a URL fetches, by its file name: a weight format, `config`, or `unknown`.
    pub fn url_format(&self, url: &str) -> String {
        match self.file_extension(url) {
            Some(ext) if self.weight_extensions.contains(&ext) => ext,
            Some(ext) if self.config_extensions.contains(&ext) => "config".to_string(),
            _ => "unknown".to_string(),
        }
    }

    /// The format of what a build-time fetch of code gets: a weight format by extension,
    /// `git`, `source-archive`, or `file`.
    pub fn code_format(&self, url: &str, line: &str) -> String {
        let (_, path) = split_url(url);
        let name = path.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
        let [git, archive, file] = CODE_FORMATS;
        if let Some(ext) = self.weight_extension(url) {
            ext
        } else if name.ends_with(".git") || self.git_markers.iter().any(|m| line.contains(m)) {
            git.to_string()
        } else if name
            .rsplit_once('.')
            .is_some_and(|(_, ext)| self.compression_extensions.iter().any(|c| c == ext))
        {
            archive.to_string()
        } else {
            file.to_string()
        }
    }

    /// The weight file extension the URL's file name ends with, compression removed.
    pub fn weight_extension(&self, url: &str) -> Option<String> {
        self.file_extension(url)
            .filter(|ext| self.weight_extensions.contains(ext))
    }

    /// The extension of the URL's file name, lower-case, compression extensions removed.
    fn file_extension(&self, url: &str) -> Option<String> {
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
        name.rsplit_once('.').map(|(_, ext)| ext.to_string())
    }

    /// The check a line performs, if any: a checksum tool, or a comparison of something
    /// named after an algorithm.
    pub fn check_on(&self, text: &str) -> Option<Check> {
        let has = |markers: &[String]| markers.iter().any(|m| text.contains(m.as_str()));
        let compared = self
            .compares(text)
            .then(|| self.algorithm_named(text))
            .flatten();
        if has(&self.checks.sha256) || compared == Some(Check::Sha256) {
            Some(if has(&self.checks.prefix_markers) {
                Check::Sha256Cut
            } else {
                Check::Sha256
            })
        } else if has(&self.checks.sha1) || compared == Some(Check::Sha1) {
            Some(Check::Sha1)
        } else if has(&self.checks.md5) || compared == Some(Check::Md5) {
            Some(Check::Md5)
        } else {
            None
        }
    }

    /// Whether the line compares two values (`==`, `!=`).
    pub fn compares(&self, text: &str) -> bool {
        self.checks
            .comparisons
            .iter()
            .any(|m| text.contains(m.as_str()))
    }

    /// The digest algorithm the line names (`info["md5"]`, `expected_sha256`), strongest
    /// first, case-insensitively.
    pub fn algorithm_named(&self, text: &str) -> Option<Check> {
        let lower = text.to_ascii_lowercase();
        let named = |names: &[String]| names.iter().any(|n| lower.contains(n.as_str()));
        let names = &self.checks.compared_names;
        if named(&names.sha256) {
            Some(Check::Sha256)
        } else if named(&names.sha1) {
            Some(Check::Sha1)
        } else if named(&names.md5) {
            Some(Check::Md5)
        } else {
            None
        }
    }

    /// Whether the URL's path holds a whole SHA-256 digest as one of its parts
    /// (`…/whisper/models/<sha256>/tiny.pt`).
    pub fn has_full_sha256(&self, url: &str) -> bool {
        let (_, path) = split_url(url);
        path.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|part| part.len() == 64 && part.bytes().all(|b| b.is_ascii_hexdigit()))
    }

    /// Whether the URL's file name holds a run of hex digits long enough to be a digest prefix.
    pub fn has_hash_prefix(&self, url: &str) -> bool {
        let (_, path) = split_url(url);
        let name = path.rsplit('/').next().unwrap_or("");
        name.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|part| {
                (self.min_hash_prefix..64).contains(&part.len())
                    && part.bytes().all(|b| b.is_ascii_hexdigit())
                    && part.bytes().any(|b| b.is_ascii_digit())
            })
    }

    /// Whether a Python file lies under a directory of scripts (`tests/`, `tools/`, …).
    pub fn python_in_script_dir(&self, rel: &str) -> bool {
        let mut dirs = rel.split('/').collect::<Vec<_>>();
        dirs.pop();
        dirs.iter()
            .any(|d| self.python.script_dirs.iter().any(|s| s == d))
    }
}

/// Whether a URL's host and path match one of `entries` (a host, optionally followed by a
/// path prefix; a host also matches its sub-domains).
fn on_host(entries: &[String], host: &str, path: &str) -> bool {
    entries.iter().any(|entry| {
        let (h, prefix) = entry.split_once('/').unwrap_or((entry, ""));
        (host == h || host.strip_suffix(h).is_some_and(|sub| sub.ends_with('.')))
            && path.starts_with('/')
            && path[1..].starts_with(prefix)
            && (prefix.is_empty()
                || path[1 + prefix.len()..].is_empty()
                || path[1 + prefix.len()..].starts_with('/'))
    })
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The built-in download policy, for the tests of every download module.
    pub(in crate::scan::downloads) fn policy() -> DownloadPolicy {
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
        let kind = |rel: &str, first: &str| p.file_kind(rel, first).map(|k| (k.syntax, k.when));
        assert_eq!(kind("a/Makefile", ""), Some((Language::Make, When::Build)));
        assert_eq!(kind("autogen.sh", ""), Some((Language::Shell, When::Build)));
        assert_eq!(kind("x/get.sh", ""), Some((Language::Shell, When::Manual)));
        assert_eq!(
            kind("bin/fetch", "#!/usr/bin/env python3"),
            Some((Language::Python, When::Run))
        );
        assert_eq!(kind("x/data.c", ""), None);
        assert!(p.is_standalone_shell_script("x/get.sh", ""));
        assert!(p.is_standalone_shell_script("x/get", "#!/bin/bash -e"));
        assert!(!p.is_standalone_shell_script("autogen.sh", "#!/bin/sh"));
        assert!(!p.is_standalone_shell_script("configure.ac", ""));
        assert!(!p.is_standalone_shell_script("x/get.py", "#!/bin/sh"));
    }

    #[test]
    fn data_sets_configs_and_code_by_url() {
        let p = policy();
        assert!(p.dataset_url("https://huggingface.co/datasets/org/corpus"));
        assert!(!p.dataset_url("https://huggingface.co/org/model"));
        assert!(!p.dataset_url("https://huggingface.co/datasetsfoo/x"));
        assert!(p.dataset_url("https://www.kaggle.com/datasets/u/d"));
        assert_eq!(
            p.url_format("https://h/v/x.onnx.json?download=true"),
            "config"
        );
        assert_eq!(p.url_format("https://h/v/x.onnx?download=true"), "onnx");
        assert_eq!(p.url_format("https://h/v/readme"), "unknown");
        assert_eq!(
            p.code_format("https://github.com/o/r", "GIT_REPOSITORY x"),
            "git"
        );
        assert_eq!(p.code_format("https://github.com/o/r.git", ""), "git");
        assert_eq!(
            p.code_format("https://h/v1.2.tar.xz", "URL x"),
            "source-archive"
        );
        assert_eq!(p.code_format("https://h/FindX.cmake", ""), "file");
        assert_eq!(p.code_format("https://h/net.onnx", ""), "onnx");
    }

    #[test]
    fn comparisons_of_named_digests_are_checks() {
        let p = policy();
        assert_eq!(
            p.check_on("if get_file_hash(path) != info['md5']:"),
            Some(Check::Md5)
        );
        assert_eq!(
            p.check_on("assert digest == EXPECTED_SHA256"),
            Some(Check::Sha256)
        );
        assert_eq!(p.check_on("md5 = info['md5']"), None, "no comparison");
        assert_eq!(
            p.check_on("shasum -a 256 --check sums"),
            Some(Check::Sha256)
        );
    }

    #[test]
    fn prefilter_finds_urls_fetchers_hub_names_and_checks_only() {
        let p = policy();
        let may = |text: &str| p.may_fetch(text.as_bytes()).unwrap();
        assert!(may("see https://example.org"));
        assert!(may("x = AutoModel.from_pretrained(name)"));
        assert!(may("net = ResNet50(weights='IMAGENET')"));
        assert!(may("CURL -o x y"));
        assert!(may("echo $(cat version)"));
        assert!(!may("int main(void) { return 0; }\n/* plain text */\n"));
    }

    #[test]
    fn keras_hash_length_decides_the_algorithm() {
        let by_length = HashAlgorithm::ByLength;
        assert_eq!(
            by_length.verification(Some(&"a".repeat(64)), None),
            Verification::Sha256
        );
        assert_eq!(
            by_length.verification(Some(&"a".repeat(32)), None),
            Verification::Md5
        );
        assert_eq!(
            by_length.verification(Some(&"a".repeat(64)), Some("md5")),
            Verification::Md5
        );
        assert_eq!(by_length.verification(None, None), Verification::Md5);
    }

    #[test]
    fn hash_prefixes_in_names() {
        let p = policy();
        assert!(p.has_hash_prefix("https://h/resnet18-f37072fd.pth"));
        assert!(!p.has_hash_prefix("https://h/model-deadbeef.bin"));
        assert!(!p.has_hash_prefix("https://h/model-v1.bin"));
    }
}
