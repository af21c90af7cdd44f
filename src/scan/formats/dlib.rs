//! dlib serialized models (`.dat`): shape predictors and DNN networks.
//!
//! dlib's `serialize.h` writes integers in a variable-length form: one control byte (bit 7 the
//! sign, the low four bits the count of bytes that follow, bits 4–6 zero), then the magnitude's
//! bytes, least significant first. Strings are a length and the bytes; floats a mantissa and an
//! exponent, each such an integer (`float_details`).
//! * `shape_predictor` (`image_processing/shape_predictor.h`, `serialize`): version 1, the
//!   initial shape as a column `matrix<float,0,1>` (`matrix.h` writes `-rows` and `-cols`, so
//!   -2×landmarks and -1), its floats, then the cascade of forests.
//! * DNN networks (`dnn/core.h`, `add_loss_layer::serialize`): version 1, then the loss layer,
//!   which starts with its name as a string (`loss_metric_2`, `loss_mmod_`, …).

use std::io::{self, Read, Seek};

use super::{Details, Probe};

/// One dlib integer at `at`: its value and the offset after it.
fn integer(bytes: &[u8], at: usize) -> Option<(i64, usize)> {
    let control = *bytes.get(at)?;
    let len = usize::from(control & 0x0f);
    if control & 0x70 != 0 || len > 8 {
        return None;
    }
    let digits = bytes.get(at + 1..at + 1 + len)?;
    let magnitude = digits
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    let magnitude = i64::try_from(magnitude).ok()?;
    let value = if control & 0x80 != 0 {
        -magnitude
    } else {
        magnitude
    };
    Some((value, at + 1 + len))
}

pub(super) fn check<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let head = &probe.head;
    let Some((1, at)) = integer(head, 0) else {
        return Ok(None);
    };
    if let Some(note) = shape_predictor(head, at).or_else(|| network(head, at)) {
        return Ok(Some(Details::note(note)));
    }
    Ok(None)
}

/// The initial shape's dimensions and floats, and a plausible cascade depth after them.
fn shape_predictor(head: &[u8], at: usize) -> Option<String> {
    let (rows, at) = integer(head, at)?;
    let (cols, mut at) = integer(head, at)?;
    // 2 coordinates per landmark; dlib's models have 5 to 194 landmarks.
    if cols != -1 || rows >= 0 || rows % 2 != 0 || rows < -2 * 10_000 {
        return None;
    }
    let values = rows.unsigned_abs();
    for _ in 0..values {
        let (_mantissa, next) = integer(head, at)?;
        let (exponent, next) = integer(head, next)?;
        if !(-2000..=2000).contains(&exponent) {
            return None;
        }
        at = next;
    }
    // The forests: a vector of cascade levels, each a vector of trees.
    let (levels, at) = integer(head, at)?;
    let (trees, _) = integer(head, at)?;
    if !(1..=1000).contains(&levels) || !(1..=100_000).contains(&trees) {
        return None;
    }
    Some(format!(
        "dlib shape predictor: {} landmarks, {levels} cascade levels of {trees} trees",
        values / 2
    ))
}

/// A DNN: the loss layer's name right after the version.
fn network(head: &[u8], at: usize) -> Option<String> {
    let (len, at) = integer(head, at)?;
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| (5..=64).contains(&l))?;
    let name = head.get(at..at + len)?;
    let name_ok =
        name.starts_with(b"loss_") && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_');
    name_ok.then(|| {
        format!(
            "dlib DNN network, loss layer {}",
            String::from_utf8_lossy(name)
        )
    })
}
