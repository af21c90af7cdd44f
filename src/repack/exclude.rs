//! `Files-Excluded` patterns, matched exactly as mk-origtargz matches them
//! (`Devscripts::MkOrigtargz`, devscripts 2.23: `glob_to_regex` and the loop over `tar -t`):
//! a member name matches a pattern when it is
//!
//! ```text
//! ^(?:[^/]*/)?  PATTERN  (?:/.*)?$
//! ```
//!
//! that is, after an optional leading directory (the tarball's top directory, ignored), the
//! pattern matches the whole rest of the name or a leading run of its components (so a
//! directory pattern removes the directory and everything below it). In the pattern `*`
//! matches any run of characters, `/` included, `?` any one character, `\` escapes `\`, `*`
//! and `?`; every other character is literal. A trailing `/` is dropped (with a warning in
//! mk-origtargz), and `\` before any other character is an error.

use anyhow::{Result, bail};

/// One pattern element.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `*`: any run of characters, `/` included.
    Any,
    /// `?`: exactly one character.
    One,
}

/// One `Files-Excluded` pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The pattern as written.
    pub text: String,
    tokens: Vec<Token>,
}

impl Pattern {
    /// Parses `text` as mk-origtargz's `glob_to_regex` does.
    pub fn parse(text: &str) -> Result<Self> {
        let glob = text.strip_suffix('/').unwrap_or(text);
        let mut tokens = Vec::new();
        let mut chars = glob.chars();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '*' => Token::Any,
                '?' => Token::One,
                '\\' => match chars.next() {
                    Some(escaped @ ('\\' | '*' | '?')) => Token::Literal(escaped),
                    _ => bail!(
                        "invalid Files-Excluded pattern `{text}`: \\ can only escape \\, * or ?"
                    ),
                },
                other => Token::Literal(other),
            });
        }
        Ok(Self {
            text: text.to_string(),
            tokens,
        })
    }

    /// Whether the member `name` (as the tarball stores it: `top/dir/file`, `top/dir/`) is
    /// removed by this pattern.
    pub fn matches(&self, name: &str) -> bool {
        let chars: Vec<char> = name.chars().collect();
        // Where the pattern may start: at 0, or after a leading directory `[^/]*/`.
        let mut starts = vec![0];
        if let Some(slash) = chars.iter().position(|&c| c == '/') {
            starts.push(slash + 1);
        }
        starts.iter().any(|&start| {
            // Where it may end: at the end, or before any `/` after the start (`(?:/.*)?`).
            (start..=chars.len())
                .filter(|&end| end == chars.len() || chars[end] == '/')
                .any(|end| glob_matches(&self.tokens, &chars[start..end]))
        })
    }
}

/// Whether `tokens` match all of `text` (iterative wildcard matching with one backtrack
/// point per `*`: linear in practice, quadratic at worst, never exponential).
fn glob_matches(tokens: &[Token], text: &[char]) -> bool {
    let (mut t, mut s) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while s < text.len() {
        match tokens.get(t) {
            Some(Token::Any) => {
                backtrack = Some((t, s));
                t += 1;
            }
            Some(Token::One) => {
                t += 1;
                s += 1;
            }
            Some(Token::Literal(c)) if *c == text[s] => {
                t += 1;
                s += 1;
            }
            _ => match backtrack {
                Some((star, from)) => {
                    t = star + 1;
                    s = from + 1;
                    backtrack = Some((star, from + 1));
                }
                None => return false,
            },
        }
    }
    tokens[t..].iter().all(|token| *token == Token::Any)
}

/// Every pattern of one `Files-Excluded` field, and which of them removed something.
#[derive(Debug, Clone, Default)]
pub struct Exclusions {
    patterns: Vec<Pattern>,
    used: Vec<bool>,
}

impl Exclusions {
    /// The whitespace-separated patterns of a `Files-Excluded` field value.
    pub fn parse(field: &str) -> Result<Self> {
        let patterns = field
            .split_whitespace()
            .map(Pattern::parse)
            .collect::<Result<Vec<_>>>()?;
        let used = vec![false; patterns.len()];
        Ok(Self { patterns, used })
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `name` is removed. As in mk-origtargz, only the last pattern that matches is
    /// marked used, so a pattern every match of which a later one repeats is reported unused.
    pub fn excludes(&mut self, name: &str) -> bool {
        let last = self.patterns.iter().rposition(|p| p.matches(name));
        if let Some(index) = last {
            self.used[index] = true;
        }
        last.is_some()
    }

    /// Forgets which patterns were used (before the input is read again).
    pub fn forget_uses(&mut self) {
        self.used.iter_mut().for_each(|used| *used = false);
    }

    /// Patterns that were the last match of no member, as mk-origtargz warns about them.
    pub fn unused(&self) -> impl Iterator<Item = &str> {
        self.patterns
            .iter()
            .zip(&self.used)
            .filter(|(_, used)| !**used)
            .map(|(pattern, _)| pattern.text.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, name: &str) -> bool {
        Pattern::parse(pattern).unwrap().matches(name)
    }

    #[test]
    fn the_top_directory_is_ignored_once() {
        assert!(matches("models", "pkg-1.0/models/"));
        assert!(matches("models", "pkg-1.0/models/w.bin"));
        assert!(matches("models", "models/w.bin"));
        assert!(!matches("models", "pkg-1.0/src/models/w.bin"));
        assert!(!matches("models", "pkg-1.0/models2/w.bin"));
    }

    #[test]
    fn star_crosses_slashes_and_question_mark_is_one_character() {
        assert!(matches("*.bin", "pkg/a/b/c.bin"));
        assert!(matches("src/*/w.pt", "pkg/src/x/y/w.pt"));
        assert!(matches("w?.pt", "pkg/w1.pt"));
        assert!(!matches("w?.pt", "pkg/w12.pt"));
        assert!(!matches("*.bin", "pkg/a.binx"));
    }

    #[test]
    fn escapes_and_trailing_slash() {
        assert!(matches("a\\*b", "pkg/a*b"));
        assert!(!matches("a\\*b", "pkg/axb"));
        assert!(matches("docs/", "pkg/docs/x"));
        assert!(Pattern::parse("a\\b").is_err());
        // Regex metacharacters are literal.
        assert!(matches("a.(b)+", "pkg/a.(b)+"));
        assert!(!matches("a.b", "pkg/axb"));
    }

    #[test]
    fn unused_patterns_are_reported() {
        let mut exclusions = Exclusions::parse("models\n *.onnx").unwrap();
        assert!(exclusions.excludes("pkg/models/a"));
        assert_eq!(exclusions.unused().collect::<Vec<_>>(), vec!["*.onnx"]);
    }
}
