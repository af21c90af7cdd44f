//! Components: `orig-<model>` tarballs for models whose weights the source must carry but
//! upstream's tarball lacks, made from the file `[model.download]` pins (downloaded with curl,
//! or taken from `--from DIR`), verified against the pinned SHA-256 and size; and the lines
//! `debian/watch` and `debian/gbp.conf` need for them, added without touching the rest.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use super::packaging::{self, Packaging};
use super::upstream::Upstream;
use super::{Fetch, Made, Options, Report, TarballWriter};
use crate::error::Kind;
use crate::plan::{Category, Download};

/// Makes the component tarballs `options` asks for, in their temporary files, with the
/// component names; records the debian/ files edited in `report`.
pub(super) fn make(
    options: &Options,
    packaging: &Packaging,
    writer: &TarballWriter<'_>,
    report: &mut Report,
) -> Result<Vec<(Option<String>, Made)>> {
    let request = crate::pipeline::Request {
        root: &options.tree,
        manifest: None,
        source: Some(&packaging.source),
        draft_when_missing: false,
    };
    let plan = crate::pipeline::load(&request, &writer.policy.pipeline)?.plan;
    // Without --component, the components the plan needs (weights compiled into the code).
    let names: Vec<String> = if options.components.is_empty() {
        plan.components().map(|(_, c)| c.name.clone()).collect()
    } else {
        options.components.clone()
    };
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let Some(fetch) = &options.fetch else {
        if options.components.is_empty() {
            report.warnings.push(format!(
                "the plan needs the orig component{} {}: give --download (fetch the pinned \
                 URL) or --from DIR (a directory holding the downloaded file) to make {}",
                if names.len() == 1 { "" } else { "s" },
                names.join(", "),
                if names.len() == 1 { "it" } else { "them" }
            ));
            return Ok(Vec::new());
        }
        return Err(Kind::Input.msg(
            "--component needs the weights: give --download (fetch the pinned URL) or \
             --from DIR (a directory holding the downloaded file)",
        ));
    };
    let work = tempfile::Builder::new()
        .prefix(".dh-mlmodel-download-")
        .tempdir_in(&options.output_dir)
        .map_err(|err| Kind::Io.mark(err))?;
    let mut made = Vec::new();
    for name in &names {
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            || name.is_empty()
        {
            return Err(Kind::Input.msg(format!(
                "component `{name}`: dpkg-source allows only lower-case letters, digits and `-` \
                 in a component name"
            )));
        }
        let model = plan
            .models
            .iter()
            .find(|m| m.component.as_ref().is_some_and(|c| c.name == *name))
            .or_else(|| plan.models.iter().find(|m| m.name == *name))
            .ok_or_else(|| {
                Kind::Input.msg(format!(
                    "component `{name}`: debian/mlmodel.toml has no model of that name"
                ))
            })?;
        // A component ships the weights in the source package, in main: only a free
        // model's may (ML-Policy; the plan's category, from classify).
        if model.class.category != Category::Free {
            return Err(Kind::Input.msg(format!(
                "component `{name}`: the model is {}, and only a free model's weights may ship \
                 in the source package; run `dh-mlmodel classify` for the reasons",
                model.class.category.as_str()
            )));
        }
        let download = model.facts.download.as_ref().ok_or_else(|| {
            Kind::Input.msg(format!(
                "component `{name}`: the model has no [model.download] with the URL, sha256 and \
                 size of its weights; add them to debian/mlmodel.toml"
            ))
        })?;
        let file = match fetch {
            Fetch::From(dir) => dir.join(file_name(&download.url)),
            Fetch::Download => fetch_url(download, work.path())?,
        };
        verify(&file, download)?;
        let upstream = match Upstream::open(&file) {
            Ok(archive) => archive,
            // Not an archive: the weights file itself, under a directory named after the
            // component (dpkg-source unpacks a component into that directory).
            Err(_) => Upstream::single(&file, name)?,
        };
        let mut exclusions = packaging::files_excluded(&options.tree, Some(name))?;
        let tarball = writer.write(&upstream, &mut exclusions)?;
        made.push((Some(name.clone()), tarball));
        let (edited, appended) = edit_watch(&options.tree, name, download)?;
        report.edited.extend(edited);
        report.suffix_always |= appended;
    }
    if let Some(edited) = add_gbp_components(&options.tree, &names)? {
        report.edited.push(edited);
    }
    report.edited.dedup();
    Ok(made)
}

/// The last component of a URL, without query or fragment; `download` when that is empty,
/// `.` or `..`, so the name always stays inside the directory it is joined to.
fn file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    match path.rsplit('/').next().unwrap_or(path) {
        "" | "." | ".." => "download".to_string(),
        name => name.to_string(),
    }
}

/// Downloads the pinned file (URL, then mirrors) into `dir` with curl.
fn fetch_url(download: &Download, dir: &Path) -> Result<PathBuf> {
    let dest = dir.join(file_name(&download.url));
    let protocols = if download.allow_http {
        "=https,http"
    } else {
        "=https"
    };
    let mut failures = Vec::new();
    for url in download.urls() {
        let output = Command::new("curl")
            .args(["--fail", "--location", "--silent", "--show-error"])
            .args(["--proto", protocols, "--proto-redir", protocols])
            .args(["--retry", "2", "--output"])
            .arg(&dest)
            .arg(url)
            .output()
            .context("cannot run curl (is the curl package installed?)")
            .map_err(|err| Kind::Io.mark(err))?;
        if output.status.success() {
            return Ok(dest);
        }
        failures.push(format!(
            "{url}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Err(Kind::Io.msg(format!(
        "cannot download the weights: {}; download them by hand and use --from DIR",
        failures.join("; ")
    )))
}

