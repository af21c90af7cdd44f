//! Model catalogues: JSON and YAML data listing model URLs. A catalogue that code of the tree
//! names is fetched when that code runs, each entry named by its key path; one nobody names is
//! documentation. YAML is read a line at a time, so hostile files (deep nesting, alias bombs,
//! huge files) cost what their lines cost. Fixtures follow YAML 1.2.2 (https://yaml.org/spec/
//! 1.2.2/: block mappings by indentation, §8.2.2; sequences of mappings, §8.2.1; anchors and
//! aliases, §7.1) and silero-models' `models.yml` and `src/silero/silero.py`, cut down.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{dh_mlmodel, scan_json, scan_with_warnings, write};

/// silero's catalogue: weights (`.jit`, `.onnx`, `.pt`) beside labels and audio samples, the
/// same URL under `latest` and its version, and a sequence of mappings.
const MODELS_YML: &str = "# pre-trained STT models\n\
stt_models:\n\
\x20 en:\n\
\x20   latest:\n\
\x20     meta:\n\
\x20       name: \"en_v6\"\n\
\x20       sample: \"https://models.silero.ai/examples/en_sample.wav\"\n\
\x20     labels: \"https://models.silero.ai/models/en/en_v1_labels.json\"\n\
\x20     jit: \"https://models.silero.ai/models/en/en_v6.jit\"\n\
\x20     onnx: \"https://models.silero.ai/models/en/en_v5.onnx\"\n\
\x20   v6:\n\
\x20     jit: \"https://models.silero.ai/models/en/en_v6.jit\"\n\
tts_models:\n\
\x20 ru:\n\
\x20   v3_1_ru:\n\
\x20     latest:\n\
\x20       package: 'https://models.silero.ai/models/tts/ru/v3_1_ru.pt'\n\
te_models:\n\
\x20 - name: te\n\
\x20   url: https://models.silero.ai/te_models/v2_4lang_q.pt\n";

/// silero.py's reader: the catalogue's path joined from literals, then `OmegaConf.load`.
const SILERO_PY: &str = "import os\n\
import torch\n\
\n\
def silero_stt(language='en'):\n\
\x20   \"\"\"Speech-to-text models, listed in models.yml.\"\"\"\n\
\x20   from omegaconf import OmegaConf\n\
\x20   models_list_file = os.path.join(os.path.dirname(__file__), \"..\", \"..\", \"models.yml\")\n\
\x20   models = OmegaConf.load(models_list_file)\n\
\x20   return models.stt_models.get(language)\n";

fn fetches<'a>(findings: &'a [Value], path: &str) -> Vec<&'a Value> {
    let mut found: Vec<&Value> = findings
        .iter()
        .filter(|f| f["path"] == path && f["kind"] == "download")
        .collect();
    found.sort_by_key(|f| f["line"].as_u64());
    found
}

fn init_manifest_only(root: &Path) -> std::process::Output {
    dh_mlmodel()
        .args(["init", "--manifest-only"])
        .arg(root)
        .env("DEBFULLNAME", "Ann Example")
        .env("DEBEMAIL", "ann@example.org")
        .output()
        .unwrap()
}

#[test]
fn a_yaml_catalogue_code_reads_is_fetched_at_run_time_entry_by_entry() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "models.yml", MODELS_YML);
    write(dir.path(), "src/silero/__init__.py", "");
    write(dir.path(), "src/silero/silero.py", SILERO_PY);
    let findings = scan_json(dir.path(), &[]);
    let catalogue = fetches(&findings, "models.yml");
    let seen: Vec<(u64, &str, &str)> = catalogue
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["url"].as_str().unwrap(),
                f["reason"].as_str().unwrap(),
            )
        })
        .collect();
    let read = "listed in a catalogue src/silero/silero.py reads; catalogue entry";
    assert_eq!(
        seen,
        [
            (
                9,
                "https://models.silero.ai/models/en/en_v6.jit",
                &*format!("{read} stt_models.en.latest.jit")
            ),
            (
                10,
                "https://models.silero.ai/models/en/en_v5.onnx",
                &format!("{read} stt_models.en.latest.onnx")
            ),
            (
                17,
                "https://models.silero.ai/models/tts/ru/v3_1_ru.pt",
                &format!("{read} tts_models.ru.v3_1_ru.latest.package")
            ),
            (
                20,
                "https://models.silero.ai/te_models/v2_4lang_q.pt",
                &format!("{read} te_models.url")
            ),
        ],
        "weights only (no labels, no samples), each URL once: {catalogue:#?}"
    );
    for f in &catalogue {
        assert_eq!(f["when"], "run", "{f}");
        assert_eq!(f["verification"], "none", "{f}");
    }
    assert_eq!(catalogue[0]["format"], "jit");

    let output = init_manifest_only(dir.path());
    assert!(output.status.success(), "{output:?}");
    let manifest = std::fs::read_to_string(dir.path().join("debian/mlmodel.toml")).unwrap();
    for url in [
        "https://models.silero.ai/models/en/en_v6.jit",
        "https://models.silero.ai/models/tts/ru/v3_1_ru.pt",
    ] {
        assert!(manifest.contains(&format!("url = \"{url}\"")), "{manifest}");
    }
    assert!(manifest.contains("name = \"en-v6\""), "{manifest}");
}

