//! The shared libraries the upstream build system builds and installs, and what else it
//! installs beside them (executables, headers, pkg-config and CMake files), read from its own
//! files: CMake's `add_library`/`set_target_properties`/`install`, Automake's
//! `lib_LTLIBRARIES` and libtool flags, Meson's `library()`. From them `init` drafts Debian's
//! library layout (Debian Policy 8.1, 8.4): a runtime package named after the SONAME, a `-dev`
//! package, and a package for the executables.
//!
//! The build files are read as text, bounded by `text-max-bytes` (policy/init.toml), never run.
//! What the text does not state plainly (a SOVERSION computed at configure time) is reported as
//! unknown with the file and line, never guessed.

use std::collections::BTreeMap;
use std::path::Path;

use crate::pipeline::DraftPolicy;
use crate::upstream::{build_files, read_path, split_cmake_arguments};

/// What the build states about one library's SONAME.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Soname {
    /// The SONAME, e.g. `libfoo.so.1` or libtool's `-release` form `libfoo-2.1.so`.
    Known(String),
    /// The library is built without a version: its SONAME is `lib<name>.so`.
    Unversioned,
    /// The version is an expression the text does not resolve (shown as written).
    Unknown(String),
}

/// One shared library the build installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedLibrary {
    /// The file's name without `lib` and `.so` (CMake's target or `OUTPUT_NAME`).
    pub name: String,
    pub soname: Soname,
    /// Where it is declared: `FILE:LINE`, relative to the tree.
    pub at: String,
}

/// What the upstream build installs, as far as its files say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Installed {
    pub libraries: Vec<SharedLibrary>,
    pub executables: bool,
    pub manual_pages: bool,
    pub headers: bool,
    pub pkgconfig: bool,
    pub cmake_config: bool,
    /// Static archives (`lib*.a`) are installed too.
    pub static_libraries: bool,
    /// libtool installs `.la` files, which Debian does not ship (Policy 10.2).
    pub libtool_archives: bool,
    /// CMake arguments the build needs to build the shared libraries (`-DBUILD_SHARED_LIBS=ON`
    /// when a library's type follows that variable: its CMake default is off).
    pub configure_arguments: Vec<String>,
}

/// What the build system named `build` (policy/buildsystems.toml) of the tree at `root`
/// installs; `None` for build systems whose files are not read here.
pub fn detect(root: &Path, build: &str, policy: &DraftPolicy) -> Option<Installed> {
    let read = |names: &[&str]| -> Vec<(String, String)> {
        build_files(root, policy, |name| names.contains(&name))
            .into_iter()
            .filter_map(|path| {
                let text = read_path(&path, policy.limits.text_max_bytes)?;
                let rel = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                Some((rel, text))
            })
            .collect()
    };
    match build {
        "cmake" => Some(cmake(&cmake_files(root, policy))),
        "autotools" => Some(automake(
            &read(&["Makefile.am"]),
            &read(&["configure.ac", "configure.in"]),
        )),
        "meson" => Some(meson(&read(&["meson.build"]))),
        _ => None,
    }
}

/// The CMakeLists.txt files CMake reads: the top one, then each directory an
/// `add_subdirectory()` outside a function or macro names (those inside one, like a backend a
/// function adds on demand, depend on the call's arguments), within `metadata-max-depth`
/// levels and outside the `metadata-skip-directories` of tests and examples.
fn cmake_files(root: &Path, policy: &DraftPolicy) -> Vec<(String, String)> {
    let skipped = |dir: &Path| {
        dir.components().any(|c| {
            let name = c.as_os_str().to_string_lossy();
            policy
                .limits
                .metadata_skip_directories
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&name))
        })
    };
    let mut files = Vec::new();
    let mut queue = std::collections::VecDeque::from([std::path::PathBuf::new()]);
    while let Some(dir) = queue.pop_front() {
        let rel = dir.join("CMakeLists.txt");
        let Some(text) = read_path(&root.join(&rel), policy.limits.text_max_bytes) else {
            continue;
        };
        let mut depth = 0usize;
        for call in calls(&text, '#', &['"']) {
            match call.name.to_ascii_lowercase().as_str() {
                "function" | "macro" => depth += 1,
                "endfunction" | "endmacro" => depth = depth.saturating_sub(1),
                "add_subdirectory" if depth == 0 => {
                    let Some(arg) = split_cmake_arguments(call.body).into_iter().next() else {
                        continue;
                    };
                    let sub = dir.join(&arg);
                    let inside = Path::new(&arg)
                        .components()
                        .all(|c| matches!(c, std::path::Component::Normal(_)));
                    if inside
                        && !unresolved(&arg)
                        && !skipped(&sub)
                        && sub.components().count() <= policy.limits.metadata_max_depth
                        && !queue.contains(&sub)
                    {
                        queue.push_back(sub);
                    }
                }
                _ => {}
            }
        }
        files.push((rel.display().to_string(), text));
    }
    files
}

