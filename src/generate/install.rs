//! What each code package installs: Debian's library layout when the upstream build installs
//! shared libraries ([`library_layout`]), and `debian/<package>.install` for a tree without a
//! build system ([`unbuilt_tree`]), so no package comes out empty.

use std::path::Path;

use super::buildsys::{LibraryPolicy, UnbuiltPolicy};
use super::libraries::{Installed, SharedLibrary, Soname, package_for_soname};
use crate::pipeline::DraftPolicy;

/// The lines of one `debian/<package>.install` (`SOURCE [DESTINATION]`, dh_install(1)).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InstallFile {
    pub package: String,
    /// Why these files, for the file's comment.
    pub why: String,
    pub lines: Vec<String>,
}

/// One runtime library package: the libraries whose SONAMEs change together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimePackage {
    pub name: String,
    pub libraries: Vec<SharedLibrary>,
    /// The SONAME is not visible in the build files: what the maintainer must settle.
    pub fixme: Option<String>,
}

/// Debian's layout of a library project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryLayout {
    pub runtime: Vec<RuntimePackage>,
    pub dev: String,
    /// The package of the executables, when upstream installs any.
    pub tools: Option<String>,
    pub installed: Installed,
    pub files: Vec<InstallFile>,
}

impl LibraryLayout {
    /// The package the models' relations (`${mlmodel:Recommends}`…) go on: the programs',
    /// else the (first) runtime library's.
    pub fn primary(&self) -> &str {
        self.tools.as_deref().unwrap_or(&self.runtime[0].name)
    }
}

/// A library's name as a package name part: lower case, `_` as `-`.
fn debian_name(name: &str) -> String {
    name.replace('_', "-").to_ascii_lowercase()
}

