//! SPDX licence expressions (SPDX specification, annex "SPDX License Expressions"): parsing,
//! and judging them against the DFSG lists of `policy/licenses.toml`.
//!
//! Grammar, loosest binding first:
//!
//! ```text
//! expression := and-expr ( "OR" and-expr )*
//! and-expr   := with-expr ( "AND" with-expr )*
//! with-expr  := primary ( "WITH" exception-id )?
//! primary    := "(" expression ")" | license-id [ "+" ] | LicenseRef-… | DocumentRef-…:LicenseRef-…
//! ```
//!
//! Identifiers are letters, digits, `.` and `-`; operators are upper-case.

use std::fmt;

use serde::Deserialize;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expression {
    /// A licence identifier (`MIT`, `LicenseRef-foo`), `or_later` for a trailing `+`.
    License {
        id: String,
        or_later: bool,
    },
    /// `licence WITH exception`.
    With {
        license: Box<Expression>,
        exception: String,
    },
    And(Vec<Expression>),
    Or(Vec<Expression>),
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, parts: &[Expression], op: &str| {
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    write!(f, " {op} ")?;
                }
                match part {
                    Expression::And(_) | Expression::Or(_) => write!(f, "({part})")?,
                    _ => write!(f, "{part}")?,
                }
            }
            Ok(())
        };
        match self {
            Expression::License { id, or_later } => {
                write!(f, "{id}{}", if *or_later { "+" } else { "" })
            }
            Expression::With { license, exception } => write!(f, "{license} WITH {exception}"),
            Expression::And(parts) => join(f, parts, "AND"),
            Expression::Or(parts) => join(f, parts, "OR"),
        }
    }
}

/// Why an expression did not parse; `offset` is the byte offset of the trouble in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.offset + 1)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token<'a> {
    Open,
    Close,
    Word(&'a str),
}

fn tokenize(text: &str) -> Result<Vec<(usize, Token<'_>)>, ParseError> {
    let mut tokens = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' => at += 1,
            b'(' => {
                tokens.push((at, Token::Open));
                at += 1;
            }
            b')' => {
                tokens.push((at, Token::Close));
                at += 1;
            }
            _ if is_id_byte(byte) || byte == b'+' || byte == b':' => {
                let start = at;
                while at < bytes.len()
                    && (is_id_byte(bytes[at]) || bytes[at] == b'+' || bytes[at] == b':')
                {
                    at += 1;
                }
                tokens.push((start, Token::Word(&text[start..at])));
            }
            _ => {
                let found = text[at..].chars().next().unwrap_or('?');
                return Err(ParseError {
                    offset: at,
                    message: format!(
                        "`{found}` cannot appear in a licence expression (identifiers are \
                         letters, digits, `.` and `-`)"
                    ),
                });
            }
        }
    }
    Ok(tokens)
}

fn is_id_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'-'
}

/// Parses `text` as an SPDX licence expression.
pub fn parse(text: &str) -> Result<Expression, ParseError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        next: 0,
        end: text.len(),
    };
    let expression = parser.or_expression()?;
    match parser.peek() {
        None => Ok(expression),
        Some((offset, Token::Word(word)))
            if OPERATORS.contains(&word.to_ascii_uppercase().as_str()) =>
        {
            Err(ParseError {
                offset,
                message: format!(
                    "operators are upper-case: write `{}`",
                    word.to_ascii_uppercase()
                ),
            })
        }
        Some((offset, token)) => Err(ParseError {
            offset,
            message: format!(
                "expected `AND`, `OR` or the end of the expression, found {}",
                describe(&token)
            ),
        }),
    }
}

fn describe(token: &Token<'_>) -> String {
    match token {
        Token::Open => "`(`".to_string(),
        Token::Close => "`)`".to_string(),
        Token::Word(word) => format!("`{word}`"),
    }
}

