//! The ar archive a `.deb` is, read as a stream: one member after the other, each a bounded
//! reader, nothing seeked and nothing extracted.
//!
//! Format (deb(5), ar(5) of GNU binutils, and dpkg's own reader `dpkg-deb/extract.c`): the
//! global header `!<arch>\n`, then per member a 60-byte header (name 16, mtime 12, uid 6, gid 6,
//! mode 8, size 10 bytes, ASCII, space-padded; then the two bytes `` `\n ``), the member's
//! bytes, and one padding byte `\n` when the size is odd. GNU ar ends names with `/`; dpkg
//! does not, and accepts both.

use crate::fsutil::read_full;
use std::io::{self, Read};

/// The global header of every ar archive.
pub const MAGIC: &[u8; 8] = b"!<arch>\n";
const HEADER_LEN: usize = 60;

/// One member's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The name, without GNU's trailing `/` and the padding.
    pub name: String,
    pub size: u64,
    /// Byte offset of the member's header in the archive, for messages.
    pub offset: u64,
}

/// Reads an ar archive from `inner` member by member.
pub struct ArReader<R> {
    inner: R,
    /// Bytes of the current member not read yet, and whether a padding byte follows them.
    remaining: u64,
    pad: bool,
    /// Bytes consumed from `inner` so far.
    offset: u64,
}

impl<R: Read> ArReader<R> {
    /// Checks the global header.
    pub fn new(mut inner: R) -> io::Result<Self> {
        let mut magic = [0u8; 8];
        let got = read_full(&mut inner, &mut magic)?;
        if got < magic.len() || &magic != MAGIC {
            return Err(invalid(
                "not an ar archive (no `!<arch>` header)".to_string(),
            ));
        }
        Ok(Self {
            inner,
            remaining: 0,
            pad: false,
            offset: 8,
        })
    }

    /// The next member's header, after skipping what is left of the current one; `None` at
    /// the end of the archive. A header cut short is an error.
    pub fn next_member(&mut self) -> io::Result<Option<Member>> {
        self.skip_rest()?;
        let mut header = [0u8; HEADER_LEN];
        let got = read_full(&mut self.inner, &mut header)?;
        if got == 0 {
            return Ok(None);
        }
        let offset = self.offset;
        if got < HEADER_LEN {
            return Err(truncated(format!(
                "the member header at byte {offset} is cut short ({got} of {HEADER_LEN} bytes)"
            )));
        }
        self.offset += HEADER_LEN as u64;
        if &header[58..60] != b"`\n" {
            return Err(invalid(format!(
                "the member header at byte {offset} does not end with the ar terminator"
            )));
        }
        let name = String::from_utf8_lossy(&header[..16]);
        let name = name.trim_end_matches(' ').trim_end_matches('/').to_string();
        let size_text = String::from_utf8_lossy(&header[48..58]);
        let size: u64 = size_text.trim_end_matches(' ').parse().map_err(|_| {
            invalid(format!(
                "member {name:?} at byte {offset} has a size field that is not a decimal number"
            ))
        })?;
        self.remaining = size;
        self.pad = size % 2 == 1;
        Ok(Some(Member { name, size, offset }))
    }

    /// The current member's bytes: ends at the member's end; an archive that ends before it
    /// is an error, never a short member taken for a whole one.
    pub fn member(&mut self) -> MemberReader<'_, R> {
        MemberReader { ar: self }
    }

    /// Reads past what is left of the current member and its padding.
    fn skip_rest(&mut self) -> io::Result<()> {
        if self.remaining > 0 {
            io::copy(&mut self.member(), &mut io::sink())?;
        }
        if self.pad {
            let mut byte = [0u8; 1];
            // dpkg tolerates a missing final padding byte at the end of the archive.
            self.offset += read_full(&mut self.inner, &mut byte)? as u64;
            self.pad = false;
        }
        Ok(())
    }
}

/// The bytes of one member ([`ArReader::member`]).
pub struct MemberReader<'a, R> {
    ar: &'a mut ArReader<R>,
}

impl<R: Read> Read for MemberReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ar.remaining == 0 {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.ar.remaining).unwrap_or(usize::MAX));
        let n = loop {
            match self.ar.inner.read(&mut buf[..want]) {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                other => break other?,
            }
        };
        if n == 0 && want > 0 {
            return Err(truncated(format!(
                "the archive ends {} bytes before the end of a member",
                self.ar.remaining
            )));
        }
        self.ar.remaining -= n as u64;
        self.ar.offset += n as u64;
        Ok(n)
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn truncated(message: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("truncated ar archive: {message}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ar archive written as ar(5) describes it.
    fn ar(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        for (name, data) in members {
            out.extend(
                format!(
                    "{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                    0,
                    0,
                    0,
                    "100644",
                    data.len()
                )
                .bytes(),
            );
            out.extend_from_slice(data);
            if data.len() % 2 == 1 {
                out.push(b'\n');
            }
        }
        out
    }

    #[test]
    fn members_in_order_with_padding() {
        let bytes = ar(&[
            ("debian-binary", b"2.0\n"),
            ("odd/", b"abc"),
            ("last", b"xy"),
        ]);
        let mut reader = ArReader::new(&bytes[..]).unwrap();
        let first = reader.next_member().unwrap().unwrap();
        assert_eq!((first.name.as_str(), first.size), ("debian-binary", 4));
        let second = reader.next_member().unwrap().unwrap();
        assert_eq!(second.name, "odd");
        let mut text = String::new();
        reader.member().read_to_string(&mut text).unwrap();
        assert_eq!(text, "abc");
        // The third is found after the padding byte of the second.
        let third = reader.next_member().unwrap().unwrap();
        assert_eq!(third.name, "last");
        assert!(reader.next_member().unwrap().is_none());
    }

    #[test]
    fn truncated_member_is_an_error() {
        let mut bytes = ar(&[("data.tar", b"0123456789")]);
        bytes.truncate(bytes.len() - 4);
        let mut reader = ArReader::new(&bytes[..]).unwrap();
        reader.next_member().unwrap().unwrap();
        let err = io::copy(&mut reader.member(), &mut io::sink()).unwrap_err();
        assert!(err.to_string().contains("truncated ar archive"), "{err}");
    }

    #[test]
    fn not_ar_is_an_error() {
        assert!(ArReader::new(&b"PK\x03\x04 not an ar"[..]).is_err());
    }
}
