//! Just enough of the syntax of shell, Make, CMake, Python, batch and PowerShell to find URLs:
//! logical lines (continuations joined, comments dropped), variable assignments, and variable
//! expansion. Nothing here runs anything: text is only read and substituted.

use std::collections::HashMap;
use std::io::{self, BufRead, Read};

use serde::Deserialize;

/// How a file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Syntax {
    Shell,
    Make,
    Cmake,
    Python,
    Batch,
    Powershell,
    /// Documentation: no variables, no comments, every line stands alone.
    Docs,
}

/// A logical line longer than this is cut: no real command is that long, and the cap keeps
/// memory bounded on a file that never closes a bracket.
const MAX_LOGICAL_LINE: usize = 64 * 1024;

/// Reads logical lines: continuation lines joined with a space, full-line comments skipped.
pub struct LogicalLines<R> {
    reader: R,
    syntax: Syntax,
    number: u64,
    buf: Vec<u8>,
}

/// One logical line and the physical line it starts on (1-based).
#[derive(Debug, Clone)]
pub struct Line {
    pub number: u64,
    pub text: String,
}

impl<R: BufRead> LogicalLines<R> {
    pub fn new(reader: R, syntax: Syntax) -> Self {
        Self {
            reader,
            syntax,
            number: 0,
            buf: Vec::new(),
        }
    }

    fn physical(&mut self) -> io::Result<Option<String>> {
        self.buf.clear();
        let read = Read::take(&mut self.reader, MAX_LOGICAL_LINE as u64)
            .read_until(b'\n', &mut self.buf)?;
        if read == 0 {
            return Ok(None);
        }
        // A line longer than the cap is read on as further lines; it is junk either way.
        self.number += 1;
        let text = String::from_utf8_lossy(&self.buf);
        Ok(Some(text.trim_end_matches(['\n', '\r']).to_string()))
    }

    pub fn next_line(&mut self) -> io::Result<Option<Line>> {
        loop {
            let Some(first) = self.physical()? else {
                return Ok(None);
            };
            if is_comment(self.syntax, &first) {
                continue;
            }
            let number = self.number;
            let mut text = first;
            let mut depth = bracket_depth(self.syntax, &text);
            while text.len() < MAX_LOGICAL_LINE {
                let continued = match continuation(self.syntax, &text) {
                    Some(stripped) => {
                        text.truncate(stripped);
                        true
                    }
                    None => depth > 0,
                };
                if !continued {
                    break;
                }
                let Some(next) = self.physical()? else { break };
                if is_comment(self.syntax, &next) {
                    continue;
                }
                depth += bracket_depth(self.syntax, &next);
                text.push(' ');
                text.push_str(next.trim());
            }
            return Ok(Some(Line { number, text }));
        }
    }
}

fn is_comment(syntax: Syntax, line: &str) -> bool {
    let trimmed = line.trim_start();
    match syntax {
        Syntax::Docs => false,
        Syntax::Batch => {
            let lower = trimmed.trim_start_matches('@').to_ascii_lowercase();
            lower.starts_with("::") || lower == "rem" || lower.starts_with("rem ")
        }
        _ => trimmed.starts_with('#'),
    }
}

/// When `line` ends with a continuation mark, the length to keep.
fn continuation(syntax: Syntax, line: &str) -> Option<usize> {
    let mark = match syntax {
        Syntax::Shell | Syntax::Make | Syntax::Python => '\\',
        Syntax::Batch => '^',
        Syntax::Powershell => '`',
        Syntax::Cmake | Syntax::Docs => return None,
    };
    let trimmed = line.trim_end();
    trimmed.strip_suffix(mark).map(str::len)
}

