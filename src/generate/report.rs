//! The terminal report of `init`.

use super::{Report, state};
use crate::pipeline::MANIFEST_PATH;

/// A readable summary of `report` for the terminal.
pub fn describe(report: &Report) -> String {
    let mut out = String::new();
    if report.manifest_drafted {
        out.push_str(&format!(
            "drafted {MANIFEST_PATH} from a scan: its FIXME placeholders are facts to fill in\n"
        ));
    }
    for (path, outcome) in &report.files {
        match outcome {
            state::Outcome::Written => out.push_str(&format!("wrote {path}\n")),
            state::Outcome::Unchanged => out.push_str(&format!("unchanged {path}\n")),
            state::Outcome::Kept(why) => out.push_str(&format!("left {path} alone: {why}\n")),
        }
    }
    for item in &report.removed {
        out.push_str(&format!(
            "left out of debian/control: {item} (dh-mlmodel added it, you removed it; it is \
             not added again)\n"
        ));
        if item.starts_with("Package: ") {
            out.push_str(
                "  if you renamed a model's package, record the new name in debian/mlmodel.toml \
                 (`[model.packages]` with `weights = \"NAME\"` or `installer = \"NAME\"`) so \
                 that init and dh_mlmodel know it\n",
            );
        }
    }
    for advice in &report.build_fetches {
        out.push_str(advice);
        out.push('\n');
    }
    for (component, model) in &report.components {
        out.push_str(&format!(
            "model {model} is compiled into the code: the build needs the orig-{component} \
             component tarball; make it with `dh-mlmodel repack --download` (or `--from DIR`), \
             debian/rules puts its files in place\n"
        ));
    }
    out.push_str(&format!(
        "binary packages: {}\n",
        report.packages.join(", ")
    ));
    for (model, missing) in &report.missing {
        out.push_str(&format!(
            "model {model} is incomplete and not packaged yet; fill in these facts, then run \
             `dh-mlmodel init` again:\n"
        ));
        for fact in missing {
            out.push_str(&format!("  {}: {}\n", fact.at, fact.message));
        }
    }
    out
}
