//! Which tags are shown and which fail the run, with lintian's options and semantics
//! (`lintian` 2.116: `--display-level`, `-I`, `--pedantic`, `--tags`, `--suppress-tags`,
//! `--fail-on`, `--show-overrides`).

use std::collections::BTreeSet;

use super::tags::Severity;

/// The severities shown: lintian's default is warning and error (`display_level_lookup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayLevel {
    shown: BTreeSet<Severity>,
}

impl Default for DisplayLevel {
    fn default() -> Self {
        Self {
            shown: [Severity::Warning, Severity::Error].into(),
        }
    }
}

impl DisplayLevel {
    pub fn shows(&self, severity: Severity) -> bool {
        self.shown.contains(&severity)
    }

    /// `-I`/`--display-info`: `+>=info`.
    pub fn add_info(&mut self) {
        self.apply('+', ">=", Severity::Info);
    }

    /// `--pedantic`: `+=pedantic`.
    pub fn add_pedantic(&mut self) {
        self.apply('+', "=", Severity::Pedantic);
    }

    /// One `--display-level` item, `[+=-][<|<=|=|>=|>]SEVERITY` (lintian's defaults: `=`
    /// and `=`, so `-L warning` shows warnings only).
    pub fn apply_item(&mut self, item: &str) -> Result<(), String> {
        let item = item.trim();
        let (operator, rest) = match item.chars().next() {
            Some(op @ ('+' | '-' | '=')) => (op, &item[1..]),
            _ => ('=', item),
        };
        let (relation, severity) = ["<=", ">=", "<", ">", "="]
            .iter()
            .find_map(|rel| rest.strip_prefix(rel).map(|s| (*rel, s)))
            .unwrap_or(("=", rest));
        let severity = Severity::parse(severity).ok_or_else(|| {
            format!(
                "invalid display constraint {item:?}: the severity is one of classification, \
                 pedantic, info, warning, error"
            )
        })?;
        self.apply(operator, relation, severity);
        Ok(())
    }

    fn apply(&mut self, operator: char, relation: &str, severity: Severity) {
        if operator == '=' {
            self.shown.clear();
        }
        let selected = Severity::ALL.into_iter().filter(|s| match relation {
            "<" => *s < severity,
            "<=" => *s <= severity,
            ">" => *s > severity,
            ">=" => *s >= severity,
            _ => *s == severity,
        });
        for s in selected {
            if operator == '-' {
                self.shown.remove(&s);
            } else {
                self.shown.insert(s);
            }
        }
    }
}

/// What `--fail-on` counts (lintian: `error`, `warning`, `info`, `pedantic`, `experimental`,
/// `override`, or `none` alone). Each named condition stands for itself: `warning` does not
/// imply `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailOn {
    severities: BTreeSet<Severity>,
    overrides: bool,
}

impl Default for FailOn {
    /// Lintian's default: `error`.
    fn default() -> Self {
        Self {
            severities: [Severity::Error].into(),
            overrides: false,
        }
    }
}

impl FailOn {
    /// Parses the values of every `--fail-on`, each a comma list.
    pub fn parse(values: &[String]) -> Result<Self, String> {
        if values.is_empty() {
            return Ok(Self::default());
        }
        let items: Vec<&str> = values
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        if items.contains(&"none") {
            if items.len() > 1 {
                return Err(format!(
                    "--fail-on: cannot combine 'none' with other conditions: {}",
                    items.join(" ")
                ));
            }
            return Ok(Self {
                severities: BTreeSet::new(),
                overrides: false,
            });
        }
        let mut fail = Self {
            severities: BTreeSet::new(),
            overrides: false,
        };
        for item in items {
            match item {
                "override" => fail.overrides = true,
                // No tag of ours is experimental; accepted as lintian accepts it.
                "experimental" => {}
                other => match Severity::parse(other).filter(|s| *s != Severity::Classification) {
                    Some(severity) => {
                        fail.severities.insert(severity);
                    }
                    None => {
                        return Err(format!(
                            "--fail-on: unrecognized argument {other:?} (error, warning, info, \
                             pedantic, experimental, override or none)"
                        ));
                    }
                },
            }
        }
        Ok(fail)
    }

    /// Whether a hint of `severity` reaches the condition. As in lintian's Pool.pm, an
    /// overridden hint counts only when overrides are shown, and then under its severity and
    /// under `override`.
    pub fn reached(&self, severity: Severity, overridden: bool, show_overrides: bool) -> bool {
        if overridden && !show_overrides {
            return false;
        }
        self.severities.contains(&severity) || (self.overrides && overridden)
    }
}

/// `--tags` and `--suppress-tags`.
#[derive(Debug, Clone, Default)]
pub struct TagSelection {
    /// Only these, when given.
    pub only: Option<BTreeSet<String>>,
    pub suppressed: BTreeSet<String>,
}

impl TagSelection {
    pub fn new(only: &[String], suppressed: &[String]) -> Self {
        let split = |values: &[String]| -> BTreeSet<String> {
            values
                .iter()
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect()
        };
        Self {
            only: (!only.is_empty()).then(|| split(only)),
            suppressed: split(suppressed),
        }
    }

    pub fn enabled(&self, tag: &str) -> bool {
        self.only.as_ref().is_none_or(|only| only.contains(tag)) && !self.suppressed.contains(tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_levels_as_lintian() {
        let mut level = DisplayLevel::default();
        assert!(!level.shows(Severity::Info));
        level.apply_item("warning").unwrap();
        assert!(level.shows(Severity::Warning) && !level.shows(Severity::Error));
        level.apply_item("+>=info").unwrap();
        assert!(level.shows(Severity::Info) && level.shows(Severity::Error));
        level.apply_item("-error").unwrap();
        assert!(!level.shows(Severity::Error));
        assert!(level.apply_item("serious").is_err());
    }

    #[test]
    fn fail_on_is_a_set() {
        let warning = FailOn::parse(&["warning".to_string()]).unwrap();
        assert!(warning.reached(Severity::Warning, false, false));
        assert!(!warning.reached(Severity::Error, false, false));
        assert!(!warning.reached(Severity::Warning, true, false));
        let none = FailOn::parse(&["none".to_string()]).unwrap();
        assert!(!none.reached(Severity::Error, false, false));
        assert!(FailOn::parse(&["none,error".to_string()]).is_err());
        assert!(FailOn::parse(&["serious".to_string()]).is_err());
    }
}
