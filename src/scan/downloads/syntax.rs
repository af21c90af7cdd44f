//! What the download search asks of a language, and the text handling all languages share:
//! logical lines (continuations joined, comments dropped), variables, expansion, URLs.
//! Nothing here runs anything: text is only read and substituted.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use super::hub::Call;
use super::policy::DownloadPolicy;

/// One language's rules, as far as finding downloads needs them. A value reads one file: it may
/// keep what it learns of the file's structure (Make rules, Python function nesting).
pub trait Syntax {
    /// Whether a physical line is a whole-line comment, skipped even inside a continued line.
    fn is_comment(&self, line: &str) -> bool {
        line.trim_start().starts_with('#')
    }

    /// The character that, ending a line, continues it on the next.
    fn continuation_mark(&self) -> Option<char> {
        None
    }

    /// Whether a statement runs on until its brackets close (Python expressions, CMake
    /// commands), whatever its line ends with.
    fn brackets_join_lines(&self) -> bool {
        false
    }

    /// Whether variable names ignore case.
    fn names_ignore_case(&self) -> bool {
        false
    }

    /// Follows the function, target or label the logical line `text` belongs to. Called on
    /// every line before anything else is read from it. Languages without blocks, and the
    /// data and documentation readers (every line stands alone), keep the default.
    fn track_block(&mut self, _text: &str, _vars: &Variables, _blocks: &mut Blocks) {}

    /// The variable assignment on the logical line `text`, its value evaluated with `vars`;
    /// none in data and documentation.
    fn assignment(&self, _text: &str, _vars: &Variables) -> Option<Assignment> {
        None
    }

    /// A statement that restricts a name to a few literal strings (Python's `assert NAME in
    /// {'a', 'b'}`): the name and the strings.
    fn choices(&self, _text: &str, _vars: &Variables) -> Option<(String, Vec<String>)> {
        None
    }

    /// A reference to a known variable at the start of `text`; none in data and
    /// documentation.
    fn reference(&self, _text: &str, _vars: &Variables) -> Option<Reference> {
        None
    }

    /// `text` with references to known variables replaced; unknown ones stay as written.
    /// Expansion stops at the policy's length and reference-count caps (the rest of `text`
    /// is dropped, and `vars` remembers that a cap was reached).
    fn expand(&self, text: &str, vars: &Variables) -> Expanded {
        let mut out = Expanded::default();
        let mut rest = text;
        let mut references = 0usize;
        while let Some(c) = rest.chars().next() {
            if let Some(reference) = self.reference(rest, vars) {
                references += 1;
                if references > vars.limits.max_expansions
                    || out.text.len() + reference.value.len() > vars.limits.max_expanded_length
                {
                    vars.limited.set(true);
                    break;
                }
                out.text.push_str(&reference.value);
                if let Some(name) = reference.name
                    && !out.used.contains(&name)
                {
                    out.used.push(name);
                }
                rest = &rest[reference.len..];
            } else {
                if out.text.len() + c.len_utf8() > vars.limits.max_expanded_length {
                    vars.limited.set(true);
                    break;
                }
                out.text.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        out
    }

    /// The URLs of the logical line `text`, each expanded, with the text it was assembled from
    /// when variables went into it. Commands are split into words; a word's variables are
    /// expanded before its URLs are looked for.
    fn urls(&self, text: &str, vars: &Variables) -> Vec<UrlUse> {
        let mut out = Vec::new();
        for word in text.split(|c: char| c.is_whitespace() || "\"'`".contains(c)) {
            if word.is_empty() {
                continue;
            }
            let expanded = self.expand(word, vars);
            let as_written: Option<Rc<str>> =
                (!expanded.used.is_empty()).then(|| written_url(word).into());
            for (_, url) in find_urls(&expanded.text) {
                out.push(UrlUse {
                    url: url.to_string(),
                    as_written: as_written.clone(),
                    used: expanded.used.clone(),
                });
            }
        }
        out
    }

    /// `text` with command substitutions the syntax can evaluate without running anything
    /// replaced (a shell's `$(cat FILE)` of a file in the tree).
    fn substitute_commands<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        std::borrow::Cow::Borrowed(text)
    }

    /// The command a line runs: its first word, after `if`, `then`, `do` and the like
    /// (`$DL` of `$DL "$url"`, `fetch` of `fetch https://…`).
    fn command_name<'t>(&self, text: &'t str) -> Option<&'t str> {
        let mut words = text
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|w| !w.is_empty());
        words.find(|w| !["if", "then", "do", "else", "!", "&&", "||", "@", "call"].contains(w))
    }

    /// The calls on the logical line `text`, with their arguments, for the hub-call table.
    /// Only Python's are read.
    fn calls(&self, _text: &str, _vars: &Variables) -> Vec<Call> {
        Vec::new()
    }

    /// Whether the line fetches by what it is in this language, with no fetch command written
    /// in it (a JSON URL value under a `url` key).
    fn fetches(&self, _policy: &DownloadPolicy, _text: &str) -> bool {
        false
    }

    /// The catalogue entry the line last given to `track_block` belongs to, by its key path
    /// (`stt_models.en.latest.jit`). Only YAML's are followed.
    fn entry(&self) -> Option<&str> {
        None
    }

    /// Whether the line last given to `track_block` is prose inside code (a Python
    /// docstring): its URLs are documentation, and its calls are not calls.
    fn is_prose(&self) -> bool {
        false
    }

    /// Whether lines of this language run commands, so that a path on one may name a script
    /// the file runs. Documentation only shows commands to a reader.
    fn runs_commands(&self) -> bool {
        true
    }

    /// Blocks a package build never enters: Make targets no build goal reaches.
    fn blocks_outside_build(&self, _build_goals: &[String]) -> HashSet<u32> {
        HashSet::new()
    }

    /// Whether a download in `block` of the file, of a kind whose downloads run with the
    /// program, is rather part of a script run by hand. Only Python library code and scripts
    /// share a file kind.
    fn script_use(
        &self,
        _policy: &DownloadPolicy,
        _rel: &str,
        _shebang: bool,
        _blocks: &Blocks,
        _block: u32,
    ) -> ScriptUse {
        ScriptUse::Library
    }
}

