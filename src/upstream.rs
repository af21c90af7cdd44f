//! What the upstream tree says about itself: its name, version, home page, summary and licence,
//! read from the files its build systems use (`pyproject.toml`, `setup.py`, `setup.cfg`,
//! `CMakeLists.txt`, `configure.ac`, `meson.build`, `Cargo.toml`, `package.json`, `VERSION`)
//! anywhere near the top of the tree, and its licence file; else from the directory's name as
//! dh_make reads it (`name-version`). Every value is optional: a fact not found becomes a
//! commented placeholder in the generated files, never a guess. Upstream code is never run.

use std::path::{Path, PathBuf};

use crate::pipeline::DraftPolicy;

/// The metadata files read, each by its own reader below; `VERSION` files hold only a version.
const METADATA_FILES: &[&str] = &[
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "CMakeLists.txt",
    "configure.ac",
    "configure.in",
    "meson.build",
    "Cargo.toml",
    "package.json",
    "VERSION",
    "VERSION.txt",
    "version.txt",
];

#[derive(Debug, Clone, Default)]
pub struct Upstream {
    pub name: Option<String>,
    pub version: Option<String>,
    pub homepage: Option<String>,
    pub summary: Option<String>,
    /// The README's first paragraph of prose, as plain text.
    pub description: Option<String>,
    /// SPDX expression of the code's licence: the metadata's when it agrees with the licence
    /// file's text, else the licence file's.
    pub license: Option<String>,
    /// The metadata file that stated a licence, relative to the tree.
    pub license_from: Option<String>,
    /// The licence file (relative to the tree) and the licence its text reads as.
    pub license_file: Option<String>,
    pub license_file_id: Option<String>,
    /// The licence file's text, for the copyright file's stand-alone License paragraph.
    pub license_text: Option<String>,
    /// Disagreements between the metadata and the licence file, in plain words.
    pub license_warnings: Vec<String>,
    /// `Copyright …` lines of the licence file.
    pub copyright: Vec<String>,
    /// The files the name and version were read from, relative to the tree, for the report.
    pub sources: Vec<String>,
}

impl Upstream {
    /// Reads what the tree at `root` states about itself: the metadata files within
    /// `metadata-max-depth` directory levels (`policy/init.toml`; shallower first, so the
    /// top-level project wins over a sub-package; the `metadata-skip-directories` of tests,
    /// vendored code and examples not entered), then the licence file at the top; the
    /// directory's name gives what none of them states. Later sources fill only what earlier
    /// ones left open.
    pub fn detect(root: &Path, policy: &DraftPolicy) -> Upstream {
        let mut found = Upstream::default();
        let max = policy.limits.text_max_bytes;
        for path in metadata_files(root, policy) {
            let Some(text) = read_path(&path, max) else {
                continue;
            };
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let read = match name {
                "pyproject.toml" => from_pyproject(&text),
                "setup.py" => from_setup_py(&text),
                "setup.cfg" => from_setup_cfg(&text),
                "CMakeLists.txt" => from_cmake(&text),
                "configure.ac" | "configure.in" => from_configure_ac(&text),
                "meson.build" => from_meson(&text),
                "Cargo.toml" => from_cargo(&text),
                "package.json" => from_package_json(&text),
                _ => from_version_file(&text),
            };
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            if found.license.is_none()
                && read
                    .license
                    .as_deref()
                    .is_some_and(|l| !l.trim().is_empty())
            {
                found.license_from = Some(rel.clone());
            }
            if read.name.is_some() || read.version.is_some() {
                found.sources.push(rel);
            }
            found.merge(read);
        }
        let (dir_name, dir_version) = directory_name(root);
        found.merge(Upstream {
            name: dir_name,
            version: dir_version,
            ..Upstream::default()
        });
        for name in &policy.limits.license_file_names {
            let Some(text) = read_path(&root.join(name), max) else {
                continue;
            };
            found.license_file = Some(name.clone());
            found.license_file_id = policy.licenses.recognise_text(&text);
            found.copyright = copyright_lines(&text);
            found.license_text = Some(text);
            break;
        }
        found.description = policy
            .limits
            .readme_names
            .iter()
            .find_map(|name| read_path(&root.join(name), max))
            .and_then(|text| readme_paragraph(&text));
        found.settle_license(&policy.licenses);
        found
    }