/// Net open brackets on a line, outside quotes, for syntaxes whose statements run on until
/// their brackets close (Python expressions, CMake commands).
fn bracket_depth(syntax: Syntax, line: &str) -> i64 {
    if !matches!(syntax, Syntax::Python | Syntax::Cmake) {
        return 0;
    }
    let mut depth = 0i64;
    let mut quote = None;
    let mut escaped = false;
    for c in line.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '#' => break,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
    }
    depth
}

/// Variables defined in one file, with values expanded when they were defined.
#[derive(Debug, Default)]
pub struct Variables {
    values: HashMap<String, String>,
}

/// Bounds on what a file can make us remember.
const MAX_VARIABLES: usize = 10_000;
const MAX_VALUE: usize = 8 * 1024;

impl Variables {
    fn key(syntax: Syntax, name: &str) -> String {
        match syntax {
            // Batch and PowerShell variable names ignore case.
            Syntax::Batch | Syntax::Powershell => name.to_ascii_uppercase(),
            _ => name.to_string(),
        }
    }

    pub fn get(&self, syntax: Syntax, name: &str) -> Option<&str> {
        self.values
            .get(&Self::key(syntax, name))
            .map(String::as_str)
    }

    pub fn set(&mut self, syntax: Syntax, name: &str, value: String) {
        if value.len() > MAX_VALUE
            || (self.values.len() >= MAX_VARIABLES && self.get(syntax, name).is_none())
        {
            return;
        }
        self.values.insert(Self::key(syntax, name), value);
    }

    pub fn remove(&mut self, syntax: Syntax, name: &str) {
        self.values.remove(&Self::key(syntax, name));
    }
}

/// A variable assignment found on a logical line: the name and the value as written (quotes
/// removed, not yet expanded). `append` is Make's `+=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub name: String,
    pub value: String,
    pub append: bool,
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits a leading identifier off `text`.
fn leading_name(text: &str) -> Option<(&str, &str)> {
    if !text.starts_with(is_name_start) {
        return None;
    }
    let end = text.find(|c: char| !is_name_char(c)).unwrap_or(text.len());
    Some(text.split_at(end))
}

/// Parses a variable assignment, for the syntaxes whose values are plain text. Python
/// assignments need expression evaluation and are handled by [`python_assignment`].
pub fn assignment(syntax: Syntax, line: &str) -> Option<Assignment> {
    let trimmed = line.trim();
    match syntax {
        Syntax::Shell => {
            let mut rest = trimmed;
            for keyword in ["export ", "local ", "readonly ", "declare "] {
                if let Some(after) = rest.strip_prefix(keyword) {
                    rest = after.trim_start();
                }
            }
            let (name, after) = leading_name(rest)?;
            let value = after.strip_prefix('=')?;
            Some(Assignment {
                name: name.to_string(),
                value: shell_word(value),
                append: false,
            })
        }
        Syntax::Make => {
            if line.starts_with('\t') {
                return None;
            }
            let mut rest = trimmed;
            for keyword in ["export ", "override "] {
                if let Some(after) = rest.strip_prefix(keyword) {
                    rest = after.trim_start();
                }
            }
            let end = rest
                .find(|c: char| !(is_name_char(c) || c == '.' || c == '-'))
                .unwrap_or(rest.len());
            let (name, after) = rest.split_at(end);
            if name.is_empty() {
                return None;
            }
            let after = after.trim_start();
            let (op, value) = ["::=", ":=", "?=", "+=", "="]
                .iter()
                .find_map(|op| after.strip_prefix(op).map(|v| (*op, v)))?;
            if value.starts_with('=') {
                return None;
            }
            Some(Assignment {
                name: name.to_string(),
                value: value.trim().to_string(),
                append: op == "+=",
            })
        }
        Syntax::Cmake => {
            let open = trimmed.find('(')?;
            if !trimmed[..open].trim().eq_ignore_ascii_case("set") {
                return None;
            }
            let inner = trimmed[open + 1..].trim_end().strip_suffix(')')?;
            let words = split_words(inner);
            let name = words.first()?;
            if !name.starts_with(is_name_start) {
                return None;
            }
            Some(Assignment {
                name: name.clone(),
                value: words.get(1).cloned().unwrap_or_default(),
                append: false,
            })
        }
        Syntax::Batch => {
            let lower = trimmed.trim_start_matches('@').to_ascii_lowercase();
            if !lower.starts_with("set ") {
                return None;
            }
            let body = trimmed.trim_start_matches('@')[4..].trim();
            if body.starts_with('/') {
                return None;
            }
            let body = body
                .strip_prefix('"')
                .and_then(|b| b.strip_suffix('"'))
                .unwrap_or(body);
            let (name, value) = body.split_once('=')?;
            let name = name.trim();
            if name.is_empty() || name.contains(char::is_whitespace) {
                return None;
            }
            Some(Assignment {
                name: name.to_string(),
                value: value.to_string(),
                append: false,
            })
        }
        Syntax::Powershell => {
            let rest = trimmed.strip_prefix('$')?;
            let (name, after) = leading_name(rest)?;
            let value = after.trim_start().strip_prefix('=')?;
            if value.starts_with('=') {
                return None;
            }
            Some(Assignment {
                name: name.to_string(),
                value: shell_word(value.trim()),
                append: false,
            })
        }
        Syntax::Python | Syntax::Docs => None,
    }
}

