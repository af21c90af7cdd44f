//! The download shapes real upstreams use and a line-by-line URL search misses (issue 11):
//! Python hub calls by name, literals joined inside parentheses, module constants and keyword
//! arguments; shell command substitution, fetchers held in variables, `for` loops and
//! functions; batch and PowerShell; CMake fetching code; checks read for their real
//! algorithm; documentation links, data sets and configs. Each fixture is the shape as the
//! upstream project writes it, cut down to the lines that matter.

use serde_json::Value;

use crate::support::{dh_mlmodel, scan_json, write};

const SHA256: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const MD5: &str = "a7b3fe01876f51b976af0dea6bc144eb";

/// The `download` and `dataset` findings of `path`, by line.
fn fetches<'a>(findings: &'a [Value], path: &str) -> Vec<&'a Value> {
    let mut found: Vec<&Value> = findings
        .iter()
        .filter(|f| f["path"] == path && (f["kind"] == "download" || f["kind"] == "dataset"))
        .collect();
    found.sort_by_key(|f| f["line"].as_u64());
    found
}

/// The one fetch of `path` on `line`.
fn at_line<'a>(findings: &'a [Value], path: &str, line: u64) -> &'a Value {
    let found: Vec<&Value> = fetches(findings, path)
        .into_iter()
        .filter(|f| f["line"] == line)
        .collect();
    assert_eq!(found.len(), 1, "{path}:{line}: {findings:#?}");
    found[0]
}

fn urls(findings: &[Value], path: &str) -> Vec<String> {
    fetches(findings, path)
        .iter()
        .filter_map(|f| f["url"].as_str().map(String::from))
        .collect()
}

#[test]
fn keras_weights_path_joined_in_parentheses_is_fetched_by_get_file_with_its_md5() {
    // keras-applications' resnet50.py: WEIGHTS_PATH as adjacent literals over three lines,
    // used later through `get_file(fname, origin=…, md5_hash=…)`.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "keras_applications/resnet50.py",
        format!(
            "from tensorflow.keras import utils as keras_utils\n\
             \n\
             WEIGHTS_PATH = ('https://github.com/fchollet/deep-learning-models/'\n\
             \x20               'releases/download/v0.2/'\n\
             \x20               'resnet50_weights_tf_dim_ordering_tf_kernels.h5')\n\
             \n\
             \n\
             def ResNet50(weights='imagenet'):\n\
             \x20   weights_path = keras_utils.get_file(\n\
             \x20       'resnet50_weights_tf_dim_ordering_tf_kernels.h5',\n\
             \x20       origin=WEIGHTS_PATH,\n\
             \x20       cache_subdir='models',\n\
             \x20       md5_hash='{MD5}')\n\
             \x20   return weights_path\n"
        ),
    );
    let findings = scan_json(dir.path(), &[]);
    let all = fetches(&findings, "keras_applications/resnet50.py");
    assert_eq!(all.len(), 1, "{findings:#?}");
    let f = all[0];
    assert_eq!(f["line"], 9);
    assert_eq!(
        f["url"],
        "https://github.com/fchollet/deep-learning-models/releases/download/v0.2/\
         resnet50_weights_tf_dim_ordering_tf_kernels.h5"
    );
    assert_eq!(f["url_as_written"], "WEIGHTS_PATH");
    assert_eq!(f["format"], "h5");
    assert_eq!(f["when"], "run");
    assert_eq!(f["verification"], "md5");
    assert_eq!(f["hub"]["service"], "keras");
    assert_eq!(
        f["hub"]["file"],
        "resnet50_weights_tf_dim_ordering_tf_kernels.h5"
    );
}

