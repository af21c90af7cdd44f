//! Looking inside archives: member paths, nesting, and decompression bombs.

use std::io::Write;

use crate::fixtures::{
    RawLayout, RawMember, bz2, gzip, noise, raw_zip, tar, tar_v7, xz, zip, zstd,
};
use crate::pickles;
use crate::support::{finding, paths, scan_json, scan_with_warnings, write};

const LFS: &str = "version https://git-lfs.github.com/spec/v1\n\
    oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 99\n";

#[test]
fn members_of_every_archive_kind_are_found_with_bang_paths() {
    let dir = tempfile::tempdir().unwrap();
    let blob = noise(1_200_000, 7);
    let tar = tar(&[("pkg/model.bin", &blob), ("pkg/README", b"hello")]);
    write(dir.path(), "a.tar", &tar);
    write(dir.path(), "b.tar.gz", gzip(&tar));
    write(dir.path(), "c.tar.xz", xz(&tar));
    write(dir.path(), "d.tar.bz2", bz2(&tar));
    write(dir.path(), "e.zip", zip(&[("pkg/model.bin", &blob)], true));
    write(dir.path(), "f.bin.gz", gzip(&blob));
    write(dir.path(), "g.bin.xz", xz(&blob));
    write(dir.path(), "h.tar.zst", zstd(&tar));
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
        "h.tar.zst!pkg/model.bin",
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
        8,
        "README members and the archives themselves are not findings"
    );
}

#[test]
fn nested_archives_are_opened_to_depth_three_and_no_deeper() {
    let dir = tempfile::tempdir().unwrap();
    let inner_tar_xz = xz(&tar(&[("weights/net.bin", LFS.as_bytes())]));
    let bundle = zip(&[("release/model.tar.xz", &inner_tar_xz)], true);
    write(dir.path(), "bundle.zip", &bundle);
    // One level more: bundle.zip inside a tar.gz puts the pointer at depth 3 inside a depth-2
    // archive, the deepest that is still opened; a further zip around it is too deep.
    write(
        dir.path(),
        "outer.tar.gz",
        gzip(&tar(&[("bundle.zip", &bundle)])),
    );
    let too_deep = zip(
        &[("outer.tar.gz", &gzip(&tar(&[("bundle.zip", &bundle)])))],
        true,
    );
    write(dir.path(), "z-too-deep.zip", &too_deep);

    let (findings, stderr) = scan_with_warnings(&[], dir.path(), &[]);
    assert_eq!(
        paths(&findings),
        [
            "bundle.zip!release/model.tar.xz!weights/net.bin",
            "outer.tar.gz!bundle.zip!release/model.tar.xz!weights/net.bin"
        ]
    );
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
        zip(&[("inner.bin", &vec![0u8; 64 << 20])], true),
    );
    write(dir.path(), "after.bin", LFS);
    let (findings, stderr) = scan_with_warnings(&[], dir.path(), &[]);
    assert!(
        stderr.contains("bomb.bin.gz: stopped reading the archive") && stderr.contains("max-ratio"),
        "{stderr}"
    );
    assert!(
        stderr.contains("zbomb.zip!inner.bin: stopped reading the member"),
        "{stderr}"
    );
    assert!(
        finding(&findings, "after.bin").is_some(),
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
        xz(&tar(&[("a.bin", &noise(2_000_000, 3))])),
    );
    let policy_dir = policy.path().to_str().unwrap();
    let (_, stderr) = scan_with_warnings(&["--policy", policy_dir], dir.path(), &[]);
    assert!(
        stderr.contains("big.tar.xz: stopped reading the archive")
            && stderr.contains("max-inflated-bytes"),
        "{stderr}"
    );
}

