//! The rewrite of one upstream archive into a reproducible tar: every member checked (nothing
//! that could write outside the tree or is not source: `..`, absolute names, links out of the
//! tree, devices, FIFOs, duplicates), the `Files-Excluded` ones dropped, the rest normalised
//! (owner 0/0 root/root, modes 0644/0755, directories 0755, mtimes clamped) and written in
//! sorted order.
//!
//! Order is the members' names compared component by component (GNU `tar --sort=name`, `git
//! archive`): a directory comes right before its contents. An upstream tarball already in
//! that order is rewritten in one pass, straight from the decoder to the encoder. One that is
//! not is noticed at its first member out of order; it is then read again, its kept members'
//! bytes spooled to an anonymous temporary file with an index of (name, offset), and written
//! from there in order, so memory stays flat in the archive's size (the index holds names,
//! not contents). A zip is listed once from its central directory and read in order.

use std::collections::HashSet;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use anyhow::Result;

use super::exclude::Exclusions;
use super::tar_writer::{Member, MemberKind, TarWriter};
use super::upstream::{Entry, EntryKind, Flow, Upstream};
use crate::error::Kind;
use crate::scan::archive::ArchiveLimits;

/// What the rewrite did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub kept: usize,
    pub removed: usize,
    /// The input was not in order and went through the spool.
    pub spooled: bool,
}

/// Rewrites `upstream` into a tar written to the output `open` makes (called again, for a
/// fresh output, when the input turns out not to be sorted), dropping what `exclusions`
/// match and clamping mtimes to `clamp`. Returns what happened and the output.
pub fn rewrite<W: Write>(
    upstream: &Upstream,
    exclusions: &mut Exclusions,
    clamp: i64,
    limits: &ArchiveLimits,
    open: &mut dyn FnMut() -> Result<W>,
) -> Result<(Outcome, W)> {
    if !upstream.random_access() {
        let mut direct = Checker::new(clamp);
        let mut tar = TarWriter::new(open()?);
        let mut in_order = true;
        let mut removed = 0;
        upstream
            .for_each(limits, None, &mut |entry, data| {
                let Some(member) = direct.admit(entry, exclusions)? else {
                    removed += 1;
                    return Ok(Flow::Continue);
                };
                if !direct.follows(&member) {
                    in_order = false;
                    return Ok(Flow::Stop);
                }
                write_member(&mut tar, &member, data)?;
                Ok(Flow::Continue)
            })
            .map_err(blame)?;
        if in_order {
            let outcome = Outcome {
                kept: direct.kept.len(),
                removed,
                spooled: false,
            };
            return Ok((outcome, tar.finish().map_err(blame)?));
        }
        drop(tar);
        *exclusions = exclusions.fresh();
        return spooled(upstream, exclusions, clamp, limits, open);
    }
    listed(upstream, exclusions, clamp, limits, open)
}

/// An unsorted tar stream: kept members' bytes spooled in input order, written in sorted
/// order.
fn spooled<W: Write>(
    upstream: &Upstream,
    exclusions: &mut Exclusions,
    clamp: i64,
    limits: &ArchiveLimits,
    open: &mut dyn FnMut() -> Result<W>,
) -> Result<(Outcome, W)> {
    let mut checker = Checker::new(clamp);
    let mut spool = BufWriter::with_capacity(1 << 20, tempfile::tempfile()?);
    let mut index: Vec<(Normalised, u64)> = Vec::new();
    let mut offset = 0u64;
    let mut removed = 0;
    upstream
        .for_each(limits, None, &mut |entry, data| {
            match checker.admit(entry, exclusions)? {
                None => removed += 1,
                Some(member) => {
                    let copied = io::copy(&mut data.take(member.size), &mut spool)?;
                    index.push((member, offset));
                    offset += copied;
                }
            }
            Ok(Flow::Continue)
        })
        .map_err(blame)?;
    let spool = spool.into_inner().map_err(|err| err.into_error())?;
    index.sort_by(|a, b| a.0.key.cmp(&b.0.key));
    checker.check_sorted(index.iter().map(|(member, _)| member))?;
    let mut spool = BufReader::with_capacity(1 << 20, spool);
    let mut tar = TarWriter::new(open()?);
    for (member, at) in &index {
        spool.seek(SeekFrom::Start(*at))?;
        write_member(&mut tar, member, &mut spool).map_err(blame)?;
    }
    let outcome = Outcome {
        kept: index.len(),
        removed,
        spooled: true,
    };
    Ok((outcome, tar.finish().map_err(blame)?))
}

