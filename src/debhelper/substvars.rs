//! `debian/<package>.substvars`, updated as debhelper's `addsubstvar` does: a value joins the
//! comma-separated list of its variable (sorted, without duplicates), other lines are kept, and
//! the file is replaced atomically, and only when it changes.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};

use crate::fsutil::write_atomic;

/// Adds `value` (e.g. `foo-model-bar`) to the substvar `name` (e.g. `mlmodel:Recommends`).
pub fn add(debian_dir: &Path, package: &str, name: &str, value: &str, no_act: bool) -> Result<()> {
    anyhow::ensure!(
        !value.contains('\n'),
        "substvar {name} must not contain a newline"
    );
    let path = debian_dir.join(format!("{package}.substvars"));
    let old = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut present = false;
    let mut lines: Vec<String> = Vec::new();
    for line in old.lines() {
        let assignment = line.strip_prefix(name).and_then(|rest| {
            rest.strip_prefix("?=")
                .map(|v| ("?=", v))
                .or_else(|| rest.strip_prefix('=').map(|v| ("=", v)))
        });
        match assignment {
            Some((operator, values)) => {
                present = true;
                let mut items: BTreeSet<&str> =
                    values.split(", ").filter(|v| !v.is_empty()).collect();
                items.insert(value);
                lines.push(format!(
                    "{name}{operator}{}",
                    items.into_iter().collect::<Vec<_>>().join(", ")
                ));
            }
            None => lines.push(line.to_string()),
        }
    }
    if !present {
        lines.push(format!("{name}={value}"));
    }
    let new: String = lines.iter().map(|l| format!("{l}\n")).collect();
    if new != old && !no_act {
        write_atomic(&path, new.as_bytes(), 0o644)?;
    }
    Ok(())
}
