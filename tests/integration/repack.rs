//! `dh-mlmodel repack`: the orig tarball without the `Files-Excluded` paths and everything
//! else byte-identical, reproducible (runs, `--jobs`, input order and compression), refusal
//! of every unsafe member kind, components from `--from` and from a loopback download.
//!
//! Upstream tarballs are written with the `tar` crate's `Builder` (GNU format, the upstream
//! writer code) or, for members no well-behaved writer produces, header by header after
//! POSIX.1-2001 "ustar Interchange Format" (`raw_tar`).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::http_server::Server;
use crate::support::{dh_mlmodel, write};

/// The latest changelog date (2026-03-02 10:00 UTC), which mtimes are clamped to.
const CHANGELOG_EPOCH: u64 = 1_772_445_600;

/// A source tree with debian/changelog (`pkg 1.0+ds-1`) and a copyright file whose header
/// has `excluded` as Files-Excluded.
fn source_tree(excluded: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "debian/changelog",
        "pkg (1.0+ds-1) unstable; urgency=medium\n\n  * Initial release.\n\n \
         -- A Maintainer <a@example.org>  Mon, 02 Mar 2026 10:00:00 +0000\n",
    );
    write(
        dir.path(),
        "debian/copyright",
        format!(
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
             Upstream-Name: pkg\nFiles-Excluded:{excluded}\n\nFiles: *\nCopyright: 2026 Upstream\n\
             License: MIT\n"
        ),
    );
    dir
}

/// One member of an upstream tarball.
#[derive(Clone)]
struct Upstream {
    name: String,
    kind: u8,
    mode: u32,
    mtime: u64,
    data: Vec<u8>,
    link: String,
}

fn file(name: &str, mode: u32, data: impl AsRef<[u8]>) -> Upstream {
    Upstream {
        name: name.to_string(),
        kind: b'0',
        mode,
        mtime: 1_600_000_000,
        data: data.as_ref().to_vec(),
        link: String::new(),
    }
}

fn dir(name: &str) -> Upstream {
    Upstream {
        kind: b'5',
        ..file(name, 0o775, b"")
    }
}

fn link(name: &str, kind: u8, target: &str) -> Upstream {
    Upstream {
        kind,
        link: target.to_string(),
        ..file(name, 0o777, b"")
    }
}

/// A typical upstream: code, a long path (GNU long name in, pax out), an executable script, a
/// symlink within the tree, future mtimes, and weights to exclude.
fn typical_members() -> Vec<Upstream> {
    let mut noise = 0x2545_f491_u32;
    let weights: Vec<u8> = (0..300_000)
        .map(|_| {
            noise ^= noise << 13;
            noise ^= noise >> 17;
            noise ^= noise << 5;
            noise as u8
        })
        .collect();
    // No `/` splits it into ustar's prefix (155) and name (100): a pax `path` record.
    let long = format!(
        "pkg-1.0/src/{}/{}.c",
        "nested-directory-name".repeat(6),
        "long-file-name".repeat(8)
    );
    vec![
        dir("pkg-1.0/"),
        file("pkg-1.0/README.md", 0o664, "# pkg\n"),
        dir("pkg-1.0/models/"),
        file("pkg-1.0/models/net.onnx", 0o600, &weights),
        file("pkg-1.0/models/LICENSE", 0o644, "CC-BY-4.0\n"),
        dir("pkg-1.0/src/"),
        file(&long, 0o644, "int deep;\n"),
        file(
            "pkg-1.0/src/main.c",
            0o600,
            "int main(void) { return 0; }\n",
        ),
        Upstream {
            mtime: 4_000_000_000,
            ..file("pkg-1.0/src/run.sh", 0o775, "#!/bin/sh\necho run\n")
        },
        link("pkg-1.0/src/current", b'2', "main.c"),
        dir("pkg-1.0/weights/"),
        file("pkg-1.0/weights/big.bin", 0o644, &weights[..100_000]),
    ]
}

/// A tar of `members` in the given order, written by the `tar` crate (GNU headers, long
/// names as `././@LongLink`).
fn gnu_tar(members: &[Upstream]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for member in members {
        let mut header = tar::Header::new_gnu();
        header.set_mode(member.mode);
        header.set_mtime(member.mtime);
        header.set_uid(1000);
        header.set_gid(1000);
        header.set_size(member.data.len() as u64);
        header.set_entry_type(tar::EntryType::new(member.kind));
        if member.kind == b'2' || member.kind == b'1' {
            builder
                .append_link(&mut header, &member.name, &member.link)
                .unwrap();
        } else {
            builder
                .append_data(&mut header, &member.name, member.data.as_slice())
                .unwrap();
        }
    }
    builder.into_inner().unwrap()
}

