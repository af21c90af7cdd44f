//! Pickle-based weight formats: plain pickles, joblib files (plain and compressed), legacy
//! `torch.save` files.
//!
//! Protocols 2–5 announce themselves with PROTO (`\x80 N`); protocols 0 and 1 have no
//! signature, so a bounded walk of the first bytes with the pickle analyser's opcode machine
//! (`pickle::sniff`) checks that they are a well-formed opcode sequence. This is
//! identification only: which globals a pickle imports is the analyser's job.

use std::io::{self, Read, Seek};

use super::{Details, Probe};
use crate::scan::pickle::{self, PickleTable, announced_protocol};

/// The second pickle of a legacy torch file: protocol 2, the integer 1001, STOP.
const TORCH_LEGACY_PROTOCOL: &[u8] = b"\x80\x02\x4d\xe9\x03\x2e";
/// Names only joblib's pickles contain (the wrapper records around raw array data).
const JOBLIB_MARKERS: [&[u8]; 3] = [
    b"NumpyArrayWrapper",
    b"NDArrayWrapper",
    b"joblib.numpy_pickle",
];

pub(super) fn check_pytorch_legacy<R: Read + Seek>(
    probe: &mut Probe<R>,
) -> io::Result<Option<Details>> {
    // The signature in the table is the first pickle (torch's magic number); the second must
    // follow it directly.
    Ok((probe.head.get(15..21) == Some(TORCH_LEGACY_PROTOCOL))
        .then(|| Details::note("legacy torch.save format (stacked pickles)")))
}

pub(super) fn check_pickle<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    // A complete zip whose first bytes also walk as a protocol-0 pickle is a zip, as
    // `torch.load` and `numpy.load` take it: its members are listed and scanned.
    if probe.zip_names()?.is_some() {
        return Ok(None);
    }
    let window = probe.read_at(0, probe.limits.pickle_walk_bytes)?;
    Ok(plausible_pickle(probe.pickle, &window)
        .map(|protocol| Details::note(format!("pickle protocol {}", protocol_text(protocol)))))
}

pub(super) fn check_joblib<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    if announced_protocol(&probe.head).is_none_or(|protocol| protocol < 2) {
        return Ok(None);
    }
    let window = probe.read_at(0, probe.limits.pickle_walk_bytes)?;
    Ok(mentions_joblib(&window).then(|| Details::note("joblib pickle with NumPy arrays")))
}

/// A compressed stream around a pickle. With `joblib`, only joblib's (by its markers or the
/// `.joblib` name); without, any other pickle.
pub(super) fn check_compressed<R: Read + Seek>(
    probe: &mut Probe<R>,
    joblib: bool,
) -> io::Result<Option<Details>> {
    let limit = probe.limits.pickle_walk_bytes;
    let named_joblib = probe.file_name().ends_with(".joblib");
    let Some((compression, inner)) = probe.decompressed_prefix(limit)? else {
        return Ok(None);
    };
    let is_joblib = named_joblib || mentions_joblib(&inner);
    if is_joblib != joblib {
        return Ok(None);
    }
    let protocol = match announced_protocol(&inner) {
        // joblib interleaves raw array bytes with the pickle, so only its start is checked.
        Some(protocol) if joblib && protocol >= 2 => Some(protocol),
        _ => plausible_pickle(probe.pickle, &inner),
    };
    let Some(protocol) = protocol else {
        return Ok(None);
    };
    let what = if joblib { "joblib pickle" } else { "pickle" };
    Ok(Some(Details::note(format!(
        "{}-compressed {what}, protocol {}",
        compression.name(),
        protocol_text(protocol)
    ))))
}

fn mentions_joblib(bytes: &[u8]) -> bool {
    JOBLIB_MARKERS
        .iter()
        .any(|marker| bytes.windows(marker.len()).any(|w| w == *marker))
}

fn protocol_text(protocol: u8) -> String {
    if protocol < 2 {
        "0 or 1".to_string()
    } else {
        protocol.to_string()
    }
}

/// The protocol of a pickle at the start of `window` (0 for protocols 0/1, which cannot be
/// told apart cheaply), or `None` when it is not one. The walk is the pickle analyser's
/// (`pickle::sniff`), judged by `Sniff::identified`.
fn plausible_pickle(table: &PickleTable, window: &[u8]) -> Option<u8> {
    pickle::sniff(table, window)
        .identified(table)
        .then(|| announced_protocol(window).unwrap_or(0))
}
