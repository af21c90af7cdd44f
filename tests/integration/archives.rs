//! Looking inside archives: member paths, nesting, and decompression bombs.

use std::io::Write;

use crate::support::{dh_mlmodel, finding, scan_json, write};

fn noise(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

pub fn tar_bytes(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in members {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        builder.append_data(&mut header, name, *bytes).unwrap();
    }
    builder.into_inner().unwrap()
}

pub fn xz_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 6);
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn gz_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn bz2_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn zip_bytes(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in members {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

const LFS: &str = "version https://git-lfs.github.com/spec/v1\n\
    oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 99\n";

#[test]
fn members_of_every_archive_kind_are_found_with_bang_paths() {
    let dir = tempfile::tempdir().unwrap();
    let blob = noise(1_200_000, 7);
    let tar = tar_bytes(&[("pkg/model.bin", &blob), ("pkg/README", b"hello")]);
    write(dir.path(), "a.tar", &tar);
    write(dir.path(), "b.tar.gz", gz_bytes(&tar));
    write(dir.path(), "c.tar.xz", xz_bytes(&tar));
    write(dir.path(), "d.tar.bz2", bz2_bytes(&tar));
    write(dir.path(), "e.zip", zip_bytes(&[("pkg/model.bin", &blob)]));
    write(dir.path(), "f.bin.gz", gz_bytes(&blob));
    write(dir.path(), "g.bin.xz", xz_bytes(&blob));
    let findings = scan_json(dir.path(), &[]);
    let digest = dh_mlmodel::hash::sha256_bytes(&blob);
    for path in [
        "a.tar!pkg/model.bin",
        "b.tar.gz!pkg/model.bin",
        "c.tar.xz!pkg/model.bin",
        "d.tar.bz2!pkg/model.bin",
        "e.zip!pkg/model.bin",
        "f.bin.gz!f.bin",
        "g.bin.xz!g.bin",
    ] {
        let f =
            finding(&findings, path).unwrap_or_else(|| panic!("{path} not found in {findings:#?}"));
        assert_eq!(f["kind"], "blob", "{path}");
        assert_eq!(f["size"], blob.len(), "{path}");
        assert_eq!(
            f["sha256"],
            digest.as_str(),
            "member digest is the member's, not the archive's"
        );
    }
    assert_eq!(
        findings.len(),
        7,
        "README members and the archives themselves are not findings"
    );
}

#[test]
fn nested_archives_are_opened_to_depth_three_and_no_deeper() {
    let dir = tempfile::tempdir().unwrap();
    let inner_tar_xz = xz_bytes(&tar_bytes(&[("weights/net.bin", LFS.as_bytes())]));
    let zip = zip_bytes(&[("release/model.tar.xz", &inner_tar_xz)]);
    write(dir.path(), "bundle.zip", &zip);
    // One level more: bundle.zip inside a tar.gz puts the pointer at depth 3 inside a depth-2
    // archive, the deepest that is still opened; a further zip around it is too deep.
    write(
        dir.path(),
        "outer.tar.gz",
        gz_bytes(&tar_bytes(&[("bundle.zip", &zip)])),
    );
    let too_deep = zip_bytes(&[(
        "outer.tar.gz",
        &gz_bytes(&tar_bytes(&[("bundle.zip", &zip)])),
    )]);
    write(dir.path(), "z-too-deep.zip", &too_deep);

    let output = dh_mlmodel()
        .args(["scan", "--json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let paths: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "bundle.zip!release/model.tar.xz!weights/net.bin",
            "outer.tar.gz!bundle.zip!release/model.tar.xz!weights/net.bin"
        ]
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "z-too-deep.zip!outer.tar.gz!bundle.zip!release/model.tar.xz: archive nested more than 3 levels"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.matches("nested more than").count(), 1, "{stderr}");
}

#[test]
fn gzip_bomb_stops_at_the_ratio_cap_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    // 256 MiB of zeros compress about 1000:1.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        encoder.write_all(&zeros).unwrap();
    }
    write(dir.path(), "bomb.bin.gz", encoder.finish().unwrap());
    write(
        dir.path(),
        "zbomb.zip",
        zip_bytes(&[("inner.bin", &vec![0u8; 64 << 20])]),
    );
    write(dir.path(), "after.bin", LFS);
    let output = dh_mlmodel()
        .args(["scan", "--json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bomb.bin.gz: stopped reading the archive") && stderr.contains("max-ratio"),
        "{stderr}"
    );
    assert!(
        stderr.contains("zbomb.zip: stopped reading the archive"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        finding(report["findings"].as_array().unwrap(), "after.bin").is_some(),
        "the scan went on"
    );
}

#[test]
fn inflated_bytes_cap_comes_from_the_policy_directory() {
    let dir = tempfile::tempdir().unwrap();
    let policy = tempfile::tempdir().unwrap();
    write(
        policy.path(),
        "archives.toml",
        "max-depth = 3\nmax-inflated-bytes = 1000000\nmax-ratio = 200\n\
         ratio-grace-bytes = 16777216\nmemory-spool-bytes = 8388608\n",
    );
    write(
        dir.path(),
        "big.tar.xz",
        xz_bytes(&tar_bytes(&[("a.bin", &noise(2_000_000, 3))])),
    );
    let output = dh_mlmodel()
        .arg("--policy")
        .arg(policy.path())
        .args(["scan"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("big.tar.xz: stopped reading the archive")
            && stderr.contains("max-inflated-bytes"),
        "{stderr}"
    );
}

#[test]
fn corrupt_archive_is_a_warning_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut xz = xz_bytes(&noise(100_000, 1));
    xz.truncate(xz.len() / 2);
    write(dir.path(), "broken.xz", &xz);
    let output = dh_mlmodel()
        .args(["scan"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("broken.xz: cannot read the archive"));
}
