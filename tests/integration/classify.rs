//! `dh-mlmodel classify`: the ML-Policy verdict and the packaging plan, table-driven over
//! manifests that each isolate one fact.

use serde_json::Value;

use crate::support::{classify_text, dh_mlmodel, missing_fields, write};

const DIGEST: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

/// A `[[model]]` named `bar` with licence `license`, a pinned file, and `rest` appended.
fn model(license: &str, rest: &str) -> String {
    model_with(license, "", rest)
}

/// Like [`model`], with `head` lines (plain keys of `[[model]]`) right after the licence.
fn model_with(license: &str, head: &str, rest: &str) -> String {
    format!(
        "[[model]]\nname = \"bar\"\nfiles = [\"models/bar.safetensors\"]\nformat = \"safetensors\"\n\
         license = \"{license}\"\n{head}\n[model.pins]\n\"models/bar.safetensors\" = {{ sha256 = \"{DIGEST}\", size = 4 }}\n{rest}"
    )
}

fn download() -> String {
    format!(
        "\n[model.download]\nurl = \"https://example.org/bar.safetensors\"\nsha256 = \"{DIGEST}\"\nsize = 4\n"
    )
}

/// `[model.training]` with the given extra lines (program, costs…).
fn training(lines: &str) -> String {
    format!("\n[model.training]\n{lines}\n")
}

const PROGRAM: &str = "program = [\"train.py\"]\ncommand = \"python3 train.py --data {data} --out {out}\"\noutputs = [\"bar.safetensors\"]";

fn data(lines: &str) -> String {
    format!("\n[[model.training.data]]\nname = \"corpus\"\n{lines}\n")
}

const PUBLIC_URL_DATA: &str =
    "license = \"CC-BY-4.0\"\nurl = \"https://example.org/corpus.tar.xz\"\npublic = true";