#[test]
fn keras_file_hash_length_tells_sha256_from_md5() {
    // keras/src/utils/file_utils.py: hash_algorithm="auto" checks SHA-256 for a 64-digit
    // hash, MD5 otherwise; a named hash_algorithm wins.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pkg/weights.py",
        format!(
            "import keras\n\
             BASE = 'https://storage.googleapis.com/tensorflow/keras-applications/'\n\
             a = keras.utils.get_file('a.h5', BASE + 'a.h5', file_hash='{SHA256}')\n\
             b = keras.utils.get_file('b.h5', BASE + 'b.h5', file_hash='{MD5}')\n\
             c = keras.utils.get_file(fname='c.h5', origin=BASE + 'c.h5', file_hash='{SHA256}', hash_algorithm='md5')\n\
             d = keras.utils.get_file('d.h5', BASE + 'd.h5')\n"
        ),
    );
    let findings = scan_json(dir.path(), &[]);
    let verification = |line| at_line(&findings, "pkg/weights.py", line)["verification"].clone();
    assert_eq!(verification(3), "sha256");
    assert_eq!(verification(4), "md5");
    assert_eq!(verification(5), "md5");
    assert_eq!(verification(6), "none");
    assert_eq!(
        at_line(&findings, "pkg/weights.py", 3)["url"],
        "https://storage.googleapis.com/tensorflow/keras-applications/a.h5"
    );
}

#[test]
fn hugging_face_calls_by_repository_report_the_hub_the_pin_and_a_url_only_when_known() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pkg/load.py",
        "from huggingface_hub import hf_hub_download, snapshot_download\n\
         from transformers import AutoModel, AutoTokenizer\n\
         REPO = 'example/tiny-net'\n\
         \n\
         def load(name):\n\
         \x20   model = AutoModel.from_pretrained(\"gpt2\")\n\
         \x20   other = AutoTokenizer.from_pretrained(name, revision=\"v1.0\")\n\
         \x20   path = hf_hub_download(repo_id=REPO, filename=\"model.safetensors\", revision=\"4f1c2d3\")\n\
         \x20   snap = snapshot_download(repo_id=\"example/big\")\n\
         \x20   local = AutoModel.from_pretrained(\"./checkpoints/best\")\n\
         \x20   data = hf_hub_download(\"example/corpus\", \"train.parquet\", repo_type=\"dataset\")\n\
         \x20   return model, other, path, snap, local, data\n",
    );
    let findings = scan_json(dir.path(), &[]);
    assert_eq!(fetches(&findings, "pkg/load.py").len(), 5, "{findings:#?}");

    let gpt2 = at_line(&findings, "pkg/load.py", 6);
    assert_eq!(gpt2["kind"], "download");
    assert_eq!(gpt2["when"], "run");
    assert_eq!(
        gpt2["hub"],
        serde_json::json!({"service": "huggingface", "repo": "gpt2"})
    );
    assert!(gpt2.get("url").is_none(), "no URL is known: {gpt2:#}");

    let by_variable = at_line(&findings, "pkg/load.py", 7);
    assert_eq!(by_variable["hub"]["revision"], "v1.0");
    assert!(by_variable["hub"].get("repo").is_none());
    assert!(
        by_variable["reason"]
            .as_str()
            .unwrap()
            .contains("repository given by `name`"),
        "{by_variable:#}"
    );

    let pinned = at_line(&findings, "pkg/load.py", 8);
    assert_eq!(
        pinned["hub"],
        serde_json::json!({"service": "huggingface", "repo": "example/tiny-net",
                           "revision": "4f1c2d3", "file": "model.safetensors"})
    );
    assert_eq!(
        pinned["url"],
        "https://huggingface.co/example/tiny-net/resolve/4f1c2d3/model.safetensors"
    );
    assert_eq!(pinned["format"], "safetensors");

    let snapshot = at_line(&findings, "pkg/load.py", 9);
    assert_eq!(snapshot["hub"]["repo"], "example/big");
    assert!(snapshot["hub"].get("revision").is_none(), "unpinned");

    let data = at_line(&findings, "pkg/load.py", 11);
    assert_eq!(data["kind"], "dataset");
    assert_eq!(
        data["url"],
        "https://huggingface.co/datasets/example/corpus/resolve/main/train.parquet"
    );
}

