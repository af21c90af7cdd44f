//! Lintian overrides, read and matched as lintian 2.116 does (`Lintian::Processable::Overrides`
//! parses, `Lintian::Group::process` matches):
//!
//! ```text
//! # a comment: the justification of the override that follows
//! [[<package>][ [<archlist>]][ <type>]: ]<tag>[ <context pattern>]
//! ```
//!
//! A comment justifies the next override (and the following ones of the same tag, until a
//! blank line). The package name and the type are stripped only when they are the checked
//! package's; once any of them is present, a colon must follow. The pattern is matched against
//! the whole context with `*` (any text) and `?` (one character); an override without a
//! pattern matches every context of its tag, and of several patterns the shortest matching
//! one wins. A later override of the same tag and pattern replaces an earlier one.

use serde::Serialize;

/// One override line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Override {
    pub tag: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub architectures: Vec<String>,
    pub pattern: String,
    pub justification: String,
    /// The line in the overrides file.
    pub line: usize,
}

/// The overrides of one package, and the lines that could not be read.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    overrides: Vec<Override>,
    pub errors: Vec<String>,
}

impl Overrides {
    /// Parses `text` for the package `package` of lintian type `kind` (`binary`, `udeb`,
    /// `source`) built for `architecture`; overrides for other architectures are dropped here.
    pub fn parse(text: &str, package: &str, kind: &str, architecture: &str) -> Self {
        let mut overrides: Vec<Override> = Vec::new();
        let mut errors = Vec::new();
        let mut justification = String::new();
        let mut previous: Option<Override> = None;
        for (index, line) in text.lines().enumerate() {
            let position = index + 1;
            let mut remaining = line.trim().to_string();
            if remaining.is_empty() {
                justification.clear();
                previous = None;
                continue;
            }
            if let Some(comment) = remaining.strip_prefix('#') {
                let comment = comment.trim_start();
                if !comment.is_empty() {
                    if !justification.is_empty() {
                        justification.push(' ');
                    }
                    justification.push_str(comment);
                }
                continue;
            }
            remaining = remaining.split_whitespace().collect::<Vec<_>>().join(" ");
            let mut require_colon = false;
            if let Some(rest) = strip_word(&remaining, package) {
                remaining = rest.trim_start().to_string();
                require_colon = true;
            }
            let mut architectures = Vec::new();
            if remaining.starts_with('[')
                && let Some(end) = remaining.find(']')
                && remaining[end + 1..]
                    .chars()
                    .next()
                    .is_some_and(|c| c == ' ' || c == ':')
            {
                architectures = remaining[1..end]
                    .split(' ')
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect();
                remaining = remaining[end + 1..].trim_start().to_string();
                require_colon = true;
            }
            if let Some(rest) = strip_word(&remaining, kind) {
                remaining = rest.trim_start().to_string();
                require_colon = true;
            }
            if require_colon {
                match remaining.trim_start().strip_prefix(':') {
                    Some(rest) => remaining = rest.trim_start().to_string(),
                    None => {
                        errors.push(format!("line {position}: expected a colon"));
                        continue;
                    }
                }
            }
            let (tag, pattern) = match remaining.split_once(' ') {
                Some((tag, pattern)) => (tag.to_string(), pattern.to_string()),
                None => (remaining.clone(), String::new()),
            };
            if tag.is_empty() {
                errors.push(format!("line {position}: cannot parse line: {line}"));
                continue;
            }
            if justification.is_empty()
                && let Some(previous) = &previous
                && previous.tag == tag
            {
                justification = previous.justification.clone();
            }
            let current = Override {
                tag,
                architectures,
                pattern,
                justification: justification
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                line: position,
            };
            justification.clear();
            previous = Some(current.clone());
            if architecture_enabled(&current.architectures, architecture) {
                // Keyed by tag and pattern, the last one wins.
                overrides.retain(|o| !(o.tag == current.tag && o.pattern == current.pattern));
                overrides.push(current);
            }
        }
        Self { overrides, errors }
    }

    /// The override that silences `tag` with `context`, if any.
    pub fn find(&self, tag: &str, context: &str) -> Option<&Override> {
        let for_tag: Vec<&Override> = self.overrides.iter().filter(|o| o.tag == tag).collect();
        if let Some(all) = for_tag.iter().find(|o| o.pattern.is_empty()) {
            return Some(all);
        }
        let mut by_length = for_tag;
        by_length.sort_by_key(|o| o.pattern.len());
        by_length
            .into_iter()
            .find(|o| glob_matches(&o.pattern, context))
    }
}

/// `text` without a leading `word` followed by a space or colon (lintian's lookahead).
fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(word)?;
    (rest.starts_with(' ') || rest.starts_with(':')).then_some(rest)
}

/// Lintian's `match_glob` (Regexp::Wildcards, type `jokers`): `*` any text, `?` one
/// character, the whole context matched, everything else literal.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    // Iterative wildcard matching with one backtrack point for the last `*`.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Whether an override's architecture list enables it on `architecture`, as lintian decides:
/// no list enables it everywhere; a list of negations (`!amd64`) everywhere but there.
fn architecture_enabled(list: &[String], architecture: &str) -> bool {
    if list.is_empty() {
        return true;
    }
    let negations = list.iter().any(|a| a.starts_with('!'));
    let matched = list
        .iter()
        .any(|a| architecture_matches(a.trim_start_matches('!'), architecture));
    negations != matched
}

/// Debian architecture wildcards (dpkg-architecture(1)): `any`, `OS-any`, `any-CPU`, or the
/// name itself. A bare name is `linux-NAME`; `hurd-i386` and `kfreebsd-amd64` name their OS.
fn architecture_matches(wildcard: &str, architecture: &str) -> bool {
    if wildcard == architecture || (wildcard == "any" && architecture != "all") {
        return true;
    }
    let (os, cpu) = match architecture.split_once('-') {
        Some((os, cpu)) => (os, cpu),
        None => ("linux", architecture),
    };
    match wildcard.split_once('-') {
        Some((want_os, "any")) => want_os == os,
        Some(("any", want_cpu)) => want_cpu == cpu,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches("*", "anything [a/b]"));
        assert!(glob_matches("[usr/share/*]", "[usr/share/x/y.onnx]"));
        assert!(glob_matches("a?c", "abc"));
        assert!(!glob_matches("a?c", "abbc"));
        assert!(glob_matches("*.onnx*", "x [m.onnx]"));
        assert!(!glob_matches("usr/*", "[usr/x]"));
    }

    #[test]
    fn lintian_syntax() {
        let text = "# why\n# more\nfoo: tag-a\nfoo binary: tag-b ctx*\n[amd64]: tag-c\n[!amd64] binary: tag-d\nother: tag-e\nfoo tag-f\n\ntag-a [x]\n";
        let parsed = Overrides::parse(text, "foo", "binary", "amd64");
        let tags: Vec<_> = parsed.overrides.iter().map(|o| o.tag.as_str()).collect();
        // other: is not this package's name, so `other:` is the tag; tag-d is not for amd64.
        assert_eq!(tags, ["tag-a", "tag-b", "tag-c", "other:", "tag-a"]);
        assert_eq!(parsed.overrides[0].justification, "why more");
        assert_eq!(parsed.errors, ["line 8: expected a colon"]);
        assert!(parsed.find("tag-b", "ctx and more").is_some());
        assert!(parsed.find("tag-b", "no").is_none());
    }
}
