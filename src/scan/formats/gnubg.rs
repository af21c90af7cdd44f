//! GNU Backgammon binary weights (`gnubg.wd`).
//!
//! gnubg's `lib/neuralnet.c` (`NeuralNetSaveBinary`/`NeuralNetLoadBinary`) and `eval.c`
//! (`EvalInitialise`): the float magic 472.3782 (`WEIGHTS_MAGIC_BINARY`), the float weights
//! version (1.0 since gnubg 0.14), then the networks one after another, each with int32
//! `cInput`, `cHidden`, `cOutput`, `nTrained`, float `rBetaHidden`, `rBetaOutput`, and
//! `cHidden × (cInput + 1) + cOutput × (cHidden + 1)` float32 weights and thresholds. The
//! file is written in the machine's byte order (Debian builds it per architecture).

use std::io::{self, Read, Seek};

use super::{Details, Probe, le_u32};

/// Bytes of a network's header.
const NET_HEADER: u64 = 6 * 4;
/// gnubg ships about ten networks (contact, race, crashed and their pruning nets).
const MAX_NETS: usize = 64;
/// Largest layer accepted (gnubg's inputs are 250, hidden layers 128).
const MAX_UNITS: u32 = 1 << 16;

/// Walks the networks by their headers (a seek each) and accepts the file only when the last
/// one ends exactly at the end of the file.
pub(super) fn check<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    if le_u32(&probe.head, 4).map(f32::from_bits) != Some(1.0) {
        return Ok(None);
    }
    let mut at = 8u64;
    let mut nets = 0usize;
    let mut parameters = 0u64;
    let mut shapes = Vec::new();
    while at < probe.size {
        if nets == MAX_NETS {
            return Ok(None);
        }
        let header = probe.read_at(at, NET_HEADER as usize)?;
        let (Some(inputs), Some(hidden), Some(outputs)) =
            (le_u32(&header, 0), le_u32(&header, 4), le_u32(&header, 8))
        else {
            return Ok(None);
        };
        if ![inputs, hidden, outputs]
            .iter()
            .all(|&units| (1..=MAX_UNITS).contains(&units))
        {
            return Ok(None);
        }
        let (inputs, hidden, outputs) = (u64::from(inputs), u64::from(hidden), u64::from(outputs));
        let weights = hidden * (inputs + 1) + outputs * (hidden + 1);
        at = match at.checked_add(NET_HEADER + 4 * weights) {
            Some(end) if end <= probe.size => end,
            _ => return Ok(None),
        };
        parameters += weights;
        nets += 1;
        shapes.push(format!("{inputs}-{hidden}-{outputs}"));
    }
    if nets == 0 {
        return Ok(None);
    }
    Ok(Some(Details {
        tensors: Some(4 * nets as u64),
        parameters: Some(parameters),
        dtypes: vec!["float32".into()],
        note: Some(format!(
            "GNU Backgammon weights, {nets} networks ({})",
            shapes.join(", ")
        )),
        ..Details::default()
    }))
}
