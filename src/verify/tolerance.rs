//! Tolerances: `[tolerance]` of `policy/verify.toml`, overridden per model by `[model.verify]`
//! of the manifest, then by `--tolerance`.
//!
//! The `--tolerance` grammar: a comma-separated list of `KEY=VALUE` items, KEY one of
//! `max-abs`, `rel-l2`, `cosine`, VALUE a decimal or scientific float (`1e-6`, `0.9999`);
//! `max-abs` and `rel-l2` at least 0, `cosine` from -1 to 1. Keys not given keep the value of
//! the layer below; a key given twice is an error.

use serde::{Deserialize, Serialize};

/// The three bounds a tensor must meet to be `within`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Tolerance {
    pub max_abs: f64,
    pub rel_l2: f64,
    pub cosine: f64,
}

/// Some of the bounds, as `[model.verify]` or `--tolerance` give them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ToleranceOverride {
    pub max_abs: Option<f64>,
    pub rel_l2: Option<f64>,
    pub cosine: Option<f64>,
}

const KEYS: &str = "max-abs, rel-l2, cosine";

impl Tolerance {
    /// These bounds with the ones `over` gives replacing them.
    pub fn with(self, over: &ToleranceOverride) -> Tolerance {
        Tolerance {
            max_abs: over.max_abs.unwrap_or(self.max_abs),
            rel_l2: over.rel_l2.unwrap_or(self.rel_l2),
            cosine: over.cosine.unwrap_or(self.cosine),
        }
    }

    /// Whether the figures of one tensor meet every bound (NaN figures never do).
    pub fn admits(&self, max_abs: f64, rel_l2: f64, cosine: f64) -> bool {
        max_abs <= self.max_abs && rel_l2 <= self.rel_l2 && cosine >= self.cosine
    }
}

impl ToleranceOverride {
    /// Parses the `--tolerance` grammar (module documentation); the error names the item.
    pub fn parse(spec: &str) -> Result<ToleranceOverride, String> {
        let mut parsed = ToleranceOverride::default();
        for item in spec.split(',') {
            let item = item.trim();
            let (key, value) = item.split_once('=').ok_or_else(|| {
                format!("--tolerance item `{item}` is not KEY=VALUE (keys: {KEYS}; e.g. max-abs=1e-6,rel-l2=1e-5)")
            })?;
            let (key, value) = (key.trim(), value.trim());
            let number: f64 = value.parse().map_err(|_| {
                format!("--tolerance {key}: `{value}` is not a number (write e.g. 1e-6 or 0.9999)")
            })?;
            parsed.set(key, number)?;
        }
        Ok(parsed)
    }

    /// Checks a `[model.verify]` table's values; the error names the key.
    pub fn check(&self) -> Result<(), String> {
        let mut copy = ToleranceOverride::default();
        for (key, value) in [
            ("max-abs", self.max_abs),
            ("rel-l2", self.rel_l2),
            ("cosine", self.cosine),
        ] {
            if let Some(value) = value {
                copy.set(key, value)?;
            }
        }
        Ok(())
    }

    fn set(&mut self, key: &str, value: f64) -> Result<(), String> {
        let (slot, valid) = match key {
            "max-abs" => (&mut self.max_abs, value >= 0.0),
            "rel-l2" => (&mut self.rel_l2, value >= 0.0),
            "cosine" => (&mut self.cosine, (-1.0..=1.0).contains(&value)),
            other => {
                return Err(format!("unknown tolerance `{other}`: the keys are {KEYS}"));
            }
        };
        if !valid {
            let range = if key == "cosine" {
                "from -1 to 1"
            } else {
                "a number at least 0"
            };
            return Err(format!("tolerance {key} = {value} must be {range}"));
        }
        if slot.replace(value).is_some() {
            return Err(format!("tolerance {key} is given twice"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_accepts_lists_and_scientific_notation() {
        let parsed = ToleranceOverride::parse("max-abs=1e-6, cosine=0.9999").unwrap();
        assert_eq!(parsed.max_abs, Some(1e-6));
        assert_eq!(parsed.rel_l2, None);
        assert_eq!(parsed.cosine, Some(0.9999));
    }

    #[test]
    fn grammar_errors_name_the_item() {
        for (spec, needle) in [
            ("max-abs", "not KEY=VALUE"),
            ("max-abs=tiny", "not a number"),
            ("l2=1", "unknown tolerance `l2`"),
            ("cosine=2", "from -1 to 1"),
            ("rel-l2=-1", "at least 0"),
            ("max-abs=1,max-abs=2", "given twice"),
        ] {
            let err = ToleranceOverride::parse(spec).unwrap_err();
            assert!(err.contains(needle), "{spec}: {err}");
        }
    }
}
