//! dh-mlmodel: find, classify and package machine-learning model weights for Debian.
//!
//! Data flows one way (DESIGN.md §2): [`scan`] produces findings; the [`pipeline`] reads or drafts
//! the manifest from them, classifies each model and plans its packages; the [`plan`] it returns
//! is all that [`generate`] (`init`), [`debhelper`] (`dh_mlmodel`) and the [`helper`] see.

pub mod build_env;
pub mod census;
pub mod check;
pub mod cli;
pub mod control;
pub mod debhelper;
pub mod error;
pub mod fsutil;
#[doc(hidden)]
pub mod fuzz_targets;
pub mod generate;
pub mod hash;
pub mod helper;
pub mod manuals;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod repack;
pub mod sbom;
pub mod scan;
pub mod spdx;
pub mod templates;
pub mod terminal;
pub mod upstream;
pub mod verify;
