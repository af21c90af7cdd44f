//! Validation of a [`HelperSpec`] and rendering of the helper script and postinst snippet.
//!
//! Every value reaches the script through the `sq` filter ([`shell_quote`]), so no manifest
//! text is ever parsed as shell. Values that would make the generated files ambiguous (control
//! characters in one-line fields, `..` in paths, malformed digests) are refused here with the
//! name of the field.

use anyhow::{Context, Result, bail};
use minijinja::{Environment, context};

use super::{HelperSpec, RUNTIME_INTERFACE, RUNTIME_PACKAGE, Training};

const HELPER_TEMPLATE: &str = include_str!("../../templates/get-helper.sh.j2");
const COPYRIGHT_TEMPLATE: &str = include_str!("../../templates/copyright.dep5.j2");
const POSTINST_TEMPLATE: &str = include_str!("../../templates/postinst-autodownload.sh.j2");
const POSTRM_TEMPLATE: &str = include_str!("../../templates/postrm-purge.sh.j2");
const MANPAGE_TEMPLATE: &str = include_str!("../../templates/get-helper.1.j2");

/// Renders `get-<weights-pkg>` for `spec`.
pub fn render(spec: &HelperSpec) -> Result<String> {
    validate(spec)?;
    let env = environment()?;
    let copyright = env
        .get_template("copyright")?
        .render(context! { spec })
        .context("rendering the copyright file")?;
    let train_command = spec.training.as_ref().map(shell_training_command);
    let estimate_seconds = spec
        .training
        .as_ref()
        .map(|t| (t.cpu_hours * 3600.0).round() as u64);
    let has_download = spec.files.iter().all(|f| !f.urls.is_empty());
    let sbom_data = match &spec.bom {
        Some(bom) => serde_json::to_string(bom).context("the bill of materials")?,
        None => String::new(),
    };
    let sbom_path = sbom_path(spec);
    env.get_template("helper")?
        .render(context! {
            sbom_data,
            sbom_path,
            spec,
            script_name => spec.script_name(),
            package_version => spec.package_version(),
            deb_file_name => spec.deb_file_name(),
            control_description => control_description(spec),
            copyright,
            train_command,
            estimate_seconds,
            has_download,
            runtime_interface => RUNTIME_INTERFACE,
            runtime_package => RUNTIME_PACKAGE,
        })
        .context("rendering the helper script")
}

/// Renders the manual page of `get-<weights-pkg>` (roff, uncompressed).
pub fn render_manpage(spec: &HelperSpec) -> Result<String> {
    validate(spec)?;
    let has_download = spec.files.iter().all(|f| !f.urls.is_empty());
    environment()?
        .get_template("manpage")?
        .render(context! {
            spec,
            script_name => spec.script_name(),
            has_download,
            sbom_path => sbom_path(spec),
        })
        .context("rendering the manual page")
}

/// Where the built package holds its SPDX document; empty when the helper writes none.
fn sbom_path(spec: &HelperSpec) -> String {
    spec.bom
        .as_ref()
        .map(|bom| crate::sbom::installed_path(&bom.source, &bom.model))
        .unwrap_or_default()
}

/// Renders the postinst fragment that tries a download at configure time and never fails.
pub fn render_postinst_autodownload(spec: &HelperSpec) -> Result<String> {
    validate(spec)?;
    environment()?
        .get_template("postinst")?
        .render(context! { spec, script_name => spec.script_name() })
        .context("rendering the postinst snippet")
}

/// Renders the postrm fragment that removes the installer's cache and state on purge.
pub fn render_postrm_purge(spec: &HelperSpec) -> Result<String> {
    validate(spec)?;
    environment()?
        .get_template("postrm")?
        .render(context! { spec })
        .context("rendering the postrm snippet")
}

fn environment() -> Result<Environment<'static>> {
    let mut env = crate::templates::environment();
    env.add_filter("sq", shell_quote_filter);
    env.add_template("helper", HELPER_TEMPLATE)?;
    env.add_template("copyright", COPYRIGHT_TEMPLATE)?;
    env.add_template("postinst", POSTINST_TEMPLATE)?;
    env.add_template("postrm", POSTRM_TEMPLATE)?;
    env.add_template("manpage", MANPAGE_TEMPLATE)?;
    env.add_filter("roff", roff_escape);
    Ok(env)
}

