//! CMU Sphinx acoustic models and binary n-gram language models.
//!
//! An acoustic model is a directory of files (sphinxbase/pocketsphinx, `src/libsphinxbase/util/
//! bio.c`, `src/libpocketsphinx/ms_gauden.c`, `ms_mgau.c`, `tmat.c`, `bin_mdef.c`, `s2_semi_mgau.c`):
//! * `means`, `variances`, `mixture_weights`, `transition_matrices`: the s3 binary format, a
//!   text header `s3\n`, `name value` lines, `endhdr\n`, the byte-order word 0x11223344 in the
//!   writer's order, then the array's dimensions, its element count and float32 values, and an
//!   optional checksum word;
//! * `mdef`: text (`0.3` then `n_base`, `n_tri`, … lines) or binary (`BMDF`);
//! * `sendump`: quantised mixture weights, a length-prefixed "BEGIN FILE FORMAT DESCRIPTION";
//! * `feat.params`: the feature extraction settings (`-feat 1s_c_d_dd`, `-lowerf 130`, …).
//!
//! Language models: sphinxbase's `ngram_model_trie.c` writes "Trie Language Model" then the
//! order; sphinx3's DMP format (`ngram_model_dmp.c`) an int32 17 and "Darpa Trigram LM\0".

use std::io::{self, Read, Seek};

use super::{Details, Probe, element_count};

const BYTE_ORDER: u32 = 0x1122_3344;
/// Largest feature-stream count of a Gaussian file (sphinx uses 1 to 4).
const MAX_STREAMS: u64 = 32;

/// The s3 binary files, binary and text model definitions, and `sendump`.
pub(super) fn check<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let head = &probe.head;
    if head.starts_with(b"s3\n") {
        return check_s3(probe);
    }
    if head.starts_with(b"BMDF") {
        return Ok(Some(Details::note(
            "CMU Sphinx binary model definition (mdef)",
        )));
    }
    if head.starts_with(b"0.3\n") {
        let text = String::from_utf8_lossy(head);
        let keys = ["n_base", "n_tri", "n_state_map", "n_tied_state"];
        let all = keys.iter().all(|key| {
            text.lines()
                .any(|line| line.split_whitespace().nth(1) == Some(*key))
        });
        return Ok(all.then(|| Details::note("CMU Sphinx text model definition (mdef)")));
    }
    // sendump: an int32 30 in either byte order, then the 30-byte description opener.
    let opener = b"BEGIN FILE FORMAT DESCRIPTION\0";
    let length_ok = matches!(head.get(..4), Some([30, 0, 0, 0] | [0, 0, 0, 30]));
    if length_ok && head.get(4..34) == Some(opener.as_slice()) {
        return Ok(Some(Details::note(
            "CMU Sphinx quantised mixture weights (sendump)",
        )));
    }
    Ok(None)
}