/// The same catalogue with no code naming it (the reader's docstring names it, which is prose):
/// documentation, grouped in the table and not drafted; JSON alike.
#[test]
fn a_catalogue_nobody_reads_is_documentation() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "models.yml", MODELS_YML);
    write(
        dir.path(),
        "zoo/models.json",
        "{\"resnet\": {\"url\": \"https://example.org/models/resnet50.onnx\"}}\n",
    );
    write(
        dir.path(),
        "src/silero/silero.py",
        "def silero_stt():\n    \"\"\"The models are listed in models.yml and models.json.\"\"\"\n",
    );
    let findings = scan_json(dir.path(), &[]);
    let listed: Vec<&Value> = fetches(&findings, "models.yml")
        .into_iter()
        .chain(fetches(&findings, "zoo/models.json"))
        .collect();
    assert_eq!(listed.len(), 5, "{findings:#?}");
    for f in &listed {
        assert_eq!(f["when"], "manual", "{f}");
        assert!(
            f["reason"]
                .as_str()
                .unwrap()
                .starts_with("listed in a catalogue no code of the tree names: documentation"),
            "{f}"
        );
    }
    let table = dh_mlmodel().arg("scan").arg(dir.path()).output().unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("4 model URLs (documentation)"),
        "one row for the catalogue:\n{table}"
    );
    let output = init_manifest_only(dir.path());
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("only documentation links"),
        "{output:?}"
    );
}

/// Hostile YAML: 2,000 levels of nesting (2 MB), a billion-laughs alias bomb (nine anchors of ten
/// aliases each, 10^9 nodes when expanded, §7.1), a line of 3 MiB, and a catalogue named by code
/// but over `max-file-size`. Each is read in bounded time and memory, without a panic: the
/// bomb's one URL once, the deep key path capped, the huge catalogue named in a warning.
#[test]
fn hostile_yaml_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut deep = String::new();
    for i in 0..2_000usize {
        deep.push_str(&" ".repeat(i));
        deep.push_str("k:\n");
    }
    deep.push_str(&" ".repeat(2_000));
    deep.push_str("url: https://example.org/models/deep.onnx\n");
    write(dir.path(), "deep.yml", &deep);
    let mut bomb = String::from("a: &a [\"https://example.org/models/laugh.onnx\"]\n");
    let letters = "abcdefghij";
    for w in letters.as_bytes().windows(2) {
        let (from, to) = (w[0] as char, w[1] as char);
        let aliases = vec![format!("*{from}"); 10].join(", ");
        bomb.push_str(&format!("{to}: &{to} [{aliases}]\n"));
    }
    write(dir.path(), "bomb.yaml", &bomb);
    write(
        dir.path(),
        "long.yml",
        format!("k: \"{}\"\n", "x".repeat(3 << 20)),
    );
    let mut huge = String::from("models:\n");
    while huge.len() <= 4 << 20 {
        huge.push_str("  m: https://example.org/models/m.onnx\n");
    }
    write(dir.path(), "huge.yml", &huge);
    write(
        dir.path(),
        "reader.py",
        "for name in (\"deep.yml\", \"bomb.yaml\", \"huge.yml\"):\n    load(name)\n",
    );
    let started = Instant::now();
    let (findings, warnings) = scan_with_warnings(&[], dir.path(), &[]);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    let bomb = fetches(&findings, "bomb.yaml");
    assert_eq!(bomb.len(), 1, "{bomb:#?}");
    assert_eq!(bomb[0]["url"], "https://example.org/models/laugh.onnx");
    let deep = fetches(&findings, "deep.yml");
    assert_eq!(deep.len(), 1, "{deep:#?}");
    let reason = deep[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("listed in a catalogue reader.py reads; catalogue entry k.k.k."),
        "{reason}"
    );
    assert!(reason.len() < 300, "the key path is capped: {reason}");
    assert!(fetches(&findings, "long.yml").is_empty());
    assert!(fetches(&findings, "huge.yml").is_empty());
    assert!(
        warnings.contains("huge.yml: a catalogue reader.py reads, but at ")
            && warnings.contains("over the download search's cap (4194304 bytes"),
        "{warnings}"
    );
}
