//! The typed boundary between `scan` and every later stage (DESIGN.md §2).

use serde::{Deserialize, Serialize};

use super::pickle::PickleReport;

/// What a finding is. Serialised in kebab-case: `weights`, `lfs-pointer`, `blob`,
/// `embedded-weights`, `download`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A file whose content is model weights in a known format.
    Weights,
    /// A Git LFS pointer: the weights it names are not in the tree.
    LfsPointer,
    /// A large binary file of no known format: possibly weights, needs a human look.
    Blob,
    /// Source code holding a large numeric array (generated C arrays and the like).
    EmbeddedWeights,
    /// A step in a script or build file that fetches model weights.
    Download,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Weights => "weights",
            Kind::LfsPointer => "lfs-pointer",
            Kind::Blob => "blob",
            Kind::EmbeddedWeights => "embedded-weights",
            Kind::Download => "download",
        }
    }
}

/// When a download step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum When {
    /// During the package build (Makefile, CMake, autogen/configure and what they call).
    Build,
    /// When the program runs (library code).
    Run,
    /// By hand: documentation and standalone scripts.
    Manual,
}

/// How a download's bytes are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verification {
    /// A full SHA-256 digest is checked.
    Sha256,
    /// A SHA-256 prefix is part of the file name and checked.
    Sha256Prefix,
    Md5,
    Sha1,
    None,
}

/// A Git LFS pointer's target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LfsTarget {
    /// `sha256:<hex>` as written in the pointer.
    pub oid: String,
    pub size: u64,
}

/// One thing the scan found. Fields that do not apply to a kind are omitted from JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Path relative to the scanned root; archive members as `outer.tar.gz!dir/member`.
    pub path: String,
    pub kind: Kind,
    /// Lower-case format name (`safetensors`, `gguf`, …); `git-lfs` for pointers, `unknown`
    /// for blobs, the language for embedded weights, the fetched file's format for downloads.
    pub format: String,
    /// Size in bytes of the file (or archive member) the finding is in.
    pub size: u64,
    /// SHA-256 of that file; absent with `--no-hash`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Whether loading this format can execute code (from `policy/formats.toml`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executes_code: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dtypes: Vec<String>,
    /// Why a blob was reported, or a note on the identification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lfs: Option<LfsTarget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pickle: Option<PickleReport>,
    /// First and last line of an embedded array.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<[u64; 2]>,
    /// How many numbers an embedded array holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numbers: Option<u64>,
    /// Line of a download step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The URL fetched, with variables defined in the same file expanded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The URL as written, when variables were expanded to make `url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_as_written: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<When>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
}

impl Finding {
    /// A finding with only the fields every kind has.
    pub fn new(path: impl Into<String>, kind: Kind, format: impl Into<String>, size: u64) -> Self {
        Self {
            path: path.into(),
            kind,
            format: format.into(),
            size,
            sha256: None,
            executes_code: None,
            tensors: None,
            parameters: None,
            dtypes: Vec::new(),
            reason: None,
            lfs: None,
            pickle: None,
            lines: None,
            numbers: None,
            line: None,
            url: None,
            url_as_written: None,
            when: None,
            verification: None,
        }
    }
}