/// The first shell word of `text` with its quotes removed (`"a b"c` → `a bc`).
fn shell_word(text: &str) -> String {
    let mut out = String::new();
    let mut quote = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => out.push(c),
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c.is_whitespace() || c == ';' => break,
            None => out.push(c),
        }
    }
    out
}

/// Splits on whitespace, keeping quoted parts together and removing the quotes.
pub fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    let mut in_word = false;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            None => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

/// Expansion of a piece of text: the result, and the variables it used.
#[derive(Debug, Default)]
pub struct Expanded {
    pub text: String,
    pub used: Vec<String>,
}

/// Replaces references to variables defined in `vars`; unknown ones stay as written. `target`
/// is Make's `$@` inside a recipe.
pub fn expand(syntax: Syntax, text: &str, vars: &Variables, target: Option<&str>) -> Expanded {
    let mut out = Expanded::default();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some((value, name, len)) = reference(syntax, rest, vars, target) {
            out.text.push_str(&value);
            if let Some(name) = name {
                out.used.push(name);
            }
            rest = &rest[len..];
        } else {
            out.text.push(c);
            rest = &rest[c.len_utf8()..];
        }
        if out.text.len() > MAX_LOGICAL_LINE {
            break;
        }
    }
    out
}

/// A variable reference at the start of `text`: its value, the variable's name, and the
/// length of the reference.
fn reference(
    syntax: Syntax,
    text: &str,
    vars: &Variables,
    target: Option<&str>,
) -> Option<(String, Option<String>, usize)> {
    let lookup = |name: &str| vars.get(syntax, name).map(str::to_string);
    match syntax {
        Syntax::Shell | Syntax::Powershell => {
            let rest = text.strip_prefix('$')?;
            if let Some(inner) = rest.strip_prefix('{') {
                let close = inner.find('}')?;
                let body = &inner[..close];
                let (name, default) = match body.find([':', '-', '=']) {
                    Some(at) => (
                        &body[..at],
                        Some(body[at..].trim_start_matches([':', '-', '='])),
                    ),
                    None => (body, None),
                };
                let value = lookup(name).or_else(|| default.map(str::to_string))?;
                return Some((value, Some(name.to_string()), close + 3));
            }
            let (name, _) = leading_name(rest)?;
            Some((lookup(name)?, Some(name.to_string()), name.len() + 1))
        }
        Syntax::Make => {
            if let Some(after) = text.strip_prefix("$$") {
                let _ = after;
                return Some(("$".to_string(), None, 2));
            }
            if text.starts_with("$@") {
                return Some((target?.to_string(), None, 2));
            }
            let rest = text.strip_prefix('$')?;
            let close = match rest.chars().next()? {
                '(' => ')',
                '{' => '}',
                _ => return None,
            };
            let end = rest.find(close)?;
            let name = &rest[1..end];
            Some((lookup(name)?, Some(name.to_string()), end + 2))
        }
        Syntax::Cmake => {
            let inner = text.strip_prefix("${")?;
            let end = inner.find('}')?;
            let name = &inner[..end];
            Some((lookup(name)?, Some(name.to_string()), end + 3))
        }
        Syntax::Batch => {
            let inner = text.strip_prefix('%')?;
            let end = inner.find('%')?;
            let name = &inner[..end];
            if name.is_empty() || name.contains(char::is_whitespace) {
                return None;
            }
            Some((lookup(name)?, Some(name.to_string()), end + 2))
        }
        Syntax::Python | Syntax::Docs => None,
    }
}

