//! AI bills of materials: the SPDX 3.0.1 document `dh_mlmodel` ships in every weights package
//! it builds and `classify --format spdx` prints for a whole source, checked field by field
//! against the SPDX 3.0.1 model (AI and Dataset profiles) and by the independent
//! `spdx-python-model` implementation; and the CycloneDX 1.6 ML-BOM of `classify --format
//! cyclonedx`.

use std::path::Path;

use serde_json::Value;

use crate::debhelper::{INSTALL_DIR, Recipe, source_package};
use crate::support::{assert_valid_spdx, built_debs, dh_mlmodel, dpkg_buildpackage, unpack_deb};
use dh_mlmodel::hash::sha256_file;

/// The nodes of an SPDX document's `@graph` of JSON-LD type `kind`.
pub(crate) fn of_type<'a>(document: &'a Value, kind: &str) -> Vec<&'a Value> {
    document["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|node| node["type"] == kind)
        .collect()
}

/// The node with `spdxId` `id`.
pub(crate) fn by_id<'a>(document: &'a Value, id: &Value) -> &'a Value {
    document["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .find(|node| &node["spdxId"] == id)
        .unwrap_or_else(|| panic!("no element {id}"))
}

/// The targets of the relationships of type `kind` from `from`.
pub(crate) fn related<'a>(document: &'a Value, from: &Value, kind: &str) -> Vec<&'a Value> {
    of_type(document, "Relationship")
        .into_iter()
        .filter(|r| &r["from"] == from && r["relationshipType"] == kind)
        .flat_map(|r| r["to"].as_array().unwrap())
        .map(|id| by_id(document, id))
        .collect()
}

