//! Identification of weight files by content. (Being written: see policy/formats.toml.)

use std::io::{self, Read, Seek};
use std::path::Path;

use serde::Deserialize;

use super::pickle::PickleReport;

/// `policy/formats.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatTable {}

/// What a file's content says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// Model weights.
    Weights,
    /// An archive or compressed stream whose members need a look of their own.
    Container,
    /// A known format that is not weights (images, executables, documents…).
    Other,
}

#[derive(Debug, Clone)]
pub struct Identified {
    pub format: String,
    pub class: Class,
    pub executes_code: bool,
    pub tensors: Option<u64>,
    pub parameters: Option<u64>,
    pub dtypes: Vec<String>,
    pub note: Option<String>,
    pub pickle: Option<PickleReport>,
}

/// Identifies `file` (already open, positioned anywhere) by its content. `name` is its path
/// relative to the scan root (a hint only); `on_disk` is its real path when it is a plain
/// file, for formats split across sibling files (TensorFlow SavedModel).
pub fn identify<R: Read + Seek>(
    _table: &FormatTable,
    _file: &mut R,
    _size: u64,
    _name: &str,
    _on_disk: Option<&Path>,
) -> io::Result<Option<Identified>> {
    Ok(None)
}
