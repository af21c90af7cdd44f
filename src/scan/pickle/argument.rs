//! An opcode's argument: read from the stream as the opcode table lays it out, and decoded as
//! far as the walk needs it. Large payloads are skipped here, never kept.

use std::io::Read;

use super::input::Input;
use super::machine::Step;
use super::number::{self, Number};
use super::opcode::{ArgumentKind, Length, Opcode, Payload};

/// Bytes a memo key's decimal line may have before it is not a key.
const KEY_LINE_BYTES: usize = 32;

/// Bytes of an INT, LONG or FLOAT line read: past CPython's 4300 decimal digits.
const NUMBER_LINE_BYTES: usize = 8192;

/// Bytes of a counted integer kept: what fits an `i64`.
const SMALL_INT_BYTES: usize = 8;

/// A decoded argument.
#[derive(Debug)]
pub(super) enum Argument {
    /// The opcode has none.
    Empty,
    /// A non-negative integer: PROTO's version, FRAME's length, a memo key, an extension code,
    /// BININT1's and BININT2's values.
    Unsigned(u64),
    /// A signed integer (BININT, INT, LONG, LONG1, and FLOAT's text read as one); `None` when
    /// it does not fit 64 bits.
    Int(Option<i64>),
    /// A number line CPython's two unpicklers read differently (see `number`): the walk goes
    /// on with `Int(None)`, and the verdict says why.
    Disputed(&'static str),
    /// Text; `None` when it was too long to keep, not UTF-8, or escaped beyond our decoding.
    Text(Option<Box<str>>),
    /// GLOBAL's and INST's module and name; `None` when either is too long or not UTF-8.
    Import(Option<(String, String)>),
    /// Data the walk does not follow: bytes, floats, persistent ids.
    Skipped,
}

impl Argument {
    /// Reads the argument of `op`. `keep` is the longest text kept (`max-string-bytes`).
    pub(super) fn read<R: Read>(
        op: Opcode,
        input: &mut Input<R>,
        keep: usize,
    ) -> Result<Self, Step> {
        Ok(match op.argument() {
            ArgumentKind::Empty => Argument::Empty,
            ArgumentKind::UInt1 => Argument::Unsigned(input.byte()?.into()),
            ArgumentKind::UInt2 => Argument::Unsigned(u16::from_le_bytes(input.array()?).into()),
            ArgumentKind::UInt4 => Argument::Unsigned(u32::from_le_bytes(input.array()?).into()),
            ArgumentKind::UInt8 => Argument::Unsigned(u64::from_le_bytes(input.array()?)),
            ArgumentKind::Int4 => Argument::Int(Some(i32::from_le_bytes(input.array()?).into())),
            ArgumentKind::Float8 => {
                input.array::<8>()?;
                Argument::Skipped
            }
            ArgumentKind::KeyLine => Argument::Unsigned(key_line(op, input)?),
            ArgumentKind::NumberLine => number_line(op, input)?,
            ArgumentKind::QuotedLine => Argument::Text(quoted_line(op, input, keep)?),
            // Escaped text is not decoded: a module name spelled with escapes stays
            // unresolved, which is unsafe.
            ArgumentKind::UnicodeLine => {
                let line = input.line(keep)?;
                Argument::Text(text(line.filter(|l| !l.contains(&b'\\'))))
            }
            ArgumentKind::PersIdLine => {
                input.line(keep)?;
                Argument::Skipped
            }
            ArgumentKind::ModuleAndName => {
                let as_text = |line: Option<Vec<u8>>| line.and_then(|l| String::from_utf8(l).ok());
                let module = input.line(keep)?;
                let name = input.line(keep)?;
                Argument::Import(as_text(module).zip(as_text(name)))
            }
            ArgumentKind::Counted(length, payload) => {
                let len = match length {
                    Length::UInt1 => u64::from(input.byte()?),
                    Length::Int4 => {
                        let len = i32::from_le_bytes(input.array()?);
                        u64::try_from(len).map_err(|_| {
                            Step::Invalid(format!("{} has a negative length", op.name()))
                        })?
                    }
                    Length::UInt4 => u64::from(u32::from_le_bytes(input.array()?)),
                    Length::UInt8 => u64::from_le_bytes(input.array()?),
                };
                match payload {
                    Payload::Text => Argument::Text(text(input.payload(len, keep)?)),
                    Payload::SmallInt => {
                        Argument::Int(small_int(input.payload(len, SMALL_INT_BYTES)?))
                    }
                    Payload::Skipped => {
                        input.payload(len, 0)?;
                        Argument::Skipped
                    }
                }
            }
        })
    }