struct Parser<'a> {
    tokens: Vec<(usize, Token<'a>)>,
    next: usize,
    end: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<(usize, Token<'a>)> {
        self.tokens.get(self.next).cloned()
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some((_, Token::Word(w))) if w == word) {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn or_expression(&mut self) -> Result<Expression, ParseError> {
        let mut parts = vec![self.and_expression()?];
        while self.eat_word("OR") {
            parts.push(self.and_expression()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expression::Or(parts)
        })
    }

    fn and_expression(&mut self) -> Result<Expression, ParseError> {
        let mut parts = vec![self.with_expression()?];
        while self.eat_word("AND") {
            parts.push(self.with_expression()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expression::And(parts)
        })
    }

    fn with_expression(&mut self) -> Result<Expression, ParseError> {
        let license = self.primary()?;
        if !self.eat_word("WITH") {
            return Ok(license);
        }
        if matches!(license, Expression::And(_) | Expression::Or(_)) {
            return Err(ParseError {
                offset: self.tokens[self.next - 1].0,
                message: "`WITH` applies to a single licence, not to a parenthesised expression"
                    .to_string(),
            });
        }
        match self.peek() {
            Some((offset, Token::Word(word))) => {
                self.next += 1;
                check_identifier(offset, word, "exception")?;
                Ok(Expression::With {
                    license: Box::new(license),
                    exception: word.to_string(),
                })
            }
            other => Err(self.expected("an exception identifier after `WITH`", other)),
        }
    }

    fn primary(&mut self) -> Result<Expression, ParseError> {
        match self.peek() {
            Some((_, Token::Open)) => {
                self.next += 1;
                let inner = self.or_expression()?;
                match self.peek() {
                    Some((_, Token::Close)) => {
                        self.next += 1;
                        Ok(inner)
                    }
                    other => Err(self.expected("`)`", other)),
                }
            }
            Some((offset, Token::Word(word))) => {
                self.next += 1;
                license_reference(offset, word)
            }
            other => Err(self.expected("a licence identifier or `(`", other)),
        }
    }

    fn expected(&self, what: &str, found: Option<(usize, Token<'a>)>) -> ParseError {
        match found {
            Some((offset, token)) => ParseError {
                offset,
                message: format!("expected {what}, found {}", describe(&token)),
            },
            None => ParseError {
                offset: self.end,
                message: format!("expected {what}, found the end of the expression"),
            },
        }
    }
}

const OPERATORS: [&str; 3] = ["AND", "OR", "WITH"];

fn license_reference(offset: usize, word: &str) -> Result<Expression, ParseError> {
    if let Some(rest) = word.strip_prefix("DocumentRef-") {
        let Some((document, reference)) = rest.split_once(':') else {
            return Err(ParseError {
                offset,
                message: format!("`{word}`: a DocumentRef needs `:LicenseRef-…` after it"),
            });
        };
        check_identifier(offset, document, "DocumentRef")?;
        return match reference.strip_prefix("LicenseRef-") {
            Some(tail) => {
                check_identifier(offset, tail, "LicenseRef")?;
                Ok(Expression::License {
                    id: word.to_string(),
                    or_later: false,
                })
            }
            None => Err(ParseError {
                offset,
                message: format!("`{word}`: a DocumentRef must be followed by `:LicenseRef-…`"),
            }),
        };
    }
    let (id, or_later) = match word.strip_suffix('+') {
        Some(id) => (id, true),
        None => (word, false),
    };
    check_identifier(offset, id, "licence")?;
    if OPERATORS.iter().any(|op| op.eq_ignore_ascii_case(id)) {
        let message = if OPERATORS.contains(&id) {
            format!("expected a licence identifier, found the operator `{id}`")
        } else {
            format!(
                "operators are upper-case: write `{}`",
                id.to_ascii_uppercase()
            )
        };
        return Err(ParseError { offset, message });
    }
    if let Some(tail) = id.strip_prefix("LicenseRef-") {
        check_identifier(offset, tail, "LicenseRef")?;
        if or_later {
            return Err(ParseError {
                offset,
                message: format!("`{word}`: `+` does not apply to a LicenseRef"),
            });
        }
    }
    Ok(Expression::License {
        id: id.to_string(),
        or_later,
    })
}

fn check_identifier(offset: usize, id: &str, what: &str) -> Result<(), ParseError> {
    if id.is_empty() || !id.bytes().all(is_id_byte) {
        return Err(ParseError {
            offset,
            message: format!(
                "`{id}` is not a valid {what} identifier (letters, digits, `.` and `-`)"
            ),
        });
    }
    Ok(())
}

/// `policy/licenses.toml`: which licences and exceptions are DFSG-free. Anything on neither
/// list is unknown, and the tool never guesses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LicenseTable {
    pub free: Vec<String>,
    pub non_free: Vec<String>,
    pub free_exceptions: Vec<String>,
    /// Texts that identify a licence file, for drafting manifests.
    #[serde(default)]
    pub text: Vec<LicenseText>,
    /// DEP-5 names and Debian's shipped texts of SPDX identifiers.
    #[serde(default)]
    pub dep5: Vec<Dep5Name>,
    /// How licence files are identified by their content.
    #[serde(default)]
    pub detection: Detection,
}

/// `[detection]`: the content matcher's threshold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Detection {
    /// The lowest score (0 to 1) that counts as a match.
    pub min_score: f32,
}

