//! The one minijinja set-up every template of `templates/` renders with: a value missing from the
//! context is an error, never an empty string, and block tags leave no blank lines behind.

use minijinja::{Environment, UndefinedBehavior};

/// An environment with the project's settings and no templates yet.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.add_filter("toml", toml_string);
    env.add_filter("comment", comment_text);
    // `text|wrap(width)`: the lines of `text` wrapped as the generated control and copyright
    // text is (one function, crate::generate::text::wrap).
    env.add_filter("wrap", |text: String, width: usize| {
        crate::generate::text::wrap(&text, width)
    });
    env
}

/// A one-line TOML string holding `value`, usable as a value and as a key. Without control
/// characters it is written as `toml` writes strings (a literal `'…'` string when that reads
/// better); with them, as a basic string (TOML 1.0, "Basic strings") where each one is an
/// escape, never itself: `toml` would write a newline as a multi-line string, which a key
/// cannot be and which breaks the line a file name was meant to stay on.
fn toml_string(value: String) -> String {
    if !value.chars().any(char::is_control) {
        return toml::Value::String(value).to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text for a `#` comment line: control characters escaped, so a name taken from the tree
/// cannot end the comment and inject lines.
fn comment_text(value: String) -> String {
    crate::terminal::escape_controls(&value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_strings_stay_on_one_line_and_round_trip() {
        for value in ["plain", "a\nb\r\t\"q\" \\ \u{1b}[2J\u{7f}\u{85}", ""] {
            let written = toml_string(value.to_string());
            assert!(!written.contains('\n'), "{written}");
            let document = format!("{written} = {written}\n");
            let table: toml::Table = toml::from_str(&document).unwrap();
            assert_eq!(table.get(value).and_then(|v| v.as_str()), Some(value));
        }
    }
}