/// How a download in a file whose downloads run with the program is run, when it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptUse {
    /// Library code: the download runs when the program calls it.
    Library,
    /// A script run by hand, whatever else is known: under a script directory (`tests/`,
    /// `tools/`) or under an `if __name__ == "__main__":` guard.
    Script(&'static str),
    /// The file looks like a script (a `#!` line, a `__main__` guard) but may be a module of
    /// a package: the tree pass decides, from an `__init__.py` beside it.
    ScriptUnlessPackaged,
}

/// The part of a word a URL was assembled from: from its scheme or first variable reference
/// to its end, without trailing separators and unbalanced closing parentheses
/// (`--url=$(URL));` → `$(URL)`).
pub fn written_url(word: &str) -> String {
    let start = ["://", "$", "%"]
        .iter()
        .filter_map(|m| word.find(m))
        .min()
        .unwrap_or(0);
    let start = scheme_start(word, start).min(start);
    balanced_end(word[start..].trim_end_matches([';', ','])).to_string()
}

/// Where the run of ASCII letters ending at byte `end` of `text` starts. Scans bytes: the
/// byte before the run is an ASCII non-letter or the last byte of a multi-byte character, so
/// the result is always a character boundary (`«https://` → after `«`).
fn scheme_start(text: &str, end: usize) -> usize {
    text.as_bytes()[..end]
        .iter()
        .rposition(|b| !b.is_ascii_alphabetic())
        .map_or(0, |i| i + 1)
}

/// `text` without closing parentheses that close nothing opened in it (`$(URL))` → `$(URL)`).
fn balanced_end(mut text: &str) -> &str {
    while text.ends_with(')') && text.matches(')').count() > text.matches('(').count() {
        text = &text[..text.len() - 1];
    }
    text
}

/// A URL found on a line: expanded, as written when variables went into it, and the
/// variables used.
#[derive(Debug, Clone)]
pub struct UrlUse {
    pub url: String,
    /// Shared by the URLs of one word or string: one can hold hundreds of them.
    pub as_written: Option<Rc<str>>,
    pub used: Vec<String>,
}

/// A variable assignment, its value evaluated.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub name: String,
    /// `None` when the value could not be evaluated: the variable is then unknown.
    pub value: Option<Value>,
}

impl Assignment {
    /// `name` set to `written` with the references to known variables replaced.
    pub fn expanded(
        syntax: &(impl Syntax + ?Sized),
        name: String,
        written: String,
        vars: &Variables,
    ) -> Self {
        Self {
            name,
            value: Some(Value::expanded(syntax, written, vars)),
        }
    }
}

/// An evaluated variable value.
#[derive(Debug, Clone)]
pub struct Value {
    pub text: String,
    /// The value as written, when variables went into it.
    pub as_written: Option<String>,
    /// The variables it was made from: using the variable uses them too.
    pub made_from: Vec<String>,
}

impl Value {
    /// `written` with the references to known variables replaced.
    pub fn expanded(syntax: &(impl Syntax + ?Sized), written: String, vars: &Variables) -> Self {
        let expanded = syntax.expand(&written, vars);
        Self {
            text: expanded.text,
            as_written: (!expanded.used.is_empty()).then_some(written),
            made_from: expanded.used,
        }
    }
}

/// A variable reference: the value it stands for, the variable's name (none for Make's `$$`
/// and `$@`), and the length of the reference.
#[derive(Debug, Clone)]
pub struct Reference {
    pub value: String,
    pub name: Option<String>,
    pub len: usize,
}