/// A Python string expression: its value, the source text it came from, and the variables and
/// formatting it used (non-empty `used` means the URL was assembled).
#[derive(Debug, Clone)]
pub struct PyString {
    pub value: String,
    pub source: String,
    pub used: Vec<String>,
}

#[derive(Debug, Clone)]
enum PyToken<'a> {
    /// A string literal: its content, whether it is an f-string, its source text.
    Str {
        content: String,
        fstring: bool,
        source: &'a str,
    },
    Name(&'a str),
    Op(char, &'a str),
}

fn py_tokens(line: &str) -> Vec<PyToken<'_>> {
    let mut tokens = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'#' {
            break;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
            {
                i += 1;
            }
            let word = &line[start..i];
            let is_prefix = word.len() <= 2
                && word
                    .chars()
                    .all(|ch| matches!(ch.to_ascii_lowercase(), 'f' | 'r' | 'b' | 'u'));
            if is_prefix && i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let fstring = word.to_ascii_lowercase().contains('f');
                let raw = word.to_ascii_lowercase().contains('r');
                let (content, end) = py_string_body(line, i, raw);
                tokens.push(PyToken::Str {
                    content,
                    fstring,
                    source: &line[start..end],
                });
                i = end;
            } else {
                tokens.push(PyToken::Name(word));
            }
            continue;
        }
        if c == b'"' || c == b'\'' {
            let (content, end) = py_string_body(line, i, false);
            tokens.push(PyToken::Str {
                content,
                fstring: false,
                source: &line[start..end],
            });
            i = end;
            continue;
        }
        let ch = line[i..].chars().next().unwrap_or(' ');
        i += ch.len_utf8();
        tokens.push(PyToken::Op(ch, &line[start..i]));
    }
    tokens
}

/// Reads a string literal starting at the quote at `start`; returns its content and the index
/// after it (the end of the line when it does not close).
fn py_string_body(line: &str, start: usize, raw: bool) -> (String, usize) {
    let quote = &line[start..start + 1];
    let triple = quote.repeat(3);
    let (delim, mut i) = if line[start..].starts_with(&triple) {
        (triple.as_str(), start + 3)
    } else {
        (quote, start + 1)
    };
    let mut content = String::new();
    while i < line.len() {
        if line[i..].starts_with(delim) {
            return (content, i + delim.len());
        }
        let ch = line[i..].chars().next().unwrap_or(' ');
        if ch == '\\' && !raw {
            i += 1;
            if let Some(next) = line[i..].chars().next() {
                content.push(next);
                i += next.len_utf8();
            }
            continue;
        }
        content.push(ch);
        i += ch.len_utf8();
    }
    (content, line.len())
}

/// Substitutes `{NAME}` fields of an f-string with known variables.
fn fill_fstring(content: &str, vars: &Variables, used: &mut Vec<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = content;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if let Some(escaped) = after.strip_prefix('{') {
            out.push('{');
            rest = escaped;
            continue;
        }
        let close = after.find('}')?;
        let name = after[..close].trim();
        out.push_str(vars.get(Syntax::Python, name)?);
        used.push(name.to_string());
        rest = &after[close + 1..];
    }
    out.push_str(&rest.replace("}}", "}"));
    Some(out)
}

