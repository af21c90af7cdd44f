//! The rules: what the scan found in a package and what the package says about itself, turned
//! into tags. Each hint's context follows lintian's pointed hints: a note, then the file as a
//! pointer `[path]` or `[path:line]`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::deb::MAINTAINER_SCRIPTS;
use super::package::{self, BINARY_STRONG_RELATIONS, SOURCE_BUILD_RELATIONS};
use super::{CheckContext, Target, TargetKind};
use crate::plan::{Area, Category};
use crate::scan::finding::CODE_FORMATS;
use crate::scan::pickle::GlobalStatus;
use crate::scan::{Details, Finding, Verification, When, human_size};
use crate::spdx::{self, Status};

/// Every tag the rules can emit; `policy/tags.toml` must define each.
pub const EMITTED: &[&str] = &[
    MODEL_WEIGHTS_WITHOUT_PROVENANCE,
    TOXIC_CANDY_MODEL_IN_MAIN,
    NON_FREE_MODEL_IN_MAIN,
    MODEL_LICENSE_UNKNOWN,
    PICKLE_DISALLOWED_GLOBAL,
    PICKLE_CAN_EXECUTE_CODE,
    DOWNLOAD_WITHOUT_CHECKSUM,
    DOWNLOAD_WEAK_CHECKSUM,
    DOWNLOAD_OVER_PLAIN_HTTP,
    BUILD_TIME_MODEL_DOWNLOAD,
    GIT_LFS_POINTER,
    EMBEDDED_WEIGHTS_IN_SOURCE,
    WEIGHTS_IN_EXECUTABLE,
    UNIDENTIFIED_BLOB,
    PROVENANCE_CHECKSUM_MISMATCH,
    INSTALLER_DOWNLOADS_OUTSIDE_CONTRIB,
    MAIN_RELATION_ON_NON_MAIN,
    MISSING_DISCLAIMER,
    MANIFEST_INCOMPLETE,
    WEIGHTS_NOT_ARCH_ALL,
];

const MODEL_WEIGHTS_WITHOUT_PROVENANCE: &str = "model-weights-without-provenance";
const TOXIC_CANDY_MODEL_IN_MAIN: &str = "toxic-candy-model-in-main";
const NON_FREE_MODEL_IN_MAIN: &str = "non-free-model-in-main";
const MODEL_LICENSE_UNKNOWN: &str = "model-license-unknown";
const PICKLE_DISALLOWED_GLOBAL: &str = "pickle-model-imports-disallowed-global";
const PICKLE_CAN_EXECUTE_CODE: &str = "pickle-model-can-execute-code";
const DOWNLOAD_WITHOUT_CHECKSUM: &str = "model-download-without-checksum";
const DOWNLOAD_WEAK_CHECKSUM: &str = "model-download-weak-checksum";
const DOWNLOAD_OVER_PLAIN_HTTP: &str = "model-download-over-plain-http";
const BUILD_TIME_MODEL_DOWNLOAD: &str = "build-time-model-download";
const GIT_LFS_POINTER: &str = "git-lfs-pointer-instead-of-weights";
const EMBEDDED_WEIGHTS_IN_SOURCE: &str = "embedded-model-weights-in-source";
const WEIGHTS_IN_EXECUTABLE: &str = "model-weights-in-executable";
const UNIDENTIFIED_BLOB: &str = "unidentified-large-binary-blob";
const PROVENANCE_CHECKSUM_MISMATCH: &str = "provenance-checksum-mismatch";
const INSTALLER_DOWNLOADS_OUTSIDE_CONTRIB: &str = "model-installer-downloads-outside-contrib";
const MAIN_RELATION_ON_NON_MAIN: &str = "main-package-relation-on-non-main-model";
const MISSING_DISCLAIMER: &str = "missing-ml-policy-disclaimer";
const MANIFEST_INCOMPLETE: &str = "mlmodel-manifest-incomplete";
const WEIGHTS_NOT_ARCH_ALL: &str = "weights-package-not-arch-all";

/// One tag raised on a package, before overrides and display filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub tag: &'static str,
    pub context: String,
}

/// Lintian's pointed context: the note, then `[pointer]`.
fn pointed(note: &str, pointer: &str) -> String {
    if note.is_empty() {
        format!("[{pointer}]")
    } else {
        format!("{note} [{pointer}]")
    }
}

/// The archive area of packages known from the targets checked together and from the source
/// packages' debian/control: what `main-package-relation-on-non-main-model` may rely on.
pub type KnownAreas = BTreeMap<String, Area>;