/// nanoGPT's `GPT.from_pretrained(model_type)` (model.py): the name is a parameter, but the
/// guard before the call says which models it can be, so each is a download.
#[test]
fn a_guard_listing_literal_names_makes_a_hub_call_by_variable_fetch_each_of_them() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "model.py",
        "from transformers import GPT2LMHeadModel\n\
         \n\
         def from_pretrained(model_type):\n\
         \x20   assert model_type in {'gpt2', 'gpt2-medium', 'gpt2-xl'}\n\
         \x20   return GPT2LMHeadModel.from_pretrained(model_type)\n\
         \n\
         def load_other(name):\n\
         \x20   return GPT2LMHeadModel.from_pretrained(name)\n",
    );
    let findings = scan_json(dir.path(), &[]);
    let repos: Vec<&str> = fetches(&findings, "model.py")
        .iter()
        .filter(|f| f["line"] == 5)
        .map(|f| f["hub"]["repo"].as_str().unwrap())
        .collect();
    assert_eq!(repos, ["gpt2", "gpt2-medium", "gpt2-xl"], "{findings:#?}");
    assert!(
        fetches(&findings, "model.py")
            .iter()
            .all(|f| f["line"] == 5),
        "a call given a name with no guard names nothing: {findings:#?}"
    );
}

#[test]
fn model_zoo_calls_of_torch_keras_fasttext_spacy_nltk_gensim_whisper_and_timm() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pkg/zoo.py",
        "import torch, timm, whisper, nltk, spacy, fasttext.util\n\
         import gensim.downloader as api\n\
         from tensorflow.keras.applications import ResNet50\n\
         hub = torch.hub.load('pytorch/vision:v0.10.0', 'resnet18', pretrained=True)\n\
         mine = torch.hub.load('./hubconf_dir', 'net', source='local')\n\
         sd = torch.hub.load_state_dict_from_url('https://download.pytorch.org/models/resnet18-f37072fd.pth')\n\
         net = ResNet50(weights='imagenet')\n\
         bare = ResNet50(weights=None)\n\
         fasttext.util.download_model('en', if_exists='ignore')\n\
         spacy.cli.download('en_core_web_sm')\n\
         nltk.download('punkt')\n\
         vectors = api.load('glove-wiki-gigaword-100')\n\
         asr = whisper.load_model('base')\n\
         backbone = timm.create_model('resnet50', pretrained=True)\n\
         scratch = timm.create_model('resnet50', pretrained=False)\n",
    );
    let findings = scan_json(dir.path(), &[]);
    let hub = |line| at_line(&findings, "pkg/zoo.py", line)["hub"].clone();
    let lines: Vec<u64> = fetches(&findings, "pkg/zoo.py")
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [4, 6, 7, 9, 10, 11, 12, 13, 14], "{findings:#?}");
    assert_eq!(
        hub(4),
        serde_json::json!({"service": "torch-hub", "repo": "pytorch/vision",
                           "revision": "v0.10.0", "file": "resnet18"})
    );
    let sd = at_line(&findings, "pkg/zoo.py", 6);
    assert_eq!(
        sd["url"],
        "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    );
    assert_eq!(sd["hub"]["service"], "torch-hub");
    assert_eq!(
        hub(7),
        serde_json::json!({"service": "keras-applications", "repo": "ResNet50"})
    );
    assert_eq!(at_line(&findings, "pkg/zoo.py", 7)["format"], "h5");
    let fasttext = at_line(&findings, "pkg/zoo.py", 9);
    assert_eq!(fasttext["hub"]["repo"], "en");
    assert_eq!(
        fasttext["url"],
        "https://dl.fbaipublicfiles.com/fasttext/vectors-crawl/cc.en.300.bin.gz"
    );
    assert_eq!(hub(10)["service"], "spacy");
    assert_eq!(hub(10)["repo"], "en_core_web_sm");
    assert_eq!(hub(11)["service"], "nltk");
    assert_eq!(hub(12)["service"], "gensim-data");
    assert_eq!(hub(12)["repo"], "glove-wiki-gigaword-100");
    assert_eq!(hub(13)["service"], "whisper");
    assert_eq!(hub(14)["service"], "timm");
    assert!(
        fetches(&findings, "pkg/zoo.py")
            .iter()
            .all(|f| f["when"] == "run")
    );
}

