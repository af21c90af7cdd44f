//! POSIX shell and its relatives (bash, ksh, zsh), autotools' `configure.ac` and `autogen.sh`
//! included: `NAME=value` assignments, `$NAME` and `${NAME:-default}` references, functions.

use std::borrow::Cow;
use std::cell::Cell;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use super::syntax::{
    Assignment, Blocks, Reference, Syntax, UrlUse, Variables, find_urls, leading_name, shell_word,
    written_url,
};

/// Reads one shell script; `tree` is where its command substitutions may read files.
pub struct Shell {
    tree: Option<TreeFiles>,
    /// Set on a one-line function (`dl() { curl …; }`): the next line is outside it.
    closes_after_line: Cell<bool>,
}

impl Shell {
    pub fn new(tree: Option<TreeFiles>) -> Self {
        Self {
            tree,
            closes_after_line: Cell::new(false),
        }
    }
}

/// Separates the values a `for NAME in …` loop gives its variable, in the variable's value.
const LOOP_VALUES: char = '\u{1f}';

impl Syntax for Shell {
    fn continuation_mark(&self) -> Option<char> {
        Some('\\')
    }

    fn track_block(&mut self, text: &str, _vars: &Variables, blocks: &mut Blocks) {
        if self.closes_after_line.take() {
            blocks.enter(0);
        }
        if track_function(text, blocks) && text.trim_end().ends_with('}') {
            self.closes_after_line.set(true);
        }
    }

    fn assignment(&self, text: &str, vars: &Variables) -> Option<Assignment> {
        if let Some((name, values)) = for_loop(text) {
            let expanded: Vec<String> = values.iter().map(|v| self.expand(v, vars).text).collect();
            return Some(Assignment::expanded(
                self,
                name,
                expanded.join(&LOOP_VALUES.to_string()),
                vars,
            ));
        }
        let (name, written) = parse_assignment(text)?;
        // A command substitution left (not a file of the tree) has a value only running it
        // would tell.
        if written.starts_with("$(") || written.starts_with('`') {
            return Some(Assignment { name, value: None });
        }
        Some(Assignment::expanded(self, name, written, vars))
    }

    fn reference(&self, text: &str, vars: &Variables) -> Option<Reference> {
        dollar_reference(text, vars)
    }

    /// A word using a loop variable stands for one URL per value of the loop.
    fn urls(&self, text: &str, vars: &Variables) -> Vec<UrlUse> {
        let mut out = Vec::new();
        for word in text.split(|c: char| c.is_whitespace() || "\"'`".contains(c)) {
            if word.is_empty() {
                continue;
            }
            let expanded = self.expand(word, vars);
            let texts = match alternatives_of(word, vars) {
                Some((reference, values)) => values
                    .iter()
                    .map(|value| self.expand(&word.replace(&reference, value), vars).text)
                    .collect(),
                None => vec![expanded.text],
            };
            let as_written: Option<Rc<str>> =
                (!expanded.used.is_empty()).then(|| written_url(word).into());
            for text in &texts {
                for (_, url) in find_urls(text) {
                    out.push(UrlUse {
                        url: url.to_string(),
                        as_written: as_written.clone(),
                        used: expanded.used.clone(),
                    });
                }
            }
        }
        out
    }

