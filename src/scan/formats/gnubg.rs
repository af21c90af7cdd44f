//! GNU Backgammon weights: the binary `gnubg.wd` and the text `gnubg.weights` it is built from.
//!
//! The text form (`lib/neuralnet.c` `NeuralNetLoad`, read by `eval.c` and `makeweights.c`):
//! a line `GNU Backgammon <version>`, then per network a line `cInput cHidden cOutput <word>
//! rBetaHidden rBetaOutput` and one float per line.
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

/// The text weights: the version line, the first network's header line with positive sizes and
/// betas, and every complete line after it within the first bytes read is one number.
pub(super) fn check_text<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let Ok(text) = std::str::from_utf8(&probe.head) else {
        return Ok(None);
    };
    let mut lines: Vec<&str> = text.split('\n').collect();
    if probe.size > probe.head.len() as u64 {
        lines.pop(); // cut by the end of the bytes read
    }
    let mut lines = lines.into_iter().filter(|l| !l.trim().is_empty());
    let Some(version) = lines
        .next()
        .and_then(|l| l.strip_prefix("GNU Backgammon "))
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 15 && !v.contains(' '))
    else {
        return Ok(None);
    };
    // Networks follow each other: a header line, then exactly its count of numbers; the
    // bytes read may end anywhere in them.
    let mut first = None;
    while let Some(header) = lines.next() {
        let Some(units) = text_network_header(header) else {
            return Ok(None);
        };
        first.get_or_insert(units);
        let [inputs, hidden, outputs] = units.map(u64::from);
        let weights = hidden * (inputs + 1) + outputs * (hidden + 1);
        for _ in 0..weights {
            match lines.next() {
                Some(line) if line.trim().parse::<f32>().is_ok_and(f32::is_finite) => {}
                Some(_) => return Ok(None),
                None => break,
            }
        }
    }
    let Some(units) = first else {
        return Ok(None);
    };
    Ok(Some(Details::note(format!(
        "GNU Backgammon text weights {version}, first network {}-{}-{}",
        units[0], units[1], units[2]
    ))))
}

/// `cInput cHidden cOutput <word> rBetaHidden rBetaOutput`, with positive sizes and betas.
fn text_network_header(line: &str) -> Option<[u32; 3]> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [inputs, hidden, outputs, _, beta_hidden, beta_output] = fields[..] else {
        return None;
    };
    let unit = |f: &str| f.parse().ok().filter(|n| (1..=MAX_UNITS).contains(n));
    let betas_ok = [beta_hidden, beta_output]
        .iter()
        .all(|f| f.parse::<f32>().is_ok_and(|b| b > 0.0 && b.is_finite()));
    betas_ok.then_some([unit(inputs)?, unit(hidden)?, unit(outputs)?])
}