/// The layout for what the build installs, or `None` when it installs no shared library.
/// `code_package` is the build system's package name (it keeps the executables); `upstream`
/// the project's name, whose library (if any) names the `-dev` package. Libraries with the
/// same SONAME version go in one runtime package (Policy 8.1 allows it when their SONAMEs
/// always change together, as the same version variable makes them); when the SONAME is not
/// visible the package is named without it and a `FIXME` and a warning say so.
pub fn library_layout(
    installed: &Installed,
    code_package: &str,
    upstream: &str,
    policy: &LibraryPolicy,
    warnings: &mut Vec<String>,
) -> Option<LibraryLayout> {
    if installed.libraries.is_empty() {
        return None;
    }
    let principal = installed
        .libraries
        .iter()
        .find(|l| debian_name(&l.name) == debian_name(upstream))
        .unwrap_or(&installed.libraries[0]);
    // The version part of a SONAME: what follows `lib<name>`.
    let version_part = |library: &SharedLibrary| match &library.soname {
        Soname::Known(soname) => soname
            .strip_prefix(&format!("lib{}", library.name))
            .map(str::to_string),
        _ => None,
    };
    let mut runtime: Vec<RuntimePackage> = Vec::new();
    let mut groups: Vec<(String, Vec<SharedLibrary>)> = Vec::new();
    for library in &installed.libraries {
        match (version_part(library), &library.soname) {
            (Some(part), _) => match groups.iter_mut().find(|(p, _)| *p == part) {
                Some((_, members)) => members.push(library.clone()),
                None => groups.push((part, vec![library.clone()])),
            },
            (None, soname) => {
                let name = format!("lib{}", debian_name(&library.name));
                let why = match soname {
                    Soname::Unversioned => format!(
                        "{}: lib{}.so is built without a SONAME version; a public library \
                         needs one (ask upstream to set it, or keep the library private to \
                         the package)",
                        library.at, library.name
                    ),
                    Soname::Unknown(written) => format!(
                        "{}: the SONAME version of lib{} is `{written}`, which the build files \
                         do not resolve; read it with `objdump -p` on the built library",
                        library.at, library.name
                    ),
                    Soname::Known(_) => unreachable!("a known SONAME has a version part"),
                };
                warnings.push(format!(
                    "{why}: the package is drafted as {name}; rename it after the SONAME \
                     (Debian Policy 8.1), with its debian/{name}.install"
                ));
                runtime.push(RuntimePackage {
                    name,
                    libraries: vec![library.clone()],
                    fixme: Some(why),
                });
            }
        }
    }
    let mut known: Vec<RuntimePackage> = groups
        .into_iter()
        .map(|(_, members)| {
            let named = members
                .iter()
                .find(|l| l.name == principal.name)
                .unwrap_or(&members[0]);
            let Soname::Known(soname) = &named.soname else {
                unreachable!("grouped libraries have known SONAMEs")
            };
            RuntimePackage {
                name: package_for_soname(soname),
                libraries: members,
                fixme: None,
            }
        })
        .collect();
    known.append(&mut runtime);
    let runtime = known;
    let dev = format!("lib{}-dev", debian_name(&principal.name));
    let tools = installed.executables.then(|| {
        if code_package.starts_with("lib") || runtime.iter().any(|r| r.name == code_package) {
            format!("{}-tools", code_package.trim_start_matches("lib"))
        } else {
            code_package.to_string()
        }
    });
    let libdir = &policy.libdir;
    let single = runtime.len() == 1;
    let mut files = Vec::new();
    let mut dev_lines = Vec::new();
    if installed.headers {
        dev_lines.push("usr/include".to_string());
    }
    for package in &runtime {
        let mut lines = Vec::new();
        for library in &package.libraries {
            let line = match &library.soname {
                // `-release` alone: the SONAME is the file's whole name.
                Soname::Known(soname) if soname.ends_with(".so") => format!("{libdir}/{soname}"),
                // One package: every versioned library the build installs, those made by
                // helper functions the build files hide included.
                Soname::Known(_) if single => format!("{libdir}/lib*.so.*"),
                Soname::Unversioned => format!("{libdir}/lib{}.so", library.name),
                _ => format!("{libdir}/lib{}.so.*", library.name),
            };
            if !lines.contains(&line) {
                lines.push(line);
            }
            let link = match &library.soname {
                Soname::Unversioned => None,
                Soname::Known(soname) if soname.ends_with(".so") => {
                    Some(format!("{libdir}/lib{}.so", library.name))
                }
                Soname::Known(_) if single => Some(format!("{libdir}/lib*.so")),
                _ => Some(format!("{libdir}/lib{}.so", library.name)),
            };
            if let Some(link) = link.filter(|l| !dev_lines.contains(l)) {
                dev_lines.push(link);
            }
        }
        files.push(InstallFile {
            package: package.name.clone(),
            why: "The shared libraries (their SONAME files and versioned names).".to_string(),
            lines,
        });
    }
    if installed.static_libraries {
        dev_lines.push(format!("{libdir}/lib*.a"));
    }
    if installed.pkgconfig {
        dev_lines.push(format!("{libdir}/pkgconfig"));
    }
    if installed.cmake_config {
        dev_lines.push(format!("{libdir}/cmake"));
    }
    if installed.manual_pages && tools.is_none() {
        dev_lines.push("usr/share/man".to_string());
    }
    files.push(InstallFile {
        package: dev.clone(),
        why: "What programs using the library are built with: headers, the unversioned .so \
              links, static archives, pkg-config and CMake files."
            .to_string(),
        lines: dev_lines,
    });
    if let Some(tools) = &tools {
        let mut lines = vec!["usr/bin".to_string()];
        if installed.manual_pages {
            lines.push("usr/share/man".to_string());
        }
        files.push(InstallFile {
            package: tools.clone(),
            why: "The programs upstream installs.".to_string(),
            lines,
        });
    }
    Some(LibraryLayout {
        runtime,
        dev,
        tools,
        installed: installed.clone(),
        files,
    })
}