impl Default for Detection {
    fn default() -> Self {
        Self { min_score: 0.9 }
    }
}

/// How DEP-5 names SPDX identifiers, and where Debian ships the text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Dep5Name {
    pub spdx: Vec<String>,
    pub name: String,
    pub common_license: Option<String>,
    /// How the pointer to the common licence names it ("the Apache License, Version 2.0").
    pub title: Option<String>,
    /// The licence's short grant, written before the pointer.
    pub notice: Option<String>,
}

/// A licence expression as `debian/copyright` writes it (copyright-format 1.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dep5License {
    /// The `License:` short name: DEP-5 names joined with `and`, `or`, `with … exception`.
    pub name: String,
    /// The file under /usr/share/common-licenses with the full text, when the expression is one
    /// licence Debian ships.
    pub common_license: Option<String>,
    /// The stand-alone `License` paragraph's body for a licence Debian ships: the licence's
    /// notice and the pointer to its common-licenses file, as lintian wants instead of the full
    /// text.
    pub common_text: Option<String>,
}

/// A licence recognised in a licence file when every marker appears in its first bytes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseText {
    pub id: String,
    pub markers: Vec<String>,
}

/// The body of the stand-alone `License` paragraph of a licence Debian ships: its notice, then
/// the pointer lintian looks for (`/usr/share/common-licenses/FILE`, named in full).
fn common_text(entry: &Dep5Name) -> String {
    let file = entry.common_license.as_deref().unwrap_or_default();
    let title = entry.title.as_deref().unwrap_or(&entry.name);
    let pointer = crate::generate::text::wrap(
        &format!(
            "On Debian systems, the complete text of {title} can be found in \
             \"/usr/share/common-licenses/{file}\"."
        ),
        crate::generate::text::TEXT_WIDTH,
    )
    .join("\n");
    match entry.notice.as_deref().map(str::trim) {
        Some(notice) if !notice.is_empty() => format!("{notice}\n.\n{pointer}"),
        _ => pointer,
    }
}

/// The best-matching SPDX licence of `text` and its score, when the score reaches `min_score`.
/// The matcher (the `spdx` crate's inlined askalono, with the SPDX licence list's texts
/// cached in the binary) is loaded once, on first use (a third of a second).
pub fn identify_text(text: &str, min_score: f32) -> Option<(String, f32)> {
    use spdx::detection::{Store, TextData};
    static STORE: std::sync::OnceLock<Option<Store>> = std::sync::OnceLock::new();
    let store = STORE.get_or_init(|| Store::load_inline().ok()).as_ref()?;
    let found = store.analyze(&TextData::new(text));
    (found.score >= min_score).then(|| (found.name.to_string(), found.score))
}

/// `id` as a licence file's text identifies it: the GNU licences' "-or-later", "+" and bare
/// forms as "-only" (their texts are the same), the GFDL's invariants variants as the plain
/// GFDL.
pub fn text_identifier(id: &str) -> String {
    let family = text_family(id);
    if ["GPL-", "LGPL-", "AGPL-", "GFDL-"]
        .iter()
        .any(|prefix| family.starts_with(prefix))
    {
        format!("{family}-only")
    } else {
        id.to_string()
    }
}

