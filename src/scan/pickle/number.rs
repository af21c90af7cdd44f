//! The numbers of protocol 0's text opcodes (INT, LONG, FLOAT, and the memo keys of GET and PUT),
//! read exactly as CPython's two unpicklers read them, so that the walk accepts and rejects the
//! same lines they do.
//!
//! `Lib/pickle.py` calls `int(text, 0)` for INT and LONG, `int(text)` for memo keys and
//! `float(text)` for FLOAT: surrounding whitespace, a sign, `0x`/`0o`/`0b` prefixes (base 0) and
//! single underscores between digits are all accepted. `Modules/_pickle.c` calls C's
//! `strtol(text, 0)` for INT and falls back to `PyLong_FromString` (the same rules as `int()`)
//! when `strtol` does not consume the whole line; for FLOAT it calls `PyOS_string_to_double`,
//! which takes neither whitespace nor underscores. Where the two disagree (INT `017` is 15 in C
//! and an error in Python; FLOAT ` 1.0` the other way round), the stream is one thing to one
//! loader and another to the other, which the verdict reports.

/// Decimal digits CPython's `int()` converts (`sys.get_int_max_str_digits()` default).
const MAX_DECIMAL_DIGITS: usize = 4300;

/// How a number line reads.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Number {
    /// Both loaders accept it alike; the value when it fits an `i64` (always `None` for FLOAT).
    Agreed(Option<i64>),
    /// One loader accepts it and the other does not, or they read different values.
    Disputed(&'static str),
    /// Neither accepts it.
    Invalid,
}

/// Whitespace as CPython's `Py_ISSPACE` and C's `isspace` (C locale) see it.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn trim(text: &[u8]) -> &[u8] {
    let start = text
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(text.len());
    let end = text
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(start, |i| i + 1);
    &text[start..end.max(start)]
}

fn split_sign(text: &[u8]) -> (bool, &[u8]) {
    match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    }
}

/// CPython's `int(text, 0)` (`any_base`) or `int(text)`: `Err` when it raises, `Ok(None)` when
/// the value does not fit an `i64`.
pub(super) fn python_int(text: &[u8], any_base: bool) -> Result<Option<i64>, ()> {
    let (negative, body) = split_sign(trim(text));
    let prefix = |c: u8| match c.to_ascii_lowercase() {
        b'x' => Some(16),
        b'o' => Some(8),
        b'b' => Some(2),
        _ => None,
    };
    let (radix, digits, prefixed) = match body {
        [b'0', c, rest @ ..] if any_base && prefix(*c).is_some() => {
            (prefix(*c).unwrap_or(10), rest, true)
        }
        _ => (10, body, false),
    };
    // After a prefix an underscore may come first; otherwise only between digits.
    let mut after_digit = prefixed;
    let mut count = 0usize;
    let mut nonzero = false;
    let mut value: Option<i64> = Some(0);
    for &b in digits {
        if b == b'_' {
            if !after_digit {
                return Err(());
            }
            after_digit = false;
            continue;
        }
        let digit = char::from(b).to_digit(radix).ok_or(())?;
        count += 1;
        after_digit = true;
        nonzero |= digit != 0;
        value = value
            .and_then(|v| v.checked_mul(i64::from(radix)))
            .and_then(|v| v.checked_add(i64::from(digit)));
    }
    if count == 0 || !after_digit || (radix == 10 && count > MAX_DECIMAL_DIGITS) {
        return Err(());
    }
    // Base 0: a decimal with a leading zero must be all zeros.
    if any_base && !prefixed && digits.first() == Some(&b'0') && nonzero {
        return Err(());
    }
    Ok(if negative {
        value.and_then(i64::checked_neg)
    } else {
        value
    })
}

/// INT's line (without its newline), as both loaders read it.
pub(super) fn int_line(line: &[u8]) -> Number {
    let python = python_int(line, true);
    // `_pickle.c`: `strtol(s, &end, 0)`, kept only when it consumes the whole line and does
    // not overflow; otherwise the `int()` rules. Only its octal reading can then differ.
    let c_octal = {
        let start = line
            .iter()
            .position(|&b| !is_space(b))
            .unwrap_or(line.len());
        let (_, body) = split_sign(&line[start..]);
        match body {
            [b'0', rest @ ..]
                if !rest.is_empty() && rest.iter().all(|b| (b'0'..=b'7').contains(b)) =>
            {
                let value = rest.iter().try_fold(0i64, |v, &b| {
                    v.checked_mul(8)?.checked_add(i64::from(b - b'0'))
                });
                value.filter(|&v| v != 0)
            }
            _ => None,
        }
    };
    match (c_octal, python) {
        (Some(_), _) => Number::Disputed(
            "a leading-zero integer, octal to the C unpickler and an error to pickle.py",
        ),
        (None, Ok(value)) => Number::Agreed(value),
        (None, Err(())) => Number::Invalid,
    }
}

