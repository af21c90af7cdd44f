//! Zip-based weight formats, told apart by their member names: TorchScript, `torch.save`
//! zips, Keras 3 `.keras`, NumPy `.npz`. Any other zip is a plain container, which the archive
//! recursion (`scan::archive`) opens to scan its members.
//!
//! [`list_zip_members`] and [`ZipMembers::read_member`] are the bounded zip access these checks
//! use: the zip is read through `scan::zip_view` as Python's `zipfile` reads it (a lying member
//! count hides no member), the central directory's size is checked before it is read, and
//! members are read up to a limit.

use std::io::{self, Read, Seek};

use ::zip::ZipArchive;

use super::{Details, Probe, numpy};
use crate::scan::zip_view::{Patched, zip_view};

/// A zip's central directory, read once, with bounded access to its members.
pub struct ZipMembers<R: Read + Seek> {
    archive: ZipArchive<Patched<R>>,
    names: Vec<String>,
}

/// Lists the members of the zip in `reader` (`size` bytes). `Ok(None)` when it is not a
/// readable zip or its central directory is larger than `directory_max` bytes, which bounds the
/// memory the listing takes.
pub fn list_zip_members<R: Read + Seek>(
    reader: R,
    size: u64,
    directory_max: u64,
) -> io::Result<Option<ZipMembers<R>>> {
    let (view, directory) = zip_view(reader, size)?;
    if directory.is_none_or(|directory| directory > directory_max) {
        return Ok(None);
    }
    let Ok(archive) = ZipArchive::new(view) else {
        return Ok(None);
    };
    let names = archive
        .file_names()
        .map(|name| name.map(|n| n.into_owned()))
        .collect::<Result<Vec<_>, _>>();
    match names {
        Ok(names) => Ok(Some(ZipMembers { archive, names })),
        Err(_) => Ok(None),
    }
}

impl<R: Read + Seek> ZipMembers<R> {
    /// Member names in central-directory order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Up to `limit` bytes of member `name` (decompressed), with its full uncompressed size.
    /// `Ok(None)` when there is no such member or it cannot be read (encrypted, unknown method).
    pub fn read_member(&mut self, name: &str, limit: u64) -> io::Result<Option<(Vec<u8>, u64)>> {
        let Ok(member) = self.archive.by_name(name) else {
            return Ok(None);
        };
        let size = member.size();
        let mut bytes = Vec::new();
        match member.take(limit).read_to_end(&mut bytes) {
            Ok(_) => Ok(Some((bytes, size))),
            Err(err) if err.kind() == io::ErrorKind::InvalidData => Ok(None),
            Err(err) => Err(err),
        }
    }
}

impl<R: Read + Seek> Probe<'_, R> {
    /// The zip member names, listed on first use.
    pub(super) fn zip_names(&mut self) -> io::Result<Option<&[String]>> {
        if self.zip_names.is_none() {
            let listed =
                list_zip_members(&mut *self.file, self.size, self.limits.zip_directory_max)?;
            self.zip_names = Some(listed.map(|members| members.names));
        }
        Ok(self.zip_names.as_ref().and_then(|names| names.as_deref()))
    }
}

/// The single top directory every member lives under, as PyTorch requires.
fn top_directory(names: &[String]) -> Option<&str> {
    let (top, _) = names.first()?.split_once('/')?;
    let all_under = names
        .iter()
        .all(|n| n.len() > top.len() && n.starts_with(top) && n.as_bytes()[top.len()] == b'/');
    (all_under && !top.is_empty()).then_some(top)
}

/// Facts about a `torch.save`-style zip: top directory, whether it carries TorchScript code,
/// how many storages it holds.
struct TorchLayout {
    torchscript: bool,
    storages: usize,
}

fn torch_layout(names: &[String]) -> Option<TorchLayout> {
    let top = top_directory(names)?;
    let has = |rel: &str| names.iter().any(|n| n[top.len() + 1..] == *rel);
    let version = has("version") || has(".data/version");
    if !has("data.pkl") || !version {
        return None;
    }
    let files_under = |dir: &str| {
        names
            .iter()
            .filter(|n| n[top.len() + 1..].starts_with(dir) && !n.ends_with('/'))
            .count()
    };
    Some(TorchLayout {
        torchscript: has("constants.pkl") || files_under("code/") > 0,
        storages: files_under("data/"),
    })
}

