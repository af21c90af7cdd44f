//! `debian/mlmodel.toml`: malformed manifests give one located message and exit 2; `init
//! --manifest-only` drafts a manifest that `classify` accepts once its placeholders are filled.

use std::path::Path;

use crate::support::{classify_tree, dh_mlmodel, missing_fields, write};

const DIGEST: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

/// A valid manifest; each malformed case changes one thing in it.
pub(crate) fn valid() -> String {
    format!(
        r#"[[model]]
name = "bar"
files = ["models/bar.safetensors"]
format = "safetensors"
license = "Apache-2.0"

[model.pins]
"models/bar.safetensors" = {{ sha256 = "{DIGEST}", size = 4 }}

[model.download]
url = "https://example.org/bar.safetensors"
sha256 = "{DIGEST}"
size = 4

[model.training]
program = ["train.py"]
command = "python3 train.py {{data}} {{out}}"
cpu-hours = 0.5

[[model.training.data]]
name = "corpus"
license = "CC-BY-4.0"
url = "https://example.org/corpus"
public = true
"#
    )
}

#[test]
fn the_valid_manifest_classifies() {
    let tree = tempfile::tempdir().unwrap();
    write(tree.path(), "debian/mlmodel.toml", valid());
    let (code, report, stderr) = classify_tree(tree.path(), &["--source", "foo"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["models"][0]["category"], "free");
}

#[test]
fn malformed_manifests_give_one_located_message_and_exit_2() {
    // (what, text to replace, replacement, expected "LINE:COLUMN", phrase in the message)
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            "wrong type",
            "size = 4 }",
            "size = \"four\" }",
            "8:114",
            "invalid type: string \"four\", expected u64 (in `size`)",
        ),
        (
            "unknown key",
            "cpu-hours = 0.5",
            "cpu-hours = 0.5\ncolour = \"blue\"",
            "19:1",
            "unknown field `colour`, expected one of `program`",
        ),
        (
            "bad sha256",
            "sha256 = \"5891",
            "sha256 = \"X891",
            "8:39",
            "is not a SHA-256 digest: expected 64 lower-case hexadecimal digits",
        ),
        (
            "bad SPDX expression",
            "license = \"Apache-2.0\"",
            "license = \"Apache-2.0 and MIT\"",
            "5:11",
            "is not an SPDX licence expression: operators are upper-case: write `AND`",
        ),
        (
            "missing name",
            "name = \"bar\"\n",
            "",
            "1:1",
            "missing field `name`",
        ),
        (
            "two data sources",
            "url = \"https://example.org/corpus\"",
            "url = \"https://example.org/corpus\"\npath = \"data/corpus\"",
            "20:1",
            "exactly one of `url`, `package`, `path` is needed, found url, path",
        ),
        (
            "a required placeholder missing",
            "{data} {out}",
            "{data} {output}",
            "17:11",
            "`python3 train.py {data} {output}` must use `{out}`: only `{data}` and `{out}` and \
             `{seed}` are placeholders, other braces are shell text (to pass a literal `{data}` \
             to the program, write `{\"\"data}`",
        ),
        (
            "plain HTTP without allow-http",
            "url = \"https://example.org/bar.safetensors\"",
            "url = \"http://example.org/bar.safetensors\"",
            "11:7",
            "is plain HTTP",
        ),
        (
            "file without a pin",
            "files = [\"models/bar.safetensors\"]",
            "files = [\"models/bar.safetensors\", \"models/extra.bin\"]",
            "3:36",
            "`models/extra.bin` has no pin",
        ),
        (
            "path escaping the tree",
            "program = [\"train.py\"]",
            "program = [\"../train.py\"]",
            "16:11",
            "is not a path inside the source tree",
        ),
        (
            "invalid model name",
            "name = \"bar\"",
            "name = \"Bar Model\"",
            "2:8",
            "is not a valid Debian package name part",
        ),
    ];
    for (what, from, to, at, phrase) in cases {
        let text = valid();
        assert!(text.contains(from), "{what}: fixture lacks {from:?}");
        let tree = tempfile::tempdir().unwrap();
        write(
            tree.path(),
            "debian/mlmodel.toml",
            text.replacen(from, to, 1),
        );
        let (code, report, stderr) = classify_tree(tree.path(), &["--source", "foo"]);
        assert_eq!(code, 2, "{what}: exit status; stderr: {stderr}");
        assert!(report.is_null(), "{what}: printed a report");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{what}: one message expected: {stderr}");
        let expected_start = format!("dh-mlmodel: error: debian/mlmodel.toml:{at}: ");
        assert!(
            lines[0].starts_with(&expected_start) && lines[0].contains(phrase),
            "{what}: expected {expected_start}…{phrase}…, got: {}",
            lines[0]
        );
    }
}

