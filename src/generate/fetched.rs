//! Code the upstream build fetches from the network (CMake's `FetchContent_Declare`,
//! `ExternalProject_Add`, `file(DOWNLOAD)`), which a Debian build cannot do (Debian Policy 4.9):
//! `init` names each fetch with the Debian packages that likely provide the code
//! (`policy/fetched-code.toml`) and, for FetchContent, makes `debian/rules` ask CMake to use
//! the installed package (`FETCHCONTENT_TRY_FIND_PACKAGE_MODE=ALWAYS`; debhelper's cmake build
//! system already passes `FETCHCONTENT_FULLY_DISCONNECTED=ON`, so nothing is downloaded).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Deserialize;

use crate::scan::{self, ScanContext, ScanOptions};

/// `policy/fetched-code.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchedCodeTable {
    pub project: Vec<Project>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub name: String,
    #[serde(rename = "match")]
    pub words: Vec<String>,
    pub packages: Vec<String>,
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
    /// What `init` tells the maintainer.
    pub fn advice(&self) -> String {
        let provided = match &self.project {
            Some(project) => format!(
                "Debian likely has it ({}): add {} to Build-Depends",
                project.name,
                project.packages.join(" or ")
            ),
            None => "package it first, or ship it in the source package".to_string(),
        };
        let how = match self.fetcher {
            Fetcher::FetchContent => {
                "debian/rules sets FETCHCONTENT_TRY_FIND_PACKAGE_MODE=ALWAYS, so FetchContent \
                 uses the installed package (or set FETCHCONTENT_SOURCE_DIR_<NAME> to a copy in \
                 the source)"
            }
            Fetcher::ExternalProject => {
                "ExternalProject_Add always downloads: patch it (debian/patches) to use the \
                 installed package"
            }
            Fetcher::FileDownload => {
                "file(DOWNLOAD) always downloads: patch it (debian/patches) to use a file in \
                 the source or an installed one"
            }
        };
        format!(
            "{}:{}: the build fetches code from {}; a Debian build has no network: {provided}; \
             {how}",
            self.path, self.line, self.url
        )
    }
}

/// Every fetch of code the build makes in the tree at `root`, in path and line order.
pub fn code_fetches(
    root: &Path,
    ctx: &ScanContext,
    table: &FetchedCodeTable,
) -> anyhow::Result<Vec<CodeFetch>> {
    let options = ScanOptions {
        hash: false,
        ..ScanOptions::default()
    };
    let report = scan::scan_tree(root, ctx, &options)?;
    let mut fetches = Vec::new();
    for finding in &report.findings {
        if finding.path.starts_with("debian/") || finding.build_fetches_code().is_none() {
            continue;
        }
        let Some(download) = finding.download() else {
            continue;
        };
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
        fetches.push(CodeFetch {
            fetcher: fetcher_at(&root.join(&finding.path), download.line),
            path: finding.path.clone(),
            line: download.line,
            url,
            project,
        });
    }
    Ok(fetches)
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