#[test]
fn checks_through_a_helper_and_by_tool_report_their_real_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    // A helper computes the digest; the download compares it with a table's "md5".
    write(
        dir.path(),
        "pkg/fetch.py",
        "import urllib.request\n\
         MODELS = {'small': {'url': 'https://example.org/m/small.onnx', 'md5': 'x'}}\n\
         \n\
         def fetch(name):\n\
         \x20   info = MODELS[name]\n\
         \x20   path, _ = urllib.request.urlretrieve(info['url'], name + '.onnx')\n\
         \x20   if get_file_hash(path) != info['md5']:\n\
         \x20       raise ValueError('corrupt download')\n\
         \x20   return path\n",
    );
    write(
        dir.path(),
        "scripts/sum-c.sh",
        format!(
            "#!/bin/sh\nwget https://example.org/m/net.gguf\n\
             echo \"{SHA256}  net.gguf\" | sha256sum -c -\n"
        ),
    );
    write(
        dir.path(),
        "scripts/shasum.sh",
        format!(
            "#!/bin/sh\ncurl -LO https://example.org/m/net.tflite\n\
             echo \"{SHA256}  net.tflite\" | shasum -a 256 --check\n"
        ),
    );
    write(
        dir.path(),
        "scripts/prefix.sh",
        "#!/bin/sh\nf=resnet18-f37072fd.pth\n\
         wget https://download.pytorch.org/models/$f\n\
         test \"$(sha256sum $f | cut -c1-8)\" = f37072fd\n",
    );
    let findings = scan_json(dir.path(), &[]);
    let only = |path| {
        let all = fetches(&findings, path);
        assert_eq!(all.len(), 1, "{path}: {findings:#?}");
        all[0]["verification"].clone()
    };
    assert_eq!(only("pkg/fetch.py"), "md5");
    assert_eq!(only("scripts/sum-c.sh"), "sha256");
    assert_eq!(only("scripts/shasum.sh"), "sha256");
    assert_eq!(only("scripts/prefix.sh"), "sha256-prefix");
}

#[test]
fn shell_command_substitution_reads_the_version_file_of_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "model_version", "2024-05-01\n");
    write(dir.path(), "tools/revision", "abc123\n");
    write(
        dir.path(),
        "tools/get-model.sh",
        "#!/bin/sh\n\
         version=$(cat model_version)\n\
         rev=`cat revision`\n\
         missing=$(cat no_such_file)\n\
         wget https://example.org/models/$version/net.onnx\n\
         wget \"https://example.org/models/$rev/aux.onnx\"\n\
         wget https://example.org/models/$missing/other.onnx\n\
         secret=$(cat ../../../etc/hostname)\n\
         wget https://example.org/models/$secret/x.onnx\n",
    );
    let findings = scan_json(dir.path(), &[]);
    assert_eq!(
        urls(&findings, "tools/get-model.sh"),
        [
            "https://example.org/models/2024-05-01/net.onnx",
            "https://example.org/models/abc123/aux.onnx",
            "https://example.org/models/$missing/other.onnx",
            "https://example.org/models/$secret/x.onnx",
        ],
        "the top-level file, the script's own directory, and nothing outside the tree"
    );
}

