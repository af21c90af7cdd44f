//! Cheap upper bounds on what the lexer of `embedded.rs` can count in a text, so that most text
//! files never reach it (it costs about ten times as much per byte as these passes).
//!
//! A verdict needs at least `min-numbers-with-evidence` (or `min-numbers`, the lower) numbers
//! on *numeric* lines: lines with at least one number literal and at most one word per
//! `numbers-per-word` numbers, outside comments. Two bounds are tried in turn, each stopping as
//! soon as it reaches the threshold:
//!
//! 1. [`number_starts`]: every byte that may start a number literal, in one branch-free pass
//!    the compiler vectorises. Most source files stop here.
//! 2. [`NumericLineBound`]: the same starts, counted only on lines that may be numeric, with the
//!    lexer's comment rules applied exactly. Long generated files of code (Boost's
//!    preprocessed headers, where numbers sit in `#define` lines and among many identifiers)
//!    pass the first bound and stop at this one.
//!
//! Both are bounds from above: a text they reject cannot be reported, whatever it holds. The
//! tests and the `downloads` fuzz target check the second against the lexer itself.

use std::io::{self, Read};

use crate::fsutil::read_full;

/// Bytes read per step, at most.
const READ_SIZE: usize = 8192;

/// The buffer both bounds read through, for a text of `size` bytes: no larger than the text
/// (plus the byte of the read that finds its end), since zeroing it costs as much as reading
/// it for the many small files of a package; never so small that a wrong size would make
/// the reads tiny.
pub(super) fn read_buffer(size: u64) -> Vec<u8> {
    const LEAST: usize = 256;
    let len = usize::try_from(size.saturating_add(1)).map_or(READ_SIZE, |len| len.min(READ_SIZE));
    vec![0; len.max(LEAST)]
}

/// Whether the text from `reader` has at least `needed` bytes that may start a number literal
/// (bound 1).
pub(super) fn enough_number_starts<R: Read>(
    mut reader: R,
    needed: u64,
    buffer: &mut [u8],
) -> io::Result<bool> {
    let mut starts = 0u64;
    // Whether the byte before the current buffer was a token byte.
    let mut after_token = false;
    while starts < needed {
        let read = read_full(&mut reader, buffer)?;
        if read == 0 {
            break;
        }
        starts += number_starts(&buffer[..read], after_token);
        after_token = token_class(buffer[read - 1]) == 1;
    }
    Ok(starts >= needed)
}

/// Whether the numbers the lexer could count on numeric lines of the text from `reader` may
/// reach `needed` (bound 2).
pub(super) fn enough_numeric_line_numbers<R: Read>(
    mut reader: R,
    needed: u64,
    numbers_per_word: u64,
    buffer: &mut [u8],
) -> io::Result<bool> {
    let mut bound = NumericLineBound::new(numbers_per_word);
    while bound.total < needed {
        let read = read_full(&mut reader, buffer)?;
        if read == 0 {
            bound.finish();
            break;
        }
        bound.feed(&buffer[..read]);
    }
    Ok(bound.total >= needed)
}

/// How many tokens may start a number literal in `bytes`: a digit, `.` or `_` that follows
/// no letter, digit, `_` or `.` (`after_token` says whether the byte before `bytes` was one).
/// The lexer's tokens are runs of those bytes, and one that starts with a letter is never a
/// number (a literal starts with a digit, or with `.` or `_` before its digits), so this
/// bounds the literals from above: comments and strings only add to the count. Written as a
/// sum over byte pairs of range compares so that it compiles to SIMD code: the pairs are summed
/// `PAIRS_PER_SUM` at a time in a byte, which fits them (at most one start each), so that a
/// vector register holds 16 or 32 partial sums rather than 4 or 8.
pub(super) fn number_starts(bytes: &[u8], after_token: bool) -> u64 {
    const PAIRS_PER_SUM: usize = 224;
    let Some(&first) = bytes.first() else {
        return 0;
    };
    let first_starts = u64::from(may_start_number(first) == 1 && !after_token);
    let later_starts: u64 = bytes
        .chunks(PAIRS_PER_SUM)
        .zip(bytes.get(1..).unwrap_or_default().chunks(PAIRS_PER_SUM))
        .map(|(before, current)| {
            let starts = before
                .iter()
                .zip(current)
                .map(|(&b, &c)| may_start_number(c) & !token_class(b) & 1)
                .fold(0u8, u8::wrapping_add);
            u64::from(starts)
        })
        .sum();
    first_starts + later_starts
}

