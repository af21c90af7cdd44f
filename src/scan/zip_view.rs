//! Zips as Python's `zipfile` reads them, which numpy and torch use: the one way this crate
//! opens a zip, for format identification (`formats::zip`), pickle analysis (`pickle`) and
//! archive recursion (`archive`).
//!
//! `zipfile` finds the end-of-central-directory record in the last 64 KiB, takes the central
//! directory as the bytes right before it (whatever precedes them: a self-extractor stub), and
//! walks the directory by its size, not by the member count the record declares
//! (`zipfile._EndRecData`, `_EndRecData64`, `_RealGetContents`). The `zip` crate trusts the
//! count, so it is shown a view of the file with the walked count patched over the declared
//! one ([`Patched`]); no zip reader of our own.

use std::io::{self, BufReader, Read, Seek, SeekFrom};

/// Where a zip's end record and central directory lie.
struct ZipEnd {
    /// Where the central directory ends: the end record, or the zip64 end record.
    directory_end: u64,
    directory_at: u64,
    declared_count: u64,
    /// Where the two member-count fields (this disk, total) are: two u16 in the end record,
    /// two u64 in the zip64 end record.
    count_at: u64,
    zip64: bool,
}

/// Size of the end-of-central-directory record without its comment.
const END_RECORD: u64 = 22;
/// Sizes of the zip64 end record (without extensible data) and of its locator.
const ZIP64_RECORD: u64 = 56;
const ZIP64_LOCATOR: u64 = 20;

fn read_at<R: Read + Seek + ?Sized, const N: usize>(file: &mut R, at: u64) -> io::Result<[u8; N]> {
    file.seek(SeekFrom::Start(at))?;
    let mut buf = [0u8; N];
    file.read_exact(&mut buf)?;
    Ok(buf)
}

fn le_u16(bytes: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]))
}

fn le_u32(bytes: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes([
        bytes[at],
        bytes[at + 1],
        bytes[at + 2],
        bytes[at + 3],
    ]))
}

