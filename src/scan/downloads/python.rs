//! Python: string expressions are evaluated where they are simple enough (literals, known
//! variables, f-strings, `+`, `str.format`), so a URL built from constants is found whole.
//! Functions are followed by indentation, and so is the body of an `if __name__ ==
//! "__main__":` guard, which only a script run by hand executes. Text inside triple-quoted
//! strings (docstrings, doctest examples: `>>> api.load("text8")`) is prose: its calls are
//! not calls.

use super::hub::{ArgValue, Call};
use super::policy::DownloadPolicy;
use super::syntax::{
    Assignment, Blocks, ScriptUse, Syntax, UrlUse, Value, Variables, find_urls, leading_name,
};

/// The name of the block holding the body of an `if __name__ == "__main__":` guard.
const MAIN_BLOCK: &str = "__main__";

/// Reads one Python file, keeping its function nesting.
#[derive(Debug, Default)]
pub struct Python {
    /// The functions the current line is inside: their indentation and block.
    defs: Vec<(usize, u32)>,
    /// Whether the file has an `if __name__ == "__main__":` guard.
    main_guard: bool,
    /// The closing delimiter of the triple-quoted string the next line starts inside, if any.
    open_string: Option<&'static str>,
    /// Whether the current line is prose: inside a triple-quoted string or one itself.
    prose: bool,
}

impl Syntax for Python {
    fn continuation_mark(&self) -> Option<char> {
        Some('\\')
    }

    fn brackets_join_lines(&self) -> bool {
        true
    }

    /// A line belongs to the innermost `def` indented less than it.
    fn track_block(&mut self, text: &str, _vars: &Variables, blocks: &mut Blocks) {
        let trimmed = text.trim();
        let indent = text.len() - text.trim_start().len();
        // A blank line, or one continuing a triple-quoted string, says nothing of the
        // nesting, however it is indented.
        if trimmed.is_empty() {
            blocks.enter(self.defs.last().map_or(0, |(_, b)| *b));
            self.prose = self.open_string.is_some();
            return;
        }
        if self.open_string.is_some() {
            blocks.enter(self.defs.last().map_or(0, |(_, b)| *b));
            self.prose = true;
            self.open_string = open_string_after(text, self.open_string);
            return;
        }
        while self.defs.last().is_some_and(|(i, _)| indent <= *i) {
            self.defs.pop();
        }
        blocks.enter(self.defs.last().map_or(0, |(_, b)| *b));
        let def = trimmed
            .strip_prefix("async ")
            .unwrap_or(trimmed)
            .strip_prefix("def ");
        if let Some(rest) = def {
            let name = rest.split('(').next().unwrap_or("").trim();
            let block = blocks.open(name);
            self.defs.push((indent, block));
        }
        if trimmed.starts_with("if __name__") && trimmed.contains("__main__") {
            self.main_guard = true;
            let block = blocks.open(MAIN_BLOCK);
            self.defs.push((indent, block));
        }
        self.prose = self.open_string.is_some() || starts_with_string_literal(trimmed);
        self.open_string = open_string_after(text, self.open_string);
    }

    fn assignment(&self, text: &str, vars: &Variables) -> Option<Assignment> {
        let (name, value) = python_assignment(text, vars)?;
        Some(Assignment {
            name,
            value: value.map(|string| Value {
                text: string.value,
                as_written: (!string.used.is_empty()).then_some(string.source),
                made_from: string.used,
            }),
        })
    }

    fn choices(&self, text: &str, _vars: &Variables) -> Option<(String, Vec<String>)> {
        if self.prose {
            return None;
        }
        python_choices(text)
    }

    /// Python has no references to expand inside text: names are evaluated as expressions.
    fn urls(&self, text: &str, vars: &Variables) -> Vec<UrlUse> {
        let mut out = Vec::new();
        for string in python_strings(text, vars) {
            let as_written: Option<std::rc::Rc<str>> =
                (!string.used.is_empty()).then(|| string.source.as_str().into());
            for (_, url) in find_urls(&string.value) {
                out.push(UrlUse {
                    url: url.to_string(),
                    as_written: as_written.clone(),
                    used: string.used.clone(),
                });
            }
        }
        out
    }

