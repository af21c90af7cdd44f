//! SPDX 3.0.1 JSON-LD (<https://spdx.github.io/spdx-spec/v3.0.1/>): one `ai_AIPackage` per
//! model, one `dataset_DatasetPackage` per training input linked by a `trainedOn` relationship,
//! the installed files with their SHA-256, the licences as `simplelicensing_LicenseExpression`
//! elements reached through `hasDeclaredLicense` and `hasConcludedLicense` relationships (the AI
//! and Dataset profiles' conformance rules ask for exactly one of each per package), and the
//! verification of retrained weights as an `Annotation` and `ai_metric` entries.
//!
//! Property names, enumeration values and required fields follow the 3.0.1 model
//! (spdx/spdx-3-model, as compiled into the `spdx-python-model` bindings that the tests
//! deserialise and re-serialise every document with). `ai_energyConsumption` is never written:
//! the manifest records CPU and GPU hours, not a measured quantity of energy with its unit.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::{Value, json};

use super::{ModelBom, insert_some, timestamp, tool_version};
use crate::hash::sha256_bytes;

const CONTEXT: &str = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld";
const CREATION_INFO: &str = "_:creationinfo";

/// The document for `models`, named `name`, created at `epoch` (`SOURCE_DATE_EPOCH`). Every
/// element ID lies under a namespace derived from `name` and the models' digests (their
/// package names, versions and file SHA-256s), so the same inputs give the same document.
pub fn document(name: &str, models: &[ModelBom], epoch: i64) -> Result<Value> {
    let digests: String = models.iter().map(|m| m.digest()).collect();
    let namespace = format!(
        "https://spdx.org/spdxdocs/dh-mlmodel/{}-{}",
        iri_segment(name),
        &sha256_bytes(digests.as_bytes())[..16]
    );
    let mut graph = Graph::new(&namespace);
    let agent = graph.id("SoftwareAgent", "dh-mlmodel");
    let tool = graph.id("Tool", "dh-mlmodel");
    graph.push(json!({
        "type": "CreationInfo",
        "@id": CREATION_INFO,
        "specVersion": "3.0.1",
        "created": timestamp(epoch)?,
        "createdBy": [agent],
        "createdUsing": [tool],
    }));
    graph.element(json!({"type": "SoftwareAgent", "spdxId": agent, "name": "dh-mlmodel"}));
    graph.element(json!({
        "type": "Tool",
        "spdxId": tool,
        "name": format!("dh-mlmodel {}", tool_version()),
    }));
    // SPDX documents' own data licence (SPDX 3.0.1, Core/SpdxDocument dataLicense).
    let data_license = graph.license("CC0-1.0");

    let mut roots = Vec::new();
    for model in models {
        roots.push(add_model(&mut graph, model));
    }
    let document_id = graph.id("SpdxDocument", "document");
    let mut elements: Vec<Value> = graph.element_ids.iter().cloned().map(Value::from).collect();
    elements.retain(|id| !roots.contains(id));
    let document = json!({
        "type": "SpdxDocument",
        "spdxId": document_id,
        "creationInfo": CREATION_INFO,
        "name": name,
        "dataLicense": data_license,
        "profileConformance": ["core", "software", "simpleLicensing", "ai", "dataset"],
        "rootElement": roots,
        "element": elements,
    });
    let mut nodes = graph.nodes;
    nodes.insert(1, document);
    Ok(json!({"@context": CONTEXT, "@graph": nodes}))
}