    /// Decides the code's licence from the metadata and the licence file's text. They agree
    /// when the metadata names the text's licence (`GPL-2.0-or-later` for a GPL-2 text: the
    /// metadata then says what the text cannot, "or later"); the metadata wins. When they
    /// disagree, the licence file's text wins (it is what the recipient gets) and a warning
    /// names both; so does metadata that is no SPDX expression.
    fn settle_license(&mut self, table: &crate::spdx::LicenseTable) {
        use crate::spdx::{identifiers, parse, text_family};
        let from = self.license_from.clone().unwrap_or_default();
        let file = self.license_file.clone().unwrap_or_default();
        let Some(stated) = self.license.clone() else {
            self.license = self.license_file_id.clone();
            if let Some(read) = self
                .license_file_id
                .as_deref()
                .filter(|id| id.ends_with("-only"))
            {
                let dep5 = parse(read).map_or(read.to_string(), |e| table.dep5(&e).name);
                self.license_warnings.push(format!(
                    "{file} is the text of {}, which cannot say whether later versions apply: \
                     debian/copyright says {dep5}; if the source files' headers say \"or (at \
                     your option) any later version\", make it the \"+\" licence",
                    text_family(read)
                ));
            }
            return;
        };
        let parsed = parse(stated.trim()).ok();
        let Some(read) = self.license_file_id.clone() else {
            if parsed.is_none() {
                self.license_warnings.push(format!(
                    "{from} gives the licence as `{stated}`, which is no SPDX expression: \
                     write the right SPDX identifier in debian/copyright's `License:` fields"
                ));
            }
            return;
        };
        let agrees = parsed.as_ref().is_some_and(|expression| {
            identifiers(expression)
                .iter()
                .any(|(id, _)| text_family(id).eq_ignore_ascii_case(&text_family(&read)))
        });
        if agrees {
            return;
        }
        let dep5 = parse(&read)
            .map(|e| table.dep5(&e).name)
            .unwrap_or(read.clone());
        self.license_warnings.push(format!(
            "{from} gives the licence as `{stated}`, but {file} is the text of {read}: \
             debian/copyright says {dep5}, from the licence file; check which applies (and ask \
             upstream to make the two agree)"
        ));
        self.license = Some(read);
    }

    fn merge(&mut self, other: Upstream) {
        let fill = |mine: &mut Option<String>, theirs: Option<String>| {
            if mine.is_none() {
                *mine = theirs.filter(|v| !v.trim().is_empty() && !v.contains('\n'));
            }
        };
        fill(&mut self.name, other.name);
        fill(
            &mut self.version,
            other.version.filter(|v| plausible_version(v)),
        );
        fill(&mut self.homepage, other.homepage);
        fill(&mut self.summary, other.summary);
        fill(&mut self.license, other.license);
    }
}

/// The metadata files of the tree, shallowest first, in name order within a directory level.
fn metadata_files(root: &Path, policy: &DraftPolicy) -> Vec<PathBuf> {
    build_files(root, policy, |name| METADATA_FILES.contains(&name))
}

/// The files of the tree whose name `wanted` accepts, within `metadata-max-depth` levels and
/// outside the `metadata-skip-directories` (policy/init.toml), shallowest first, in name order
/// within a directory level: the upstream project's own build files, not those of its tests,
/// examples or vendored code.
pub(crate) fn build_files(
    root: &Path,
    policy: &DraftPolicy,
    wanted: impl Fn(&str) -> bool,
) -> Vec<PathBuf> {
    let skip = |name: &str| {
        policy
            .scan
            .limits
            .skip_directories
            .iter()
            .any(|d| d == name)
            || policy
                .limits
                .metadata_skip_directories
                .iter()
                .any(|d| d.eq_ignore_ascii_case(name))
    };
    let mut files: Vec<(usize, PathBuf)> = walkdir::WalkDir::new(root)
        .max_depth(policy.limits.metadata_max_depth + 1)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0 || !(e.file_type().is_dir() && skip(&e.file_name().to_string_lossy()))
        })
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| wanted(e.file_name().to_string_lossy().as_ref()))
        .map(|e| (e.depth(), e.into_path()))
        .collect();
    files.sort_by_key(|(depth, _)| *depth);
    files.into_iter().map(|(_, path)| path).collect()
}