/// Fills `str.format` fields (`{}`, `{0}`, `{name}`) from positional and keyword arguments.
fn fill_format(
    template: &str,
    positional: &[String],
    named: &[(String, String)],
) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    let mut next = 0;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let field = after[..close].trim();
        let value = if field.is_empty() {
            next += 1;
            positional.get(next - 1)?
        } else if let Ok(index) = field.parse::<usize>() {
            positional.get(index)?
        } else {
            &named.iter().find(|(k, _)| k == field)?.1
        };
        out.push_str(value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Finds the string expressions of a Python line (literals, known variables, f-strings,
/// `+` concatenation and simple `.format(...)`) and evaluates them. An expression that uses an
/// unknown variable is left out.
pub fn python_strings(line: &str, vars: &Variables) -> Vec<PyString> {
    let tokens = py_tokens(line);
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match eval_concat(&tokens, i, vars) {
            Some((value, used, end)) => {
                let source = span(line, &tokens[i], &tokens[end - 1]);
                found.push(PyString {
                    value,
                    source,
                    used,
                });
                i = end;
            }
            None => i += 1,
        }
    }
    found
}

/// The source text from the start of `first` to the end of `last`.
fn span(line: &str, first: &PyToken<'_>, last: &PyToken<'_>) -> String {
    let start = token_source(first).as_ptr() as usize - line.as_ptr() as usize;
    let last_src = token_source(last);
    let end = last_src.as_ptr() as usize - line.as_ptr() as usize + last_src.len();
    line[start..end].to_string()
}

fn token_source<'a>(token: &PyToken<'a>) -> &'a str {
    match token {
        PyToken::Str { source, .. } => source,
        PyToken::Name(name) => name,
        PyToken::Op(_, source) => source,
    }
}

