//! CycloneDX 1.6 ML-BOM (<https://cyclonedx.org/docs/1.6/json/>): one component of type
//! `machine-learning-model` per model, with its licence, hashes, download location and a
//! `modelCard` (the datasets it was trained on, its limitations, the verification of retrained
//! weights as performance metrics), and one `data` component per training input; the model
//! `dependsOn` its data.

use anyhow::Result;
use serde_json::{Value, json};

use super::{ModelBom, insert_some, timestamp, tool_version};
use crate::hash::sha256_bytes;

/// The ML-BOM of `models`, stamped with `epoch`. The serial number is a UUID made from the
/// models' digests, so the same inputs give the same document.
pub fn document(models: &[ModelBom], epoch: i64) -> Result<Value> {
    let digests: String = models.iter().map(|m| m.digest()).collect();
    let mut components = Vec::new();
    let mut dependencies = Vec::new();
    for model in models {
        let model_ref = format!("model:{}", model.package);
        let mut data_refs = Vec::new();
        for (index, dataset) in model.datasets.iter().enumerate() {
            let data_ref = format!("data:{}:{}", model.package, index + 1);
            let mut component = json!({
                "type": "data",
                "bom-ref": data_ref,
                "name": dataset.name,
                "data": [{"type": "dataset", "name": dataset.name}],
            });
            let fields = component.as_object_mut().expect("an object");
            if let Some(license) = &dataset.license {
                fields.insert("licenses".into(), json!([{"expression": license}]));
            }
            if let Some(sha256) = &dataset.sha256 {
                fields.insert(
                    "hashes".into(),
                    json!([{"alg": "SHA-256", "content": sha256}]),
                );
            }
            if let Some(url) = &dataset.url {
                fields.insert(
                    "externalReferences".into(),
                    json!([{"type": "distribution", "url": url}]),
                );
            }
            let origin = match (&dataset.package, &dataset.path) {
                (Some(package), _) => Some(format!("shipped by the Debian package {package}")),
                (_, Some(path)) => Some(format!("{path} in the source package {}", model.source)),
                _ => None,
            };
            if let Some(origin) = origin {
                fields.insert("description".into(), origin.into());
            }
            components.push(component);
            data_refs.push(Value::from(data_ref));
        }
        components.push(model_component(model, &model_ref, &data_refs));
        if !data_refs.is_empty() {
            dependencies.push(json!({"ref": model_ref, "dependsOn": data_refs}));
        }
    }
    Ok(json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", uuid_from(&sha256_bytes(digests.as_bytes()))),
        "version": 1,
        "metadata": {
            "timestamp": timestamp(epoch)?,
            "tools": {"components": [{
                "type": "application",
                "name": "dh-mlmodel",
                "version": tool_version(),
            }]},
        },
        "components": components,
        "dependencies": dependencies,
    }))
}

fn model_component(model: &ModelBom, model_ref: &str, data_refs: &[Value]) -> Value {
    let mut component = json!({
        "type": "machine-learning-model",
        "bom-ref": model_ref,
        "name": model.package,
        "hashes": model.files.iter().map(|f| json!({"alg": "SHA-256", "content": f.sha256})).collect::<Vec<_>>(),
    });
    let fields = component.as_object_mut().expect("an object");
    insert_some(fields, "version", &model.version);
    insert_some(fields, "description", &model.description);
    if let Some(supplier) = &model.supplier {
        fields.insert("supplier".into(), json!({"name": supplier}));
    }
    if let Some(license) = &model.license {
        fields.insert("licenses".into(), json!([{"expression": license}]));
    }
    let mut references = Vec::new();
    if let Some(url) = &model.download_location {
        references.push(json!({"type": "distribution", "url": url}));
    }
    if let Some(homepage) = &model.homepage {
        references.push(json!({"type": "website", "url": homepage}));
    }
    if !references.is_empty() {
        fields.insert("externalReferences".into(), references.into());
    }
    let mut card = serde_json::Map::new();
    let mut parameters = serde_json::Map::new();
    // CycloneDX's learning approaches; other kinds of model stay in the SPDX typeOfModel.
    const APPROACHES: [&str; 5] = [
        "supervised",
        "unsupervised",
        "reinforcement-learning",
        "semi-supervised",
        "self-supervised",
    ];
    if let Some(approach) = model
        .type_of_model
        .iter()
        .find(|t| APPROACHES.contains(&t.as_str()))
    {
        parameters.insert("approach".into(), json!({"type": approach}));
    }
    if !model.domain.is_empty() {
        parameters.insert("task".into(), model.domain.join(", ").into());
    }
    if !data_refs.is_empty() {
        let datasets: Vec<Value> = data_refs.iter().map(|r| json!({"ref": r})).collect();
        parameters.insert("datasets".into(), datasets.into());
    }
    if !parameters.is_empty() {
        card.insert("modelParameters".into(), parameters.into());
    }
    if let Some(verification) = &model.verification {
        let metrics: Vec<Value> =
            std::iter::once(("verdict".to_string(), verification.verdict.clone()))
                .chain(verification.figures.iter().cloned())
                .map(|(key, value)| json!({"type": key, "value": value}))
                .collect();
        card.insert(
            "quantitativeAnalysis".into(),
            json!({"performanceMetrics": metrics}),
        );
    }
    let mut considerations = serde_json::Map::new();
    if let Some(limitation) = &model.limitation {
        considerations.insert("technicalLimitations".into(), json!([limitation]));
    }
    if !considerations.is_empty() {
        card.insert("considerations".into(), considerations.into());
    }
    if !card.is_empty() {
        fields.insert("modelCard".into(), card.into());
    }
    component
}

/// A UUID (version 5 layout: RFC 9562's version and variant bits set) from a hex digest.
fn uuid_from(hex: &str) -> String {
    let mut bytes: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect();
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
