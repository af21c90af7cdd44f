//! Patches for a build that downloads weights compiled into the code. Those weights come with
//! the source as an orig component tarball, and debian/rules puts its files where the build
//! expects them before `dh_auto_configure`. When the download is a shell script of its own
//! that the build runs every time (`all: ; sh download_model.sh`), the patch adds a guard at
//! its top: the script exits at once when every file the component provides is in place. The
//! guard keeps the script working as upstream meant it wherever the files are missing.
//!
//! A download in a Makefile, a CMake file, `configure` or Python code is not patched: a
//! Makefile rule whose target is the file skips it once it is in place, and so does CMake's
//! `file(DOWNLOAD … EXPECTED_HASH)` when the file has that hash ("skipping download as file
//! already exists with expected SHA256 hash", CMake 3.25 in Debian 12); any other step is the
//! maintainer's to read, and `init` says so.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::{Change, PlannedPatch, file_word, is_plain_path, read_capped, splice, unique_name};
use crate::generate::fetched::WeightFetch;
use crate::pipeline::url_file_name;
use crate::plan::{Component, ModelPlan, Plan};

const GUARD: &str = include_str!("../../../templates/sh/skip-download.sh.j2");

/// How far below the shebang a guard may be placed after the script's opening comments.
const MAX_OPENING_COMMENT_LINES: usize = 200;

#[derive(Serialize)]
struct GuardContext<'a> {
    model: &'a str,
    component: &'a str,
    /// From the script's directory up to the tree's top (`../` per level).
    up: String,
    files: &'a [String],
}

/// What `init` does about the build's downloads of compiled-in weights: the patches, and one
/// line of advice per download.
#[derive(Debug, Default)]
pub struct Guards {
    pub patches: Vec<PlannedPatch>,
    pub advice: Vec<String>,
}

/// The model of `plan` whose component a download of `url` fetches: its `[model.download]`
/// URL (or a mirror) is `url`, or ends in the same file name.
fn component_of<'p>(plan: &'p Plan, url: &str) -> Option<(&'p ModelPlan, &'p Component)> {
    let wanted = url_file_name(url);
    plan.components().find(|(model, _)| {
        model.facts.download.as_ref().is_some_and(|download| {
            download
                .urls()
                .any(|u| u == url || (!wanted.is_empty() && url_file_name(u) == wanted))
        })
    })
}

/// The guards for the downloads in `fetches` of weights `plan` takes from an orig component,
/// in file and line order: one patch per script and component. A script larger than `cap`,
/// not UTF-8, or with a name or component file a diff header or the guard's quoting cannot
/// hold gets advice only.
pub fn plan(root: &Path, fetches: &[WeightFetch], plan: &Plan, cap: u64) -> Result<Guards> {
    let mut env = crate::templates::environment();
    env.add_template("guard", GUARD)?;
    let template = env.get_template("guard")?;
    let mut guards = Guards::default();
    // Each script's text as the patches before leave it: diffs apply in series order.
    let mut texts: HashMap<&str, String> = HashMap::new();
    for fetch in fetches {
        let Some((model, component)) = component_of(plan, &fetch.url) else {
            continue;
        };
        let existing = guards.patches.iter().find(|p| {
            p.path == fetch.path
                && matches!(&p.change, Change::UseComponent { component: c, .. } if *c == component.name)
        });
        let known = |text: String| {
            format!(
                "{}:{}: the build downloads the {} weights from {}; a Debian build has no \
                 network: they come with the source as its orig-{} component, which \
                 debian/rules puts in place before the build; {text}",
                fetch.path,
                fetch.line,
                model.name,
                crate::terminal::escape_controls(&fetch.url),
                component.name
            )
        };
        if let Some(patch) = existing {
            guards.advice.push(known(format!(
                "debian/patches/{} makes {} exit when they are there",
                patch.name, fetch.path
            )));
            continue;
        }
        let patchable = fetch.standalone_script
            && is_plain_path(&fetch.path)
            && !fetch.url.chars().any(char::is_control)
            && component.generates.iter().all(|f| is_plain_path(f));
        let text = patchable
            .then(|| {
                texts
                    .remove(fetch.path.as_str())
                    .or_else(|| read_capped(&root.join(&fetch.path), cap))
            })
            .flatten();
        let Some(text) = text else {
            guards.advice.push(known(format!(
                "if {} still downloads them then, patch it (debian/patches) to use them",
                fetch.path
            )));
            continue;
        };
        let context = GuardContext {
            model: &model.name,
            component: &component.name,
            up: "../".repeat(fetch.path.matches('/').count()),
            files: &component.generates,
        };
        let guard = template
            .render(&context)
            .with_context(|| format!("rendering the guard for {}:{}", fetch.path, fetch.line))?;
        let (patched, diff) = insert_guard(&text, &guard, &fetch.path);
        let name = unique_name(
            &guards.patches,
            format!("use-orig-{}.patch", file_word(&component.name)),
            format!(
                "use-orig-{}-{}.patch",
                file_word(&component.name),
                file_word(&fetch.path)
            ),
        );
        guards.advice.push(known(format!(
            "debian/patches/{name} makes {} exit when they are there",
            fetch.path
        )));
        guards.patches.push(PlannedPatch {
            name,
            path: fetch.path.clone(),
            line: fetch.line,
            url: fetch.url.clone(),
            change: Change::UseComponent {
                component: component.name.clone(),
                model: model.name.clone(),
            },
            diff,
        });
        texts.insert(&fetch.path, patched);
    }
    Ok(guards)
}

