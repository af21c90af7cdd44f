//! `dh-mlmodel pin`: fills the SHA-256 and size placeholders of `debian/mlmodel.toml` from the
//! bytes themselves, a local file or (with `--download`) the model's `[model.download]` URL,
//! editing the manifest as a `toml_edit` document so that everything else in it (comments,
//! layout, the maintainer's facts) stays byte for byte.
//!
//! Only placeholders are filled. A value already stated that disagrees with the bytes is an
//! error naming both: upstream may have changed the file, and deciding that is the maintainer's
//! job, not the tool's.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use toml_edit::{DocumentMut, InlineTable, Item, Value};

use super::{Fact, Manifest, Model, url_file_name};
use crate::error::{Kind, ResultExt};

/// What a target of `pin` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A model of the manifest, by `name`.
    Model(String),
    /// A URL: the models whose `[model.download]` fetches it.
    Url(String),
    /// A file on disk: the model files of the same name (or that tree path).
    Path(PathBuf),
}

impl Target {
    /// Reads a command-line target: a URL, a model name of `manifest`, else a path.
    pub fn parse(text: &str, manifest: &Manifest) -> Target {
        if text.starts_with("https://") || text.starts_with("http://") {
            Target::Url(text.to_string())
        } else if manifest.models.iter().any(|m| m.name() == text) {
            Target::Model(text.to_string())
        } else {
            Target::Path(PathBuf::from(text))
        }
    }
}

/// One value filled in, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    pub model: String,
    /// `pins."PATH"` or `download`.
    pub field: String,
    pub sha256: String,
    pub size: u64,
}

/// A digest and size measured from bytes, and where they came from.
struct Measured {
    sha256: String,
    size: u64,
    from: String,
}

/// Fills the placeholders `targets` name in the manifest `text` (its tree at `root`); returns
/// the new text and what was filled. `download`, when given, fetches
/// `[model.download]` URLs.
pub fn pin(
    manifest: &Manifest,
    root: &Path,
    targets: &[Target],
    download: Option<&Curl>,
) -> Result<(String, Vec<Pinned>)> {
    let mut document: DocumentMut = manifest
        .text
        .parse()
        .with_context(|| format!("{}: not valid TOML", manifest.origin))
        .input()?;
    let mut pinned = Vec::new();
    let mut problems = Vec::new();
    for target in targets {
        let before = pinned.len();
        let models: Vec<(usize, &Model)> = match target {
            Target::Model(name) => manifest
                .models
                .iter()
                .enumerate()
                .filter(|(_, m)| m.name() == name)
                .collect(),
            Target::Url(url) => manifest
                .models
                .iter()
                .enumerate()
                .filter(|(_, m)| download_url(m) == Some(url.as_str()))
                .collect(),
            Target::Path(_) => manifest.models.iter().enumerate().collect(),
        };
        for (index, model) in models {
            let result = match target {
                Target::Path(path) => pin_from_file(manifest, model, root, path),
                _ => pin_model(manifest, model, root, download),
            };
            match result {
                Ok(values) => {
                    for (field, measured, slot) in values {
                        set(&mut document, index, &slot, &measured);
                        pinned.push(Pinned {
                            model: model.name().to_string(),
                            field,
                            sha256: measured.sha256,
                            size: measured.size,
                        });
                    }
                }
                Err(err) => problems.push(format!("{err:#}")),
            }
        }
        if pinned.len() == before && problems.is_empty() {
            problems.push(match target {
                Target::Model(name) => format!("model `{name}`: no pin or download to fill in"),
                Target::Url(url) => format!(
                    "no [model.download] of {} fetches {url}: name the model instead",
                    manifest.origin
                ),
                Target::Path(path) => format!(
                    "{}: neither a model of {} nor a file one of its models lists by that name \
                     (or it is already pinned)",
                    path.display(),
                    manifest.origin
                ),
            });
        }
    }
    if !problems.is_empty() {
        return Err(Kind::Problems.msg(problems.join("\n")));
    }
    Ok((document.to_string(), pinned))
}