#[test]
fn shell_fetcher_in_a_variable_loops_and_functions() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "download_models.sh",
        "#!/bin/bash\n\
         BASE=https://example.org/releases/v3\n\
         if command -v wget > /dev/null; then\n\
         \x20   wget_or_curl=\"wget -O\"\n\
         else\n\
         \x20   wget_or_curl=\"curl -L -o\"\n\
         fi\n\
         url=\"$BASE/model-encoder.dat\"\n\
         $wget_or_curl encoder.bin \"$url\"\n\
         for url in https://example.org/a/model-1.dat https://example.org/a/model-2.dat; do\n\
         \x20   curl -LO \"$url\"\n\
         done\n\
         for name in enc dec; do\n\
         \x20   wget \"$BASE/$name.tflite\"\n\
         done\n\
         get() { curl -fsSL -o \"$2\" \"$1\"; }\n\
         get \"$BASE/tokenizer-model.txt\" tokenizer.txt\n\
         echo \"all downloaded from $BASE/docs\"\n",
    );
    let findings = scan_json(dir.path(), &[]);
    let found: Vec<(u64, String)> = fetches(&findings, "download_models.sh")
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["url"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = [
        (9, "https://example.org/releases/v3/model-encoder.dat"),
        (11, "https://example.org/a/model-1.dat"),
        (11, "https://example.org/a/model-2.dat"),
        (14, "https://example.org/releases/v3/enc.tflite"),
        (14, "https://example.org/releases/v3/dec.tflite"),
        (17, "https://example.org/releases/v3/tokenizer-model.txt"),
    ]
    .iter()
    .map(|(l, u)| (*l, u.to_string()))
    .collect();
    assert_eq!(found, expected, "{findings:#?}");
    assert_eq!(
        at_line(&findings, "download_models.sh", 9)["url_as_written"],
        "$url"
    );
}

#[test]
fn batch_set_and_powershell_downloadfile_and_invoke_webrequest() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "win/get.bat",
        "@echo off\r\nset BASE=https://example.org/win\r\nset \"MODEL=%BASE%/v1/detector.onnx\"\r\n\
         curl -L -o detector.onnx %MODEL%\r\n",
    );
    write(
        dir.path(),
        "win/get.ps1",
        "$Base = \"https://example.org/ps\"\r\n\
         (New-Object System.Net.WebClient).DownloadFile(\"$Base/net.onnx\", \"net.onnx\")\r\n\
         Invoke-WebRequest -Uri \"$Base/vocab.json\" -OutFile vocab.json\r\n",
    );
    let findings = scan_json(dir.path(), &[]);
    let bat = at_line(&findings, "win/get.bat", 4);
    assert_eq!(bat["url"], "https://example.org/win/v1/detector.onnx");
    assert_eq!(bat["url_as_written"], "%MODEL%");
    assert_eq!(
        urls(&findings, "win/get.ps1"),
        ["https://example.org/ps/net.onnx"],
        "a JSON vocabulary fetched by a generic command is neither weights nor about models"
    );
    assert_eq!(at_line(&findings, "win/get.ps1", 2)["when"], "manual");
}

#[test]
fn cmake_fetching_code_is_a_build_time_network_fetch_with_its_format() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "CMakeLists.txt",
        format!(
            "cmake_minimum_required(VERSION 3.16)\n\
             include(FetchContent)\n\
             FetchContent_Declare(json\n\
             \x20 URL https://github.com/nlohmann/json/releases/download/v3.11.3/json.tar.xz\n\
             \x20 URL_HASH SHA256={SHA256})\n\
             include(ExternalProject)\n\
             ExternalProject_Add(ggml\n\
             \x20 GIT_REPOSITORY https://github.com/ggerganov/ggml\n\
             \x20 GIT_TAG v0.1)\n\
             file(DOWNLOAD https://raw.githubusercontent.com/o/r/main/FindX.cmake ${{CMAKE_BINARY_DIR}}/FindX.cmake)\n"
        ),
    );
    let findings = scan_json(dir.path(), &[]);
    let all = fetches(&findings, "CMakeLists.txt");
    let shape: Vec<(u64, &str, &str)> = all
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["format"].as_str().unwrap(),
                f["verification"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (3, "source-archive", "sha256"),
            (7, "git", "none"),
            (10, "file", "none")
        ],
        "{findings:#?}"
    );
    for f in all {
        assert_eq!(f["kind"], "download");
        assert_eq!(f["when"], "build");
        assert!(
            f["reason"]
                .as_str()
                .unwrap()
                .contains("code from the network")
        );
    }
}

