//! The binary packages `debian/control` gets from the plan: the code package, and for each model
//! its weights package (built in the archive) or its installer package, with sections qualified
//! by archive area and descriptions that say where the weights come from.

use super::buildsys::{BuildSystem, LibraryPolicy};
use super::control;
use super::install::LibraryLayout;
use super::text::{description, synopsis};
use super::views::ModelView;
use crate::debhelper::NOTRAIN_PROFILE;
use crate::plan::{self, Area, Origin, Role};
use crate::upstream::Upstream;

/// Section of the model packages (weights are data for a scientific program).
const MODEL_SECTION: &str = "science";

/// Standards-Version the generated files follow (Debian 12's debhelper and lintian).
const STANDARDS_VERSION: &str = "4.6.2";

/// The code package's synopsis and extended text, from upstream's own words: the metadata's
/// summary, the README's first paragraph; a `FIXME` where upstream says nothing.
fn code_description(name: &str, build: &BuildSystem, upstream: &Upstream) -> (String, String) {
    let first_sentence = upstream.description.as_deref().and_then(|d| {
        let sentence = d.split(". ").next().unwrap_or(d).trim_end_matches('.');
        (sentence.chars().count() <= 72).then(|| sentence.to_string())
    });
    let summary = upstream
        .summary
        .clone()
        .or(first_sentence)
        .map(|s| synopsis(&s))
        .unwrap_or_else(|| format!("FIXME: a one-line synopsis of {name}"));
    let mut what = upstream.description.clone().unwrap_or_else(|| {
        format!("FIXME: what {name} does, in a few sentences for someone who does not know it.")
    });
    if build.name == "python" {
        what.push_str(&format!(
            " This package provides the Python 3 module {name}."
        ));
    }
    (summary, what)
}

fn section_in(area: Area) -> String {
    match area {
        Area::Main => MODEL_SECTION.to_string(),
        other => format!("{}/{MODEL_SECTION}", other.as_str()),
    }
}

/// `synopsis` with `suffix` (" - shared library"), shortened so the whole stays under 80
/// characters (lintian's `synopsis-too-long`).
fn synopsis_with(synopsis: &str, suffix: &str) -> String {
    let room = 79 - suffix.chars().count();
    let mut base: String = synopsis.chars().take(room).collect();
    if base.chars().count() < synopsis.chars().count() {
        base = base
            .rsplit_once(' ')
            .map_or(base.clone(), |(b, _)| b.to_string());
    }
    format!("{base}{suffix}")
}

/// The code's packages: one package, or Debian's library layout.
fn code_binaries(
    code_package: &str,
    build: &BuildSystem,
    layout: Option<&LibraryLayout>,
    libraries: &LibraryPolicy,
    (summary, what): (&str, &str),
) -> Vec<control::BinarySpec> {
    let model_relations = vec![
        ("Recommends", vec!["${mlmodel:Recommends}".to_string()]),
        ("Suggests", vec!["${mlmodel:Suggests}".to_string()]),
    ];
    let Some(layout) = layout else {
        let mut relations = vec![("Depends", build.depends.clone())];
        relations.extend(model_relations);
        return vec![control::BinarySpec {
            name: code_package.to_string(),
            architecture: build.architecture.clone(),
            section: build.section.clone(),
            owned: false,
            build_profiles: None,
            multi_arch: None,
            relations,
            description: description(summary, what),
        }];
    };
    let with_models = |name: &str, mut relations: Vec<(&'static str, Vec<String>)>| {
        if name == layout.primary() {
            relations.extend(model_relations.clone());
        }
        relations
    };
    let mut binaries = Vec::new();
    for runtime in &layout.runtime {
        let sonames: Vec<String> = runtime
            .libraries
            .iter()
            .map(|l| format!("lib{}", l.name))
            .collect();
        let mut text = format!(
            "{what} This package contains the shared {} {}.",
            if sonames.len() == 1 {
                "library"
            } else {
                "libraries"
            },
            sonames.join(", ")
        );
        if let Some(fixme) = &runtime.fixme {
            text.push_str(&format!(
                " FIXME: {fixme}; name this package after its SONAME."
            ));
        }
        binaries.push(control::BinarySpec {
            name: runtime.name.clone(),
            architecture: "any".to_string(),
            section: libraries.runtime_section.clone(),
            owned: false,
            build_profiles: None,
            multi_arch: Some("same".to_string()),
            relations: with_models(&runtime.name, vec![("Depends", build.depends.clone())]),
            description: description(&synopsis_with(summary, " - shared library"), &text),
        });
    }
    let mut depends: Vec<String> = layout
        .runtime
        .iter()
        .map(|r| format!("{} (= ${{binary:Version}})", r.name))
        .collect();
    depends.push("${misc:Depends}".to_string());
    binaries.push(control::BinarySpec {
        name: layout.dev.clone(),
        architecture: "any".to_string(),
        section: libraries.dev_section.clone(),
        owned: false,
        build_profiles: None,
        multi_arch: Some("same".to_string()),
        relations: vec![("Depends", depends)],
        description: description(
            &synopsis_with(summary, " - development files"),
            &format!(
                "{what} This package contains what programs using the library are built                  with: headers, the link to the shared library, pkg-config and CMake files,                  as upstream installs them."
            ),
        ),
    });
    if let Some(tools) = &layout.tools {
        binaries.push(control::BinarySpec {
            name: tools.clone(),
            architecture: build.architecture.clone(),
            section: build.section.clone(),
            owned: false,
            build_profiles: None,
            multi_arch: None,
            relations: with_models(tools, vec![("Depends", build.depends.clone())]),
            description: description(
                &synopsis_with(summary, " - programs"),
                &format!("{what} This package contains the programs."),
            ),
        });
    }
    binaries
}

