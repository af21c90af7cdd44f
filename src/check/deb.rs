//! Reading a binary package (`.deb`, `.udeb`) as a stream, in one pass: the ar members in
//! dpkg's order, the control archive (the `control` paragraph, the maintainer scripts), then
//! the data archive, each regular file scanned as `scan` scans a file, hashed on the way, and
//! never extracted.
//!
//! Member order and names follow deb(5) and dpkg-deb's reader (`dpkg-deb/extract.c`):
//! `debian-binary` (a `2.x` version) first, then `control.tar[.gz|.xz|.zst]`, then
//! `data.tar[.gz|.xz|.bz2|.lzma|.zst]`; members whose names start with `_` may come between
//! them and are skipped, as dpkg skips them.

use std::collections::BTreeMap;
use std::io::{self, BufReader, Cursor, Read};
use std::path::Path;

use super::ar::ArReader;
use super::package::{self, Fields};
use super::read_ahead;
use super::{CheckContext, Target, TargetKind};
use crate::hash::Sha256Reader;
use crate::scan::compression::Compression;
use crate::scan::{self, Finding};

/// The maintainer scripts dpkg runs (deb-maintscripts(5), `config` from debconf): each one is
/// scanned for downloads as the script it is, and named by its bare name, as lintian does.
pub const MAINTAINER_SCRIPTS: [&str; 5] = ["preinst", "postinst", "prerm", "postrm", "config"];

/// Read size for the `.deb` itself: large enough that the decoders see few calls.
const READ_BUFFER: usize = 256 * 1024;

/// Reads the package at `path`. An error is a one-line reason the package cannot be read
/// (not a `.deb`, members out of order, a broken tar, an unsafe member name).
pub fn read(path: &Path, kind: TargetKind, ctx: &CheckContext) -> Result<Target, String> {
    let file = std::fs::File::open(path).map_err(|err| format!("cannot open: {err}"))?;
    let mut ar = ArReader::new(BufReader::with_capacity(READ_BUFFER, file))
        .map_err(|err| format!("not a Debian binary package: {err}"))?;

    let first = ar.next_member().map_err(|e| e.to_string())?;
    match first {
        Some(member) if member.name == "debian-binary" => {}
        Some(member) => {
            return Err(format!(
                "the first ar member is {:?}, not debian-binary (wrong member order)",
                member.name
            ));
        }
        None => return Err("the ar archive is empty".to_string()),
    }
    let mut version = Vec::new();
    ar.member()
        .take(64)
        .read_to_end(&mut version)
        .map_err(|e| e.to_string())?;
    if !version.starts_with(b"2.") {
        return Err(format!(
            "debian-binary says {:?}, not format 2.x",
            String::from_utf8_lossy(&version).trim()
        ));
    }

    let control_name = next_required(&mut ar, "control.tar")?;
    let control_compression = compression_of(&control_name, "control.tar")?;
    let control = {
        let decoder = decoder(ar.member(), control_compression, ctx)
            .map_err(|err| format!("{control_name}: {err}"))?;
        read_control(decoder, &control_name, ctx)?
    };
    let fields = control.fields;
    let name = fields
        .value("Package")
        .ok_or_else(|| "the control file has no Package field".to_string())?
        .to_string();
    let mut target = Target::new(
        kind,
        name.clone(),
        fields.value("Version").unwrap_or_default().to_string(),
        fields.value("Architecture").unwrap_or_default().to_string(),
    );
    target.area = package::area_of(fields.value("Section"));
    target.findings = control.findings;
    target.warnings = control.warnings;
    target.fields = fields;

    let data_name = next_required(&mut ar, "data.tar")?;
    let data_compression = compression_of(&data_name, "data.tar")?;
    let decoder =
        decoder(ar.member(), data_compression, ctx).map_err(|err| format!("{data_name}: {err}"))?;
    // A bomb must not fill the disk through the spool: the data archive inflates to at most
    // the scan's cap for one file and what it holds.
    let capped = InflationCap {
        inner: decoder,
        left: ctx.scan.archives.max_inflated_bytes,
    };
    // Decoded on a thread of its own while the scan reads what came out (`read_ahead`).
    read_ahead::with_read_ahead(capped, |data| {
        read_data(data, &data_name, &name, &mut target, ctx)
    })?;
    Ok(target)
}