#[test]
fn corrupt_archive_is_a_warning_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut xz = xz(&noise(100_000, 1));
    xz.truncate(xz.len() / 2);
    write(dir.path(), "broken.xz", &xz);
    let (_, stderr) = scan_with_warnings(&[], dir.path(), &[]);
    assert!(
        stderr.contains("broken.xz: cannot read the archive"),
        "{stderr}"
    );
}

#[test]
fn an_unreadable_zip_member_is_a_warning_and_the_others_are_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let mut unknown = RawMember::stored("odd.bin", &noise(1000, 2));
    unknown.method = 99;
    let mut encrypted = RawMember::stored("secret.bin", &noise(1000, 3));
    encrypted.flags = 1;
    let members = [
        unknown,
        encrypted,
        RawMember::stored("weights/net.bin", LFS.as_bytes()),
    ];
    let bytes = raw_zip(&members, &RawLayout::default());
    write(dir.path(), "mixed.zip", &bytes);
    let (findings, stderr) = scan_with_warnings(&[], dir.path(), &[]);
    assert_eq!(paths(&findings), ["mixed.zip!weights/net.bin"], "{stderr}");
    for name in ["odd.bin", "secret.bin"] {
        assert!(
            stderr.contains(&format!("mixed.zip!{name}: cannot read the member")),
            "{stderr}"
        );
    }
}

#[test]
fn the_ratio_cap_stops_one_zip_member_only() {
    let dir = tempfile::tempdir().unwrap();
    let members = [
        RawMember::deflated("bomb.bin", &vec![0u8; 20 << 20]),
        RawMember::stored("weights/net.bin", LFS.as_bytes()),
    ];
    write(
        dir.path(),
        "b.zip",
        raw_zip(&members, &RawLayout::default()),
    );
    let (findings, stderr) = scan_with_warnings(&[], dir.path(), &[]);
    assert!(
        stderr.contains("b.zip!bomb.bin: stopped reading the member")
            && stderr.contains("max-ratio"),
        "{stderr}"
    );
    assert_eq!(paths(&findings), ["b.zip!weights/net.bin"], "{stderr}");
}

#[test]
fn the_ratio_counts_compressed_bytes_consumed_not_declared() {
    let dir = tempfile::tempdir().unwrap();
    let mut bomb = RawMember::deflated("bomb.bin", &vec![0u8; 20 << 20]);
    // The headers claim 400 times the real compressed size: by the declared size the ratio
    // looks harmless.
    bomb.declared_compressed = bomb.stored.len() as u32 * 400;
    let members = [bomb, RawMember::stored("weights/net.bin", LFS.as_bytes())];
    write(
        dir.path(),
        "liar.zip",
        raw_zip(&members, &RawLayout::default()),
    );
    let (_, stderr) = scan_with_warnings(&[], dir.path(), &[]);
    assert!(
        stderr.contains("liar.zip!bomb.bin: stopped reading the member")
            && stderr.contains("max-ratio"),
        "{stderr}"
    );
}

#[test]
fn v7_tar_without_ustar_magic_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let v7 = tar_v7(&[("README", b"hello"), ("weights/net.bin", LFS.as_bytes())]);
    assert!(!v7.windows(5).any(|w| w == b"ustar"));
    write(dir.path(), "old.tar", &v7);
    write(dir.path(), "old.tar.gz", gzip(&v7));
    // 512 bytes of text whose checksum field does not add up are not a tar.
    let mut fake = v7.clone();
    fake[0] = b'X';
    write(dir.path(), "fake.tar", &fake[..512]);
    let (findings, stderr) = scan_with_warnings(&[], dir.path(), &[]);
    assert_eq!(
        paths(&findings),
        ["old.tar!weights/net.bin", "old.tar.gz!weights/net.bin"],
        "{stderr}"
    );
}

