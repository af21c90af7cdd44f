//! The debian/ files other than control: debian/changelog written by `debian-changelog` as dch
//! writes a first entry, the others rendered from `templates/debian/` with the same minijinja
//! settings as the helper script (strict undefined: a missing value is an error, never an empty
//! string).

use anyhow::{Context, Result};
use debian_changelog::{ChangeLog, Urgency};

use super::text::wrap;
use super::views::{FileContext, ModelView};

/// (path in the tree, template name, template text, file mode); debian/changelog, which has no
/// template, is written after debian/watch.
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
    pub path: String,
    pub text: String,
    pub mode: u32,
}

/// Renders every file for `context`. A file whose rendering is empty (no autopkgtest when no
/// model has an installer yet) is left out.
pub fn render_all(context: &FileContext) -> Result<Vec<Rendered>> {
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
                path: path.to_string(),
                text,
                mode: *mode,
            });
        }
        if *path == "debian/watch" {
            rendered.push(changelog(context)?);
        }
    }
    for file in &context.install_files {
        rendered.push(Rendered {
            path: format!("debian/{}.install", file.package),
            text: env
                .render_str(INSTALL_TEMPLATE, file)
                .with_context(|| format!("rendering debian/{}.install", file.package))?,
            mode: 0o644,
        });
    }
    Ok(rendered)
}

/// `debian/<package>.install`, one per code package that needs one (dh_install(1)).
const INSTALL_TEMPLATE: &str = include_str!("../../templates/debian/install.j2");

/// The bug number of the ITP (Intent To Package) bug a first upload closes, until the
/// maintainer files it. dpkg-parsechangelog reads no `Closes` from it, so lintian says
/// `initial-upload-closes-no-bugs`, the reminder to fill it in, and nothing else: a `#` before
/// letters (dh_make's `#nnnn`) would also be lintian's `wrong-bug-number-in-closes`, which
/// fires only when the word after `Closes:` starts with `bug`, `#` or digits.
const ITP_PLACEHOLDER: &str = "FIXME-ITP-bug-number";

/// Changelog lines are `  * ` and the text, wrapped under 80 columns (Debian Policy 4.4 asks
/// for lines under 80 characters).
const CHANGELOG_WIDTH: usize = 79 - 4;

/// debian/changelog: one UNRELEASED entry, as `dch --create` starts one, listing what `init`
/// made of each model in plain words.
fn changelog(context: &FileContext) -> Result<Rendered> {
    let version = context.version.parse().map_err(|err| {
        crate::error::Kind::Input.msg(format!(
            "{} is not a Debian version: {err}",
            context.version
        ))
    })?;
    let mut entry = ChangeLog::new()
        .new_empty_entry()
        .package(context.source.clone())
        .version(version)
        .distribution("UNRELEASED".to_string())
        .urgency(Urgency::Medium)
        .maintainer(context.identity.clone())
        .datetime(context.datetime);
    let mut items = vec![format!("Initial release. (Closes: {ITP_PLACEHOLDER})")];
    items.extend(context.models.iter().map(model_change));
    for item in items {
        for (i, line) in wrap(&item, CHANGELOG_WIDTH).into_iter().enumerate() {
            let bullet = if i == 0 { "* " } else { "  " };
            entry = entry.change_line(format!("{bullet}{line}"));
        }
    }
    Ok(Rendered {
        path: "debian/changelog".to_string(),
        text: entry.finish().to_string(),
        mode: 0o644,
    })
}

/// What the package does with one model, as a changelog item. The name leads, followed by a
/// colon: a model named `model` must not make "model model", which lintian flags as a
/// duplicate word.
fn model_change(model: &ModelView) -> String {
    let name = &model.name;
    if model.packages.is_empty() {
        return format!(
            "{name}: a model not packaged yet, for lack of facts in debian/mlmodel.toml."
        );
    }
    let category = category_words(model.category);
    if model.weights_in_archive {
        return format!(
            "{name}: a model ({category}) built from the source into {}.",
            model.packages.join(", ")
        );
    }
    format!(
        "{name}: a model ({category}) installed on the user's machine by {}.",
        model.installer.as_deref().unwrap_or_default()
    )
}

/// A model category in words (Debian ML-Policy).
pub fn category_words(category: &str) -> &'static str {
    match category {
        "free" => "free: free licence, training data and program",
        "toxic-candy" => "ToxicCandy: free licence, training data or program not free",
        "non-free" => "non-free licence",
        _ => "facts still missing",
    }
}
