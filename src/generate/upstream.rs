//! What the upstream tree says about itself: its name, version, home page, summary and licence,
//! read from the files its build system uses (`pyproject.toml`, `setup.py`, `CMakeLists.txt`,
//! `configure.ac`) and its licence file. Every value is optional: a fact not found becomes a
//! commented placeholder in the generated files, never a guess.

use std::path::Path;

use crate::pipeline::DraftPolicy;

#[derive(Debug, Clone, Default)]
pub struct Upstream {
    pub name: Option<String>,
    pub version: Option<String>,
    pub homepage: Option<String>,
    pub summary: Option<String>,
    /// SPDX identifier of the code's licence.
    pub license: Option<String>,
    /// The licence file's text, for the copyright file's stand-alone License paragraph.
    pub license_text: Option<String>,
    /// `Copyright …` lines of the licence file.
    pub copyright: Vec<String>,
}

impl Upstream {
    /// Reads what `root` states; later sources fill only what earlier ones left open.
    pub fn detect(root: &Path, policy: &DraftPolicy) -> Upstream {
        let mut found = Upstream::default();
        let max = policy.limits.text_max_bytes;
        if let Some(text) = read(root, "pyproject.toml", max) {
            found.merge(from_pyproject(&text));
        }
        if let Some(text) = read(root, "setup.py", max) {
            found.merge(from_setup_py(&text));
        }
        if let Some(text) = read(root, "CMakeLists.txt", max) {
            found.merge(from_cmake(&text));
        }
        if let Some(text) = read(root, "configure.ac", max) {
            found.merge(from_configure_ac(&text));
        }
        for name in &policy.limits.license_file_names {
            let Some(text) = read(root, name, max) else {
                continue;
            };
            if found.license.is_none() {
                found.license = policy.licenses.recognise_text(&text);
            }
            found.copyright = text
                .lines()
                .map(str::trim)
                .filter(|line| line.to_ascii_lowercase().starts_with("copyright"))
                .filter(|line| line.chars().any(|c| c.is_ascii_digit()))
                .map(|line| line.trim_start_matches(|c: char| c.is_alphabetic()).trim())
                .map(|line| line.trim_start_matches("(c)").trim().to_string())
                .collect();
            found.license_text = Some(text);
            break;
        }
        found
    }

    fn merge(&mut self, other: Upstream) {
        let fill = |mine: &mut Option<String>, theirs: Option<String>| {
            if mine.is_none() {
                *mine = theirs.filter(|v| !v.trim().is_empty());
            }
        };
        fill(&mut self.name, other.name);
        fill(&mut self.version, other.version);
        fill(&mut self.homepage, other.homepage);
        fill(&mut self.summary, other.summary);
        fill(&mut self.license, other.license);
    }
}

