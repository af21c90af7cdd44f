//! Text for people on a terminal. Names taken from input (file names, URLs, manifest values,
//! a training command's log) may hold control characters; printed raw, an escape sequence in a
//! file name would drive the terminal. Every human message goes through [`escape_controls`]:
//! warnings ([`warn`]), error lines (`error::render`), the scan table, and the text of
//! `classify` and `init` ([`escape_lines`]).

/// `text` with control characters escaped as Rust writes them (`\u{1b}`, `\n`, `\t`).
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Text made of lines (each ending in a newline): every line escaped by [`escape_controls`],
/// the line breaks kept.
pub fn escape_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match line.strip_suffix('\n') {
            Some(line) => {
                out.push_str(&escape_controls(line));
                out.push('\n');
            }
            None => out.push_str(&escape_controls(line)),
        }
    }
    out
}

/// Prints `TOOL: warning: MESSAGE` on standard error, its control characters escaped.
pub fn warn(tool: &str, message: &str) {
    eprintln!("{tool}: warning: {}", escape_controls(message));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            escape_controls("a\x1b[2Jb\n\u{9b}c é"),
            "a\\u{1b}[2Jb\\n\\u{9b}c é"
        );
    }

    #[test]
    fn lines_keep_their_breaks_and_lose_their_controls() {
        assert_eq!(escape_lines("a\x1b\nb\r\n"), "a\\u{1b}\nb\\r\n");
        assert_eq!(escape_lines("no break\x07"), "no break\\u{7}");
    }
}