/// A zip: members listed from the central directory, then read in sorted order.
fn listed<W: Write>(
    upstream: &Upstream,
    exclusions: &mut Exclusions,
    clamp: i64,
    limits: &ArchiveLimits,
    open: &mut dyn FnMut() -> Result<W>,
) -> Result<(Outcome, W)> {
    let mut checker = Checker::new(clamp);
    let mut index: Vec<(Normalised, usize)> = Vec::new();
    let mut position = 0;
    let mut removed = 0;
    upstream
        .for_each(limits, None, &mut |entry, _| {
            match checker.admit(entry, exclusions)? {
                None => removed += 1,
                Some(member) => index.push((member, position)),
            }
            position += 1;
            Ok(Flow::Continue)
        })
        .map_err(blame)?;
    index.sort_by(|a, b| a.0.key.cmp(&b.0.key));
    checker.check_sorted(index.iter().map(|(member, _)| member))?;
    let order: Vec<usize> = index.iter().map(|(_, at)| *at).collect();
    let mut members = index.iter().map(|(member, _)| member);
    let mut tar = TarWriter::new(open()?);
    upstream
        .for_each(limits, Some(&order), &mut |_, data| {
            if let Some(member) = members.next() {
                write_member(&mut tar, member, data)?;
            }
            Ok(Flow::Continue)
        })
        .map_err(blame)?;
    let outcome = Outcome {
        kept: index.len(),
        removed,
        spooled: false,
    };
    Ok((outcome, tar.finish().map_err(blame)?))
}

/// A kept member, normalised.
#[derive(Debug, Clone)]
struct Normalised {
    /// The name with `/` replaced by NUL (which no name holds), so that comparing keys
    /// compares names component by component; leading `./` and trailing `/` removed.
    key: String,
    name: String,
    kind: MemberKind,
    mode: u32,
    mtime: u64,
    size: u64,
    link: Option<String>,
    /// For a hard link, its target's key.
    link_key: Option<String>,
}

fn write_member<W: Write>(
    tar: &mut TarWriter<W>,
    member: &Normalised,
    data: &mut dyn Read,
) -> Result<()> {
    let header = Member {
        name: &member.name,
        kind: member.kind,
        mode: member.mode,
        mtime: member.mtime,
        size: member.size,
        link: member.link.as_deref(),
    };
    tar.append(&header, data)
        .map_err(|err| write_or_read(err, &member.name))
}

/// A failure to write the output is an I/O error (exit 3); anything else while reading the
/// upstream archive is the input's fault (exit 2).
fn write_or_read(err: io::Error, name: &str) -> anyhow::Error {
    if err
        .get_ref()
        .is_some_and(|inner| inner.downcast_ref::<OutputFailed>().is_some())
    {
        Kind::Io.mark(anyhow::Error::new(err).context("cannot write the orig tarball"))
    } else {
        Kind::Input.mark(anyhow::Error::new(err).context(format!("member `{name}`")))
    }
}

/// Marks a failure of the upstream reader as bad input unless already marked.
fn blame(err: impl Into<anyhow::Error>) -> anyhow::Error {
    Kind::Input.mark(err.into())
}

/// Why an output write failed, so [`write_or_read`] can tell it from a read failure.
#[derive(Debug)]
struct OutputFailed(io::Error);

impl std::fmt::Display for OutputFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for OutputFailed {}

/// A writer whose failures are marked as output failures.
pub struct Output<W>(pub W);

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .write(buf)
            .map_err(|err| io::Error::other(OutputFailed(err)))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0
            .flush()
            .map_err(|err| io::Error::other(OutputFailed(err)))
    }
}

/// The checks and the normalisation of members, and what has been kept so far.
struct Checker {
    clamp: i64,
    /// Keys of the members kept so far (for hard links and duplicates).
    kept: HashSet<String>,
    last: Option<String>,
}

impl Checker {
    fn new(clamp: i64) -> Self {
        Self {
            clamp,
            kept: HashSet::new(),
            last: None,
        }
    }