/// The first `max` bytes of the file at `path` as text (invalid UTF-8 replaced); `None` when it
/// is not a readable file.
pub(crate) fn read_path(path: &Path, max: u64) -> Option<String> {
    use std::io::Read;
    if !path.is_file() {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(max).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The holders of a licence file's `Copyright YEAR NAME` lines (`Copyright (c) 2017, Mozilla`
/// → `2017, Mozilla`): a year must follow the word, so the licence's own prose ("copyright
/// holder…") is not taken, nor the FSF's copyright in the text of a GNU licence.
fn copyright_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter_map(|line| {
            let rest = line
                .get(..9)?
                .eq_ignore_ascii_case("copyright")
                .then(|| &line[9..])?;
            let rest = rest.trim_start_matches([':', ' ']);
            let rest = ["(c)", "(C)", "©"]
                .iter()
                .find_map(|mark| rest.strip_prefix(mark))
                .unwrap_or(rest)
                .trim();
            rest.starts_with(|c: char| c.is_ascii_digit())
                .then(|| rest.to_string())
        })
        .filter(|holder| !holder.contains("Free Software Foundation, Inc."))
        .collect()
}

/// The first paragraph of prose of a README (Markdown, reStructuredText or plain text): lines
/// up to a blank one, skipping headings, underlines, badges, images, HTML, tables, lists and
/// code; Markdown links and emphasis reduced to their text. `None` when there is none of at
/// least a few words.
pub fn readme_paragraph(text: &str) -> Option<String> {
    let mut paragraph: Vec<String> = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_code = !in_code;
            if !paragraph.is_empty() {
                break;
            }
            continue;
        }
        let not_prose = in_code
            || trimmed.is_empty()
            || trimmed.starts_with(['#', '<', '!', '[', '|', '-', '*', '+', '>', '=', '.', ':'])
            || trimmed.chars().all(|c| "=-~^*#`".contains(c))
            || line.starts_with("    ")
            || line.starts_with('\t');
        if not_prose {
            if !paragraph.is_empty() {
                break;
            }
            continue;
        }
        paragraph.push(plain_markdown(trimmed));
    }
    let mut joined = paragraph.join(" ");
    // "… is described in the following paper:" leads into what was skipped.
    if joined.ends_with(':')
        && let Some(end) = joined.trim_end_matches(':').rfind(". ")
    {
        joined.truncate(end + 1);
    }
    (joined.split_whitespace().count() >= 4).then(|| joined.chars().take(1200).collect())
}

/// `[text](url)` as `text`, without `**`, `__` and backticks.
fn plain_markdown(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|c| open + c) else {
            break;
        };
        let Some(end) = rest[close..].find(')').map(|e| close + e) else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out.replace("**", "").replace("__", "").replace('`', "")
}

/// A version as upstreams write them: starts with a digit (after an optional `v`), then
/// letters, digits and `.+~-_`; what a Debian version can be made of.
fn plausible_version(version: &str) -> bool {
    let v = version.strip_prefix('v').unwrap_or(version);
    v.starts_with(|c: char| c.is_ascii_digit())
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~-_".contains(c))
}

/// A version for debian/changelog: a leading `v` dropped, `_` as `.` (no Debian version holds
/// `_`), and a date (`20250625`) behind [`DATE_VERSION_PREFIX`].
pub fn debian_version(version: &str) -> String {
    let v = version.strip_prefix('v').unwrap_or(version);
    let v = v.replace('_', ".");
    if is_date_version(&v) {
        format!("{DATE_VERSION_PREFIX}{v}")
    } else {
        v
    }
}

/// What goes before an upstream version that is a date, as lintian's
/// `new-package-uses-date-based-version-number` asks: `0~20250625` sorts below any `1.0`
/// upstream may tag later, where `20250625` would need an epoch then. `debian/watch` adds it
/// to what uscan finds (`uversionmangle`).
pub const DATE_VERSION_PREFIX: &str = "0~";

/// Whether a version starts with eight digits, the date lintian sees in it.
pub fn is_date_version(version: &str) -> bool {
    version.len() >= 8 && version.bytes().take(8).all(|b| b.is_ascii_digit())
}

