//! `dh-mlmodel census` on a fixture mirror (no network): candidates from the Contents index
//! with their reasons, fetch and check into results.jsonl, resuming, summary.json, the HTML
//! report parsed with an HTML5 parser and its SVG charts with an XML parser, shards merged,
//! and the GNU parallel job definition.
//!
//! The mirror is what a Debian mirror holds: `pool/` with packages built by the real
//! `dpkg-deb -b --root-owner-group`, and `dists/<suite>/` with `main/binary-amd64/Packages`,
//! `main/Contents-amd64` and a `Release` listing them, written by `apt-ftparchive` (apt-utils),
//! the archive tool of the Debian repository format.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::fixtures;
use crate::support::{dh_mlmodel, write};

/// Builds `name` (version 1.0-1) from `files` into `pool`, with `postinst` when given.
fn build_deb(
    pool: &Path,
    name: &str,
    architecture: &str,
    files: &[(&str, Vec<u8>)],
    postinst: Option<&str>,
) {
    let root = tempfile::tempdir().unwrap();
    // Installed-Size as dpkg-gencontrol computes it (KiB, each file rounded up); dpkg-deb
    // writes none of its own.
    let installed: usize = files
        .iter()
        .map(|(_, bytes)| bytes.len().div_ceil(1024))
        .sum();
    write(
        root.path(),
        "DEBIAN/control",
        format!(
            "Package: {name}\nVersion: 1.0-1\nArchitecture: {architecture}\n\
             Maintainer: Test <test@example.org>\nSection: science\nInstalled-Size: {installed}\n\
             Description: census fixture\n a package of the census tests' mirror\n"
        ),
    );
    for (path, bytes) in files {
        write(root.path(), path, bytes);
    }
    if let Some(text) = postinst {
        use std::os::unix::fs::PermissionsExt;
        let path = root.path().join("DEBIAN/postinst");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let deb = pool.join(format!("{name}_1.0-1_{architecture}.deb"));
    let output = Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zxz", "-b"])
        .arg(root.path())
        .arg(&deb)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
}

/// `apt-ftparchive SUBCOMMAND ARGS…` run in `dir`, its output written to `dir/into`.
fn ftparchive(dir: &Path, args: &[&str], into: &str) {
    let output = Command::new("apt-ftparchive")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("apt-ftparchive (apt-utils; scripts/setup installs it)");
    assert!(output.status.success(), "{output:?}");
    write(dir, into, output.stdout);
}

/// A digest of provenance.json's shape as `dh_mlmodel` writes it (src/debhelper/weights.rs).
fn provenance(path: &str, bytes: &[u8]) -> String {
    format!(
        "{{\"package\": \"tess-lang\", \"source\": \"tess\", \"version\": \"1.0-1\", \
         \"model\": \"lang\", \"license\": \"Apache-2.0\", \"origin\": \"archive\", \
         \"built_by\": \"dh-mlmodel 0.1.0\", \"files\": [{{\"path\": \"{path}\", \
         \"sha256\": \"{}\", \"size\": {}, \"from\": \"x\", \"matches_pin\": true}}]}}",
        dh_mlmodel::hash::sha256_bytes(bytes),
        bytes.len()
    )
}

/// The fixture mirror: five packages, three of them candidates (a weights file under
/// `models/`, a tessdata file, a data package of large files), two not (a program, Python
/// code under a `models/` directory).
fn mirror() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pool = dir.path().join("pool/main");
    std::fs::create_dir_all(&pool).unwrap();
    build_deb(
        &pool,
        "onnx-models",
        "all",
        // No extension: the directory chooses it, the check finds ONNX by content.
        &[("usr/share/onnx-models/models/net", fixtures::onnx())],
        Some(
            "#!/bin/sh\nset -e\nwget -O /var/lib/onnx-models/big.onnx https://example.org/big.onnx\n",
        ),
    );
    let tessdata = fixtures::traineddata();
    let tess_path = "usr/share/tesseract-ocr/5/tessdata/xyz.traineddata";
    build_deb(
        &pool,
        "tess-lang",
        "all",
        &[
            (tess_path, tessdata.clone()),
            (
                "usr/share/doc/tess-lang/provenance.json",
                provenance(&format!("/{tess_path}"), &tessdata).into_bytes(),
            ),
        ],
        None,
    );
    // 1.3 MB of noise: over data-package-mean-file-bytes (1 MiB), of no known format.
    build_deb(
        &pool,
        "chess-nets-data",
        "all",
        &[("usr/share/chess-nets/book", fixtures::noise(1_300_000, 7))],
        None,
    );
    build_deb(
        &pool,
        "plain-tool",
        "amd64",
        &[("usr/bin/plain-tool", b"#!/bin/sh\necho hi\n".to_vec())],
        None,
    );
    build_deb(
        &pool,
        "webapp",
        "all",
        &[(
            "usr/lib/python3/dist-packages/webapp/models/user.py",
            b"class User:\n    pass\n".to_vec(),
        )],
        None,
    );
    let top = dir.path();
    ftparchive(
        top,
        &["packages", "pool/main"],
        "dists/bookworm/main/binary-amd64/Packages",
    );
    ftparchive(
        top,
        &["contents", "pool/main"],
        "dists/bookworm/main/Contents-amd64",
    );
    ftparchive(
        &top.join("dists/bookworm"),
        &[
            "-o",
            "APT::FTPArchive::Release::Suite=bookworm",
            "-o",
            "APT::FTPArchive::Release::Codename=bookworm",
            "-o",
            "APT::FTPArchive::Release::Components=main",
            "-o",
            "APT::FTPArchive::Release::Architectures=amd64",
            "release",
            ".",
        ],
        "Release.new",
    );
    let release = top.join("dists/bookworm");
    std::fs::rename(release.join("Release.new"), release.join("Release")).unwrap();
    dir
}