fn shell_quote_filter(value: String) -> Result<String, minijinja::Error> {
    shell_quote(&value).map_err(|err| {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, err.to_string())
    })
}

/// Escapes text for roff: backslashes and hyphens, and a leading `.` or `'` that would make the
/// line a request.
fn roff_escape(value: String) -> String {
    let escaped = value.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// Quotes `value` for POSIX sh, the one quoting of every value the generated scripts hold.
/// Runs of ordinary characters go inside single quotes, where nothing is special; a single
/// quote, `$`, a backquote and a backslash are written outside them, each escaped by a
/// backslash (`'a'\$'b'`). The shell reads the same text either way, but shellcheck (SC2016,
/// SC1003) takes a `$`, a backquote or a backslash inside single quotes for a mistake, and a
/// helper that fails shellcheck fails its test. NUL cannot be represented in a shell word.
pub fn shell_quote(value: &str) -> Result<String> {
    if value.contains('\0') {
        bail!("value contains a NUL byte, which no shell word can hold: {value:?}");
    }
    let mut out = String::with_capacity(value.len() + 2);
    let mut quoted = false;
    for c in value.chars() {
        let special = matches!(c, '\'' | '$' | '`' | '\\');
        if special == quoted {
            out.push('\'');
            quoted = !quoted;
        }
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    if quoted {
        out.push('\'');
    }
    if out.is_empty() {
        out.push_str("''");
    }
    Ok(out)
}

/// The training command with `{data}`/`{out}`/`{seed}` replaced by references to the directories the
/// script exports, so the paths are expanded by the shell, never pasted in as text.
fn shell_training_command(training: &Training) -> String {
    training
        .command
        .replace("{data}", "\"$MLMODEL_DATA\"")
        .replace("{out}", "\"$MLMODEL_OUT\"")
        .replace("{seed}", "\"$MLMODEL_SEED\"")
}

/// `Description:` value: synopsis, then the extended text with the deb-control(5) continuation
/// rules (leading space, ` .` for blank lines).
fn control_description(spec: &HelperSpec) -> String {
    let mut text = spec.summary.clone();
    for line in spec.description.trim_end().lines() {
        text.push('\n');
        if line.trim().is_empty() {
            text.push_str(" .");
        } else {
            text.push(' ');
            text.push_str(line);
        }
    }
    text
}

fn validate(spec: &HelperSpec) -> Result<()> {
    package_name("weights_package", &spec.weights_package)?;
    package_name("installer_package", &spec.installer_package)?;
    if spec.version.is_empty()
        || !spec.version.starts_with(|c: char| c.is_ascii_digit())
        || !spec
            .version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~".contains(c))
    {
        bail!(
            "version: {:?} is not an upstream version (a digit, then letters, digits, '.', '+', '~'; the Debian revision is added by the helper)",
            spec.version
        );
    }
    for (field, value) in [
        ("maintainer", &spec.maintainer),
        ("summary", &spec.summary),
        ("section", &spec.section),
        ("license", &spec.license),
    ] {
        one_line(field, value)?;
        if value.trim().is_empty() {
            bail!("{field}: must not be empty");
        }
    }
    if let Some(homepage) = &spec.homepage {
        one_line("homepage", homepage)?;
    }
    for (field, value) in [
        ("description", &spec.description),
        ("license_text", &spec.license_text),
        ("copyright", &spec.copyright),
    ] {
        multi_line(field, value)?;
    }
    if !spec.install_dir.starts_with('/') {
        bail!(
            "install_dir: {:?} must be an absolute path",
            spec.install_dir
        );
    }
    relative_path("install_dir", spec.install_dir.trim_start_matches('/'))?;
    if spec.files.is_empty() {
        bail!("files: a weights package needs at least one file");
    }
    for (index, file) in spec.files.iter().enumerate() {
        let field = format!("files[{index}]");
        relative_path(&format!("{field}.path"), &file.path)?;
        sha256(&format!("{field}.sha256"), &file.sha256)?;
        urls(&format!("{field}.urls"), &file.urls)?;
        if let Some(output) = &file.training_output {
            relative_path(&format!("{field}.training_output"), output)?;
        }
    }
    if let Some(training) = &spec.training {
        validate_training(spec, training)?;
    }
    Ok(())
}

fn validate_training(spec: &HelperSpec, training: &Training) -> Result<()> {
    one_line("training.command", &training.command)?;
    if training.command.trim().is_empty() {
        bail!("training.command: must not be empty");
    }
    if !training.cpu_hours.is_finite() || training.cpu_hours < 0.0 {
        bail!(
            "training.cpu_hours: {} is not a non-negative number",
            training.cpu_hours
        );
    }
    if let Some(dir) = &training.program_dir {
        if !dir.starts_with('/') {
            bail!("training.program_dir: {dir:?} must be an absolute path");
        }
        relative_path("training.program_dir", dir.trim_start_matches('/'))?;
    }
    for (index, depend) in training.depends.iter().enumerate() {
        package_name(&format!("training.depends[{index}]"), depend)?;
    }
    if let Some(index) = spec.files.iter().position(|f| f.training_output.is_none()) {
        bail!("files[{index}].training_output: required when a training recipe is given");
    }
    for (index, data) in training.data.iter().enumerate() {
        let field = format!("training.data[{index}]");
        one_line(&format!("{field}.name"), &data.name)?;
        relative_path(&format!("{field}.path"), &data.path)?;
        sha256(&format!("{field}.sha256"), &data.sha256)?;
        urls(&format!("{field}.urls"), &data.urls)?;
        match (&data.package, &data.package_path) {
            (Some(package), Some(path)) => {
                package_name(&format!("{field}.package"), package)?;
                if !path.starts_with('/') {
                    bail!("{field}.package_path: {path:?} must be an absolute path");
                }
                relative_path(
                    &format!("{field}.package_path"),
                    path.trim_start_matches('/'),
                )?;
            }
            (None, None) if !data.urls.is_empty() => {}
            (None, None) => bail!("{field}: needs urls, or package and package_path"),
            _ => bail!("{field}: package and package_path go together"),
        }
    }
    Ok(())
}

fn package_name(field: &str, name: &str) -> Result<()> {
    let valid = name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    if !valid {
        bail!("{field}: {name:?} is not a Debian package name");
    }
    Ok(())
}

fn one_line(field: &str, value: &str) -> Result<()> {
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        bail!("{field}: control character {c:?} in {value:?}");
    }
    Ok(())
}

fn multi_line(field: &str, value: &str) -> Result<()> {
    if let Some(c) = value.chars().find(|&c| c.is_control() && c != '\n') {
        bail!("{field}: control character {c:?} (only newlines are allowed)");
    }
    Ok(())
}

/// A path inside the package: relative, no empty, `.` or `..` components.
fn relative_path(field: &str, path: &str) -> Result<()> {
    one_line(field, path)?;
    if path.is_empty()
        || path.starts_with('/')
        || path
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        bail!("{field}: {path:?} must be a relative path without empty, '.' or '..' components");
    }
    Ok(())
}