/// Where a value goes: a model's `pins."PATH"`, or its `[model.download]`.
enum Slot {
    Pin(String),
    Download,
}

type Filled = Vec<(String, Measured, Slot)>;

fn download_url(model: &Model) -> Option<&str> {
    match model.download.as_ref()?.url.get_ref() {
        Fact::Known(url) => Some(url),
        Fact::Placeholder(_) => None,
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Every placeholder of `model`: files present in the tree are hashed there; the download (and
/// the file it is the published copy of) is fetched when allowed.
fn pin_model(
    manifest: &Manifest,
    model: &Model,
    root: &Path,
    fetcher: Option<&Curl>,
) -> Result<Filled> {
    let name = model.name();
    let mut filled = Vec::new();
    let mut unreachable = Vec::new();
    let mut fetched: Option<Measured> = None;
    let wants_download = model.download.as_ref().is_some_and(|d| {
        !matches!(
            (d.sha256.get_ref(), d.size.get_ref()),
            (Fact::Known(_), Fact::Known(_))
        )
    });
    let needs_fetch = |path: &str| -> bool {
        download_url(model).is_some_and(|url| {
            url_file_name(url) == file_name(path) || model.files.get_ref().len() == 1
        })
    };
    for (path, pin) in &model.pins {
        if pin.get_ref().known().is_some() {
            continue;
        }
        let local = root.join(path);
        if local.is_file() {
            let measured = measure(&local, format!("{path} in the tree"))?;
            check_pin(manifest, model, path, &measured)?;
            filled.push((
                format!("pins.\"{path}\""),
                measured,
                Slot::Pin(path.clone()),
            ));
        } else if needs_fetch(path) {
            let measured = fetch_download(model, fetcher, &mut fetched)?;
            check_pin(manifest, model, path, &measured)?;
            filled.push((
                format!("pins.\"{path}\""),
                measured,
                Slot::Pin(path.clone()),
            ));
        } else {
            unreachable.push(path.clone());
        }
    }
    if wants_download {
        let measured = fetch_download(model, fetcher, &mut fetched)?;
        check_download(manifest, model, &measured)?;
        filled.push(("download".to_string(), measured, Slot::Download));
    }
    if !unreachable.is_empty() {
        return Err(Kind::Problems.msg(format!(
            "model `{name}`: {} not in the tree and not the file [model.download] fetches: \
             run `dh-mlmodel pin FILE` with a copy of each",
            unreachable.join(", ")
        )));
    }
    Ok(filled)
}

/// The download of `model`, fetched once per run.
fn fetch_download(
    model: &Model,
    fetcher: Option<&Curl>,
    fetched: &mut Option<Measured>,
) -> Result<Measured> {
    if let Some(measured) = fetched {
        return Ok(Measured {
            sha256: measured.sha256.clone(),
            size: measured.size,
            from: measured.from.clone(),
        });
    }
    let name = model.name();
    let Some(url) = download_url(model) else {
        return Err(Kind::Problems.msg(format!(
            "model `{name}`: [model.download] has no URL yet: state `url`, then run \
             `dh-mlmodel pin --download {name}`"
        )));
    };
    let Some(fetcher) = fetcher else {
        return Err(Kind::Problems.msg(format!(
            "model `{name}`: its file is not in the tree: pass --download to fetch {url}, or \
             run `dh-mlmodel pin FILE` with a copy"
        )));
    };
    let allow_http = model.download.as_ref().is_some_and(|d| d.allow_http);
    let (sha256, size) = fetcher.fetch(url, allow_http)?;
    let measured = Measured {
        sha256,
        size,
        from: url.to_string(),
    };
    *fetched = Some(Measured {
        sha256: measured.sha256.clone(),
        size: measured.size,
        from: measured.from.clone(),
    });
    Ok(measured)
}

/// The placeholders a local copy `path` fills: the pins of files of that name (or that tree
/// path), and the download whose URL ends in that name.
fn pin_from_file(manifest: &Manifest, model: &Model, root: &Path, path: &Path) -> Result<Filled> {
    let shown = path.display().to_string();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let in_tree = std::path::absolute(path)
        .ok()
        .zip(std::path::absolute(root).ok())
        .and_then(|(p, r)| {
            p.strip_prefix(r)
                .ok()
                .map(|p| p.to_string_lossy().into_owned())
        });
    let mut filled = Vec::new();
    let mut measured_once: Option<(String, u64)> = None;
    let mut measure_once = || -> Result<Measured> {
        if measured_once.is_none() {
            let m = measure(path, shown.clone())?;
            measured_once = Some((m.sha256, m.size));
        }
        let (sha256, size) = measured_once.clone().expect("measured");
        Ok(Measured {
            sha256,
            size,
            from: shown.clone(),
        })
    };
    for (file, pin) in &model.pins {
        let matches = in_tree.as_deref() == Some(file.as_str()) || file_name(file) == name;
        if matches && pin.get_ref().known().is_none() {
            let measured = measure_once()?;
            check_pin(manifest, model, file, &measured)?;
            filled.push((
                format!("pins.\"{file}\""),
                measured,
                Slot::Pin(file.clone()),
            ));
        }
    }
    let download_pending = model.download.as_ref().is_some_and(|d| {
        !matches!(
            (d.sha256.get_ref(), d.size.get_ref()),
            (Fact::Known(_), Fact::Known(_))
        )
    });
    if download_pending && download_url(model).is_some_and(|url| url_file_name(url) == name) {
        let measured = measure_once()?;
        check_download(manifest, model, &measured)?;
        filled.push(("download".to_string(), measured, Slot::Download));
    }
    Ok(filled)
}

fn measure(path: &Path, from: String) -> Result<Measured> {
    let (sha256, size) = crate::hash::sha256_file(path)
        .with_context(|| format!("cannot read {}", path.display()))
        .input()?;
    Ok(Measured { sha256, size, from })
}

/// A value already stated in the pin of `path` must agree with the bytes.
fn check_pin(manifest: &Manifest, model: &Model, path: &str, measured: &Measured) -> Result<()> {
    let pin = model.pins[path].get_ref();
    agree(
        manifest,
        model,
        &format!("pins.\"{path}\""),
        &pin.sha256,
        &pin.size,
        measured,
    )
}

fn check_download(manifest: &Manifest, model: &Model, measured: &Measured) -> Result<()> {
    let download = model.download.as_ref().expect("checked by the caller");
    agree(
        manifest,
        model,
        "download",
        &download.sha256,
        &download.size,
        measured,
    )
}

fn agree(
    manifest: &Manifest,
    model: &Model,
    field: &str,
    sha256: &toml::Spanned<Fact<super::Sha256>>,
    size: &toml::Spanned<Fact<u64>>,
    measured: &Measured,
) -> Result<()> {
    let conflict = |span: std::ops::Range<usize>, key: &str, stated: String, found: String| {
        Kind::Problems.msg(format!(
            "{}: model `{}`: {field}.{key} is {stated}, but {} has {found}: if upstream changed \
             the file, replace the value by hand",
            manifest.locate(&span),
            model.name(),
            measured.from
        ))
    };
    if let Fact::Known(stated) = sha256.get_ref()
        && stated.0 != measured.sha256
    {
        return Err(conflict(
            sha256.span(),
            "sha256",
            stated.0.clone(),
            measured.sha256.clone(),
        ));
    }
    if let Fact::Known(stated) = size.get_ref()
        && *stated != measured.size
    {
        return Err(conflict(
            size.span(),
            "size",
            format!("{stated} bytes"),
            format!("{} bytes", measured.size),
        ));
    }
    Ok(())
}

/// Writes `measured` into the `index`th `[[model]]` of `document`, keeping each value's place
/// and surrounding comments.
fn set(document: &mut DocumentMut, index: usize, slot: &Slot, measured: &Measured) {
    let Some(model) = document
        .get_mut("model")
        .and_then(Item::as_array_of_tables_mut)
        .and_then(|models| models.get_mut(index))
    else {
        return;
    };
    let size = i64::try_from(measured.size).unwrap_or(i64::MAX);
    match slot {
        Slot::Pin(path) => {
            let Some(pins) = model.get_mut("pins").and_then(Item::as_table_like_mut) else {
                return;
            };
            match pins.get_mut(path).and_then(Item::as_inline_table_mut) {
                Some(inline) => {
                    replace(inline, "sha256", Value::from(measured.sha256.as_str()));
                    replace(inline, "size", Value::from(size));
                }
                None => {
                    let mut inline = InlineTable::new();
                    inline.insert("sha256", Value::from(measured.sha256.as_str()));
                    inline.insert("size", Value::from(size));
                    pins.insert(path, Item::Value(Value::InlineTable(inline)));
                }
            }
        }
        Slot::Download => {
            let Some(download) = model.get_mut("download").and_then(Item::as_table_like_mut) else {
                return;
            };
            for (key, value) in [
                ("sha256", Value::from(measured.sha256.as_str())),
                ("size", Value::from(size)),
            ] {
                match download.get_mut(key).and_then(Item::as_value_mut) {
                    Some(old) => {
                        let decor = old.decor().clone();
                        *old = value;
                        *old.decor_mut() = decor;
                    }
                    None => {
                        download.insert(key, Item::Value(value));
                    }
                }
            }
        }
    }
}

/// Replaces `key`'s value in an inline table, keeping the spaces around it.
fn replace(table: &mut InlineTable, key: &str, value: Value) {
    match table.get_mut(key) {
        Some(old) => {
            let decor = old.decor().clone();
            *old = value;
            *old.decor_mut() = decor;
        }
        None => {
            table.insert(key, value);
        }
    }
}

/// Fetches with `curl`, which every Debian system that downloads has at hand and which does
/// TLS, redirects and proxies as the user configured them. The bytes are hashed as they stream
/// from curl's standard output, never stored, and the stream is cut after `max_bytes`
/// (`policy/init.toml`'s `pin-max-bytes`), whatever length the server declares.
pub struct Curl {
    pub max_bytes: u64,
}

impl Curl {
    /// Downloads `url` and returns the SHA-256 and size of its bytes; `allow_http` permits
    /// plain HTTP.
    pub fn fetch(&self, url: &str, allow_http: bool) -> Result<(String, u64)> {
        use std::io::Read;
        let protocols = if allow_http { "=https,http" } else { "=https" };
        let child = std::process::Command::new("curl")
            .args(["--fail", "--location", "--silent", "--show-error"])
            .args(["--proto", protocols, "--proto-redir", protocols])
            .args(["--max-filesize", &self.max_bytes.to_string()])
            .args(["--output", "-", "--"])
            .arg(url)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(Kind::Input.msg(format!(
                    "curl is not installed: install it (apt install curl), or download {url} \
                     yourself and run `dh-mlmodel pin FILE`"
                )));
            }
            Err(err) => return Err(err).context("cannot run curl").io(),
        };
        let stdout = child.stdout.take().expect("piped");
        let hashed = crate::hash::sha256_reader(stdout.take(self.max_bytes + 1));
        let too_large = matches!(&hashed, Ok((_, size)) if *size > self.max_bytes);
        if too_large {
            let _ = child.kill();
        }
        let output = child.wait_with_output().context("cannot run curl").io()?;
        if too_large {
            return Err(Kind::Problems.msg(format!(
                "{url} is larger than {} bytes (pin-max-bytes in policy/init.toml)",
                self.max_bytes
            )));
        }
        if !output.status.success() {
            return Err(Kind::Problems.msg(format!(
                "cannot download {url}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        hashed
            .with_context(|| format!("cannot read the download of {url}"))
            .io()
    }
}