#[test]
fn documentation_catalogue_links_are_one_table_row_and_every_item_in_json() {
    let dir = tempfile::tempdir().unwrap();
    // A voice catalogue as piper's VOICES.md writes it: each voice a model and its config.
    let mut voices = String::from("# Voices\n\n");
    for i in 0..40 {
        let base = format!("https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/en/v{i}");
        voices.push_str(&format!(
            "* v{i}: [model]({base}/v{i}.onnx?download=true) [config]({base}/v{i}.onnx.json?download=true)\n"
        ));
    }
    voices.push_str("\nTrained on https://huggingface.co/datasets/example/speech\n");
    write(dir.path(), "VOICES.md", &voices);
    write(
        dir.path(),
        "README.md",
        "Get the model: https://example.org/releases/net.onnx\n",
    );
    let findings = scan_json(dir.path(), &[]);
    let all = fetches(&findings, "VOICES.md");
    assert_eq!(all.len(), 81);
    let count = |format: &str| all.iter().filter(|f| f["format"] == format).count();
    assert_eq!((count("onnx"), count("config")), (40, 40));
    let dataset: Vec<&&Value> = all.iter().filter(|f| f["kind"] == "dataset").collect();
    assert_eq!(dataset.len(), 1);
    assert_eq!(
        dataset[0]["url"],
        "https://huggingface.co/datasets/example/speech"
    );

    let output = dh_mlmodel()
        .args(["scan", "--no-hash"])
        .arg(dir.path())
        .output()
        .unwrap();
    let table = String::from_utf8(output.stdout).unwrap();
    let rows: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("VOICES.md"))
        .collect();
    assert_eq!(rows.len(), 1, "{table}");
    assert!(
        rows[0].ends_with("40 model URLs, 40 config URLs, 1 dataset URL (documentation)"),
        "{table}"
    );
    let readme: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("README.md"))
        .collect();
    assert_eq!(readme.len(), 1, "a single link keeps its own row: {table}");
    assert!(readme[0].contains("https://example.org/releases/net.onnx"));
}

#[test]
fn init_warns_that_the_build_fetches_code_from_the_network() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "models/net.safetensors",
        crate::fixtures::safetensors(&[("w", "F32", &[2, 2])]),
    );
    write(
        dir.path(),
        "CMakeLists.txt",
        "cmake_minimum_required(VERSION 3.16)\n\
         include(FetchContent)\n\
         FetchContent_Declare(json GIT_REPOSITORY https://github.com/nlohmann/json GIT_TAG v3.11.3)\n",
    );
    let output = dh_mlmodel()
        .args(["init", "--manifest-only", "--source", "netdemo"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "CMakeLists.txt:3: the build fetches code from https://github.com/nlohmann/json (git)"
        ),
        "{stderr}"
    );
}

#[test]
fn spacy_download_command_in_a_script_and_a_readme() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "setup-models.sh",
        "#!/bin/sh\nset -e\npython3 -m spacy download en_core_web_sm && echo done\n",
    );
    write(
        dir.path(),
        "README.md",
        "Install the model: `python -m spacy download de_core_news_md`.\n",
    );
    let findings = scan_json(dir.path(), &[]);
    let script = at_line(&findings, "setup-models.sh", 3);
    assert_eq!(
        script["hub"],
        serde_json::json!({"service": "spacy", "repo": "en_core_web_sm"})
    );
    assert_eq!(script["when"], "manual");
    let readme = at_line(&findings, "README.md", 1);
    assert_eq!(readme["hub"]["repo"], "de_core_news_md");
}

