//! Weights embedded in source code: large numeric arrays in text files, such as generated
//! `*_data.c` files (`const float w[] = { 0.1f, -4.5e-3f, … };`), hex byte arrays and Python
//! lists. Thresholds and languages come from `policy/embedded.toml`.
//!
//! The file is read byte by byte through a small state machine, so memory stays flat even for
//! a single line of many megabytes. Each line is classified as *numeric* (mostly number
//! literals), *neutral* (blank, comment only, or brackets and punctuation only) or *other*; an
//! array is a maximal run of numeric lines, tolerant of neutral lines inside it. Its reported
//! range also takes in the line that opens it (`… = {`, `np.array([`) and the closing brackets
//! right after it, so `lines` covers the whole array as a reader sees it.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};

use serde::Deserialize;

use super::Finding;
use super::finding::{Details, EmbeddedWeights};

/// `policy/embedded.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EmbeddedPolicy {
    pub min_numbers: u64,
    pub max_file_size: u64,
    pub numbers_per_word: u64,
    pub skip_extensions: Vec<String>,
    /// Language name → file extensions.
    pub languages: BTreeMap<String, Vec<String>>,
}

impl EmbeddedPolicy {
    /// The language of file `rel` by extension, `text` when unknown; `None` when the
    /// extension is one the policy skips.
    fn language(&self, rel: &str) -> Option<String> {
        let ext = extension(rel);
        if self.skip_extensions.contains(&ext) {
            return None;
        }
        Some(
            self.languages
                .iter()
                .find(|(_, exts)| exts.contains(&ext))
                .map_or_else(|| "text".to_string(), |(name, _)| name.clone()),
        )
    }
}

/// Lower-case extension of the last path component, empty when there is none.
fn extension(rel: &str) -> String {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// Finds the large numeric arrays in the text file `rel` (`size` bytes), read from `reader`
/// positioned at its start.
pub fn scan<R: Read>(
    policy: &EmbeddedPolicy,
    reader: R,
    rel: &str,
    size: u64,
) -> io::Result<Vec<Finding>> {
    if size > policy.max_file_size {
        return Ok(Vec::new());
    }
    let Some(language) = policy.language(rel) else {
        return Ok(Vec::new());
    };
    let mut lexer = Lexer::default();
    let mut runs = RunTracker::new(policy);
    let mut reader = BufReader::new(reader.take(policy.max_file_size));
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        for &byte in chunk {
            if let Some(line) = lexer.push(byte) {
                runs.line(line);
            }
        }
        let used = chunk.len();
        reader.consume(used);
    }
    if let Some(line) = lexer.finish() {
        runs.line(line);
    }
    Ok(runs
        .finish()
        .into_iter()
        .map(|array| {
            let reason = format!(
                "{} numbers in an array on lines {}-{} (threshold {})",
                array.numbers, array.first, array.last, policy.min_numbers
            );
            let details = Details::EmbeddedWeights(EmbeddedWeights {
                reason,
                lines: [array.first, array.last],
                numbers: array.numbers,
            });
            Finding::new(rel, language.clone(), size, details)
        })
        .collect())
}

/// What one line holds, outside comments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LineSummary {
    number: u64,
    numbers: u64,
    words: u64,
    /// Any bracket or punctuation outside comments.
    punctuation: bool,
    /// A closing bracket outside comments.
    closes: bool,
    /// The last significant character opens an array: `{`, `[`, `(` or `=`.
    opens: bool,
}

/// Longest token kept for classification; a longer one is a word whatever it holds.
const MAX_TOKEN: usize = 64;

#[derive(Debug, Default)]
struct Lexer {
    line: LineSummary,
    token: Vec<u8>,
    token_too_long: bool,
    in_line_comment: bool,
    in_block_comment: bool,
    /// The previous byte was `/` outside comments (a comment may start).
    slash: bool,
    /// The previous byte was `*` inside a block comment (it may end).
    star: bool,
}

