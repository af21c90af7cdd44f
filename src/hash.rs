//! Streaming SHA-256: fixed-size reads so memory stays flat whatever the file size. `sha2`
//! picks the CPU's SHA extensions at run time where present.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

/// Read size: large enough to amortise system calls, small enough to stay in cache.
pub const CHUNK: usize = 1 << 20;

/// Returns the lower-case hex SHA-256 of everything `reader` yields, and the byte count.
pub fn sha256_reader(mut reader: impl Read) -> io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((format!("{:x}", hasher.finalize()), total))
}

/// SHA-256 of a file on disk.
pub fn sha256_file(path: &std::path::Path) -> io::Result<(String, u64)> {
    sha256_reader(std::fs::File::open(path)?)
}

/// SHA-256 of bytes already in memory.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// A reader that hashes what passes through it: a stream read once (a `.deb` member) gets its
/// SHA-256 without a second pass.
pub struct Sha256Reader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> Sha256Reader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// The lower-case hex SHA-256 of the bytes read so far, and their count.
    pub fn finish(self) -> (String, u64) {
        (format!("{:x}", self.hasher.finalize()), self.count)
    }
}

impl<R: Read> Read for Sha256Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}