/// The name of the next member that does not start with `_`, which must start with `prefix`.
fn next_required<R: Read>(ar: &mut ArReader<R>, prefix: &str) -> Result<String, String> {
    loop {
        match ar.next_member().map_err(|e| e.to_string())? {
            Some(member) if member.name.starts_with('_') => continue,
            Some(member) if member.name.starts_with(prefix) => return Ok(member.name),
            Some(member) => {
                return Err(format!(
                    "ar member {:?} at byte {} where {prefix}.* belongs (wrong member order)",
                    member.name, member.offset
                ));
            }
            None => return Err(format!("the package ends before its {prefix}.* member")),
        }
    }
}

/// The compression a member's name announces, as dpkg decides it: by suffix.
fn compression_of(name: &str, stem: &str) -> Result<Option<Compression>, String> {
    match &name[stem.len()..] {
        "" => Ok(None),
        ".gz" => Ok(Some(Compression::Gzip)),
        ".xz" => Ok(Some(Compression::Xz)),
        ".zst" => Ok(Some(Compression::Zstd)),
        ".bz2" if stem == "data.tar" => Ok(Some(Compression::Bzip2)),
        ".lzma" if stem == "data.tar" => Ok(Some(Compression::LzmaAlone)),
        other => Err(format!(
            "member {name:?} has a compression dpkg does not know ({other:?})"
        )),
    }
}

fn decoder<'a>(
    member: impl Read + Send + 'a,
    compression: Option<Compression>,
    ctx: &CheckContext,
) -> io::Result<Box<dyn Read + Send + 'a>> {
    match compression {
        None => Ok(Box::new(member)),
        Some(compression) => Ok(Box::new(compression.stream_decoder(
            member,
            ctx.xz_threads,
            ctx.limits.xz_memlimit_threading,
        )?)),
    }
}

/// A tar member's path as dpkg and lintian name it (`./usr/bin/x` is `usr/bin/x`), or why it
/// is refused: an absolute path or a `..` component would write outside the root when
/// unpacked.
fn member_path(raw: &[u8], archive: &str) -> Result<String, String> {
    let text = String::from_utf8_lossy(raw);
    if text.starts_with('/') {
        return Err(format!(
            "{archive}: member {:?} has an absolute path; dpkg refuses such packages",
            crate::terminal::escape_controls(&text)
        ));
    }
    if text.split('/').any(|part| part == "..") {
        return Err(format!(
            "{archive}: member {:?} has a `..` component; dpkg refuses such packages",
            crate::terminal::escape_controls(&text)
        ));
    }
    let trimmed = text.trim_start_matches("./").trim_end_matches('/');
    Ok(trimmed.to_string())
}

struct Control {
    fields: Fields,
    findings: Vec<Finding>,
    warnings: Vec<String>,
}

fn tar_error(archive: &str, err: &io::Error) -> String {
    format!("{archive}: not a readable tar archive: {err}")
}

fn read_control(reader: impl Read, archive: &str, ctx: &CheckContext) -> Result<Control, String> {
    let mut tar = tar::Archive::new(reader);
    let mut fields = None;
    let mut findings = Vec::new();
    let mut warnings = Vec::new();
    let entries = tar.entries().map_err(|e| tar_error(archive, &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| tar_error(archive, &e))?;
        let path = member_path(&entry.path_bytes(), archive)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let wanted = path == "control" || MAINTAINER_SCRIPTS.contains(&path.as_str());
        if !wanted {
            continue;
        }
        let bytes = read_capped(entry, ctx.limits.max_control_file_bytes, archive, &path)?;
        if path == "control" {
            let text = String::from_utf8_lossy(&bytes);
            let paragraphs = package::paragraphs(&text, "control")?;
            fields = paragraphs.into_iter().next();
        } else {
            let expected = bytes.len() as u64;
            let scanned = scan::scan_stream(
                &ctx.scan,
                &ctx.scan_options,
                &mut Cursor::new(bytes),
                expected,
                &path,
                &mut scan::SpoolBuffer::default(),
            )
            .map_err(|err| format!("{archive}: {path}: {err}"))?;
            findings.extend(scanned.findings);
            warnings.extend(scanned.warnings);
        }
    }
    let fields = fields.ok_or_else(|| format!("{archive} has no control file"))?;
    Ok(Control {
        fields,
        findings,
        warnings,
    })
}

/// Reads a small member whole, refusing one over `cap` bytes.
fn read_capped(reader: impl Read, cap: u64, archive: &str, path: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    reader
        .take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| format!("{archive}: {path}: {err}"))?;
    if bytes.len() as u64 > cap {
        return Err(format!(
            "{archive}: {path} is larger than {cap} bytes (max-control-file-bytes or \
             max-metadata-file-bytes in policy/check.toml)"
        ));
    }
    Ok(bytes)
}