/// The licence text `id` stands for: `GPL-2.0-or-later`, `GPL-2.0+`, `GPL-2.0-only` and
/// `GPL-2.0` are all `GPL-2.0`, whose text is the same.
pub fn text_family(id: &str) -> String {
    let mut base = id.trim();
    for suffix in ["+", "-or-later", "-only", "-invariants", "-no-invariants"] {
        base = base.strip_suffix(suffix).unwrap_or(base);
    }
    base.to_string()
}

/// Every licence identifier of `expression`, in order.
pub fn identifiers(expression: &Expression) -> Vec<(String, bool)> {
    match expression {
        Expression::License { id, or_later } => vec![(id.clone(), *or_later)],
        Expression::With { license, .. } => identifiers(license),
        Expression::And(parts) | Expression::Or(parts) => {
            parts.iter().flat_map(identifiers).collect()
        }
    }
}

/// The DFSG status of an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Free,
    /// Not DFSG-free; the identifiers that make it so.
    NonFree(Vec<String>),
    /// Depends on identifiers neither list names.
    Unknown(Vec<String>),
}

impl LicenseTable {
    /// `expression` in DEP-5 spelling (`GPL-2.0-or-later OR MIT` → `GPL-2+ or Expat`).
    pub fn dep5(&self, expression: &Expression) -> Dep5License {
        let entry = |id: &str, or_later: bool| {
            let spelled = if or_later {
                format!("{id}+")
            } else {
                id.to_string()
            };
            self.dep5
                .iter()
                .find(|e| e.spdx.iter().any(|s| s.eq_ignore_ascii_case(&spelled)))
        };
        let shipped = match expression {
            Expression::License { id, or_later } => {
                entry(id, *or_later).filter(|e| e.common_license.is_some())
            }
            _ => None,
        };
        Dep5License {
            name: self.dep5_name(expression, &entry),
            common_license: shipped.and_then(|e| e.common_license.clone()),
            common_text: shipped.map(common_text),
        }
    }

