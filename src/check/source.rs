//! Reading a source package: an unpacked tree, or a `.dsc` with the tarballs it lists beside
//! it. The content scan is `scan`'s (a tree is walked, a tarball opened as `scan` opens one);
//! the packaging files the rules read (`debian/control`, `debian/copyright`,
//! `debian/mlmodel.toml`, the source lintian overrides, `debian/changelog`) are read whole,
//! under `max-source-file-bytes`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use super::package::{self, Fields};
use super::{CheckContext, SourceFacts, Target, TargetKind};
use crate::scan;
use crate::scan::compression::Compression;

/// The packaging files the rules read, relative to the top of the source.
const CONTROL: &str = "debian/control";
const COPYRIGHT: &str = "debian/copyright";
const MANIFEST: &str = "debian/mlmodel.toml";
const CHANGELOG: &str = "debian/changelog";
/// Where lintian reads a source package's overrides, in its order of preference.
pub const OVERRIDES: [&str; 2] = [
    "debian/source/lintian-overrides",
    "debian/source.lintian-overrides",
];

fn wanted(path: &str) -> bool {
    [CONTROL, COPYRIGHT, MANIFEST, CHANGELOG].contains(&path) || OVERRIDES.contains(&path)
}

/// Reads the unpacked source tree `dir`.
pub fn read_tree(dir: &Path, ctx: &CheckContext) -> Result<Target, String> {
    let mut files = BTreeMap::new();
    for rel in [CONTROL, COPYRIGHT, MANIFEST, CHANGELOG]
        .into_iter()
        .chain(OVERRIDES)
    {
        let path = dir.join(rel);
        if path.is_file() {
            let bytes = read_file_capped(&path, ctx.limits.max_source_file_bytes)?;
            files.insert(rel.to_string(), bytes);
        }
    }
    let report =
        scan::scan_tree(dir, &ctx.scan, &ctx.scan_options).map_err(|err| format!("{err:#}"))?;
    let mut target = from_files(files, None)?;
    target.findings = report.findings;
    target.warnings = report.warnings;
    Ok(target)
}

/// Reads the `.dsc` at `path` and the tarballs its `Files` field lists, from its directory.
pub fn read_dsc(path: &Path, ctx: &CheckContext) -> Result<Target, String> {
    let text = read_file_capped(path, ctx.limits.max_source_file_bytes)?;
    let what = path.display().to_string();
    let paragraphs = package::paragraphs(&String::from_utf8_lossy(&text), &what)?;
    let fields = paragraphs
        .into_iter()
        .next()
        .ok_or_else(|| "the .dsc is empty".to_string())?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let listed = listed_files(&fields, "Files", 2)?;
    if listed.is_empty() {
        return Err("the .dsc lists no files (no Files field)".to_string());
    }
    let mut findings = Vec::new();
    let mut warnings = Vec::new();
    let mut files = BTreeMap::new();
    for name in &listed {
        let tarball = dir.join(name);
        if !tarball.is_file() {
            return Err(format!(
                "{name}, listed in the .dsc, is not beside it in {}",
                dir.display()
            ));
        }
        let Some(prefix) = tarball_prefix(name) else {
            // A signature (`.asc`) or a patch of format 1.0 (`.diff.gz`) holds no tree.
            continue;
        };
        let report = scan::scan_tree(&tarball, &ctx.scan, &ctx.scan_options)
            .map_err(|err| format!("{err:#}"))?;
        for mut finding in report.findings {
            finding.path = source_path(&finding.path, &prefix);
            findings.push(finding);
        }
        warnings.extend(report.warnings);
        read_packaging_files(&tarball, &prefix, ctx, &mut files)?;
    }
    let mut target = from_files(files, Some(&fields))?;
    target.findings = findings;
    target.warnings = warnings;
    Ok(target)
}

/// The file names a `.dsc`'s or `.changes`'s checksum field lists (`md5 size name`, or
/// `md5 size section priority name` in a `.changes`): the last word of each line.
pub fn listed_files(fields: &Fields, field: &str, min_words: usize) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for line in fields.get(field).unwrap_or_default().lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        if words.len() <= min_words {
            return Err(format!("{field}: malformed line {:?}", line.trim()));
        }
        let name = words[words.len() - 1];
        if name.contains('/') || name == ".." {
            return Err(format!("{field}: {name:?} is not a plain file name"));
        }
        names.push(name.to_string());
    }
    Ok(names)
}

/// How a tarball's members map into the unpacked source (dpkg-source(1)): the upstream
/// tarball's top directory is the source's top; a component tarball `orig-NAME` unpacks into
/// `NAME/`; the debian tarball holds `debian/` itself. `None` for files that are not tarballs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Prefix {
    /// Drop the first path component (the upstream top directory), then prepend this.
    StripTop(String),
    /// Keep the member paths as they are.
    Keep,
}

fn tarball_prefix(name: &str) -> Option<Prefix> {
    let stem = [
        ".tar.gz",
        ".tar.xz",
        ".tar.bz2",
        ".tar.lzma",
        ".tar.zst",
        ".tar",
    ]
    .iter()
    .find_map(|suffix| name.strip_suffix(suffix))?;
    if stem.ends_with(".debian") {
        return Some(Prefix::Keep);
    }
    match stem.rsplit_once(".orig-") {
        Some((_, component)) => Some(Prefix::StripTop(format!("{component}/"))),
        None => Some(Prefix::StripTop(String::new())),
    }
}