/// Expansion of a piece of text: the result, and the variables it used.
#[derive(Debug, Default)]
pub struct Expanded {
    pub text: String,
    pub used: Vec<String>,
}

/// The functions, targets and labels of a file, numbered from 1 in the order they open; 0
/// is the top level.
#[derive(Debug, Default)]
pub struct Blocks {
    current: u32,
    opened: u32,
    names: HashMap<u32, String>,
    /// The block each block was opened in.
    parents: HashMap<u32, u32>,
}

impl Blocks {
    /// Opens block `name`; the following lines are in it.
    pub fn open(&mut self, name: &str) -> u32 {
        self.opened += 1;
        self.parents.insert(self.opened, self.current);
        self.current = self.opened;
        self.names.insert(self.current, name.to_string());
        self.current
    }

    /// Makes the lines that follow part of `block` (0: the top level).
    pub fn enter(&mut self, block: u32) {
        self.current = block;
    }

    pub fn current(&self) -> u32 {
        self.current
    }

    pub fn name(&self, block: u32) -> &str {
        self.names.get(&block).map_or("", String::as_str)
    }

    /// The block `block` was opened in (0: the top level).
    pub fn parent(&self, block: u32) -> u32 {
        self.parents.get(&block).copied().unwrap_or(0)
    }
}

/// A logical line longer than this is cut: no real command is that long, and the cap keeps
/// memory bounded on a file that never closes a bracket.
pub const MAX_LOGICAL_LINE: usize = 64 * 1024;

/// Reads logical lines: continuation lines joined with a space, full-line comments skipped.
pub struct LogicalLines<R> {
    reader: R,
    number: u64,
    buf: Vec<u8>,
    /// The triple-quoted string the next line starts inside (Python).
    triple: Option<&'static str>,
}

/// One logical line and the physical line it starts on (1-based).
#[derive(Debug, Clone)]
pub struct Line {
    pub number: u64,
    pub text: String,
}

impl<R: BufRead> LogicalLines<R> {
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            number: 0,
            buf: Vec::new(),
            triple: None,
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

