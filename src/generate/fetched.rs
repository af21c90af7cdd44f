//! Code the upstream build fetches from the network (CMake's `FetchContent_Declare`,
//! `ExternalProject_Add`, `file(DOWNLOAD)`), which a Debian build cannot do (Debian Policy 4.9):
//! `init` names each fetch with the Debian packages that likely provide the code
//! (`policy/fetched-code.toml`) and, for FetchContent, makes `debian/rules` ask CMake to use
//! the installed package (`FETCHCONTENT_TRY_FIND_PACKAGE_MODE=ALWAYS`; debhelper's cmake build
//! system already passes `FETCHCONTENT_FULLY_DISCONNECTED=ON`, so nothing is downloaded); for
//! ExternalProject, which has no such switch, it writes a patch ([`super::patches`]).
//!
//! The same scan finds the build's downloads of weights: those of weights compiled into the
//! code come with the source as an orig component, and [`super::patches::download_guard`]
//! turns the download off.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Deserialize;

use super::patches::{Change, PlannedPatch};
use crate::scan::{self, ScanContext, ScanOptions};

/// `policy/fetched-code.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "kebab-case")]
pub struct FetchedCodeTable {
    /// The largest CMake file read to patch a call out of it.
    pub max_build_file_bytes: u64,
    pub project: Vec<Project>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Project {
    pub name: String,
    #[serde(rename = "match")]
    pub words: Vec<String>,
    pub packages: Vec<String>,
    /// The name `find_package()` finds the installed copy by.
    #[serde(default)]
    pub cmake_package: Option<String>,
    /// The pkg-config module of the installed copy, for a package without a CMake one.
    #[serde(default)]
    pub pkg_config: Option<String>,
}

/// How the build file fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetcher {
    FetchContent,
    ExternalProject,
    FileDownload,
}

/// One fetch of code by the build.
#[derive(Debug, Clone)]
pub struct CodeFetch {
    pub path: String,
    pub line: u64,
    pub url: String,
    pub fetcher: Fetcher,
    /// The project and its Debian packages, when the table knows the URL.
    pub project: Option<Project>,
}

impl CodeFetch {
    /// Whether `init` makes the build use the installed package: with FetchContent in a CMake
    /// build (`build_system`), or with `patch` replacing an ExternalProject call. Its
    /// development package then goes to Build-Depends.
    pub fn uses_installed(&self, build_system: &str, patch: Option<&PlannedPatch>) -> bool {
        self.project.is_some()
            && match self.fetcher {
                Fetcher::FetchContent => build_system == "cmake",
                Fetcher::ExternalProject => patch.is_some(),
                Fetcher::FileDownload => false,
            }
    }

    /// What `init` tells the maintainer; `patch` is the one it wrote for this fetch.
    pub fn advice(&self, build_system: &str, patch: Option<&PlannedPatch>) -> String {
        let provided = match &self.project {
            Some(project) if self.uses_installed(build_system, patch) => format!(
                "Debian likely has it ({}): {} added to Build-Depends",
                project.name,
                project.packages.first().map_or("", String::as_str)
            ),
            Some(project) => format!(
                "Debian likely has it ({}): add {} to Build-Depends",
                project.name,
                project.packages.join(" or ")
            ),
            None => "package it first, or ship it in the source package".to_string(),
        };
        let how = match (self.fetcher, patch) {
            (Fetcher::FetchContent, _) => {
                "debian/rules sets FETCHCONTENT_TRY_FIND_PACKAGE_MODE=ALWAYS, so FetchContent \
                 uses the installed package (or set FETCHCONTENT_SOURCE_DIR_<NAME> to a copy in \
                 the source)"
                    .to_string()
            }
            (
                Fetcher::ExternalProject,
                Some(PlannedPatch {
                    name,
                    change: Change::UseInstalled { target, finder, .. },
                    ..
                }),
            ) => format!(
                "debian/patches/{name} replaces ExternalProject_Add({target} ...) with {finder} \
                 and an empty {target} target"
            ),
            (Fetcher::ExternalProject, _) => {
                "ExternalProject_Add always downloads: patch it (debian/patches) to use the \
                 installed package"
                    .to_string()
            }
            (Fetcher::FileDownload, _) => {
                "file(DOWNLOAD) always downloads: patch it (debian/patches) to use a file in \
                 the source or an installed one"
                    .to_string()
            }
        };
        format!(
            "{}:{}: the build fetches code from {}; a Debian build has no network: {provided}; \
             {how}",
            self.path, self.line, self.url
        )
    }
}