/// Magic numbers of architecture-dependent files: ELF objects (the System V ABI's `e_ident`)
/// and static libraries (ar archives, ar(5)). A package holding one is
/// architecture-dependent for a reason.
const NATIVE_CODE_MAGIC: [&[u8]; 2] = [b"\x7fELF", b"!<ar"];

/// The metadata files of a binary package's data archive the rules read, by their paths.
struct MetadataPaths {
    provenance_json: String,
    provenance_gz: String,
    overrides: String,
}

fn read_data(
    reader: impl Read,
    archive: &str,
    package: &str,
    target: &mut Target,
    ctx: &CheckContext,
) -> Result<(), String> {
    let provenance_json = format!("usr/share/doc/{package}/provenance.json");
    let metadata = MetadataPaths {
        provenance_gz: format!("{provenance_json}.gz"),
        provenance_json,
        overrides: format!("usr/share/lintian/overrides/{package}"),
    };
    let mut hashes = BTreeMap::new();
    // One spool for all the members, read one after the other.
    let mut spool = scan::SpoolBuffer::default();
    let mut tar = tar::Archive::new(reader);
    let entries = tar.entries().map_err(|e| tar_error(archive, &e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| tar_error(archive, &e))?;
        let path = member_path(&entry.path_bytes(), archive)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let member = Member {
            path: &path,
            size: entry.size(),
            archive,
        };
        // The SHA-256 is only ever compared with what provenance.json records, and
        // provenance.json names the files dh_mlmodel installed, which policy/install.toml
        // keeps to /usr/share/NAME/ and /usr/lib/NAME/: only files there are hashed (of a
        // -dev package's thousands of headers none is, and hashing them was a tenth of the
        // CPU time).
        let digest = if ctx
            .pipeline
            .install
            .may_hold_model_file(&format!("/{path}"))
        {
            let mut hashing = Sha256Reader::new(entry);
            read_member(&mut hashing, &member, &metadata, target, ctx, &mut spool)?;
            Some(hashing.finish().0)
        } else {
            read_member(&mut entry, &member, &metadata, target, ctx, &mut spool)?;
            None
        };
        hashes.insert(path, digest);
    }
    target.hashes = hashes;
    Ok(())
}

/// One regular file of the data archive: its path, the size its tar header states, the
/// archive's name for messages.
struct Member<'a> {
    path: &'a str,
    size: u64,
    archive: &'a str,
}

/// Reads one regular file of the data archive to its end: a metadata file the rules read is
/// kept, every other file scanned (spooled in `spool`).
fn read_member(
    reader: &mut dyn Read,
    member: &Member<'_>,
    metadata: &MetadataPaths,
    target: &mut Target,
    ctx: &CheckContext,
    spool: &mut scan::SpoolBuffer,
) -> Result<(), String> {
    let Member {
        path,
        size,
        archive,
    } = *member;
    if path == metadata.provenance_json
        || path == metadata.provenance_gz
        || path == metadata.overrides
    {
        let bytes = read_capped(reader, ctx.limits.max_metadata_file_bytes, archive, path)?;
        if path == metadata.overrides {
            target.overrides = Some((path.to_string(), String::from_utf8_lossy(&bytes).into()));
        } else {
            target.provenance = Some((path.to_string(), bytes));
        }
        return Ok(());
    }
    let mut head = [0u8; 4];
    let peeked = crate::fsutil::read_full(reader, &mut head)
        .map_err(|err| format!("{archive}: {path}: {err}"))?;
    if NATIVE_CODE_MAGIC
        .iter()
        .any(|magic| head.starts_with(magic))
    {
        target.has_native_code = true;
    }
    let mut whole = Cursor::new(&head[..peeked]).chain(reader);
    let scanned = scan::scan_stream(&ctx.scan, &ctx.scan_options, &mut whole, size, path, spool)
        .map_err(|err| format!("{archive}: {path}: {err}"))?;
    target.findings.extend(scanned.findings);
    target.warnings.extend(scanned.warnings);
    Ok(())
}

/// Fails a read once more than `left` bytes came out of the decoder.
struct InflationCap<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for InflationCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            io::Error::other(
                "inflates past max-inflated-bytes (policy/archives.toml): possible \
                 decompression bomb",
            )
        })?;
        Ok(n)
    }
}
