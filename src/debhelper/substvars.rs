//! `debian/<package>.substvars`, updated as debhelper's `addsubstvar` does: a value joins the
//! comma-separated list of its variable (sorted, without duplicates), other lines are kept, and
//! the file is replaced atomically, and only when it changes.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};

use crate::fsutil::write_atomic;

/// Every substvar `dh-mlmodel init` writes into debian/control. `dh_mlmodel` defines each one
/// for every package it acts on, empty when it has nothing to add, so dpkg-gencontrol never
/// warns "substitution variable ${mlmodel:…} used, but is not defined".
pub const DEFINED: &[&str] = &["mlmodel:Depends", "mlmodel:Recommends", "mlmodel:Suggests"];

/// Defines every substvar of [`DEFINED`] not yet in `package`'s substvars file, empty.
pub fn define_all(debian_dir: &Path, package: &str, no_act: bool) -> Result<()> {
    for name in DEFINED {
        update(debian_dir, package, name, None, no_act)?;
    }
    Ok(())
}

/// Adds `value` (e.g. `foo-model-bar`) to the substvar `name` (e.g. `mlmodel:Recommends`).
pub fn add(debian_dir: &Path, package: &str, name: &str, value: &str, no_act: bool) -> Result<()> {
    update(debian_dir, package, name, Some(value), no_act)
}

/// Adds `value` to `name`, or with `None` only makes sure `name` is defined.
fn update(
    debian_dir: &Path,
    package: &str,
    name: &str,
    value: Option<&str>,
    no_act: bool,
) -> Result<()> {
    let value = value.unwrap_or("");
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
                if !value.is_empty() {
                    items.insert(value);
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defining_keeps_values_and_adds_the_missing_empty() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.substvars"), "misc:Depends=x\n").unwrap();
        add(dir.path(), "p", "mlmodel:Recommends", "p-model-a", false).unwrap();
        define_all(dir.path(), "p", false).unwrap();
        define_all(dir.path(), "p", false).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("p.substvars")).unwrap(),
            "misc:Depends=x\nmlmodel:Recommends=p-model-a\nmlmodel:Depends=\nmlmodel:Suggests=\n"
        );
    }
}