/// Evaluates `operand (+ operand)*` from token `start`; returns the value, the variables used
/// and the index after the expression.
fn eval_concat(
    tokens: &[PyToken<'_>],
    start: usize,
    vars: &Variables,
) -> Option<(String, Vec<String>, usize)> {
    let mut used = Vec::new();
    let (mut value, mut i) = eval_operand(tokens, start, vars, &mut used)?;
    while let Some(PyToken::Op('+', _)) = tokens.get(i) {
        let Some((more, next)) = eval_operand(tokens, i + 1, vars, &mut used) else {
            break;
        };
        value.push_str(&more);
        i = next;
    }
    Some((value, used, i))
}

fn eval_operand(
    tokens: &[PyToken<'_>],
    i: usize,
    vars: &Variables,
    used: &mut Vec<String>,
) -> Option<(String, usize)> {
    match tokens.get(i)? {
        PyToken::Str {
            content, fstring, ..
        } => {
            let mut value = if *fstring {
                fill_fstring(content, vars, used)?
            } else {
                content.clone()
            };
            let mut next = i + 1;
            // Adjacent literals concatenate: "a" "b".
            while let Some(PyToken::Str {
                content, fstring, ..
            }) = tokens.get(next)
            {
                value.push_str(&if *fstring {
                    fill_fstring(content, vars, used)?
                } else {
                    content.clone()
                });
                next += 1;
            }
            if let (Some(PyToken::Op('.', _)), Some(PyToken::Name("format"))) =
                (tokens.get(next), tokens.get(next + 1))
            {
                let (positional, named, after) = format_args(tokens, next + 2, vars, used)?;
                value = fill_format(&value, &positional, &named)?;
                used.push("format".to_string());
                next = after;
            }
            Some((value, next))
        }
        PyToken::Name(name) => {
            // A call or attribute access is not a plain variable.
            if matches!(tokens.get(i + 1), Some(PyToken::Op('(' | '[' | '=', _))) {
                return None;
            }
            let value = vars.get(Syntax::Python, name)?.to_string();
            used.push((*name).to_string());
            Some((value, i + 1))
        }
        PyToken::Op(..) => None,
    }
}

type FormatArgs = (Vec<String>, Vec<(String, String)>, usize);

/// Parses `( arg, name=arg, … )` where every argument is a string expression.
fn format_args(
    tokens: &[PyToken<'_>],
    open: usize,
    vars: &Variables,
    used: &mut Vec<String>,
) -> Option<FormatArgs> {
    if !matches!(tokens.get(open), Some(PyToken::Op('(', _))) {
        return None;
    }
    let mut positional = Vec::new();
    let mut named = Vec::new();
    let mut i = open + 1;
    loop {
        match tokens.get(i)? {
            PyToken::Op(')', _) => return Some((positional, named, i + 1)),
            PyToken::Op(',', _) => i += 1,
            PyToken::Name(key) if matches!(tokens.get(i + 1), Some(PyToken::Op('=', _))) => {
                let (value, inner_used, next) = eval_concat(tokens, i + 2, vars)?;
                used.extend(inner_used);
                named.push(((*key).to_string(), value));
                i = next;
            }
            _ => {
                let (value, inner_used, next) = eval_concat(tokens, i, vars)?;
                used.extend(inner_used);
                positional.push(value);
                i = next;
            }
        }
    }
}

/// A Python assignment `NAME = <string expression>` (also `NAME: str = …`): the name and,
/// when the whole right-hand side evaluates, its value.
pub fn python_assignment(line: &str, vars: &Variables) -> Option<(String, Option<PyString>)> {
    let trimmed = line.trim();
    let (name, after) = leading_name(trimmed)?;
    let mut after = after.trim_start();
    if let Some(annotated) = after.strip_prefix(':') {
        after = &annotated[annotated.find('=')?..];
    }
    let rhs = after.strip_prefix('=')?;
    if rhs.starts_with('=') {
        return None;
    }
    let rhs = rhs.trim();
    let strings = python_strings(rhs, vars);
    let whole = strings
        .into_iter()
        .find(|s| s.source.len() == rhs.trim_end_matches(';').trim_end().len());
    Some((name.to_string(), whole))
}

/// The URLs in `text`: `http://`, `https://` and `ftp://` up to the first character that
/// cannot be part of one where it stands.
pub fn find_urls(text: &str) -> Vec<(usize, &str)> {
    let mut urls = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("://") {
        let sep = from + at;
        let scheme_start = text[..sep]
            .rfind(|c: char| !c.is_ascii_alphabetic())
            .map_or(0, |i| i + 1);
        let scheme = text[scheme_start..sep].to_ascii_lowercase();
        from = sep + 3;
        if !matches!(scheme.as_str(), "http" | "https" | "ftp") {
            continue;
        }
        let mut end = sep + 3;
        let mut depth = 0i32;
        for (offset, c) in text[sep + 3..].char_indices() {
            let stop = match c {
                '(' | '[' => {
                    depth += 1;
                    false
                }
                ')' | ']' => {
                    depth -= 1;
                    depth < 0
                }
                c => c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | ','),
            };
            if stop {
                break;
            }
            end = sep + 3 + offset + c.len_utf8();
        }
        let url = text[scheme_start..end].trim_end_matches(['.', ':', ';', '!', '?', '*', '\\']);
        if url.len() > scheme.len() + 3 {
            urls.push((scheme_start, url));
        }
        from = end.max(from);
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_in_each_syntax() {
        let a = assignment(Syntax::Shell, "export BASE=\"https://h/x\" # c").unwrap();
        assert_eq!((a.name.as_str(), a.value.as_str()), ("BASE", "https://h/x"));
        let a = assignment(Syntax::Make, "MODEL := model-$(HASH).bin").unwrap();
        assert_eq!(
            (a.name.as_str(), a.value.as_str()),
            ("MODEL", "model-$(HASH).bin")
        );
        assert!(assignment(Syntax::Make, "all: model.bin").is_none());
        assert!(assignment(Syntax::Make, "\tURL=x").is_none());
        let a = assignment(
            Syntax::Cmake,
            "set(URL \"https://h/m.onnx\" CACHE STRING \"u\")",
        );
        assert_eq!(a.unwrap().value, "https://h/m.onnx");
        let a = assignment(Syntax::Batch, "@set \"URL=https://h/m.bin\"").unwrap();
        assert_eq!(
            (a.name.as_str(), a.value.as_str()),
            ("URL", "https://h/m.bin")
        );
    }

    #[test]
    fn expansion_in_each_syntax() {
        let mut vars = Variables::default();
        vars.set(Syntax::Shell, "B", "https://h".into());
        assert_eq!(
            expand(Syntax::Shell, "${B}/$B/${X:-d}", &vars, None).text,
            "https://h/https://h/d"
        );
        let mut vars = Variables::default();
        vars.set(Syntax::Make, "B", "https://h".into());
        assert_eq!(
            expand(Syntax::Make, "$(B)/$@ $${X}", &vars, Some("t")).text,
            "https://h/t ${X}"
        );
        let mut vars = Variables::default();
        vars.set(Syntax::Batch, "b", "https://h".into());
        assert_eq!(
            expand(Syntax::Batch, "%B%/m %~dp0", &vars, None).text,
            "https://h/m %~dp0"
        );
    }

    #[test]
    fn python_string_expressions() {
        let mut vars = Variables::default();
        vars.set(Syntax::Python, "BASE", "https://h/r".into());
        vars.set(Syntax::Python, "NAME", "m.pt".into());
        let got = python_strings(
            "get(BASE + '/' + NAME, f\"{BASE}/x.pt\", '{}/{n}'.format(BASE, n=NAME), other())",
            &vars,
        );
        let values: Vec<&str> = got.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(
            values,
            ["https://h/r/m.pt", "https://h/r/x.pt", "https://h/r/m.pt"]
        );
        assert_eq!(got[0].source, "BASE + '/' + NAME");
        let (name, value) = python_assignment("URL = BASE + \"/y.bin\"", &vars).unwrap();
        assert_eq!(
            (name.as_str(), value.unwrap().value.as_str()),
            ("URL", "https://h/r/y.bin")
        );
        assert!(
            python_assignment("URL = compute(BASE)", &vars)
                .unwrap()
                .1
                .is_none()
        );
    }

    #[test]
    fn urls_end_where_the_syntax_does() {
        let urls: Vec<&str> =
            find_urls("see [x](https://a.org/m.bin). \"http://b/c?d=1\",ftp://e/f")
                .into_iter()
                .map(|(_, u)| u)
                .collect();
        assert_eq!(urls, ["https://a.org/m.bin", "http://b/c?d=1", "ftp://e/f"]);
    }

    #[test]
    fn logical_lines_join_continuations_and_skip_comments() {
        let text = "# c\nwget \\\n  https://h/m.bin\nfile(DOWNLOAD u\n  d)\n";
        let mut lines = LogicalLines::new(text.as_bytes(), Syntax::Shell);
        let first = lines.next_line().unwrap().unwrap();
        assert_eq!(
            (first.number, first.text.as_str()),
            (2, "wget  https://h/m.bin")
        );
        let mut lines = LogicalLines::new("file(DOWNLOAD u\n  d)\nx()\n".as_bytes(), Syntax::Cmake);
        let first = lines.next_line().unwrap().unwrap();
        assert_eq!(first.text, "file(DOWNLOAD u d)");
        assert_eq!(lines.next_line().unwrap().unwrap().number, 3);
    }
}