    fn is_prose(&self) -> bool {
        self.prose
    }

    fn calls(&self, text: &str, vars: &Variables) -> Vec<Call> {
        if self.prose {
            return Vec::new();
        }
        python_calls(text, vars)
    }

    /// The function a statement calls (`download` of `download(URL)`).
    fn command_name<'t>(&self, text: &'t str) -> Option<&'t str> {
        let (name, after) = leading_name(text.trim_start())?;
        after.trim_start().starts_with('(').then_some(name)
    }

    fn script_use(
        &self,
        policy: &DownloadPolicy,
        rel: &str,
        shebang: bool,
        blocks: &Blocks,
        block: u32,
    ) -> ScriptUse {
        if policy.python_in_script_dir(rel) {
            ScriptUse::Script("in a Python script directory")
        } else if in_block(blocks, block, MAIN_BLOCK) {
            ScriptUse::Script("under `if __name__ == \"__main__\":`, run only as a script")
        } else if shebang || self.main_guard {
            ScriptUse::ScriptUnlessPackaged
        } else {
            ScriptUse::Library
        }
    }
}

/// Whether `block` is the block named `name` or nested in it.
fn in_block(blocks: &Blocks, mut block: u32, name: &str) -> bool {
    while block != 0 {
        if blocks.name(block) == name {
            return true;
        }
        block = blocks.parent(block);
    }
    false
}

/// Whether a line starts with a triple-quoted string literal: a docstring, or a string used
/// as a block comment (`r"""…`, `u'''…` too).
fn starts_with_string_literal(trimmed: &str) -> bool {
    let prefix = trimmed
        .bytes()
        .take(2)
        .take_while(|b| b"rRuUbB".contains(b))
        .count();
    let rest = &trimmed[prefix..];
    rest.starts_with("\"\"\"") || rest.starts_with("'''")
}

/// The closing delimiter of the triple-quoted string still open at the end of `line`, which
/// starts inside the string `open` closes (if any). Single-quoted strings and comments are
/// skipped so that their quotes do not count.
fn open_string_after(line: &str, mut open: Option<&'static str>) -> Option<&'static str> {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(delim) = open {
            match line[i..].find(delim) {
                Some(at) => {
                    i += at + 3;
                    open = None;
                }
                None => return open,
            }
            continue;
        }
        match bytes[i] {
            b'#' => return None,
            b'"' | b'\'' => {
                let triple = if bytes[i] == b'"' { "\"\"\"" } else { "'''" };
                if line[i..].starts_with(triple) {
                    open = Some(triple);
                    i += 3;
                } else {
                    let (_, end) = py_string_body(line, i, false);
                    i = end.max(i + 1);
                }
            }
            _ => i += 1,
        }
    }
    open
}

/// A Python string expression: its value, the source text it came from, and the variables and
/// formatting it used (non-empty `used` means the URL was assembled).
#[derive(Debug, Clone)]
struct PyString {
    value: String,
    source: String,
    used: Vec<String>,
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
        let value = vars.get(name)?;
        if used.len() >= vars.limits.max_expansions
            || out.len() + value.len() > vars.limits.max_expanded_length
        {
            vars.limited.set(true);
            return None;
        }
        out.push_str(value);
        used.push(name.to_string());
        rest = &after[close + 1..];
    }
    out.push_str(&rest.replace("}}", "}"));
    Some(out)
}

