//! Which upstream build system the tree uses, from `policy/buildsystems.toml`, and the code
//! package that follows from it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::requirements::{self, BuildRequirementsRule, TestRequirementsRule};

/// `policy/buildsystems.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BuildSystemTable {
    pub build_system: Vec<BuildSystem>,
    pub libraries: LibraryPolicy,
    pub unbuilt: UnbuiltPolicy,
    pub fallback: BuildSystem,
}

/// `[libraries]`: the Debian library layout's sections and the multiarch libdir.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LibraryPolicy {
    pub runtime_section: String,
    pub dev_section: String,
    pub libdir: String,
}

/// `[unbuilt]`: what a tree without a build system installs, and where.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct UnbuiltPolicy {
    pub install_dir: String,
    pub extensions: Vec<String>,
}

/// Read from the kebab-case table; the templates see snake_case names.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all(deserialize = "kebab-case"))]
pub struct BuildSystem {
    pub name: String,
    pub detect: Vec<String>,
    pub dh_arguments: String,
    pub build_depends: Vec<String>,
    pub package: String,
    pub section: String,
    pub architecture: String,
    pub depends: Vec<String>,
    #[serde(default)]
    pub exports: Vec<String>,
    #[serde(default)]
    pub install_to_package: bool,
    pub comment: String,
    /// How the tests' requirements become build-dependencies (`test-requirements`).
    #[serde(default)]
    pub test_requirements: Option<TestRequirementsRule>,
    /// How what the build itself imports becomes build-dependencies (`build-requirements`).
    #[serde(default)]
    pub build_requirements: Option<BuildRequirementsRule>,
    /// Lines debian/rules adds for this tree (the tests turned off, and why); comments start
    /// with `#`.
    #[serde(default, skip_deserializing)]
    pub rules_lines: Vec<String>,
}

impl BuildSystemTable {
    /// The first build system whose marker file exists in `root`, else the fallback.
    pub fn detect(&self, root: &Path) -> &BuildSystem {
        self.build_system
            .iter()
            .find(|b| b.detect.iter().any(|file| root.join(file).is_file()))
            .unwrap_or(&self.fallback)
    }
}

impl BuildSystem {
    /// This build system for the tree at `root`: what its build imports added as
    /// build-dependencies (those no Debian package provides named in `warnings` and in
    /// debian/rules), the code package made architecture-dependent when it compiles extension
    /// modules, and the requirements its tests import added as build-dependencies, or, when one
    /// has no Debian package, none of them and the tests turned off (with a warning).
    pub fn for_tree(&self, root: &Path, warnings: &mut Vec<String>) -> BuildSystem {
        let mut build = self.clone();
        if let Some(rule) = &self.build_requirements {
            build.add_build_requirements(root, rule, warnings);
        }
        let Some(rule) = &self.test_requirements else {
            return build;
        };
        let found = requirements::detect(root, Path::new(&rule.map));
        if found.missing.is_empty() {
            for package in &found.packages {
                let entry = format!("{package} {}", rule.restriction);
                if !build.build_depends.contains(&entry) {
                    build.build_depends.push(entry);
                }
            }
        } else {
            // The tests cannot import the package: what else they need is not needed either.
            let missing = found.missing.join(", ");
            let from = found.from.as_deref().unwrap_or("the requirements");
            warnings.push(format!(
                "no Debian package provides {missing} ({from}; dh-python's list at {}): the \
                 tests are turned off in debian/rules until it is packaged",
                rule.map
            ));
            build.rules_lines.push(format!(
                "# The tests import {missing} ({from}), which no Debian package provides yet."
            ));
            build.rules_lines.extend(rule.disable.iter().cloned());
        }
        build
    }

    fn add_build_requirements(
        &mut self,
        root: &Path,
        rule: &BuildRequirementsRule,
        warnings: &mut Vec<String>,
    ) {
        if requirements::builds_extensions(root, rule) {
            let extensions = &rule.extension_modules;
            for entry in &mut self.build_depends {
                if let Some(with_headers) = extensions.build_depends.get(entry.as_str()) {
                    *entry = with_headers.clone();
                }
            }
            self.architecture = extensions.architecture.clone();
            let mut depends = extensions.depends.clone();
            depends.retain(|d| !self.depends.contains(d));
            depends.append(&mut self.depends);
            self.depends = depends;
        }
        let found = requirements::detect_build(root, rule);
        // Unversioned: dh-python's list does not say which Debian version matches upstream's
        // `>=`, and the build itself checks what it needs.
        for package in &found.packages {
            if !self.build_depends.contains(package) {
                self.build_depends.push(package.clone());
            }
        }
        if !found.missing.is_empty() {
            let missing = found.missing.join(", ");
            let from = found.from.as_deref().unwrap_or("the build requirements");
            warnings.push(format!(
                "no Debian package provides {missing} ({from}; dh-python's list at {}): the \
                 package cannot build until it is packaged, or until the build is patched not \
                 to need it",
                rule.map
            ));
            self.rules_lines.push(format!(
                "# The build imports {missing} ({from}), which no Debian package provides yet: \
                 package it first, or patch the build not to need it."
            ));
        }
    }

    /// The code package's name for source `source` and upstream name `upstream`.
    pub fn package_name(&self, source: &str, upstream: Option<&str>) -> String {
        self.expand(&self.package, source, upstream)
    }

    /// `exports` with their placeholders expanded.
    pub fn exports(&self, source: &str, upstream: Option<&str>) -> Vec<String> {
        self.exports
            .iter()
            .map(|e| self.expand(e, source, upstream))
            .collect()
    }

    fn expand(&self, text: &str, source: &str, upstream: Option<&str>) -> String {
        let python = upstream
            .map(|name| {
                name.to_ascii_lowercase()
                    .chars()
                    .map(|c| if c == '_' || c == '.' { '-' } else { c })
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+'))
                    .collect::<String>()
            })
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| source.to_string());
        text.replace("{source}", source)
            .replace("{python}", &python)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySource;

    #[test]
    fn detects_in_table_order_and_names_packages() {
        let table: BuildSystemTable = PolicySource::embedded().table("buildsystems.toml").unwrap();
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(table.detect(dir.path()).name, "none");
        std::fs::write(dir.path().join("Makefile"), "all:\n").unwrap();
        assert_eq!(table.detect(dir.path()).name, "makefile");
        std::fs::write(dir.path().join("setup.py"), "").unwrap();
        let python = table.detect(dir.path());
        assert_eq!(python.name, "python");
        assert_eq!(
            python.package_name("src", Some("Tiny_Net")),
            "python3-tiny-net"
        );
        assert_eq!(python.package_name("src", None), "python3-src");
        assert_eq!(table.fallback.package_name("src", Some("x")), "src");
    }
}