/// The name and version of a directory named as dh_make expects, `name-version` or
/// `name_version`: the first `-` or `_` followed by a version (`1.2.3`, `1.2.3~rc1`,
/// `1.2.0+git20250826`, `v2.0`). A name alone gives no version.
pub fn split_directory_name(raw: &str) -> (String, Option<String>) {
    for (at, c) in raw.char_indices() {
        if c != '-' && c != '_' {
            continue;
        }
        let rest = &raw[at + 1..];
        if at > 0 && plausible_version(rest) {
            return (raw[..at].to_string(), Some(rest.to_string()));
        }
    }
    (raw.to_string(), None)
}

fn directory_name(root: &Path) -> (Option<String>, Option<String>) {
    let canonical = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let Some(raw) = canonical
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
    else {
        return (None, None);
    };
    let (name, version) = split_directory_name(&raw);
    (Some(name), version)
}

/// `raw` made a source package name (Debian Policy 5.6.1: lower-case letters, digits, `+`,
/// `-`, `.`, starting with a letter or digit, at least two characters): lower-cased, `_`,
/// spaces and other characters as `-`. `None` when nothing valid is left.
pub fn package_name(raw: &str) -> Option<String> {
    let mut name = String::new();
    for c in raw.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '+' || c == '.' {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name
        .trim_end_matches('-')
        .trim_start_matches(['+', '.'])
        .to_string();
    (name.len() >= 2).then_some(name)
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
/// computed is not evaluated (upstream code is never run). Only the `setup(…)` call's own
/// arguments count: an `Extension(name="pkg.core", …)` before it names a module, not the project.
fn from_setup_py(text: &str) -> Upstream {
    let keyword = |key: &str| setup_argument(text, key).and_then(string_literal);
    Upstream {
        name: keyword("name"),
        version: keyword("version"),
        homepage: keyword("url"),
        summary: keyword("description"),
        license: keyword("license"),
        ..Upstream::default()
    }
}

/// The text of the keyword argument `key` of `setup.py`'s `setup(…)` call, from just after its
/// `=` to the end of the call (`name="TTS", version=…)` for `name`); `None` when the call does
/// not pass it. The value is text to read, never code to run.
pub(crate) fn setup_argument<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    let call = setup_call(text)?;
    let mut rest = call;
    while let Some(at) = rest.find(key) {
        let before = rest[..at].chars().last();
        let after = rest[at + key.len()..].trim_start();
        rest = &rest[at + key.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        // `name=` but not `name==` (a comparison inside some other argument).
        if let Some(value) = after.strip_prefix('=').filter(|v| !v.starts_with('=')) {
            return Some(value.trim_start());
        }
    }
    None
}

/// The Python string literal `value` starts with (`"TTS", …` → `TTS`); `None` when it starts
/// with anything else (a name, a call).
fn string_literal(value: &str) -> Option<String> {
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = &value[1..];
    inner.find(quote).map(|end| inner[..end].to_string())
}

/// The string literals of the Python list or tuple literal `value` starts with
/// (`["cython>=0.29", 'numpy'], …`); `None` when it is not a literal list of strings only
/// (a variable, a call, a comprehension: computed, so not read).
pub(crate) fn string_list(value: &str) -> Option<Vec<String>> {
    let close = match value.chars().next()? {
        '[' => ']',
        '(' => ')',
        _ => return None,
    };
    let mut items = Vec::new();
    let skip = skip_blanks_and_comments;
    let mut rest = skip(&value[1..]);
    loop {
        if rest.starts_with(close) {
            return Some(items);
        }
        let item = string_literal(rest)?;
        rest = skip(&rest[item.len() + 2..]);
        items.push(item);
        rest = match rest.strip_prefix(',') {
            Some(after) => skip(after),
            None if rest.starts_with(close) => rest,
            None => return None,
        };
    }
}

/// `text` after its blanks and `# comments` (between the items of a list literal).
fn skip_blanks_and_comments(mut text: &str) -> &str {
    loop {
        text = text.trim_start();
        match text.strip_prefix('#') {
            Some(comment) => text = comment.split_once('\n').map_or("", |(_, next)| next),
            None => return text,
        }
    }
}

/// The arguments of the `setup(` (or `setuptools.setup(`) call, up to its closing parenthesis
/// (or the end of the text when it does not close).
fn setup_call(text: &str) -> Option<&str> {
    let mut from = 0;
    let start = loop {
        let at = from + text[from..].find("setup(")?;
        let before = text[..at].chars().next_back();
        if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            break at + "setup(".len();
        }
        from = at + "setup(".len();
    };
    let mut depth = 1usize;
    let mut quote = None;
    for (i, c) in text[start..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[start..start + i]);
                }
            }
            _ => {}
        }
    }
    Some(&text[start..])
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

