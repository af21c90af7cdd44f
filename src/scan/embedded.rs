//! Weights embedded in source code: numeric arrays in text files, such as generated `*_data.c`
//! files (`static const opus_int8 layer0_weights[800] = { -10, 0, -3, … };`), hex byte arrays
//! and Python lists. Thresholds and word lists come from `policy/embedded.toml`.
//!
//! The file is read byte by byte through a small state machine, so memory stays flat even for
//! a single line of many megabytes. Each line is classified as *numeric* (mostly number
//! literals), *neutral* (blank, comment only, or brackets and punctuation only) or *other*; an
//! array is a maximal run of numeric lines, tolerant of neutral lines inside it. Its reported
//! range also takes in the line that opens it (`… = {`, `np.array([`) and the closing brackets
//! right after it, so `lines` covers the whole array as a reader sees it.
//!
//! Whether a file holds weights is decided per file from the evidence, not from one array's
//! length: each array's values are summarised on the fly (`ValueStats`: sign changes, mean
//! against spread, roughness, direction changes, repeats; no number is stored), so an array
//! looks like trained weights (noise around zero), like a table (smooth, monotonic,
//! repetitive, or named like one) or like ids and counts (no negative values). The file is
//! reported when the weight-like arrays add up to `min-numbers`, or to the lower
//! `min-numbers-with-evidence` when a generator comment or an array's name says it is a model.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use serde::Deserialize;

mod prefilter;

pub(crate) use prefilter::assert_bound_holds as assert_prefilter_bound;

use super::Finding;
use super::finding::{Details, EmbeddedWeights};

/// `policy/embedded.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EmbeddedPolicy {
    pub min_numbers: u64,
    pub min_numbers_with_evidence: u64,
    pub byte_dump_share: f64,
    pub max_file_size: u64,
    pub numbers_per_word: u64,
    pub generator_lines: u64,
    pub generator_phrases: Vec<String>,
    pub weight_words: Vec<String>,
    pub non_weight_words: Vec<String>,
    pub skip_extensions: Vec<String>,
    pub statistics: StatisticsPolicy,
    /// Language name → file extensions.
    pub languages: BTreeMap<String, Vec<String>>,
}