    /// The next logical line of a file written in `syntax`.
    pub fn next_line(&mut self, syntax: &dyn Syntax) -> io::Result<Option<Line>> {
        loop {
            let Some(first) = self.physical()? else {
                return Ok(None);
            };
            if syntax.is_comment(&first) {
                continue;
            }
            let number = self.number;
            let mut text = first;
            let mut depth = bracket_depth(syntax, &text, &mut self.triple);
            while text.len() < MAX_LOGICAL_LINE {
                let continued = match continuation(syntax, &text) {
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
                if syntax.is_comment(&next) {
                    continue;
                }
                depth += bracket_depth(syntax, &next, &mut self.triple);
                text.push(' ');
                text.push_str(next.trim());
            }
            return Ok(Some(Line { number, text }));
        }
    }
}

/// When `line` ends with a continuation mark, the length to keep.
fn continuation(syntax: &dyn Syntax, line: &str) -> Option<usize> {
    let mark = syntax.continuation_mark()?;
    line.trim_end().strip_suffix(mark).map(str::len)
}

/// Net open brackets on a line, outside quotes, for syntaxes whose statements run on until
/// their brackets close. `triple` is the triple-quoted string (Python's `"""`, `'''`) the
/// line starts inside, updated to the one it ends inside: brackets and apostrophes in a
/// docstring's prose do not count.
fn bracket_depth(syntax: &dyn Syntax, line: &str, triple: &mut Option<&'static str>) -> i64 {
    if !syntax.brackets_join_lines() {
        return 0;
    }
    let mut depth = 0i64;
    let mut quote = None;
    let mut escaped = false;
    let mut chars = line.char_indices();
    while let Some((at, c)) = chars.next() {
        if let Some(delim) = *triple {
            if line[at..].starts_with(delim) {
                *triple = None;
                chars.nth(1);
            }
            continue;
        }
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
            '"' | '\'' => {
                let delim = if c == '"' { "\"\"\"" } else { "'''" };
                if line[at..].starts_with(delim) {
                    *triple = Some(delim);
                    chars.nth(1);
                } else {
                    quote = Some(c);
                }
            }
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
    /// Names known to hold one of a few literal strings (`assert model_type in {'gpt2',
    /// 'gpt2-medium'}`), kept apart from `values` since no single value stands for them.
    choices: HashMap<String, Vec<String>>,
    ignore_case: bool,
    pub limits: ExpansionLimits,
    /// Set when an expansion stopped at one of `limits`.
    pub limited: Cell<bool>,
}

/// How far one piece of text may be expanded (`max-expanded-length`, `max-expansions` in
/// `policy/downloads.toml`): without a bound, values made of references to values made of
/// references grow exponentially with the file.
#[derive(Debug, Clone, Copy)]
pub struct ExpansionLimits {
    /// Longest expansion, in bytes.
    pub max_expanded_length: usize,
    /// Most variable references replaced in one piece of text.
    pub max_expansions: usize,
}

impl Default for ExpansionLimits {
    fn default() -> Self {
        Self {
            max_expanded_length: MAX_VALUE,
            max_expansions: 64,
        }
    }
}

/// Bounds on what a file can make us remember.
const MAX_VARIABLES: usize = 10_000;
const MAX_VALUE: usize = 8 * 1024;
/// Most literal strings one name may be known to choose from.
const MAX_CHOICES: usize = 64;

impl Variables {
    pub fn new(ignore_case: bool) -> Self {
        Self {
            ignore_case,
            ..Self::default()
        }
    }

    pub fn with_limits(mut self, limits: ExpansionLimits) -> Self {
        self.limits = limits;
        self
    }

    fn key(&self, name: &str) -> String {
        if self.ignore_case {
            name.to_ascii_uppercase()
        } else {
            name.to_string()
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(&self.key(name)).map(String::as_str)
    }

    pub fn set(&mut self, name: &str, value: String) {
        if value.len() > MAX_VALUE
            || (self.values.len() >= MAX_VARIABLES && self.get(name).is_none())
        {
            return;
        }
        self.values.insert(self.key(name), value);
    }

    pub fn remove(&mut self, name: &str) {
        let key = self.key(name);
        self.values.remove(&key);
        self.choices.remove(&key);
    }

    /// Records that `name` holds one of `values`; ignored past the caps.
    pub fn set_choices(&mut self, name: &str, values: Vec<String>) {
        if values.is_empty()
            || values.len() > MAX_CHOICES
            || values.iter().any(|v| v.len() > MAX_VALUE)
            || (self.choices.len() >= MAX_VARIABLES && self.choices_of(name).is_none())
        {
            return;
        }
        self.choices.insert(self.key(name), values);
    }

    /// The literal strings `name` is known to choose from.
    pub fn choices_of(&self, name: &str) -> Option<&[String]> {
        self.choices.get(&self.key(name)).map(Vec::as_slice)
    }
}

pub fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits a leading identifier off `text`.
pub fn leading_name(text: &str) -> Option<(&str, &str)> {
    if !text.starts_with(is_name_start) {
        return None;
    }
    let end = text.find(|c: char| !is_name_char(c)).unwrap_or(text.len());
    Some(text.split_at(end))
}

/// The first shell word of `text` with its quotes removed (`"a b"c` → `a bc`).
pub fn shell_word(text: &str) -> String {
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

/// The URLs in `text`: `http://`, `https://` and `ftp://` up to the first character that
/// cannot be part of one where it stands.
pub fn find_urls(text: &str) -> Vec<(usize, &str)> {
    let mut urls = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("://") {
        let sep = from + at;
        let scheme_start = scheme_start(text, sep);
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
                c => {
                    c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | ',' | '«' | '»')
                }
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
    use super::super::{cmake::Cmake, shell::Shell};
    use super::*;

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
    fn urls_right_after_multi_byte_characters_are_found_without_panicking() {
        let urls: Vec<&str> =
            find_urls("«https://a.org/m.bin» 下载：https://b.org/x.pt ☃http://c/d")
                .into_iter()
                .map(|(_, u)| u)
                .collect();
        assert_eq!(
            urls,
            ["https://a.org/m.bin", "https://b.org/x.pt", "http://c/d"]
        );
        assert_eq!(written_url("«https://a.org/$F"), "https://a.org/$F");
        assert_eq!(written_url("下载：$URL"), "$URL");
    }

    #[test]
    fn logical_lines_join_continuations_and_skip_comments() {
        let text = "# c\nwget \\\n  https://h/m.bin\nfile(DOWNLOAD u\n  d)\n";
        let mut lines = LogicalLines::new(text.as_bytes());
        let first = lines.next_line(&Shell::new(None)).unwrap().unwrap();
        assert_eq!(
            (first.number, first.text.as_str()),
            (2, "wget  https://h/m.bin")
        );
        let mut lines = LogicalLines::new("file(DOWNLOAD u\n  d)\nx()\n".as_bytes());
        let first = lines.next_line(&Cmake).unwrap().unwrap();
        assert_eq!(first.text, "file(DOWNLOAD u d)");
        assert_eq!(lines.next_line(&Cmake).unwrap().unwrap().number, 3);
    }

    #[test]
    fn urls_assembled_from_variables_keep_the_text_they_were_written_as() {
        assert_eq!(written_url("--url=$(URL));"), "$(URL)");
        assert_eq!(
            written_url("url=https://$HOST/m.bin;"),
            "https://$HOST/m.bin"
        );
    }
}