pub(crate) fn split_cmake_arguments(text: &str) -> Vec<String> {
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

/// `[metadata]` of `setup.cfg` (an INI file): `name`, `version`, `url`, `description`,
/// `license`, given literally (`attr:` and `file:` directives are not followed).
fn from_setup_cfg(text: &str) -> Upstream {
    let mut in_metadata = false;
    let mut found = Upstream::default();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_metadata = line == "[metadata]";
            continue;
        }
        let Some((key, value)) = line.split_once(['=', ':']).filter(|_| in_metadata) else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() || value.starts_with("attr:") || value.starts_with("file:") {
            continue;
        }
        let value = Some(value.to_string());
        match key.trim() {
            "name" => found.name = value,
            "version" => found.version = value,
            "url" | "home_page" | "home-page" => found.homepage = value,
            "description" | "summary" => found.summary = value,
            "license" => found.license = value,
            _ => {}
        }
    }
    found
}

/// `project('name', 'c', version : '1.2', license : 'MIT')` of `meson.build`.
fn from_meson(text: &str) -> Upstream {
    let Some(start) = text.find("project(") else {
        return Upstream::default();
    };
    let body = &text[start + "project(".len()..];
    let body = &body[..body.find(')').unwrap_or(body.len())];
    let quoted = |s: &str| -> Option<String> {
        let s = s.trim();
        let q = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let inner = &s[1..];
        inner.find(q).map(|end| inner[..end].to_string())
    };
    let keyword = |key: &str| {
        body.split(',').find_map(|part| {
            let (k, v) = part.split_once(':')?;
            (k.trim() == key).then(|| quoted(v)).flatten()
        })
    };
    Upstream {
        name: body.split(',').next().and_then(quoted),
        version: keyword("version"),
        license: keyword("license"),
        ..Upstream::default()
    }
}

/// `[package]` of a `Cargo.toml`.
fn from_cargo(text: &str) -> Upstream {
    let Ok(document) = text.parse::<toml::Table>() else {
        return Upstream::default();
    };
    let Some(package) = document.get("package").and_then(|p| p.as_table()) else {
        return Upstream::default();
    };
    let string = |key: &str| package.get(key).and_then(|v| v.as_str()).map(String::from);
    Upstream {
        name: string("name"),
        version: string("version"),
        summary: string("description"),
        homepage: string("homepage").or_else(|| string("repository")),
        license: string("license"),
        ..Upstream::default()
    }
}

/// A `package.json`'s `name`, `version`, `description`, `homepage`, `license`.
fn from_package_json(text: &str) -> Upstream {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_str(text) else {
        return Upstream::default();
    };
    let string = |key: &str| object.get(key).and_then(|v| v.as_str()).map(String::from);
    Upstream {
        // npm scopes (`@org/name`) are not part of the project's name.
        name: string("name").map(|n| n.rsplit('/').next().unwrap_or(&n).to_string()),
        version: string("version"),
        summary: string("description"),
        homepage: string("homepage"),
        license: string("license"),
        ..Upstream::default()
    }
}