/// For a tree without a build system: the install file of `package`, with the top-level code
/// files (`extensions` of `[unbuilt]`) and every top-level directory holding such files
/// (configurations, data preparation scripts), into `install-dir`. Directories of tests,
/// documentation and vendored code (`metadata-skip-directories`) and hidden ones are left out;
/// a directory holding a model's file (`model_files`, relative to the tree) is listed file by
/// file, so the weights stay with their own packages. `None` when there is nothing to install.
pub fn unbuilt_tree(
    root: &Path,
    package: &str,
    source: &str,
    model_files: &[String],
    policy: &UnbuiltPolicy,
    draft: &DraftPolicy,
) -> Option<InstallFile> {
    let destination = policy.install_dir.replace("{source}", source);
    let is_code = |path: &Path| {
        path.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| policy.extensions.iter().any(|x| x == e))
    };
    let skipped = |name: &str| {
        name.starts_with('.')
            || name == "debian"
            || draft
                .limits
                .metadata_skip_directories
                .iter()
                .any(|d| d.eq_ignore_ascii_case(name))
            || draft.scan.limits.skip_directories.iter().any(|d| d == name)
    };
    let mut entries: Vec<_> = std::fs::read_dir(root)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    let mut top_files = Vec::new();
    let mut lines = Vec::new();
    for path in entries {
        let name = path.file_name()?.to_string_lossy().to_string();
        let kind = std::fs::symlink_metadata(&path).ok()?.file_type();
        if kind.is_file() && is_code(&path) {
            top_files.push(name);
        } else if kind.is_dir() && !skipped(&name) {
            let code: Vec<String> = walkdir::WalkDir::new(&path)
                .max_depth(draft.limits.metadata_max_depth)
                .sort_by_file_name()
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file() && is_code(e.path()))
                .filter_map(|e| {
                    e.path()
                        .strip_prefix(root)
                        .ok()
                        .map(|p| p.display().to_string())
                })
                .collect();
            if code.is_empty() {
                continue;
            }
            let prefix = format!("{name}/");
            if model_files.iter().any(|m| m.starts_with(&prefix)) {
                for file in code {
                    let parent = Path::new(&file)
                        .parent()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    lines.push(format!("{file} {destination}/{parent}"));
                }
            } else {
                lines.push(format!("{name} {destination}"));
            }
        }
    }
    let extensions: Vec<String> = policy.extensions.iter().map(|e| format!("*.{e}")).collect();
    let top: Vec<String> = match top_files.len() {
        0 => Vec::new(),
        1 => vec![format!("{} {destination}", top_files[0])],
        // A glob keeps the list short; dh_install fails on a pattern that matches nothing, so
        // only extensions present are listed.
        _ => extensions
            .iter()
            .filter(|glob| top_files.iter().any(|f| f.ends_with(&glob[1..])))
            .map(|glob| format!("{glob} {destination}"))
            .collect(),
    };
    lines.splice(0..0, top);
    (!lines.is_empty()).then(|| InstallFile {
        package: package.to_string(),
        why: format!(
            "No build system: the tree's {} files and the directories holding them, as \
             upstream runs them from its checkout.",
            extensions.join(", ")
        ),
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library(name: &str, soname: Soname) -> SharedLibrary {
        SharedLibrary {
            name: name.into(),
            soname,
            at: "CMakeLists.txt:1".into(),
        }
    }

    fn policy() -> LibraryPolicy {
        LibraryPolicy {
            runtime_section: "libs".into(),
            dev_section: "libdevel".into(),
            libdir: "usr/lib/${DEB_HOST_MULTIARCH}".into(),
        }
    }

    #[test]
    fn one_soname_version_makes_one_runtime_package() {
        let installed = Installed {
            libraries: vec![
                library("ggml-base", Soname::Known("libggml-base.so.0".into())),
                library("ggml", Soname::Known("libggml.so.0".into())),
            ],
            headers: true,
            pkgconfig: true,
            cmake_config: true,
            ..Installed::default()
        };
        let mut warnings = Vec::new();
        let layout = library_layout(&installed, "ggml", "ggml", &policy(), &mut warnings).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(layout.runtime.len(), 1);
        assert_eq!(layout.runtime[0].name, "libggml0");
        assert_eq!(layout.dev, "libggml-dev");
        assert_eq!(layout.tools, None);
        assert_eq!(layout.primary(), "libggml0");
        assert_eq!(
            layout.files[0].lines,
            ["usr/lib/${DEB_HOST_MULTIARCH}/lib*.so.*"]
        );
        assert_eq!(
            layout.files[1].lines,
            [
                "usr/include",
                "usr/lib/${DEB_HOST_MULTIARCH}/lib*.so",
                "usr/lib/${DEB_HOST_MULTIARCH}/pkgconfig",
                "usr/lib/${DEB_HOST_MULTIARCH}/cmake"
            ]
        );
    }

    #[test]
    fn several_versions_and_an_unknown_soname() {
        let installed = Installed {
            libraries: vec![
                library("foo2", Soname::Known("libfoo2.so.1".into())),
                library("bar", Soname::Known("libbar-2.1.so".into())),
                library("baz", Soname::Unknown("${ABI}".into())),
            ],
            executables: true,
            ..Installed::default()
        };
        let mut warnings = Vec::new();
        let layout = library_layout(&installed, "foo", "foo2", &policy(), &mut warnings).unwrap();
        let names: Vec<&str> = layout.runtime.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["libfoo2-1", "libbar-2.1", "libbaz"]);
        assert!(layout.runtime[2].fixme.is_some());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("`${ABI}`"), "{warnings:?}");
        assert_eq!(layout.dev, "libfoo2-dev");
        assert_eq!(layout.tools.as_deref(), Some("foo"));
        assert_eq!(
            layout.files[1].lines,
            ["usr/lib/${DEB_HOST_MULTIARCH}/libbar-2.1.so"]
        );
        assert_eq!(layout.files.last().unwrap().lines, ["usr/bin"]);
    }
}