/// The AI package of `model` with its files, licences, training data and verification; returns
/// its ID.
fn add_model(graph: &mut Graph, model: &ModelBom) -> Value {
    let scope = &model.package;
    let package_id = graph.id("AIPackage", scope);
    let mut package = json!({
        "type": "ai_AIPackage",
        "spdxId": package_id,
        "name": model.package,
        "summary": format!("the weights of the {} model of {}", model.model, model.source),
        "software_primaryPurpose": "model",
    });
    let fields = package.as_object_mut().expect("an object");
    insert_some(fields, "software_packageVersion", &model.version);
    insert_some(fields, "description", &model.description);
    insert_some(
        fields,
        "software_downloadLocation",
        &model.download_location,
    );
    insert_some(fields, "software_homePage", &model.homepage);
    if !model.type_of_model.is_empty() {
        fields.insert("ai_typeOfModel".into(), json!(model.type_of_model));
    }
    if !model.domain.is_empty() {
        fields.insert("ai_domain".into(), json!(model.domain));
    }
    insert_some(fields, "ai_limitation", &model.limitation);
    if let Some(training) = training_text(model) {
        fields.insert("ai_informationAboutTraining".into(), training.into());
    }
    if let Some(supplier) = &model.supplier {
        let agent = graph.id("Agent", &format!("{scope}/supplier"));
        graph.element(json!({"type": "Agent", "spdxId": agent, "name": supplier}));
        fields.insert("suppliedBy".into(), agent.into());
    }
    if let Some(verification) = &model.verification {
        let metrics: Vec<Value> =
            std::iter::once(("verdict".to_string(), verification.verdict.clone()))
                .chain(std::iter::once((
                    "verification_method".to_string(),
                    verification.method.clone(),
                )))
                .chain(verification.figures.iter().cloned())
                .map(|(key, value)| json!({"type": "DictionaryEntry", "key": key, "value": value}))
                .collect();
        fields.insert("ai_metric".into(), metrics.into());
    }
    graph.element(package);

    if let Some(license) = &model.license {
        graph.licensed(&package_id, scope, license);
    }

    let mut file_ids = Vec::new();
    for (index, file) in model.files.iter().enumerate() {
        let id = graph.id("File", &format!("{scope}/{}", index + 1));
        let mut element = json!({
            "type": "software_File",
            "spdxId": id,
            "name": file.path,
            "software_primaryPurpose": "model",
            "verifiedUsing": [hash(&file.sha256)],
        });
        if let Some(published) = &file.published_sha256 {
            element.as_object_mut().expect("an object").insert(
                "comment".into(),
                format!("the published file's SHA-256 is {published}").into(),
            );
        }
        graph.element(element);
        file_ids.push(Value::from(id));
    }
    if !file_ids.is_empty() {
        graph.relationship(
            &format!("{scope}/contains"),
            &package_id,
            "contains",
            file_ids,
        );
    }

    let mut dataset_ids = Vec::new();
    for (index, dataset) in model.datasets.iter().enumerate() {
        let dataset_scope = format!("{scope}/{}", index + 1);
        let id = graph.id("DatasetPackage", &dataset_scope);
        let mut element = json!({
            "type": "dataset_DatasetPackage",
            "spdxId": id,
            "name": dataset.name,
            "software_primaryPurpose": "data",
            // Required; the manifest does not say what kind of data it is.
            "dataset_datasetType": ["noAssertion"],
        });
        let fields = element.as_object_mut().expect("an object");
        insert_some(fields, "software_downloadLocation", &dataset.url);
        let origin = match (&dataset.package, &dataset.path) {
            (Some(package), _) => Some(format!("shipped by the Debian package {package}")),
            (_, Some(path)) => Some(format!("{path} in the source package {}", model.source)),
            _ => None,
        };
        if let Some(origin) = origin {
            fields.insert("description".into(), origin.into());
        }
        // Anyone can fetch it (a public URL, a Debian package, the source package): a direct
        // download; a URL that needs an account: a registration. Unstated: left out.
        let public = dataset
            .public
            .or_else(|| (dataset.package.is_some() || dataset.path.is_some()).then_some(true));
        match public {
            Some(true) => {
                fields.insert(
                    "dataset_datasetAvailability".into(),
                    "directDownload".into(),
                );
            }
            Some(false) => {
                fields.insert("dataset_datasetAvailability".into(), "registration".into());
            }
            None => {}
        }
        if let Some(size) = dataset.size {
            fields.insert("dataset_datasetSize".into(), size.into());
        }
        if let Some(sha256) = &dataset.sha256 {
            fields.insert("verifiedUsing".into(), json!([hash(sha256)]));
        }
        graph.element(element);
        if let Some(license) = &dataset.license {
            graph.licensed(&id, &dataset_scope, license);
        }
        dataset_ids.push(Value::from(id));
    }
    if !dataset_ids.is_empty() {
        graph.relationship(
            &format!("{scope}/trainedOn"),
            &package_id,
            "trainedOn",
            dataset_ids,
        );
    }

    if let Some(verification) = &model.verification {
        let id = graph.id("Annotation", &format!("{scope}/verification"));
        graph.element(json!({
            "type": "Annotation",
            "spdxId": id,
            "annotationType": "review",
            "subject": package_id,
            "statement": verification.statement,
        }));
    }
    Value::from(package_id)
}