/// Collects what the targets say about package areas.
pub fn known_areas(targets: &[&Target]) -> KnownAreas {
    let mut areas = KnownAreas::new();
    for target in targets {
        match &target.source {
            Some(facts) => {
                let source_section = facts.control.as_ref().and_then(|c| c.value("Section"));
                for binary in &facts.binaries {
                    if let Some(name) = binary.value("Package") {
                        let section = binary.value("Section").or(source_section);
                        areas.insert(name.to_string(), package::area_of(section));
                    }
                }
            }
            None => {
                areas.insert(target.package.clone(), target.area);
            }
        }
    }
    areas
}

/// Every hint of one target.
pub fn hints(target: &Target, known: &KnownAreas, ctx: &CheckContext) -> Vec<Hint> {
    let mut out = Vec::new();
    for finding in &target.findings {
        finding_hints(target, finding, ctx, &mut out);
    }
    match target.kind {
        TargetKind::Binary | TargetKind::Udeb => {
            provenance_hints(target, ctx, &mut out);
            let weights = target.findings.iter().any(is_weights_file);
            if weights && !target.has_native_code && target.architecture != "all" {
                out.push(Hint {
                    tag: WEIGHTS_NOT_ARCH_ALL,
                    context: format!("Architecture: {}", target.architecture),
                });
            }
            if target.area == Area::Main {
                relation_hints(
                    &target.fields,
                    "",
                    &BINARY_STRONG_RELATIONS,
                    known,
                    &mut out,
                );
            }
        }
        TargetKind::Source => source_hints(target, known, ctx, &mut out),
    }
    out.sort_by(|a, b| (a.tag, &a.context).cmp(&(b.tag, &b.context)));
    out.dedup();
    out
}

fn is_weights_file(finding: &Finding) -> bool {
    matches!(finding.details, Details::Weights(_))
}

/// Where a finding is, as lintian points at it: the path, and the line when there is one.
fn pointer_of(finding: &Finding) -> String {
    let line = match &finding.details {
        Details::Download(d) | Details::Dataset(d) => Some(d.line),
        Details::EmbeddedWeights(e) => Some(e.lines[0]),
        _ => None,
    };
    match line {
        Some(line) if line > 0 => format!("{}:{line}", finding.path),
        _ => finding.path.clone(),
    }
}

fn finding_hints(target: &Target, finding: &Finding, ctx: &CheckContext, out: &mut Vec<Hint>) {
    let pointer = pointer_of(finding);
    let mut push = |tag, note: String| {
        out.push(Hint {
            tag,
            context: pointed(&note, &pointer),
        })
    };
    match &finding.details {
        Details::Weights(weights) => {
            if let Some(report) = &weights.pickle {
                for global in &report.globals {
                    match ctx.scan.pickle.judge_global(global) {
                        GlobalStatus::Allowed => {}
                        GlobalStatus::Dangerous(effect) => {
                            push(PICKLE_CAN_EXECUTE_CODE, format!("{global} ({effect})"))
                        }
                        GlobalStatus::NotAllowed => push(PICKLE_DISALLOWED_GLOBAL, global.clone()),
                    }
                }
            }
        }
        Details::LfsPointer(lfs) => push(GIT_LFS_POINTER, format!("{} bytes", lfs.lfs.size)),
        Details::Blob(_) => push(UNIDENTIFIED_BLOB, human_size(finding.size)),
        Details::EmbeddedWeights(embedded) => push(
            EMBEDDED_WEIGHTS_IN_SOURCE,
            format!("{} numbers", embedded.numbers),
        ),
        Details::CompiledIn(compiled) => push(
            WEIGHTS_IN_EXECUTABLE,
            format!("{} at byte {}", finding.format, compiled.offset),
        ),
        Details::Download(download) => {
            // A link in documentation is not a step the package takes.
            if download.documentation {
                return;
            }
            // What is fetched: the URL, else the hub call's service and repository.
            let url = download.url.clone().unwrap_or_else(|| match &download.hub {
                Some(hub) => match &hub.repo {
                    Some(repo) => format!("{} {repo}", hub.service),
                    None => hub.service.clone(),
                },
                None => String::new(),
            });
            let is_code = CODE_FORMATS.contains(&finding.format.as_str());
            if target.kind == TargetKind::Source && download.when == When::Build {
                push(BUILD_TIME_MODEL_DOWNLOAD, url.clone());
            }
            if is_code {
                return;
            }
            match download.verification {
                Verification::None => push(DOWNLOAD_WITHOUT_CHECKSUM, url.clone()),
                Verification::Md5 => push(DOWNLOAD_WEAK_CHECKSUM, format!("md5 {url}")),
                Verification::Sha1 => push(DOWNLOAD_WEAK_CHECKSUM, format!("sha1 {url}")),
                Verification::Sha256 | Verification::Sha256Prefix => {}
            }
            if url.starts_with("http://") {
                push(DOWNLOAD_OVER_PLAIN_HTTP, url.clone());
            }
            let in_maintainer_script = target.kind != TargetKind::Source
                && MAINTAINER_SCRIPTS.contains(&finding.path.as_str());
            if in_maintainer_script && target.area == Area::Main {
                push(INSTALLER_DOWNLOADS_OUTSIDE_CONTRIB, url);
            }
        }
        Details::Dataset(_) => {}
    }
}

