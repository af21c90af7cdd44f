//! Steps that fetch model weights, in shell scripts, Makefiles, CMake files, autotools
//! scripts, batch and PowerShell files, Python code and documentation. Tables come from
//! `policy/downloads.toml` ([`policy`]); each language has one reader ([`syntax::Syntax`]).
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
//! run, from each file's [`Summary`]: a script named by a build file (or by a script it runs)
//! gets `build`, and a download whose line passes a full SHA-256 to a script that checks it
//! with a SHA-256 tool is verified.

mod cmake;
mod docs;
mod file;
mod hub;
mod make;
mod policy;
mod python;
mod shell;
mod syntax;
mod tree;
mod windows;

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

pub use policy::DownloadPolicy;
pub use shell::TreeFiles;
pub use tree::{Seen, Summary, resolve_tree};

use super::Finding;
use cmake::Cmake;
use docs::{Docs, Json, Yaml};
use file::FileState;
use make::Make;
use policy::Language;
use python::Python;
use shell::Shell;
use syntax::Syntax;
use windows::{Batch, PowerShell};

impl Language {
    /// A reader for one file in this language; `tree` holds the files a shell script's
    /// command substitutions may read (`$(cat model_version)`).
    fn syntax(self, policy: &DownloadPolicy, tree: Option<&TreeFiles>) -> Box<dyn Syntax> {
        match self {
            Language::Shell => Box::new(Shell::new(tree.cloned())),
            Language::Make => Box::<Make>::default(),
            Language::Cmake => Box::new(Cmake),
            Language::Python => Box::<Python>::default(),
            Language::Batch => Box::new(Batch),
            Language::Powershell => Box::new(PowerShell),
            Language::Docs => Box::new(Docs),
            Language::Json => Box::new(Json),
            Language::Yaml => Box::new(Yaml::new(
                policy.catalogue_max_depth,
                policy.catalogue_max_key_path,
            )),
        }
    }
}

/// What the per-file pass found in one file: its downloads, and what the tree pass needs.
#[derive(Debug)]
pub struct Scanned {
    pub findings: Vec<Finding>,
    pub seen: Seen,
    /// Where the search was cut short (variable expansion stopped at a policy cap).
    pub warnings: Vec<String>,
}

/// Finds the download steps in the text file `rel` (`size` bytes), read from `reader`
/// positioned at its start; `tree` is where the file lies on disk, when it does.
pub fn scan<R: Read + Seek>(
    policy: &DownloadPolicy,
    mut reader: R,
    rel: &str,
    size: u64,
    tree: Option<&TreeFiles>,
) -> io::Result<Scanned> {
    let not_a_script = || Scanned {
        findings: Vec::new(),
        seen: Seen::NotAScript,
        warnings: Vec::new(),
    };
    if size > policy.max_file_size {
        return Ok(Scanned {
            findings: Vec::new(),
            seen: Seen::TooLarge(size),
            warnings: Vec::new(),
        });
    }
    let start = reader.stream_position()?;
    let mut buffered = BufReader::new((&mut reader).take(policy.max_file_size));
    let first = peek_first_line(&mut buffered)?;
    let Some(kind) = policy.file_kind(rel, &first) else {
        return Ok(not_a_script());
    };
    let may_fetch = policy.may_fetch(&mut buffered)?;
    drop(buffered);
    reader.seek(SeekFrom::Start(start))?;
    let syntax = kind.syntax.syntax(policy, tree);
    // Documentation without a URL or fetch word has nothing to say; a script still has the
    // scripts it runs to tell the tree pass.
    if !may_fetch && !syntax.runs_commands() {
        return Ok(Scanned {
            findings: Vec::new(),
            seen: Seen::Script(Summary::default()),
            warnings: Vec::new(),
        });
    }
    let reader = BufReader::new(reader.take(policy.max_file_size));
    let state = FileState::read(policy, rel, syntax, reader, may_fetch)?;
    let warnings = state
        .limited_at()
        .map(|line| {
            format!(
                "{rel}:{line}: variable expansion stopped at the policy's limit \
                 ({} bytes, {} references); downloads assembled past it are not reported",
                policy.max_expanded_length, policy.max_expansions
            )
        })
        .into_iter()
        .collect();
    let (findings, summary) = state.finish(rel, size, kind, first.starts_with("#!"));
    Ok(Scanned {
        findings,
        seen: Seen::Script(summary),
        warnings,
    })
}

/// What the tree pass needs of the file `rel` of the tree (`size` bytes) whose content was not
/// searched for downloads (binary, weights, an archive): a build file may still run it, or
/// hand it a digest to check. The downloads it seems to make are not reported: only text is
/// searched for those.
pub fn summarize<R: Read + Seek>(
    policy: &DownloadPolicy,
    file: &mut R,
    rel: &str,
    size: u64,
) -> Seen {
    let scanned = file
        .seek(SeekFrom::Start(0))
        .and_then(|_| scan(policy, &mut *file, rel, size, None));
    match scanned {
        Ok(scanned) => scanned.seen,
        Err(err) => Seen::Unreadable(err.to_string()),
    }
}

/// The first line of a buffered reader, without consuming it.
fn peek_first_line<R: BufRead>(reader: &mut R) -> io::Result<String> {
    let head = reader.fill_buf()?;
    let end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    Ok(String::from_utf8_lossy(&head[..end]).trim_end().to_string())
}