/// `[statistics]` of `policy/embedded.toml`: what trained weights look like.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StatisticsPolicy {
    pub min_array_numbers: u64,
    pub min_roughness: f64,
    pub min_direction_changes: f64,
    pub max_repeats: f64,
    pub min_negative_share: f64,
    pub max_negative_share: f64,
    pub max_mean_to_spread: f64,
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

    /// Whether the text of `size` bytes read from `reader` (positioned at its start) may hold
    /// enough numbers for any verdict: the fewest a finding needs (`min-numbers-with-evidence`
    /// or `min-numbers`, whichever is lower) against the bounds of `prefilter`, from the
    /// cheaper to the tighter. A text below them cannot be reported whatever its words and
    /// comments say. At most `max-file-size` bytes are read, as the lexer reads; the reader is
    /// left anywhere.
    pub fn may_hold_weights<R: Read + Seek>(&self, mut reader: R, size: u64) -> io::Result<bool> {
        let needed = self.min_numbers_with_evidence.min(self.min_numbers);
        let buffer = &mut prefilter::read_buffer(size);
        let start = reader.stream_position()?;
        let text = (&mut reader).take(self.max_file_size);
        if !prefilter::enough_number_starts(text, needed, buffer)? {
            return Ok(false);
        }
        reader.seek(SeekFrom::Start(start))?;
        let text = reader.take(self.max_file_size);
        prefilter::enough_numeric_line_numbers(text, needed, self.numbers_per_word, buffer)
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

/// Finds the weights embedded in the text file `rel` (`size` bytes), read from `reader`
/// positioned at its start: at most one finding, for the whole file.
pub fn scan<R: Read + Seek>(
    policy: &EmbeddedPolicy,
    mut reader: R,
    rel: &str,
    size: u64,
) -> io::Result<Vec<Finding>> {
    if size > policy.max_file_size {
        return Ok(Vec::new());
    }
    let Some(language) = policy.language(rel) else {
        return Ok(Vec::new());
    };
    let start = reader.stream_position()?;
    if !policy.may_hold_weights(&mut reader, size)? {
        return Ok(Vec::new());
    }
    reader.seek(SeekFrom::Start(start))?;
    let mut lexer = Lexer::new(policy.generator_lines);
    let mut runs = RunTracker::new(policy);
    let mut reader = BufReader::new(reader.take(policy.max_file_size));
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        let mut at = 0;
        while at < chunk.len() {
            at += lexer.skip_comment(&chunk[at..]);
            at += lexer.take_token_run(&chunk[at..]);
            let Some(&byte) = chunk.get(at) else {
                break;
            };
            at += 1;
            if let Some(line) = lexer.push(byte) {
                runs.line(line);
                lexer.continue_from(runs.tail());
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
        .map(|verdict| {
            let details = Details::EmbeddedWeights(EmbeddedWeights {
                reason: verdict.reason,
                lines: verdict.lines,
                numbers: verdict.numbers,
            });
            Finding::new(rel, language.clone(), size, details)
        })
        .collect())
}

/// What one line holds, outside comments.
#[derive(Debug, Clone, Default)]
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
    /// The first identifiers of the line (at most `MAX_LINE_IDENTIFIERS`), to name arrays.
    identifiers: Vec<String>,
    /// The values of the line's numbers, continuing the statistics of the array before it.
    values: ValueStats,
    /// The line's text, lower-case and cut at `MAX_HEADER_LINE` bytes, for the first
    /// `generator-lines` lines only (generator comments).
    header: Option<String>,
}

/// Longest token kept for classification; a longer one is a word whatever it holds.
const MAX_TOKEN: usize = 64;
/// Identifiers kept per line.
const MAX_LINE_IDENTIFIERS: usize = 8;
/// Bytes of a header line kept to look for generator phrases.
const MAX_HEADER_LINE: usize = 256;

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
    /// A `-` stands right before the current token: the number it starts is negative.
    minus: bool,
    /// Lines whose text is kept for generator phrases.
    header_lines: u64,
    header: Vec<u8>,
}

impl Lexer {
    fn new(header_lines: u64) -> Self {
        Self {
            header_lines,
            ..Self::default()
        }
    }