/// `ai_informationAboutTraining`: how the weights were made, in one paragraph.
fn training_text(model: &ModelBom) -> Option<String> {
    let training = model.training.as_ref()?;
    let mut parts = Vec::new();
    if let Some(program) = &training.program {
        parts.push(format!("training program: {program}"));
    }
    if let Some(command) = &training.command {
        parts.push(format!("command: {command}"));
    }
    if let Some(seed) = training.seed {
        parts.push(format!("seed {seed}"));
    }
    parts.push(if training.deterministic {
        "deterministic (a rerun gives identical bytes)".to_string()
    } else {
        "not declared deterministic".to_string()
    });
    if let Some(hours) = training.cpu_hours {
        parts.push(format!("{hours} CPU-hours"));
    }
    if let Some(hours) = training.gpu_hours {
        parts.push(format!("{hours} GPU-hours"));
    }
    if let Some(origin) = &model.origin {
        parts.push(format!("weights in this package: {origin}"));
    }
    Some(parts.join("; "))
}

fn hash(sha256: &str) -> Value {
    json!({"type": "Hash", "algorithm": "sha256", "hashValue": sha256})
}

/// An IRI path segment from free text: unreserved characters kept, the rest percent-encoded.
fn iri_segment(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~+".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The `@graph` being built: its nodes in order, the element IDs the document lists, and the
/// licence elements shared by every package that names the same expression.
struct Graph {
    namespace: String,
    nodes: Vec<Value>,
    element_ids: Vec<String>,
    licenses: BTreeMap<String, String>,
}

impl Graph {
    fn new(namespace: &str) -> Graph {
        Graph {
            namespace: namespace.to_string(),
            nodes: Vec::new(),
            element_ids: Vec::new(),
            licenses: BTreeMap::new(),
        }
    }

    fn id(&self, kind: &str, name: &str) -> String {
        let path: Vec<String> = name.split('/').map(iri_segment).collect();
        format!("{}/{kind}/{}", self.namespace, path.join("/"))
    }

    fn push(&mut self, node: Value) {
        self.nodes.push(node);
    }

    /// Adds an element, with the shared creation information.
    fn element(&mut self, mut node: Value) {
        let fields = node.as_object_mut().expect("an object");
        fields.insert("creationInfo".into(), CREATION_INFO.into());
        if let Some(id) = fields.get("spdxId").and_then(Value::as_str) {
            self.element_ids.push(id.to_string());
        }
        self.nodes.push(node);
    }

    /// The licence element of `expression`, made once.
    fn license(&mut self, expression: &str) -> String {
        if let Some(id) = self.licenses.get(expression) {
            return id.clone();
        }
        let id = self.id("License", &(self.licenses.len() + 1).to_string());
        self.element(json!({
            "type": "simplelicensing_LicenseExpression",
            "spdxId": id,
            "simplelicensing_licenseExpression": expression,
        }));
        self.licenses.insert(expression.to_string(), id.clone());
        id
    }

    /// The declared licence of `from` is `expression`, and so is the concluded one: Debian's
    /// review concludes what the manifest states.
    fn licensed(&mut self, from: &str, scope: &str, expression: &str) {
        let license = self.license(expression);
        for kind in ["hasDeclaredLicense", "hasConcludedLicense"] {
            self.relationship(
                &format!("{scope}/{kind}"),
                from,
                kind,
                vec![Value::from(license.clone())],
            );
        }
    }

    fn relationship(&mut self, name: &str, from: &str, kind: &str, to: Vec<Value>) {
        let id = self.id("Relationship", name);
        self.element(json!({
            "type": "Relationship",
            "spdxId": id,
            "from": from,
            "relationshipType": kind,
            "to": to,
        }));
    }
}
