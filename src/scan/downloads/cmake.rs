//! CMake: `set(NAME value)`, `${NAME}` references, commands that run on until their
//! parenthesis closes, functions and macros.

use super::syntax::{Assignment, Blocks, Reference, Syntax, Variables, is_name_start, split_words};

pub struct Cmake;

impl Syntax for Cmake {
    fn brackets_join_lines(&self) -> bool {
        true
    }

    fn track_block(&mut self, text: &str, _vars: &Variables, blocks: &mut Blocks) {
        let trimmed = text.trim();
        let command = trimmed.split('(').next().unwrap_or("").trim();
        let command = command.to_ascii_lowercase();
        if command == "function" || command == "macro" {
            let inner = trimmed.split_once('(').map_or("", |(_, r)| r);
            let name = inner.split([' ', ')']).next().unwrap_or("");
            blocks.open(name);
        } else if command == "endfunction" || command == "endmacro" {
            blocks.enter(0);
        }
    }

    fn assignment(&self, text: &str, vars: &Variables) -> Option<Assignment> {
        parse_set(text).map(|(name, written)| Assignment::expanded(self, name, written, vars))
    }

    fn reference(&self, text: &str, vars: &Variables) -> Option<Reference> {
        let inner = text.strip_prefix("${")?;
        let end = inner.find('}')?;
        let name = &inner[..end];
        Some(Reference {
            value: vars.get(name)?.to_string(),
            name: Some(name.to_string()),
            len: end + 3,
        })
    }
}

/// `set(NAME value …)`: the name and the first value (a later `CACHE STRING "doc"` is not
/// part of it).
fn parse_set(line: &str) -> Option<(String, String)> {
    let trimmed = line.trim();
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
    Some((name.clone(), words.get(1).cloned().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_takes_the_first_value() {
        let (name, value) = parse_set("set(URL \"https://h/m.onnx\" CACHE STRING \"u\")").unwrap();
        assert_eq!((name.as_str(), value.as_str()), ("URL", "https://h/m.onnx"));
        assert!(parse_set("message(STATUS x)").is_none());
    }

    #[test]
    fn references() {
        let mut vars = Variables::default();
        vars.set("B", "https://h".into());
        assert_eq!(Cmake.expand("${B}/m ${X}", &vars).text, "https://h/m ${X}");
    }
}
