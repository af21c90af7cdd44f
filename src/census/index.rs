//! The two kinds of index a census reads, as streams of bounded lines: Packages (deb822
//! paragraphs; Debian Policy 5.3, only the fields a census needs) and Contents (one
//! `PATH  [[AREA/]SECTION/]PACKAGE[,…]` line per file, the package list after the last run
//! of white space: the Debian repository format, "Contents indices").

use std::collections::BTreeMap;
use std::io::BufRead;

use anyhow::{Result, bail};

/// One binary package of a Packages index.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PackageEntry {
    pub package: String,
    pub version: String,
    pub architecture: String,
    /// The archive area: the component of the index it is listed in.
    pub area: String,
    pub section: String,
    /// Size of the `.deb` in bytes.
    pub size: u64,
    /// Installed-Size, in bytes (the field is in KiB).
    pub installed_size: u64,
}

/// Reads one line of at most `cap` bytes into `line` (without its newline). A longer line is
/// skipped to its end and reported as `Ok(Some(false))`; `Ok(None)` at the end of the input.
pub fn read_line(
    reader: &mut impl BufRead,
    cap: usize,
    line: &mut Vec<u8>,
) -> Result<Option<bool>> {
    line.clear();
    let mut too_long = false;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(if line.is_empty() && !too_long {
                None
            } else {
                Some(!too_long)
            });
        }
        let (chunk, found) = match memchr::memchr(b'\n', buf) {
            Some(at) => (&buf[..at], Some(at)),
            None => (buf, None),
        };
        if !too_long {
            if line.len() + chunk.len() > cap {
                too_long = true;
                line.clear();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = found.map_or(buf.len(), |at| at + 1);
        reader.consume(used);
        if found.is_some() {
            return Ok(Some(!too_long));
        }
    }
}

