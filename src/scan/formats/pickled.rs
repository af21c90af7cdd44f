//! Pickle-bearing formats: plain pickles, joblib files (plain and compressed), legacy
//! `torch.save` files.
//!
//! Protocols 2–5 announce themselves with PROTO (`\x80 N`); protocols 0 and 1 have no
//! signature, so a bounded walk checks that the bytes are a well-formed opcode sequence whose
//! simulated stack ends with exactly one value at STOP. This is identification only: which
//! globals a pickle imports is the pickle analyser's job (`scan::pickle`).

use std::io::{self, Read, Seek};

use super::compressed::{Compression, decompressed_prefix};
use super::{Details, Probe};

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
    let window = probe.read_at(0, probe.limits.pickle_walk_bytes)?;
    Ok(plausible_pickle(&window)
        .map(|protocol| Details::note(format!("pickle protocol {}", protocol_text(protocol)))))
}

pub(super) fn check_joblib<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    if !matches!(probe.head.as_slice(), [0x80, 2..=5, ..]) {
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
    let Some((compression, inner)) = decompressed_prefix(probe, limit)? else {
        return Ok(None);
    };
    let is_joblib = named_joblib || mentions_joblib(&inner);
    if is_joblib != joblib {
        return Ok(None);
    }
    let protocol = if joblib {
        // joblib interleaves raw array bytes with the pickle, so only its start is checked.
        match inner.as_slice() {
            [0x80, p @ 2..=5, ..] => Some(*p),
            _ => plausible_pickle(&inner),
        }
    } else {
        plausible_pickle(&inner)
    };
    let Some(protocol) = protocol else {
        return Ok(None);
    };
    let what = if joblib { "joblib pickle" } else { "pickle" };
    Ok(Some(Details::note(format!(
        "{}-compressed {what}, protocol {}",
        Compression::name(compression),
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

/// The protocol of a pickle at the start of `bytes` (0 for protocols 0/1, which cannot be told
/// apart cheaply), or `None` when the bytes are not one. A walk that runs out of bytes without
/// an error (a long pickle, or a truncated one) is accepted only when PROTO announced a pickle:
/// a truncated pickle must still be reported, with the pickle analyser's parse error.
pub(super) fn plausible_pickle(bytes: &[u8]) -> Option<u8> {
    let announced = match bytes {
        [0x80, p @ 2..=5, ..] => Some(*p),
        _ => None,
    };
    match walk(bytes) {
        Walk::Stop { opcodes } if announced.is_some() || opcodes >= 2 => {
            Some(announced.unwrap_or(0))
        }
        Walk::OutOfBytes => announced,
        _ => None,
    }
}

enum Walk {
    /// A well-formed pickle ended with STOP after this many opcodes.
    Stop {
        opcodes: usize,
    },
    /// The bytes ended before STOP with no error so far.
    OutOfBytes,
    Invalid,
}

/// How an opcode's argument is encoded.
enum Arg {
    None,
    Fixed(usize),
    /// A little-endian length of this many bytes, then that many bytes.
    Counted(usize),
    /// Newline-terminated text lines of a given kind.
    Lines(&'static [Line]),
}

#[derive(Clone, Copy)]
enum Line {
    Int,
    Float,
    Quoted,
    Dotted,
    Any,
}

/// What an opcode does to the stack.
enum Effect {
    /// Pops `pop` values, then pushes `push`; `need` more must lie below.
    Values {
        pop: u64,
        push: u64,
    },
    /// Like `Values` but requires one value to stay on the stack (PUT, BUILD-like in-place ops).
    Keep {
        need: u64,
        pop: u64,
    },
    Mark,
    /// Pops everything down to the last mark, then pushes `push`; `below` values must remain
    /// under the mark (APPENDS needs its list).
    ToMark {
        push: u64,
        below: u64,
    },
    Pop,
    Stop,
}

fn opcode(op: u8) -> Option<(Arg, Effect)> {
    use Arg::{Counted, Fixed, Lines};
    use Effect::{Keep, Mark, Pop, Stop, ToMark, Values};
    let push = Values { pop: 0, push: 1 };
    Some(match op {
        b'(' => (Arg::None, Mark),
        b'.' => (Arg::None, Stop),
        b'0' => (Arg::None, Pop),
        b'1' => (Arg::None, ToMark { push: 0, below: 0 }),
        b'2' => (Arg::None, Values { pop: 1, push: 2 }),
        b'F' => (Lines(&[Line::Float]), push),
        b'I' | b'L' => (Lines(&[Line::Int]), push),
        b'J' => (Fixed(4), push),
        b'K' => (Fixed(1), push),
        b'M' => (Fixed(2), push),
        b'N' | b'}' | b']' | b')' | 0x88 | 0x89 | 0x8f | 0x97 => (Arg::None, push),
        b'P' | b'V' => (Lines(&[Line::Any]), push),
        b'Q' | 0x85 => (Arg::None, Values { pop: 1, push: 1 }),
        b'R' | 0x81 | 0x86 | 0x93 => (Arg::None, Values { pop: 2, push: 1 }),
        0x87 | 0x92 => (Arg::None, Values { pop: 3, push: 1 }),
        b'S' => (Lines(&[Line::Quoted]), push),
        b'T' | b'X' | b'B' | 0x8b => (Counted(4), push),
        b'U' | b'C' | 0x8a | 0x8c => (Counted(1), push),
        0x8d | 0x8e | 0x96 => (Counted(8), push),
        b'a' | b'b' => (Arg::None, Keep { need: 1, pop: 1 }),
        b's' => (Arg::None, Keep { need: 1, pop: 2 }),
        b'c' => (Lines(&[Line::Dotted, Line::Dotted]), push),
        b'i' => (
            Lines(&[Line::Dotted, Line::Dotted]),
            ToMark { push: 1, below: 0 },
        ),
        b'd' | b'l' | b't' | b'o' | 0x91 => (Arg::None, ToMark { push: 1, below: 0 }),
        b'e' | b'u' | 0x90 => (Arg::None, ToMark { push: 0, below: 1 }),
        b'g' => (Lines(&[Line::Int]), push),
        b'h' => (Fixed(1), push),
        b'j' => (Fixed(4), push),
        b'p' => (Lines(&[Line::Int]), Keep { need: 1, pop: 0 }),
        b'q' => (Fixed(1), Keep { need: 1, pop: 0 }),
        b'r' => (Fixed(4), Keep { need: 1, pop: 0 }),
        0x94 | 0x98 => (Arg::None, Keep { need: 1, pop: 0 }),
        b'G' => (Fixed(8), push),
        0x80 => (Fixed(1), Values { pop: 0, push: 0 }),
        0x82 => (Fixed(1), push),
        0x83 => (Fixed(2), push),
        0x84 => (Fixed(4), push),
        0x95 => (Fixed(8), Values { pop: 0, push: 0 }),
        _ => return None,
    })
}

/// Walks opcodes from the start of `bytes`, simulating only the stack depth (values per mark
/// frame), never the values.
fn walk(bytes: &[u8]) -> Walk {
    // Values above each mark; the first frame is the bottom of the stack.
    let mut frames: Vec<u64> = vec![0];
    let mut at = 0usize;
    let mut opcodes = 0usize;
    while let Some(&op) = bytes.get(at) {
        let Some((arg, effect)) = opcode(op) else {
            return Walk::Invalid;
        };
        at += 1;
        opcodes += 1;
        let advanced = match arg {
            Arg::None => Some(at),
            Arg::Fixed(n) => at.checked_add(n),
            Arg::Counted(width) => bytes.get(at..at + width).map_or(Some(usize::MAX), |len| {
                let mut le = [0u8; 8];
                le[..width].copy_from_slice(len);
                usize::try_from(u64::from_le_bytes(le))
                    .ok()
                    .and_then(|n| (at + width).checked_add(n))
            }),
            Arg::Lines(kinds) => lines_end(bytes, at, kinds),
        };
        match advanced {
            Some(next) if next <= bytes.len() => at = next,
            Some(_) => return Walk::OutOfBytes,
            None => return Walk::Invalid,
        }
        if op == 0x80 && bytes[at - 1] > 5 {
            return Walk::Invalid;
        }
        let top = frames.last_mut().expect("the bottom frame is never popped");
        match effect {
            Effect::Values { pop, push } => {
                if *top < pop {
                    return Walk::Invalid;
                }
                *top = *top - pop + push;
            }
            Effect::Keep { need, pop } => {
                if *top < need + pop {
                    return Walk::Invalid;
                }
                *top -= pop;
            }
            Effect::Mark => frames.push(0),
            Effect::ToMark { push, below } => {
                if frames.len() < 2 {
                    return Walk::Invalid;
                }
                frames.pop();
                let top = frames.last_mut().expect("a frame remains below the mark");
                if *top < below {
                    return Walk::Invalid;
                }
                *top += push;
            }
            // POP takes the top value, or the mark itself when the frame is empty.
            Effect::Pop => {
                if *top > 0 {
                    *top -= 1;
                } else if frames.len() > 1 {
                    frames.pop();
                } else {
                    return Walk::Invalid;
                }
            }
            Effect::Stop => {
                return if frames == [1] {
                    Walk::Stop { opcodes }
                } else {
                    Walk::Invalid
                };
            }
        }
    }
    Walk::OutOfBytes
}

/// Where the text lines of a protocol-0 argument end, if they are well formed; `usize::MAX`
/// (past any slice) when the bytes end first.
fn lines_end(bytes: &[u8], mut at: usize, kinds: &[Line]) -> Option<usize> {
    for kind in kinds {
        let Some(len) = bytes[at..].iter().position(|&b| b == b'\n') else {
            return Some(usize::MAX);
        };
        let line = &bytes[at..at + len];
        if !line_ok(line, *kind) {
            return None;
        }
        at += len + 1;
    }
    Some(at)
}

fn line_ok(line: &[u8], kind: Line) -> bool {
    let Ok(text) = std::str::from_utf8(line) else {
        return matches!(kind, Line::Any);
    };
    match kind {
        Line::Int => {
            let digits = text.strip_suffix('L').unwrap_or(text);
            let digits = digits.strip_prefix('-').unwrap_or(digits);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        }
        Line::Float => text.parse::<f64>().is_ok(),
        Line::Quoted => {
            text.len() >= 2
                && ((text.starts_with('\'') && text.ends_with('\''))
                    || (text.starts_with('"') && text.ends_with('"')))
        }
        Line::Dotted => {
            !text.is_empty()
                && text.split('.').all(|part| {
                    !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                })
        }
        Line::Any => true,
    }
}