/// 1 for a digit, `.` or `_`, else 0 (branch-free, for `number_starts`).
fn may_start_number(byte: u8) -> u8 {
    u8::from(byte.wrapping_sub(b'0') < 10) | u8::from(byte == b'.') | u8::from(byte == b'_')
}

/// 1 for a byte the lexer puts in tokens (letters, digits, `_`, `.`), else 0 (branch-free).
pub(super) fn token_class(byte: u8) -> u8 {
    may_start_number(byte) | u8::from((byte | 0x20).wrapping_sub(b'a') < 26)
}

/// What a byte is to [`NumericLineBound`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Letter,
    Digit,
    /// `_` or `.`: a token led by them is a number only if a digit comes before any letter.
    Lead,
    Newline,
    Slash,
    Star,
    Hash,
    /// `+` or `-`: the lexer may continue an exponent's literal across it (`1.5e-3`).
    Sign,
    Other,
}

const fn class_of(byte: u8) -> Class {
    match byte {
        b'a'..=b'z' | b'A'..=b'Z' => Class::Letter,
        b'0'..=b'9' => Class::Digit,
        b'_' | b'.' => Class::Lead,
        b'\n' => Class::Newline,
        b'/' => Class::Slash,
        b'*' => Class::Star,
        b'#' => Class::Hash,
        b'+' | b'-' => Class::Sign,
        _ => Class::Other,
    }
}

static CLASSES: [Class; 256] = {
    let mut table = [Class::Other; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = class_of(byte as u8);
        byte += 1;
    }
    table
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Code,
    LineComment,
    BlockComment,
}

/// The token being read, as far as the bound needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    None,
    /// Only `_` and `.` so far.
    Lead,
    /// A letter came first (after any `_`/`.`): the lexer counts it as a word.
    Word,
    /// A digit came first: the lexer may count it as a number.
    Number,
}

/// Bound 2: the numbers on lines that may be numeric, with the lexer's comment rules applied
/// exactly (`//` and `#` to the end of the line, `/* … */` across lines, a `/` resolved by the
/// byte after it, a `*` at a line's end still closing with a `/` at the next line's start).
/// Per line it counts `numbers`, an upper bound of the lexer's literals (every token led by a
/// digit after any `_`/`.`; the lexer joins `1.5e` `-` `3` into one), and `words`, a lower
/// bound of the lexer's words (every token led by a letter after any `_`/`.`, which is never
/// a literal, unless it follows `+`/`-` right away, where the lexer may have joined it to an
/// exponent: `1e-x` is one word). A line whose `words` outweigh its `numbers` cannot be
/// numeric; the others add their `numbers`.
pub(super) struct NumericLineBound {
    numbers_per_word: u64,
    mode: Mode,
    /// In code, the previous byte was a `/` not yet resolved.
    slash: bool,
    /// In a block comment, the previous byte was a `*`.
    star: bool,
    token: Token,
    /// The previous byte was `+` or `-`, in code.
    after_sign: bool,
    /// The current token started right after `+` or `-`.
    token_after_sign: bool,
    numbers: u64,
    words: u64,
    pub(super) total: u64,
}

impl NumericLineBound {
    pub(super) fn new(numbers_per_word: u64) -> Self {
        Self {
            numbers_per_word,
            mode: Mode::Code,
            slash: false,
            star: false,
            token: Token::None,
            after_sign: false,
            token_after_sign: false,
            numbers: 0,
            words: 0,
            total: 0,
        }
    }

    pub(super) fn feed(&mut self, bytes: &[u8]) {
        let mut at = 0;
        while at < bytes.len() {
            let rest = &bytes[at..];
            at += match self.mode {
                Mode::Code => self.code(rest),
                Mode::LineComment => match memchr::memchr(b'\n', rest) {
                    Some(end) => {
                        self.end_line();
                        end + 1
                    }
                    None => rest.len(),
                },
                Mode::BlockComment => self.block_comment(rest),
            };
        }
    }

    /// The last line, when the text does not end with a newline.
    pub(super) fn finish(&mut self) {
        self.end_line();
    }

