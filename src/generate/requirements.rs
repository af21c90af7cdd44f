//! What a Python upstream needs, read from its declared requirements, as Debian packages.
//!
//! * Run time: the tests pybuild runs import the package, so each requirement is a
//!   build-dependency of the tests, and one no Debian package provides means the tests cannot
//!   run. They come from `pyproject.toml`'s `[project] dependencies`, else `requirements.txt`
//!   (PEP 508 strings, one per line).
//! * Build time: what the build backend and `setup.py` import before anything is built
//!   (`pyproject.toml`'s `[build-system] requires`, PEP 518; `setup.py`'s `setup_requires`
//!   list), each a plain build-dependency: one no Debian package provides means the package
//!   cannot build until it is packaged.
//!
//! A requirement with an environment marker (`triton; sys_platform
//! == 'linux'`) is conditional and left out: upstream itself does without it somewhere. Names are
//! compared as PEP 503 normalises them, against dh-python's own list of which Debian package
//! provides which distribution (`test-requirements.map` in `policy/buildsystems.toml`), the list
//! dh_python3 reads to fill `${python3:Depends}`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::upstream::{read_path, setup_argument, string_list};

/// `test-requirements` of a build system in `policy/buildsystems.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct TestRequirementsRule {
    /// dh-python's map of distribution names to Debian packages.
    pub map: String,
    /// Added to each build-dependency the tests need (a build profile).
    pub restriction: String,
    /// debian/rules lines that turn the tests off, when a requirement has no package.
    pub disable: Vec<String>,
}

/// `build-requirements` of a build system in `policy/buildsystems.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct BuildRequirementsRule {
    /// dh-python's map of distribution names to Debian packages.
    pub map: String,
    /// Distributions whose build-time package is not the run-time one dh-python's list names
    /// (`setuptools`: `python3-setuptools`, where the list names `python3-pkg-resources`), by
    /// name as PEP 503 normalises it.
    #[serde(default)]
    pub packages: BTreeMap<String, String>,
    /// A build requirement among these (normalised names) compiles extension modules
    /// (`cython`), as a `setup()` passing `ext_modules` does: the package is then built
    /// against the Python headers and is architecture-dependent.
    #[serde(default)]
    pub compilers: Vec<String>,
    /// What changes for a package with extension modules.
    pub extension_modules: ExtensionModulesRule,
}

/// `extension-modules` of `build-requirements`: the code package of an upstream that compiles
/// extension modules.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct ExtensionModulesRule {
    /// Build-dependencies replaced (`python3-all` by `python3-all-dev`, which has the headers).
    pub build_depends: BTreeMap<String, String>,
    /// The code package's architecture (`any`: the modules are compiled).
    pub architecture: String,
    /// Added first to the code package's `Depends` (`${shlibs:Depends}`).
    pub depends: Vec<String>,
}

/// The requirements of a tree, as Debian sees them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Requirements {
    /// Debian packages providing requirements, sorted.
    pub packages: Vec<String>,
    /// Requirements no Debian package provides (as upstream spells them), sorted.
    pub missing: Vec<String>,
    /// The file the requirements were read from, relative to the tree.
    pub from: Option<String>,
}

/// Most bytes read of one requirements file: real ones are a few KiB.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// Most bytes read of dh-python's map (about 200 KiB in bookworm).
const MAP_MAX_BYTES: u64 = 16 << 20;

/// Reads `root`'s run-time requirements and maps them with the file at `map`; no requirements
/// file, or no map (dh-python not installed), gives nothing to add.
pub fn detect(root: &Path, map: &Path) -> Requirements {
    let Some((from, names)) = declared(root) else {
        return Requirements::default();
    };
    resolve(from, names, map, &BTreeMap::new())
}

/// Reads `root`'s build requirements and maps them as `rule` says.
pub fn detect_build(root: &Path, rule: &BuildRequirementsRule) -> Requirements {
    let Some((from, names)) = declared_for_build(root) else {
        return Requirements::default();
    };
    resolve(from, names, Path::new(&rule.map), &rule.packages)
}

/// Whether `root` builds extension modules: its `setup()` passes `ext_modules`, or a build
/// requirement is one of `rule`'s compilers (Cython, pybind11).
pub fn builds_extensions(root: &Path, rule: &BuildRequirementsRule) -> bool {
    let passes_ext_modules = read_path(&root.join("setup.py"), MAX_FILE_BYTES)
        .is_some_and(|text| setup_argument(&text, "ext_modules").is_some());
    passes_ext_modules
        || declared_for_build(root).is_some_and(|(_, names)| {
            names
                .iter()
                .any(|name| rule.compilers.contains(&normalise(name)))
        })
}

/// `names` (read from `from`) as the Debian packages `overrides`, else dh-python's list at
/// `map`, names; without the list nothing is guessed.
fn resolve(
    from: String,
    names: Vec<String>,
    map: &Path,
    overrides: &BTreeMap<String, String>,
) -> Requirements {
    let Some(map) = read_path(map, MAP_MAX_BYTES).map(|text| distribution_map(&text)) else {
        return Requirements::default();
    };
    let mut packages = BTreeSet::new();
    let mut missing = BTreeSet::new();
    for name in names {
        let normalised = normalise(&name);
        match overrides.get(&normalised).or_else(|| map.get(&normalised)) {
            Some(package) => {
                packages.insert(package.clone());
            }
            None => {
                missing.insert(name);
            }
        }
    }
    Requirements {
        packages: packages.into_iter().collect(),
        missing: missing.into_iter().collect(),
        from: Some(from),
    }
}