fn sha256(field: &str, digest: &str) -> Result<()> {
    if digest.len() != 64
        || !digest
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    {
        bail!("{field}: {digest:?} is not 64 lower-case hex digits");
    }
    Ok(())
}

/// URL syntax only; the script itself refuses plain http unless `allow_http` is set, so the
/// refusal holds whoever edits the rendered file's inputs.
fn urls(field: &str, urls: &[String]) -> Result<()> {
    for (index, url) in urls.iter().enumerate() {
        one_line(&format!("{field}[{index}]"), url)?;
        if url.contains(char::is_whitespace)
            || !(url.starts_with("https://") || url.starts_with("http://"))
        {
            bail!("{field}[{index}]: {url:?} is not an http(s) URL");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helper::WeightFile;

    fn spec() -> HelperSpec {
        HelperSpec {
            weights_package: "foo-model-bar".into(),
            installer_package: "foo-model-bar-installer".into(),
            version: "1.0".into(),
            maintainer: "A <a@example.org>".into(),
            summary: "weights".into(),
            description: String::new(),
            section: "science".into(),
            homepage: None,
            license: "MIT".into(),
            license_text: "text".into(),
            copyright: "2024 A".into(),
            release_epoch: 0,
            install_dir: "/usr/share/foo/models/bar".into(),
            files: vec![WeightFile {
                path: "bar.bin".into(),
                sha256: "0".repeat(64),
                size: 1,
                urls: vec!["https://example.org/bar.bin".into()],
                training_output: None,
            }],
            allow_http: false,
            training: None,
            postinst_auto_download: false,
            bom: None,
        }
    }

    #[test]
    fn shell_quote_survives_the_shell() {
        for nasty in [
            "it's $(rm -rf /) `x` \"q\" \\ \n end",
            "$HOME",
            "ends in a backslash\\",
            "''",
            "",
            "plain",
        ] {
            let quoted = shell_quote(nasty).unwrap();
            let out = std::process::Command::new("dash")
                .arg("-c")
                .arg(format!("printf %s {quoted}"))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), nasty, "{quoted}");
        }
        assert_eq!(shell_quote("a$b").unwrap(), "'a'\\$'b'");
        assert_eq!(shell_quote("").unwrap(), "''");
        assert!(shell_quote("a\0b").is_err());
    }

    #[test]
    fn bad_values_are_refused_naming_the_field() {
        type Mutation = Box<dyn Fn(&mut HelperSpec)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (
                Box::new(|s| s.files[0].path = "../etc/passwd".into()),
                "files[0].path",
            ),
            (
                Box::new(|s| s.files[0].sha256 = "ABC".into()),
                "files[0].sha256",
            ),
            (
                Box::new(|s| s.files[0].urls = vec!["ftp://x".into()]),
                "files[0].urls[0]",
            ),
            (
                Box::new(|s| s.weights_package = "Foo".into()),
                "weights_package",
            ),
            (Box::new(|s| s.version = "1.0-1".into()), "version"),
            (Box::new(|s| s.maintainer = "A\n<a@b>".into()), "maintainer"),
            (
                Box::new(|s| s.install_dir = "usr/share".into()),
                "install_dir",
            ),
            (Box::new(|s| s.files.clear()), "files"),
        ];
        for (mutate, field) in cases {
            let mut bad = spec();
            mutate(&mut bad);
            let err = render(&bad).unwrap_err().to_string();
            assert!(err.starts_with(field), "{field}: {err}");
        }
        assert!(render(&spec()).is_ok());
    }

    #[test]
    fn the_runtime_provides_the_interface_the_helpers_follow() {
        let declared = format!("\nMLMODEL_GET_RUNTIME_INTERFACE={RUNTIME_INTERFACE}\n");
        assert!(include_str!("../../share/mlmodel-get/runtime.sh").contains(&declared));
        let script = render(&spec()).unwrap();
        assert!(script.contains(&format!("\nMLMODEL_GET_INTERFACE={RUNTIME_INTERFACE}\n")));
        assert!(script.ends_with("mlmodel_get_main \"$@\"\n"), "{script}");
    }

    #[test]
    fn training_placeholders_become_shell_references() {
        let mut good = spec();
        good.files[0].training_output = Some("bar.bin".into());
        good.training = Some(Training {
            command: "python3 train.py --data {data} --out {out}".into(),
            depends: vec![],
            cpu_hours: 0.5,
            seed: 1,
            deterministic: true,
            data: vec![],
            program_dir: None,
        });
        let script = render(&good).unwrap();
        assert!(script.contains(
            r#"TRAIN_COMMAND='python3 train.py --data "'\$'MLMODEL_DATA" --out "'\$'MLMODEL_OUT"'"#
        ));
        assert!(script.contains("TRAIN_ESTIMATE_SECONDS=1800"));
    }
}