    /// Reads code until the mode changes or `bytes` ends; returns the bytes used.
    fn code(&mut self, bytes: &[u8]) -> usize {
        let mut at = 0;
        while let Some(&byte) = bytes.get(at) {
            at += 1;
            let class = CLASSES[usize::from(byte)];
            if self.slash {
                self.slash = false;
                match class {
                    Class::Slash => {
                        self.mode = Mode::LineComment;
                        return at;
                    }
                    Class::Star => {
                        self.mode = Mode::BlockComment;
                        self.star = false;
                        return at;
                    }
                    _ => {}
                }
            }
            let after_sign = std::mem::replace(&mut self.after_sign, false);
            match class {
                Class::Letter | Class::Digit | Class::Lead => {
                    self.token_byte(class, after_sign);
                    if matches!(self.token, Token::Word | Token::Number) {
                        // The rest of the token changes nothing: passed over in one step.
                        at += bytes[at..]
                            .iter()
                            .position(|&byte| token_class(byte) == 0)
                            .unwrap_or(bytes.len() - at);
                    }
                }
                Class::Newline => self.end_line(),
                Class::Slash => {
                    self.token = Token::None;
                    self.slash = true;
                }
                Class::Hash => {
                    self.token = Token::None;
                    self.mode = Mode::LineComment;
                    return at;
                }
                Class::Sign => {
                    self.token = Token::None;
                    self.after_sign = true;
                }
                Class::Star | Class::Other => self.token = Token::None,
            }
        }
        at
    }

    /// A letter, digit, `_` or `.` in code: a token starts or goes on.
    fn token_byte(&mut self, class: Class, after_sign: bool) {
        match (self.token, class) {
            (Token::None, Class::Lead) => {
                self.token = Token::Lead;
                self.token_after_sign = after_sign;
            }
            (Token::None | Token::Lead, Class::Letter) => {
                let leading_sign = if self.token == Token::None {
                    after_sign
                } else {
                    self.token_after_sign
                };
                if !leading_sign {
                    self.words += 1;
                }
                self.token = Token::Word;
            }
            (Token::None | Token::Lead, Class::Digit) => {
                self.numbers += 1;
                self.token = Token::Number;
            }
            _ => {}
        }
    }

    /// Reads a block comment up to its end, a newline or the end of `bytes`; returns the bytes
    /// used. As in the lexer, a newline leaves a pending `*` pending.
    fn block_comment(&mut self, bytes: &[u8]) -> usize {
        if self.star && bytes[0] == b'/' {
            self.star = false;
            self.mode = Mode::Code;
            return 1;
        }
        match memchr::memchr2(b'*', b'\n', bytes) {
            None => {
                self.star = false;
                bytes.len()
            }
            Some(found) => {
                if found > 0 {
                    self.star = false;
                }
                if bytes[found] == b'\n' {
                    self.end_line();
                } else {
                    self.star = true;
                }
                found + 1
            }
        }
    }

    fn end_line(&mut self) {
        if self.numbers > 0 && self.words.saturating_mul(self.numbers_per_word) <= self.numbers {
            self.total = self.total.saturating_add(self.numbers);
        }
        self.numbers = 0;
        self.words = 0;
        self.token = Token::None;
        self.slash = false;
        self.after_sign = false;
        if self.mode == Mode::LineComment {
            self.mode = Mode::Code;
        }
    }
}

/// What the lexer itself counts: the numbers on its numeric lines.
fn lexer_total(text: &[u8], numbers_per_word: u64) -> u64 {
    let mut lexer = super::Lexer::default();
    let mut lines: Vec<_> = text.iter().filter_map(|&b| lexer.push(b)).collect();
    lines.extend(lexer.finish());
    lines
        .iter()
        .filter(|l| l.numbers > 0 && l.words * numbers_per_word <= l.numbers)
        .map(|l| l.numbers)
        .sum()
}

fn bound_total(text: &[u8], numbers_per_word: u64, chunk: usize) -> u64 {
    let mut bound = NumericLineBound::new(numbers_per_word);
    for piece in text.chunks(chunk.max(1)) {
        bound.feed(piece);
    }
    bound.finish();
    bound.total
}