struct Case {
    name: &'static str,
    manifest: String,
    category: &'static str,
    /// A phrase one of the reasons must contain.
    reason: &'static str,
    /// (package, area, origin) in order.
    packages: &'static [(&'static str, &'static str, &'static str)],
    train_at_build: bool,
    /// A phrase one of the at-build refusals must contain ("" when none is expected).
    refused: &'static str,
    repack_suffix: Option<&'static str>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "free model with public data and a download",
            manifest: model(
                "Apache-2.0",
                &(download() + &training(PROGRAM) + &data(PUBLIC_URL_DATA)),
            ),
            category: "free",
            reason: "all 1 training inputs are DFSG-free and public",
            packages: &[
                ("foo-model-bar", "main", "downloaded"),
                ("foo-model-bar-installer", "contrib", "archive"),
            ],
            train_at_build: false,
            refused: "",
            repack_suffix: Some("+ds"),
        },
        Case {
            name: "free model trained at build from data in the source",
            manifest: model(
                "MIT",
                &(training(&format!("{PROGRAM}\ncpu-hours = 0.1\nat-build = true"))
                    + &data("license = \"CC0-1.0\"\npath = \"data/corpus.txt\"")),
            ),
            category: "free",
            reason: "training program: `train.py` in the source",
            packages: &[("foo-model-bar", "main", "archive")],
            train_at_build: true,
            refused: "",
            repack_suffix: None,
        },
        Case {
            name: "free model trained at build from a data package",
            manifest: model(
                "GPL-3.0-or-later",
                &(training(
                    "program = { package = \"bar-trainer\" }\ncommand = \"bar-train {data} {out}\"\n\
                     outputs = [\"bar.safetensors\"]\ndepends = [\"python3-numpy\"]\ncpu-hours = 1\n\
                     gpu-hours = 0\nat-build = true",
                ) + &data("license = \"CC-BY-SA-4.0\"\npackage = \"bar-corpus\"")),
            ),
            category: "free",
            reason: "package `bar-trainer`",
            packages: &[("foo-model-bar", "main", "archive")],
            train_at_build: true,
            refused: "",
            repack_suffix: None,
        },
        Case {
            name: "dataset that needs an account",
            manifest: model(
                "Apache-2.0",
                &(download()
                    + &training(PROGRAM)
                    + &data(
                        "license = \"CC-BY-4.0\"\nurl = \"https://example.org/gated\"\npublic = false",
                    )),
            ),
            category: "toxic-candy",
            reason: "needs an account",
            packages: &[
                ("foo-model-bar", "non-free", "downloaded"),
                ("foo-model-bar-installer", "contrib", "archive"),
            ],
            train_at_build: false,
            refused: "",
            repack_suffix: Some("+ds"),
        },
        Case {
            name: "free licence and free data but no training program",
            manifest: model(
                "Apache-2.0",
                &(download() + &training("cpu-hours = 1") + &data(PUBLIC_URL_DATA)),
            ),
            category: "toxic-candy",
            reason: "no training program",
            packages: &[
                ("foo-model-bar", "non-free", "downloaded"),
                ("foo-model-bar-installer", "contrib", "archive"),
            ],
            train_at_build: false,
            refused: "",
            repack_suffix: Some("+ds"),
        },
        Case {
            name: "no training facts at all",
            manifest: model("BSD-3-Clause", &download()),
            category: "toxic-candy",
            reason: "no [model.training]",
            packages: &[
                ("foo-model-bar", "non-free", "downloaded"),
                ("foo-model-bar-installer", "contrib", "archive"),
            ],
            train_at_build: false,
            refused: "",
            repack_suffix: Some("+ds"),
        },
        Case {
            name: "training data under a non-free licence",
            manifest: model(
                "MIT",
                &(download()
                    + &training(PROGRAM)
                    + &data(
                        "license = \"CC-BY-NC-4.0\"\nurl = \"https://example.org/nc\"\npublic = true",
                    )),
            ),
            category: "toxic-candy",
            reason: "licence `CC-BY-NC-4.0` is not DFSG-free",
            packages: &[
                ("foo-model-bar", "non-free", "downloaded"),
                ("foo-model-bar-installer", "contrib", "archive"),
            ],
            train_at_build: false,
            refused: "",
            repack_suffix: Some("+ds"),
        },
        Case {
            name: "non-free licence",
            manifest: model(
                "CC-BY-NC-4.0",
                &(download() + &training(PROGRAM) + &data(PUBLIC_URL_DATA)),
            ),
            category: "non-free",
            reason: "licence `CC-BY-NC-4.0` is not DFSG-free",
            packages: &[
                ("foo-model-bar", "non-free", "downloaded"),
                ("foo-model-bar-installer", "contrib", "archive"),
            ],
            train_at_build: false,
            refused: "",
            repack_suffix: Some("+dfsg"),
        },
        Case {
            name: "free model needing 500 CPU-hours is not trained at build",
            manifest: model(
                "Apache-2.0",
                &(training(&format!("{PROGRAM}\ncpu-hours = 500\nat-build = true"))
                    + &data("license = \"CC0-1.0\"\npath = \"data/corpus.txt\"")),
            ),
            category: "free",
            reason: "licence `Apache-2.0` is DFSG-free",
            packages: &[
                ("foo-model-bar", "main", "retrained"),
                ("foo-model-bar-installer", "main", "archive"),
            ],
            train_at_build: false,
            refused: "500 CPU-hours",
            repack_suffix: Some("+ds"),
        },
        Case {
            name: "at-build with data only reachable by URL is refused",
            manifest: model(
                "Apache-2.0",
                &(download()
                    + &training(&format!("{PROGRAM}\ncpu-hours = 0.1\nat-build = true"))
                    + &data(PUBLIC_URL_DATA)),
            ),
            category: "free",
            reason: "DFSG-free",
            packages: &[
                ("foo-model-bar", "main", "downloaded"),
                ("foo-model-bar-installer", "contrib", "archive"),
            ],
            train_at_build: false,
            refused: "only reachable by URL",
            repack_suffix: Some("+ds"),
        },
        Case {
            name: "GPU training at build is refused",
            manifest: model(
                "Apache-2.0",
                &(training(&format!(
                    "{PROGRAM}\ncpu-hours = 0.1\ngpu-hours = 3\nat-build = true"
                )) + &data("license = \"CC0-1.0\"\npath = \"data/corpus.txt\"")),
            ),
            category: "free",
            reason: "DFSG-free",
            packages: &[
                ("foo-model-bar", "main", "retrained"),
                ("foo-model-bar-installer", "main", "archive"),
            ],
            train_at_build: false,
            refused: "3 GPU-hours",
            repack_suffix: Some("+ds"),
        },
        Case {
            name: "a free branch of an OR expression makes the licence free",
            manifest: model(
                "CC-BY-NC-4.0 OR (MIT AND Apache-2.0)",
                &(download() + &training(PROGRAM) + &data(PUBLIC_URL_DATA)),
            ),
            category: "free",
            reason: "is DFSG-free",
            packages: &[
                ("foo-model-bar", "main", "downloaded"),
                ("foo-model-bar-installer", "contrib", "archive"),
            ],
            train_at_build: false,
            refused: "",
            repack_suffix: Some("+ds"),
        },
        Case {
            name: "toxic candy cannot be trained at build",
            manifest: model(
                "MIT",
                &(download() + &training("cpu-hours = 0.1\nat-build = true")),
            ),
            category: "toxic-candy",
            reason: "no training program",
            packages: &[
                ("foo-model-bar", "non-free", "downloaded"),
                ("foo-model-bar-installer", "contrib", "archive"),
            ],
            train_at_build: false,
            refused: "only free models are trained",
            repack_suffix: Some("+ds"),
        },
        Case {
            name: "unknown licence",
            manifest: model(
                "LicenseRef-upstream-custom",
                &(download() + &training(PROGRAM) + &data(PUBLIC_URL_DATA)),
            ),
            category: "incomplete",
            reason: "`LicenseRef-upstream-custom` is on neither the free nor the non-free list",
            packages: &[],
            train_at_build: false,
            refused: "",
            repack_suffix: None,
        },
        Case {
            name: "placeholder licence",
            manifest: model(
                "FIXME: the weights' licence",
                &(download() + &training(PROGRAM) + &data(PUBLIC_URL_DATA)),
            ),
            category: "incomplete",
            reason: "`license` is still a placeholder",
            packages: &[],
            train_at_build: false,
            refused: "",
            repack_suffix: None,
        },
        Case {
            name: "downloadable data without `public`",
            manifest: model(
                "MIT",
                &(download()
                    + &training(PROGRAM)
                    + &data("license = \"CC0-1.0\"\nurl = \"https://example.org/d\"")),
            ),
            category: "incomplete",
            reason: "`public` is not stated",
            packages: &[],
            train_at_build: false,
            refused: "",
            repack_suffix: None,
        },
        Case {
            name: "non-free licence settles the category even with placeholders",
            manifest: model(
                "CC-BY-ND-4.0",
                &(download() + &training("program = \"FIXME: where is it?\"\ncommand = \"FIXME\"")),
            ),
            category: "incomplete",
            reason: "already make it non-free",
            packages: &[],
            train_at_build: false,
            refused: "",
            repack_suffix: None,
        },
    ]
}