/// A command invocation of a CMake or Meson file: its name, the text between its parentheses
/// and the line it starts on.
struct Call<'a> {
    name: String,
    body: &'a str,
    line: usize,
}

/// The calls `name(...)` of `text`, with comments (`comment` to the end of the line, outside
/// quotes) skipped and nested parentheses and quoted strings kept inside the body.
fn calls<'a>(text: &'a str, comment: char, quotes: &[char]) -> Vec<Call<'a>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < bytes.len() {
        let c = bytes[i] as char;
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c == comment {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if quotes.contains(&c) {
            i = skip_quoted(bytes, i, &mut line);
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let name = &text[start..i];
            let mut j = i;
            while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
                j += 1;
            }
            if j < bytes.len() && bytes[j] == b'(' {
                let start_line = line;
                let open = j + 1;
                let mut depth = 1;
                let mut k = open;
                while k < bytes.len() && depth > 0 {
                    match bytes[k] as char {
                        '\n' => {
                            line += 1;
                            k += 1;
                        }
                        '(' => {
                            depth += 1;
                            k += 1;
                        }
                        ')' => {
                            depth -= 1;
                            k += 1;
                        }
                        c if c == comment => {
                            while k < bytes.len() && bytes[k] != b'\n' {
                                k += 1;
                            }
                        }
                        c if quotes.contains(&c) => k = skip_quoted(bytes, k, &mut line),
                        _ => k += 1,
                    }
                }
                out.push(Call {
                    name: name.to_string(),
                    body: &text[open..k.saturating_sub(1).max(open)],
                    line: start_line,
                });
                i = k;
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The index after the string starting with the quote at `start` (backslash escapes honoured).
fn skip_quoted(bytes: &[u8], start: usize, line: &mut usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() && bytes[i] != quote {
        if bytes[i] == b'\n' {
            *line += 1;
        }
        if bytes[i] == b'\\' {
            i += 1;
        }
        i += 1;
    }
    i + 1
}

/// `${NAME}` (CMake), `$(NAME)`, `${NAME}` and `@NAME@` (Automake) replaced from `variables`,
/// a bounded number of times (a variable may name another); what stays unresolved stays.
fn expand(text: &str, variables: &BTreeMap<String, String>) -> String {
    let mut value = text.to_string();
    for _ in 0..8 {
        let mut next = value.clone();
        for (name, v) in variables {
            for form in [
                format!("${{{name}}}"),
                format!("$({name})"),
                format!("@{name}@"),
            ] {
                next = next.replace(&form, v);
            }
        }
        if next == value {
            break;
        }
        value = next;
    }
    value
}

fn unresolved(value: &str) -> bool {
    value.contains("${") || value.contains("$(") || value.matches('@').count() >= 2
}

/// CMake's keywords that end the list of targets of `install(TARGETS …)`.
const CMAKE_INSTALL_KEYWORDS: &[&str] = &[
    "EXPORT",
    "RUNTIME_DEPENDENCIES",
    "RUNTIME_DEPENDENCY_SET",
    "ARCHIVE",
    "LIBRARY",
    "RUNTIME",
    "OBJECTS",
    "FRAMEWORK",
    "BUNDLE",
    "PRIVATE_HEADER",
    "PUBLIC_HEADER",
    "RESOURCE",
    "FILE_SET",
    "CXX_MODULES_BMI",
    "DESTINATION",
    "PERMISSIONS",
    "CONFIGURATIONS",
    "COMPONENT",
    "NAMELINK_COMPONENT",
    "OPTIONAL",
    "EXCLUDE_FROM_ALL",
    "NAMELINK_ONLY",
    "NAMELINK_SKIP",
    "INCLUDES",
];

/// What CMakeLists.txt files install (CMake's documentation of `add_library`,
/// `set_target_properties` with `VERSION`/`SOVERSION`/`OUTPUT_NAME`, and `install`). The files
/// are read as one scope: `set()` of a single value anywhere, and `project(… VERSION …)`'s
/// variables, resolve `${…}` in target names and versions.
fn cmake(files: &[(String, String)]) -> Installed {
    let parsed: Vec<(&str, Vec<Call<'_>>)> = files
        .iter()
        .map(|(rel, text)| (rel.as_str(), calls(text, '#', &['"'])))
        .collect();
    let mut variables: BTreeMap<String, String> = BTreeMap::new();
    let mut shared_option = false;
    for (_, calls) in &parsed {
        for call in calls {
            let args = split_cmake_arguments(call.body);
            match call.name.to_ascii_lowercase().as_str() {
                "set" | "option"
                    if args.first().map(String::as_str) == Some("BUILD_SHARED_LIBS") =>
                {
                    shared_option = true;
                }
                "set" if args.len() == 2 => {
                    variables
                        .entry(args[0].clone())
                        .or_insert_with(|| args[1].clone());
                }
                "project" => {
                    let Some(name) = args.first() else { continue };
                    let Some(version) = args
                        .iter()
                        .position(|a| a == "VERSION")
                        .and_then(|i| args.get(i + 1))
                    else {
                        continue;
                    };
                    let mut parts = version.split('.');
                    for prefix in ["PROJECT", name.as_str(), "CMAKE_PROJECT"] {
                        variables.insert(format!("{prefix}_VERSION"), version.clone());
                    }
                    for suffix in ["MAJOR", "MINOR", "PATCH", "TWEAK"] {
                        if let Some(part) = parts.next() {
                            for prefix in ["PROJECT", name.as_str(), "CMAKE_PROJECT"] {
                                variables.insert(format!("{prefix}_VERSION_{suffix}"), part.into());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut installed = Installed::default();
    // target → (declared at, shared, static)
    let mut libraries: Vec<(String, String, bool)> = Vec::new();
    let mut executables: Vec<String> = Vec::new();
    let mut properties: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut installed_targets: Vec<String> = Vec::new();
    let mut follows_option = false;
    for (rel, calls) in &parsed {
        for call in calls {
            let args: Vec<String> = split_cmake_arguments(call.body)
                .iter()
                .map(|a| expand(a, &variables))
                .collect();
            let Some(first) = args.first() else { continue };
            match call.name.to_ascii_lowercase().as_str() {
                "add_library" if !unresolved(first) => {
                    let kind = args.get(1).map(String::as_str).unwrap_or("");
                    let at = format!("{rel}:{}", call.line);
                    match kind {
                        "SHARED" => libraries.push((first.clone(), at, true)),
                        "STATIC" => libraries.push((first.clone(), at, false)),
                        "MODULE" | "OBJECT" | "INTERFACE" | "ALIAS" | "IMPORTED" | "UNKNOWN" => {}
                        _ if args.iter().any(|a| a == "IMPORTED" || a == "ALIAS") => {}
                        // No type: BUILD_SHARED_LIBS decides (CMake's default is static).
                        _ if shared_option => {
                            follows_option = true;
                            libraries.push((first.clone(), at, true));
                        }
                        _ => libraries.push((first.clone(), at, false)),
                    }
                }
                "add_executable" if !args.iter().any(|a| a == "IMPORTED" || a == "ALIAS") => {
                    executables.push(first.clone())
                }
                "set_target_properties" => {
                    let Some(at) = args.iter().position(|a| a == "PROPERTIES") else {
                        continue;
                    };
                    for target in &args[..at] {
                        for pair in args[at + 1..].chunks(2) {
                            if let [key, value] = pair {
                                properties.insert((target.clone(), key.clone()), value.clone());
                            }
                        }
                    }
                }
                "set_property" if first == "TARGET" => {
                    let Some(at) = args.iter().position(|a| a == "PROPERTY") else {
                        continue;
                    };
                    if let (Some(key), Some(value)) = (args.get(at + 1), args.get(at + 2)) {
                        for target in &args[1..at] {
                            properties.insert((target.clone(), key.clone()), value.clone());
                        }
                    }
                }
                "install" => cmake_install(&args, &mut installed, &mut installed_targets),
                _ => {}
            }
        }
    }
    for (target, at, shared) in libraries {
        if !installed_targets.contains(&target) {
            continue;
        }
        if !shared {
            installed.static_libraries = true;
            continue;
        }
        let property = |key: &str| properties.get(&(target.clone(), key.to_string()));
        let name = property("OUTPUT_NAME")
            .filter(|n| !unresolved(n))
            .cloned()
            .unwrap_or_else(|| target.clone());
        // CMake: SOVERSION, else VERSION, names the SONAME; neither, no version.
        let soname = match property("SOVERSION").or(property("VERSION")) {
            None => Soname::Unversioned,
            Some(v) if unresolved(v) || v.is_empty() => Soname::Unknown(v.clone()),
            Some(v) => Soname::Known(format!("lib{name}.so.{v}")),
        };
        installed.libraries.push(SharedLibrary { name, soname, at });
    }
    installed.executables |= executables.iter().any(|e| installed_targets.contains(e));
    if follows_option && !installed.libraries.is_empty() {
        installed
            .configure_arguments
            .push("-DBUILD_SHARED_LIBS=ON".to_string());
    }
    installed
}

/// One `install(…)` call: its targets, and what its destination says it installs.
fn cmake_install(args: &[String], installed: &mut Installed, targets: &mut Vec<String>) {
    let destination = args
        .iter()
        .position(|a| a == "DESTINATION" || a == "TYPE")
        .and_then(|i| args.get(i + 1))
        .map(|d| d.to_ascii_lowercase())
        .unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("TARGETS") => {
            targets.extend(
                args[1..]
                    .iter()
                    .take_while(|a| !CMAKE_INSTALL_KEYWORDS.contains(&a.as_str()))
                    .cloned(),
            );
            if args.iter().any(|a| a == "PUBLIC_HEADER" || a == "FILE_SET") {
                installed.headers = true;
            }
        }
        Some("PROGRAMS") => installed.executables = true,
        Some("EXPORT") => installed.cmake_config = true,
        Some("FILES" | "DIRECTORY") => {
            if destination.contains("include") {
                installed.headers = true;
            } else if destination.contains("pkgconfig") {
                installed.pkgconfig = true;
            } else if destination.contains("cmake") {
                installed.cmake_config = true;
            } else if destination.contains("man") {
                installed.manual_pages = true;
            }
        }
        _ => {}
    }
}

/// Automake variables of `text`: `NAME = value` and `NAME += value`, with `\` continuations.
fn automake_variables(text: &str, variables: &mut BTreeMap<String, String>) {
    let joined = text.replace("\\\n", " ");
    for line in joined.lines() {
        if line.starts_with('\t') || line.trim_start().starts_with('#') {
            continue;
        }
        let (name, value, append) = if let Some((n, v)) = line.split_once("+=") {
            (n, v, true)
        } else if let Some((n, v)) = line.split_once('=') {
            (n, v, false)
        } else {
            continue;
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let value = value.split('#').next().unwrap_or("").trim();
        let entry = variables.entry(name.to_string()).or_default();
        if append && !entry.is_empty() {
            entry.push(' ');
            entry.push_str(value);
        } else if !append || entry.is_empty() {
            *entry = value.to_string();
        }
    }
}

/// Shell assignments `NAME=value` of configure.ac (how libtool versions are often set there and
/// `AC_SUBST`ituted into Makefile.am).
fn configure_variables(text: &str, variables: &mut BTreeMap<String, String>) {
    for line in text.lines() {
        let line = line.trim();
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        if !value.contains(char::is_whitespace) && !value.is_empty() {
            variables
                .entry(name.to_string())
                .or_insert_with(|| value.to_string());
        }
    }
}

/// The SONAME libtool gives `lib<name>` for `flags` (its `_LDFLAGS`). GNU libtool manual,
/// "Updating library version information": `-version-info current:revision:age` makes the
/// SONAME's major number `current - age`; without it, 0:0:0. `-release R` puts `-R` after the
/// name; with `-release` alone the library has no other version (ltmain.sh, `need_version=no`
/// on GNU/Linux). `-avoid-version` builds an unversioned library.
pub fn libtool_soname(name: &str, flags: &str) -> Soname {
    let words: Vec<&str> = flags.split_whitespace().collect();
    let after = |flag: &str| {
        words
            .iter()
            .position(|w| *w == flag)
            .and_then(|i| words.get(i + 1))
    };
    if words.contains(&"-avoid-version") {
        return Soname::Unversioned;
    }
    let release = after("-release");
    if let Some(release) = release
        && unresolved(release)
    {
        return Soname::Unknown(format!("-release {release}"));
    }
    let stem = match release {
        Some(release) => format!("lib{name}-{release}.so"),
        None => format!("lib{name}.so"),
    };
    let Some(info) = after("-version-info") else {
        return Soname::Known(if release.is_some() {
            stem
        } else {
            format!("{stem}.0")
        });
    };
    let numbers: Option<Vec<u64>> = info.split(':').map(|n| n.parse().ok()).collect();
    match numbers.as_deref() {
        Some([current, ..]) if info.split(':').count() <= 3 => {
            let age = numbers
                .as_ref()
                .and_then(|n| n.get(2))
                .copied()
                .unwrap_or(0);
            match current.checked_sub(age) {
                Some(major) => Soname::Known(format!("{stem}.{major}")),
                None => Soname::Unknown(format!("-version-info {info} (age above current)")),
            }
        }
        _ => Soname::Unknown(format!("-version-info {info}")),
    }
}

/// What Makefile.am files install (Automake manual: `lib_LTLIBRARIES`, `bin_PROGRAMS`,
/// `include_HEADERS`, `pkgconfig_DATA`, `man_MANS`; the `_LDFLAGS` of a library's canonical
/// name). Versions set in configure.ac (`LT_CURRENT=3` and `@LT_CURRENT@`) are resolved.
fn automake(files: &[(String, String)], configure: &[(String, String)]) -> Installed {
    let mut installed = Installed::default();
    let disable_static = configure
        .iter()
        .any(|(_, text)| text.contains("disable-static") || text.contains("AC_DISABLE_STATIC"));
    let mut configured = BTreeMap::new();
    for (_, text) in configure {
        configure_variables(text, &mut configured);
    }
    for (rel, text) in files {
        let mut variables = configured.clone();
        automake_variables(text, &mut variables);
        for (name, value) in &variables {
            let prefix = name.strip_suffix("_HEADERS").unwrap_or("");
            if name.ends_with("_HEADERS")
                && (prefix.ends_with("include")
                    || variables
                        .get(&format!(
                            "{}dir",
                            prefix.rsplit('_').next().unwrap_or(prefix)
                        ))
                        .is_some_and(|d| d.contains("includedir")))
                && !value.is_empty()
            {
                installed.headers = true;
            }
            if name.ends_with("pkgconfig_DATA") && !value.is_empty() {
                installed.pkgconfig = true;
            }
            if (name.ends_with("bin_PROGRAMS") || name.ends_with("bin_SCRIPTS"))
                && !name.starts_with("noinst")
                && !name.starts_with("check")
                && !value.is_empty()
            {
                installed.executables = true;
            }
            if name.ends_with("_MANS") && !value.is_empty() {
                installed.manual_pages = true;
            }
        }
        let Some(list) = variables.get("lib_LTLIBRARIES") else {
            continue;
        };
        for library in list.split_whitespace() {
            let Some(stem) = library
                .strip_suffix(".la")
                .and_then(|l| l.rsplit('/').next())
                .and_then(|l| l.strip_prefix("lib"))
            else {
                continue;
            };
            let canonical: String = library
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let flags = variables
                .get(&format!("{canonical}_LDFLAGS"))
                .map(|f| expand(f, &variables))
                .unwrap_or_default();
            if flags.split_whitespace().any(|w| w == "-module") {
                continue;
            }
            let line = text
                .lines()
                .position(|l| l.contains("lib_LTLIBRARIES"))
                .map_or(1, |i| i + 1);
            installed.libraries.push(SharedLibrary {
                name: stem.to_string(),
                soname: libtool_soname(stem, &flags),
                at: format!("{rel}:{line}"),
            });
            installed.libtool_archives = true;
            installed.static_libraries = !disable_static;
        }
    }
    installed
}

/// A Meson keyword argument `key: value` of a call's body, as written.
fn meson_keyword<'a>(body: &'a str, key: &str) -> Option<&'a str> {
    let mut rest = body;
    while let Some(at) = rest.find(key) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + key.len()..].trim_start();
        if before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
            && let Some(value) = after.strip_prefix(':')
        {
            let value = value.trim_start();
            // The value ends at a comma, line end or closing parenthesis of the call, outside
            // its own parentheses (`meson.project_version()`) and quotes.
            let (mut depth, mut quoted) = (0usize, false);
            let end = value
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '\'' => quoted = !quoted,
                        '(' if !quoted => depth += 1,
                        ')' if !quoted && depth > 0 => depth -= 1,
                        ',' | '\n' | ')' if !quoted && depth == 0 => return true,
                        _ => {}
                    }
                    false
                })
                .map_or(value.len(), |(i, _)| i);
            return Some(value[..end].trim());
        }
        rest = &rest[at + key.len()..];
    }
    None
}

/// What meson.build files install (Meson reference manual: `library()`/`shared_library()`
/// with `version:` and `soversion:` — the SONAME's number is `soversion`, else the first
/// number of `version`, else none —, `executable(install: true)`, `install_headers()`,
/// `pkgconfig.generate()`).
fn meson(files: &[(String, String)]) -> Installed {
    let mut installed = Installed::default();
    let mut project_version = None;
    for (rel, text) in files {
        for call in calls(text, '#', &['\'']) {
            let installs = meson_keyword(call.body, "install") == Some("true");
            let name = call
                .body
                .trim_start()
                .strip_prefix('\'')
                .and_then(|n| n.split_once('\''))
                .map(|(n, _)| n.to_string());
            match call.name.as_str() {
                "project" => {
                    project_version = meson_keyword(call.body, "version")
                        .map(|v| v.trim_matches('\'').to_string());
                }
                "library" | "shared_library" | "both_libraries" if installs => {
                    let Some(name) = name else { continue };
                    let literal = |key: &str| {
                        meson_keyword(call.body, key).map(|v| match v {
                            "meson.project_version()" => project_version.clone().ok_or(v),
                            v if v.starts_with('\'') => Ok(v.trim_matches('\'').to_string()),
                            v => Err(v),
                        })
                    };
                    let soversion = match literal("soversion") {
                        Some(v) => Some(v),
                        None => literal("version").map(|v| {
                            v.map(|v| v.split('.').next().unwrap_or_default().to_string())
                        }),
                    };
                    let soname = match soversion {
                        None => Soname::Unversioned,
                        Some(Ok(v)) => Soname::Known(format!("lib{name}.so.{v}")),
                        Some(Err(v)) => Soname::Unknown(v.to_string()),
                    };
                    installed.libraries.push(SharedLibrary {
                        name,
                        soname,
                        at: format!("{rel}:{}", call.line),
                    });
                    installed.static_libraries |= call.name == "both_libraries";
                }
                "static_library" if installs => installed.static_libraries = true,
                "executable" if installs => installed.executables = true,
                "install_headers" => installed.headers = true,
                "install_man" => installed.manual_pages = true,
                "generate" if text.contains("import('pkgconfig')") => installed.pkgconfig = true,
                _ => {}
            }
        }
    }
    installed
}

/// The binary package a SONAME names, as Debian Policy 8.1 and lintian
/// (`Lintian::Check::Libraries::Shared::Soname`) derive it: `libfoo.so.1` → `libfoo1`, a name
/// ending in a digit takes a hyphen (`libfoo2.so.1` → `libfoo2-1`), `-release` forms keep
/// theirs (`libfoo-2.1.so` → `libfoo-2.1`), `_` becomes `-`, all in lower case.
pub fn package_for_soname(soname: &str) -> String {
    let mut name = soname.to_string();
    if let Some(at) = name.find(".so.")
        && name[..at].ends_with(|c: char| c.is_ascii_digit())
    {
        name.replace_range(at..at + 4, "-");
    } else if let Some(at) = name.find(".so.") {
        name.replace_range(at..at + 4, "");
    } else if let Some(stem) = name.strip_suffix(".so") {
        name = stem.to_string();
    }
    name.replace('_', "-").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(rel: &str, text: &str) -> (String, String) {
        (rel.to_string(), text.to_string())
    }

    #[test]
    fn package_names_follow_policy_8_1() {
        assert_eq!(package_for_soname("libfoo.so.1"), "libfoo1");
        assert_eq!(package_for_soname("libfoo2.so.1"), "libfoo2-1");
        assert_eq!(package_for_soname("libfoo-2.1.so"), "libfoo-2.1");
        assert_eq!(package_for_soname("libFoo_bar.so.0"), "libfoo-bar0");
        assert_eq!(package_for_soname("libggml-base.so.0"), "libggml-base0");
    }

    #[test]
    fn libtool_version_info_gives_current_minus_age() {
        let known = |s: &str| Soname::Known(s.to_string());
        assert_eq!(
            libtool_soname("foo", "-version-info 5:2:3"),
            known("libfoo.so.2")
        );
        assert_eq!(
            libtool_soname("foo", "-version-info 4"),
            known("libfoo.so.4")
        );
        assert_eq!(libtool_soname("foo", ""), known("libfoo.so.0"));
        assert_eq!(
            libtool_soname("foo", "-release 2.1 -version-info 1:0:0"),
            known("libfoo-2.1.so.1")
        );
        assert_eq!(
            libtool_soname("foo", "-release 2.1"),
            known("libfoo-2.1.so")
        );
        assert_eq!(libtool_soname("foo", "-avoid-version"), Soname::Unversioned);
        assert!(matches!(
            libtool_soname("foo", "-version-info 1:0:2"),
            Soname::Unknown(_)
        ));
        assert!(matches!(
            libtool_soname("foo", "-version-info $(LT_VERSION)"),
            Soname::Unknown(_)
        ));
    }

    /// ggml's shape: versions in variables of the top file, libraries in a subdirectory, one
    /// library made by a function (not seen: its name is a parameter).
    #[test]
    fn cmake_resolves_variables_and_properties() {
        let top = file(
            "CMakeLists.txt",
            "project(\"ggml\" C CXX)\nset(GGML_VERSION_MAJOR 0)\nset(GGML_VERSION \"0.9.4\")\n\
             option(BUILD_SHARED_LIBS \"shared\" ON) # comment (with parentheses\n\
             install(TARGETS ggml LIBRARY PUBLIC_HEADER)\ninstall(TARGETS ggml-base LIBRARY)\n\
             install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ggml.pc\n  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)\n\
             install(FILES x-config.cmake DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ggml)\n",
        );
        let src = file(
            "src/CMakeLists.txt",
            "add_library(ggml-base\n  ggml.c)\n\
             set_target_properties(ggml-base PROPERTIES\n  VERSION ${GGML_VERSION}\n  SOVERSION ${GGML_VERSION_MAJOR}\n)\n\
             add_library(ggml ggml-backend.cpp)\nadd_library(ggml::ggml ALIAS ggml)\n\
             set_target_properties(ggml PROPERTIES VERSION ${GGML_VERSION} SOVERSION ${GGML_VERSION_MAJOR})\n\
             function(f backend)\n  add_library(${backend} ${ARGN})\nendfunction()\n\
             add_library(helper STATIC h.c)\nadd_executable(tool tool.c)\n",
        );
        let found = cmake(&[top, src]);
        assert_eq!(
            found.libraries,
            vec![
                SharedLibrary {
                    name: "ggml-base".into(),
                    soname: Soname::Known("libggml-base.so.0".into()),
                    at: "src/CMakeLists.txt:1".into()
                },
                SharedLibrary {
                    name: "ggml".into(),
                    soname: Soname::Known("libggml.so.0".into()),
                    at: "src/CMakeLists.txt:7".into()
                },
            ]
        );
        assert!(found.headers && found.pkgconfig && found.cmake_config);
        assert!(!found.executables && !found.static_libraries);
        assert_eq!(found.configure_arguments, ["-DBUILD_SHARED_LIBS=ON"]);
    }

    #[test]
    fn cmake_shared_library_with_output_name_and_an_unknown_version() {
        let found = cmake(&[file(
            "CMakeLists.txt",
            "project(foo VERSION 2.3.1)\nadd_library(foo_impl SHARED foo.c)\n\
             set_target_properties(foo_impl PROPERTIES OUTPUT_NAME foo SOVERSION ${PROJECT_VERSION_MAJOR})\n\
             add_library(bar SHARED bar.c)\nset_property(TARGET bar PROPERTY SOVERSION ${ABI})\n\
             add_library(plain SHARED p.c)\nadd_executable(footool t.c)\n\
             install(TARGETS foo_impl bar plain footool)\n",
        )]);
        let sonames: Vec<_> = found.libraries.iter().map(|l| l.soname.clone()).collect();
        assert_eq!(
            sonames,
            vec![
                Soname::Known("libfoo.so.2".into()),
                Soname::Unknown("${ABI}".into()),
                Soname::Unversioned
            ]
        );
        assert!(found.executables);
        assert!(found.configure_arguments.is_empty());
    }

    #[test]
    fn automake_reads_libtool_flags_and_configure_variables() {
        let found = automake(
            &[file(
                "src/Makefile.am",
                "lib_LTLIBRARIES = libfoo.la\n\
                 libfoo_la_SOURCES = foo.c\n\
                 libfoo_la_LDFLAGS = -no-undefined \\\n  -version-info @LT_CURRENT@:0:@LT_AGE@\n\
                 include_HEADERS = foo.h\npkgconfigdir = $(libdir)/pkgconfig\n\
                 pkgconfig_DATA = foo.pc\nbin_PROGRAMS = footool\n",
            )],
            &[file(
                "configure.ac",
                "AC_INIT([foo], [1.0])\nLT_CURRENT=7\nLT_AGE=2\nLT_INIT\n",
            )],
        );
        assert_eq!(
            found.libraries,
            vec![SharedLibrary {
                name: "foo".into(),
                soname: Soname::Known("libfoo.so.5".into()),
                at: "src/Makefile.am:1".into()
            }]
        );
        assert!(found.headers && found.pkgconfig && found.executables);
        assert!(found.static_libraries && found.libtool_archives);
    }

    #[test]
    fn meson_library_versions() {
        let found = meson(&[file(
            "meson.build",
            "project('foo', 'c', version : '1.4.2')\npkg = import('pkgconfig')\n\
             lib = library('foo', 'foo.c', version : meson.project_version(), install : true)\n\
             bar = shared_library('bar', 'b.c', soversion : '3', install : true)\n\
             install_headers('foo.h')\npkg.generate(lib)\n\
             executable('footool', 't.c', install : true)\n",
        )]);
        let sonames: Vec<_> = found.libraries.iter().map(|l| l.soname.clone()).collect();
        assert_eq!(
            sonames,
            vec![
                Soname::Known("libfoo.so.1".into()),
                Soname::Known("libbar.so.3".into())
            ]
        );
        assert!(found.headers && found.pkgconfig && found.executables);
    }
}
