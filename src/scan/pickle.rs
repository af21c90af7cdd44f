//! Pickle analysis without unpickling: walks the opcodes with a simulated stack and memo.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Safe,
    Unsafe,
}

/// What the opcode walk found in one file (all its pickles together).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickleReport {
    pub verdict: Verdict,
    /// Every global imported, as `module.name`, in order of first appearance.
    pub globals: Vec<String>,
    /// Why the verdict is `unsafe`; empty when `safe`.
    pub reasons: Vec<String>,
}
