//! POSIX shell and its relatives (bash, ksh, zsh), autotools' `configure.ac` and `autogen.sh`
//! included: `NAME=value` assignments, `$NAME` and `${NAME:-default}` references, functions.

use super::syntax::{Assignment, Blocks, Reference, Syntax, Variables, leading_name, shell_word};

pub struct Shell;

impl Syntax for Shell {
    fn continuation_mark(&self) -> Option<char> {
        Some('\\')
    }

    fn track_block(&mut self, text: &str, _vars: &Variables, blocks: &mut Blocks) {
        track_function(text, blocks);
    }

    fn assignment(&self, text: &str, vars: &Variables) -> Option<Assignment> {
        parse_assignment(text)
            .map(|(name, written)| Assignment::expanded(self, name, written, vars))
    }

    fn reference(&self, text: &str, vars: &Variables) -> Option<Reference> {
        dollar_reference(text, vars)
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
/// one, in shell and PowerShell alike.
pub fn track_function(text: &str, blocks: &mut Blocks) {
    if text.starts_with('}') {
        blocks.enter(0);
    } else if let Some(name) = function_name(text.trim()) {
        blocks.open(&name);
    }
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
            Shell.expand("${B}/$B/${X:-d}", &vars).text,
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