fn le_u64(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

/// The end record of the zip `file` (`size` bytes) ends with, and where its central directory
/// starts, as `zipfile` finds them; `None` when there is none or no central directory sits
/// right before it.
/// The offset of the last end-of-central-directory signature `PK\x05\x06` in `haystack`.
/// `memmem`'s search from the end is not vectorised; `memrchr` is, and the signature's third
/// byte, 0x05, is rare in text and in most binary data, so it is searched for and each hit
/// tested: one SIMD pass over a text file's tail.
fn rfind_end_signature(haystack: &[u8]) -> Option<usize> {
    const SIGNATURE: &[u8; 4] = b"PK\x05\x06";
    let mut end = haystack.len();
    while let Some(third) = memchr::memrchr(SIGNATURE[2], &haystack[..end]) {
        if let Some(start) = third.checked_sub(2)
            && haystack[start..].starts_with(SIGNATURE)
        {
            return Some(start);
        }
        end = third;
    }
    None
}

fn zip_end<R: Read + Seek + ?Sized>(file: &mut R, size: u64) -> io::Result<Option<ZipEnd>> {
    let tail_len = size.min(END_RECORD + 65535);
    file.seek(SeekFrom::Start(size - tail_len))?;
    let mut tail = Vec::with_capacity(tail_len as usize);
    (&mut *file).take(tail_len).read_to_end(&mut tail)?;
    // The last signature with a whole record after it (this runs for every file no magic
    // identified).
    let signatures_end = tail.len().saturating_sub(END_RECORD as usize - 4);
    let Some(at) = rfind_end_signature(&tail[..signatures_end]) else {
        return Ok(None);
    };
    let record_at = size - tail_len + at as u64;
    let mut end = ZipEnd {
        directory_end: record_at,
        directory_at: 0,
        declared_count: le_u16(&tail, at + 10),
        count_at: record_at + 8,
        zip64: false,
    };
    let mut directory_size = le_u32(&tail, at + 12);
    let zip64_marked = end.declared_count == 0xFFFF
        || directory_size == 0xFFFF_FFFF
        || le_u32(&tail, at + 16) == 0xFFFF_FFFF;
    // zip64: the locator right before the end record, the zip64 record right before the
    // locator (`_EndRecData64` reads them there); without them `zipfile` takes the record as is.
    if let Some(record64_at) = record_at
        .checked_sub(ZIP64_LOCATOR + ZIP64_RECORD)
        .filter(|_| zip64_marked)
    {
        let locator: [u8; 4] = read_at(file, record_at - ZIP64_LOCATOR)?;
        let record: [u8; ZIP64_RECORD as usize] = read_at(file, record64_at)?;
        if &locator == b"PK\x06\x07" && record.starts_with(b"PK\x06\x06") {
            end.directory_end = record64_at;
            end.declared_count = le_u64(&record, 32);
            end.count_at = record64_at + 24;
            end.zip64 = true;
            directory_size = le_u64(&record, 40);
        }
    }
    let Some(directory_at) = end.directory_end.checked_sub(directory_size) else {
        return Ok(None);
    };
    end.directory_at = directory_at;
    if directory_size == 0 {
        return Ok(Some(end));
    }
    let found = read_at::<_, 4>(file, directory_at).is_ok_and(|sig| &sig == b"PK\x01\x02");
    Ok(found.then_some(end))
}

/// The number of entries in a central directory, walked by its size as `zipfile` walks it,
/// whatever count the end record declares; `None` when it does not parse, or holds more
/// entries than a non-zip64 record can count.
fn counted_entries<R: Read + Seek + ?Sized>(file: &mut R, end: &ZipEnd) -> io::Result<Option<u64>> {
    file.seek(SeekFrom::Start(end.directory_at))?;
    let mut directory = BufReader::new(file);
    let mut at = end.directory_at;
    let mut count = 0u64;
    while at < end.directory_end {
        let mut header = [0u8; 46];
        if directory.read_exact(&mut header).is_err() || !header.starts_with(b"PK\x01\x02") {
            return Ok(None);
        }
        let variable = le_u16(&header, 28) + le_u16(&header, 30) + le_u16(&header, 32);
        directory.seek_relative(variable as i64)?;
        at += 46 + variable;
        count += 1;
        if !end.zip64 && count > 0xFFFF {
            return Ok(None);
        }
    }
    Ok(Some(count))
}

/// Whether `file` (`size` bytes) ends with a zip whatever comes before it, as `zipfile` finds
/// one: an end record in the last 64 KiB whose central directory sits right before it.
pub(crate) fn zip_at_end<R: Read + Seek + ?Sized>(file: &mut R, size: u64) -> io::Result<bool> {
    let found = zip_end(file, size)?.is_some();
    file.seek(SeekFrom::Start(0))?;
    Ok(found)
}

/// `file` (`size` bytes) as the `zip` crate should read it to see every member `zipfile` sees:
/// the member count walked from the central directory patched over a lying one (in the zip64
/// record for zip64 archives). Also the central directory's size when an end record was found,
/// to bound what listing it costs. Positioned at the start.
pub(crate) fn zip_view<R: Read + Seek>(
    mut file: R,
    size: u64,
) -> io::Result<(Patched<R>, Option<u64>)> {
    let mut patch = Vec::new();
    let mut patch_at = 0;
    let mut directory_size = None;
    if let Some(end) = zip_end(&mut file, size)? {
        directory_size = Some(end.directory_end - end.directory_at);
        let count = counted_entries(&mut file, &end)?;
        if let Some(count) = count.filter(|&n| n != end.declared_count) {
            patch_at = end.count_at;
            patch = if end.zip64 {
                [count.to_le_bytes(), count.to_le_bytes()].concat()
            } else {
                let count = u16::try_from(count).unwrap_or(u16::MAX).to_le_bytes();
                [count, count].concat()
            };
        }
    }
    file.seek(SeekFrom::Start(0))?;
    let view = Patched {
        inner: file,
        pos: 0,
        patch_at,
        patch,
    };
    Ok((view, directory_size))
}

/// A reader showing `patch` in place of the bytes at `patch_at`: the true member count over a
/// lying one.
pub(crate) struct Patched<R> {
    inner: R,
    pos: u64,
    patch_at: u64,
    patch: Vec<u8>,
}

impl<R: Read> Read for Patched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, byte) in buf[..n].iter_mut().enumerate() {
            let offset = self.pos + i as u64;
            if let Some(patched) = offset
                .checked_sub(self.patch_at)
                .and_then(|k| self.patch.get(k as usize))
            {
                *byte = *patched;
            }
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for Patched<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.pos = self.inner.seek(pos)?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::rfind_end_signature;

    #[test]
    fn end_signature_search_finds_the_last_whole_one_as_memmem_does() {
        let cases: [&[u8]; 7] = [
            b"",
            b"plain text, no signature",
            b"PK\x05\x06",
            b"xxPK\x05\x06yyPK\x05\x06zz",
            // 0x05 bytes that are not the signature's, before and after it.
            b"\x05\x05PK\x05\x06\x05K\x05\x06\x05",
            // Cut: the signature's last byte is past the end.
            b"abcPK\x05",
            b"\x05\x06PK\x05",
        ];
        for case in cases {
            assert_eq!(
                rfind_end_signature(case),
                memchr::memmem::rfind(case, b"PK\x05\x06"),
                "{case:?}"
            );
        }
    }
}
