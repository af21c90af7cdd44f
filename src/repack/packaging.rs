//! What `repack` reads from `debian/`: the source name, upstream version and date of the
//! latest changelog entry (through `dpkg-parsechangelog`, as debhelper reads them), the
//! `Files-Excluded` fields of `debian/copyright`, and the repack suffix `debian/watch` asks
//! for.

use std::path::Path;

use anyhow::{Context, Result};

use super::exclude::Exclusions;
use crate::error::Kind;

/// The facts of the packaging in a source tree.
#[derive(Debug, Clone)]
pub struct Packaging {
    pub source: String,
    /// The upstream version of the latest changelog entry, without epoch, revision or repack
    /// suffix.
    pub upstream_version: String,
    /// The suffix to add when something is removed: the watch file's `repacksuffix`, or the
    /// one its `oversionmangle` appends, or the one the changelog's version carries, or `+ds`.
    pub suffix: String,
    /// The watch file appends the suffix to every tarball's version (`oversionmangle`, the
    /// form uscan requires with components), not only to a repacked one.
    pub suffix_always: bool,
    /// The date of the latest changelog entry, seconds since the epoch.
    pub changelog_epoch: i64,
}

impl Packaging {
    pub fn read(root: &Path) -> Result<Self> {
        if !root.join("debian/changelog").is_file() {
            return Err(Kind::Input.msg(format!(
                "{}: no debian/changelog; run `dh-mlmodel repack` at the top of a source tree \
                 with debian/ (`dh-mlmodel init` writes one)",
                root.join("debian/changelog").display()
            )));
        }
        let field = |name: &str| {
            crate::debhelper::changelog_field(root, name).map_err(|err| Kind::Input.mark(err))
        };
        let source = field("Source")?;
        let version = field("Version")?;
        let changelog_epoch = field("Timestamp")?.parse::<i64>().map_err(|_| {
            Kind::Input.msg("debian/changelog: the latest entry's date does not parse")
        })?;
        let watch = std::fs::read_to_string(root.join("debian/watch")).unwrap_or_default();
        let watch = WatchOptions::parse(&watch);
        let upstream = upstream_part(&version);
        let carried = known_suffix(&upstream);
        let suffix = watch
            .repacksuffix
            .clone()
            .or_else(|| watch.appended.clone())
            .or_else(|| carried.map(|(_, suffix)| suffix.to_string()))
            .unwrap_or_else(|| "+ds".to_string());
        let upstream_version = match carried {
            Some((base, _)) => base.to_string(),
            None => upstream.to_string(),
        };
        Ok(Self {
            source,
            upstream_version,
            suffix,
            suffix_always: watch.appended.is_some(),
            changelog_epoch,
        })
    }
}

/// `Files-Excluded` (or `Files-Excluded-<component>`) of the header paragraph of
/// `debian/copyright`, as mk-origtargz reads it; none when the file or field is absent.
pub fn files_excluded(root: &Path, component: Option<&str>) -> Result<Exclusions> {
    let path = root.join("debian/copyright");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Exclusions::default());
    };
    let field = match component {
        Some(name) => format!("Files-Excluded-{name}"),
        None => "Files-Excluded".to_string(),
    };
    let (deb822, _errors) = deb822_lossless::Deb822::from_str_relaxed(&text);
    let Some(header) = deb822.paragraphs().next() else {
        return Ok(Exclusions::default());
    };
    let Some(value) = header.get(&field) else {
        return Ok(Exclusions::default());
    };
    // mk-origtargz applies the field only in a machine-readable copyright file and otherwise
    // warns and removes nothing: an error here, rather than a tarball that still holds what
    // the maintainer meant to remove.
    let format = header.get("Format").unwrap_or_default();
    let dep5 = ["https://", "http://"].iter().any(|scheme| {
        format.trim().starts_with(&format!(
            "{scheme}www.debian.org/doc/packaging-manuals/copyright-format/"
        ))
    });
    if !dep5 {
        return Err(Kind::Input.msg(format!(
            "{}: {field} is set but the first paragraph has no `Format: \
             https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/` line, so \
             mk-origtargz and uscan would remove nothing; add the Format line",
            path.display()
        )));
    }
    Exclusions::parse(&value)
        .with_context(|| format!("{}: {field}", path.display()))
        .map_err(|err| Kind::Input.mark(err))
}

/// The upstream part of a Debian version: no epoch, no revision.
fn upstream_part(version: &str) -> String {
    let without_epoch = version.split_once(':').map_or(version, |(_, rest)| rest);
    match without_epoch.rsplit_once('-') {
        Some((upstream, _)) => upstream.to_string(),
        None => without_epoch.to_string(),
    }
}

/// A repack suffix (`+ds`, `+dfsg`, with an optional number) ending `version`: (the version
/// without it, the suffix). This is what the `dversionmangle=s/\+(ds|dfsg)\d*$//` that `init`
/// writes strips.
fn known_suffix(version: &str) -> Option<(&str, &str)> {
    ["+ds", "+dfsg"].iter().find_map(|tag| {
        let at = version.rfind(tag)?;
        let rest = &version[at + tag.len()..];
        rest.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| (&version[..at], &version[at..]))
    })
}

/// The options of the first watch line that `repack` needs.
#[derive(Debug, Default)]
pub struct WatchOptions {
    pub repacksuffix: Option<String>,
    /// The suffix an `oversionmangle=s/$/SUFFIX/` appends.
    pub appended: Option<String>,
}

impl WatchOptions {
    pub fn parse(watch: &str) -> Self {
        let mut options = Self::default();
        let joined = watch.replace("\\\n", " ");
        for line in joined.lines().map(str::trim) {
            let Some(rest) = line
                .strip_prefix("opts=\"")
                .and_then(|rest| rest.split_once('"'))
                .map(|(opts, _)| opts)
                .or_else(|| {
                    line.strip_prefix("opts=")
                        .map(|rest| rest.split_whitespace().next().unwrap_or(""))
                })
            else {
                continue;
            };
            if rest.contains("component=") {
                continue;
            }
            for option in rest.split(',').map(str::trim) {
                if let Some(value) = option.strip_prefix("repacksuffix=") {
                    options.repacksuffix = Some(value.trim().to_string());
                }
                if let Some(value) = option
                    .strip_prefix("oversionmangle=s/$/")
                    .and_then(|v| v.strip_suffix('/'))
                {
                    options.appended = Some(value.to_string());
                }
            }
            break;
        }
        options
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_version_and_suffix() {
        assert_eq!(upstream_part("1:2.0+ds-3"), "2.0+ds");
        assert_eq!(known_suffix("2.0+dfsg1"), Some(("2.0", "+dfsg1")));
        assert_eq!(known_suffix("2.0"), None);
    }

    #[test]
    fn watch_options() {
        let watch = "version=4\nopts=\"repacksuffix=+dfsg,dversionmangle=s/\\+(ds|dfsg)\\d*$//\" \\\n  https://x/ .*\n";
        assert_eq!(
            WatchOptions::parse(watch).repacksuffix.as_deref(),
            Some("+dfsg")
        );
        let watch = "version=4\nopts=\"oversionmangle=s/$/+ds/\" https://x/ .*\n";
        assert_eq!(WatchOptions::parse(watch).appended.as_deref(), Some("+ds"));
    }
}
