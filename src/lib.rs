//! dh-mlmodel: find, classify and package machine-learning model weights for Debian.
//!
//! Data flows one way (DESIGN.md §2): `scan` produces [`scan::Finding`]s; the manifest records
//! facts; `classify` decides a category per model; `plan` turns that into packages.

pub mod classify;
pub mod cli;
pub mod debhelper;
pub mod fsutil;
pub mod generate;
pub mod hash;
pub mod helper;
pub mod init;
pub mod manifest;
pub mod plan;
pub mod policy;
pub mod report;
pub mod scan;
pub mod spdx;
pub mod verdict;