/// Reads the paragraphs of a Packages index listed under `area`, keeping the newest version of
/// each package. `what` names the index in errors. Lines longer than `line_cap` are skipped
/// and counted (the return value): the fields a census reads are short, while some packages'
/// `Provides` run to hundreds of kilobytes (librust-winapi-dev).
pub fn read_packages(
    reader: &mut impl BufRead,
    area: &str,
    line_cap: usize,
    paragraph_cap: usize,
    what: &str,
    out: &mut BTreeMap<String, PackageEntry>,
) -> Result<u64> {
    let mut skipped = 0;
    let mut line = Vec::new();
    let mut fields: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut paragraph_bytes = 0usize;
    let mut number = 0u64;
    let mut start = 1u64;
    loop {
        let read = read_line(reader, line_cap, &mut line)?;
        number += 1;
        if read == Some(false) {
            skipped += 1;
            continue;
        }
        let blank = read.is_none() || line.iter().all(u8::is_ascii_whitespace);
        if blank {
            if !fields.is_empty() {
                let entry = entry_of(&fields, area).map_err(|field| {
                    anyhow::anyhow!("{what}: paragraph at line {start}: {field}")
                })?;
                let newer = out.get(&entry.package).is_none_or(|old| {
                    entry.version.parse::<debversion::Version>().ok()
                        > old.version.parse::<debversion::Version>().ok()
                });
                if newer {
                    out.insert(entry.package.clone(), entry);
                }
                fields.clear();
            }
            paragraph_bytes = 0;
            start = number + 1;
            if read.is_none() {
                return Ok(skipped);
            }
            continue;
        }
        paragraph_bytes += line.len();
        if paragraph_bytes > paragraph_cap {
            bail!(
                "{what}: the paragraph at line {start} is larger than {paragraph_cap} bytes \
                 (max-packages-paragraph-bytes in policy/census.toml)"
            );
        }
        if line[0] == b' ' || line[0] == b'\t' {
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        if let Some((name, value)) = text.split_once(':') {
            let key = match name {
                "Package" => "Package",
                "Version" => "Version",
                "Architecture" => "Architecture",
                "Section" => "Section",
                "Size" => "Size",
                "Installed-Size" => "Installed-Size",
                _ => continue,
            };
            fields.insert(key, value.trim().to_string());
        }
    }
}

/// The entry of one paragraph, or the field that is missing or malformed.
fn entry_of(fields: &BTreeMap<&'static str, String>, area: &str) -> Result<PackageEntry, String> {
    let get = |name: &str| {
        fields
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no {name} field"))
    };
    let number = |name: &str| -> Result<u64, String> {
        match fields.get(name) {
            None => Ok(0),
            Some(value) => value
                .parse()
                .map_err(|_| format!("{name} is not a number: {value:?}")),
        }
    };
    Ok(PackageEntry {
        package: get("Package")?,
        version: get("Version")?,
        architecture: get("Architecture")?,
        area: area.to_string(),
        section: fields.get("Section").cloned().unwrap_or_default(),
        size: number("Size")?,
        installed_size: number("Installed-Size")?.saturating_mul(1024),
    })
}

/// Calls `each(path, package)` for every file of every package a Contents index lists. Lines
/// longer than `line_cap` are skipped and counted (the return value); a line without a package
/// column (the free-text header of old indexes) is skipped.
pub fn read_contents(
    reader: &mut impl BufRead,
    line_cap: usize,
    mut each: impl FnMut(&str, &str),
) -> Result<u64> {
    let mut line = Vec::new();
    let mut skipped = 0;
    while let Some(complete) = read_line(reader, line_cap, &mut line)? {
        if !complete {
            skipped += 1;
            continue;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        let Some(at) = text.rfind([' ', '\t']) else {
            continue;
        };
        let path = text[..at].trim_end();
        if path.is_empty() {
            continue;
        }
        for qualified in text[at + 1..].split(',') {
            // [[AREA/]SECTION/]NAME: the name is the last component.
            let name = qualified.rsplit('/').next().unwrap_or(qualified);
            if !name.is_empty() {
                each(path, name);
            }
        }
    }
    Ok(skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_lines_split_at_the_last_white_space() {
        let text = "usr/share/a b/model.onnx   science/foo,contrib/misc/bar\n\
                    FILE LOCATION\n\
                    usr/bin/x\tutils/baz\n";
        let mut seen = Vec::new();
        let skipped = read_contents(&mut text.as_bytes(), 1000, |path, name| {
            seen.push((path.to_string(), name.to_string()));
        })
        .unwrap();
        assert_eq!(skipped, 0);
        assert_eq!(
            seen,
            [
                ("usr/share/a b/model.onnx".to_string(), "foo".to_string()),
                ("usr/share/a b/model.onnx".to_string(), "bar".to_string()),
                ("FILE".to_string(), "LOCATION".to_string()),
                ("usr/bin/x".to_string(), "baz".to_string()),
            ]
        );
    }

    #[test]
    fn overlong_lines_are_skipped_whole() {
        let text = format!("{} a/b\nshort c/d\n", "x".repeat(5000));
        let mut seen = Vec::new();
        let skipped = read_contents(&mut text.as_bytes(), 100, |path, name| {
            seen.push(format!("{path}={name}"));
        })
        .unwrap();
        assert_eq!(skipped, 1);
        assert_eq!(seen, ["short=d"]);
    }

    #[test]
    fn packages_keep_the_newest_version_and_name_bad_fields() {
        let text = "Package: a\nVersion: 1.0\nArchitecture: all\nSize: 10\nInstalled-Size: 2\n\
                    Description: x\n more\n\nPackage: a\nVersion: 1:0.5\nArchitecture: all\n\
                    Size: 20\n";
        let mut out = BTreeMap::new();
        let long = format!(
            "Package: c\nProvides: {}\nVersion: 2\nArchitecture: all\n",
            "x".repeat(2000)
        );
        let text = format!("{text}\n{long}");
        let skipped =
            read_packages(&mut text.as_bytes(), "main", 1000, 10000, "P", &mut out).unwrap();
        assert_eq!(skipped, 1);
        assert_eq!(out["c"].version, "2");
        assert_eq!(out["a"].version, "1:0.5");
        assert_eq!(out["a"].size, 20);
        let bad = "Package: b\nVersion: 1\nArchitecture: all\nSize: lots\n";
        let err = read_packages(&mut bad.as_bytes(), "main", 1000, 10000, "P", &mut out)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "P: paragraph at line 1: Size is not a number: \"lots\""
        );
    }
}