/// The `ai_metric` entries of an AI package as key → value.
pub(crate) fn metrics(package: &Value) -> std::collections::BTreeMap<String, String> {
    package["ai_metric"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    (
                        e["key"].as_str().unwrap().to_owned(),
                        e["value"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What every document dh-mlmodel writes must hold, whatever the model: the context, one
/// creation information with the tool, one SPDX document rooted at the AI packages and listing
/// every other element, one declared and one concluded licence per package (the AI and Dataset
/// profiles' conformance rules), a `noAssertion` data set type where none is known, and no
/// energy figure.
pub(crate) fn assert_spdx_shape(document: &Value) {
    assert_eq!(
        document["@context"],
        "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
    );
    let info = of_type(document, "CreationInfo");
    assert_eq!(info.len(), 1);
    assert_eq!(info[0]["specVersion"], "3.0.1");
    let tool = by_id(document, &info[0]["createdUsing"][0]);
    assert!(tool["name"].as_str().unwrap().starts_with("dh-mlmodel "));
    assert_eq!(
        by_id(document, &info[0]["createdBy"][0])["name"],
        "dh-mlmodel"
    );
    let doc = of_type(document, "SpdxDocument");
    assert_eq!(doc.len(), 1);
    let listed: Vec<&Value> = doc[0]["element"]
        .as_array()
        .unwrap()
        .iter()
        .chain(doc[0]["rootElement"].as_array().unwrap())
        .collect();
    for node in document["@graph"].as_array().unwrap() {
        if let Some(id) = node
            .get("spdxId")
            .filter(|_| node["type"] != "SpdxDocument")
        {
            assert!(listed.contains(&id), "{id} is not listed in the document");
            // IDs are derived, never random UUIDs.
            assert!(
                id.as_str()
                    .unwrap()
                    .starts_with("https://spdx.org/spdxdocs/dh-mlmodel/")
            );
        }
    }
    for kind in ["ai_AIPackage", "dataset_DatasetPackage"] {
        for package in of_type(document, kind) {
            for licence in ["hasDeclaredLicense", "hasConcludedLicense"] {
                let to = related(document, &package["spdxId"], licence);
                assert_eq!(to.len(), 1, "{kind} {}: {licence}", package["name"]);
                assert_eq!(to[0]["type"], "simplelicensing_LicenseExpression");
            }
        }
    }
    for package in of_type(document, "ai_AIPackage") {
        assert_eq!(package["software_primaryPurpose"], "model");
        assert!(package.get("ai_energyConsumption").is_none());
    }
}

#[test]
fn weights_package_ships_a_valid_spdx_document_outside_doc() {
    let package = source_package(Recipe::AtBuild { seed: 1 });
    let (ok, log) = dpkg_buildpackage(&package.root);
    assert!(ok, "dpkg-buildpackage failed:\n{log}");
    let deb = &built_debs(&package.root)["foo-model-net"];
    let unpacked = unpack_deb(deb);
    let path = unpacked
        .path()
        .join("usr/share/foo/models/net/sbom.spdx.json");
    assert!(path.is_file(), "no SPDX document in the weights package");
    assert!(assert_valid_spdx(&path) > 10);
    let document: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_spdx_shape(&document);

    // created is SOURCE_DATE_EPOCH: the changelog's date, as dpkg-buildpackage sets it.
    assert_eq!(
        of_type(&document, "CreationInfo")[0]["created"],
        "2026-11-22T00:00:00Z"
    );
    let ai = of_type(&document, "ai_AIPackage");
    assert_eq!(ai.len(), 1);
    let ai = ai[0];
    assert_eq!(ai["name"], "foo-model-net");
    assert_eq!(ai["software_packageVersion"], "1.0");
    assert_eq!(
        by_id(&document, &ai["suppliedBy"])["name"],
        "Test Maintainer <test@example.org>"
    );
    let training = ai["ai_informationAboutTraining"].as_str().unwrap();
    assert!(
        training.contains("training program: training/train.py"),
        "{training}"
    );
    assert!(
        training.contains("weights in this package: archive"),
        "{training}"
    );
    let declared = related(&document, &ai["spdxId"], "hasDeclaredLicense");
    assert_eq!(declared[0]["simplelicensing_licenseExpression"], "MIT");

    // The installed file, with the digest of the bytes in the package.
    let files = related(&document, &ai["spdxId"], "contains");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["name"], format!("{INSTALL_DIR}/net.npy"));
    let (installed, _) =
        sha256_file(&unpacked.path().join("usr/share/foo/models/net/net.npy")).unwrap();
    assert_eq!(files[0]["verifiedUsing"][0]["algorithm"], "sha256");
    assert_eq!(files[0]["verifiedUsing"][0]["hashValue"], installed);

    // The training input: a DatasetPackage linked by trainedOn, licensed, pinned, available.
    let data = related(&document, &ai["spdxId"], "trainedOn");
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["type"], "dataset_DatasetPackage");
    assert_eq!(data[0]["name"], "points");
    assert_eq!(
        data[0]["dataset_datasetType"],
        serde_json::json!(["noAssertion"])
    );
    assert_eq!(data[0]["dataset_datasetAvailability"], "directDownload");
    let (points, _) = sha256_file(&package.root.join("data/points.csv")).unwrap();
    assert_eq!(data[0]["verifiedUsing"][0]["hashValue"], points);
    let data_licence = related(&document, &data[0]["spdxId"], "hasDeclaredLicense");
    assert_eq!(
        data_licence[0]["simplelicensing_licenseExpression"],
        "CC0-1.0"
    );

    // Trained during the build, deterministic: the bytes are the published ones.
    assert_eq!(metrics(ai)["verdict"], "identical");
    assert_eq!(metrics(ai)["verification_method"], "bitwise");
    let note = of_type(&document, "Annotation");
    assert_eq!(note.len(), 1);
    assert_eq!(note[0]["subject"], ai["spdxId"]);

    // Never under /usr/share/doc, which dh_compress gzips and minimal images drop.
    let listing = std::process::Command::new("dpkg-deb")
        .arg("-c")
        .arg(deb)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    let docs: Vec<&str> = listing.lines().filter(|l| l.contains(".spdx")).collect();
    assert_eq!(docs.len(), 1, "{listing}");
    assert!(!docs[0].contains("/usr/share/doc/"), "{listing}");
}

/// The bundled test source with the facts an AI bill of materials records beyond the plan.
fn source_with_model_card() -> crate::debhelper::SourcePackage {
    let package = source_package(Recipe::InSource);
    let manifest_path = package.root.join("debian/mlmodel.toml");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap().replace(
        "in-source = true\n",
        "in-source = true\ntype-of-model = [\"linear regression\", \"supervised\"]\n\
         domain = [\"curve fitting\"]\nlimitations = \"Fits a line through 40 points only.\"\n",
    );
    std::fs::write(&manifest_path, manifest).unwrap();
    package
}

fn classify(root: &Path, format: &str, epoch: &str) -> Vec<u8> {
    let output = dh_mlmodel()
        .current_dir(root)
        .env("SOURCE_DATE_EPOCH", epoch)
        .args(["classify", "--format", format])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn classify_prints_the_sources_spdx_document_reproducibly() {
    let package = source_with_model_card();
    let bytes = classify(&package.root, "spdx", "1700000000");
    assert_eq!(bytes, classify(&package.root, "spdx", "1700000000"));
    let file = package.root.join("classify.spdx.json");
    std::fs::write(&file, &bytes).unwrap();
    assert_valid_spdx(&file);
    let document: Value = serde_json::from_slice(&bytes).unwrap();
    assert_spdx_shape(&document);
    assert_eq!(
        of_type(&document, "CreationInfo")[0]["created"],
        "2023-11-14T22:13:20Z"
    );
    let ai = of_type(&document, "ai_AIPackage")[0];
    assert_eq!(
        ai["ai_typeOfModel"],
        serde_json::json!(["linear regression", "supervised"])
    );
    assert_eq!(ai["ai_domain"], serde_json::json!(["curve fitting"]));
    assert_eq!(ai["ai_limitation"], "Fits a line through 40 points only.");
    assert_eq!(ai["software_packageVersion"], "1.0");
    // A plan is not a build: no verification is claimed.
    assert!(ai.get("ai_metric").is_none());
    assert!(of_type(&document, "Annotation").is_empty());

    // Another date changes `created` only: element IDs come from the names, versions and
    // digests.
    let later: Value =
        serde_json::from_slice(&classify(&package.root, "spdx", "1800000000")).unwrap();
    let ids = |d: &Value| -> Vec<Value> {
        d["@graph"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["spdxId"].clone())
            .collect()
    };
    assert_eq!(ids(&document), ids(&later));
    assert_ne!(
        of_type(&later, "CreationInfo")[0]["created"],
        of_type(&document, "CreationInfo")[0]["created"]
    );
    // Other weights, other IDs.
    let manifest_path = package.root.join("debian/mlmodel.toml");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    let pin = manifest
        .split("sha256 = \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    std::fs::write(&manifest_path, manifest.replace(&pin, &"0".repeat(64))).unwrap();
    let other: Value =
        serde_json::from_slice(&classify(&package.root, "spdx", "1700000000")).unwrap();
    assert_ne!(ids(&document)[2], ids(&other)[2]);
}

#[test]
fn classify_prints_a_cyclonedx_ml_bom() {
    let package = source_with_model_card();
    let bytes = classify(&package.root, "cyclonedx", "1700000000");
    assert_eq!(bytes, classify(&package.root, "cyclonedx", "1700000000"));
    let bom: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.6");
    let serial = bom["serialNumber"].as_str().unwrap();
    let uuid = serial.strip_prefix("urn:uuid:").unwrap();
    assert_eq!(
        uuid.split('-').map(str::len).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    assert_eq!(bom["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    let components = bom["components"].as_array().unwrap();
    let model = components
        .iter()
        .find(|c| c["type"] == "machine-learning-model")
        .unwrap();
    let data = components.iter().find(|c| c["type"] == "data").unwrap();
    assert_eq!(model["name"], "foo-model-net");
    assert_eq!(model["licenses"][0]["expression"], "MIT");
    assert_eq!(model["hashes"][0]["alg"], "SHA-256");
    let card = &model["modelCard"];
    assert_eq!(card["modelParameters"]["approach"]["type"], "supervised");
    assert_eq!(card["modelParameters"]["task"], "curve fitting");
    assert_eq!(
        card["modelParameters"]["datasets"][0]["ref"],
        data["bom-ref"]
    );
    assert_eq!(
        card["considerations"]["technicalLimitations"][0],
        "Fits a line through 40 points only."
    );
    assert_eq!(data["name"], "points");
    assert_eq!(data["data"][0]["type"], "dataset");
    assert_eq!(data["licenses"][0]["expression"], "CC0-1.0");
    assert_eq!(bom["dependencies"][0]["ref"], model["bom-ref"]);
    assert_eq!(bom["dependencies"][0]["dependsOn"][0], data["bom-ref"]);

    // --json and --format json are the same report.
    let json = dh_mlmodel()
        .current_dir(&package.root)
        .args(["classify", "--json"])
        .output()
        .unwrap();
    assert_eq!(json.stdout, classify(&package.root, "json", "0"));
}
