//! `policy/pickle.toml`: what a pickle may import, what is known to be dangerous, and the bounds
//! on what the analysis keeps in memory.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `policy/pickle.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PickleTable {
    pub limits: PickleLimits,
    #[serde(default)]
    pub module_renames: BTreeMap<String, String>,
    pub allow: Vec<AllowRule>,
    pub dangerous: Vec<DangerRule>,
    #[serde(default)]
    pub dangerous_attributes: BTreeMap<String, String>,
    pub joblib: JoblibRules,
}

/// How joblib's raw array data is found in its pickle stream.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct JoblibRules {
    /// Globals whose objects, once their state is set (BUILD), are followed by array bytes.
    pub array_wrappers: Vec<String>,
    /// Globals that build a NumPy dtype from a type code such as `f8`.
    pub dtype_constructors: Vec<String>,
}

/// Bounds on what the analysis keeps in memory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PickleLimits {
    pub max_string_bytes: usize,
    pub max_stack_items: usize,
    pub max_memo_entries: usize,
    pub max_memo_bytes: usize,
    pub max_globals: usize,
    pub max_reasons: usize,
    /// Valid opcodes from the start of a file that make it a pickle for format identification,
    /// whether or not the walk reaches `STOP` in the window.
    pub identify_opcodes: u64,
}

/// Globals a data-only pickle may import: exact `(module, name)` pairs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AllowRule {
    pub module: String,
    pub names: Vec<String>,
    /// When not empty, a call passing a second argument must pass one of these literal strings
    /// (the encoding of `_codecs.encode(text, "latin1")`).
    #[serde(default)]
    pub encoding_argument: Vec<String>,
}

/// Globals known to be dangerous, and what they do.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DangerRule {
    pub module: String,
    /// Attribute names, possibly dotted; `*` covers the whole module and its sub-modules.
    pub names: Vec<String>,
    pub effect: String,
}

impl PickleTable {
    /// Index of the allow-list entry naming exactly `module.name`.
    pub(super) fn allow_rule(&self, module: &str, name: &str) -> Option<usize> {
        self.allow
            .iter()
            .position(|rule| rule.module == module && rule.names.iter().any(|n| n == name))
    }

    /// What a global does, if it is known to be dangerous. `path` is the normalised module's
    /// components followed by the name's.
    pub(super) fn danger(&self, path: &[&str], module_parts: usize) -> Option<&str> {
        if let Some(effect) = self.danger_at(path) {
            return Some(effect);
        }
        if let Some(effect) = path
            .iter()
            .find_map(|part| self.dangerous_attributes.get(*part))
        {
            return Some(effect);
        }
        // A dangerous module reached as an attribute of another one (`numpy.core._internal`
        // + `sys.modules`). Only the attribute chain is tried, so a package that merely has a
        // sub-module called `code` is not mistaken for the `code` module.
        (module_parts.max(1)..path.len()).find_map(|start| self.danger_at(&path[start..]))
    }

    /// How a global of a [`super::PickleReport`] (`module.name`, as the walk recorded it)
    /// stands against the table, judged as the walk judged it on import: allowed when some
    /// split of it into module and name is on the allow-list, else dangerous when some split
    /// is known to run code, else merely not allowed. `check` turns this into its two tags.
    pub fn judge_global(&self, display: &str) -> GlobalStatus {
        let splits = || {
            display
                .match_indices('.')
                .map(|(at, _)| (&display[..at], &display[at + 1..]))
        };
        let renamed = |module: &'_ str| -> String {
            self.module_renames
                .get(module)
                .cloned()
                .unwrap_or_else(|| module.to_string())
        };
        if splits().any(|(module, name)| self.allow_rule(&renamed(module), name).is_some()) {
            return GlobalStatus::Allowed;
        }
        for (module, name) in splits() {
            let module = renamed(module);
            let path: Vec<&str> = module.split('.').chain(name.split('.')).collect();
            if let Some(effect) = self.danger(&path, module.split('.').count()) {
                return GlobalStatus::Dangerous(effect.to_string());
            }
        }
        GlobalStatus::NotAllowed
    }

    fn danger_at(&self, path: &[&str]) -> Option<&str> {
        self.dangerous.iter().find_map(|rule| {
            let module: Vec<&str> = rule.module.split('.').collect();
            if path.len() < module.len() || path[..module.len()] != module[..] {
                return None;
            }
            let rest = path[module.len()..].join(".");
            let hit = rule.names.iter().any(|name| {
                name == "*"
                    || rest == *name
                    || rest
                        .strip_prefix(name.as_str())
                        .is_some_and(|tail| tail.starts_with('.'))
            });
            hit.then_some(rule.effect.as_str())
        })
    }
}

/// A global judged against the table ([`PickleTable::judge_global`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobalStatus {
    Allowed,
    /// Known to run code; what it does.
    Dangerous(String),
    NotAllowed,
}