/// One download of weights the build makes.
#[derive(Debug, Clone)]
pub struct WeightFetch {
    pub path: String,
    pub line: u64,
    pub url: String,
    /// The download is in a shell script of its own (not `configure` or `autogen.sh`).
    pub standalone_script: bool,
}

/// What the build fetches from the network.
#[derive(Debug, Default)]
pub struct BuildFetches {
    /// Code, in path and line order.
    pub code: Vec<CodeFetch>,
    /// Weights with a known URL, in path and line order.
    pub weights: Vec<WeightFetch>,
}

/// Every fetch of code, and every download of weights, the build makes in the tree at `root`
/// (debian/ aside).
pub fn build_fetches(
    root: &Path,
    ctx: &ScanContext,
    table: &FetchedCodeTable,
) -> anyhow::Result<BuildFetches> {
    let options = ScanOptions {
        hash: false,
        ..ScanOptions::default()
    };
    let report = scan::scan_tree(root, ctx, &options)?;
    let mut fetches = BuildFetches::default();
    for finding in &report.findings {
        let Some(download) = finding.download() else {
            continue;
        };
        if finding.path.starts_with("debian/") || download.when != scan::finding::When::Build {
            continue;
        }
        if finding.build_fetches_code().is_none() {
            if finding.kind() == scan::finding::Kind::Download
                && let Some(url) = &download.url
            {
                fetches.weights.push(WeightFetch {
                    path: finding.path.clone(),
                    line: download.line,
                    url: url.clone(),
                    standalone_script: ctx.downloads.is_standalone_shell_script(
                        &finding.path,
                        &first_line(&root.join(&finding.path)),
                    ),
                });
            }
            continue;
        }
        let url = download.url.clone().unwrap_or_default();
        let lower = url.to_ascii_lowercase();
        let project = table
            .project
            .iter()
            .find(|p| {
                p.words
                    .iter()
                    .any(|w| lower.contains(&w.to_ascii_lowercase()))
            })
            .cloned();
        fetches.code.push(CodeFetch {
            fetcher: fetcher_at(&root.join(&finding.path), download.line),
            path: finding.path.clone(),
            line: download.line,
            url,
            project,
        });
    }
    Ok(fetches)
}

/// The first line of the file at `path` (at most 256 bytes of it), for its `#!`.
fn first_line(path: &Path) -> String {
    let mut line = Vec::new();
    if let Ok(file) = std::fs::File::open(path) {
        let _ = BufReader::new(file).take(256).read_until(b'\n', &mut line);
    }
    String::from_utf8_lossy(&line).trim_end().to_string()
}

/// The command whose call reaches line `line` of a CMake file: the last one of the three
/// opened at or before it (a call spans lines). Reads at most the first `line` lines, each
/// capped, so a hostile file costs bounded memory.
fn fetcher_at(path: &Path, line: u64) -> Fetcher {
    const LINE_CAP: u64 = 64 * 1024;
    let mut found = Fetcher::FileDownload;
    let Ok(file) = std::fs::File::open(path) else {
        return found;
    };
    let mut reader = BufReader::new(file);
    let mut text = Vec::new();
    for _ in 0..line {
        text.clear();
        match reader.by_ref().take(LINE_CAP).read_until(b'\n', &mut text) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&text);
        if text.contains("FetchContent_Declare") {
            found = Fetcher::FetchContent;
        } else if text.contains("ExternalProject_Add") {
            found = Fetcher::ExternalProject;
        } else if text.to_ascii_lowercase().contains("file(download") {
            found = Fetcher::FileDownload;
        }
    }
    found
}
