//! Windows scripts: batch files (`set NAME=value`, `%NAME%`, labels) and PowerShell
//! (`$NAME = value`, shell-like references and functions). Variable names ignore case in both.

use super::shell::{dollar_reference, track_function};
use super::syntax::{Assignment, Blocks, Reference, Syntax, Variables, leading_name, shell_word};

pub struct Batch;

impl Syntax for Batch {
    /// `::` and `rem` comments, `@` (echo off) or not.
    fn is_comment(&self, line: &str) -> bool {
        let lower = line
            .trim_start()
            .trim_start_matches('@')
            .to_ascii_lowercase();
        lower.starts_with("::") || lower == "rem" || lower.starts_with("rem ")
    }

    fn continuation_mark(&self) -> Option<char> {
        Some('^')
    }

    fn names_ignore_case(&self) -> bool {
        true
    }

    /// A label (`:name`) starts a block that `goto` and `call` jump to.
    fn track_block(&mut self, text: &str, _vars: &Variables, blocks: &mut Blocks) {
        if let Some(label) = text.trim().strip_prefix(':') {
            blocks.open(label.trim());
        }
    }

    fn assignment(&self, text: &str, vars: &Variables) -> Option<Assignment> {
        parse_set(text).map(|(name, written)| Assignment::expanded(self, name, written, vars))
    }

    fn reference(&self, text: &str, vars: &Variables) -> Option<Reference> {
        let inner = text.strip_prefix('%')?;
        let end = inner.find('%')?;
        let name = &inner[..end];
        if name.is_empty() || name.contains(char::is_whitespace) {
            return None;
        }
        Some(Reference {
            value: vars.get(name)?.to_string(),
            name: Some(name.to_string()),
            len: end + 2,
        })
    }
}

/// `set NAME=value` or `set "NAME=value"` (not `set /a` or `set /p`).
fn parse_set(line: &str) -> Option<(String, String)> {
    let trimmed = line.trim();
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
    Some((name.to_string(), value.to_string()))
}

pub struct PowerShell;

impl Syntax for PowerShell {
    fn continuation_mark(&self) -> Option<char> {
        Some('`')
    }

    fn names_ignore_case(&self) -> bool {
        true
    }

    fn track_block(&mut self, text: &str, _vars: &Variables, blocks: &mut Blocks) {
        track_function(text, blocks);
    }

    fn assignment(&self, text: &str, vars: &Variables) -> Option<Assignment> {
        parse_dollar_assignment(text)
            .map(|(name, written)| Assignment::expanded(self, name, written, vars))
    }

    fn reference(&self, text: &str, vars: &Variables) -> Option<Reference> {
        dollar_reference(text, vars)
    }
}

/// `$NAME = value` (not the comparison `$NAME == …`): the name and the value's first word.
fn parse_dollar_assignment(line: &str) -> Option<(String, String)> {
    let rest = line.trim().strip_prefix('$')?;
    let (name, after) = leading_name(rest)?;
    let value = after.trim_start().strip_prefix('=')?;
    if value.starts_with('=') {
        return None;
    }
    Some((name.to_string(), shell_word(value.trim())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_set_in_quotes_and_references_ignoring_case() {
        let (name, value) = parse_set("@set \"URL=https://h/m.bin\"").unwrap();
        assert_eq!((name.as_str(), value.as_str()), ("URL", "https://h/m.bin"));
        assert!(parse_set("set /a N=1").is_none());
        let mut vars = Variables::new(Batch.names_ignore_case());
        vars.set("b", "https://h".into());
        assert_eq!(Batch.expand("%B%/m %~dp0", &vars).text, "https://h/m %~dp0");
    }

    #[test]
    fn batch_comments() {
        assert!(Batch.is_comment("@REM x"));
        assert!(Batch.is_comment("  :: x"));
        assert!(!Batch.is_comment("remove.exe"));
    }

    #[test]
    fn powershell_assignments() {
        let (name, value) = parse_dollar_assignment("$Url = 'https://h/m.onnx'").unwrap();
        assert_eq!((name.as_str(), value.as_str()), ("Url", "https://h/m.onnx"));
        assert!(parse_dollar_assignment("$a == 1").is_none());
    }
}