/// `provenance.json` as `dh_mlmodel` writes it (src/debhelper/weights.rs): only the fields the
/// checks read; others are ignored, so the record may grow.
#[derive(Debug, Deserialize)]
struct Provenance {
    #[serde(default)]
    license: Option<String>,
    #[serde(default)]
    files: Vec<ProvenanceFile>,
}

#[derive(Debug, Deserialize)]
struct ProvenanceFile {
    path: String,
    sha256: String,
}

fn provenance_hints(target: &Target, ctx: &CheckContext, out: &mut Vec<Hint>) {
    let Some((path, bytes)) = &target.provenance else {
        for finding in target.findings.iter().filter(|f| is_weights_file(f)) {
            out.push(Hint {
                tag: MODEL_WEIGHTS_WITHOUT_PROVENANCE,
                context: pointed(&finding.format, &finding.path),
            });
        }
        return;
    };
    let text = if path.ends_with(".gz") {
        let mut inflated = Vec::new();
        let cap = ctx.limits.max_metadata_file_bytes;
        let read = std::io::Read::read_to_end(
            &mut std::io::Read::take(flate2::read::GzDecoder::new(&bytes[..]), cap + 1),
            &mut inflated,
        );
        match read {
            Ok(n) if n as u64 <= cap => inflated,
            Ok(_) => {
                out.push(Hint {
                    tag: MODEL_WEIGHTS_WITHOUT_PROVENANCE,
                    context: pointed(&format!("inflates past {cap} bytes"), path),
                });
                return;
            }
            Err(err) => {
                out.push(Hint {
                    tag: MODEL_WEIGHTS_WITHOUT_PROVENANCE,
                    context: pointed(&format!("not gzip: {err}"), path),
                });
                return;
            }
        }
    } else {
        bytes.clone()
    };
    let provenance: Provenance = match serde_json::from_slice(&text) {
        Ok(provenance) => provenance,
        Err(err) => {
            out.push(Hint {
                tag: MODEL_WEIGHTS_WITHOUT_PROVENANCE,
                context: pointed(&format!("unreadable record: {err}"), path),
            });
            return;
        }
    };
    match license_status(provenance.license.as_deref(), ctx) {
        Status::Free => {}
        Status::Unknown(ids) => out.push(Hint {
            tag: MODEL_LICENSE_UNKNOWN,
            context: pointed(&ids.join(" "), path),
        }),
        Status::NonFree(ids) if target.area == Area::Main => out.push(Hint {
            tag: NON_FREE_MODEL_IN_MAIN,
            context: pointed(&ids.join(" "), path),
        }),
        Status::NonFree(_) => {}
    }
    for file in &provenance.files {
        let installed = file.path.trim_start_matches('/');
        match target.hashes.get(installed) {
            None => out.push(Hint {
                tag: PROVENANCE_CHECKSUM_MISMATCH,
                context: pointed("file missing from the package", installed),
            }),
            // dh_mlmodel installs nothing there (`InstallRules::may_hold_model_file`), so the
            // record is not its own, and the file was not hashed.
            Some(None) => out.push(Hint {
                tag: PROVENANCE_CHECKSUM_MISMATCH,
                context: pointed(
                    "outside the directories models are installed to (policy/install.toml)",
                    installed,
                ),
            }),
            Some(Some(actual)) if !actual.eq_ignore_ascii_case(&file.sha256) => out.push(Hint {
                tag: PROVENANCE_CHECKSUM_MISMATCH,
                context: pointed(
                    &format!("sha256 {actual}, provenance.json says {}", file.sha256),
                    installed,
                ),
            }),
            Some(_) => {}
        }
    }
}

/// How the licence tables judge a model's licence; no licence at all is unknown.
fn license_status(license: Option<&str>, ctx: &CheckContext) -> Status {
    let Some(license) = license.map(str::trim).filter(|l| !l.is_empty()) else {
        return Status::Unknown(vec!["no licence stated".to_string()]);
    };
    match spdx::parse(license) {
        Ok(expression) => ctx.licenses.status(&expression),
        Err(_) => Status::Unknown(vec![license.to_string()]),
    }
}