/// A ustar archive written header by header (POSIX.1-2001 ustar: name 0..100, mode, uid, gid,
/// size, mtime, checksum at 148 as six octal digits, NUL, space; typeflag at 156; linkname;
/// `ustar\0` `00`), so names and types no careful writer allows can be tested.
fn raw_tar(members: &[Upstream]) -> Vec<u8> {
    let mut out = Vec::new();
    for member in members {
        let mut block = [0u8; 512];
        let mut put = |at: usize, bytes: &[u8]| block[at..at + bytes.len()].copy_from_slice(bytes);
        put(0, member.name.as_bytes());
        put(100, format!("{:07o}\0", member.mode).as_bytes());
        put(108, b"0001750\0");
        put(116, b"0001750\0");
        put(124, format!("{:011o}\0", member.data.len()).as_bytes());
        put(136, format!("{:011o}\0", member.mtime).as_bytes());
        put(148, b"        ");
        put(156, &[member.kind]);
        put(157, member.link.as_bytes());
        put(257, b"ustar\x0000");
        let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
        block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&block);
        out.extend_from_slice(&member.data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// What a member of a written tarball is: type, mode, owner, mtime, link and content digest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    kind: u8,
    mode: u32,
    owner: (u64, u64, String, String),
    mtime: u64,
    link: String,
    sha256: String,
}

/// The members of a tar stream, in order.
fn list_tar(reader: impl Read) -> Vec<(String, Listed)> {
    let mut archive = tar::Archive::new(reader);
    let mut members = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let header = entry.header().clone();
        let name = String::from_utf8(entry.path_bytes().to_vec()).unwrap();
        let link = entry
            .link_name_bytes()
            .map(|l| String::from_utf8(l.to_vec()).unwrap())
            .unwrap_or_default();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        members.push((
            name,
            Listed {
                kind: header.entry_type().as_byte(),
                mode: header.mode().unwrap(),
                owner: (
                    header.uid().unwrap(),
                    header.gid().unwrap(),
                    header.username().unwrap().unwrap_or_default().to_string(),
                    header.groupname().unwrap().unwrap_or_default().to_string(),
                ),
                mtime: header.mtime().unwrap(),
                link,
                sha256: dh_mlmodel::hash::sha256_bytes(&data),
            },
        ));
    }
    members
}

fn list_xz(path: &Path) -> Vec<(String, Listed)> {
    let file = std::fs::File::open(path).unwrap();
    list_tar(liblzma::read::XzDecoder::new(file))
}

fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 6);
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Runs `dh-mlmodel [global…] repack ARGS…` in `tree`.
fn repack(tree: &Path, global: &[&str], args: &[&str]) -> std::process::Output {
    dh_mlmodel()
        .current_dir(tree)
        .env_remove("SOURCE_DATE_EPOCH")
        .args(global)
        .arg("repack")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every file in `dir`, by name.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Writes `bytes` as the upstream tarball `name` beside the tree and returns its path.
fn upstream_file(tree: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = tree.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn excluded_paths_are_gone_and_every_other_member_is_byte_identical() {
    let tree = source_tree(" models/*.onnx\n weights");
    let members = typical_members();
    let input = upstream_file(tree.path(), "pkg-1.0.tar.xz", &xz(&gnu_tar(&members)));
    let out = tree.path().join("out");
    let output = repack(
        tree.path(),
        &[],
        &[input.to_str().unwrap(), "--output-dir", "out"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    // Something was removed: the suffix the changelog's version carries.
    assert_eq!(files_in(&out), vec!["pkg_1.0+ds.orig.tar.xz"]);
    let written = list_xz(&out.join("pkg_1.0+ds.orig.tar.xz"));
    let names: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
    let long = members[6].name.clone();
    // Sorted component by component; the excluded file and directory are gone.
    assert_eq!(
        names,
        vec![
            "pkg-1.0/",
            "pkg-1.0/README.md",
            "pkg-1.0/models/",
            "pkg-1.0/models/LICENSE",
            "pkg-1.0/src/",
            "pkg-1.0/src/current",
            "pkg-1.0/src/main.c",
            long.as_str(),
            "pkg-1.0/src/run.sh",
        ]
    );
    let original = list_tar(gnu_tar(&members).as_slice());
    let original: BTreeMap<String, Listed> = original
        .into_iter()
        .map(|(n, l)| (n.trim_end_matches('/').to_string(), l))
        .collect();
    for (name, listed) in &written {
        let before = &original[name.trim_end_matches('/')];
        assert_eq!(listed.sha256, before.sha256, "{name}: content changed");
        assert_eq!(listed.link, before.link, "{name}: link changed");
        assert_eq!(listed.owner, (0, 0, "root".into(), "root".into()), "{name}");
        assert!(listed.mtime <= CHANGELOG_EPOCH, "{name}: mtime not clamped");
        let expected_mode = match listed.kind {
            b'5' => 0o755,
            b'2' => 0o777,
            _ if before.mode & 0o111 != 0 => 0o755,
            _ => 0o644,
        };
        assert_eq!(listed.mode, expected_mode, "{name}: mode not normalised");
    }
    // The future mtime is clamped to the changelog date, older ones kept.
    let run = &written
        .iter()
        .find(|(n, _)| n.ends_with("run.sh"))
        .unwrap()
        .1;
    assert_eq!(run.mtime, CHANGELOG_EPOCH);
    let readme = &written
        .iter()
        .find(|(n, _)| n.ends_with("README.md"))
        .unwrap()
        .1;
    assert_eq!(readme.mtime, 1_600_000_000);
    // The long name needs a pax header, the short ones none.
    let raw = {
        let mut bytes = Vec::new();
        liblzma::read::XzDecoder::new(
            std::fs::File::open(out.join("pkg_1.0+ds.orig.tar.xz")).unwrap(),
        )
        .read_to_end(&mut bytes)
        .unwrap();
        bytes
    };
    let pax_headers = raw
        .chunks(512)
        .filter(|block| block[156] == b'x' && block[257..262] == *b"ustar")
        .count();
    assert_eq!(pax_headers, 1);
    assert_eq!(raw.len() % 10240, 0, "padded to GNU tar's record size");
    // GNU tar reads it.
    let listed = std::process::Command::new("tar")
        .arg("-tJf")
        .arg(out.join("pkg_1.0+ds.orig.tar.xz"))
        .output()
        .unwrap();
    assert!(listed.status.success());
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&long));
}

#[test]
fn nothing_removed_means_no_suffix_and_an_unused_pattern_is_a_warning() {
    let tree = source_tree(" docs");
    let input = upstream_file(
        tree.path(),
        "pkg-1.0.tar.gz",
        &gzip(&gnu_tar(&typical_members())),
    );
    let output = repack(
        tree.path(),
        &[],
        &[
            input.to_str().unwrap(),
            "--output-dir",
            "out",
            "--version",
            "1.0",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        files_in(&tree.path().join("out")),
        vec!["pkg_1.0.orig.tar.xz"]
    );
    assert!(
        stderr(&output).contains("`docs` matched no member"),
        "{}",
        stderr(&output)
    );
}

/// A policy directory whose repack.toml is the shipped one but cuts xz blocks at 64 KiB, so a
/// small tarball spans several blocks and threads really share the work.
fn small_blocks_policy(tree: &Path) -> PathBuf {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("policy/repack.toml");
    let shipped = std::fs::read_to_string(shipped).unwrap();
    let line = shipped
        .lines()
        .find(|line| line.starts_with("xz-block-bytes"))
        .unwrap();
    let dir = tree.join("policy");
    write(
        &dir,
        "repack.toml",
        shipped.replace(line, "xz-block-bytes = 65536"),
    );
    dir
}

#[test]
fn output_is_byte_identical_across_runs_jobs_input_order_and_compression() {
    let tree = source_tree(" weights");
    let policy = small_blocks_policy(tree.path());
    let policy = policy.to_str().unwrap();
    let members = typical_members();
    let mut shuffled = members.clone();
    shuffled.reverse();
    // A directory after its contents, as `tar -cf x.tar dir/file dir` writes it.
    let inputs = [
        ("sorted.tar.xz", xz(&gnu_tar(&members))),
        ("shuffled.tar", gnu_tar(&shuffled)),
        ("sorted.tar.gz", gzip(&gnu_tar(&members))),
        (
            "sorted.tar.zst",
            zstd::encode_all(gnu_tar(&members).as_slice(), 3).unwrap(),
        ),
        ("sorted.tar.bz2", {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
            e.write_all(&gnu_tar(&members)).unwrap();
            e.finish().unwrap()
        }),
    ];
    let mut outputs = Vec::new();
    for (run, (name, bytes)) in inputs.iter().enumerate() {
        let input = upstream_file(tree.path(), name, bytes);
        for jobs in ["1", "2"] {
            let out = format!("out-{run}-{jobs}");
            let written = repack_with_jobs(tree.path(), policy, &input, &out, jobs);
            outputs.push((format!("{name} -j{jobs}"), std::fs::read(written).unwrap()));
        }
    }
    // A second run of the first input.
    let input = tree.path().join("sorted.tar.xz");
    let output = repack(
        tree.path(),
        &["--policy", policy],
        &[input.to_str().unwrap(), "--output-dir", "again", "-j", "2"],
    );
    assert!(output.status.success());
    outputs.push((
        "second run".into(),
        std::fs::read(tree.path().join("again/pkg_1.0+ds.orig.tar.xz")).unwrap(),
    ));
    let (first_name, first) = &outputs[0];
    // Several xz blocks: the threaded encoder really split the work.
    let blocks = liblzma_blocks(first);
    assert!(blocks > 1, "only {blocks} xz block");
    for (name, bytes) in &outputs[1..] {
        assert!(bytes == first, "{name} differs from {first_name}");
    }
}

/// The number of blocks in a single-stream xz file, from its index (xz file format 1.1.0,
/// §4: the index ends right before the 12-byte stream footer, whose backward size gives its
/// length; its first byte is 0x00, then the record count as a multibyte integer).
fn liblzma_blocks(xz: &[u8]) -> u64 {
    let footer = &xz[xz.len() - 12..];
    let backward = u32::from_le_bytes(footer[4..8].try_into().unwrap());
    let index_size = (u64::from(backward) + 1) * 4;
    let index = &xz[xz.len() - 12 - index_size as usize..];
    assert_eq!(index[0], 0);
    let (mut count, mut shift) = (0u64, 0);
    for &byte in &index[1..] {
        count |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            break;
        }
    }
    count
}

/// `count` float32 values from a normal distribution (Box-Muller over xorshift64) scaled by
/// 0.05, as a trained layer's weights, in IEEE 754 binary32 little-endian: the bytes numpy's
/// `astype("<f4").tofile` writes, and the benchmark's weights.
fn float32_weights(count: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..count)
        .flat_map(|_| {
            let (u, v) = (uniform(), uniform());
            let normal = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
            ((normal * 0.05) as f32).to_le_bytes()
        })
        .collect()
}

/// The blocks of an xz file as `xz -lvv --robot` lists them (xz(1), "Robot mode"): the
/// uncompressed offset and size, and the LZMA2 settings read back from the block itself.
struct XzBlock {
    uncompressed_offset: u64,
    uncompressed_size: u64,
    /// The filter chain xz prints (the block header's filter flags: LZMA2's dictionary).
    filters: String,
    /// lc, lp, pb from the block's first LZMA2 chunk.
    lclppb: (u8, u8, u8),
}

fn xz_blocks(path: &Path) -> Vec<XzBlock> {
    let bytes = std::fs::read(path).unwrap();
    let output = std::process::Command::new("xz")
        .args(["-lvv", "--robot"])
        .arg(path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|line| line.starts_with("block\t"))
        .map(|line| {
            // block, stream, number in the stream, number in the file, compressed offset,
            // uncompressed offset, compressed size, uncompressed size, ratio, check, then
            // (-vv) check value, header size, flags, size fields, memory; the filter chain
            // last.
            let fields: Vec<&str> = line.split('\t').collect();
            let offset: usize = fields[4].parse().unwrap();
            // xz file format 1.1.0 §3.1.1: the header is (first byte + 1) * 4 bytes. LZMA2
            // (liblzma's lzma2_decoder.c): a first chunk's control byte 0xe0 (dictionary
            // reset, new properties) is followed by two sizes of two bytes and the
            // properties byte (pb * 5 + lp) * 9 + lc.
            let chunk = offset + (usize::from(bytes[offset]) + 1) * 4;
            assert!(bytes[chunk] >= 0xe0, "block at {offset}: no properties");
            let properties = bytes[chunk + 5];
            XzBlock {
                uncompressed_offset: fields[5].parse().unwrap(),
                uncompressed_size: fields[7].parse().unwrap(),
                filters: fields[fields.len() - 1].to_string(),
                lclppb: (properties % 9, properties / 9 % 5, properties / 45),
            }
        })
        .collect()
}

/// Where member `name`'s data lies in a plain tar (POSIX ustar headers of 512 bytes, data
/// padded to 512).
fn member_data_range(tar: &[u8], name: &str) -> std::ops::Range<u64> {
    let mut offset = 0usize;
    while offset + 512 <= tar.len() {
        let header = &tar[offset..offset + 512];
        let end = header[..100].iter().position(|&b| b == 0).unwrap_or(100);
        let size_field = String::from_utf8_lossy(&header[124..136]);
        let size = u64::from_str_radix(size_field.trim_matches(['\0', ' ']), 8).unwrap_or(0);
        let start = offset as u64 + 512;
        if &header[..end] == name.as_bytes() {
            return start..start + size;
        }
        offset = (start + size.div_ceil(512) * 512) as usize;
    }
    panic!("{name} is not in the tar");
}

#[test]
fn text_blocks_get_preset_6_and_float32_blocks_the_numeric_chain() {
    let tree = source_tree(" weights/LICENSE");
    let policy = small_blocks_policy(tree.path());
    let policy = policy.to_str().unwrap();
    let mut members = vec![dir("pkg-1.0/"), dir("pkg-1.0/src/")];
    for i in 0..40 {
        let code: String = (0..60)
            .map(|j| {
                format!(
                    "int f{i}_{j}(int x) {{ return x * {} + {j}; }}\n",
                    i * 7 + j
                )
            })
            .collect();
        members.push(file(&format!("pkg-1.0/src/file{i:02}.c"), 0o644, code));
    }
    members.push(dir("pkg-1.0/weights/"));
    members.push(file("pkg-1.0/weights/LICENSE", 0o644, "MIT\n"));
    members.push(file(
        "pkg-1.0/weights/layer.bin",
        0o644,
        float32_weights(100_000),
    ));
    let input = upstream_file(tree.path(), "pkg-1.0.tar.xz", &xz(&gnu_tar(&members)));
    let mut outputs = Vec::new();
    for jobs in ["1", "2"] {
        let out = format!("out-{jobs}");
        outputs.push(repack_with_jobs(tree.path(), policy, &input, &out, jobs));
    }
    let written = &outputs[0];
    assert!(
        std::fs::read(written).unwrap() == std::fs::read(&outputs[1]).unwrap(),
        "--jobs 1 and --jobs 2 differ"
    );
    // What xz, Python's lzma and tar read back.
    let status = std::process::Command::new("xz")
        .arg("-t")
        .arg(written)
        .status()
        .unwrap();
    assert!(status.success(), "xz -t failed");
    let tar = std::process::Command::new("xz")
        .arg("-dc")
        .arg(written)
        .output()
        .unwrap()
        .stdout;
    let python = std::process::Command::new("python3")
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .args([
            "-c",
            "import hashlib, lzma, sys; \
             print(hashlib.sha256(lzma.open(sys.argv[1]).read()).hexdigest())",
        ])
        .arg(written)
        .output()
        .unwrap();
    assert!(python.status.success(), "{}", stderr(&python));
    let digest = dh_mlmodel::hash::sha256_bytes(&tar);
    assert_eq!(String::from_utf8_lossy(&python.stdout).trim(), digest);
    let listed = std::process::Command::new("tar")
        .arg("-tJf")
        .arg(written)
        .output()
        .unwrap();
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(String::from_utf8_lossy(&listed.stdout).contains("pkg-1.0/weights/layer.bin"));
    // The members, byte for byte (the exclusion took the licence only).
    let digests = |listed: Vec<(String, Listed)>| -> BTreeMap<String, String> {
        listed
            .into_iter()
            .map(|(name, l)| (name.trim_end_matches('/').to_string(), l.sha256))
            .collect()
    };
    let mut expected = digests(list_tar(gnu_tar(&members).as_slice()));
    expected.remove("pkg-1.0/weights/LICENSE");
    assert_eq!(digests(list_xz(written)), expected);

    // Each block's chain, read back from the block: the code's blocks preset 6 (8 MiB
    // dictionary, lc=3 lp=0 pb=2), the weights' blocks the numeric chain (preset 0's 256 KiB,
    // lc=0 lp=2 pb=2).
    let weights = member_data_range(&tar, "pkg-1.0/weights/layer.bin");
    let blocks = xz_blocks(written);
    let (mut text, mut numeric) = (0, 0);
    for block in &blocks {
        let range = block.uncompressed_offset..block.uncompressed_offset + block.uncompressed_size;
        if range.end <= weights.start {
            assert_eq!(block.filters, "--lzma2=dict=8MiB");
            assert_eq!(block.lclppb, (3, 0, 2));
            text += 1;
        } else if range.start >= weights.start && range.end <= weights.end {
            assert_eq!(block.filters, "--lzma2=dict=256KiB");
            assert_eq!(block.lclppb, (0, 2, 2));
            numeric += 1;
        }
    }
    assert!(
        text >= 1 && numeric >= 4,
        "{text} text, {numeric} numeric blocks"
    );
}

#[test]
fn every_unsafe_member_kind_is_refused_with_its_name_and_nothing_is_written() {
    let top = dir("pkg-1.0/");
    let ok = file("pkg-1.0/ok.c", 0o644, "ok\n");
    let cases: Vec<(&str, Vec<Upstream>, &str)> = vec![
        (
            "dot-dot",
            vec![top.clone(), file("pkg-1.0/../../evil", 0o644, "x")],
            "`..` component",
        ),
        (
            "absolute",
            vec![top.clone(), file("/etc/evil", 0o644, "x")],
            "absolute name",
        ),
        (
            "symlink out",
            vec![
                top.clone(),
                link("pkg-1.0/escape", b'2', "../../etc/passwd"),
            ],
            "points out of the tree",
        ),
        (
            "absolute symlink",
            vec![top.clone(), link("pkg-1.0/abs", b'2', "/etc/passwd")],
            "absolute path",
        ),
        (
            "hard link out",
            vec![top.clone(), link("pkg-1.0/hard", b'1', "/etc/shadow")],
            "outside the tree",
        ),
        (
            "hard link to nothing",
            vec![top.clone(), link("pkg-1.0/hard", b'1', "pkg-1.0/missing")],
            "not a member kept before it",
        ),
        (
            "character device",
            vec![
                top.clone(),
                Upstream {
                    kind: b'3',
                    ..file("pkg-1.0/tty", 0o644, "")
                },
            ],
            "character device",
        ),
        (
            "block device",
            vec![
                top.clone(),
                Upstream {
                    kind: b'4',
                    ..file("pkg-1.0/sda", 0o644, "")
                },
            ],
            "block device",
        ),
        (
            "fifo",
            vec![
                top.clone(),
                Upstream {
                    kind: b'6',
                    ..file("pkg-1.0/pipe", 0o644, "")
                },
            ],
            "FIFO",
        ),
        (
            "duplicate",
            vec![
                top.clone(),
                ok.clone(),
                file("pkg-1.0/ok.c", 0o644, "other\n"),
            ],
            "appears twice",
        ),
    ];
    for (what, members, why) in cases {
        let tree = source_tree("");
        let input = upstream_file(tree.path(), "pkg-1.0.tar", &raw_tar(&members));
        let output = repack(
            tree.path(),
            &[],
            &[input.to_str().unwrap(), "--output-dir", "out"],
        );
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{what}: {message}");
        let culprit = &members.last().unwrap().name;
        assert!(
            message.contains(&format!("member `{culprit}`")),
            "{what}: {message}"
        );
        assert!(message.contains(why), "{what}: {message}");
        assert_eq!(
            files_in(&tree.path().join("out")),
            Vec::<String>::new(),
            "{what}"
        );
    }
}

#[test]
fn a_decompression_bomb_is_stopped_by_the_archive_caps() {
    let tree = source_tree("");
    // 20 MiB of zeros in a gzip stream: past the 16 MiB grace, a ratio near 1000:1.
    let members = vec![
        dir("pkg-1.0/"),
        file("pkg-1.0/zeros", 0o644, vec![0u8; 20 << 20]),
    ];
    let input = upstream_file(tree.path(), "bomb.tar.gz", &gzip(&raw_tar(&members)));
    let output = repack(
        tree.path(),
        &[],
        &[input.to_str().unwrap(), "--output-dir", "out"],
    );
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("pkg-1.0/zeros"), "{message}");
    assert!(message.contains("max-ratio"), "{message}");
    assert_eq!(files_in(&tree.path().join("out")), Vec::<String>::new());
}