    /// The integer of an opcode whose [`ArgumentKind`] is an unsigned integer or a key line.
    pub(super) fn unsigned(&self) -> u64 {
        match self {
            Argument::Unsigned(n) => *n,
            other => unreachable!("the opcode table gives an integer argument, not {other:?}"),
        }
    }
}

/// UTF-8 text, or `None`.
fn text(bytes: Option<Vec<u8>>) -> Option<Box<str>> {
    bytes.and_then(|b| String::from_utf8(b).ok().map(String::into_boxed_str))
}

/// PUT's and GET's memo key, as `int(text)` reads it.
fn key_line<R: Read>(op: Opcode, input: &mut Input<R>) -> Result<u64, Step> {
    let line = input.line(KEY_LINE_BYTES)?;
    line.and_then(|l| number::key_line(&l)).ok_or_else(|| {
        Step::Invalid(format!(
            "{} argument is not a non-negative decimal number",
            op.name()
        ))
    })
}

/// INT's, LONG's and FLOAT's text, accepted exactly as CPython's unpicklers accept it; an
/// integer that fits is kept.
fn number_line<R: Read>(op: Opcode, input: &mut Input<R>) -> Result<Argument, Step> {
    let Some(line) = input.line(NUMBER_LINE_BYTES)? else {
        return Err(Step::Halt(format!(
            "{} argument is longer than {NUMBER_LINE_BYTES} bytes",
            op.name()
        )));
    };
    let read = match op {
        Opcode::Int => number::int_line(&line),
        Opcode::Long => number::long_line(&line),
        _ => number::float_line(&line),
    };
    match read {
        Number::Agreed(value) => Ok(Argument::Int(value)),
        Number::Disputed(reason) => Ok(Argument::Disputed(reason)),
        Number::Invalid => Err(Step::Invalid(format!(
            "{} argument is not a number",
            op.name()
        ))),
    }
}

/// STRING's quoted Python literal. One with escapes is not decoded (a module name spelled with
/// escapes stays unresolved, which is unsafe).
fn quoted_line<R: Read>(
    op: Opcode,
    input: &mut Input<R>,
    keep: usize,
) -> Result<Option<Box<str>>, Step> {
    let Some(line) = input.line(keep)? else {
        return Ok(None);
    };
    let quoted =
        line.len() >= 2 && (line[0] == b'\'' || line[0] == b'"') && line[line.len() - 1] == line[0];
    if !quoted {
        return Err(Step::Invalid(format!(
            "{} argument is not quoted",
            op.name()
        )));
    }
    let inner = &line[1..line.len() - 1];
    Ok(text((!inner.contains(&b'\\')).then(|| inner.to_vec())))
}

/// LONG1's little-endian two's complement, when it has at most eight bytes.
fn small_int(bytes: Option<Vec<u8>>) -> Option<i64> {
    let bytes = bytes?;
    let Some(&last) = bytes.last() else {
        return Some(0);
    };
    let fill = if last & 0x80 != 0 { 0xff } else { 0 };
    let mut le = [fill; SMALL_INT_BYTES];
    le[..bytes.len()].copy_from_slice(&bytes);
    Some(i64::from_le_bytes(le))
}