    fn dep5_name<'a>(
        &'a self,
        expression: &Expression,
        entry: &impl Fn(&str, bool) -> Option<&'a Dep5Name>,
    ) -> String {
        let join = |parts: &[Expression], op: &str| {
            parts
                .iter()
                .map(|part| match part {
                    Expression::And(_) | Expression::Or(_) => {
                        format!("({})", self.dep5_name(part, entry))
                    }
                    _ => self.dep5_name(part, entry),
                })
                .collect::<Vec<_>>()
                .join(&format!(" {op} "))
        };
        match expression {
            Expression::License { id, or_later } => match entry(id, *or_later) {
                Some(known) => known.name.clone(),
                None if *or_later => format!("{id}+"),
                None => id.clone(),
            },
            Expression::With { license, exception } => {
                // DEP-5 names the exception by its keyword: `GPL-2+ with Classpath exception`.
                let keyword = exception
                    .split_once("-exception")
                    .map_or(exception.as_str(), |(keyword, _)| keyword);
                format!(
                    "{} with {keyword} exception",
                    self.dep5_name(license, entry)
                )
            }
            Expression::And(parts) => join(parts, "and"),
            Expression::Or(parts) => join(parts, "or"),
        }
    }

    /// The SPDX identifier of a licence text: the SPDX texts matched by content
    /// ([`identify_text`]), else the markers of `policy/licenses.toml` (short notices naming a
    /// licence). The GNU licences' texts are the same for "-only" and "-or-later": the text
    /// names the "-only" form, as licensecheck does.
    pub fn recognise_text(&self, text: &str) -> Option<String> {
        identify_text(text, self.detection.min_score)
            .map(|(id, _)| text_identifier(&id))
            .or_else(|| {
                self.text
                    .iter()
                    .find(|entry| entry.markers.iter().all(|m| text.contains(m.as_str())))
                    .map(|entry| entry.id.clone())
            })
    }

    /// The spelling the table uses for `id` (SPDX identifiers match case-insensitively).
    pub fn canonical(&self, id: &str) -> Option<&str> {
        self.free
            .iter()
            .chain(&self.non_free)
            .find(|known| known.eq_ignore_ascii_case(id))
            .map(String::as_str)
    }

    fn license_status(&self, id: &str, or_later: bool) -> Status {
        // `GPL-2.0+` is `GPL-2.0-or-later`; the plain id covers it when that is free too.
        let mut candidates = Vec::new();
        if or_later {
            candidates.push(format!("{id}+"));
            candidates.push(format!("{}-or-later", id.trim_end_matches("-only")));
        }
        candidates.push(id.to_string());
        let named = |list: &[String]| {
            candidates
                .iter()
                .any(|c| list.iter().any(|known| known.eq_ignore_ascii_case(c)))
        };
        let shown = format!("{id}{}", if or_later { "+" } else { "" });
        if named(&self.non_free) {
            Status::NonFree(vec![shown])
        } else if named(&self.free) {
            Status::Free
        } else {
            Status::Unknown(vec![shown])
        }
    }

    /// Judges `expression`: `OR` is free when any branch is, `AND` only when all are.
    pub fn status(&self, expression: &Expression) -> Status {
        match expression {
            Expression::License { id, or_later } => self.license_status(id, *or_later),
            Expression::With { license, exception } => match self.status(license) {
                Status::Free
                    if self
                        .free_exceptions
                        .iter()
                        .any(|known| known.eq_ignore_ascii_case(exception)) =>
                {
                    Status::Free
                }
                Status::Free => Status::Unknown(vec![exception.clone()]),
                other => other,
            },
            Expression::And(parts) => combine(parts.iter().map(|p| self.status(p)), |s| {
                matches!(s, Status::NonFree(_))
            }),
            Expression::Or(parts) => {
                let statuses: Vec<Status> = parts.iter().map(|p| self.status(p)).collect();
                if statuses.contains(&Status::Free) {
                    Status::Free
                } else {
                    combine(statuses.into_iter(), |s| matches!(s, Status::Unknown(_)))
                }
            }
        }
    }
}