#[test]
fn a_zip_upstream_gives_the_same_members() {
    let tree = source_tree(" models");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    // Central directory order not sorted.
    for (name, data) in [
        ("pkg-1.0/src/main.c", "int main(void) { return 0; }\n"),
        ("pkg-1.0/models/net.onnx", "weights"),
        ("pkg-1.0/README.md", "# pkg\n"),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(data.as_bytes()).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    let input = upstream_file(tree.path(), "pkg-1.0.zip", &bytes);
    let output = repack(
        tree.path(),
        &[],
        &[input.to_str().unwrap(), "--output-dir", "out"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let written = list_xz(&tree.path().join("out/pkg_1.0+ds.orig.tar.xz"));
    let names: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["pkg-1.0/README.md", "pkg-1.0/src/main.c"]);
    assert_eq!(
        written[1].1.sha256,
        dh_mlmodel::hash::sha256_bytes(b"int main(void) { return 0; }\n")
    );
}

/// What makes the model free: a training program and free, public data.
const FREE_TRAINING: &str = "\n[model.training]\nprogram = [\"train.py\"]\n\
    command = \"python3 train.py --data {data} --out {out}\"\noutputs = [\"net.safetensors\"]\n\n\
    [[model.training.data]]\nname = \"corpus\"\nlicense = \"CC-BY-4.0\"\n\
    url = \"https://example.org/corpus.tar.xz\"\npublic = true\n";

/// A manifest with the free model `net` whose `[model.download]` pins `weights` at `url`.
fn manifest_with_download(tree: &Path, url: &str, weights: &[u8]) {
    let digest = dh_mlmodel::hash::sha256_bytes(weights);
    write(
        tree,
        "debian/mlmodel.toml",
        format!(
            "[[model]]\nname = \"net\"\nfiles = [\"models/net.safetensors\"]\n\
             format = \"safetensors\"\nlicense = \"Apache-2.0\"\n\n[model.pins]\n\
             \"models/net.safetensors\" = {{ sha256 = \"{digest}\", size = {size} }}\n\n\
             [model.download]\nurl = \"{url}\"\nsha256 = \"{digest}\"\nsize = {size}\n\
             allow-http = true\n{FREE_TRAINING}",
            size = weights.len()
        ),
    );
    write(
        tree,
        "debian/watch",
        "version=4\nopts=\"repacksuffix=+ds,dversionmangle=s/\\+(ds|dfsg)\\d*$//\" \\\n  \
         https://example.org/pkg/releases .*/pkg-@ANY_VERSION@@ARCHIVE_EXT@\n",
    );
}

#[test]
fn a_component_from_a_directory_and_from_a_loopback_download() {
    let weights: Vec<u8> = (0..50_000u32)
        .flat_map(|i| (i as f32 * 0.001).to_le_bytes())
        .collect();
    let server = Server::start();
    server.serve("/models/net-1.0.safetensors", &weights);
    let url = server.url("/models/net-1.0.safetensors");

    // --from DIR: the file named as the URL's last component.
    let tree = source_tree(" models");
    manifest_with_download(tree.path(), &url, &weights);
    let input = upstream_file(
        tree.path(),
        "pkg-1.0.tar.xz",
        &xz(&gnu_tar(&typical_members())),
    );
    write(tree.path(), "downloads/net-1.0.safetensors", &weights);
    let output = repack(
        tree.path(),
        &[],
        &[
            input.to_str().unwrap(),
            "--output-dir",
            "out",
            "--component",
            "net",
            "--from",
            "downloads",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        files_in(&tree.path().join("out")),
        vec!["pkg_1.0+ds.orig-net.tar.xz", "pkg_1.0+ds.orig.tar.xz"]
    );
    let component = list_xz(&tree.path().join("out/pkg_1.0+ds.orig-net.tar.xz"));
    let names: Vec<&str> = component.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["net/", "net/net-1.0.safetensors"]);
    assert_eq!(
        component[1].1.sha256,
        dh_mlmodel::hash::sha256_bytes(&weights)
    );
    let from_dir = std::fs::read(tree.path().join("out/pkg_1.0+ds.orig-net.tar.xz")).unwrap();
    // The watch file and gbp.conf name the component.
    let watch = std::fs::read_to_string(tree.path().join("debian/watch")).unwrap();
    assert!(watch.contains("opts=\"component=net\""), "{watch}");
    // uscan refuses repacksuffix with components: the suffix moved to oversionmangle.
    assert!(!watch.contains("repacksuffix"), "{watch}");
    assert!(watch.contains("oversionmangle=s/$/+ds/"), "{watch}");
    let gbp = std::fs::read_to_string(tree.path().join("debian/gbp.conf")).unwrap();
    assert!(gbp.contains("components = ['net']"), "{gbp}");

    // --download: fetched from the loopback server, verified, the same tarball.
    let output = repack(
        tree.path(),
        &[],
        &[
            input.to_str().unwrap(),
            "--output-dir",
            "downloaded",
            "--component",
            "net",
            "--download",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let downloaded =
        std::fs::read(tree.path().join("downloaded/pkg_1.0+ds.orig-net.tar.xz")).unwrap();
    assert!(downloaded == from_dir);
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.path == "/models/net-1.0.safetensors")
    );

    // A file that does not match the pin is refused, and nothing is written.
    write(tree.path(), "bad/net-1.0.safetensors", b"not the weights");
    let output = repack(
        tree.path(),
        &[],
        &[
            input.to_str().unwrap(),
            "--output-dir",
            "bad-out",
            "--component",
            "net",
            "--from",
            "bad",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("pins"), "{}", stderr(&output));
    assert_eq!(files_in(&tree.path().join("bad-out")), Vec::<String>::new());

    // Only a free model's weights may ship in the source package.
    let manifest = std::fs::read_to_string(tree.path().join("debian/mlmodel.toml")).unwrap();
    write(
        tree.path(),
        "debian/mlmodel.toml",
        manifest.replace(FREE_TRAINING, ""),
    );
    let output = repack(
        tree.path(),
        &[],
        &[
            "--output-dir",
            "not-free",
            "--component",
            "net",
            "--from",
            "downloads",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("only a free model"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        files_in(&tree.path().join("not-free")),
        Vec::<String>::new()
    );
}

/// The members of a tarball as (name without trailing `/`, link target, content digest),
/// sorted: what must agree between uscan's output and ours (uscan keeps upstream's order,
/// owners, modes and mtimes).
fn contents(path: &Path) -> Vec<(String, String, String)> {
    let mut members: Vec<(String, String, String)> = list_xz(path)
        .into_iter()
        .map(|(name, listed)| {
            (
                name.trim_end_matches('/').to_string(),
                listed.link,
                listed.sha256,
            )
        })
        .collect();
    members.sort();
    members
}

#[test]
fn uscan_download_current_version_gives_the_same_members_and_digests() {
    let server = Server::start();
    let upstream = xz(&gnu_tar(&typical_members()));
    server.serve("/releases/pkg-1.0.tar.xz", &upstream);
    server.serve(
        "/releases/",
        b"<html><body><a href=\"pkg-1.0.tar.xz\">pkg-1.0.tar.xz</a></body></html>",
    );
    // The component upstream publishes: a tarball of the model directory.
    let weights: Vec<u8> = (0..20_000u32)
        .flat_map(|i| (i as f32).sin().to_le_bytes())
        .collect();
    let component = gzip(&gnu_tar(&[
        dir("net/"),
        file("net/net.safetensors", 0o644, &weights),
        file("net/README", 0o644, "the net model\n"),
    ]));
    server.serve("/models/net-1.0.tar.gz", &component);
    server.serve(
        "/models/",
        b"<html><body><a href=\"net-1.0.tar.gz\">net-1.0.tar.gz</a></body></html>",
    );

    let tree = source_tree(" models/*.onnx\n weights");
    write(tree.path(), "debian/source/format", "3.0 (quilt)\n");
    manifest_with_download(
        tree.path(),
        &server.url("/models/net-1.0.tar.gz"),
        &component,
    );
    let watch = std::fs::read_to_string(tree.path().join("debian/watch"))
        .unwrap()
        .replace(
            "https://example.org/pkg/releases .*/pkg-",
            &format!("{} pkg-", server.url("/releases/")),
        );
    write(tree.path(), "debian/watch", watch);

    // dh-mlmodel repack first: it adds the component line uscan needs.
    let input = upstream_file(tree.path(), "pkg-1.0.tar.xz", &upstream);
    let output = repack(
        tree.path(),
        &[],
        &[
            input.to_str().unwrap(),
            "--output-dir",
            "ours",
            "--component",
            "net",
            "--download",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));

    std::fs::create_dir(tree.path().join("theirs")).unwrap();
    let uscan = std::process::Command::new("uscan")
        .current_dir(tree.path())
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        // --no-conf must come first; a separate --destdir value is not accepted.
        .args([
            "--no-conf",
            "--download-current-version",
            "--destdir=theirs",
        ])
        .output()
        .expect("uscan (devscripts) is installed");
    let log = String::from_utf8_lossy(&uscan.stdout).into_owned() + &stderr(&uscan);
    assert!(uscan.status.success(), "{log}");
    for name in ["pkg_1.0+ds.orig.tar.xz", "pkg_1.0+ds.orig-net.tar.xz"] {
        let theirs = tree.path().join("theirs").join(name);
        assert!(theirs.exists(), "uscan wrote no {name}: {log}");
        assert_eq!(
            contents(&tree.path().join("ours").join(name)),
            contents(&theirs),
            "{name}"
        );
    }
}

#[test]
fn a_directory_gives_the_same_tarball_as_gnu_tar_of_it() {
    let tree = source_tree(" models");
    let top = tree.path().join("release/pkg-1.0");
    write(&top, "README.md", "# pkg\n");
    write(&top, "models/net.onnx", "weights");
    write(&top, "src/main.c", "int main(void) { return 0; }\n");
    write(&top, "src/a-b.c", "int a_b;\n");
    write(&top, "src/a/b.c", "int b;\n");
    let tarball = tree.path().join("pkg-1.0.tar.gz");
    let status = std::process::Command::new("tar")
        .args(["--sort=name", "-czf"])
        .arg(&tarball)
        .arg("-C")
        .arg(tree.path().join("release"))
        .arg("pkg-1.0")
        .status()
        .unwrap();
    assert!(status.success());
    let mut written = Vec::new();
    for (input, out) in [
        (top.to_str().unwrap(), "from-dir"),
        (tarball.to_str().unwrap(), "from-tar"),
    ] {
        let output = repack(tree.path(), &[], &[input, "--output-dir", out]);
        assert!(output.status.success(), "{}", stderr(&output));
        written.push(std::fs::read(tree.path().join(out).join("pkg_1.0+ds.orig.tar.xz")).unwrap());
    }
    assert!(
        written[0] == written[1],
        "a directory and GNU tar --sort=name of it differ"
    );
}

#[test]
fn files_excluded_outside_a_machine_readable_copyright_is_an_error() {
    let tree = source_tree(" models");
    let copyright = std::fs::read_to_string(tree.path().join("debian/copyright")).unwrap();
    let without_format = copyright.lines().skip(1).collect::<Vec<_>>().join("\n");
    write(tree.path(), "debian/copyright", without_format);
    let input = upstream_file(
        tree.path(),
        "pkg-1.0.tar.xz",
        &xz(&gnu_tar(&typical_members())),
    );
    let output = repack(
        tree.path(),
        &[],
        &[input.to_str().unwrap(), "--output-dir", "out"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("Format"), "{}", stderr(&output));
    assert_eq!(files_in(&tree.path().join("out")), Vec::<String>::new());
}

#[test]
fn files_excluded_patterns_remove_what_mk_origtargz_removes() {
    let patterns = " *.bin\n doc\n w?.pt\n star\\*name\n models\n src/*/deep.c";
    let tree = source_tree(patterns);
    // Without it mk-origtargz falls back to gzip.
    write(tree.path(), "debian/source/format", "3.0 (quilt)\n");
    let members = vec![
        dir("pkg-1.0/"),
        file("pkg-1.0/a.bin", 0o644, "a"),
        dir("pkg-1.0/doc/"),
        file("pkg-1.0/doc/x", 0o644, "x"),
        dir("pkg-1.0/docs/"),
        file("pkg-1.0/docs/y", 0o644, "y"),
        dir("pkg-1.0/models/"),
        file("pkg-1.0/models/drop", 0o644, "d"),
        dir("pkg-1.0/src/"),
        dir("pkg-1.0/src/a/"),
        dir("pkg-1.0/src/a/b/"),
        file("pkg-1.0/src/a/b/deep.c", 0o644, "deep"),
        file("pkg-1.0/src/deep.c", 0o644, "shallow"),
        dir("pkg-1.0/src/models/"),
        file("pkg-1.0/src/models/keep.c", 0o644, "k"),
        file("pkg-1.0/src/sub.bin", 0o644, "s"),
        file("pkg-1.0/star*name", 0o644, "*"),
        file("pkg-1.0/starXname", 0o644, "X"),
        file("pkg-1.0/w1.pt", 0o644, "1"),
        file("pkg-1.0/w12.pt", 0o644, "12"),
    ];
    let input = upstream_file(tree.path(), "pkg-1.0.tar.xz", &xz(&gnu_tar(&members)));
    let output = repack(
        tree.path(),
        &[],
        &[input.to_str().unwrap(), "--output-dir", "ours"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    std::fs::create_dir(tree.path().join("theirs")).unwrap();
    let mk = std::process::Command::new("mk-origtargz")
        .current_dir(tree.path())
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .args([
            "--package",
            "pkg",
            "--version",
            "1.0",
            "--repack-suffix",
            "+ds",
            "--copy",
        ])
        .args(["--compression", "xz", "--directory", "theirs"])
        .args(["--copyright-file", "debian/copyright"])
        .arg(&input)
        .output()
        .expect("mk-origtargz (devscripts) is installed");
    let log = String::from_utf8_lossy(&mk.stdout).into_owned() + &stderr(&mk);
    assert!(mk.status.success(), "{log}");
    assert_eq!(
        files_in(&tree.path().join("theirs")),
        vec!["pkg_1.0+ds.orig.tar.xz"],
        "{log}"
    );
    let ours = contents(&tree.path().join("ours/pkg_1.0+ds.orig.tar.xz"));
    let theirs = contents(&tree.path().join("theirs/pkg_1.0+ds.orig.tar.xz"));
    assert_eq!(ours, theirs);
    let names: Vec<&str> = ours.iter().map(|(name, _, _)| name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "pkg-1.0",
            "pkg-1.0/docs",
            "pkg-1.0/docs/y",
            "pkg-1.0/src",
            "pkg-1.0/src/a",
            "pkg-1.0/src/a/b",
            "pkg-1.0/src/deep.c",
            "pkg-1.0/src/models",
            "pkg-1.0/src/models/keep.c",
            "pkg-1.0/starXname",
            "pkg-1.0/w12.pt",
        ]
    );
}

#[test]
fn source_date_epoch_clamps_mtimes_instead_of_the_changelog_date() {
    let tree = source_tree(" weights");
    let input = upstream_file(tree.path(), "pkg-1.0.tar", &gnu_tar(&typical_members()));
    let epoch = 1_650_000_000u64;
    let output = dh_mlmodel()
        .current_dir(tree.path())
        .env("SOURCE_DATE_EPOCH", epoch.to_string())
        .args(["repack", input.to_str().unwrap(), "--output-dir", "out"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let written = list_xz(&tree.path().join("out/pkg_1.0+ds.orig.tar.xz"));
    // Older mtimes are kept, newer ones (run.sh's) clamped to SOURCE_DATE_EPOCH.
    let mtimes: Vec<u64> = written.iter().map(|(_, listed)| listed.mtime).collect();
    assert!(mtimes.iter().all(|&t| t <= epoch), "{mtimes:?}");
    assert!(
        mtimes.contains(&epoch) && mtimes.contains(&1_600_000_000),
        "{mtimes:?}"
    );
}

/// Repacks `input` under `--policy policy` into `out` with `--jobs jobs`, which must succeed
/// (the error names the input), and returns the orig tarball written.
fn repack_with_jobs(root: &Path, policy: &str, input: &Path, out: &str, jobs: &str) -> PathBuf {
    let output = repack(
        root,
        &["--policy", policy],
        &[input.to_str().unwrap(), "--output-dir", out, "--jobs", jobs],
    );
    assert!(
        output.status.success(),
        "{} -j{jobs}: {}",
        input.display(),
        stderr(&output)
    );
    root.join(out).join("pkg_1.0+ds.orig.tar.xz")
}