/// The unconditional build requirements the tree declares, and where: `pyproject.toml`'s
/// `[build-system] requires` and `setup.py`'s `setup_requires` list (a list computed at run
/// time is not read).
fn declared_for_build(root: &Path) -> Option<(String, Vec<String>)> {
    let mut from = Vec::new();
    let mut names = Vec::new();
    if let Some(text) = read_path(&root.join("pyproject.toml"), MAX_FILE_BYTES)
        && let Ok(value) = toml::from_str::<toml::Table>(&text)
        && let Some(list) = value
            .get("build-system")
            .and_then(|b| b.get("requires"))
            .and_then(|r| r.as_array())
    {
        from.push("pyproject.toml [build-system] requires");
        names.extend(
            list.iter()
                .filter_map(|r| r.as_str())
                .filter_map(requirement_name),
        );
    }
    if let Some(text) = read_path(&root.join("setup.py"), MAX_FILE_BYTES)
        && let Some(list) = setup_argument(&text, "setup_requires").and_then(string_list)
    {
        from.push("setup.py setup_requires");
        names.extend(list.iter().filter_map(|r| requirement_name(r)));
    }
    (!from.is_empty()).then(|| (from.join(", "), names))
}

/// The unconditional requirement names the tree declares, and the file that declares them.
fn declared(root: &Path) -> Option<(String, Vec<String>)> {
    if let Some(text) = read_path(&root.join("pyproject.toml"), MAX_FILE_BYTES)
        && let Ok(value) = toml::from_str::<toml::Table>(&text)
        && let Some(list) = value
            .get("project")
            .and_then(|p| p.get("dependencies"))
            .and_then(|d| d.as_array())
    {
        let names = list
            .iter()
            .filter_map(|r| r.as_str())
            .filter_map(requirement_name)
            .collect();
        return Some(("pyproject.toml".to_string(), names));
    }
    let text = read_path(&root.join("requirements.txt"), MAX_FILE_BYTES)?;
    let names = text
        .lines()
        .map(|line| line.split(" #").next().unwrap_or("").trim())
        .filter(|line| !line.starts_with(['#', '-']) && !line.contains("://"))
        .filter_map(requirement_name)
        .collect();
    Some(("requirements.txt".to_string(), names))
}

/// The distribution name of a PEP 508 requirement without an environment marker
/// (`tqdm>=4; python_version < "3.8"` has one: `None`).
fn requirement_name(requirement: &str) -> Option<String> {
    let requirement = requirement.trim();
    if requirement.contains(';') {
        return None;
    }
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
        .unwrap_or(requirement.len());
    let name = &requirement[..end];
    (!name.is_empty() && name.starts_with(|c: char| c.is_ascii_alphanumeric()))
        .then(|| name.to_string())
}

/// PEP 503: lower case, runs of `-`, `_` and `.` as one `-`.
fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if "-_.".contains(c) {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// dh-python's `dist/cpython3_fallback`: `DISTRIBUTION PACKAGE` per line (an optional version
/// constraint after the package is ignored).
fn distribution_map(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((normalise(words.next()?), words.next()?.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_are_named_as_pep_508_and_503_read_them() {
        assert_eq!(requirement_name("tqdm>=4.0").as_deref(), Some("tqdm"));
        assert_eq!(
            requirement_name("more-itertools [extra] ~= 8").as_deref(),
            Some("more-itertools")
        );
        assert_eq!(requirement_name("triton>=2; sys_platform=='linux'"), None);
        assert_eq!(requirement_name(""), None);
        assert_eq!(normalise("More__Itertools.x"), "more-itertools-x");
    }

    #[test]
    fn mapped_requirements_are_packages_and_the_rest_are_missing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\ndependencies = [\"numpy>=1\", \"More_Itertools\", \
             \"tiktoken\", \"triton; sys_platform == 'linux'\"]\n",
        )
        .unwrap();
        // Also present, but pyproject.toml's list wins.
        std::fs::write(dir.path().join("requirements.txt"), "requests\n").unwrap();
        let map = dir.path().join("fallback");
        std::fs::write(
            &map,
            "numpy python3-numpy\nmore_itertools python3-more-itertools\n",
        )
        .unwrap();
        assert_eq!(
            detect(dir.path(), &map),
            Requirements {
                packages: vec!["python3-more-itertools".into(), "python3-numpy".into()],
                missing: vec!["tiktoken".into()],
                from: Some("pyproject.toml".into()),
            }
        );
        assert_eq!(
            detect(dir.path(), &dir.path().join("absent")),
            Requirements::default(),
            "without dh-python's list nothing is guessed"
        );
    }

    #[test]
    fn requirements_txt_when_pyproject_declares_none() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("requirements.txt"),
            "# runtime\nnumpy  # arrays\n-r other.txt\ngit+https://example.org/x.git\n",
        )
        .unwrap();
        let map = dir.path().join("fallback");
        std::fs::write(&map, "numpy python3-numpy\n").unwrap();
        let found = detect(dir.path(), &map);
        assert_eq!(found.packages, ["python3-numpy"]);
        assert!(found.missing.is_empty());
        assert_eq!(found.from.as_deref(), Some("requirements.txt"));
    }
}
