//! Documentation (READMEs, Markdown, reStructuredText, plain text) and JSON and YAML data: every
//! line stands alone, with no variables or blocks. Commands shown in documentation are run by
//! hand, if at all; a catalogue's URLs are fetched by whatever reads it.

use super::policy::DownloadPolicy;
use super::syntax::{Blocks, Syntax, Variables};

pub struct Docs;

impl Syntax for Docs {
    /// `#` starts a heading, not a comment.
    fn is_comment(&self, _line: &str) -> bool {
        false
    }

    fn runs_commands(&self) -> bool {
        false
    }
}

/// JSON data (`data.json` of ONNX's real-model tests: `{"model_name": …, "url": "https://…"}`):
/// read like documentation, except that a URL under a key naming one (`json-url-keys` in
/// `policy/downloads.toml`) is fetched by the program that reads the file, and is reported
/// when it is about models, as a generic fetch would be. Only files up to the policy's
/// `max-file-size` are read, as every other text file.
pub struct Json;

impl Syntax for Json {
    fn is_comment(&self, _line: &str) -> bool {
        false
    }

    fn runs_commands(&self) -> bool {
        false
    }

    fn fetches(&self, policy: &DownloadPolicy, text: &str) -> bool {
        policy.json_url_value(text)
    }
}

/// YAML data (silero's `models.yml`: `stt_models: en: latest: jit: "https://…/en_v6.jit"`):
/// read as JSON is, a line at a time, never parsed into a tree, so anchors and aliases are not
/// expanded and a hostile file costs only its own lines. Block-style keys are followed by their
/// indentation to name each entry by its key path; flow-style collections (`{a: …}`) stand
/// alone on their line.
pub struct Yaml {
    /// The open mappings: each key's indentation and name.
    keys: Vec<(usize, String)>,
    /// The key path of the last line given to `track_block`, when it has a key.
    entry: Option<String>,
    max_depth: usize,
    max_key_path: usize,
}

impl Yaml {
    pub fn new(max_depth: usize, max_key_path: usize) -> Self {
        Self {
            keys: Vec::new(),
            entry: None,
            max_depth,
            max_key_path,
        }
    }
}

/// The key of a block-style YAML mapping entry (`key:`, `key: value`, `"key": value`) and
/// whether a value follows on the same line; `None` for any other line (a sequence item's
/// scalar, a URL: `https:` is followed by `/`, not a blank).
fn yaml_key(content: &str) -> Option<(&str, bool)> {
    let (key, rest) = match content.chars().next()? {
        quote @ ('"' | '\'') => {
            let end = content[1..].find(quote)? + 1;
            (&content[1..end], content[end + 1..].strip_prefix(':')?)
        }
        _ => {
            let at = content.match_indices(':').map(|(at, _)| at).find(|&at| {
                content[at + 1..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace)
            })?;
            (content[..at].trim_end(), &content[at + 1..])
        }
    };
    let rest = rest.trim_start();
    (!key.is_empty() && !key.starts_with(['-', '[', '{', '#', '&', '*', '!', '|', '>']))
        .then_some((key, !rest.is_empty() && !rest.starts_with('#')))
}

impl Syntax for Yaml {
    fn track_block(&mut self, text: &str, _vars: &Variables, _blocks: &mut Blocks) {
        self.entry = None;
        let trimmed = text.trim_start_matches(' ');
        if trimmed.starts_with("---") || trimmed.starts_with("...") {
            self.keys.clear();
            return;
        }
        // A sequence item's mapping starts after its dash: `- name: x` keys `name` at the
        // column of `x`'s siblings on the lines below.
        let mut indent = text.len() - trimmed.len();
        let mut content = trimmed;
        while let Some(item) = content.strip_prefix("- ") {
            let inner = item.trim_start_matches(' ');
            indent += content.len() - inner.len();
            content = inner;
        }
        let Some((key, has_value)) = yaml_key(content.trim_end()) else {
            return;
        };
        while self.keys.last().is_some_and(|(open, _)| *open >= indent) {
            self.keys.pop();
        }
        let mut path = String::new();
        for part in self.keys.iter().map(|(_, k)| k.as_str()).chain([key]) {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(part);
        }
        if path.len() > self.max_key_path {
            let mut end = self.max_key_path;
            while !path.is_char_boundary(end) {
                end -= 1;
            }
            path.truncate(end);
            path.push('…');
        }
        self.entry = Some(path);
        // A key without a value opens a mapping (or a sequence) below it; past the depth cap
        // its keys are not named, but lines are still read.
        if !has_value && self.keys.len() < self.max_depth {
            let mut key = key.to_string();
            key.truncate(
                (0..=self.max_key_path.min(key.len()))
                    .rev()
                    .find(|&end| key.is_char_boundary(end))
                    .unwrap_or(0),
            );
            self.keys.push((indent, key));
        }
    }

    fn runs_commands(&self) -> bool {
        false
    }

    fn fetches(&self, policy: &DownloadPolicy, text: &str) -> bool {
        policy.yaml_url_value(text)
    }

    fn entry(&self) -> Option<&str> {
        self.entry.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str, max_depth: usize) -> Vec<Option<String>> {
        let mut yaml = Yaml::new(max_depth, 40);
        let vars = Variables::new(false);
        let mut blocks = Blocks::default();
        text.lines()
            .map(|line| {
                yaml.track_block(line, &vars, &mut blocks);
                yaml.entry().map(str::to_string)
            })
            .collect()
    }

    #[test]
    fn entries_are_named_by_their_key_paths() {
        let found = entries(
            "stt_models:\n  en:\n    latest:\n      jit: \"https://x/en.jit\"\n  de:\n\
             \x20   v1: {jit: x}\nmodels:\n  - name: a\n    url: https://x/a.onnx\n\
             \x20 - https://x/b.onnx\n\"quoted key\": 1\n---\nnext: 2\n",
            32,
        );
        let found: Vec<&str> = found.iter().map(|e| e.as_deref().unwrap_or("-")).collect();
        assert_eq!(
            found,
            [
                "stt_models",
                "stt_models.en",
                "stt_models.en.latest",
                "stt_models.en.latest.jit",
                "stt_models.de",
                "stt_models.de.v1",
                "models",
                "models.name",
                "models.url",
                "-",
                "quoted key",
                "-",
                "next",
            ]
        );
    }

    #[test]
    fn depth_and_length_are_capped() {
        let deep: String = (0..100)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        let found = entries(&deep, 3);
        assert_eq!(found[2].as_deref(), Some("k0.k1.k2"));
        // Past the cap, a key is named under the deepest open key only.
        assert_eq!(found[99].as_deref(), Some("k0.k1.k2.k99"));
        let long = format!("{}:\n  x: 1\n", "é".repeat(100));
        let found = entries(&long, 3);
        assert!(found[1].as_deref().unwrap().len() <= 40 + '…'.len_utf8());
    }
}