/// For `AND`: any non-free part decides; else any unknown part; else free. For `OR` (called
/// with no free branch): any unknown branch decides; else every branch is non-free.
fn combine(statuses: impl Iterator<Item = Status>, decisive: impl Fn(&Status) -> bool) -> Status {
    let statuses: Vec<Status> = statuses.collect();
    let pick = |want_decisive: bool| -> Vec<String> {
        statuses
            .iter()
            .filter(|s| decisive(s) == want_decisive)
            .flat_map(|s| match s {
                Status::Free => Vec::new(),
                Status::NonFree(ids) | Status::Unknown(ids) => ids.clone(),
            })
            .collect()
    };
    let decided = pick(true);
    if let Some(first) = statuses.iter().find(|s| decisive(s)) {
        return match first {
            Status::NonFree(_) => Status::NonFree(decided),
            _ => Status::Unknown(decided),
        };
    }
    let rest = pick(false);
    match statuses.iter().find(|s| **s != Status::Free) {
        None => Status::Free,
        Some(Status::NonFree(_)) => Status::NonFree(rest),
        Some(_) => Status::Unknown(rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> LicenseTable {
        LicenseTable {
            free: vec!["MIT".into(), "Apache-2.0".into(), "GPL-2.0-or-later".into()],
            non_free: vec!["CC-BY-NC-4.0".into()],
            free_exceptions: vec!["Classpath-exception-2.0".into()],
            text: Vec::new(),
            dep5: Vec::new(),
            detection: Detection::default(),
        }
    }

    fn status(text: &str) -> Status {
        table().status(&parse(text).unwrap())
    }

    #[test]
    fn parses_precedence_and_round_trips() {
        let e = parse("MIT OR Apache-2.0 AND (GPL-2.0+ WITH Classpath-exception-2.0)").unwrap();
        assert_eq!(
            e.to_string(),
            "MIT OR (Apache-2.0 AND GPL-2.0+ WITH Classpath-exception-2.0)"
        );
        assert!(matches!(e, Expression::Or(ref parts) if parts.len() == 2));
    }

    #[test]
    fn rejects_bad_expressions_with_offsets() {
        for (text, offset) in [
            ("MIT OR", 6),
            ("(MIT", 4),
            ("MIT Apache-2.0", 4),
            ("MIT or Apache-2.0", 4),
            ("MIT/Apache-2.0", 3),
            ("", 0),
            ("LicenseRef-", 0),
            ("(MIT OR BSD-2-Clause) WITH x", 22),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.offset, offset, "{text}: {err}");
        }
        assert!(
            parse("MIT or Apache-2.0")
                .unwrap_err()
                .message
                .contains("`OR`")
        );
    }

    #[test]
    fn judges_against_the_table() {
        assert_eq!(status("mit"), Status::Free);
        assert_eq!(status("MIT OR CC-BY-NC-4.0"), Status::Free);
        assert_eq!(
            status("MIT AND CC-BY-NC-4.0"),
            Status::NonFree(vec!["CC-BY-NC-4.0".into()])
        );
        assert_eq!(status("GPL-2.0+"), Status::Free);
        assert_eq!(status("GPL-2.0-only+"), Status::Free);
        assert_eq!(
            status("CC-BY-NC-4.0 OR LicenseRef-x"),
            Status::Unknown(vec!["LicenseRef-x".into()])
        );
        assert_eq!(
            status("MIT WITH Foo-exception"),
            Status::Unknown(vec!["Foo-exception".into()])
        );
        assert_eq!(
            status("Apache-2.0 WITH Classpath-exception-2.0"),
            Status::Free
        );
    }

    #[test]
    fn dep5_names_follow_copyright_format() {
        let table: LicenseTable = toml::from_str(include_str!("../policy/licenses.toml")).unwrap();
        let dep5 = |text: &str| table.dep5(&parse(text).unwrap());
        assert_eq!(
            dep5("GPL-2.0-or-later"),
            Dep5License {
                name: "GPL-2+".into(),
                common_license: Some("GPL-2".into()),
                common_text: dep5("GPL-2.0-or-later").common_text,
            }
        );
        let gpl = dep5("GPL-2.0-or-later").common_text.unwrap();
        assert!(gpl.contains("either version 2 of the License, or"), "{gpl}");
        assert!(
            gpl.ends_with(
                "On Debian systems, the complete text of the GNU General Public License\n\
                 version 2 can be found in \"/usr/share/common-licenses/GPL-2\"."
            ),
            "{gpl}"
        );
        let gpl_only = dep5("GPL-2.0-only").common_text.unwrap();
        assert!(!gpl_only.contains("any later version"), "{gpl_only}");
        assert!(dep5("MIT").common_text.is_none());
        assert_eq!(dep5("GPL-2.0+").name, "GPL-2+");
        assert_eq!(dep5("MIT").name, "Expat");
        assert_eq!(dep5("MIT").common_license, None);
        assert_eq!(
            dep5("Apache-2.0").common_license.as_deref(),
            Some("Apache-2.0")
        );
        assert_eq!(
            dep5("(MIT OR GPL-3.0-only) AND CC-BY-4.0").name,
            "(Expat or GPL-3) and CC-BY-4.0"
        );
        assert_eq!(
            dep5("GPL-2.0-or-later WITH Classpath-exception-2.0").name,
            "GPL-2+ with Classpath exception"
        );
        assert_eq!(dep5("GPL-3.0-or-later OR MIT").common_license, None);
    }

    #[test]
    fn text_identifiers_drop_what_a_text_cannot_say() {
        assert_eq!(text_identifier("GPL-2.0+"), "GPL-2.0-only");
        assert_eq!(text_identifier("LGPL-2.1-or-later"), "LGPL-2.1-only");
        assert_eq!(
            text_identifier("GFDL-1.3-invariants-or-later"),
            "GFDL-1.3-only"
        );
        assert_eq!(text_identifier("Apache-2.0"), "Apache-2.0");
        assert_eq!(text_family("GPL-2.0-or-later"), text_family("GPL-2.0"));
        assert_ne!(text_family("LGPL-2.1-only"), text_family("GPL-2.0"));
    }
}