/// Runs `dh-mlmodel census` on `mirror` into `out`: exit code, stdout, stderr.
fn census(mirror: &Path, out: &Path, extra: &[&str]) -> (i32, String, String) {
    let output = dh_mlmodel()
        .arg("census")
        .arg("--mirror")
        .arg(mirror)
        .arg("--out")
        .arg(out)
        .args(["--jobs", "2"])
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn results(out: &Path) -> BTreeMap<String, Value> {
    std::fs::read_to_string(out.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap();
            (value["package"].as_str().unwrap().to_string(), value)
        })
        .collect()
}

fn summary(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

/// The summary without the fields it lists as volatile.
fn stable(mut summary: Value) -> Value {
    let volatile: Vec<String> = summary["volatile"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    for field in volatile {
        summary.as_object_mut().unwrap().remove(&field);
    }
    summary
}

#[test]
fn candidates_are_chosen_from_contents_with_their_reasons_and_checked() {
    let mirror = mirror();
    let out = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = census(mirror.path(), out.path(), &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    // Standard output is the candidate list alone (apt-get update's lines go to standard
    // error); the .deb sizes depend on xz, so they are left out.
    let listing: Vec<String> = stdout.lines().map(without_size).collect();
    assert_eq!(
        listing,
        [
            "3 candidates of 5 packages",
            "chess-nets-data 1.0-1 (main): data package: 1 files of 1.3 MB on average",
            "onnx-models 1.0-1 (main): directory models/: usr/share/onnx-models/models/net",
            "tess-lang 1.0-1 (main): extension .traineddata: \
             usr/share/tesseract-ocr/5/tessdata/xyz.traineddata",
        ]
    );
    let results = results(out.path());
    assert_eq!(
        results.keys().collect::<Vec<_>>(),
        ["chess-nets-data", "onnx-models", "tess-lang"]
    );
    let onnx = &results["onnx-models"];
    assert_eq!(onnx["area"], "main");
    assert_eq!(onnx["findings"]["weights"]["onnx"]["files"], 1);
    assert_eq!(onnx["download_checksums"]["none"], 1);
    assert_eq!(onnx["provenance"], false);
    assert_eq!(onnx["tags"]["model-weights-without-provenance"], 1);
    assert_eq!(onnx["tags"]["model-installer-downloads-outside-contrib"], 1);
    assert!(onnx["deb_size"].as_u64().unwrap() > 0);
    assert!(onnx["timings"]["check_seconds"].as_f64().unwrap() >= 0.0);
    let tess = &results["tess-lang"];
    assert_eq!(tess["provenance"], true);
    assert!(tess["findings"]["weights"].as_object().unwrap().len() == 1);
    assert_eq!(tess["model_bytes"], fixtures::traineddata().len() as u64);
    let chess = &results["chess-nets-data"];
    assert!(chess["findings"].get("weights").is_none(), "{chess}");
    assert_eq!(chess["findings"]["blob"]["unknown"]["files"], 1);
    // Without --keep the .deb files are gone.
    let cache = out.path().join("cache");
    let left: Vec<_> = walk_debs(&cache);
    assert!(left.is_empty(), "{left:?}");

    let summary = summary(out.path());
    assert_eq!(summary["packages_in_indexes"], 5);
    assert_eq!(summary["candidates"], 3);
    assert_eq!(summary["checked"], 3);
    assert_eq!(summary["with_weights"], 2);
    assert_eq!(summary["by_format"]["onnx"]["packages"], 1);
    assert_eq!(summary["provenance"]["present"], 1);
    assert_eq!(summary["provenance"]["absent"], 1);
    assert_eq!(summary["download_checksums"]["none"], 1);
    assert_eq!(summary["by_area"]["main"]["with_weights"], 2);
    assert_eq!(summary["top_by_model_size"][0]["package"], "tess-lang");
    assert_eq!(
        summary["volatile"],
        serde_json::json!(["generated", "timings"])
    );
}

/// A candidate line without its `.deb` size: `pkg v (main, 1.2 kB): …` → `pkg v (main): …`.
fn without_size(line: &str) -> String {
    match (line.find(", "), line.find("): ")) {
        (Some(from), Some(to)) if from < to => format!("{}{}", &line[..from], &line[to..]),
        _ => line.to_string(),
    }
}

fn walk_debs(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .collect()
}

#[test]
fn a_census_resumes_from_results_jsonl_and_redoes_a_line_cut_short() {
    let mirror = mirror();
    let out = tempfile::tempdir().unwrap();
    let (code, _, stderr) = census(mirror.path(), out.path(), &["--keep"]);
    assert_eq!(code, 0, "{stderr}");
    // --keep leaves the .deb files in the cache.
    assert_eq!(walk_debs(&out.path().join("cache")).len(), 3);
    let first = std::fs::read_to_string(out.path().join("results.jsonl")).unwrap();

    let (code, _, stderr) = census(mirror.path(), out.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("3 packages already in results.jsonl, skipped"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(out.path().join("results.jsonl")).unwrap(),
        first,
        "nothing is checked twice"
    );

    // A census killed while writing its last line: that package is checked again, on a line
    // of its own.
    let cut = first.len() - first.lines().last().unwrap().len() / 2 - 1;
    std::fs::write(out.path().join("results.jsonl"), &first[..cut]).unwrap();
    let (code, _, stderr) = census(mirror.path(), out.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("2 packages already in results.jsonl, skipped"),
        "{stderr}"
    );
    assert_eq!(results(out.path()).len(), 3);
    assert_eq!(
        std::fs::read_to_string(out.path().join("results.jsonl"))
            .unwrap()
            .lines()
            .count(),
        3
    );
}

#[test]
fn shards_merged_give_the_summary_of_one_run() {
    let mirror = mirror();
    let whole = tempfile::tempdir().unwrap();
    let (code, _, stderr) = census(mirror.path(), whole.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let shards = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    let mut counted = 0;
    for k in 1..=3 {
        let dir = shards.path().join(format!("shard-{k}"));
        let (code, stdout, stderr) = census(mirror.path(), &dir, &["--shard", &format!("{k}/3")]);
        assert_eq!(code, 0, "{stderr}");
        counted += results(&dir).len();
        assert!(stdout.contains(&format!("shard {k}/3")), "{stdout}");
        dirs.push(dir);
    }
    assert_eq!(counted, 3, "every candidate in exactly one shard");
    let merged = shards.path().join("merged");
    let output = dh_mlmodel()
        .args(["census", "merge", "--out"])
        .arg(&merged)
        .args(&dirs)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stable(summary(&merged)), stable(summary(whole.path())));
    assert_eq!(
        results(&merged).keys().collect::<Vec<_>>(),
        results(whole.path()).keys().collect::<Vec<_>>()
    );

    // The same shard twice is refused, naming it.
    let output = dh_mlmodel()
        .args(["census", "merge", "--out"])
        .arg(&merged)
        .args([&dirs[0], &dirs[0]])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("shard 1/3 is given twice"),
        "{output:?}"
    );
}

#[test]
fn limit_takes_the_same_slice_whatever_the_shards() {
    let mirror = mirror();
    let whole = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = census(mirror.path(), whole.path(), &["--limit", "2"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("2 candidates of 5 packages (3 chosen by the rules; --limit 2)"),
        "{stdout}"
    );
    let mut union: Vec<String> = Vec::new();
    for k in 1..=2 {
        let dir = whole.path().join(format!("s{k}"));
        let (code, _, stderr) = census(
            mirror.path(),
            &dir,
            &["--limit", "2", "--shard", &format!("{k}/2")],
        );
        assert_eq!(code, 0, "{stderr}");
        union.extend(results(&dir).into_keys());
    }
    union.sort();
    assert_eq!(union, results(whole.path()).into_keys().collect::<Vec<_>>());
}

#[test]
fn the_gnu_parallel_job_definition_runs_shards_and_merges_them() {
    let mirror = mirror();
    let whole = tempfile::tempdir().unwrap();
    let (code, _, stderr) = census(mirror.path(), whole.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let out = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/census/parallel.sh");
    let output = Command::new("sh")
        .arg(&script)
        .arg(out.path())
        .arg("4")
        .arg("--mirror")
        .arg(mirror.path())
        .args(["--jobs", "1"])
        .env("DH_MLMODEL", assert_cmd::cargo::cargo_bin!("dh-mlmodel"))
        .output()
        .expect("sh");
    assert!(output.status.success(), "{output:?}");
    for k in 1..=4 {
        assert!(out.path().join(format!("shard-{k}/census.json")).exists());
    }
    // parallel's job log: one line per shard, each exit value 0.
    let log = std::fs::read_to_string(out.path().join("parallel.log")).unwrap();
    assert_eq!(log.lines().skip(1).count(), 4, "{log}");
    assert_eq!(stable(summary(out.path())), stable(summary(whole.path())));
}

/// What report.html shows, read back with Debian's html5lib (a conforming HTML5 parser, in
/// strict mode: a parse error fails) and each inline SVG with Python's XML parser: the
/// overview figures (`data-field`) and every chart's bars (`data-label` → `data-value`).
const READ_REPORT: &str = r#"
import json, re, sys, html5lib
import xml.etree.ElementTree as ET
text = open(sys.argv[1], encoding="utf-8").read()
html5lib.HTMLParser(strict=True).parse(text)
doc = html5lib.parse(text, namespaceHTMLElements=False)
fields = {td.get("data-field"): td.get("data-value") or td.text
          for td in doc.iter("td") if td.get("data-field")}
charts = {}
for raw in re.findall(r"<svg\b.*?</svg>", text, re.S):
    svg = ET.fromstring(raw)
    bars = {g.get("data-label"): int(g.get("data-value"))
            for g in svg.iter("{http://www.w3.org/2000/svg}g")}
    charts[svg.get("data-field")] = bars
print(json.dumps({"fields": fields, "charts": charts}))
"#;

#[test]
fn the_report_is_valid_html_whose_svg_charts_show_the_summarys_figures() {
    let mirror = mirror();
    let out = tempfile::tempdir().unwrap();
    let (code, _, stderr) = census(mirror.path(), out.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let output = Command::new("/usr/bin/python3")
        .args(["-c", READ_REPORT])
        .arg(out.path().join("report.html"))
        .output()
        .expect("Debian's python3 with python3-html5lib (scripts/setup installs it)");
    assert!(output.status.success(), "{output:?}");
    let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
    let summary = summary(out.path());
    let fields = &shown["fields"];
    for field in [
        "packages_in_indexes",
        "candidates",
        "checked",
        "with_weights",
        "unreadable",
    ] {
        assert_eq!(
            fields[field].as_str().unwrap(),
            summary[field].to_string(),
            "{field}"
        );
    }
    assert_eq!(
        fields["bytes.models"].as_str().unwrap(),
        summary["bytes"]["models"].to_string()
    );
    let charts = &shown["charts"];
    let by = |chart: &str, key: &str| -> BTreeMap<String, u64> {
        summary[chart]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    if key.is_empty() {
                        v.as_u64().unwrap()
                    } else {
                        v[key].as_u64().unwrap()
                    },
                )
            })
            .collect()
    };
    let bars = |chart: &str| -> BTreeMap<String, u64> {
        serde_json::from_value(charts[chart].clone()).unwrap()
    };
    assert_eq!(bars("by_format"), by("by_format", "packages"));
    assert_eq!(bars("by_area"), by("by_area", "with_weights"));
    assert_eq!(bars("categories"), by("categories", ""));
    assert_eq!(bars("download_checksums"), by("download_checksums", ""));
    assert_eq!(
        bars("provenance"),
        BTreeMap::from([
            (
                "present".to_string(),
                summary["provenance"]["present"].as_u64().unwrap()
            ),
            (
                "absent".to_string(),
                summary["provenance"]["absent"].as_u64().unwrap()
            ),
        ])
    );
    let top: BTreeMap<String, u64> = summary["top_by_model_size"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["package"].as_str().unwrap().to_string(),
                t["model_bytes"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(bars("top_by_model_size"), top);
    assert_eq!(bars("by_format").len(), 2, "onnx and tesseract's format");
}

#[test]
fn bad_usage_is_named() {
    let out = tempfile::tempdir().unwrap();
    let output = dh_mlmodel()
        .args(["census", "--shard", "5/4", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("expected K/N with 1 ≤ K ≤ N"),
        "{output:?}"
    );
    let output = dh_mlmodel()
        .args(["census", "--mirror"])
        .arg(out.path())
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no dists/ directory there"));
    let output = dh_mlmodel()
        .args(["census", "merge", "--out"])
        .arg(out.path().join("m"))
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("is ")
            && String::from_utf8_lossy(&output.stderr).contains("the --out directory of a census?"),
        "{output:?}"
    );
}