/// Fills `str.format` fields (`{}`, `{0}`, `{name}`) from positional and keyword arguments.
/// A field whose argument is not known stays as written (`{fname}`): the URL keeps its known
/// host and path, and shows where the caller's value goes.
fn fill_format(
    template: &str,
    positional: &[Option<String>],
    named: &[(String, Option<String>)],
    vars: &Variables,
) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    let mut next = 0;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let field = after[..close].trim();
        let argument = if field.is_empty() {
            next += 1;
            positional.get(next - 1)?
        } else if let Ok(index) = field.parse::<usize>() {
            positional.get(index)?
        } else {
            &named.iter().find(|(k, _)| k == field)?.1
        };
        let written = &rest[open..open + close + 2];
        let value = argument.as_deref().unwrap_or(written);
        if out.len() + value.len() > vars.limits.max_expanded_length {
            vars.limited.set(true);
            return None;
        }
        out.push_str(value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Finds the string expressions of a Python line (literals, known variables, f-strings,
/// `+` concatenation and simple `.format(...)`) and evaluates them. An expression that uses an
/// unknown variable is left out.
fn python_strings(line: &str, vars: &Variables) -> Vec<PyString> {
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

/// Most calls read on one logical line: a real line makes a handful.
const MAX_CALLS_PER_LINE: usize = 64;

/// The calls of a Python line (`name(args)`, `a.b.name(args)`), with each argument evaluated
/// as far as it is a string expression; calls nested in arguments are found too.
fn python_calls(line: &str, vars: &Variables) -> Vec<Call> {
    let tokens = py_tokens(line);
    let mut calls = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if calls.len() >= MAX_CALLS_PER_LINE {
            break;
        }
        let (PyToken::Name(name), Some(PyToken::Op('(', _))) = (token, tokens.get(i + 1)) else {
            continue;
        };
        // `def ResNet50(weights='imagenet'):` defines, it does not call.
        if i > 0 && matches!(tokens[i - 1], PyToken::Name("def" | "class")) {
            continue;
        }
        let mut call = Call {
            name: (*name).to_string(),
            positional: Vec::new(),
            keywords: Vec::new(),
        };
        for (start, end) in argument_spans(&tokens, i + 2) {
            let keyword = match (&tokens[start], tokens.get(start + 1)) {
                (PyToken::Name(k), Some(PyToken::Op('=', _))) if start + 2 < end => Some(*k),
                _ => None,
            };
            let value_start = if keyword.is_some() { start + 2 } else { start };
            let value = argument_value(line, &tokens, value_start, end, vars);
            match keyword {
                Some(k) => call.keywords.push((k.to_string(), value)),
                None => call.positional.push(value),
            }
        }
        calls.push(call);
    }
    calls
}

/// The token ranges of the arguments of a call whose first argument token is at `from`, up to
/// its closing parenthesis (or the end of the line).
fn argument_spans(tokens: &[PyToken<'_>], from: usize) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut depth = 0usize;
    let mut start = from;
    for (i, token) in tokens.iter().enumerate().skip(from) {
        match token {
            PyToken::Op('(' | '[' | '{', _) => depth += 1,
            PyToken::Op(')' | ']' | '}', _) if depth > 0 => depth -= 1,
            PyToken::Op(')', _) => {
                if i > start {
                    spans.push((start, i));
                }
                return spans;
            }
            PyToken::Op(',', _) if depth == 0 => {
                if i > start {
                    spans.push((start, i));
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    if tokens.len() > start {
        spans.push((start, tokens.len()));
    }
    spans
}

/// An argument's value: a string expression that spans it whole, a bare name, or its text.
fn argument_value(
    line: &str,
    tokens: &[PyToken<'_>],
    start: usize,
    end: usize,
    vars: &Variables,
) -> ArgValue {
    if let Some((value, used, after)) = eval_concat(tokens, start, vars)
        && after == end
    {
        let source = span(line, &tokens[start], &tokens[end - 1]);
        return ArgValue::Str {
            value,
            source,
            used,
        };
    }
    match &tokens[start] {
        PyToken::Name(name) if end == start + 1 => ArgValue::Name((*name).to_string()),
        first => ArgValue::Other(span(line, first, &tokens[end - 1])),
    }
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
        let (more, next) = match eval_operand(tokens, i + 1, vars, &mut used) {
            Some(operand) => operand,
            // `BASE_WEIGHTS_PATH + file_name` with `file_name` unknown in the file: the known
            // part stays, the name is shown where its value goes (`…/{file_name}`), as in an
            // unfilled `str.format` field.
            None => match (tokens.get(i + 1), tokens.get(i + 2)) {
                (Some(PyToken::Name(name)), after)
                    if !matches!(after, Some(PyToken::Op('(' | '[' | '.', _))) =>
                {
                    (format!("{{{name}}}"), i + 2)
                }
                _ => break,
            },
        };
        if value.len() + more.len() > vars.limits.max_expanded_length {
            vars.limited.set(true);
            break;
        }
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
                value = fill_format(&value, &positional, &named, vars)?;
                used.push("format".to_string());
                next = after;
            }
            Some((value, next))
        }
        PyToken::Name(name) => {
            // `TEMPLATE.format(…)` of a known template (`URL_FORMAT.format(file=path)`).
            if let Some(template) = name.strip_suffix(".format")
                && let Some(value) = vars.get(template)
            {
                let value = value.to_string();
                let (positional, named, after) = format_args(tokens, i + 1, vars, used)?;
                let filled = fill_format(&value, &positional, &named, vars)?;
                used.push(template.to_string());
                used.push("format".to_string());
                return Some((filled, after));
            }
            // A call or attribute access is not a plain variable.
            if matches!(tokens.get(i + 1), Some(PyToken::Op('(' | '[' | '=', _))) {
                return None;
            }
            let value = vars.get(name)?.to_string();
            used.push((*name).to_string());
            Some((value, i + 1))
        }
        PyToken::Op(..) => None,
    }
}

type FormatArgs = (Vec<Option<String>>, Vec<(String, Option<String>)>, usize);

/// Parses `( arg, name=arg, … )`: each argument's value when it is a string expression,
/// `None` when it is something else (a variable not known in the file, a call).
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
                let (value, next) = format_argument(tokens, i + 2, vars, used);
                named.push(((*key).to_string(), value));
                i = next;
            }
            _ => {
                let (value, next) = format_argument(tokens, i, vars, used);
                positional.push(value);
                i = next;
            }
        }
    }
}

/// One argument of `.format(…)` from token `start`: its value when it is a string expression,
/// and the index of the token that ends it (`,` or the closing parenthesis at its depth).
fn format_argument(
    tokens: &[PyToken<'_>],
    start: usize,
    vars: &Variables,
    used: &mut Vec<String>,
) -> (Option<String>, usize) {
    if let Some((value, inner_used, next)) = eval_concat(tokens, start, vars)
        && matches!(tokens.get(next), Some(PyToken::Op(',' | ')', _)))
    {
        used.extend(inner_used);
        return (Some(value), next);
    }
    let mut depth = 0usize;
    let mut i = start;
    while let Some(token) = tokens.get(i) {
        match token {
            PyToken::Op('(' | '[' | '{', _) => depth += 1,
            PyToken::Op(',' | ')', _) if depth == 0 => break,
            PyToken::Op(')' | ']' | '}', _) => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    // Always step past something, so that a stray token cannot stall the caller.
    (None, i.max(start + 1).min(tokens.len().max(start + 1)))
}

/// A check that restricts a name to literal strings: `assert NAME in {'a', 'b'}` (a set, list
/// or tuple; a message may follow) or `if NAME not in ('a', 'b'):`, the usual guard before a
/// hub call given the name (nanoGPT's `from_pretrained(model_type)`). Only plain literals
/// count: one f-string, name or call in the collection and the names are not known.
fn python_choices(line: &str) -> Option<(String, Vec<String>)> {
    let tokens = py_tokens(line);
    let (name, after) = match tokens.as_slice() {
        [
            PyToken::Name("assert"),
            PyToken::Name(name),
            PyToken::Name("in"),
            rest @ ..,
        ] => (*name, rest),
        [
            PyToken::Name("if"),
            PyToken::Name(name),
            PyToken::Name("not"),
            PyToken::Name("in"),
            rest @ ..,
        ] => (*name, rest),
        _ => return None,
    };
    let close = match after.first()? {
        PyToken::Op('{', _) => '}',
        PyToken::Op('[', _) => ']',
        PyToken::Op('(', _) => ')',
        _ => return None,
    };
    let mut values = Vec::new();
    let mut expect_value = true;
    for token in &after[1..] {
        match token {
            PyToken::Str {
                content,
                fstring: false,
                ..
            } if expect_value => {
                values.push(content.clone());
                expect_value = false;
            }
            PyToken::Op(',', _) if !expect_value => expect_value = true,
            PyToken::Op(c, _) if *c == close => {
                return (!values.is_empty()).then(|| (name.to_string(), values));
            }
            _ => return None,
        }
    }
    None
}

/// A Python assignment `NAME = <string expression>` (also `NAME: str = …`): the name and,
/// when the whole right-hand side evaluates, its value.
fn python_assignment(line: &str, vars: &Variables) -> Option<(String, Option<PyString>)> {
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
    let mut rhs = rhs.trim().trim_end_matches(';').trim_end();
    // A value in parentheses, often literals continued over lines (`URL = ('https://h/'
    // 'x.h5')`): Python joins adjacent literals inside them.
    while let Some(inner) = rhs.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        rhs = inner.trim();
    }
    let strings = python_strings(rhs, vars);
    let whole = strings.into_iter().find(|s| s.source.len() == rhs.len());
    Some((name.to_string(), whole))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_restrict_a_name_to_literal_strings() {
        let gpt2 = Some((
            "model_type".to_string(),
            vec!["gpt2".to_string(), "gpt2-medium".to_string()],
        ));
        assert_eq!(
            python_choices("assert model_type in {'gpt2', 'gpt2-medium'}"),
            gpt2
        );
        assert_eq!(
            python_choices("assert model_type in ['gpt2', \"gpt2-medium\",], 'unknown model'"),
            gpt2
        );
        assert_eq!(
            python_choices("if model_type not in ('gpt2', 'gpt2-medium'):"),
            gpt2
        );
        // Not only literals, or not a guard: nothing is known.
        assert_eq!(python_choices("assert model_type in {'gpt2', other}"), None);
        assert_eq!(
            python_choices("assert model_type in {f'gpt2-{size}'}"),
            None
        );
        assert_eq!(python_choices("assert model_type in MODELS"), None);
        assert_eq!(python_choices("if model_type in ('gpt2', 'x'):"), None);
        assert_eq!(python_choices("assert model_type in {}"), None);
    }

    #[test]
    fn string_expressions() {
        let mut vars = Variables::default();
        vars.set("BASE", "https://h/r".into());
        vars.set("NAME", "m.pt".into());
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
    fn functions_by_indentation_the_main_guard_and_docstrings() {
        let mut python = Python::default();
        let mut blocks = Blocks::default();
        let vars = Variables::default();
        let mut seen = Vec::new();
        for line in [
            "def fetch():",
            "    \"\"\"Fetches.",
            "api.load('text8') at any indentation is prose",
            "    \"\"\"",
            "    url = 1",
            "",
            "    def inner():",
            "        pass",
            "    x = 2",
            "y = 3",
            "if __name__ == '__main__':",
            "    main()",
        ] {
            python.track_block(line, &vars, &mut blocks);
            seen.push((blocks.current(), python.is_prose()));
        }
        let blocks_seen: Vec<u32> = seen.iter().map(|(b, _)| *b).collect();
        // The blank line stays in `fetch`; the guard's body is a block of its own.
        assert_eq!(blocks_seen, [1, 1, 1, 1, 1, 1, 2, 2, 1, 0, 3, 3]);
        let prose: Vec<bool> = seen.iter().map(|(_, p)| *p).collect();
        assert_eq!(
            prose,
            [
                false, true, true, true, false, false, false, false, false, false, false, false
            ]
        );
        assert!(python.main_guard);
        assert!(in_block(&blocks, 3, MAIN_BLOCK) && !in_block(&blocks, 1, MAIN_BLOCK));
    }

    #[test]
    fn format_fields_and_concatenated_names_not_known_stay_as_written() {
        let mut vars = Variables::default();
        vars.set("BASE", "https://h/r".into());
        vars.set("URL_FORMAT", "https://h/{file}".into());
        let got = python_strings(
            "a('{base}/{fname}.gz'.format(base=BASE, fname=name), BASE + name, URL_FORMAT.format(file=p))",
            &vars,
        );
        let values: Vec<&str> = got.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(
            values,
            [
                "https://h/r/{fname}.gz",
                "https://h/r{name}",
                "https://h/{file}"
            ]
        );
    }
}