/// A finding's path (`tarball!top/dir/file`, maybe nested further) as a path in the unpacked
/// source (`dir/file`).
fn source_path(path: &str, prefix: &Prefix) -> String {
    let inside = path.split_once('!').map_or(path, |(_, inside)| inside);
    let inside = inside.trim_start_matches("./");
    match prefix {
        Prefix::Keep => inside.to_string(),
        Prefix::StripTop(add) => {
            let rest = inside.split_once('/').map_or(inside, |(_, rest)| rest);
            format!("{add}{rest}")
        }
    }
}

/// Reads the packaging files out of `tarball` (one more pass over it: the scan's pass streams
/// members into the content analysis and keeps none).
fn read_packaging_files(
    tarball: &Path,
    prefix: &Prefix,
    ctx: &CheckContext,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), String> {
    let name = tarball.display().to_string();
    let file = std::fs::File::open(tarball).map_err(|err| format!("{name}: {err}"))?;
    let mut reader = std::io::BufReader::new(file);
    let mut head = [0u8; 6];
    let peeked = reader
        .read(&mut head)
        .map_err(|err| format!("{name}: {err}"))?;
    let whole = std::io::Cursor::new(head[..peeked].to_vec()).chain(reader);
    let decoded: Box<dyn Read> = match Compression::sniff(&head[..peeked]) {
        Some(compression) => Box::new(
            compression
                .stream_decoder(whole, ctx.xz_threads, ctx.limits.xz_memlimit_threading)
                .map_err(|err| format!("{name}: {err}"))?,
        ),
        None => Box::new(whole),
    };
    let mut archive = tar::Archive::new(decoded);
    let entries = archive
        .entries()
        .map_err(|err| format!("{name}: not a readable tar archive: {err}"))?;
    for entry in entries {
        let entry = entry.map_err(|err| format!("{name}: not a readable tar archive: {err}"))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = source_path(&raw, prefix);
        if !wanted(&path) {
            continue;
        }
        let cap = ctx.limits.max_source_file_bytes;
        let mut bytes = Vec::new();
        entry
            .take(cap + 1)
            .read_to_end(&mut bytes)
            .map_err(|err| format!("{name}: {path}: {err}"))?;
        if bytes.len() as u64 > cap {
            return Err(too_large(&path, cap));
        }
        files.insert(path, bytes);
    }
    Ok(())
}

fn too_large(path: &str, cap: u64) -> String {
    format!("{path} is larger than {cap} bytes (max-source-file-bytes in policy/check.toml)")
}

fn read_file_capped(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|err| format!("{}: {err}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| format!("{}: {err}", path.display()))?;
    if bytes.len() as u64 > cap {
        return Err(too_large(&path.display().to_string(), cap));
    }
    Ok(bytes)
}

/// The target a source package is, from its packaging files (and the `.dsc`'s fields, which
/// name the package and version when there is one).
fn from_files(files: BTreeMap<String, Vec<u8>>, dsc: Option<&Fields>) -> Result<Target, String> {
    let text = |path: &str| {
        files
            .get(path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    let mut facts = SourceFacts::default();
    if let Some(control) = text(CONTROL) {
        let mut paragraphs = package::paragraphs(&control, CONTROL)?.into_iter();
        facts.control = paragraphs.next();
        facts.binaries = paragraphs.collect();
    }
    facts.copyright = text(COPYRIGHT);
    facts.manifest = text(MANIFEST);
    let from_control = facts
        .control
        .as_ref()
        .and_then(|c| c.value("Source"))
        .map(str::to_string);
    let changelog = text(CHANGELOG);
    let (changelog_name, changelog_version) =
        changelog.as_deref().and_then(first_changelog_entry).unzip();
    let name = dsc
        .and_then(|d| d.value("Source"))
        .map(str::to_string)
        .or(from_control)
        .or(changelog_name)
        .ok_or_else(|| {
            "cannot tell the source package's name: no debian/control with a Source field"
                .to_string()
        })?;
    let version = dsc
        .and_then(|d| d.value("Version"))
        .map(str::to_string)
        .or(changelog_version)
        .unwrap_or_default();
    let mut target = Target::new(TargetKind::Source, name, version, "source".to_string());
    target.area = package::area_of(facts.control.as_ref().and_then(|c| c.value("Section")));
    target.overrides = OVERRIDES
        .iter()
        .find_map(|path| Some((path.to_string(), text(path)?)));
    target.source = Some(facts);
    Ok(target)
}

/// The package name and version of debian/changelog's first entry (`name (version) dist;`).
fn first_changelog_entry(text: &str) -> Option<(String, String)> {
    let line = text.lines().find(|l| !l.trim().is_empty())?;
    let (name, rest) = line.split_once(' ')?;
    let version = rest.strip_prefix('(')?.split_once(')')?.0;
    Some((name.to_string(), version.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tarball_paths_map_into_the_source() {
        let orig = tarball_prefix("foo_1.0.orig.tar.xz").unwrap();
        assert_eq!(
            source_path("foo_1.0.orig.tar.xz!foo-1.0/models/a.onnx", &orig),
            "models/a.onnx"
        );
        let debian = tarball_prefix("foo_1.0-1.debian.tar.xz").unwrap();
        assert_eq!(source_path("x!debian/rules", &debian), "debian/rules");
        let component = tarball_prefix("foo_1.0.orig-data.tar.gz").unwrap();
        assert_eq!(source_path("x!data-1/w.bin", &component), "data/w.bin");
        assert_eq!(tarball_prefix("foo_1.0-1.diff.gz"), None);
    }
}