#[test]
fn a_missing_manifest_is_a_usage_error() {
    let tree = tempfile::tempdir().unwrap();
    let (code, _, stderr) = classify_tree(tree.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("debian/mlmodel.toml: cannot read the manifest"),
        "{stderr}"
    );
}

/// A Git LFS pointer (spec v1) to `size` bytes with digest `oid`.
fn lfs_pointer(oid: &str, size: u64) -> String {
    format!("version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n")
}

/// A small upstream tree: a model sharded into two LFS pointers with a model card, and a large
/// unidentified blob next to an Apache licence file.
fn upstream_tree(root: &Path) {
    let oid1 = "1".repeat(64);
    let oid2 = "2".repeat(64);
    write(
        root,
        "models/tiny_bert/model-00001-of-00002.safetensors",
        lfs_pointer(&oid1, 1000),
    );
    write(
        root,
        "models/tiny_bert/model-00002-of-00002.safetensors",
        lfs_pointer(&oid2, 2000),
    );
    write(
        root,
        "models/tiny_bert/README.md",
        "---\nlicense: apache-2.0\ndatasets:\n  - wikitext\n  - 'bookcorpus'\n---\n# Tiny BERT\n",
    );
    // 1.5 MiB of binary noise from a linear congruential generator: no known format.
    let mut state = 12345u32;
    let blob: Vec<u8> = (0..1_572_864)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (state >> 16) as u8
        })
        .collect();
    write(root, "data/ranker.weights", &blob);
    write(
        root,
        "data/LICENSE",
        "                                 Apache License\n                           Version 2.0, January 2004\n",
    );
    write(root, "src/main.py", "print('hello')\n");
}

fn init(root: &Path, extra: &[&str]) -> std::process::Output {
    dh_mlmodel()
        .args(["init", "--manifest-only"])
        .args(extra)
        .arg(root)
        .output()
        .unwrap()
}

