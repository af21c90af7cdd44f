//! The typed boundary between `scan` and every later stage (DESIGN.md §2).

use serde::{Deserialize, Serialize, Serializer};

use super::pickle::PickleReport;

/// What a finding is. Serialised in kebab-case: `weights`, `lfs-pointer`, `blob`,
/// `embedded-weights`, `download`, `dataset`.
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
    /// A step in a script or build file that fetches model weights (or, at build time, code).
    Download,
    /// A step or link that fetches a data set (from a host in `dataset-hosts`), not weights.
    Dataset,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Weights => "weights",
            Kind::LfsPointer => "lfs-pointer",
            Kind::Blob => "blob",
            Kind::EmbeddedWeights => "embedded-weights",
            Kind::Download => "download",
            Kind::Dataset => "dataset",
        }
    }
}

/// The formats of code a build file fetches (a repository, a source archive, another file),
/// as `format` of a `download` finding.
pub const CODE_FORMATS: [&str; 3] = ["git", "source-archive", "file"];

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

/// One thing the scan found: the fields every kind has, and those of its kind.
///
/// In JSON the common fields come first (`path`, `kind`, `format`, `size`, `sha256`), then the
/// kind's own fields; fields with nothing to say are omitted.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Path relative to the scanned root; archive members as `outer.tar.gz!dir/member`.
    pub path: String,
    /// Lower-case format name (`safetensors`, `gguf`, …); `git-lfs` for pointers, `unknown`
    /// for blobs, the language for embedded weights, the fetched file's format for downloads.
    pub format: String,
    /// Size in bytes of the file (or archive member) the finding is in.
    pub size: u64,
    /// SHA-256 of that file; absent with `--no-hash`.
    pub sha256: Option<String>,
    pub details: Details,
}

/// The fields of one kind of finding. Serialised without a tag: [`Finding`] writes `kind`
/// itself, between `path` and `format`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Details {
    Weights(Weights),
    LfsPointer(LfsPointer),
    Blob(Blob),
    EmbeddedWeights(EmbeddedWeights),
    CompiledIn(CompiledWeights),
    Download(Download),
    /// A data set fetched: the same fields as a download.
    Dataset(Download),
}

/// Model weights in a known format.
#[derive(Debug, Clone, Serialize)]
pub struct Weights {
    /// Whether loading this format can execute code (from `policy/formats.toml`).
    pub executes_code: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dtypes: Vec<String>,
    /// A note on the identification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pickle: Option<PickleReport>,
}

/// A Git LFS pointer.
#[derive(Debug, Clone, Serialize)]
pub struct LfsPointer {
    pub reason: String,
    pub lfs: LfsTarget,
}

/// A large binary file of no known format.
#[derive(Debug, Clone, Serialize)]
pub struct Blob {
    /// Why it was reported.
    pub reason: String,
}

/// A large numeric array in source code.
#[derive(Debug, Clone, Serialize)]
pub struct EmbeddedWeights {
    pub reason: String,
    /// First and last line of the array.
    pub lines: [u64; 2],
    /// How many numbers the array holds.
    pub numbers: u64,
}

/// Weights in a known format compiled into an executable or a shared library (kind
/// `embedded-weights`, `format` the weights' format).
#[derive(Debug, Clone, Serialize)]
pub struct CompiledWeights {
    pub reason: String,
    /// Byte offset of the weights' first byte in the file.
    pub offset: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dtypes: Vec<String>,
}

/// A step that fetches model weights, code at build time, or a data set.
#[derive(Debug, Clone, Serialize)]
pub struct Download {
    /// Why `when` is not what the file's kind says, or what else the step needs a note for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub line: u64,
    /// The URL fetched, with variables defined in the same file expanded. Absent when a hub
    /// call names only a repository and the https URL it resolves to is not known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The URL as written, when variables were expanded to make `url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_as_written: Option<String>,
    /// What a hub call (`from_pretrained`, `hf_hub_download`, `torch.hub.load`, …) names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hub: Option<Hub>,
    pub when: When,
    pub verification: Verification,
    /// Whether the step is a link in documentation: the terminal table groups those per file.
    #[serde(skip)]
    pub documentation: bool,
}

/// A download named by a hub call rather than (or besides) a URL: the service and what the
/// call's arguments say. `revision` is the pin: without it the call fetches whatever the
/// repository holds on the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hub {
    /// The service the call fetches from (`huggingface`, `torch-hub`, `keras`, …), as named
    /// in the call table of `policy/downloads.toml`.
    pub service: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl Finding {
    /// A finding in `path` of `size` bytes, not hashed yet.
    pub fn new(
        path: impl Into<String>,
        format: impl Into<String>,
        size: u64,
        details: Details,
    ) -> Self {
        Self {
            path: path.into(),
            format: format.into(),
            size,
            sha256: None,
            details,
        }
    }

    pub fn kind(&self) -> Kind {
        match self.details {
            Details::Weights(_) => Kind::Weights,
            Details::LfsPointer(_) => Kind::LfsPointer,
            Details::Blob(_) => Kind::Blob,
            Details::EmbeddedWeights(_) | Details::CompiledIn(_) => Kind::EmbeddedWeights,
            Details::Download(_) => Kind::Download,
            Details::Dataset(_) => Kind::Dataset,
        }
    }

    /// Why the finding was reported, or a note on it; every kind may have one.
    pub fn reason(&self) -> Option<&str> {
        match &self.details {
            Details::Weights(weights) => weights.reason.as_deref(),
            Details::LfsPointer(pointer) => Some(&pointer.reason),
            Details::Blob(blob) => Some(&blob.reason),
            Details::EmbeddedWeights(embedded) => Some(&embedded.reason),
            Details::CompiledIn(compiled) => Some(&compiled.reason),
            Details::Download(download) | Details::Dataset(download) => download.reason.as_deref(),
        }
    }

    /// For a download of code the package build makes (CMake's `FetchContent_Declare`,
    /// `ExternalProject_Add`, `file(DOWNLOAD)`), the warning `init` gives: a Debian build has
    /// no network.
    pub fn build_fetches_code(&self) -> Option<String> {
        let download = self.download()?;
        let code = CODE_FORMATS.contains(&self.format.as_str());
        (code && download.when == When::Build).then(|| {
            format!(
                "{}:{}: the build fetches code from {} ({}); a Debian build has no network: \
                 build against the packaged library, or ship the code in the source package",
                self.path,
                download.line,
                download.url.as_deref().unwrap_or("the network"),
                self.format
            )
        })
    }

    /// The fetch step of a `download` or `dataset` finding.
    pub fn download(&self) -> Option<&Download> {
        match &self.details {
            Details::Download(download) | Details::Dataset(download) => Some(download),
            _ => None,
        }
    }

    pub fn download_mut(&mut self) -> Option<&mut Download> {
        match &mut self.details {
            Details::Download(download) | Details::Dataset(download) => Some(download),
            _ => None,
        }
    }
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// The JSON shape: common fields in their fixed order, then the kind's own.
        #[derive(Serialize)]
        struct Json<'a> {
            path: &'a str,
            kind: Kind,
            format: &'a str,
            size: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            sha256: Option<&'a str>,
            #[serde(flatten)]
            details: &'a Details,
        }
        Json {
            path: &self.path,
            kind: self.kind(),
            format: &self.format,
            size: self.size,
            sha256: self.sha256.as_deref(),
            details: &self.details,
        }
        .serialize(serializer)
    }
}
