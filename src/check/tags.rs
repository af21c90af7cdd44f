//! The tag definitions of `policy/tags.toml`: lintian's tag fields as data.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::policy::PolicySource;

/// Lintian's visibilities, lowest first (`Lintian::Tag::VISIBILITIES`): the order
/// `--display-level` relations (`>=warning`) compare in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Classification,
    Pedantic,
    Info,
    Warning,
    Error,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Classification,
        Severity::Pedantic,
        Severity::Info,
        Severity::Warning,
        Severity::Error,
    ];

    /// The letter lintian prints.
    pub fn code(self) -> char {
        match self {
            Severity::Classification => 'C',
            Severity::Pedantic => 'P',
            Severity::Info => 'I',
            Severity::Warning => 'W',
            Severity::Error => 'E',
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Classification => "classification",
            Severity::Pedantic => "pedantic",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One tag.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Tag {
    pub name: String,
    pub severity: Severity,
    pub explanation: String,
    #[serde(default)]
    pub see_also: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TagFile {
    tag: Vec<Tag>,
}

/// Every tag, by name.
#[derive(Debug, Clone)]
pub struct TagTable {
    tags: BTreeMap<String, Tag>,
}

/// The table's file.
pub const FILE: &str = "tags.toml";

impl TagTable {
    /// Loads `policy/tags.toml`. Every tag the rules emit ([`super::rules::EMITTED`]) must be
    /// defined, and each only once: a table lacking one is refused, not discovered when the
    /// tag fires.
    pub fn load(policy: &PolicySource) -> Result<Self> {
        let file: TagFile = policy.table(FILE)?;
        let mut tags = BTreeMap::new();
        for tag in file.tag {
            if tag.name.is_empty()
                || !tag
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                bail!(
                    "{FILE}: tag name {:?} is not lower-case letters, digits and `-`; fix it",
                    tag.name
                );
            }
            if let Some(old) = tags.insert(tag.name.clone(), tag) {
                bail!("{FILE}: tag {} is defined twice; keep one", old.name);
            }
        }
        for name in super::rules::EMITTED {
            if !tags.contains_key(*name) {
                bail!("{FILE}: tag {name} is not defined; the checks emit it, so add it");
            }
        }
        Ok(Self { tags })
    }

    pub fn get(&self, name: &str) -> Option<&Tag> {
        self.tags.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Tag> {
        self.tags.values()
    }
}