    /// Feeds one byte; returns the summary of a line when `byte` ends it.
    fn push(&mut self, byte: u8) -> Option<LineSummary> {
        if byte == b'\n' {
            return Some(self.end_line());
        }
        if self.line.number < self.header_lines && self.header.len() < MAX_HEADER_LINE {
            self.header.push(byte.to_ascii_lowercase());
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

    /// How many bytes at the start of `rest` leave the lexer as it is, to be passed over
    /// without `push`: the inside of a comment up to the next newline (and, in a block
    /// comment, the next `*`), once past the lines kept for generator phrases. `push` would
    /// only have cleared `star`, which is clear already when anything is skipped.
    fn skip_comment(&self, rest: &[u8]) -> usize {
        if self.line.number < self.header_lines {
            return 0;
        }
        let end = if self.in_line_comment {
            memchr::memchr(b'\n', rest)
        } else if self.in_block_comment && !self.star {
            memchr::memchr2(b'\n', b'*', rest)
        } else {
            return 0;
        };
        end.unwrap_or(rest.len())
    }

    /// How many bytes at the start of `rest` continue the current token, taken in one step:
    /// the run of token bytes there, outside comments and once past the lines kept for
    /// generator phrases. `push` would append each of them to the token (or, past
    /// `MAX_TOKEN`, mark it too long) and do nothing else; a pending `/` is left to `push`.
    fn take_token_run(&mut self, rest: &[u8]) -> usize {
        if self.line.number < self.header_lines
            || self.in_line_comment
            || self.in_block_comment
            || self.slash
        {
            return 0;
        }
        let run = rest
            .iter()
            .position(|&byte| !is_token_byte(byte))
            .unwrap_or(rest.len());
        let kept = run.min(MAX_TOKEN.saturating_sub(self.token.len()));
        self.token.extend_from_slice(&rest[..kept]);
        if kept < run {
            self.token_too_long = true;
        }
        run
    }

    /// Starts the next line's statistics from the end of the array it may continue.
    fn continue_from(&mut self, tail: Tail) {
        self.line.values = ValueStats::after(tail);
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
        self.minus = byte == b'-';
    }

    fn end_token(&mut self) {
        if self.token.is_empty() {
            return;
        }
        // The common shapes decided without the general parse, with the same results: a
        // token led by a letter is never a number (see `is_number`), and a run of at most 19
        // digits is a decimal integer whose value `u64` holds exactly (its conversion to
        // `f64` rounds as the parse of the text does).
        let led_by_letter = self.token[0].is_ascii_alphabetic();
        let plain_integer = self.token.len() <= 19 && self.token.iter().all(|b| b.is_ascii_digit());
        if plain_integer && !self.token_too_long {
            self.line.numbers += 1;
            let value = self
                .token
                .iter()
                .fold(0u64, |value, &digit| value * 10 + u64::from(digit - b'0'))
                as f64;
            self.line
                .values
                .push(Some(if self.minus { -value } else { value }), false);
        } else if !led_by_letter && !self.token_too_long && is_number(&self.token) {
            self.line.numbers += 1;
            let value = number_value(&self.token).map(|v| if self.minus { -v } else { v });
            self.line.values.push(value, is_byte_literal(&self.token));
        } else {
            self.line.words += 1;
            if self.line.identifiers.len() < MAX_LINE_IDENTIFIERS
                && let Ok(word) = std::str::from_utf8(&self.token)
            {
                self.line.identifiers.push(word.to_string());
            }
        }
        self.minus = false;
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
        self.minus = false;
        let number = self.line.number + 1;
        if self.line.number < self.header_lines {
            self.line.header = Some(String::from_utf8_lossy(&self.header).into_owned());
            self.header.clear();
        }
        let summary = LineSummary {
            number,
            ..std::mem::take(&mut self.line)
        };
        self.line.number = number;
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
    let Some(lower) = normalized(token) else {
        return false;
    };
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

/// `token` lower-case without digit separators, borrowed when it already is (most literals
/// are: this runs for every token of every text file).
fn normalized(token: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    let text = std::str::from_utf8(token).ok()?;
    if text.bytes().any(|b| b == b'_' || b.is_ascii_uppercase()) {
        Some(std::borrow::Cow::Owned(
            text.replace('_', "").to_ascii_lowercase(),
        ))
    } else {
        Some(std::borrow::Cow::Borrowed(text))
    }
}

/// The value of a numeric literal accepted by `is_number`, as a float: decimal, hex, binary
/// and octal integers and decimal floats. Hex floats, rare in generated weights, give `None`
/// and are counted without statistics.
fn number_value(token: &[u8]) -> Option<f64> {
    let lower = normalized(token)?;
    let radix = |rest: &str, radix: u32| -> Option<f64> {
        let digits = strip_suffix(rest, radix == 16);
        u64::from_str_radix(digits, radix).ok().map(|v| v as f64)
    };
    if let Some(rest) = lower.strip_prefix("0x") {
        return radix(rest, 16);
    }
    if let Some(rest) = lower.strip_prefix("0b") {
        return radix(rest, 2);
    }
    if let Some(rest) = lower.strip_prefix("0o") {
        return radix(rest, 8);
    }
    strip_suffix(&lower, false).parse::<f64>().ok()
}

/// A two-digit hex literal, `0x00` to `0xff`: one byte of an `xxd -i` style dump.
fn is_byte_literal(token: &[u8]) -> bool {
    token.len() == 4 && token[0] == b'0' && matches!(token[1], b'x' | b'X')
}

/// The last values of an array, carried from one line to the next so that differences across
/// line breaks are counted.
#[derive(Debug, Clone, Copy, Default)]
struct Tail {
    /// Most recent first.
    last: [f64; 4],
    len: u8,
    /// Sign of the last non-zero value (-1, 1; 0 before any).
    sign: i8,
    /// Direction of the last non-zero step (-1, 1; 0 before any).
    direction: i8,
}

/// Online statistics of a run of numbers: sums only, so merging two runs is adding them.
#[derive(Debug, Clone, Default)]
struct ValueStats {
    tail: Tail,
    /// Numbers with a value (`count` below counts them all).
    valued: u64,
    sum: f64,
    sum_squares: f64,
    negative: u64,
    sign_changes: u64,
    /// Non-zero steps, and how many of them turn back.
    steps: u64,
    direction_changes: u64,
    repeats: u64,
    /// Sums of |first differences| and |second differences| at lag 1 and lag 2.
    steps_sum: [f64; 2],
    bends_sum: [f64; 2],
    byte_literals: u64,
}

impl ValueStats {
    /// Statistics of numbers that follow `tail`.
    fn after(tail: Tail) -> Self {
        Self {
            tail,
            ..Self::default()
        }
    }

    fn push(&mut self, value: Option<f64>, byte_literal: bool) {
        self.byte_literals += u64::from(byte_literal);
        let Some(value) = value.filter(|v| v.is_finite()) else {
            return;
        };
        self.valued += 1;
        self.sum += value;
        self.sum_squares += value * value;
        let sign = sign_of(value);
        if value < 0.0 {
            self.negative += 1;
        }
        let tail = &mut self.tail;
        if sign != 0 {
            if tail.sign != 0 && tail.sign != sign {
                self.sign_changes += 1;
            }
            tail.sign = sign;
        }
        if tail.len >= 1 {
            let direction = sign_of(value - tail.last[0]);
            if direction == 0 {
                self.repeats += 1;
            } else {
                if tail.direction != 0 && tail.direction != direction {
                    self.direction_changes += 1;
                }
                self.steps += 1;
                tail.direction = direction;
            }
        }
        // Second differences are summed only where the first difference of the same lag
        // is too, so the two sums cover the same pairs once the array is long.
        if tail.len >= 2 {
            self.steps_sum[0] += (value - tail.last[0]).abs();
            self.bends_sum[0] += (value - 2.0 * tail.last[0] + tail.last[1]).abs();
        }
        if tail.len >= 4 {
            self.steps_sum[1] += (value - tail.last[1]).abs();
            self.bends_sum[1] += (value - 2.0 * tail.last[1] + tail.last[3]).abs();
        }
        tail.last = [value, tail.last[0], tail.last[1], tail.last[2]];
        tail.len = (tail.len + 1).min(4);
    }

    /// Adds the statistics of the numbers that came right after these.
    fn extend(&mut self, next: &ValueStats) {
        self.tail = next.tail;
        self.valued += next.valued;
        self.sum += next.sum;
        self.sum_squares += next.sum_squares;
        self.negative += next.negative;
        self.sign_changes += next.sign_changes;
        self.steps += next.steps;
        self.direction_changes += next.direction_changes;
        self.repeats += next.repeats;
        for lag in 0..2 {
            self.steps_sum[lag] += next.steps_sum[lag];
            self.bends_sum[lag] += next.bends_sum[lag];
        }
        self.byte_literals += next.byte_literals;
    }

    fn mean(&self) -> f64 {
        self.sum / self.valued.max(1) as f64
    }

    fn spread(&self) -> f64 {
        let n = self.valued.max(1) as f64;
        let mean = self.mean();
        (self.sum_squares / n - mean * mean).max(0.0).sqrt()
    }

    /// How much the values bend against how much they move: mean |second difference| over
    /// mean |first difference|, the smaller of lags 1 and 2 (lag 2 for interleaved pairs).
    /// About 1.73 for independent noise, h for a sine sampled every h radians, 0 for a ramp;
    /// an outlier raises both sums alike, so it cannot make a table look rough or noise smooth.
    fn roughness(&self) -> f64 {
        (0..2)
            .filter(|&lag| self.steps_sum[lag] > 0.0)
            .map(|lag| self.bends_sum[lag] / self.steps_sum[lag])
            .fold(f64::INFINITY, f64::min)
    }

    fn share(part: u64, whole: u64) -> f64 {
        part as f64 / whole.max(1) as f64
    }
}

fn sign_of(value: f64) -> i8 {
    if value > 0.0 {
        1
    } else if value < 0.0 {
        -1
    } else {
        0
    }
}

/// What an array's values look like.
#[derive(Debug, Clone)]
enum Looks {
    /// Noise around zero, as trained weights do.
    Weights,
    /// Neither a table nor centred on zero (ids, counts, unsigned data, no negative values):
    /// weights only when the file or the array's name says so.
    Plain,
    /// A table: smooth, monotonic, repetitive, constant, or named like one.
    Table(String),
    /// An `xxd -i` style byte dump: opaque bytes.
    Bytes,
    /// Too short to judge.
    Short,
}

/// An array found: its line range, how many numbers it holds, its name and statistics.
#[derive(Debug, Clone)]
struct Array {
    first: u64,
    last: u64,
    numbers: u64,
    /// Identifiers of the lines that open the array and of its first line.
    identifiers: Vec<String>,
    values: ValueStats,
}

/// Groups line summaries into arrays, and arrays into the file's verdict.
struct RunTracker<'a> {
    policy: &'a EmbeddedPolicy,
    current: Option<Array>,
    /// The two lines before the current one, most recent first, to find an array's opening.
    previous: [Option<LineSummary>; 2],
    /// What the arrays closed so far add up to: nothing per array is kept, so a file of a
    /// million small arrays takes no more memory than one of a single array.
    weights: Tally,
    /// Arrays neither table nor noise, not named as weights: counted with a generator comment.
    plain: Tally,
    bytes: Tally,
    tables: u64,
    /// Why the first table was left out (its name and the reason).
    first_table: Option<String>,
    /// The first `MAX_NAMES` names of weight-named arrays counted, and how many there were.
    names: Vec<String>,
    named_arrays: u64,
    /// The first generator phrase seen in the file's first lines.
    generator: Option<String>,
}

/// Names of weight arrays shown in a finding's reason.
const MAX_NAMES: usize = 3;

/// The file's verdict: one finding.
struct Verdict {
    lines: [u64; 2],
    numbers: u64,
    reason: String,
}

impl<'a> RunTracker<'a> {
    fn new(policy: &'a EmbeddedPolicy) -> Self {
        Self {
            policy,
            current: None,
            previous: [None, None],
            weights: Tally::default(),
            plain: Tally::default(),
            bytes: Tally::default(),
            tables: 0,
            first_table: None,
            names: Vec::new(),
            named_arrays: 0,
            generator: None,
        }
    }

    /// Where the next line's numbers continue from: the open array's last values.
    fn tail(&self) -> Tail {
        self.current
            .as_ref()
            .map(|array| array.values.tail)
            .unwrap_or_default()
    }

    fn line(&mut self, mut line: LineSummary) {
        if self.generator.is_none()
            && let Some(text) = &line.header
        {
            self.generator = self
                .policy
                .generator_phrases
                .iter()
                .find(|phrase| text.contains(phrase.as_str()))
                .cloned();
        }
        let numeric = line.numbers > 0
            && line.words.saturating_mul(self.policy.numbers_per_word) <= line.numbers;
        let neutral = line.numbers == 0 && line.words == 0;
        if numeric {
            match &mut self.current {
                Some(array) => {
                    array.last = line.number;
                    array.numbers = array.numbers.saturating_add(line.numbers);
                    array.values.extend(&line.values);
                }
                None => {
                    let (first, mut identifiers) = self.opening(line.number);
                    identifiers.append(&mut line.identifiers);
                    self.current = Some(Array {
                        first,
                        last: line.number,
                        numbers: line.numbers,
                        identifiers,
                        values: line.values.clone(),
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
        line.values = ValueStats::default();
        line.header = None;
        let before = self.previous[0].take();
        self.previous = [Some(line), before];
    }

    /// The line that opens an array whose first numbers are on line `first`, and the
    /// identifiers of the opening lines: the line before when it ends with `{`, `[`, `(` or
    /// `=`, or the one before that too when a lone bracket sits between
    /// (`static const float w[] =` / `{` / numbers).
    fn opening(&self, first: u64) -> (u64, Vec<String>) {
        match &self.previous {
            [Some(prev), before] if prev.number + 1 == first && prev.opens => match before {
                Some(before) if prev.words == 0 && before.opens => {
                    (before.number, before.identifiers.clone())
                }
                _ => (prev.number, prev.identifiers.clone()),
            },
            _ => (first, Vec::new()),
        }
    }

    fn close(&mut self) {
        if let Some(array) = self.current.take() {
            let name = Self::named(&array.identifiers, &self.policy.weight_words).cloned();
            let counted = match self.looks(&array) {
                Looks::Weights => true,
                Looks::Plain => {
                    if name.is_none() {
                        self.plain.add(&array);
                    }
                    name.is_some()
                }
                Looks::Bytes => {
                    self.bytes.add(&array);
                    false
                }
                Looks::Table(why) => {
                    self.tables += 1;
                    if self.first_table.is_none() {
                        self.first_table = Some(match array.identifiers.last() {
                            Some(shown) => format!("{shown}, {why}"),
                            None => why,
                        });
                    }
                    false
                }
                Looks::Short => false,
            };
            if counted {
                self.weights.add(&array);
                if let Some(name) = name {
                    self.named_arrays += 1;
                    if self.names.len() < MAX_NAMES {
                        self.names.push(name);
                    }
                }
            }
        }
    }

    /// The last identifier of the array (its name, after any type) with a part in `words`.
    fn named<'b>(identifiers: &'b [String], words: &[String]) -> Option<&'b String> {
        identifiers
            .iter()
            .rev()
            .find(|identifier| identifier_parts(identifier).any(|part| words.contains(&part)))
    }

    fn looks(&self, array: &Array) -> Looks {
        let policy = self.policy;
        let stats = &policy.statistics;
        let values = &array.values;
        if ValueStats::share(values.byte_literals, array.numbers) >= policy.byte_dump_share {
            return Looks::Bytes;
        }
        if values.valued < stats.min_array_numbers {
            return Looks::Short;
        }
        let weight_named = Self::named(&array.identifiers, &policy.weight_words).is_some();
        if !weight_named
            && let Some(name) = Self::named(&array.identifiers, &policy.non_weight_words)
        {
            return Looks::Table(format!("named as no weights are ({name})"));
        }
        let spread = values.spread();
        if spread == 0.0 {
            return Looks::Table("constant".into());
        }
        let repeats = ValueStats::share(values.repeats, values.valued - 1);
        if repeats > stats.max_repeats {
            return Looks::Table(format!("repetitive ({:.0}% repeats)", repeats * 100.0));
        }
        let roughness = values.roughness();
        if roughness < stats.min_roughness {
            return Looks::Table(format!("smooth (roughness {roughness:.2})"));
        }
        let turns = ValueStats::share(values.direction_changes, values.steps.saturating_sub(1));
        if turns < stats.min_direction_changes {
            return Looks::Table(format!("monotonic ({:.0}% turns)", turns * 100.0));
        }
        let negative = ValueStats::share(values.negative, values.valued);
        let centred = values.mean().abs() <= stats.max_mean_to_spread * spread;
        if (stats.min_negative_share..=stats.max_negative_share).contains(&negative) && centred {
            Looks::Weights
        } else {
            Looks::Plain
        }
    }

    /// The file's verdict from its arrays.
    fn finish(mut self) -> Option<Verdict> {
        self.close();
        let policy = self.policy;
        let mut weights = self.weights;
        // Arrays that are neither tables nor noise count when a generator comment says the
        // file holds a model (the comment may come after an array in the first lines).
        if self.generator.is_some() {
            weights.merge(&self.plain);
        }
        let evidence = self.generator.is_some() || !self.names.is_empty();
        let threshold = if evidence {
            policy.min_numbers_with_evidence
        } else {
            policy.min_numbers
        };
        if weights.arrays > 0 && weights.numbers >= threshold {
            let mut reason = format!(
                "{} numbers in {} array{} that look{} like trained weights",
                weights.numbers,
                weights.arrays,
                plural(weights.arrays),
                if weights.arrays == 1 { "s" } else { "" }
            );
            let mut because = Vec::new();
            if let Some(phrase) = &self.generator {
                because.push(format!("generator comment \"{phrase}\""));
            }
            if !self.names.is_empty() {
                let more = if self.named_arrays > self.names.len() as u64 {
                    ", …"
                } else {
                    ""
                };
                because.push(format!("named {}{more}", self.names.join(", ")));
            }
            if let Some(first) = &self.first_table {
                because.push(format!(
                    "{} table{} left out, the first {first}",
                    self.tables,
                    plural(self.tables)
                ));
            }
            because.push(format!("threshold {threshold}"));
            reason.push_str(&format!(" ({})", because.join("; ")));
            return Some(Verdict {
                lines: weights.lines,
                numbers: weights.numbers,
                reason,
            });
        }
        // Opaque byte dumps are judged by size alone, as blobs are.
        let dumps = self.bytes;
        (dumps.arrays > 0 && dumps.numbers >= policy.min_numbers).then(|| Verdict {
            lines: dumps.lines,
            numbers: dumps.numbers,
            reason: format!(
                "{} bytes in {} hex byte array{} (threshold {})",
                dumps.numbers,
                dumps.arrays,
                plural(dumps.arrays),
                policy.min_numbers
            ),
        })
    }
}

/// Arrays of one sort added up: how many, their numbers, and the lines they span.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    arrays: u64,
    numbers: u64,
    lines: [u64; 2],
}

impl Tally {
    fn add(&mut self, array: &Array) {
        self.merge(&Tally {
            arrays: 1,
            numbers: array.numbers,
            lines: [array.first, array.last],
        });
    }

    fn merge(&mut self, other: &Tally) {
        if other.arrays == 0 {
            return;
        }
        self.lines = if self.arrays == 0 {
            other.lines
        } else {
            [
                self.lines[0].min(other.lines[0]),
                self.lines[1].max(other.lines[1]),
            ]
        };
        self.arrays += other.arrays;
        self.numbers = self.numbers.saturating_add(other.numbers);
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The lower-case parts of an identifier, split at `_`, `.`, digits and lower-to-upper case
/// changes: `layer0_weights` → `layer`, `weights`; `convKernel` → `conv`, `kernel`.
fn identifier_parts(identifier: &str) -> impl Iterator<Item = String> + '_ {
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut previous_lower = false;
    for c in identifier.chars() {
        if !c.is_ascii_alphabetic() {
            if !part.is_empty() {
                parts.push(std::mem::take(&mut part));
            }
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower && !part.is_empty() {
            parts.push(std::mem::take(&mut part));
        }
        previous_lower = c.is_ascii_lowercase();
        part.push(c.to_ascii_lowercase());
    }
    if !part.is_empty() {
        parts.push(part);
    }
    parts.into_iter()
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

    fn stats(values: impl IntoIterator<Item = f64>) -> ValueStats {
        let mut stats = ValueStats::default();
        for v in values {
            stats.push(Some(v), false);
        }
        stats
    }

    #[test]
    fn roughness_tells_noise_from_sampled_curves() {
        // A xorshift draw, centred: independent noise.
        let mut state = 0x9e37_79b9u32;
        let noise = stats((0..5000).map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            f64::from(state) / f64::from(u32::MAX) - 0.5
        }));
        assert!(
            (noise.roughness() - 1.73).abs() < 0.1,
            "{}",
            noise.roughness()
        );
        let sine = stats((0..6000).map(|i| (f64::from(i) * 0.37).sin()));
        assert!(
            (sine.roughness() - 0.37).abs() < 0.02,
            "{}",
            sine.roughness()
        );
        // Interleaved cos/sin pairs are smooth at lag 2.
        let pairs = stats((0..2000).flat_map(|i| {
            let phase = f64::from(i) * 0.01;
            [phase.cos(), phase.sin()]
        }));
        assert!(pairs.roughness() < 0.05, "{}", pairs.roughness());
        let ramp = stats((0..100).map(f64::from));
        assert_eq!(ramp.roughness(), 0.0);
        assert_eq!(ramp.direction_changes, 0);
    }

    #[test]
    fn statistics_split_across_lines_equal_those_of_one_run() {
        let values: Vec<f64> = (0..50).map(|i| f64::from((i * 37) % 23) - 11.0).collect();
        let whole = stats(values.iter().copied());
        let mut first = stats(values[..17].iter().copied());
        let mut second = ValueStats::after(first.tail);
        for &v in &values[17..] {
            second.push(Some(v), false);
        }
        first.extend(&second);
        assert_eq!(first.valued, whole.valued);
        assert_eq!(first.sign_changes, whole.sign_changes);
        assert_eq!(first.direction_changes, whole.direction_changes);
        assert_eq!(first.repeats, whole.repeats);
        assert_eq!(first.negative, whole.negative);
        assert!((first.roughness() - whole.roughness()).abs() < 1e-12);
    }

    #[test]
    fn negative_numbers_and_literal_values() {
        let got = lines("  -10, 0x1f, -2.5e1f, 7,\n");
        let values = &got[0].values;
        assert_eq!(values.valued, 4);
        assert_eq!(values.negative, 2);
        assert_eq!(values.sum, -10.0 + 31.0 - 25.0 + 7.0);
        assert_eq!(values.byte_literals, 1);
        assert_eq!(number_value(b"0b101"), Some(5.0));
        assert_eq!(number_value(b"1_000u32"), Some(1000.0));
        assert_eq!(number_value(b"0x1.8p3"), None);
    }

    /// The prefilter's bound holds: a text is passed on whenever the lexer could count enough
    /// numbers in it, here exactly as many as the lowest threshold, split over reads.
    #[test]
    fn prefilter_passes_every_text_with_enough_numbers() {
        let policy: EmbeddedPolicy =
            toml::from_str(include_str!("../../policy/embedded.toml")).unwrap();
        let needed = policy.min_numbers_with_evidence.min(policy.min_numbers);
        let values: Vec<String> = (0..needed)
            .map(|i| format!("{}{}", if i % 2 == 0 { "-" } else { "" }, i % 97))
            .collect();
        let text = format!(
            "/* weights */\nstatic const signed char layer_weights[] = {{\n{}\n}};\n",
            values.join(",\n")
        );
        let counted: u64 = lines(&text).iter().map(|line| line.numbers).sum();
        assert_eq!(counted, needed);
        assert!(
            policy
                .may_hold_weights(io::Cursor::new(&text), text.len() as u64)
                .unwrap()
        );
        // One number fewer (the last value's line dropped): no verdict is possible.
        let fewer = text.replacen(&format!(",\n{}", values[values.len() - 1]), "", 1);
        assert!(
            !policy
                .may_hold_weights(io::Cursor::new(&fewer), fewer.len() as u64)
                .unwrap()
        );
        // Read one byte at a time, runs are still counted once.
        let one_at_a_time = io::BufReader::with_capacity(1, io::Cursor::new(&text));
        assert!(
            policy
                .may_hold_weights(one_at_a_time, text.len() as u64)
                .unwrap()
        );
    }

    #[test]
    fn identifiers_split_into_words() {
        let parts = |s: &str| identifier_parts(s).collect::<Vec<_>>();
        assert_eq!(parts("layer0_weights"), ["layer", "weights"]);
        assert_eq!(parts("convKernel"), ["conv", "kernel"]);
        assert_eq!(parts("fft_twiddles48000_960"), ["fft", "twiddles"]);
        assert_eq!(parts("W1"), ["w"]);
    }
}