/// Replaces every `key = "FIXME…"` line with a real value for that key.
fn fill_placeholders(text: &str) -> String {
    text.lines()
        .map(|line| {
            let Some((key, value)) = line.split_once(" = ") else {
                return line.to_string();
            };
            if !value.starts_with("\"FIXME") && !value.starts_with("'FIXME") {
                return line.to_string();
            }
            let filled = match key {
                "format" => "\"safetensors\"",
                "license" => "\"CC-BY-4.0\"",
                "program" => "[\"train.py\"]",
                "command" => "\"python3 train.py --data {data} --out {out}\"",
                "cpu-hours" => "0.5",
                "name" => "\"corpus\"",
                "url" => "\"https://example.org/corpus.tar.xz\"",
                "public" => "true",
                "copyright" => "\"2024 Example Lab\"",
                other => panic!("unexpected placeholder for {other}: {line}"),
            };
            format!("{key} = {filled}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn init_drafts_a_manifest_that_classifies_once_filled_in() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().join("tinyproj");
    upstream_tree(&root);
    let output = init(&root, &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let path = root.join("debian/mlmodel.toml");
    let text = std::fs::read_to_string(&path).unwrap();

    // What the scan and upstream state is recorded; shards are one model.
    assert!(text.contains("[source]\nname = \"tinyproj\""), "{text}");
    assert!(text.contains(
        "name = \"tiny-bert\"\nfiles = [\"models/tiny_bert/model-00001-of-00002.safetensors\", \
         \"models/tiny_bert/model-00002-of-00002.safetensors\"]"
    ));
    assert!(text.contains(&format!(
        "\"models/tiny_bert/model-00002-of-00002.safetensors\" = {{ sha256 = \"{}\", size = 2000 }}",
        "2".repeat(64)
    )));
    assert!(text.contains("license = \"Apache-2.0\""), "{text}");
    assert!(text.contains("name = \"wikitext\"") && text.contains("name = \"bookcorpus\""));
    assert!(text.contains("name = \"ranker\""));
    assert!(text.contains("install-dir = \"/usr/share/tinyproj/models/ranker\""));
    assert_eq!(text.matches("\n[[model]]\n").count(), 2);

    // The draft parses, and classify names every placeholder.
    let (code, report, stderr) = classify_tree(&root, &[]);
    assert_eq!(code, 1, "{stderr}");
    // Models come in path order: data/ before models/.
    let bert = &report["models"][1];
    assert_eq!(bert["name"], "tiny-bert");
    assert_eq!(bert["category"], "incomplete");
    let fields = missing_fields(bert);
    assert_eq!(
        fields,
        [
            "format",
            "training.program",
            "training.command",
            "training.cpu-hours",
            "training.data[1].license",
            "training.data[1].url",
            "training.data[1].public",
            "training.data[2].license",
            "training.data[2].url",
            "training.data[2].public",
        ]
    );
    let ranker = &report["models"][0];
    assert_eq!(ranker["name"], "ranker");
    // The licence file next to the blob was recognised.
    assert!(
        !ranker["missing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["field"] == "license"),
        "{ranker:#}"
    );

    // Filled in, the manifest classifies.
    std::fs::write(&path, fill_placeholders(&text)).unwrap();
    let (code, report, stderr) = classify_tree(&root, &[]);
    assert_eq!(code, 0, "{stderr}\n{}", fill_placeholders(&text));
    for model in report["models"].as_array().unwrap() {
        assert_eq!(model["category"], "free", "{model:#}");
    }
    assert_eq!(
        report["models"][1]["packages"][0]["name"],
        "tinyproj-model-tiny-bert"
    );
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path().join("proj");
    upstream_tree(&root);
    write(&root, "debian/mlmodel.toml", "# maintainer's edits\n");
    let output = init(&root, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("pass --force"));
    assert_eq!(
        std::fs::read_to_string(root.join("debian/mlmodel.toml")).unwrap(),
        "# maintainer's edits\n"
    );
    let output = init(&root, &["--force", "--source", "named"]);
    assert!(output.status.success());
    let text = std::fs::read_to_string(root.join("debian/mlmodel.toml")).unwrap();
    assert!(text.contains("[source]\nname = \"named\""));
    // Nothing but the manifest is left in debian/ (the temporary file was renamed).
    let entries: Vec<_> = std::fs::read_dir(root.join("debian")).unwrap().collect();
    assert_eq!(entries.len(), 1);
}

#[test]
fn init_without_weights_writes_nothing() {
    let tree = tempfile::tempdir().unwrap();
    write(tree.path(), "src/main.py", "print('hello')\n");
    let output = init(tree.path(), &["--source", "empty"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no model weights"));
    assert!(!tree.path().join("debian").exists());
}

/// A new upstream release: the weights change and a second model appears. `--update` refreshes
/// the pins and adds the model, and every fact and comment the maintainer wrote stays.
#[test]
fn init_update_refreshes_pins_and_keeps_the_maintainers_facts() {
    let t = crate::upstreams::python_package();
    let root = &t.root;
    assert!(init(root, &[]).status.success());
    crate::upstreams::fill_pynet_facts(root);
    let filled = crate::upstreams::manifest(root).replace(
        "\n[[model]]\n",
        "\n# Checked against the paper, 2026-11-30.\n[[model]]\n",
    );
    crate::upstreams::set_manifest(root, &filled);

    let weights = crate::fixtures::safetensors(&[("w", "F32", &[8, 8])]);
    write(root, "models/pynet.safetensors", &weights);
    write(root, "models/ranker.onnx", crate::fixtures::onnx());
    let output = init(root, &["--update"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("model pynet: files and pins refreshed"),
        "{stdout}"
    );
    assert!(stdout.contains("model ranker: added"), "{stdout}");

    let updated = crate::upstreams::manifest(root);
    // The maintainer's text is all still there, in place, but for the one pin.
    let digest = dh_mlmodel::hash::sha256_bytes(&weights);
    let old_pin_line = filled
        .lines()
        .find(|l| l.starts_with("\"models/pynet.safetensors\" = "))
        .unwrap();
    let new_pin_line = format!(
        "\"models/pynet.safetensors\" = {{ sha256 = \"{digest}\", size = {} }}",
        weights.len()
    );
    assert!(
        updated.starts_with(&filled.replace(old_pin_line, &new_pin_line)),
        "{updated}"
    );
    assert!(
        updated.contains("[[model]]\nname = \"ranker\""),
        "{updated}"
    );
    // The added model is incomplete, the refreshed one is still complete.
    let (code, report, stderr) = classify_tree(root, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report["models"][0]["category"], "free", "{report:#}");
    assert_eq!(report["models"][1]["category"], "incomplete");

    // Without --update or --force the manifest is left alone.
    let output = init(root, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(crate::upstreams::manifest(root), updated);
}

/// Weights go under /usr/share/NAME or /usr/lib/NAME (policy/install.toml), never into a
/// directory of the system at large or one that belongs to other tools.
#[test]
fn install_dir_outside_package_data_is_refused_with_its_location() {
    let with_dir = |dir: &str| {
        valid().replace(
            "format = \"safetensors\"\n",
            &format!("format = \"safetensors\"\ninstall-dir = {dir}\n"),
        )
    };
    for dir in [
        r#""/etc""#,
        r#""/usr/bin""#,
        r#""/""#,
        r#""/usr/share""#,
        r#""/usr/share/doc/foo""#,
        r#""/usr/lib/debug/foo""#,
        r#""/usr/share/foo/""#,
        r#""/usr/share//foo""#,
        r#""/usr/share/foo\nbar""#,
        r#""/usr/sharefoo/x""#,
    ] {
        let (code, _, stderr) = crate::support::classify_text(&with_dir(dir), &["--source", "foo"]);
        assert_eq!(code, 2, "{dir} was accepted: {stderr}");
        assert!(
            stderr.contains("debian/mlmodel.toml:5:15: model `bar`: `install-dir`"),
            "{dir}: {stderr}"
        );
    }
    for dir in [r#""/usr/share/foo/models/bar""#, r#""/usr/lib/foo/bar""#] {
        let (code, report, stderr) =
            crate::support::classify_text(&with_dir(dir), &["--source", "foo"]);
        assert_eq!(code, 0, "{dir} was refused: {stderr}");
        assert_eq!(
            report["models"][0]["install_dir"],
            dir.trim_matches('"'),
            "{report:#}"
        );
    }
}

/// One rule for every string of the manifest, keys included: control characters are refused
/// with the file, line and column of the string and the field it is in.
#[test]
fn control_characters_are_refused_in_every_string_field() {
    // (what, text to replace, replacement, expected "LINE:COLUMN: model `bar`: `FIELD`")
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "an escape in the description",
            "format = \"safetensors\"\n",
            "format = \"safetensors\"\ndescription = \"tiny \\u001b[2J model\"\n",
            "5:15: model `bar`: `description`",
        ),
        (
            "a tab in the training command",
            "{data} {out}",
            "{data}\\t{out}",
            "17:11: model `bar`: `training.command`",
        ),
        (
            "a newline in a dataset name",
            "name = \"corpus\"",
            "name = \"cor\\npus\"",
            "21:8: model `bar`: `training.data[1].name`",
        ),
        (
            "a carriage return in a pins key",
            "\"models/bar.safetensors\" = {",
            "\"models/bar.safetensors\\r\" = {",
            "8:1: model `bar`: `pins` key",
        ),
        (
            "a bell in a mirror",
            "url = \"https://example.org/bar.safetensors\"",
            "url = \"https://example.org/bar.safetensors\"\nmirrors = [\"https://m.example.org/\\u0007\"]",
            "12:12: model `bar`: `download.mirrors[1]`",
        ),
    ];
    for (what, from, to, at) in cases {
        let text = valid();
        assert!(text.contains(from), "{what}: fixture lacks {from:?}");
        let tree = tempfile::tempdir().unwrap();
        write(
            tree.path(),
            "debian/mlmodel.toml",
            text.replacen(from, to, 1),
        );
        let (code, _, stderr) = classify_tree(tree.path(), &["--source", "foo"]);
        assert_eq!(code, 2, "{what}: {stderr}");
        let expected = format!(
            "dh-mlmodel: error: debian/mlmodel.toml:{at}: control characters (a newline, a \
             tab, an escape…) are not allowed"
        );
        assert!(
            stderr.lines().any(|line| line.starts_with(&expected)),
            "{what}: expected {expected}…, got: {stderr}"
        );
    }
}

/// Only `{data}`, `{out}` and `{seed}` (`{model}` and `{data}` for evaluation) are
/// placeholders: the commands keep ordinary shell braces.
#[test]
fn commands_keep_ordinary_shell_braces() {
    let text = valid()
        .replace(
            "command = \"python3 train.py {data} {out}\"",
            "command = \"python3 train.py --cache ${HOME}/.cache {data} {out} --seed {seed} \
             && awk '{print $1}' {out}/log\"",
        )
        .replace(
            "public = true\n",
            "public = true\n\n[model.evaluation]\ncommand = \"sh -c 'test -s {model} && \
             echo ${HOME}' && awk '{n++} END {print n}' {data}/test.csv\"\nmetric = \"accuracy\"\n\
             min = 0.5\n",
        );
    assert!(text.contains("${HOME}/.cache") && text.contains("[model.evaluation]"));
    let tree = tempfile::tempdir().unwrap();
    write(tree.path(), "debian/mlmodel.toml", text);
    let (code, report, stderr) = classify_tree(tree.path(), &["--source", "foo"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["models"][0]["category"], "free", "{report:#}");
}

/// A weight file whose name holds a newline cannot be recorded in the manifest (which refuses
/// control characters): `init --manifest-only` says so, naming the file escaped, instead of an
/// internal error. A name that only reaches a comment (an archive member) is written escaped
/// and injects nothing.
#[test]
fn weight_file_names_with_control_characters_do_not_break_init() {
    let tree = tempfile::tempdir().unwrap();
    let weights = crate::fixtures::safetensors(&[("w", "F32", &[2])]);
    write(tree.path(), "models/a\nb.safetensors", &weights);
    let output = init(tree.path(), &["--source", "foo"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(
            "dh-mlmodel: error: models/a\\nb.safetensors: the name of this weight file holds \
             control characters"
        ) && stderr.lines().count() == 1,
        "{stderr}"
    );
    assert!(!tree.path().join("debian/mlmodel.toml").exists());

    let tree = tempfile::tempdir().unwrap();
    write(tree.path(), "models/net.safetensors", &weights);
    let member = "x\n[[model]]\nname = \"evil\"\n.safetensors";
    write(
        tree.path(),
        "extra.zip",
        crate::fixtures::zip(&[(member, &weights)], false),
    );
    let output = init(tree.path(), &["--source", "foo"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = std::fs::read_to_string(tree.path().join("debian/mlmodel.toml")).unwrap();
    assert!(
        !text.lines().any(|line| line == "name = \"evil\""),
        "{text}"
    );
    assert!(
        text.contains("#   extra.zip!x\\n[[model]]\\nname"),
        "{text}"
    );
    assert_eq!(text.matches("[[model]]\n").count(), 1, "{text}");
}

/// A `debian/control` that is not deb822 is an error naming its line, not silently read.
#[test]
fn a_garbage_debian_control_is_an_error_with_its_line() {
    let tree = tempfile::tempdir().unwrap();
    write(tree.path(), "debian/mlmodel.toml", valid());
    write(
        tree.path(),
        "debian/control",
        "Source: foo\nMaintainer: A <a@example.org>\nthis line is no field\n\nPackage: foo\n",
    );
    let (code, _, stderr) = classify_tree(tree.path(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with("dh-mlmodel: error: ")
            && stderr.contains("debian/control:3:")
            && stderr.contains("not a control file"),
        "{stderr}"
    );
}