    /// `$(cat FILE)` and `` `cat FILE` `` of a file in the tree: its first line.
    fn substitute_commands<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Some(tree) = &self.tree else {
            return Cow::Borrowed(text);
        };
        if !text.contains("$(cat ") && !text.contains("`cat ") {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        loop {
            let next = ["$(cat ", "`cat "]
                .iter()
                .filter_map(|open| rest.find(open).map(|at| (at, *open)))
                .min();
            let Some((at, open)) = next else { break };
            let close = if open.starts_with('$') { ')' } else { '`' };
            let after = &rest[at + open.len()..];
            let Some(end) = after.find(close) else { break };
            let name = after[..end].trim().trim_matches(['"', '\'']);
            out.push_str(&rest[..at]);
            match tree.first_line(name) {
                Some(value) => out.push_str(&value),
                None => out.push_str(&rest[at..at + open.len() + end + 1]),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Cow::Owned(out)
    }
}

/// The reference to a loop variable in `word` (`$url`, `${url}`) and the loop's values.
fn alternatives_of(word: &str, vars: &Variables) -> Option<(String, Vec<String>)> {
    let mut rest = word;
    while let Some(at) = rest.find('$') {
        let candidate = &rest[at..];
        if let Some(reference) = dollar_reference(candidate, vars)
            && reference.value.contains(LOOP_VALUES)
        {
            let values = reference
                .value
                .split(LOOP_VALUES)
                .map(String::from)
                .collect();
            return Some((candidate[..reference.len].to_string(), values));
        }
        rest = &candidate[1..];
    }
    None
}

/// `for NAME in WORD…; do`: the loop variable and its values.
fn for_loop(line: &str) -> Option<(String, Vec<String>)> {
    let rest = line.trim().strip_prefix("for ")?;
    let (name, rest) = leading_name(rest.trim_start())?;
    let list = rest.trim_start().strip_prefix("in ")?;
    let list = list.split("; do").next().unwrap_or(list);
    let list = list.split(';').next().unwrap_or(list);
    let values: Vec<String> = super::syntax::split_words(list)
        .into_iter()
        .filter(|w| w != "do")
        .collect();
    (!values.is_empty()).then(|| (name.to_string(), values))
}

/// Where a script's command substitutions may read files: its own directory, then the top of
/// the tree. Only regular files inside the tree are read, and only their first line, within
/// `MAX_READ` bytes.
#[derive(Debug, Clone)]
pub struct TreeFiles {
    root: PathBuf,
    dir: PathBuf,
}

/// The most bytes read of a file named by a command substitution: a version or a digest.
const MAX_READ: u64 = 4096;

impl TreeFiles {
    /// For the file at `on_disk`, `rel` being its path relative to the scanned root.
    pub fn of(on_disk: &Path, rel: &str) -> Option<Self> {
        let depth = Path::new(rel).components().count();
        let root = on_disk.ancestors().nth(depth)?.to_path_buf();
        let dir = on_disk.parent()?.to_path_buf();
        Some(Self { root, dir })
    }

    /// The first line of the file `name` names, relative to the script's directory or the
    /// top of the tree; `None` when it is not a regular file inside the tree.
    fn first_line(&self, name: &str) -> Option<String> {
        let relative = Path::new(name);
        if name.is_empty()
            || name.contains('$')
            || !relative
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return None;
        }
        [&self.dir, &self.root].iter().find_map(|base| {
            let path = base.join(relative);
            // A symbolic link could point out of the tree: never followed.
            let meta = std::fs::symlink_metadata(&path).ok()?;
            if !meta.is_file() {
                return None;
            }
            let mut bytes = Vec::new();
            std::fs::File::open(&path)
                .ok()?
                .take(MAX_READ)
                .read_to_end(&mut bytes)
                .ok()?;
            let text = String::from_utf8_lossy(&bytes);
            Some(text.lines().next().unwrap_or("").trim().to_string())
        })
    }
}

/// `[export|local|readonly|declare] NAME=value`: the name and the value's first word,
/// unquoted.
fn parse_assignment(line: &str) -> Option<(String, String)> {
    let mut rest = line.trim();
    for keyword in ["export ", "local ", "readonly ", "declare "] {
        if let Some(after) = rest.strip_prefix(keyword) {
            rest = after.trim_start();
        }
    }
    let (name, after) = leading_name(rest)?;
    let value = after.strip_prefix('=')?;
    Some((name.to_string(), shell_word(value)))
}

/// `$NAME` or `${NAME}`, `${NAME:-default}` and the like (the default stands when the variable
/// is unknown), as shell and PowerShell write them.
pub fn dollar_reference(text: &str, vars: &Variables) -> Option<Reference> {
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
        let value = vars
            .get(name)
            .map(str::to_string)
            .or_else(|| default.map(str::to_string))?;
        return Some(Reference {
            value,
            name: Some(name.to_string()),
            len: close + 3,
        });
    }
    let (name, _) = leading_name(rest)?;
    Some(Reference {
        value: vars.get(name)?.to_string(),
        name: Some(name.to_string()),
        len: name.len() + 1,
    })
}

/// A function body ends at a line starting with `}`; `name() {` or `function name {` starts
/// one, in shell and PowerShell alike. Returns whether the line opens one.
pub fn track_function(text: &str, blocks: &mut Blocks) -> bool {
    if text.starts_with('}') {
        blocks.enter(0);
    } else if let Some(name) = function_name(text.trim()) {
        blocks.open(&name);
        return true;
    }
    false
}

/// The name of a shell or PowerShell function a line opens (`name() {`, `function name {`).
fn function_name(trimmed: &str) -> Option<String> {
    let rest = trimmed.strip_prefix("function ").map(str::trim_start);
    let body = rest.unwrap_or(trimmed);
    let end = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(body.len());
    let (name, after) = body.split_at(end);
    let after = after.trim_start();
    let opens = if rest.is_some() {
        after.is_empty() || after.starts_with('{') || after.starts_with("()")
    } else {
        after.starts_with("()")
    };
    (!name.is_empty() && opens).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_drop_keywords_and_quotes() {
        assert_eq!(
            parse_assignment("export BASE=\"https://h/x\" # c"),
            Some(("BASE".to_string(), "https://h/x".to_string()))
        );
        assert_eq!(parse_assignment("wget https://h/x"), None);
    }

    #[test]
    fn references_with_braces_defaults_and_without() {
        let mut vars = Variables::default();
        vars.set("B", "https://h".into());
        assert_eq!(
            Shell::new(None).expand("${B}/$B/${X:-d}", &vars).text,
            "https://h/https://h/d"
        );
    }

    #[test]
    fn function_openings() {
        assert_eq!(
            function_name("fetch_model() {").as_deref(),
            Some("fetch_model")
        );
        assert_eq!(function_name("function get {").as_deref(), Some("get"));
        assert_eq!(function_name("wget x"), None);
    }
}
