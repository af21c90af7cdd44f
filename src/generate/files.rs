//! The debian/ files other than control, rendered from `templates/debian/` with the same
//! minijinja settings as the helper script (strict undefined: a missing value is an error, never
//! an empty string).

use anyhow::{Context, Result};
use serde::Serialize;

/// (path in the tree, template name, template text, file mode).
const FILES: &[(&str, &str, &str, u32)] = &[
    (
        "debian/rules",
        "rules",
        include_str!("../../templates/debian/rules.j2"),
        0o755,
    ),
    (
        "debian/copyright",
        "copyright",
        include_str!("../../templates/debian/copyright.j2"),
        0o644,
    ),
    (
        "debian/watch",
        "watch",
        include_str!("../../templates/debian/watch.j2"),
        0o644,
    ),
    (
        "debian/changelog",
        "changelog",
        include_str!("../../templates/debian/changelog.j2"),
        0o644,
    ),
    (
        "debian/source/format",
        "source-format",
        include_str!("../../templates/debian/source-format.j2"),
        0o644,
    ),
    (
        "debian/README.Debian",
        "README.Debian",
        include_str!("../../templates/debian/README.Debian.j2"),
        0o644,
    ),
    (
        "debian/upstream/metadata",
        "upstream-metadata",
        include_str!("../../templates/debian/upstream-metadata.j2"),
        0o644,
    ),
    (
        "debian/tests/control",
        "tests-control",
        include_str!("../../templates/debian/tests-control.j2"),
        0o644,
    ),
];

/// One rendered file.
pub struct Rendered {
    pub path: &'static str,
    pub text: String,
    pub mode: u32,
}

/// Renders every file for `context`. A file whose rendering is empty (no autopkgtest when no
/// model has an installer yet) is left out.
pub fn render_all(context: &impl Serialize) -> Result<Vec<Rendered>> {
    let mut env = crate::templates::environment();
    for (_, name, text, _) in FILES {
        env.add_template(name, text)?;
    }
    let mut rendered = Vec::new();
    for (path, name, _, mode) in FILES {
        let text = env
            .get_template(name)?
            .render(context)
            .with_context(|| format!("rendering {path}"))?;
        if !text.trim().is_empty() {
            rendered.push(Rendered {
                path,
                text,
                mode: *mode,
            });
        }
    }
    Ok(rendered)
}