impl Lexer {
    /// Feeds one byte; returns the summary of a line when `byte` ends it.
    fn push(&mut self, byte: u8) -> Option<LineSummary> {
        if byte == b'\n' {
            return Some(self.end_line());
        }
        if self.in_line_comment {
            return None;
        }
        if self.in_block_comment {
            if self.star && byte == b'/' {
                self.in_block_comment = false;
            }
            self.star = byte == b'*';
            return None;
        }
        if self.slash {
            self.slash = false;
            match byte {
                b'/' => {
                    self.in_line_comment = true;
                    return None;
                }
                b'*' => {
                    self.in_block_comment = true;
                    self.star = false;
                    return None;
                }
                _ => self.significant(b'/'),
            }
        }
        if is_token_byte(byte) || self.continues_exponent(byte) {
            if self.token.len() < MAX_TOKEN {
                self.token.push(byte);
            } else {
                self.token_too_long = true;
            }
            return None;
        }
        self.end_token();
        match byte {
            b'/' => self.slash = true,
            b'#' => self.in_line_comment = true,
            b' ' | b'\t' | b'\r' | b'\x0c' => {}
            other => self.significant(other),
        }
        None
    }

    /// `+`/`-` right after the `e` of `1.5e`, or the `p` of a hex float, belongs to the number.
    fn continues_exponent(&self, byte: u8) -> bool {
        if !matches!(byte, b'+' | b'-') || self.token_too_long {
            return false;
        }
        let Some(&last) = self.token.last() else {
            return false;
        };
        let starts_numeric = matches!(self.token.first(), Some(b'0'..=b'9' | b'.'));
        let hex = self.token.len() > 1 && matches!(self.token[1], b'x' | b'X');
        starts_numeric
            && if hex {
                matches!(last, b'p' | b'P')
            } else {
                matches!(last, b'e' | b'E')
            }
    }

    fn significant(&mut self, byte: u8) {
        self.line.punctuation = true;
        if matches!(byte, b'}' | b']' | b')') {
            self.line.closes = true;
        }
        self.line.opens = matches!(byte, b'{' | b'[' | b'(' | b'=');
    }

    fn end_token(&mut self) {
        if self.token.is_empty() {
            return;
        }
        if !self.token_too_long && is_number(&self.token) {
            self.line.numbers += 1;
        } else {
            self.line.words += 1;
        }
        self.line.opens = false;
        self.token.clear();
        self.token_too_long = false;
    }

    fn end_line(&mut self) -> LineSummary {
        if self.slash {
            self.slash = false;
            self.significant(b'/');
        }
        self.end_token();
        self.in_line_comment = false;
        let number = self.line.number + 1;
        let summary = LineSummary {
            number,
            ..self.line
        };
        self.line = LineSummary {
            number,
            ..LineSummary::default()
        };
        summary
    }

    /// The summary of a last line with no newline, if there is one.
    fn finish(&mut self) -> Option<LineSummary> {
        let pending = !self.token.is_empty()
            || self.slash
            || self.line.numbers > 0
            || self.line.words > 0
            || self.line.punctuation;
        pending.then(|| self.end_line())
    }
}

fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'.'
}

/// Whether `token` is a numeric literal of C, C++, Python, Rust, Go, Java or JavaScript:
/// decimal with optional fraction and exponent, hex (also hex floats), binary or octal, with
/// digit separators and type suffixes (`f`, `UL`, `f32`, `j`, …).
fn is_number(token: &[u8]) -> bool {
    let text = match std::str::from_utf8(token) {
        Ok(text) => text.replace('_', ""),
        Err(_) => return false,
    };
    let lower = text.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("0x") {
        let rest = strip_suffix(rest, true);
        let (mantissa, exponent) = match rest.split_once('p') {
            Some((m, e)) => (m, Some(e)),
            None => (rest, None),
        };
        let digits = mantissa.replacen('.', "", 1);
        return !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_hexdigit())
            && exponent.is_none_or(signed_digits);
    }
    if let Some(rest) = lower.strip_prefix("0b") {
        let rest = strip_suffix(rest, true);
        return !rest.is_empty() && rest.bytes().all(|b| b == b'0' || b == b'1');
    }
    if let Some(rest) = lower.strip_prefix("0o") {
        return !rest.is_empty() && rest.bytes().all(|b| (b'0'..=b'7').contains(&b));
    }
    let rest = strip_suffix(&lower, false);
    let (mantissa, exponent) = match rest.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (rest, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    (!whole.is_empty() || !fraction.is_empty())
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && exponent.is_none_or(signed_digits)
}