/// Python files that look like scripts but are modules of a package (the real corpus of
/// docs/real-world.md): fasttext's `util/util.py` has a `#!` line, gensim's `downloader.py` a
/// `__main__` guard; beside an `__init__.py` their downloads run with the program, and only
/// the guard's body is a script. The same file without `__init__.py` is a script.
#[test]
fn package_modules_with_a_shebang_or_main_guard_download_at_run_time() {
    let dir = tempfile::tempdir().unwrap();
    // fasttext/util/util.py (fasttext 0.9.2), cut down: a `%`-formatted URL in a function.
    let util = "#!/usr/bin/env python\n\
                from urllib.request import urlopen\n\
                \n\
                def _download_gz_model(gz_file_name):\n\
                \x20   url = \"https://dl.fbaipublicfiles.com/fasttext/vectors-crawl/%s\" % gz_file_name\n\
                \x20   urlopen(url)\n";
    write(dir.path(), "fasttext/util/__init__.py", "");
    write(dir.path(), "fasttext/util/util.py", util);
    write(dir.path(), "standalone/fetch.py", util);
    // gensim/downloader.py (gensim 4.2): base URL + name through str.format, an md5 through
    // helpers, a command-line entry point.
    write(dir.path(), "gensim/__init__.py", "");
    write(
        dir.path(),
        "gensim/downloader.py",
        "import urllib.request as urllib\n\
         DOWNLOAD_BASE_URL = \"https://github.com/RaRe-Technologies/gensim-data/releases/download\"\n\
         \n\
         def _download(name):\n\
         \x20   url_data = \"{base}/{fname}/{fname}.gz\".format(base=DOWNLOAD_BASE_URL, fname=name)\n\
         \n\
         \x20   urllib.urlretrieve(url_data, dst_path)\n\
         \x20   if _calculate_md5_checksum(dst_path) == _get_checksum(name):\n\
         \x20       pass\n\
         \n\
         if __name__ == '__main__':\n\
         \x20   urllib.urlretrieve(\"https://example.org/models/cli-only.bin\", \"x\")\n",
    );
    let findings = scan_json(dir.path(), &[]);
    let packaged = at_line(&findings, "fasttext/util/util.py", 5);
    assert_eq!(packaged["when"], "run", "{packaged}");
    assert!(packaged.get("reason").is_none(), "{packaged}");
    let script = at_line(&findings, "standalone/fetch.py", 5);
    assert_eq!(script["when"], "manual", "{script}");
    let gensim = at_line(&findings, "gensim/downloader.py", 7);
    assert_eq!(
        gensim["url"],
        "https://github.com/RaRe-Technologies/gensim-data/releases/download/{fname}/{fname}.gz"
    );
    assert_eq!(gensim["when"], "run");
    assert_eq!(gensim["verification"], "md5");
    let cli = at_line(&findings, "gensim/downloader.py", 12);
    assert_eq!(cli["when"], "manual");
    assert!(
        cli["reason"].as_str().unwrap().contains("__main__"),
        "{cli}"
    );
}

/// Docstrings are prose: doctest examples (`>>> api.load("text8")`) and "install them with
/// nltk.download()" are not hub calls, and a data set link cited in one is not a fetch; the
/// brackets and apostrophes of their text do not join the code after them into one line.
#[test]
fn docstrings_are_prose_not_calls() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pkg/__init__.py", "");
    write(
        dir.path(),
        "pkg/corpora.py",
        "\"\"\"Corpora (see below\n\
         Install corpora using nltk.download(). Don't forget\n\
         the UCI set: http://archive.ics.uci.edu/ml/datasets/Bag+of+Words\n\
         \n\
         .. sourcecode:: pycon\n\
         \n\
         \x20   >>> model = api.load(\"glove-twitter-25\")\n\
         \"\"\"\n\
         import gensim.downloader as api\n\
         \n\
         \n\
         class Downloader:\n\
         \x20   INDEX = \"https://example.org/models/index.bin\"\n\
         \n\
         def f():\n\
         \x20   return api.load(\"text8\")\n",
    );
    let findings = scan_json(dir.path(), &[]);
    let lines: Vec<u64> = fetches(&findings, "pkg/corpora.py")
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [13, 16], "{findings:#?}");
    assert_eq!(
        at_line(&findings, "pkg/corpora.py", 16)["hub"]["repo"],
        "text8"
    );
}

