//! Text as Debian's files want it: package synopses and wrapped descriptions (Debian Policy
//! 3.4), DEP-5 licence bodies.

/// Width of wrapped text in control and copyright fields.
pub const TEXT_WIDTH: usize = 72;

/// A synopsis: one line, no final full stop, at most 80 characters (Debian Policy 3.4.1).
pub fn synopsis(text: &str) -> String {
    let line = text
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .trim_end_matches('.');
    let mut out: String = line.chars().take(79).collect();
    // "Classify points" → "classify points", but "NumPy arrays" and "C library" stay.
    let first_word = out.split_whitespace().next().unwrap_or("");
    if let Some(first) = out.get(..1)
        && first_word.len() > 1
        && first_word.chars().skip(1).all(|c| !c.is_uppercase())
    {
        out = first.to_lowercase() + &out[1..];
    }
    out
}

/// Words of `text` in lines of at most `width` characters (a longer word gets its own line).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A package description: the synopsis, then the extended text wrapped.
pub fn description(synopsis: &str, extended: &str) -> String {
    let mut text = synopsis.to_string();
    for line in wrap(extended, TEXT_WIDTH) {
        text.push('\n');
        text.push_str(&line);
    }
    text
}

/// The licence text as DEP-5 continuation lines (without the leading space; empty lines as `.`).
pub fn license_lines(text: &str) -> Vec<String> {
    text.trim()
        .lines()
        .map(|line| {
            let line = line.trim_end();
            if line.is_empty() {
                ".".to_string()
            } else {
                line.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synopsis_starts_lower_case_unless_a_name() {
        assert_eq!(
            synopsis("Classify 2-D points.\nMore"),
            "classify 2-D points"
        );
        assert_eq!(synopsis("NumPy arrays"), "NumPy arrays");
    }

    #[test]
    fn wraps_words_and_marks_empty_licence_lines() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(license_lines("A\n\nB\n"), vec!["A", ".", "B"]);
    }
}