/// Panics when the line bound of `text`, fed in pieces of several sizes, is below what the
/// lexer counts: the soundness the prefilter rests on, for the tests and the fuzz target.
pub(crate) fn assert_bound_holds(text: &[u8], numbers_per_word: u64) {
    let lexer = lexer_total(text, numbers_per_word);
    for chunk in [1, 2, 3, 7, READ_SIZE] {
        let bound = bound_total(text, numbers_per_word, chunk);
        assert!(
            bound >= lexer,
            "line bound {bound} < lexer {lexer} (pieces of {chunk} bytes) for {:?}",
            String::from_utf8_lossy(text)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_starts_count_tokens_not_led_by_a_letter() {
        assert_eq!(number_starts(b"", false), 0);
        // `a1` and `x4y5` are identifiers; `22` and `333` may be numbers.
        assert_eq!(number_starts(b"a1 22, 333;x4y5", false), 2);
        assert_eq!(number_starts(b"BOOST_PP_FOR_255(x)", false), 0);
        // `_1`, `.5` and `1.5e-3f` (its exponent counted apart) may be numbers.
        assert_eq!(number_starts(b"_1 .5 1.5e-3f", false), 4);
        // A token continued from the previous buffer does not start again.
        assert_eq!(number_starts(b"12, 3", true), 1);
        assert_eq!(number_starts(b"12, 3", false), 2);
        // Every byte value: the branch-free class is the lexer's token class.
        for byte in 0..=255u8 {
            assert_eq!(
                token_class(byte) == 1,
                super::super::is_token_byte(byte),
                "{byte}"
            );
        }
        // Starts across the 4096-byte blocks of the pair sum.
        let long: Vec<u8> = b"7,".iter().copied().cycle().take(10_000).collect();
        assert_eq!(number_starts(&long, false), 5_000);
    }

    /// The bound is never below the lexer's count, whatever the text and however it is split
    /// over reads: texts drawn from the fragments where the two could part (comment openers
    /// and closers apart and together, `*` before a newline, exponents joined across signs,
    /// `_`/`.`-led tokens, words after signs, tokens past the lexer's 64 bytes).
    #[test]
    fn the_line_bound_is_never_below_the_lexer() {
        const FRAGMENTS: &[&str] = &[
            "1",
            "-2",
            "0.5f",
            ".5",
            "_1",
            "_x",
            ".e5",
            "1e-3",
            "1e+e+e",
            "1e-x",
            "0x1p-3",
            "abc",
            "w",
            " ",
            ",",
            "\n",
            "\r\n",
            "/",
            "*",
            "/*",
            "*/",
            "/*/",
            "//",
            "#",
            "*\n/",
            "{",
            "};",
            "= {",
            "a-b",
            "x+1",
            "\u{e9}",
            "\t",
            "__",
            "._a",
            "1_000",
            "a0123456789012345678901234567890123456789012345678901234567890123456789",
            "0123456789012345678901234567890123456789012345678901234567890123456789",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % below as u64) as usize
        };
        for _ in 0..4000 {
            let mut text = String::new();
            for _ in 0..next(60) {
                text.push_str(FRAGMENTS[next(FRAGMENTS.len())]);
            }
            for numbers_per_word in [1, 2, 3] {
                assert_bound_holds(text.as_bytes(), numbers_per_word);
            }
        }
    }

    /// Text that is mostly numbers on numeric lines keeps its count; generated code whose
    /// numbers sit in `#define` lines or among identifiers (Boost's preprocessed headers),
    /// which passes the first bound, is stopped by the second.
    #[test]
    fn preprocessor_lines_and_identifier_lists_are_not_numeric() {
        let array = "  0.12, -0.5, 1e-3, 7, /* row */\n".repeat(200);
        assert_eq!(lexer_total(array.as_bytes(), 2), 800);
        // `1e-3` is two starts to the bound, one literal to the lexer.
        assert_eq!(bound_total(array.as_bytes(), 2, 4096), 1000);

        let generated = "#  define BOOST_TYPEOF_VECTOR_200 (1, 2, 3, 4, 5, 6, 7, 8)\n\
                         template<class T0, class T1> struct v2 : v1<T0> { enum { n = 2 }; };\n"
            .repeat(100);
        let buffer = &mut read_buffer(generated.len() as u64);
        assert!(enough_number_starts(generated.as_bytes(), 512, buffer).unwrap());
        assert!(!enough_numeric_line_numbers(generated.as_bytes(), 512, 2, buffer).unwrap());
        assert_eq!(lexer_total(generated.as_bytes(), 2), 0);
    }
}