/// Checks `file` against the pinned size and SHA-256.
fn verify(file: &Path, download: &Download) -> Result<()> {
    let (sha256, size) = crate::hash::sha256_file(file)
        .with_context(|| format!("cannot read {}", file.display()))
        .map_err(|err| Kind::Input.mark(err))?;
    if size != download.size || sha256 != download.sha256 {
        return Err(Kind::Input.msg(format!(
            "{}: {size} bytes with SHA-256 {sha256}, but [model.download] pins {} bytes with \
             SHA-256 {}; fetch the file again, or correct the pin if upstream republished it",
            file.display(),
            download.size,
            download.sha256
        )));
    }
    Ok(())
}

/// Adds a `component=NAME` line for the download to debian/watch when it has none, and
/// turns the main line's `repacksuffix=S` into `oversionmangle=s/$/S/`: uscan refuses
/// `repacksuffix` in a watch file with components ("repacksuffix is not compatible with the
/// multiple upstream tarballs", `Devscripts::Uscan::WatchLine`) and names every tarball of
/// the version with the mangled version instead. The component line matches the pinned
/// file's name in its URL's directory, and its version is `ignore`d: the tarball takes the
/// main one's. Returns the path when edited, and whether the suffix is now always appended.
fn edit_watch(tree: &Path, name: &str, download: &Download) -> Result<(Option<PathBuf>, bool)> {
    let path = tree.join("debian/watch");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok((None, false));
    };
    let mut edited = text.clone();
    let options = packaging::WatchOptions::parse(&text);
    if let Some(suffix) = &options.repacksuffix {
        edited = edited.replacen(
            &format!("repacksuffix={suffix}"),
            &format!("oversionmangle=s/$/{suffix}/"),
            1,
        );
    }
    if !edited.contains(&format!("component={name}")) {
        let file = file_name(&download.url);
        let url = download
            .url
            .split(['?', '#'])
            .next()
            .unwrap_or(&download.url);
        let directory = url.rsplit_once('/').map_or(url, |(directory, _)| directory);
        if !edited.ends_with('\n') {
            edited.push('\n');
        }
        edited.push_str(&format!(
            "opts=\"component={name}\" \\\n  {directory}/ ({}) ignore\n",
            regex_escape(&file)
        ));
    }
    let appended = options.appended.is_some() || options.repacksuffix.is_some();
    if edited == text {
        return Ok((None, appended));
    }
    crate::fsutil::write_atomic(&path, edited.as_bytes(), 0o644)
        .map_err(|err| Kind::Io.mark(err))?;
    Ok((Some(path), appended))
}

/// `text` with the characters a Perl regular expression treats specially escaped.
fn regex_escape(text: &str) -> String {
    let mut escaped = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Adds the components to `components = [...]` in debian/gbp.conf's `[DEFAULT]` section
/// (creating the file or the line when missing), leaving every other line alone; returns
/// the path when edited.
fn add_gbp_components(tree: &Path, names: &[String]) -> Result<Option<PathBuf>> {
    let path = tree.join("debian/gbp.conf");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut section = String::new();
    let mut components_line = None;
    let mut default_at = None;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed.to_string();
            if section == "[DEFAULT]" {
                default_at = Some(i);
            }
        } else if section == "[DEFAULT]"
            && trimmed.split('=').next().map(str::trim) == Some("components")
        {
            components_line = Some(i);
        }
    }
    let mut present: Vec<String> = components_line
        .and_then(|i| lines[i].split_once('='))
        .map(|(_, value)| {
            value
                .split(|c: char| matches!(c, '[' | ']' | ',' | '\'' | '"') || c.is_whitespace())
                .filter(|part| !part.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let before = present.len();
    for name in names {
        if !present.contains(name) {
            present.push(name.clone());
        }
    }
    if present.len() == before && components_line.is_some() {
        return Ok(None);
    }
    let quoted: Vec<String> = present.iter().map(|name| format!("'{name}'")).collect();
    let line = format!("components = [{}]", quoted.join(", "));
    match (components_line, default_at) {
        (Some(i), _) => lines[i] = line,
        (None, Some(i)) => lines.insert(i + 1, line),
        (None, None) => {
            lines.insert(0, "[DEFAULT]".to_string());
            lines.insert(1, line);
            if lines.len() > 2 {
                lines.insert(2, String::new());
            }
        }
    }
    let mut edited = lines.join("\n");
    edited.push('\n');
    crate::fsutil::write_atomic(&path, edited.as_bytes(), 0o644)
        .map_err(|err| Kind::Io.mark(err))?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbp_components_are_added_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("debian")).unwrap();
        std::fs::write(
            dir.path().join("debian/gbp.conf"),
            "# keep me\n[DEFAULT]\npristine-tar = True\n",
        )
        .unwrap();
        let names = vec!["weights".to_string()];
        assert!(add_gbp_components(dir.path(), &names).unwrap().is_some());
        assert!(add_gbp_components(dir.path(), &names).unwrap().is_none());
        let text = std::fs::read_to_string(dir.path().join("debian/gbp.conf")).unwrap();
        assert_eq!(
            text,
            "# keep me\n[DEFAULT]\ncomponents = ['weights']\npristine-tar = True\n"
        );
    }
}