fn signed_digits(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Removes a type suffix from a lower-cased literal: Rust's `f32`, `u8`, `i64`, `usize`…, and
/// C/Java/Python letters (`f`, `l`, `u`, `d`, `j`). Hex literals keep `f` and `d` (digits).
fn strip_suffix(text: &str, hex: bool) -> &str {
    for rust in [
        "f32", "f64", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64",
        "u128", "usize",
    ] {
        if let Some(rest) = text.strip_suffix(rust)
            && !rest.is_empty()
        {
            return rest;
        }
    }
    let letters: &[char] = if hex {
        &['l', 'u']
    } else {
        &['f', 'l', 'u', 'd', 'j']
    };
    let stripped = text.trim_end_matches(letters);
    if stripped.is_empty() { text } else { stripped }
}

/// An array found: its line range and how many numbers it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Array {
    first: u64,
    last: u64,
    numbers: u64,
}

/// Groups line summaries into arrays.
struct RunTracker<'a> {
    policy: &'a EmbeddedPolicy,
    current: Option<Array>,
    /// The two lines before the current one, most recent first, to find an array's opening.
    previous: [Option<LineSummary>; 2],
    found: Vec<Array>,
}

impl<'a> RunTracker<'a> {
    fn new(policy: &'a EmbeddedPolicy) -> Self {
        Self {
            policy,
            current: None,
            previous: [None, None],
            found: Vec::new(),
        }
    }

    fn line(&mut self, line: LineSummary) {
        let numeric = line.numbers > 0
            && line.words.saturating_mul(self.policy.numbers_per_word) <= line.numbers;
        let neutral = line.numbers == 0 && line.words == 0;
        if numeric {
            match &mut self.current {
                Some(array) => {
                    array.last = line.number;
                    array.numbers = array.numbers.saturating_add(line.numbers);
                }
                None => {
                    self.current = Some(Array {
                        first: self.opening_line(line.number),
                        last: line.number,
                        numbers: line.numbers,
                    });
                }
            }
        } else if neutral {
            // Closing brackets right after the array are part of it; anything else neutral
            // (blank lines, comments, an opening `{` of the next row) is tolerated.
            if let Some(array) = &mut self.current
                && line.closes
                && array.last + 1 == line.number
            {
                array.last = line.number;
            }
        } else {
            self.close();
        }
        self.previous = [Some(line), self.previous[0]];
    }

    /// The line that opens an array whose first numbers are on line `first`: the line before
    /// when it ends with `{`, `[`, `(` or `=`, or the one before that when a lone bracket sits
    /// between (`static const float w[] =` / `{` / numbers).
    fn opening_line(&self, first: u64) -> u64 {
        match self.previous {
            [Some(prev), before] if prev.number + 1 == first && prev.opens => match before {
                Some(before) if prev.words == 0 && before.opens => before.number,
                _ => prev.number,
            },
            _ => first,
        }
    }

    fn close(&mut self) {
        if let Some(array) = self.current.take()
            && array.numbers >= self.policy.min_numbers
        {
            self.found.push(array);
        }
    }

    fn finish(mut self) -> Vec<Array> {
        self.close();
        self.found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_many_languages() {
        for yes in [
            "0", "12", "0.5", ".5", "1.", "1e-3", "4.5E+2f", "0x3f", "0X80u", "0x1.8p3", "0b101",
            "1_000", "2.0f32", "7u8", "3L", "1.5j", "0o17", "255UL",
        ] {
            assert!(is_number(yes.as_bytes()), "{yes}");
        }
        for no in [
            "e5", "x", "0x", "float", "np.array", "1e", "1.2.3", "f", "0xg1", ".",
        ] {
            assert!(!is_number(no.as_bytes()), "{no}");
        }
    }

    fn lines(text: &str) -> Vec<LineSummary> {
        let mut lexer = Lexer::default();
        let mut out: Vec<LineSummary> = text.bytes().filter_map(|b| lexer.push(b)).collect();
        out.extend(lexer.finish());
        out
    }

    #[test]
    fn lexer_counts_numbers_outside_comments() {
        let got = lines("  0.1f, -4.5e-3f, 0x3f, /* 9, 9 */ 2 // 7 8\n/* a\n 1, 2 */ 3,\n}; ");
        assert_eq!((got[0].numbers, got[0].words), (4, 0));
        assert_eq!((got[1].numbers, got[1].words), (0, 0));
        assert_eq!((got[2].numbers, got[2].words), (1, 0));
        assert!(got[3].closes && got[3].numbers == 0);
        assert_eq!(got.len(), 4);
    }
}