/// The s3 binary format: a header ended by `endhdr\n` within the first bytes, the byte-order
/// word, then one of the array layouts `bio.c` and `ms_gauden.c` write, recognised by the
/// element count agreeing with the dimensions and with the file size.
fn check_s3<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let head = &probe.head;
    let Some(end) = head
        .windows(7)
        .position(|w| w == b"endhdr\n")
        .map(|at| at + 7)
    else {
        return Ok(None);
    };
    let Some(order) = head.get(end..end + 4) else {
        return Ok(None);
    };
    let word = |bytes: &[u8], big: bool| -> Option<u64> {
        let bytes: [u8; 4] = bytes.try_into().ok()?;
        Some(u64::from(if big {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        }))
    };
    let big_endian = match (word(order, false), word(order, true)) {
        (Some(v), _) if v == u64::from(BYTE_ORDER) => false,
        (_, Some(v)) if v == u64::from(BYTE_ORDER) => true,
        _ => return Ok(None),
    };
    let data_at = (end + 4) as u64;
    // Enough words for the largest layout's dimensions (Gaussians: 3 counts, one vector
    // length per stream, the total).
    let words = probe.read_at(data_at, 4 * (4 + MAX_STREAMS as usize))?;
    let w = |i: usize| {
        words
            .get(4 * i..4 * i + 4)
            .and_then(|b| word(b, big_endian))
    };
    // The values end the file, or are followed by one checksum word.
    let fits = |dims_words: u64, count: u64| {
        count
            .checked_mul(4)
            .and_then(|bytes| bytes.checked_add(data_at + 4 * dims_words))
            .is_some_and(|end| end == probe.size || end + 4 == probe.size)
    };
    let mut found = None;
    // Gaussian codebooks (means, variances): n_mgau, n_feat, n_density, veclen[n_feat], total.
    if let (Some(mgau), Some(feats), Some(density)) = (w(0), w(1), w(2))
        && (1..=MAX_STREAMS).contains(&feats)
    {
        let lens: Option<Vec<u64>> = (0..feats as usize).map(|i| w(3 + i)).collect();
        if let (Some(lens), Some(total)) = (lens, w(3 + feats as usize)) {
            let per = lens.iter().sum::<u64>();
            if element_count([mgau, density, per]) == Some(total) && fits(4 + feats, total) {
                found = Some((
                    total,
                    format!("{mgau} codebooks, {feats} streams, {density} densities"),
                ));
            }
        }
    }
    // Arrays of one to three dimensions (mixture weights, transition matrices), then a total.
    for dims in (1..=3usize).rev() {
        if found.is_some() {
            break;
        }
        let shape: Option<Vec<u64>> = (0..dims).map(w).collect();
        if let (Some(shape), Some(total)) = (shape, w(dims))
            && element_count(shape.iter().copied()) == Some(total)
            && fits(dims as u64 + 1, total)
        {
            let shape: Vec<String> = shape.iter().map(u64::to_string).collect();
            found = Some((total, format!("array {}", shape.join("×"))));
        }
    }
    let Some((parameters, layout)) = found else {
        return Ok(Some(Details::note(
            "CMU Sphinx s3 binary model file of an unknown layout",
        )));
    };
    Ok(Some(Details {
        tensors: Some(1),
        parameters: Some(parameters),
        dtypes: vec!["float32".into()],
        note: Some(format!("CMU Sphinx s3 binary model file: {layout}")),
        ..Details::default()
    }))
}

/// `feat.params`: a small text file of `-option value` lines naming the feature extraction of
/// an acoustic model. It must fit in the first bytes read, every line must be an option, and
/// it must set the feature type (`-feat`) or the filter bank (`-lowerf`, `-upperf`, `-nfilt`).
pub(super) fn check_feat_params<R: Read + Seek>(
    probe: &mut Probe<R>,
) -> io::Result<Option<Details>> {
    if probe.size > probe.head.len() as u64 {
        return Ok(None);
    }
    let Ok(text) = std::str::from_utf8(&probe.head) else {
        return Ok(None);
    };
    let mut options = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut fields = line.split_whitespace();
        let (Some(name), Some(_value), None) = (fields.next(), fields.next(), fields.next()) else {
            return Ok(None);
        };
        let Some(name) = name.strip_prefix('-') else {
            return Ok(None);
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Ok(None);
        }
        options.push(name);
    }
    let decisive = ["feat", "lowerf", "upperf", "nfilt"];
    let known = options.iter().filter(|o| decisive.contains(o)).count();
    if options.len() < 3 || known < 2 {
        return Ok(None);
    }
    Ok(Some(Details::note(format!(
        "CMU Sphinx acoustic model feature parameters ({} options)",
        options.len()
    ))))
}

/// Binary n-gram language models: the trie format (its order follows the signature) and the
/// DMP format (always a trigram model in name, any order up to 3 in fact).
pub(super) fn check_lm<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let head = &probe.head;
    if let Some(rest) = head.strip_prefix(b"Trie Language Model") {
        let Some(&order) = rest.first().filter(|&&o| (1..=10).contains(&o)) else {
            return Ok(None);
        };
        return Ok(Some(Details::note(format!(
            "CMU Sphinx binary trie language model, order {order}"
        ))));
    }
    let length_ok = matches!(head.get(..4), Some([17, 0, 0, 0] | [0, 0, 0, 17]));
    Ok(
        (length_ok && head.get(4..21) == Some(b"Darpa Trigram LM\0".as_slice()))
            .then(|| Details::note("CMU Sphinx DMP language model")),
    )
}