/// LONG's line (without its newline): one trailing `L` is dropped, then `int(text, 0)` in both.
pub(super) fn long_line(line: &[u8]) -> Number {
    let text = line.strip_suffix(b"L").unwrap_or(line);
    match python_int(text, true) {
        Ok(value) => Number::Agreed(value),
        Err(()) => Number::Invalid,
    }
}

/// A memo key's line (without its newline): `int(text)`, non-negative.
pub(super) fn key_line(line: &[u8]) -> Option<u64> {
    python_int(line, false)
        .ok()
        .flatten()
        .and_then(|n| u64::try_from(n).ok())
}

/// FLOAT's line (without its newline).
pub(super) fn float_line(line: &[u8]) -> Number {
    let python = python_float(line);
    // `PyOS_string_to_double` with the end at the line's end: no whitespace, no underscores.
    let c = python && !line.iter().any(|&b| is_space(b) || b == b'_');
    match (python, c) {
        (true, true) => Number::Agreed(None),
        (false, false) => Number::Invalid,
        _ => Number::Disputed("a float that only one of CPython's unpicklers accepts"),
    }
}

/// CPython's `float(text)`.
fn python_float(text: &[u8]) -> bool {
    let (_, body) = split_sign(trim(text));
    let lower = body.to_ascii_lowercase();
    if matches!(&lower[..], b"inf" | b"infinity" | b"nan") {
        return true;
    }
    // digits [. digits] [e [sign] digits], underscores only between digits.
    let mut rest = body;
    let whole = float_digits(&mut rest);
    let mut fraction = 0;
    if let [b'.', tail @ ..] = rest {
        rest = tail;
        fraction = float_digits(&mut rest);
    }
    if whole + fraction == 0 {
        return false;
    }
    if let [b'e' | b'E', tail @ ..] = rest {
        let (_, tail) = split_sign(tail);
        rest = tail;
        if float_digits(&mut rest) == 0 {
            return false;
        }
    }
    rest.is_empty()
}

/// Consumes decimal digits with single underscores between them; returns how many digits.
fn float_digits(rest: &mut &[u8]) -> usize {
    let mut count = 0;
    let mut after_digit = false;
    while let Some(&b) = rest.first() {
        if b.is_ascii_digit() {
            count += 1;
            after_digit = true;
        } else if b == b'_' && after_digit && rest.get(1).is_some_and(u8::is_ascii_digit) {
            after_digit = false;
        } else {
            break;
        }
        *rest = &rest[1..];
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_as_cpython_reads_it() {
        assert_eq!(int_line(b"\t1"), Number::Agreed(Some(1)));
        assert_eq!(int_line(b"1\r"), Number::Agreed(Some(1)));
        assert_eq!(int_line(b"1_0"), Number::Agreed(Some(10)));
        assert_eq!(int_line(b"0x1f"), Number::Agreed(Some(31)));
        assert_eq!(int_line(b"00"), Number::Agreed(Some(0)));
        assert_eq!(int_line(b"-5"), Number::Agreed(Some(-5)));
        assert_eq!(int_line(b"99999999999999999999"), Number::Agreed(None));
        assert!(matches!(int_line(b"017"), Number::Disputed(_)));
        assert_eq!(int_line(b"\x1c1"), Number::Invalid);
        assert_eq!(int_line(b" 0_1"), Number::Invalid);
        assert_eq!(int_line(b"1__0"), Number::Invalid);
        assert_eq!(int_line(b"_1"), Number::Invalid);
        assert_eq!(int_line(b""), Number::Invalid);
        assert_eq!(int_line(b"08"), Number::Invalid);
    }

    #[test]
    fn long_and_keys_as_cpython_read_them() {
        assert_eq!(long_line(b"\t1L"), Number::Agreed(Some(1)));
        assert_eq!(long_line(b"L"), Number::Invalid);
        assert_eq!(long_line(b"1L\r"), Number::Invalid);
        assert_eq!(key_line(b"1_0"), Some(10));
        assert_eq!(key_line(b" 7 "), Some(7));
        assert_eq!(key_line(b"0x1"), None);
        assert_eq!(key_line(b"-1"), None);
    }

    #[test]
    fn float_as_cpython_reads_it() {
        assert_eq!(float_line(b"1.5e-3"), Number::Agreed(None));
        assert_eq!(float_line(b"-inf"), Number::Agreed(None));
        assert!(matches!(float_line(b" 1.0"), Number::Disputed(_)));
        assert!(matches!(float_line(b"1_0"), Number::Disputed(_)));
        assert_eq!(float_line(b"1e"), Number::Invalid);
        assert_eq!(float_line(b"."), Number::Invalid);
    }
}