/// Checks read through variables and digests carried in the URL: piper's download.py reads
/// `expected_hash = file_info["md5_digest"]` and compares it, with blank lines between the
/// check and the fetch; whisper keeps the SHA-256 in each URL's path and checks it in
/// `_download`, far from its `_MODELS` table. A data set script's fetches are data sets, a
/// repository page is not a download, a JSON catalogue's `url` values are fetched.
#[test]
fn digest_variables_digests_in_urls_data_set_scripts_pages_and_json_catalogues() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "piper/__init__.py", "");
    write(
        dir.path(),
        "piper/download.py",
        "from urllib.request import urlopen\n\
         URL_FORMAT = \"https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/{file}\"\n\
         \n\
         def ensure_voice_exists(voice_files):\n\
         \x20   for file_path, file_info in voice_files.items():\n\
         \x20       expected_hash = file_info[\"md5_digest\"]\n\
         \x20       actual_hash = get_file_hash(file_path)\n\
         \x20       if expected_hash != actual_hash:\n\
         \x20           continue\n\
         \n\
         \n\
         \n\
         \n\
         \n\
         \n\
         \n\
         \n\
         \n\
         \n\
         \n\
         \n\
         \n\
         \x20   for file_path in files_to_download:\n\
         \x20       file_url = URL_FORMAT.format(file=file_path)\n\
         \x20       urlopen(file_url)\n",
    );
    write(
        dir.path(),
        "whisper/__init__.py",
        format!(
            "import hashlib, urllib.request\n\
             _MODELS = {{\n\
             \x20   \"tiny\": \"https://openaipublic.azureedge.net/main/whisper/models/{SHA256}/tiny.pt\",\n\
             }}\n\
             \n\
             def _download(url):\n\
             \x20   expected_sha256 = url.split(\"/\")[-2]\n\
             \x20   if hashlib.sha256(model_bytes).hexdigest() != expected_sha256:\n\
             \x20       raise RuntimeError()\n"
        ),
    );
    write(
        dir.path(),
        "scripts/get_coco_dataset.sh",
        "#!/bin/bash\nwget -c https://pjreddie.com/media/files/train2014.zip\n",
    );
    write(
        dir.path(),
        "TRAINING.md",
        "Checkpoints: https://huggingface.co/datasets/rhasspy/piper-checkpoints/tree/main\n",
    );
    write(
        dir.path(),
        "data/real/test_resnet50/data.json",
        "{\"atol\": 1e-07, \"model_name\": \"resnet50\", \"url\": \"https://s3.amazonaws.com/download.onnx/models/opset_10/resnet50.tar.gz\"}",
    );
    write(
        dir.path(),
        "package.json",
        "{\"name\": \"x\", \"url\": \"https://example.org/docs\"}\n",
    );
    let findings = scan_json(dir.path(), &[]);
    let piper = at_line(&findings, "piper/download.py", 25);
    assert_eq!(piper["verification"], "md5", "{piper}");
    let whisper = fetches(&findings, "whisper/__init__.py");
    assert_eq!(whisper.len(), 1, "{findings:#?}");
    assert_eq!(whisper[0]["verification"], "sha256");
    let coco = at_line(&findings, "scripts/get_coco_dataset.sh", 2);
    assert_eq!(coco["kind"], "dataset", "{coco}");
    assert!(
        fetches(&findings, "TRAINING.md").is_empty(),
        "{findings:#?}"
    );
    let catalogue = at_line(&findings, "data/real/test_resnet50/data.json", 1);
    assert_eq!(
        catalogue["url"],
        "https://s3.amazonaws.com/download.onnx/models/opset_10/resnet50.tar.gz"
    );
    assert_eq!(catalogue["verification"], "none");
    assert!(
        fetches(&findings, "package.json").is_empty(),
        "{findings:#?}"
    );
}

/// A hub call that names nothing known in the file is a library passing its caller's choice
/// along (torchvision's `load_state_dict_from_url(self.url)`), and a lower-case callee with
/// `weights="imagenet"` is a variable or a helper, not a Keras application.
#[test]
fn hub_calls_naming_nothing_and_lower_case_callees_are_not_downloads() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pkg/__init__.py", "");
    write(
        dir.path(),
        "pkg/_api.py",
        "from torch.hub import load_state_dict_from_url\n\
         \n\
         def get_state_dict(self, progress):\n\
         \x20   return load_state_dict_from_url(self.url, progress=progress)\n\
         \n\
         def build(app):\n\
         \x20   return app(weights='imagenet')\n",
    );
    let findings = scan_json(dir.path(), &[]);
    assert!(
        fetches(&findings, "pkg/_api.py").is_empty(),
        "{findings:#?}"
    );
}
