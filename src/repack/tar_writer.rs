//! The reproducible tar writer: POSIX ustar headers (POSIX.1-2001, `pax` in the Open Group
//! Base Specifications, "ustar Interchange Format"), with a pax extended header (typeflag `x`)
//! only for what ustar cannot hold: a name that does not split into `prefix`/`name`, a link
//! target over 100 bytes, a size of 8 GiB or more. Every member is owned by 0/0 `root`/`root`;
//! modes, mtimes and order are the caller's (already normalised) choice, so the same members
//! always give the same bytes. The archive ends with two zero blocks and is padded to GNU tar's
//! record size (20 blocks), as `tar --create` pads it.

use std::io::{self, Read, Write};

const BLOCK: usize = 512;
/// GNU tar's default record: 20 blocks.
const RECORD: u64 = 20 * BLOCK as u64;
/// The largest size an 11-digit octal field holds.
const USTAR_MAX_SIZE: u64 = 0o77777777777;

/// What a member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    File,
    Directory,
    Symlink,
    HardLink,
}

impl MemberKind {
    fn typeflag(self) -> u8 {
        match self {
            MemberKind::File => b'0',
            MemberKind::HardLink => b'1',
            MemberKind::Symlink => b'2',
            MemberKind::Directory => b'5',
        }
    }
}

/// One member's header, normalised.
#[derive(Debug, Clone)]
pub struct Member<'a> {
    /// The name as stored; directories end with `/`.
    pub name: &'a str,
    pub kind: MemberKind,
    pub mode: u32,
    pub mtime: u64,
    /// Bytes of content (0 but for files).
    pub size: u64,
    /// The target of a link.
    pub link: Option<&'a str>,
}

/// Writes members to `out` as a tar stream.
pub struct TarWriter<W: Write> {
    out: W,
    written: u64,
}

impl<W: Write> TarWriter<W> {
    pub fn new(out: W) -> Self {
        Self { out, written: 0 }
    }

    /// Appends `member`, its content read from `data` (exactly `member.size` bytes; fewer is
    /// an error, so a truncated input never makes a short member).
    pub fn append(&mut self, member: &Member<'_>, data: &mut dyn Read) -> io::Result<()> {
        let split = split_name(member.name);
        let link = member.link.unwrap_or("");
        let mut records = Vec::new();
        if split.is_none() {
            records.push(("path", member.name.to_string()));
        }
        if link.len() > 100 {
            records.push(("linkpath", link.to_string()));
        }
        if member.size > USTAR_MAX_SIZE {
            records.push(("size", member.size.to_string()));
        }
        if !records.is_empty() {
            let body = pax_records(&records);
            let pax_name = pax_header_name(member.name);
            let header = header(
                &(String::new(), pax_name),
                b'x',
                0o644,
                member.mtime,
                body.len() as u64,
                "",
            );
            self.write(&header)?;
            self.write(&body)?;
            self.pad(body.len() as u64)?;
        }
        let (prefix, name) = split.unwrap_or_else(|| (String::new(), truncate(member.name, 100)));
        let header = header(
            &(prefix, name),
            member.kind.typeflag(),
            member.mode,
            member.mtime,
            member.size,
            &truncate(link, 100),
        );
        self.write(&header)?;
        let copied = io::copy(&mut (&mut *data).take(member.size), self)?;
        if copied != member.size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: {} bytes expected, the input ended after {copied}",
                    member.name, member.size
                ),
            ));
        }
        self.pad(member.size)
    }

    /// Writes the end-of-archive blocks and the record padding, and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.write(&[0u8; 2 * BLOCK])?;
        let rest = (RECORD - self.written % RECORD) % RECORD;
        self.write(&vec![0u8; rest as usize])?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn pad(&mut self, size: u64) -> io::Result<()> {
        let rest = (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64;
        self.write(&[0u8; BLOCK][..rest as usize])
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }
}

impl<W: Write> Write for TarWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// `name` as ustar's `prefix` (≤ 155 bytes) and `name` (≤ 100 bytes) fields, split at a `/`;
/// `None` when it cannot be.
fn split_name(full: &str) -> Option<(String, String)> {
    if full.len() <= 100 {
        return Some((String::new(), full.to_string()));
    }
    // The directory `/` that ends the name: a trailing one belongs to the name part.
    let body = full.strip_suffix('/').unwrap_or(full);
    body.char_indices()
        .filter(|&(i, c)| c == '/' && i <= 155 && full.len() - i - 1 <= 100 && i > 0)
        .map(|(i, _)| (full[..i].to_string(), full[i + 1..].to_string()))
        .next()
}

/// The longest prefix of `text` of at most `max` bytes ending on a character boundary.
fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// The name of a pax header member, as GNU tar's deterministic `PaxHeaders/%f`.
fn pax_header_name(name: &str) -> String {
    let file = name
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(name);
    truncate(&format!("PaxHeaders/{file}"), 100)
}

/// pax records `"<length> <key>=<value>\n"`, the length counting itself.
fn pax_records(records: &[(&str, String)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (key, value) in records {
        let rest = key.len() + value.len() + 3; // ' ', '=', '\n'
        let mut length = rest + 1;
        while length != rest + length.to_string().len() {
            length = rest + length.to_string().len();
        }
        body.extend_from_slice(format!("{length} {key}={value}\n").as_bytes());
    }
    body
}

/// One ustar header block.
fn header(
    (prefix, name): &(String, String),
    typeflag: u8,
    mode: u32,
    mtime: u64,
    size: u64,
    link: &str,
) -> [u8; BLOCK] {
    let mut block = [0u8; BLOCK];
    let mut put = |at: usize, bytes: &[u8]| block[at..at + bytes.len()].copy_from_slice(bytes);
    put(0, name.as_bytes());
    put(100, octal(u64::from(mode), 8).as_bytes());
    put(108, octal(0, 8).as_bytes());
    put(116, octal(0, 8).as_bytes());
    put(124, octal(size.min(USTAR_MAX_SIZE), 12).as_bytes());
    put(136, octal(mtime.min(USTAR_MAX_SIZE), 12).as_bytes());
    put(148, b"        ");
    put(156, &[typeflag]);
    put(157, link.as_bytes());
    put(257, b"ustar\x0000");
    put(265, b"root");
    put(297, b"root");
    put(329, octal(0, 8).as_bytes());
    put(337, octal(0, 8).as_bytes());
    put(345, prefix.as_bytes());
    let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
    block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    block
}

/// `value` in octal, zero-padded to `width - 1` digits and NUL-terminated.
fn octal(value: u64, width: usize) -> String {
    format!("{value:0digits$o}\0", digits = width - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_lengths_count_themselves() {
        let body = pax_records(&[("path", "a".repeat(95))]);
        let text = String::from_utf8(body).unwrap();
        let (length, _) = text.split_once(' ').unwrap();
        assert_eq!(length.parse::<usize>().unwrap(), text.len());
    }

    #[test]
    fn long_names_split_or_need_pax() {
        let long = format!("{}/{}", "d".repeat(120), "f".repeat(90));
        let (prefix, name) = split_name(&long).unwrap();
        assert_eq!((prefix.len(), name.len()), (120, 90));
        assert!(split_name(&"x".repeat(101)).is_none());
    }
}