fn read(root: &Path, name: &str, max: u64) -> Option<String> {
    use std::io::Read;
    let file = std::fs::File::open(root.join(name)).ok()?;
    let mut bytes = Vec::new();
    file.take(max).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// PEP 621 `[project]`.
fn from_pyproject(text: &str) -> Upstream {
    let Ok(document) = text.parse::<toml::Table>() else {
        return Upstream::default();
    };
    let Some(project) = document.get("project").and_then(|p| p.as_table()) else {
        return Upstream::default();
    };
    let string = |key: &str| project.get(key).and_then(|v| v.as_str()).map(String::from);
    let license = match project.get("license") {
        Some(toml::Value::String(id)) => Some(id.clone()),
        Some(toml::Value::Table(table)) => table
            .get("text")
            .and_then(|t| t.as_str())
            .filter(|t| !t.contains('\n') && t.len() < 64)
            .map(String::from),
        _ => None,
    };
    let homepage = project
        .get("urls")
        .and_then(|u| u.as_table())
        .and_then(|urls| {
            ["Homepage", "homepage", "Source", "Repository", "repository"]
                .iter()
                .find_map(|key| urls.get(*key).and_then(|v| v.as_str()).map(String::from))
        });
    Upstream {
        name: string("name"),
        version: string("version"),
        summary: string("description"),
        homepage,
        license,
        ..Upstream::default()
    }
}

/// `setup(name="…", version="…", …)` keyword arguments given as plain string literals; anything
/// computed is not evaluated (upstream code is never run).
fn from_setup_py(text: &str) -> Upstream {
    let keyword = |key: &str| -> Option<String> {
        let mut rest = text;
        while let Some(at) = rest.find(key) {
            let before = rest[..at].chars().last();
            let after = rest[at + key.len()..].trim_start();
            rest = &rest[at + key.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let Some(value) = after.strip_prefix('=') else {
                continue;
            };
            let value = value.trim_start();
            let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let inner = &value[1..];
            return inner.find(quote).map(|end| inner[..end].to_string());
        }
        None
    };
    Upstream {
        name: keyword("name"),
        version: keyword("version"),
        homepage: keyword("url"),
        summary: keyword("description"),
        license: keyword("license"),
        ..Upstream::default()
    }
}

/// `project(NAME VERSION x.y DESCRIPTION "…" HOMEPAGE_URL "…")`.
fn from_cmake(text: &str) -> Upstream {
    let lower = text.to_ascii_lowercase();
    let Some(start) = lower.find("project(") else {
        return Upstream::default();
    };
    let body = &text[start + "project(".len()..];
    let Some(end) = body.find(')') else {
        return Upstream::default();
    };
    let words = split_cmake_arguments(&body[..end]);
    let after = |key: &str| {
        words
            .iter()
            .position(|w| w == key)
            .and_then(|i| words.get(i + 1).cloned())
    };
    Upstream {
        name: words.first().cloned(),
        version: after("VERSION"),
        summary: after("DESCRIPTION"),
        homepage: after("HOMEPAGE_URL"),
        ..Upstream::default()
    }
}

fn split_cmake_arguments(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            words.push(chars.by_ref().take_while(|c| *c != '"').collect());
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
            words.push(word);
        }
    }
    words
}

/// `AC_INIT([name], [version], [bug-report], [tarname], [url])`.
fn from_configure_ac(text: &str) -> Upstream {
    let Some(start) = text.find("AC_INIT(") else {
        return Upstream::default();
    };
    let body = &text[start + "AC_INIT(".len()..];
    let mut depth = 0usize;
    let mut arguments = vec![String::new()];
    for c in body.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ')' if depth == 0 => break,
            ',' if depth == 0 => arguments.push(String::new()),
            _ => arguments.last_mut().map_or((), |a| a.push(c)),
        }
    }
    let argument = |i: usize| {
        arguments
            .get(i)
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
    };
    Upstream {
        name: argument(0),
        version: argument(1),
        homepage: argument(4),
        ..Upstream::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_build_file() {
        let py = from_pyproject(
            "[project]\nname = \"tiny_net\"\nversion = \"1.2\"\ndescription = \"A net\"\n\
             license = {text = \"MIT\"}\n[project.urls]\nHomepage = \"https://example.org/t\"\n",
        );
        assert_eq!(py.name.as_deref(), Some("tiny_net"));
        assert_eq!(py.version.as_deref(), Some("1.2"));
        assert_eq!(py.license.as_deref(), Some("MIT"));
        assert_eq!(py.homepage.as_deref(), Some("https://example.org/t"));
        let setup = from_setup_py(
            "from setuptools import setup\nsetup(name='x', version = \"0.3\", url=URL)\n",
        );
        assert_eq!(setup.name.as_deref(), Some("x"));
        assert_eq!(setup.version.as_deref(), Some("0.3"));
        assert_eq!(setup.homepage, None);
        let cmake = from_cmake(
            "cmake_minimum_required(VERSION 3.13)\nproject(netc VERSION 2.0 DESCRIPTION \"C net\" LANGUAGES C)\n",
        );
        assert_eq!(cmake.name.as_deref(), Some("netc"));
        assert_eq!(cmake.version.as_deref(), Some("2.0"));
        assert_eq!(cmake.summary.as_deref(), Some("C net"));
        let ac = from_configure_ac(
            "AC_INIT([tinyc], [0.4], [bugs@example.org], [tinyc], [https://example.org/tinyc])\n",
        );
        assert_eq!(ac.name.as_deref(), Some("tinyc"));
        assert_eq!(ac.version.as_deref(), Some("0.4"));
        assert_eq!(ac.homepage.as_deref(), Some("https://example.org/tinyc"));
    }
}