/// A `VERSION` file: its first non-empty line, when it is a version.
fn from_version_file(text: &str) -> Upstream {
    Upstream {
        version: text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(String::from),
        ..Upstream::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_paragraph_is_the_first_prose() {
        let readme = "# nanoGPT\n\n![nanoGPT](assets/nanogpt.jpg)\n\nThe simplest, fastest \
                      repository for training/finetuning medium-sized \
                      [GPTs](https://en.wikipedia.org/wiki/GPT).\nIt is **small**.\n\nMore.\n";
        assert_eq!(
            readme_paragraph(readme).as_deref(),
            Some(
                "The simplest, fastest repository for training/finetuning medium-sized GPTs. \
                 It is small."
            )
        );
        assert_eq!(
            readme_paragraph("# Title\n\n```\ncode here is long\n```\n"),
            None
        );
        assert_eq!(
            readme_paragraph("RNNoise is a library. It is described in this paper:\n\n- x\n")
                .as_deref(),
            Some("RNNoise is a library.")
        );
    }

    #[test]
    fn copyright_lines_need_a_year_after_the_word() {
        let gpl = "Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>\n\
                   copyright holder, and you cure the violation prior to 30 days\n";
        assert!(copyright_lines(gpl).is_empty());
        assert_eq!(
            copyright_lines("Copyright (c) 2017, Mozilla\nCopyright: 2024 A\n© x\n"),
            vec!["2017, Mozilla", "2024 A"]
        );
    }

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
        // Coqui TTS's setup.py: an extension module's name comes first.
        let tts = from_setup_py(
            "exts = [Extension(name=\"TTS.tts.utils.monotonic_align.core\", sources=[\"c.pyx\"])]\n\
             setuptools.setup(\n    name=\"TTS\",\n    version=version,\n    ext_modules=exts,\n)\n\
             name = 'after'\n",
        );
        assert_eq!(tts.name.as_deref(), Some("TTS"));
        assert_eq!(tts.version, None);
        assert_eq!(from_setup_py("name = 'x'\n").name, None, "no setup() call");
        // setup_requires as a list literal, comments and all; a computed list is not read.
        let text = "setup(name='x', setup_requires=[\"a>=1\",  # why\n 'b'], x=1)";
        assert_eq!(
            setup_argument(text, "setup_requires").and_then(string_list),
            Some(vec!["a>=1".to_string(), "b".to_string()])
        );
        assert_eq!(
            setup_argument("setup(setup_requires=REQS)", "setup_requires").and_then(string_list),
            None
        );
        assert_eq!(string_list("(\"a\",)"), Some(vec!["a".to_string()]));
        assert_eq!(string_list("[\"a\" \"b\"]"), None, "not a list of literals");
        assert_eq!(string_list("[\"a\\\"b\"]"), None, "escapes are not read");
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

    #[test]
    fn reads_the_other_build_files() {
        let cfg = from_setup_cfg(
            "[metadata]\nname = piper_tts\nversion = 1.2.0\nlicense: MIT\n[options]\nname = no\n",
        );
        assert_eq!(cfg.name.as_deref(), Some("piper_tts"));
        assert_eq!(cfg.version.as_deref(), Some("1.2.0"));
        assert_eq!(cfg.license.as_deref(), Some("MIT"));
        let meson =
            from_meson("project('mnet', 'c',\n  version : '0.9.1', license : 'BSD-3-Clause')\n");
        assert_eq!(meson.name.as_deref(), Some("mnet"));
        assert_eq!(meson.version.as_deref(), Some("0.9.1"));
        assert_eq!(meson.license.as_deref(), Some("BSD-3-Clause"));
        let cargo = from_cargo("[package]\nname = \"rnet\"\nversion = \"0.2.0\"\n");
        assert_eq!(cargo.version.as_deref(), Some("0.2.0"));
        let npm = from_package_json(r#"{"name": "@org/jnet", "version": "3.1.4"}"#);
        assert_eq!(npm.name.as_deref(), Some("jnet"));
        assert_eq!(
            from_version_file("\n1.4.2\n").version.as_deref(),
            Some("1.4.2")
        );
    }

    #[test]
    fn directory_names_split_as_dh_make_does() {
        let split = |raw: &str| split_directory_name(raw);
        assert_eq!(
            split("name-1.2.3~rc1"),
            ("name".into(), Some("1.2.3~rc1".into()))
        );
        assert_eq!(
            split("piper-1.2.0+git20250826"),
            ("piper".into(), Some("1.2.0+git20250826".into()))
        );
        assert_eq!(
            split("foo-bar_v2.0"),
            ("foo-bar".into(), Some("v2.0".into()))
        );
        assert_eq!(split("nanoGPT"), ("nanoGPT".into(), None));
        assert_eq!(split("rnnoise-master"), ("rnnoise-master".into(), None));
        assert_eq!(package_name("nanoGPT").as_deref(), Some("nanogpt"));
        assert_eq!(package_name("tiny_net  2").as_deref(), Some("tiny-net-2"));
        assert_eq!(package_name("_"), None);
        assert_eq!(debian_version("v1.2_3"), "1.2.3");
        assert_eq!(debian_version("20250625"), "0~20250625");
        assert_eq!(debian_version("20231117.1"), "0~20231117.1");
        assert_eq!(debian_version("2025.06"), "2025.06");
    }
}
