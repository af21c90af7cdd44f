//! Word-vector files: fastText models and word2vec vectors (binary and text).
//!
//! * fastText (`src/fasttext.cc` `signModel`/`saveModel`, `src/args.cc` `Args::save`,
//!   `src/dictionary.cc` `Dictionary::save`): int32 magic 793712314, int32 version (12; 11
//!   before 0.9), twelve int32 arguments and a double, then the dictionary's counts, its
//!   entries, and the input and output matrices.
//! * word2vec (`word2vec.c` and gensim's `save_word2vec_format`): a text line
//!   `"<count> <dim>\n"`, then per word either `word<space>` and `dim` raw float32 values
//!   (binary; word2vec.c ends each with `\n`, gensim does not) or a text line of the word and
//!   `dim` numbers.

use std::io::{self, Read, Seek};

use super::{Details, Probe, le_u32, le_u64};

/// `FASTTEXT_FILEFORMAT_MAGIC_INT32`.
const FASTTEXT_MAGIC: u32 = 793_712_314;
/// Largest vector dimension believed (real models use 10–1000).
const MAX_DIM: u64 = 100_000;

pub(super) fn check_fasttext<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    let head = &probe.head;
    let int = |at: usize| le_u32(head, at);
    let (Some(FASTTEXT_MAGIC), Some(version)) = (int(0), int(4)) else {
        return Ok(None);
    };
    let (Some(dim), Some(loss), Some(model), Some(bucket)) = (int(8), int(32), int(36), int(40))
    else {
        return Ok(None);
    };
    let (Some(size), Some(words), Some(labels), Some(_tokens)) =
        (int(64), int(68), int(72), le_u64(head, 76))
    else {
        return Ok(None);
    };
    let plausible = matches!(version, 11 | 12)
        && (1..=MAX_DIM).contains(&u64::from(dim))
        && (1..=4).contains(&loss)
        && (1..=3).contains(&model)
        && u64::from(size) == u64::from(words) + u64::from(labels)
        && bucket < 1 << 31;
    if !plausible {
        return Ok(None);
    }
    let model = ["cbow", "skipgram", "supervised"][model as usize - 1];
    let mut note = format!("fastText v{version} {model} model, dimension {dim}, {words} words");
    if labels > 0 {
        note.push_str(&format!(", {labels} labels"));
    }
    Ok(Some(Details::note(note)))
}

/// The `"<count> <dim>"` header line of a word2vec file, and where the records start.
fn word2vec_header(head: &[u8]) -> Option<(u64, u64, usize)> {
    let end = head.iter().take(64).position(|&b| b == b'\n')?;
    let line = std::str::from_utf8(&head[..end])
        .ok()?
        .trim_end_matches('\r');
    let mut fields = line.split(' ');
    let (count, dim) = (fields.next()?, fields.next()?);
    if fields.next().is_some() {
        return None;
    }
    let digits = |s: &str| !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(count) || !digits(dim) {
        return None;
    }
    let (count, dim) = (count.parse().ok()?, dim.parse().ok()?);
    ((1..=MAX_DIM).contains(&dim) && count > 0).then_some((count, dim, end + 1))
}

/// Binary word2vec: the header, then records of a word, a space and `dim` float32 values.
/// The first records within `vectors-sample-bytes` are walked (a word is at most 1000 bytes,
/// as in gensim's reader, and holds no space or NUL; every value is finite), and the file must
/// be long enough for `count` records of at least one byte of word.
pub(super) fn check_word2vec_binary<R: Read + Seek>(
    probe: &mut Probe<R>,
) -> io::Result<Option<Details>> {
    let Some((count, dim, start)) = word2vec_header(&probe.head) else {
        return Ok(None);
    };
    let record_min = 2 + 4 * dim;
    if count
        .checked_mul(record_min)
        .and_then(|n| n.checked_add(start as u64))
        .is_none_or(|need| need > probe.size)
    {
        return Ok(None);
    }
    let sample_len = probe.limits.vectors_sample_bytes;
    let sample = probe.read_at(start as u64, sample_len)?;
    let mut at = 0usize;
    let mut walked = 0u64;
    while walked < count {
        if sample.get(at) == Some(&b'\n') {
            at += 1;
        }
        let Some(space) = sample[at.min(sample.len())..]
            .iter()
            .take(1001)
            .position(|&b| b == b' ')
        else {
            break;
        };
        let word = &sample[at..at + space];
        if word.is_empty() || word.iter().any(|&b| b == 0 || b == b'\n') {
            return Ok(None);
        }
        let values_at = at + space + 1;
        let Some(values) = sample.get(values_at..values_at + 4 * dim as usize) else {
            break;
        };
        let finite = values
            .chunks_exact(4)
            .all(|v| f32::from_le_bytes([v[0], v[1], v[2], v[3]]).is_finite());
        if !finite {
            return Ok(None);
        }
        at = values_at + 4 * dim as usize;
        walked += 1;
    }
    // A whole record must have been seen: the header alone is just a line of two numbers.
    if walked == 0 {
        return Ok(None);
    }
    Ok(Some(Details {
        tensors: Some(1),
        parameters: count.checked_mul(dim),
        dtypes: vec!["float32".into()],
        note: Some(format!(
            "word2vec binary vectors: {count} words of dimension {dim}"
        )),
        ..Details::default()
    }))
}

/// Text word2vec: the header, then lines of a word and `dim` numbers. The complete lines
/// within `vectors-sample-bytes` are checked; at least one (or all of a shorter file) must be
/// there.
pub(super) fn check_word2vec_text<R: Read + Seek>(
    probe: &mut Probe<R>,
) -> io::Result<Option<Details>> {
    let Some((count, dim, start)) = word2vec_header(&probe.head) else {
        return Ok(None);
    };
    let sample_len = probe.limits.vectors_sample_bytes;
    let sample = probe.read_at(start as u64, sample_len)?;
    let complete = (start + sample.len()) as u64 == probe.size;
    let text = match std::str::from_utf8(&sample) {
        Ok(text) => text,
        // A multi-byte character cut at the end of the sample is still text; the unfinished
        // last line is dropped below anyway.
        Err(err) if !complete && err.error_len().is_none() => {
            std::str::from_utf8(&sample[..err.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return Ok(None),
    };
    let mut lines: Vec<&str> = text.split('\n').collect();
    if !complete || lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    if lines.is_empty() || lines.len() as u64 > count {
        return Ok(None);
    }
    let row_ok = |line: &&str| {
        let mut fields = line.trim_end_matches(['\r', ' ']).split(' ');
        let word_ok = fields.next().is_some_and(|w| !w.is_empty());
        let mut numbers = 0u64;
        for field in fields {
            if !field.parse::<f32>().is_ok_and(f32::is_finite) {
                return false;
            }
            numbers += 1;
        }
        word_ok && numbers == dim
    };
    if !lines.iter().all(row_ok) {
        return Ok(None);
    }
    Ok(Some(Details {
        tensors: Some(1),
        parameters: count.checked_mul(dim),
        note: Some(format!(
            "word2vec text vectors: {count} words of dimension {dim}"
        )),
        ..Details::default()
    }))
}