pub(super) fn check_torchscript<R: Read + Seek>(
    probe: &mut Probe<R>,
) -> io::Result<Option<Details>> {
    let Some(names) = probe.zip_names()? else {
        return Ok(None);
    };
    Ok(torch_layout(names)
        .filter(|layout| layout.torchscript)
        .map(|layout| storages_note(&layout)))
}

pub(super) fn check_pytorch<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let Some(names) = probe.zip_names()? else {
        return Ok(None);
    };
    Ok(torch_layout(names)
        .filter(|layout| !layout.torchscript)
        .map(|layout| storages_note(&layout)))
}

/// PyTorch stores one record per storage; several tensors may share one, so this is not a
/// tensor count.
fn storages_note(layout: &TorchLayout) -> Details {
    Details::note(format!("{} storage record(s)", layout.storages))
}

pub(super) fn check_keras<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let Some(names) = probe.zip_names()? else {
        return Ok(None);
    };
    let has = |name: &str| names.iter().any(|n| n == name);
    if !has("config.json") || !has("metadata.json") {
        return Ok(None);
    }
    let weights: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| n.starts_with("model.weights."))
        .collect();
    Ok(Some(Details::note(if weights.is_empty() {
        "Keras 3 archive without a weights member".to_string()
    } else {
        format!("Keras 3 archive, weights in {}", weights.join(", "))
    })))
}

/// An `.npz` of computed tables (resampy's Kaiser filters `half_window`, `precision`,
/// `rolloff`; whisper's mel filterbanks `mel_80`, `mel_128`): every array named in `[tables]`.
/// Its `.npy` members are read no further.
pub(super) fn check_npz_table<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let tables = probe.tables;
    let Some(names) = probe.zip_names()? else {
        return Ok(None);
    };
    let arrays: Vec<&str> = names
        .iter()
        .filter(|n| !n.ends_with('/'))
        .map(String::as_str)
        .collect();
    let all_tables = !arrays.is_empty()
        && arrays.iter().all(|n| {
            n.strip_suffix(".npy")
                .is_some_and(|stem| tables.is_table_array(stem))
        });
    Ok(all_tables.then(|| Details::note(format!("computed tables: {}", arrays.join(", ")))))
}

pub(super) fn check_npz<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let Some(names) = probe.zip_names()? else {
        return Ok(None);
    };
    let arrays: Vec<String> = names
        .iter()
        .filter(|n| !n.ends_with('/'))
        .cloned()
        .collect();
    if arrays.is_empty() || !arrays.iter().all(|n| n.ends_with(".npy")) {
        return Ok(None);
    }
    let (size, limits) = (probe.size, probe.limits.clone());
    let Some(mut members) = list_zip_members(&mut *probe.file, size, limits.zip_directory_max)?
    else {
        return Ok(None);
    };
    let mut details = Details {
        tensors: Some(arrays.len() as u64),
        parameters: Some(0),
        ..Details::default()
    };
    if arrays.len() > limits.npz_members_max {
        details.parameters = None;
        details.note = Some(format!(
            "{} arrays; headers not read beyond {}",
            arrays.len(),
            limits.npz_members_max
        ));
        return Ok(Some(details));
    }
    for name in &arrays {
        let member = read_npy_member(&mut members, name, limits.npy_header_max)?;
        let Some(member) = member else {
            details.parameters = None;
            details.note = Some(format!("{name}: not a readable .npy"));
            continue;
        };
        for dtype in member.dtypes {
            details.add_dtype(dtype);
        }
        if member.executes_code == Some(true) {
            details.executes_code = Some(true);
            details.note = Some(format!("{name}: object array, its data is a pickle"));
        }
        details.parameters = details
            .parameters
            .zip(member.parameters)
            .and_then(|(sum, n)| sum.checked_add(n));
    }
    Ok(Some(details))
}

/// Reads the header of the `.npy` member `name`; `None` when it is not one.
fn read_npy_member<R: Read + Seek>(
    members: &mut ZipMembers<R>,
    name: &str,
    header_max: u64,
) -> io::Result<Option<Details>> {
    let Some((preamble, _)) = members.read_member(name, numpy::PREAMBLE_LEN as u64)? else {
        return Ok(None);
    };
    let Some((start, len)) = numpy::header_span(&preamble) else {
        return Ok(None);
    };
    if len > header_max {
        return Ok(None);
    }
    let Some((bytes, size)) = members.read_member(name, start + len)? else {
        return Ok(None);
    };
    let Some(header) = bytes.get(start as usize..) else {
        return Ok(None);
    };
    let data_len = size.saturating_sub(start + len);
    Ok(Some(numpy::describe(header, data_len)))
}
