//! Patches for a CMake build that fetches code with `ExternalProject_Add`: unlike
//! FetchContent, ExternalProject has no switch that makes it look for an installed copy. Each
//! patch replaces one whole `ExternalProject_Add(<name> …)` call with `find_package()` (or
//! `pkg_check_modules()`) and an empty `<name>` target, so that `add_dependencies(… <name>)`
//! still resolves.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::{Change, PlannedPatch, file_word, is_plain_path, read_capped, splice, unique_name};
use crate::generate::fetched::{CodeFetch, FetchedCodeTable, Fetcher, Project};

const REPLACEMENT: &str = include_str!("../../../templates/cmake/use-installed-package.cmake.j2");

/// One command invocation in a CMake file (cmake-language(7), "Command Invocations").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmakeCall {
    /// Byte offsets of the command name and one past the closing parenthesis.
    pub start: usize,
    pub end: usize,
    /// 1-based lines of the command name and of the closing parenthesis.
    pub line: u64,
    pub last_line: u64,
    /// The arguments at the call's own level: quoted ones without their quotes, bracket ones
    /// without their brackets, unquoted ones as written (escapes kept); nested parentheses and
    /// what is inside them are not listed.
    pub arguments: Vec<String>,
}

/// Every call of `command` (compared case-insensitively, as CMake does) in `text`, with its
/// whole balanced argument list: parentheses nest, and those inside quoted or bracket arguments,
/// line comments (`# …`) and bracket comments (`#[[…]]`) do not count. One pass, no recursion:
/// linear in the text whatever it holds. An unclosed call at the end is not a call.
pub fn command_calls(text: &str, command: &str) -> Vec<CmakeCall> {
    struct Open {
        start: usize,
        line: u64,
        wanted: bool,
        depth: usize,
        arguments: Vec<String>,
        argument: Option<String>,
    }
    fn finish(open: &mut Open) {
        if let Some(argument) = open.argument.take()
            && open.depth == 1
        {
            open.arguments.push(argument);
        }
    }
    fn push(open: &mut Open, piece: &str) {
        open.argument
            .get_or_insert_with(String::new)
            .push_str(piece);
    }
    let bytes = text.as_bytes();
    let mut calls = Vec::new();
    let mut line: u64 = 1;
    let mut open: Option<Open> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'#' => {
                if let Some(open) = open.as_mut() {
                    finish(open);
                }
                i = match bracket_length(&bytes[i + 1..]) {
                    Some(length) => skip_bracket(bytes, i + 1, length, &mut line).0,
                    None => bytes[i..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(bytes.len(), |p| i + p),
                };
            }
            b'\n' => {
                line += 1;
                if let Some(open) = open.as_mut() {
                    finish(open);
                }
                i += 1;
            }
            b' ' | b'\t' | b'\r' => {
                if let Some(open) = open.as_mut() {
                    finish(open);
                }
                i += 1;
            }
            _ if open.is_some() => {
                let call = open.as_mut().expect("checked above");
                match c {
                    b'"' => {
                        let begin = i + 1;
                        let mut j = begin;
                        while j < bytes.len() && bytes[j] != b'"' {
                            if bytes[j] == b'\n' {
                                line += 1;
                            }
                            if bytes[j] == b'\\' && j + 1 < bytes.len() {
                                if bytes[j + 1] == b'\n' {
                                    line += 1;
                                }
                                j += 1;
                            }
                            j += 1;
                        }
                        push(call, text.get(begin..j).unwrap_or_default());
                        i = j + 1;
                    }
                    b'[' if bracket_length(&bytes[i..]).is_some() => {
                        let length = bracket_length(&bytes[i..]).unwrap_or_default();
                        let (next, content_end) = skip_bracket(bytes, i, length, &mut line);
                        push(
                            call,
                            text.get(i + length + 2..content_end).unwrap_or_default(),
                        );
                        i = next;
                    }
                    b'(' => {
                        finish(call);
                        call.depth += 1;
                        i += 1;
                    }
                    b')' => {
                        finish(call);
                        call.depth -= 1;
                        i += 1;
                        if call.depth == 0 {
                            let done = open.take().expect("checked above");
                            if done.wanted {
                                calls.push(CmakeCall {
                                    start: done.start,
                                    end: i,
                                    line: done.line,
                                    last_line: line,
                                    arguments: done.arguments,
                                });
                            }
                        }
                    }
                    b'\\' => {
                        let next = (i + 2).min(bytes.len());
                        if bytes.get(i + 1) == Some(&b'\n') {
                            line += 1;
                        }
                        push(call, text.get(i..next).unwrap_or_default());
                        i = next;
                    }
                    _ => {
                        let next = i + utf8_length(c);
                        push(call, text.get(i..next).unwrap_or_default());
                        i = next;
                    }
                }
            }
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                let begin = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let name = &text[begin..i];
                let mut j = i;
                while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
                    j += 1;
                }
                if bytes.get(j) == Some(&b'(') {
                    open = Some(Open {
                        start: begin,
                        line,
                        wanted: name.eq_ignore_ascii_case(command),
                        depth: 1,
                        arguments: Vec::new(),
                        argument: None,
                    });
                    i = j + 1;
                }
            }
            // Anything else between commands is not CMake; passed over.
            _ => i += utf8_length(c),
        }
    }
    calls
}

