//! The pickle stream, read with a byte position for the offsets in messages, and with large
//! payloads skipped rather than kept.

use std::io::{self, BufRead, BufReader, Read};

/// The input stream with a byte position, for offsets in messages.
pub(super) struct Input<R> {
    inner: BufReader<R>,
    pub(super) pos: u64,
}

impl<R: Read> Input<R> {
    pub(super) fn new(reader: R) -> Self {
        Self {
            inner: BufReader::new(reader),
            pos: 0,
        }
    }

    pub(super) fn at_eof(&mut self) -> io::Result<bool> {
        Ok(self.inner.fill_buf()?.is_empty())
    }

    pub(super) fn array<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let mut buf = [0; N];
        self.inner.read_exact(&mut buf)?;
        self.pos += N as u64;
        Ok(buf)
    }

    pub(super) fn byte(&mut self) -> io::Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads `len` bytes if there are at most `keep` of them; otherwise skips them without
    /// keeping them and returns `None`.
    pub(super) fn payload(&mut self, len: u64, keep: usize) -> io::Result<Option<Vec<u8>>> {
        if len <= keep as u64 {
            let mut buf = vec![0; len as usize];
            self.inner.read_exact(&mut buf)?;
            self.pos += len;
            return Ok(Some(buf));
        }
        let skipped = io::copy(&mut (&mut self.inner).take(len), &mut io::sink())?;
        self.pos += skipped;
        if skipped < len {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(None)
    }

    /// Reads a newline-terminated argument. Returns its first `keep` bytes, or `None` when it
    /// is longer (the rest is skipped).
    pub(super) fn line(&mut self, keep: usize) -> io::Result<Option<Vec<u8>>> {
        let mut kept = Vec::new();
        let mut too_long = false;
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(end) => (&buf[..end], Some(end + 1)),
                None => (buf, None),
            };
            if !too_long {
                if kept.len() + chunk.len() > keep {
                    too_long = true;
                    kept = Vec::new();
                } else {
                    kept.extend_from_slice(chunk);
                }
            }
            let used = done.unwrap_or(buf.len());
            self.inner.consume(used);
            self.pos += used as u64;
            if done.is_some() {
                return Ok((!too_long).then_some(kept));
            }
        }
    }
}