/// The control file the plan asks for. With a library `layout`, the code is packaged as
/// Debian's library layout instead of one package.
#[allow(clippy::too_many_arguments)]
pub fn control_spec(
    source: &str,
    code_package: &str,
    build: &BuildSystem,
    layout: Option<&LibraryLayout>,
    libraries: &LibraryPolicy,
    upstream: &Upstream,
    maintainer: &str,
    plan: &plan::Plan,
    models: &[ModelView],
) -> control::ControlSpec {
    let mut build_depends = vec![
        "debhelper-compat (= 13)".to_string(),
        "dh-sequence-mlmodel".to_string(),
    ];
    build_depends.extend(build.build_depends.iter().cloned());
    for model in &plan.models {
        for package in &model.build_depends {
            // What only training needs is not needed when nothing is trained.
            let entry = if model.train_at_build {
                format!("{package} <!{NOTRAIN_PROFILE}>")
            } else {
                package.clone()
            };
            if !build_depends.contains(&entry) {
                build_depends.push(entry);
            }
        }
    }
    let name = upstream.name.as_deref().unwrap_or(source);
    let (summary, what) = code_description(name, build, upstream);
    let mut binaries = code_binaries(code_package, build, layout, libraries, (&summary, &what));
    for (model, view) in plan.models.iter().zip(models) {
        for package in &model.packages {
            let misc = "${misc:Depends}".to_string();
            match package.role {
                Role::Weights if package.origin == Origin::Archive => {
                    binaries.push(control::BinarySpec {
                        name: package.name.clone(),
                        architecture: "all".to_string(),
                        section: section_in(package.area),
                        owned: true,
                        build_profiles: model
                            .train_at_build
                            .then(|| format!("<!{NOTRAIN_PROFILE}>")),
                        multi_arch: None,
                        relations: vec![("Depends", vec![misc])],
                        description: description(
                            &format!("{} model weights for {name}", view.name),
                            &format!(
                                "The {} model {}, trained from the source during the package \
                                 build and installed under {}.",
                                view.category, view.name, model.install_dir
                            ),
                        ),
                    })
                }
                Role::Weights => {}
                Role::Installer => binaries.push(control::BinarySpec {
                    name: package.name.clone(),
                    architecture: "all".to_string(),
                    section: section_in(package.area),
                    owned: true,
                    build_profiles: None,
                    multi_arch: None,
                    relations: vec![("Depends", vec![misc, "${mlmodel:Depends}".to_string()])],
                    description: description(
                        &format!("installer for the {} model weights of {name}", view.name),
                        &format!(
                        "The command {} builds the package {} on this machine: it {}, then \
                         installs the weights under {}.",
                        view.helper.as_deref().unwrap_or_default(),
                        view.weights.as_deref().unwrap_or_default(),
                        match view.origin {
                            Some("retrained") => "retrains the weights from the free training data",
                            _ => "downloads the published weights and checks their pinned size and SHA-256",
                        },
                        model.install_dir
                        ),
                    ),
                }),
            }
        }
    }
    // A source whose code is non-free is non-free itself, and lintian's
    // `archive-liberty-mismatch` allows no binary of a non-free source elsewhere: an installer
    // that would be contrib (free code fetching non-free weights) goes to non-free with it.
    if build.section.starts_with("non-free/") {
        for binary in &mut binaries {
            if let Some(section) = binary.section.strip_prefix("contrib/") {
                binary.section = format!("non-free/{section}");
            }
        }
    }
    control::ControlSpec {
        source: control::SourceSpec {
            name: source.to_string(),
            section: build.section.clone(),
            maintainer: maintainer.to_string(),
            build_depends,
            homepage: upstream.homepage.clone().filter(|h| h.starts_with("http")),
            standards_version: STANDARDS_VERSION.to_string(),
        },
        binaries,
    }
}