/// `script` with `guard` (whole lines) inserted after its `#!` line and the comment lines
/// that open it, followed by a blank line unless one is there; and the diff.
fn insert_guard(script: &str, guard: &str, path: &str) -> (String, String) {
    let mut at = 0;
    let mut lines = script.split_inclusive('\n').peekable();
    if let Some(first) = lines.next_if(|l| l.starts_with("#!")) {
        at += first.len();
    }
    for _ in 0..MAX_OPENING_COMMENT_LINES {
        match lines.next_if(|l| l.starts_with('#')) {
            Some(comment) => at += comment.len(),
            None => break,
        }
    }
    let mut start = at;
    let mut block = String::new();
    if at > 0 && !script[..at].ends_with('\n') {
        // The opening lines end the file without a newline: the last one is rewritten with it.
        start = script[..at].rfind('\n').map_or(0, |p| p + 1);
        block.push_str(&script[start..at]);
        block.push('\n');
    }
    block.push_str(guard);
    if !block.ends_with('\n') {
        block.push('\n');
    }
    if lines.peek().is_some_and(|next| !next.trim().is_empty()) {
        block.push('\n');
    }
    splice(script, start, at, &block, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUARD_LINES: &str = "if [ -e x ]; then\n\texit 0\nfi\n";

    #[test]
    fn the_guard_goes_after_the_shebang_and_the_opening_comments() {
        let script = "#!/bin/sh\n# Downloads the model.\n# SPDX: BSD-3-Clause\nset -e\nwget u\n";
        let (patched, diff) = insert_guard(script, GUARD_LINES, "get.sh");
        assert_eq!(
            patched,
            "#!/bin/sh\n# Downloads the model.\n# SPDX: BSD-3-Clause\nif [ -e x ]; then\n\texit 0\nfi\n\nset -e\nwget u\n"
        );
        assert_eq!(
            diff,
            "--- a/get.sh\n+++ b/get.sh\n@@ -1,5 +1,9 @@\n #!/bin/sh\n # Downloads the model.\n # SPDX: BSD-3-Clause\n+if [ -e x ]; then\n+\texit 0\n+fi\n+\n set -e\n wget u\n"
        );
        // No shebang: at the top, before a blank line already there.
        let (patched, _) = insert_guard("\nwget u\n", GUARD_LINES, "get.sh");
        assert_eq!(patched, format!("{GUARD_LINES}\nwget u\n"));
        // A shebang alone without a newline.
        let (patched, diff) = insert_guard("#!/bin/sh", GUARD_LINES, "get.sh");
        assert_eq!(patched, format!("#!/bin/sh\n{GUARD_LINES}"));
        assert!(
            diff.contains("-#!/bin/sh\n\\ No newline at end of file\n+#!/bin/sh\n+if"),
            "{diff}"
        );
    }

    /// The diff applies with `patch -p1` and gives the patched text, whatever the script.
    #[test]
    fn the_diff_applies_with_patch() {
        let dir = tempfile::tempdir().unwrap();
        for script in [
            "#!/bin/sh\nset -e\nwget u\n",
            "#!/bin/sh",
            "",
            "wget u",
            "#!/bin/bash\n# a\n# b\n\n\nwget u\n",
        ] {
            let path = dir.path().join("get.sh");
            std::fs::write(&path, script).unwrap();
            let (patched, diff) = insert_guard(script, GUARD_LINES, "get.sh");
            let output = std::process::Command::new("patch")
                .args(["-p1", "-F0", "--quiet"])
                .current_dir(dir.path())
                .stdin(std::process::Stdio::piped())
                .spawn()
                .and_then(|mut child| {
                    use std::io::Write;
                    child.stdin.take().unwrap().write_all(diff.as_bytes())?;
                    child.wait_with_output()
                })
                .unwrap();
            assert!(output.status.success(), "{script:?}\n{diff}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), patched, "{diff}");
        }
    }
}
