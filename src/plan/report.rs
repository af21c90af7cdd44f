//! Output of `dh-mlmodel classify`: each model's verdict and plan side by side, as readable
//! text or as one JSON object.

use std::io::{self, Write};

use serde_json::{Map, Value};

use super::Plan;

/// `{"source", "repack_suffix", "models": [ verdict fields + plan fields ]}`.
pub fn to_json(plan: &Plan) -> serde_json::Result<Value> {
    let mut models = Vec::new();
    for model_plan in &plan.models {
        let mut entry = match serde_json::to_value(&model_plan.class)? {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        if let Value::Object(fields) = serde_json::to_value(model_plan)? {
            for (key, value) in fields {
                entry.entry(key).or_insert(value);
            }
        }
        models.push(Value::Object(entry));
    }
    let mut top = Map::new();
    top.insert("source".into(), Value::String(plan.source.clone()));
    top.insert(
        "repack_suffix".into(),
        plan.repack_suffix
            .clone()
            .map_or(Value::Null, Value::String),
    );
    top.insert("models".into(), Value::Array(models));
    Ok(Value::Object(top))
}

/// The readable report.
pub fn write_text(out: &mut impl Write, plan: &Plan) -> io::Result<()> {
    writeln!(out, "source package: {}", plan.source)?;
    for model in &plan.models {
        let class = &model.class;
        writeln!(out)?;
        writeln!(out, "model {}: {}", class.name, class.category.as_str())?;
        for reason in &class.reasons {
            writeln!(out, "  - {reason}")?;
        }
        let mof = match (&class.mof_class, class.mof_missing.as_slice()) {
            (Some(reached), []) => format!("MOF {reached}"),
            (Some(reached), missing) => format!(
                "MOF {reached} (the next class also needs: {})",
                missing.join(", ")
            ),
            (None, missing) => {
                format!("no MOF class yet (Class III needs: {})", missing.join(", "))
            }
        };
        writeln!(
            out,
            "  openness: {mof}; OSAID data information {}, code {}, parameters {}",
            yes_no(class.osaid.data_information),
            yes_no(class.osaid.code),
            yes_no(class.osaid.parameters)
        )?;
        for package in &model.packages {
            writeln!(
                out,
                "  package {} ({}, {})",
                package.name,
                package.area.as_str(),
                package.origin.as_str()
            )?;
        }
        if !model.alternatives.is_empty() {
            let words: Vec<&str> = model.alternatives.iter().map(|o| o.as_str()).collect();
            writeln!(out, "  the installer can also: {}", words.join(", "))?;
        }
        if model.train_at_build {
            writeln!(out, "  trained during the package build")?;
        }
        for refusal in &model.at_build_refused {
            writeln!(out, "  at-build refused: {refusal}")?;
        }
        if let Some(relation) = &model.relation {
            writeln!(
                out,
                "  code package: {}: {}",
                relation.field, relation.package
            )?;
        }
        for note in &model.notes {
            writeln!(out, "  note: {note}")?;
        }
    }
    writeln!(out)?;
    match &plan.repack_suffix {
        Some(suffix) => writeln!(out, "orig tarball: repacked, version suffix {suffix}")?,
        None if plan.any_incomplete() => {
            writeln!(out, "orig tarball: undecided until every model is complete")?
        }
        None => writeln!(out, "orig tarball: used as is")?,
    }
    Ok(())
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}