/// `main-package-relation-on-non-main-model` for the strong relation `fields` of one
/// paragraph (a package in main), naming `who` (empty for the target itself).
fn relation_hints(
    fields: &package::Fields,
    who: &str,
    relations: &[&str],
    known: &KnownAreas,
    out: &mut Vec<Hint>,
) {
    for field in relations {
        let Some(value) = fields.get(field) else {
            continue;
        };
        for name in package::relation_names(value) {
            if let Some(area) = known.get(&name).filter(|a| **a != Area::Main) {
                let note = format!("{field}: {name} ({})", area.as_str());
                out.push(Hint {
                    tag: MAIN_RELATION_ON_NON_MAIN,
                    context: if who.is_empty() {
                        note
                    } else {
                        format!("{who} {note}")
                    },
                });
            }
        }
    }
}

const MANIFEST: &str = "debian/mlmodel.toml";
const COPYRIGHT: &str = "debian/copyright";

fn source_hints(target: &Target, known: &KnownAreas, ctx: &CheckContext, out: &mut Vec<Hint>) {
    let Some(facts) = &target.source else {
        return;
    };
    // Relations: the build relations of a source in main, and each binary in main.
    if let Some(control) = &facts.control
        && target.area == Area::Main
    {
        relation_hints(control, "", &SOURCE_BUILD_RELATIONS, known, out);
    }
    let source_section = facts.control.as_ref().and_then(|c| c.value("Section"));
    for binary in &facts.binaries {
        let section = binary.value("Section").or(source_section);
        if package::area_of(section) == Area::Main {
            let name = binary.value("Package").unwrap_or_default();
            relation_hints(binary, name, &BINARY_STRONG_RELATIONS, known, out);
        }
    }

    let weights: Vec<&Finding> = target
        .findings
        .iter()
        .filter(|f| is_weights_file(f))
        .collect();
    let Some(manifest) = &facts.manifest else {
        for finding in weights {
            out.push(Hint {
                tag: MODEL_WEIGHTS_WITHOUT_PROVENANCE,
                context: pointed(&finding.format, &finding.path),
            });
        }
        return;
    };
    let plan =
        match crate::pipeline::plan_manifest_text(manifest.clone(), &target.package, &ctx.pipeline)
        {
            Ok(plan) => plan,
            Err(err) => {
                let first = format!("{err:#}");
                let first = first.lines().next().unwrap_or_default().to_string();
                out.push(Hint {
                    tag: MANIFEST_INCOMPLETE,
                    context: pointed(&format!("cannot be read: {first}"), MANIFEST),
                });
                return;
            }
        };
    let mut affected = false;
    for model in &plan.models {
        let class = &model.class;
        if class.category == Category::Incomplete {
            let fields: Vec<&str> = class.missing.iter().map(|m| m.field.as_str()).collect();
            out.push(Hint {
                tag: MANIFEST_INCOMPLETE,
                context: pointed(&format!("{}: {}", model.name, fields.join(" ")), MANIFEST),
            });
        }
        let category = match class.category {
            Category::Incomplete => class.settled,
            category => Some(category),
        };
        // A non-free licence makes the model non-free: the category rule below tags it.
        let license = model.facts.license.as_ref().map(|l| l.spdx.as_str());
        if let Status::Unknown(ids) = license_status(license, ctx) {
            out.push(Hint {
                tag: MODEL_LICENSE_UNKNOWN,
                context: pointed(&format!("{}: {}", model.name, ids.join(" ")), MANIFEST),
            });
        }
        // The plan removes such weights from the tarball; a main source that still holds
        // them was not repacked.
        let tag = match category {
            Some(Category::ToxicCandy) => Some(TOXIC_CANDY_MODEL_IN_MAIN),
            Some(Category::NonFree) => Some(NON_FREE_MODEL_IN_MAIN),
            _ => None,
        };
        if let Some(tag) = tag.filter(|_| target.area == Area::Main) {
            for file in &model.facts.files {
                if target.findings.iter().any(|f| &f.path == file) {
                    out.push(Hint {
                        tag,
                        context: pointed(&model.name, file),
                    });
                }
            }
        }
        affected |= model.removed_from_source
            || matches!(category, Some(Category::ToxicCandy | Category::NonFree));
    }
    if affected && !has_ml_policy_disclaimer(facts.copyright.as_deref()) {
        out.push(Hint {
            tag: MISSING_DISCLAIMER,
            context: pointed("", COPYRIGHT),
        });
    }
}

/// Whether debian/copyright's header paragraph has a `Disclaimer` naming the ML-Policy
/// (ML-Policy rule 8).
fn has_ml_policy_disclaimer(copyright: Option<&str>) -> bool {
    let Some(text) = copyright else {
        return false;
    };
    let Ok(paragraphs) = package::paragraphs(text, COPYRIGHT) else {
        return false;
    };
    paragraphs
        .first()
        .and_then(|header| header.get("Disclaimer"))
        .is_some_and(|d| d.contains("ML-Policy"))
}