/// The bytes of the UTF-8 character starting with `first` (1 for a stray byte).
fn utf8_length(first: u8) -> usize {
    match first {
        0xf0..=0xf7 => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

/// The number of `=` of a bracket opening `[=*[` at the start of `bytes`.
fn bracket_length(bytes: &[u8]) -> Option<usize> {
    if bytes.first() != Some(&b'[') {
        return None;
    }
    let equals = bytes[1..].iter().take_while(|&&b| b == b'=').count();
    (bytes.get(1 + equals) == Some(&b'[')).then_some(equals)
}

/// Past the bracket (argument or comment) opening at `start` with `equals` `=`: (the offset after
/// its close, the offset of its close), counting lines; both the end of the text when unclosed.
fn skip_bracket(bytes: &[u8], start: usize, equals: usize, line: &mut u64) -> (usize, usize) {
    let mut close = vec![b']'];
    close.extend(std::iter::repeat_n(b'=', equals));
    close.push(b']');
    let body = start + equals + 2;
    let mut j = body;
    while j < bytes.len() {
        if bytes[j..].starts_with(&close) {
            return (j + close.len(), j);
        }
        if bytes[j] == b'\n' {
            *line += 1;
        }
        j += 1;
    }
    (bytes.len(), bytes.len())
}

#[derive(Serialize)]
struct ReplacementContext<'a> {
    project: &'a str,
    package: &'a str,
    target: &'a str,
    cmake_package: Option<&'a str>,
    pkg_config: Option<&'a str>,
    pkg_config_prefix: String,
}

/// The patches for `fetches`: one per `ExternalProject_Add` call whose project the table
/// knows with a CMake package or pkg-config module, in file and line order. A file larger than
/// the table's cap, not UTF-8, or with a name a diff header cannot hold gets none (the advice
/// still names the fetch).
pub fn plan(
    root: &Path,
    fetches: &[CodeFetch],
    table: &FetchedCodeTable,
) -> Result<Vec<PlannedPatch>> {
    let mut env = crate::templates::environment();
    env.add_template("replacement", REPLACEMENT)?;
    let template = env.get_template("replacement")?;
    let mut planned: Vec<PlannedPatch> = Vec::new();
    let mut paths: Vec<&str> = fetches.iter().map(|f| f.path.as_str()).collect();
    paths.dedup();
    for path in paths {
        if !is_plain_path(path) {
            continue;
        }
        let Some(original) = read_capped(&root.join(path), table.max_build_file_bytes) else {
            continue;
        };
        // Each fetch to patch, resolved to its call's target on the upstream text.
        let calls = command_calls(&original, "ExternalProject_Add");
        let mut wanted: Vec<(&CodeFetch, &Project, String)> = Vec::new();
        for fetch in fetches.iter().filter(|f| f.path == path) {
            let Some(project) = &fetch.project else {
                continue;
            };
            if fetch.fetcher != Fetcher::ExternalProject
                || (project.cmake_package.is_none() && project.pkg_config.is_none())
                || fetch.url.chars().any(char::is_control)
            {
                continue;
            }
            let Some(call) = calls
                .iter()
                .find(|c| c.line <= fetch.line && fetch.line <= c.last_line)
            else {
                continue;
            };
            let Some(target) = call.arguments.first().filter(|t| is_target_name(t)) else {
                continue;
            };
            if !wanted.iter().any(|(_, _, t)| t == target) {
                wanted.push((fetch, project, target.clone()));
            }
        }
        // In series order: each diff is made against the text the patches before it leave.
        let mut text = original;
        for (fetch, project, target) in wanted {
            let Some(call) = command_calls(&text, "ExternalProject_Add")
                .into_iter()
                .find(|c| c.arguments.first() == Some(&target))
            else {
                continue;
            };
            let package = project.packages.first().map_or("", String::as_str);
            let context = ReplacementContext {
                project: &project.name,
                package,
                target: &target,
                cmake_package: project.cmake_package.as_deref(),
                pkg_config: project.pkg_config.as_deref(),
                pkg_config_prefix: pkg_config_prefix(&project.name),
            };
            let replacement = template
                .render(&context)
                .with_context(|| format!("rendering the patch for {path}:{}", fetch.line))?;
            let (patched, diff) = replace_call(&text, &call, &replacement, path);
            let finder = match (&project.cmake_package, &project.pkg_config) {
                (Some(name), _) => format!("find_package({name} REQUIRED)"),
                (None, module) => format!(
                    "pkg_check_modules({} REQUIRED IMPORTED_TARGET {})",
                    context.pkg_config_prefix,
                    module.as_deref().unwrap_or_default()
                ),
            };
            let name = unique_name(
                &planned,
                format!("use-installed-{}.patch", file_word(&project.name)),
                format!(
                    "use-installed-{}-{}.patch",
                    file_word(&project.name),
                    file_word(&target)
                ),
            );
            planned.push(PlannedPatch {
                name,
                path: path.to_string(),
                line: fetch.line,
                url: fetch.url.clone(),
                change: Change::UseInstalled {
                    target,
                    project: project.clone(),
                    finder,
                },
                diff,
            });
            text = patched;
        }
    }
    Ok(planned)
}

/// A CMake target name as `add_custom_target` accepts it (policy CMP0037): no variable
/// references, no generator expressions, nothing a file name or a diff would trip on.
fn is_target_name(name: &str) -> bool {
    is_plain_path(name) && !name.contains('/')
}

/// The variable prefix `pkg_check_modules` sets (`<PREFIX>_FOUND`, `PkgConfig::<PREFIX>`).
fn pkg_config_prefix(project: &str) -> String {
    project
        .chars()
        .map(|c| match c.to_ascii_uppercase() {
            c @ ('A'..='Z' | '0'..='9') => c,
            _ => '_',
        })
        .collect()
}

/// `text` with `call` replaced by `replacement` (its lines indented like the call's first
/// line; what stands before and after the call on its lines kept), and the diff ([`splice`]).
fn replace_call(text: &str, call: &CmakeCall, replacement: &str, path: &str) -> (String, String) {
    let line_start = text[..call.start].rfind('\n').map_or(0, |p| p + 1);
    let line_end = text[call.end..]
        .find('\n')
        .map_or(text.len(), |p| call.end + p + 1);
    let prefix = &text[line_start..call.start];
    let suffix = &text[call.end..line_end];
    let indent: String = prefix
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let separator = format!("\n{indent}");
    let body: Vec<&str> = replacement.trim_end_matches('\n').lines().collect();
    let block = format!("{prefix}{}{suffix}", body.join(&separator))
        // Comment and blank lines of the template indented with nothing after: no trailing blanks.
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        + if suffix.ends_with('\n') { "\n" } else { "" };
    splice(text, line_start, line_end, &block, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call over several lines, with nested parentheses (a generator expression), a `)` in
    /// a quoted argument, in a bracket argument and in comments.
    const CMAKE: &str = r#"cmake_minimum_required(VERSION 3.13)
project(demo C)
# ExternalProject_Add(commented_out URL https://example.org/x.zip) (a comment)
include(ExternalProject)
if(NOT DEFINED ZLIB_DIR)
  ExternalProject_Add(
    zlib_external # the target ) named here
    PREFIX "${CMAKE_CURRENT_BINARY_DIR}/z"
    URL "https://zlib.net/zlib-1.3.1.tar.gz"
    CMAKE_ARGS -DX=$<IF:$<CONFIG:Debug>,(a),(b)> "-DMSG=a ) in a \"string\""
    BUILD_COMMAND [[make ) all]]
  )  # done (really)
  add_dependencies(app zlib_external)
endif()
externalproject_add(other URL https://example.org/o.zip)
"#;

    #[test]
    fn finds_whole_balanced_calls() {
        let calls = command_calls(CMAKE, "ExternalProject_Add");
        assert_eq!(calls.len(), 2, "{calls:?}");
        let call = &calls[0];
        assert_eq!((call.line, call.last_line), (6, 12));
        assert!(CMAKE[call.start..].starts_with("ExternalProject_Add(\n"));
        assert!(CMAKE[..call.end].ends_with("all]]\n  )"));
        assert_eq!(
            call.arguments,
            vec![
                "zlib_external",
                "PREFIX",
                "${CMAKE_CURRENT_BINARY_DIR}/z",
                "URL",
                "https://zlib.net/zlib-1.3.1.tar.gz",
                "CMAKE_ARGS",
                "-DX=$<IF:$<CONFIG:Debug>,",
                ",",
                ">",
                "-DMSG=a ) in a \\\"string\\\"",
                "BUILD_COMMAND",
                "make ) all",
            ]
        );
        // Command names are case-insensitive.
        assert_eq!(calls[1].arguments[0], "other");
        // Unclosed at the end: no call.
        assert!(command_calls("ExternalProject_Add(x \"a)\"", "ExternalProject_Add").is_empty());
        // A bracket comment spanning lines counts its lines and hides its parentheses.
        let calls = command_calls("#[==[ ( \n ]] ) ]==]\nfoo(a\nb)\n", "foo");
        assert_eq!(
            (
                calls[0].line,
                calls[0].last_line,
                calls[0].arguments.clone()
            ),
            (3, 4, vec!["a".to_string(), "b".to_string()])
        );
    }

    /// Hostile text never panics the reader nor the rewrite: every prefix of the example (cut
    /// inside strings, brackets, comments and calls), and bytes from a fixed generator.
    #[test]
    fn any_text_is_read_without_panic() {
        let mut texts: Vec<String> = (0..=CMAKE.len())
            .filter(|&n| CMAKE.is_char_boundary(n))
            .map(|n| CMAKE[..n].to_string())
            .collect();
        let alphabet = [
            "(",
            ")",
            "\"",
            "\\",
            "#",
            "[[",
            "]]",
            "[=[",
            "]=]",
            "\n",
            " ",
            "é",
            "a_b",
            "ExternalProject_Add",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..500 {
            let mut text = String::new();
            for _ in 0..40 {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                text.push_str(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            texts.push(text);
        }
        for text in &texts {
            for call in command_calls(text, "ExternalProject_Add") {
                assert!(
                    call.start < call.end && call.end <= text.len() && call.line <= call.last_line
                );
                let (patched, diff) = replace_call(text, &call, "x()\n", "f");
                assert!(patched.contains("x()"));
                assert!(diff.starts_with("--- a/f\n+++ b/f\n@@ -"));
            }
        }
    }

    #[test]
    fn replaces_the_call_and_diffs_it() {
        let call = &command_calls(CMAKE, "ExternalProject_Add")[0];
        let (patched, diff) = replace_call(
            CMAKE,
            call,
            "# new\nfind_package(ZLIB REQUIRED)\n",
            "CMakeLists.txt",
        );
        assert!(
            patched.contains(
                "if(NOT DEFINED ZLIB_DIR)\n  # new\n  find_package(ZLIB REQUIRED)  # done (really)\n  add_dependencies"
            ),
            "{patched}"
        );
        let expected = r#"--- a/CMakeLists.txt
+++ b/CMakeLists.txt
@@ -3,13 +3,8 @@
 # ExternalProject_Add(commented_out URL https://example.org/x.zip) (a comment)
 include(ExternalProject)
 if(NOT DEFINED ZLIB_DIR)
-  ExternalProject_Add(
-    zlib_external # the target ) named here
-    PREFIX "${CMAKE_CURRENT_BINARY_DIR}/z"
-    URL "https://zlib.net/zlib-1.3.1.tar.gz"
-    CMAKE_ARGS -DX=$<IF:$<CONFIG:Debug>,(a),(b)> "-DMSG=a ) in a \"string\""
-    BUILD_COMMAND [[make ) all]]
-  )  # done (really)
+  # new
+  find_package(ZLIB REQUIRED)  # done (really)
   add_dependencies(app zlib_external)
 endif()
 externalproject_add(other URL https://example.org/o.zip)
"#;
        assert_eq!(diff, expected);
        // At the end of a file without a final newline.
        let text = "a()\nfoo(x\n y)";
        let call = &command_calls(text, "foo")[0];
        let (patched, diff) = replace_call(text, call, "bar(x)\n", "f.cmake");
        assert_eq!(patched, "a()\nbar(x)");
        assert_eq!(
            diff,
            "--- a/f.cmake\n+++ b/f.cmake\n@@ -1,3 +1,2 @@\n a()\n-foo(x\n- y)\n\\ No newline at end of file\n+bar(x)\n\\ No newline at end of file\n"
        );
    }
}