    /// Checks `entry`, then returns it normalised, or `None` when `exclusions` remove it.
    fn admit(&mut self, entry: Entry, exclusions: &mut Exclusions) -> Result<Option<Normalised>> {
        let refuse = |why: String| {
            Kind::Input.msg(format!(
                "member `{}`: {why}; a source tarball must not hold it, so nothing was written \
                 (ask upstream to fix the tarball, or repack it by hand)",
                entry.name
            ))
        };
        let key = key_of(&entry.name).map_err(refuse)?;
        let link = match &entry.kind {
            EntryKind::Refused(what) => return Err(refuse(format!("is {what}"))),
            EntryKind::Symlink(target) => {
                symlink_within(&key, target).map_err(refuse)?;
                Some(target.clone())
            }
            EntryKind::HardLink(target) => Some(target.clone()),
            EntryKind::File | EntryKind::Directory => None,
        };
        if key.is_empty() && entry.kind != EntryKind::Directory {
            return Err(refuse("has an empty name".to_string()));
        }
        if exclusions.excludes(&entry.name) {
            return Ok(None);
        }
        let link_key = match &entry.kind {
            EntryKind::HardLink(target) => {
                let target_key = key_of(target).map_err(|_| {
                    refuse(format!("is a hard link to `{target}`, outside the tree"))
                })?;
                if !self.kept.contains(&target_key) {
                    return Err(refuse(format!(
                        "is a hard link to `{target}`, which is not a member kept before it"
                    )));
                }
                Some(target_key)
            }
            _ => None,
        };
        let (kind, mode) = match &entry.kind {
            EntryKind::Directory => (MemberKind::Directory, 0o755),
            EntryKind::Symlink(_) => (MemberKind::Symlink, 0o777),
            EntryKind::HardLink(_) => (MemberKind::HardLink, executable_or_not(entry.mode)),
            _ => (MemberKind::File, executable_or_not(entry.mode)),
        };
        let mut name = entry.name.clone();
        if kind == MemberKind::Directory && !name.ends_with('/') {
            name.push('/');
        }
        if !self.kept.insert(key.clone()) {
            return Err(refuse("appears twice in the archive".to_string()));
        }
        Ok(Some(Normalised {
            key,
            name,
            kind,
            mode,
            mtime: entry.mtime.clamp(0, self.clamp.max(0)) as u64,
            size: if kind == MemberKind::File {
                entry.size
            } else {
                0
            },
            link,
            link_key,
        }))
    }

    /// Whether `member` sorts after every member written so far (and then it is the last).
    fn follows(&mut self, member: &Normalised) -> bool {
        if self.last.as_ref().is_some_and(|last| *last >= member.key) {
            return false;
        }
        self.last = Some(member.key.clone());
        true
    }

    /// After sorting: every hard link still comes after its target.
    fn check_sorted<'a>(&self, members: impl Iterator<Item = &'a Normalised>) -> Result<()> {
        for member in members {
            if let Some(target) = &member.link_key
                && *target >= member.key
            {
                return Err(Kind::Input.msg(format!(
                    "member `{}`: is a hard link to `{}`, which sorts after it, so the sorted \
                     tarball could not be extracted (ask upstream to fix the tarball, or \
                     repack it by hand)",
                    member.name,
                    member.link.as_deref().unwrap_or_default()
                )));
            }
        }
        Ok(())
    }
}

impl Exclusions {
    /// The same patterns with no use recorded, for a second reading of the input.
    fn fresh(&self) -> Self {
        let mut fresh = self.clone();
        fresh.forget_uses();
        fresh
    }
}

/// 0755 when any execute bit is set, else 0644.
fn executable_or_not(mode: u32) -> u32 {
    if mode & 0o111 != 0 { 0o755 } else { 0o644 }
}

/// The sort key of a member name; an absolute name or a `..` component is refused.
fn key_of(name: &str) -> Result<String, String> {
    if name.starts_with('/') {
        return Err("has an absolute name".to_string());
    }
    let parts: Vec<&str> = name
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    if parts.contains(&"..") {
        return Err("has a `..` component, which would write outside the tree".to_string());
    }
    Ok(parts.join("\0"))
}

/// Refuses a symbolic link whose target, read from the link's directory, leaves the archive's
/// tree (or is absolute).
fn symlink_within(key: &str, target: &str) -> Result<(), String> {
    if target.starts_with('/') {
        return Err(format!(
            "is a symbolic link to the absolute path `{target}`, outside the tree"
        ));
    }
    let mut depth = key.split('\0').filter(|p| !p.is_empty()).count() as i64 - 1;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!(
                        "is a symbolic link to `{target}`, which points out of the tree"
                    ));
                }
            }
            _ => depth += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_component_by_component() {
        let mut names = vec!["p/a-b", "p/a/c", "p/a/", "p/"];
        names.sort_by_key(|n| key_of(n).unwrap());
        assert_eq!(names, vec!["p/", "p/a/", "p/a/c", "p/a-b"]);
    }

    #[test]
    fn links_out_of_the_tree_are_refused() {
        assert!(symlink_within("p\0a\0l", "../b").is_ok());
        assert!(symlink_within("p\0l", "../../etc/passwd").is_err());
        assert!(symlink_within("p\0l", "/etc/passwd").is_err());
        assert!(key_of("p/../../x").is_err());
        assert!(key_of("/etc/x").is_err());
    }
}
