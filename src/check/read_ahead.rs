//! A stream read on a thread of its own, so that decompressing a `.deb`'s data member overlaps
//! with scanning what came out of it.
//!
//! Without it the scan and the decoder take turns on one thread: while a member is scanned
//! nothing is decoded, and liblzma's multithreaded decoder, whose worker threads get their
//! input only when the caller asks for output, idles too. Here the source is read in
//! `CHUNK`-sized pieces into at most `DEPTH` full buffers waiting for the reader, plus one
//! being filled and one being read: memory is bounded by those buffers, whatever the
//! stream's size, and buffers go back to the reading thread to be filled again.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};

/// Bytes read from the source at a time: large, so that the decoder sees few calls and the
/// channel few messages.
const CHUNK: usize = 1024 * 1024;

/// Full buffers waiting for the reader: with `CHUNK`, 8 MiB decoded ahead at most.
const DEPTH: usize = 8;

/// Runs `consume` on a reader of `source`, which is read on another thread. Once `consume`
/// returns, the thread stops at its next buffer, having read at most one buffer more than
/// `consume` took.
pub fn with_read_ahead<S, T>(source: S, consume: impl FnOnce(&mut ReadAhead) -> T) -> T
where
    S: Read + Send,
{
    std::thread::scope(|scope| {
        let (full, filled) = mpsc::sync_channel(DEPTH);
        let (recycle, empty) = mpsc::channel();
        scope.spawn(move || fill(source, &full, &empty));
        let mut reader = ReadAhead {
            filled,
            recycle,
            current: Vec::new(),
            len: 0,
            at: 0,
            ended: false,
        };
        // Dropping the reader (end of this closure) closes the channel the thread sends on,
        // which stops it.
        consume(&mut reader)
    })
}

/// The reading thread: fills buffers until the source ends, fails or the reader is gone.
fn fill<S: Read>(mut source: S, full: &SyncSender<Filled>, empty: &Receiver<Vec<u8>>) {
    loop {
        // Buffers keep their length: zeroed once when made, never again.
        let mut buffer = match empty.try_recv() {
            Ok(buffer) => buffer,
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => vec![0; CHUNK],
        };
        let mut len = 0;
        let mut failed = None;
        while len < buffer.len() {
            match source.read(&mut buffer[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    failed = Some(err);
                    break;
                }
            }
        }
        // The bytes that came before an error are the reader's too, as they would have
        // been without this thread: the error is met where it was met before.
        if len > 0 && full.send(Ok((buffer, len))).is_err() {
            return;
        }
        if let Some(err) = failed {
            let _ = full.send(Err(err));
            return;
        }
        if len == 0 {
            return;
        }
    }
}

/// A buffer and how many of its bytes were read, or the error the source met.
type Filled = io::Result<(Vec<u8>, usize)>;

/// The reading end of [`with_read_ahead`].
pub struct ReadAhead {
    filled: Receiver<Filled>,
    recycle: Sender<Vec<u8>>,
    current: Vec<u8>,
    /// Bytes of `current` read from the source, and how many of them were passed on.
    len: usize,
    at: usize,
    ended: bool,
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.len {
            if self.ended {
                return Ok(0);
            }
            match self.filled.recv() {
                Ok(Ok((next, len))) => {
                    let used = std::mem::replace(&mut self.current, next);
                    self.len = len;
                    self.at = 0;
                    // Not the empty vector the reader starts with: the thread would take it
                    // for a buffer with no room, read nothing into it and stop. The thread
                    // may have stopped already; the buffer is then dropped.
                    if !used.is_empty() {
                        let _ = self.recycle.send(used);
                    }
                }
                Ok(Err(err)) => {
                    self.ended = true;
                    return Err(err);
                }
                // The thread ended: the source is exhausted.
                Err(_) => self.ended = true,
            }
        }
        let n = buf.len().min(self.len - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that yields its bytes in small, uneven reads, then an error if asked.
    struct Trickle {
        bytes: Vec<u8>,
        at: usize,
        fail_at_end: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at == self.bytes.len() {
                return if self.fail_at_end {
                    Err(io::Error::new(io::ErrorKind::InvalidData, "corrupt stream"))
                } else {
                    Ok(0)
                };
            }
            let n = buf.len().min(7919).min(self.bytes.len() - self.at);
            buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn passes_every_byte_in_order_across_buffers() {
        let bytes = pattern(3 * CHUNK + 12345);
        let source = Trickle {
            bytes: bytes.clone(),
            at: 0,
            fail_at_end: false,
        };
        let read = with_read_ahead(source, |reader| {
            let mut out = Vec::new();
            reader.read_to_end(&mut out).map(|_| out)
        });
        assert!(read.unwrap() == bytes);
    }

    #[test]
    fn the_source_error_reaches_the_reader_after_the_bytes_before_it() {
        let bytes = pattern(CHUNK + 10);
        let source = Trickle {
            bytes: bytes.clone(),
            at: 0,
            fail_at_end: true,
        };
        let (got, err) = with_read_ahead(source, |reader| {
            let mut got = vec![0u8; bytes.len()];
            reader.read_exact(&mut got).unwrap();
            let err = reader.read(&mut [0u8; 16]).unwrap_err();
            (got, err)
        });
        assert!(got == bytes);
        assert_eq!(err.to_string(), "corrupt stream");
    }

    #[test]
    fn a_reader_that_stops_early_stops_the_thread() {
        // An endless source: the call returns only if the thread stops once the reader is
        // dropped.
        let first = with_read_ahead(io::repeat(7), |reader| {
            let mut byte = [0u8; 1];
            reader.read_exact(&mut byte).map(|_| byte[0])
        });
        assert_eq!(first.unwrap(), 7);
    }
}
