//! Tesseract `.traineddata`: a table of component offsets, then the components.
//!
//! tesseract's `ccutil/tessdatamanager.cpp` (`TessdataManager::LoadMemBuffer`, `Serialize`):
//! an int32 entry count (`TESSDATA_NUM_ENTRIES`, 24 since 4.0), then that many int64 offsets,
//! -1 for an absent component, then the components back to back in table order. A file written
//! on a big-endian machine has every number byte-swapped, which the reader detects by an entry
//! count over `kMaxNumTessdataEntries` (1000).

use std::io::{self, Read, Seek};

use super::{Details, Probe, le_u32};

/// tessdatamanager.h `kMaxNumTessdataEntries`: a larger count means the other byte order.
const MAX_ENTRIES: u32 = 1000;
/// Entry counts accepted: 24 today; the table has only grown, one entry at a time.
const MAX_PLAUSIBLE_ENTRIES: u32 = 64;

/// `TessdataType` names, in table order (tessdatamanager.h).
const COMPONENTS: [&str; 24] = [
    "config",
    "unicharset",
    "ambigs",
    "inttemp",
    "pffmtable",
    "normproto",
    "punc-dawg",
    "word-dawg",
    "number-dawg",
    "freq-dawg",
    "fixed-length-dawgs",
    "cube-unicharset",
    "cube-word-dawg",
    "shapetable",
    "bigram-dawg",
    "unambig-dawg",
    "params-model",
    "lstm",
    "lstm-punc-dawg",
    "lstm-word-dawg",
    "lstm-number-dawg",
    "lstm-unicharset",
    "lstm-recoder",
    "version",
];

/// Accepts the file when its offset table is what `Serialize` writes: the first present
/// component starts right after the table, the others follow in increasing order within the
/// file. A table carries no magic, so this exact layout is what tells it from other binaries.
/// The components are named in the note (`lstm` is the neural network of Tesseract 4 and
/// later; `inttemp`/`shapetable` are the legacy engine's trained templates).
pub(super) fn check<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let Some(raw_count) = le_u32(&probe.head, 0) else {
        return Ok(None);
    };
    let big_endian = raw_count > MAX_ENTRIES;
    let count = if big_endian {
        raw_count.swap_bytes()
    } else {
        raw_count
    };
    if count == 0 || count > MAX_PLAUSIBLE_ENTRIES {
        return Ok(None);
    }
    let table_end = 4 + 8 * u64::from(count);
    if table_end > probe.size {
        return Ok(None);
    }
    let table = probe.read_at(4, 8 * count as usize)?;
    let mut present = Vec::new();
    let mut previous = table_end;
    for (index, raw) in table.chunks_exact(8).enumerate() {
        let raw: [u8; 8] = raw.try_into().map_err(|_| super::invalid("short table"))?;
        let offset = if big_endian {
            i64::from_be_bytes(raw)
        } else {
            i64::from_le_bytes(raw)
        };
        if offset == -1 {
            continue;
        }
        let Ok(offset) = u64::try_from(offset) else {
            return Ok(None);
        };
        let first = present.is_empty();
        if (first && offset != table_end) || offset < previous || offset > probe.size {
            return Ok(None);
        }
        previous = offset;
        present.push(COMPONENTS.get(index).copied().unwrap_or("unknown"));
    }
    if present.is_empty() {
        return Ok(None);
    }
    let engine = if present.contains(&"lstm") {
        "LSTM network"
    } else if present.contains(&"inttemp") {
        "legacy engine templates"
    } else {
        "no recogniser"
    };
    Ok(Some(Details::note(format!(
        "Tesseract traineddata, {engine}; components: {}",
        present.join(", ")
    ))))
}