fn reasons(model: &Value) -> Vec<String> {
    model["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn categories_reasons_and_plans() {
    let cases = cases();
    assert!(cases.len() >= 12);
    for case in cases {
        let (code, report, stderr) = classify_text(&case.manifest, &["--source", "foo"]);
        let expected_code = if case.category == "incomplete" { 1 } else { 0 };
        assert_eq!(
            code, expected_code,
            "{}: exit status; stderr: {stderr}\n{}",
            case.name, case.manifest
        );
        let model = &report["models"][0];
        assert_eq!(model["name"], "bar", "{}", case.name);
        assert_eq!(model["category"], case.category, "{}: {model:#}", case.name);
        assert!(
            reasons(model).iter().any(|r| r.contains(case.reason)),
            "{}: no reason mentions {:?}: {:#}",
            case.name,
            case.reason,
            model["reasons"]
        );
        let packages: Vec<(String, String, String)> = model["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_string(),
                    p["area"].as_str().unwrap().to_string(),
                    p["origin"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let expected: Vec<(String, String, String)> = case
            .packages
            .iter()
            .map(|(n, a, o)| (n.to_string(), a.to_string(), o.to_string()))
            .collect();
        assert_eq!(packages, expected, "{}: packages", case.name);
        assert_eq!(
            model["train_at_build"], case.train_at_build,
            "{}: train_at_build",
            case.name
        );
        let refusals = model["at_build_refused"].as_array().unwrap();
        if case.refused.is_empty() {
            assert!(refusals.is_empty(), "{}: refused {refusals:?}", case.name);
        } else {
            assert!(
                refusals
                    .iter()
                    .any(|r| r.as_str().unwrap().contains(case.refused)),
                "{}: no refusal mentions {:?}: {refusals:?}",
                case.name,
                case.refused
            );
        }
        assert_eq!(
            report["repack_suffix"].as_str(),
            case.repack_suffix,
            "{}: repack suffix",
            case.name
        );
    }
}

#[test]
fn incomplete_names_every_missing_field() {
    let manifest = model(
        "FIXME: licence",
        &(training("program = \"FIXME: program\"\ncommand = \"FIXME: command\"")
            + &data("license = \"Foo-Unknown-1.0\"\nurl = \"https://example.org/d\"")),
    );
    let (code, report, _) = classify_text(&manifest, &["--source", "foo"]);
    assert_eq!(code, 1);
    let fields = missing_fields(&report["models"][0]);
    assert_eq!(
        fields,
        [
            "license",
            "training.program",
            "training.command",
            "training.data[1].license",
            "training.data[1].public"
        ]
    );
    let first = &report["models"][0]["missing"][0];
    assert!(
        first["at"].as_str().unwrap().ends_with("mlmodel.toml:5:11"),
        "{first}"
    );
}

#[test]
fn trained_at_build_lists_build_depends_and_recommends() {
    let manifest = model(
        "MIT",
        &(training(
            "program = { package = \"bar-trainer\" }\ncommand = \"bar-train {data} {out}\"\n\
             outputs = [\"bar.safetensors\"]\ndepends = [\"python3-torch\", \"python3-numpy\"]\n\
             cpu-hours = 0.5\nat-build = true",
        ) + &data("license = \"CC0-1.0\"\npackage = \"bar-corpus\"")),
    );
    let (code, report, stderr) = classify_text(&manifest, &["--source", "foo"]);
    assert_eq!(code, 0, "{stderr}");
    let model = &report["models"][0];
    assert_eq!(
        model["build_depends"],
        serde_json::json!([
            "bar-corpus",
            "bar-trainer",
            "python3-numpy",
            "python3-torch"
        ])
    );
    assert_eq!(
        model["relation"],
        serde_json::json!({"field": "Recommends", "package": "foo-model-bar"})
    );
    assert_eq!(model["install_dir"], "/usr/share/foo/models/bar");
    assert!(model["disclaimer"].as_str().unwrap().contains("ML-Policy"));
    assert!(
        model["readme"]
            .as_str()
            .unwrap()
            .contains("model bar is a Free Model")
    );
}

#[test]
fn repack_suffix_is_dfsg_when_any_non_free_file_goes() {
    let toxic = model("MIT", &download());
    let non_free = model("CC-BY-NC-SA-4.0", &download()).replace("\"bar\"", "\"baz\"");
    let (code, report, stderr) =
        classify_text(&format!("{toxic}\n{non_free}"), &["--source", "foo"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["models"][0]["category"], "toxic-candy");
    assert_eq!(report["models"][1]["category"], "non-free");
    assert_eq!(report["repack_suffix"], "+dfsg");
}

#[test]
fn openness_is_reported_for_information() {
    let open = model_with(
        "Apache-2.0",
        "mof-components = [\"Model architecture\", \"Model card\", \"Data card\", \
         \"Research paper\", \"Inference code\", \"Evaluation data\"]",
        &(download()
            + &training(PROGRAM)
            + &data(PUBLIC_URL_DATA)
            + "\n[model.evaluation]\ncommand = \"python3 eval.py {model}\"\nmetric = \"accuracy\"\nmin = 0.9\n"),
    );
    let (code, report, stderr) = classify_text(&open, &["--source", "foo"]);
    assert_eq!(code, 0, "{stderr}\n{open}");
    let model_report = &report["models"][0];
    assert_eq!(model_report["mof_class"], "Class II", "{model_report:#}");
    assert_eq!(
        model_report["osaid"],
        serde_json::json!({"data_information": true, "code": true, "parameters": true})
    );

    let closed = model("Apache-2.0", &download());
    let (_, report, _) = classify_text(&closed, &["--source", "foo"]);
    assert!(report["models"][0].get("mof_class").is_none());
    assert_eq!(
        report["models"][0]["osaid"],
        serde_json::json!({"data_information": false, "code": false, "parameters": true})
    );
}

#[test]
fn unknown_openness_component_is_a_manifest_error() {
    let manifest = model_with("MIT", "mof-components = [\"Vibes\"]", "");
    let (code, _, stderr) = classify_text(&manifest, &["--source", "foo"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("mlmodel.toml:6:19: model `bar`: `Vibes` is not a Model Openness"),
        "{stderr}"
    );
}

#[test]
fn source_name_comes_from_control_then_manifest_then_directory() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().join("My_Project");
    let text = model("MIT", &download());
    write(&root, "debian/mlmodel.toml", &text);
    let name_of = |root: &std::path::Path| {
        let (code, report, stderr) = crate::support::classify_tree(root, &[]);
        assert_eq!(code, 0, "{stderr}");
        report["models"][0]["packages"][0]["name"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(name_of(&root), "my-project-model-bar");
    write(
        &root,
        "debian/mlmodel.toml",
        format!("[source]\nname = \"fromtoml\"\n\n{text}"),
    );
    assert_eq!(name_of(&root), "fromtoml-model-bar");
    write(
        &root,
        "debian/control",
        "Source: fromcontrol\nSection: science\n\nPackage: fromcontrol\n",
    );
    assert_eq!(name_of(&root), "fromcontrol-model-bar");
}

#[test]
fn readable_output_shows_verdict_reasons_and_plan() {
    let tree = tempfile::tempdir().unwrap();
    write(tree.path(), "m.toml", model("CC-BY-NC-4.0", &download()));
    write(tree.path(), "models/bar.safetensors", b"bar\n");
    let output = dh_mlmodel()
        .current_dir(tree.path())
        .args(["classify", "--manifest", "m.toml", "--source", "foo"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for line in [
        "model bar: non-free",
        "  - licence `CC-BY-NC-4.0` is not DFSG-free (CC-BY-NC-4.0)",
        "  package foo-model-bar (non-free, downloaded)",
        "  package foo-model-bar-installer (contrib, archive)",
        "  code package: Suggests: foo-model-bar-installer",
        "orig tarball: repacked, version suffix +dfsg",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
}

/// Licence, training program and described public data witness the parameters, the training
/// code, the architecture, the datasets and the data card; the report names what Class III
/// still needs instead of leaving the class blank.
#[test]
fn openness_names_what_the_next_class_needs() {
    let text = model_with(
        "MIT",
        "",
        &(download() + &training(PROGRAM) + &data(PUBLIC_URL_DATA)),
    );
    let (code, report, stderr) = classify_text(&text, &["--source", "foo"]);
    assert_eq!(code, 0, "{stderr}\n{text}");
    let model = &report["models"][0];
    assert!(model.get("mof_class").is_none(), "{model:#}");
    assert_eq!(
        model["mof_missing"],
        serde_json::json!([
            "Evaluation results",
            "Model card",
            "Technical report or Research paper"
        ]),
        "{model:#}"
    );
}