#[test]
fn a_zip_behind_a_self_extractor_stub_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let stub = [b"MZ".as_slice(), &noise(4000, 9)].concat();
    let members = [RawMember::stored("weights/net.bin", LFS.as_bytes())];
    let layout = RawLayout {
        prefix: &stub,
        ..RawLayout::default()
    };
    write(dir.path(), "setup.exe", raw_zip(&members, &layout));
    let (findings, stderr) = scan_with_warnings(&[], dir.path(), &[]);
    assert_eq!(paths(&findings), ["setup.exe!weights/net.bin"], "{stderr}");
}
#[test]
fn a_lying_member_count_hides_no_member() {
    let dir = tempfile::tempdir().unwrap();
    let members = [
        RawMember::stored("README", b"hello"),
        RawMember::stored("weights/net.bin", LFS.as_bytes()),
    ];
    let layout = RawLayout {
        declared_count: Some(1),
        ..RawLayout::default()
    };
    write(dir.path(), "short.zip", raw_zip(&members, &layout));
    let (findings, stderr) = scan_with_warnings(&[], dir.path(), &[]);
    assert_eq!(paths(&findings), ["short.zip!weights/net.bin"], "{stderr}");
}

#[test]
fn a_lying_zip64_member_count_hides_no_member() {
    let dir = tempfile::tempdir().unwrap();
    let members = [
        RawMember::stored("README", b"hello"),
        RawMember::stored("weights/net.bin", LFS.as_bytes()),
    ];
    let layout = RawLayout {
        declared_count: Some(1),
        zip64: true,
        ..RawLayout::default()
    };
    write(dir.path(), "short.zip", raw_zip(&members, &layout));
    let (findings, stderr) = scan_with_warnings(&[], dir.path(), &[]);
    assert_eq!(paths(&findings), ["short.zip!weights/net.bin"], "{stderr}");
}

/// Identification of zip-based weight formats and the pickle analysis read a zip the same way
/// as the archive walk: a `torch.save` zip whose end record (or zip64 record) declares one
/// member is still a PyTorch file, and its hidden `data.pkl` is analysed.
#[test]
fn a_lying_member_count_hides_no_member_of_a_pytorch_zip() {
    let storage = [0u8; 8];
    for zip64 in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let members = [
            RawMember::stored("archive/version", b"3\n"),
            RawMember::stored("archive/data/0", &storage),
            RawMember::stored("archive/data.pkl", &pickles::posix_system_protocol2()),
        ];
        let layout = RawLayout {
            declared_count: Some(1),
            zip64,
            ..RawLayout::default()
        };
        write(dir.path(), "model.pt", raw_zip(&members, &layout));
        let (findings, stderr) = scan_with_warnings(&[], dir.path(), &["--no-hash"]);
        let found = findings
            .iter()
            .find(|f| f["path"] == "model.pt")
            .unwrap_or_else(|| panic!("zip64 {zip64}: {findings:#?} {stderr}"));
        assert_eq!(found["format"], "pytorch", "zip64 {zip64}: {found:#}");
        assert_eq!(found["pickle"]["verdict"], "unsafe", "{found:#}");
        assert!(
            found["pickle"]["reasons"]
                .to_string()
                .contains("posix.system"),
            "{found:#}"
        );
    }
}

#[test]
fn a_zip_that_also_walks_as_a_pickle_is_opened_as_a_zip() {
    let dir = tempfile::tempdir().unwrap();
    // `PK…` is protocol 0's PERSID up to the first newline, here in the first member's name;
    // the `.` after it is STOP.
    let first = RawMember::stored("a\n.", b"hello");
    let members = [first, RawMember::stored("weights/net.bin", LFS.as_bytes())];
    let bytes = raw_zip(&members, &RawLayout::default());
    assert_eq!(bytes.iter().position(|&b| b == b'\n'), Some(31));
    write(dir.path(), "polyglot.zip", &bytes);
    let (findings, stderr) = scan_with_warnings(&[], dir.path(), &[]);
    assert_eq!(
        paths(&findings),
        ["polyglot.zip!weights/net.bin"],
        "{stderr}"
    );
}
