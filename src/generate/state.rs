//! `debian/.mlmodel-generated`: what `init` wrote last time, so that running it again updates
//! its own files and leaves the maintainer's edits alone. A generated file is rewritten only when
//! its SHA-256 still matches the digest recorded when the tool wrote it.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::error::{Kind, ResultExt};
use crate::fsutil::write_atomic;
use crate::hash::{sha256_bytes, sha256_file};

pub const STATE_PATH: &str = "debian/.mlmodel-generated";

const HEADER: &str = "# Written by `dh-mlmodel init`: the SHA-256 of each file it generated, and what it\n\
# added to debian/control. Running it again rewrites a file only while its digest still matches\n\
# (you have not edited it), removes only packages listed here, and never adds again an item\n\
# listed here that you removed. Keep this file; it is harmless in the source package (no build\n\
# tool reads it).\n";

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// The `Source:` `init` wrote in debian/control: while control still holds it, a new
    /// `[source] name` in the manifest renames the source package; once the maintainer changes
    /// it, control wins.
    #[serde(default)]
    pub source: Option<String>,
    /// Binary packages `init` added to debian/control for models.
    #[serde(default)]
    pub packages: Vec<String>,
    /// Every item `init` added to debian/control (`Package: NAME`, `PARAGRAPH: FIELD`,
    /// `PARAGRAPH: FIELD: ENTRY`): one missing from the file was removed by the maintainer and
    /// is never added again.
    #[serde(default)]
    pub control: std::collections::BTreeSet<String>,
    /// The items found removed, so that each is reported once.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub removed: std::collections::BTreeSet<String>,
    /// Patches `init` appended to debian/patches/series: one missing from the series was taken
    /// out by the maintainer and is never appended again.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub series: std::collections::BTreeSet<String>,
    /// Generated file (relative to the tree) → SHA-256 of the text the tool wrote.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

/// What happened to one generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Written,
    Unchanged,
    /// Left alone, and why.
    Kept(String),
}

impl State {
    pub fn load(root: &Path) -> Result<State> {
        let path = root.join(STATE_PATH);
        if !path.exists() {
            return Ok(State::default());
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))
            .input()?;
        toml::from_str(&text).map_err(|err| {
            Kind::Input.msg(crate::policy::describe_toml_error(STATE_PATH, &text, &err))
        })
    }

    pub fn save(&self, root: &Path) -> Result<()> {
        let text = format!("{HEADER}{}", toml::to_string(self)?);
        write_atomic(&root.join(STATE_PATH), text.as_bytes(), 0o644)
    }

    /// Writes `content` to `root/rel` unless the file there was changed since the tool wrote
    /// it, or was not written by the tool at all.
    pub fn write_generated(
        &mut self,
        root: &Path,
        rel: &str,
        content: &str,
        mode: u32,
    ) -> Result<Outcome> {
        let path = root.join(rel);
        let wanted = sha256_bytes(content.as_bytes());
        if path.exists() {
            let (current, _) =
                sha256_file(&path).with_context(|| format!("cannot read {}", path.display()))?;
            if current == wanted {
                self.files.insert(rel.to_string(), wanted);
                return Ok(Outcome::Unchanged);
            }
            match self.files.get(rel) {
                Some(recorded) if *recorded == current => {}
                Some(_) => {
                    return Ok(Outcome::Kept(
                        "edited since dh-mlmodel wrote it; delete it to get the new version"
                            .to_string(),
                    ));
                }
                None => {
                    return Ok(Outcome::Kept(format!(
                        "not written by dh-mlmodel (no digest in {STATE_PATH}); delete it to \
                         get the generated version"
                    )));
                }
            }
        }
        write_atomic(&path, content.as_bytes(), mode)?;
        self.files.insert(rel.to_string(), wanted);
        Ok(Outcome::Written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_what_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut state = State::default();
        assert_eq!(
            state
                .write_generated(root, "debian/a", "one\n", 0o644)
                .unwrap(),
            Outcome::Written
        );
        assert_eq!(
            state
                .write_generated(root, "debian/a", "one\n", 0o644)
                .unwrap(),
            Outcome::Unchanged
        );
        assert_eq!(
            state
                .write_generated(root, "debian/a", "two\n", 0o644)
                .unwrap(),
            Outcome::Written
        );
        std::fs::write(root.join("debian/a"), "mine\n").unwrap();
        assert!(matches!(
            state
                .write_generated(root, "debian/a", "three\n", 0o644)
                .unwrap(),
            Outcome::Kept(_)
        ));
        assert_eq!(
            std::fs::read_to_string(root.join("debian/a")).unwrap(),
            "mine\n"
        );
        std::fs::write(root.join("debian/b"), "theirs\n").unwrap();
        assert!(matches!(
            state
                .write_generated(root, "debian/b", "x\n", 0o644)
                .unwrap(),
            Outcome::Kept(_)
        ));
        state.packages.push("p".into());
        state.save(root).unwrap();
        let loaded = State::load(root).unwrap();
        assert_eq!(loaded.packages, vec!["p"]);
        assert_eq!(loaded.files.len(), 1);
    }
}
