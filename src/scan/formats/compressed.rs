//! Compressed streams whose content decides the format: Leela Zero text networks here, and the
//! bounded decompression that the compressed pickle/joblib checks share.

use std::io::{self, BufReader, Read, Seek, SeekFrom};

use super::{Details, Probe};

/// The compressions joblib and pickle files come in, told by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Compression {
    Gzip,
    Zlib,
    Bzip2,
    Xz,
    LzmaAlone,
}

impl Compression {
    fn sniff(head: &[u8]) -> Option<Self> {
        match head {
            [0x1f, 0x8b, ..] => Some(Self::Gzip),
            // zlib: deflate method with a window of at most 32 KiB, and the header checksum.
            [cmf @ 0x78, flg, ..] if (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0 => {
                Some(Self::Zlib)
            }
            [b'B', b'Z', b'h', ..] => Some(Self::Bzip2),
            [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Some(Self::Xz),
            [0x5d, 0, 0, ..] => Some(Self::LzmaAlone),
            _ => None,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Zlib => "zlib",
            Self::Bzip2 => "bzip2",
            Self::Xz => "xz",
            Self::LzmaAlone => "lzma",
        }
    }
}

/// The first `limit` decompressed bytes of the file, or `None` when it is not a compressed
/// stream we know or nothing decompresses. A stream that breaks off after some output still
/// yields that output: the caller judges the prefix.
pub(super) fn decompressed_prefix<R: Read + Seek>(
    probe: &mut Probe<R>,
    limit: usize,
) -> io::Result<Option<(Compression, Vec<u8>)>> {
    let Some(compression) = Compression::sniff(&probe.head) else {
        return Ok(None);
    };
    probe.file.seek(SeekFrom::Start(0))?;
    let input = BufReader::new((&mut *probe.file).take(probe.size));
    let decoder: Box<dyn Read + '_> = match compression {
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(input)),
        Compression::Zlib => Box::new(flate2::bufread::ZlibDecoder::new(input)),
        Compression::Bzip2 => Box::new(bzip2::bufread::BzDecoder::new(input)),
        Compression::Xz => Box::new(liblzma::bufread::XzDecoder::new(input)),
        Compression::LzmaAlone => {
            let Ok(stream) = liblzma::stream::Stream::new_lzma_decoder(u64::MAX) else {
                return Ok(None);
            };
            Box::new(liblzma::bufread::XzDecoder::new_stream(input, stream))
        }
    };
    let mut out = Vec::new();
    let mut limited = decoder.take(limit as u64);
    let mut chunk = [0u8; 8192];
    loop {
        match limited.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            // Corrupt or truncated input: keep what came out before it.
            Err(_) => break,
        }
    }
    Ok((!out.is_empty()).then_some((compression, out)))
}

/// Leela Zero: gzip of a text file whose first line is a version number and whose every
/// other line is a row of space-separated floats. Only a bounded prefix is decompressed.
pub(super) fn check_leela_zero<R: Read + Seek>(
    probe: &mut Probe<R>,
) -> io::Result<Option<Details>> {
    let limit = probe.limits.leela_prefix_bytes;
    let Some((Compression::Gzip, text)) = decompressed_prefix(probe, limit)? else {
        return Ok(None);
    };
    let complete = text.len() < limit;
    let Ok(text) = std::str::from_utf8(&text) else {
        // A cut in the middle of a multi-byte character is not possible in a network of
        // ASCII digits, so invalid UTF-8 anywhere means this is something else.
        return Ok(None);
    };
    let mut lines: Vec<&str> = text.split('\n').collect();
    // The last piece is an unfinished line when the prefix stopped early, or empty after the
    // final newline.
    if !complete || lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let Some((version, rows)) = lines.split_first() else {
        return Ok(None);
    };
    let version = version.trim_end_matches('\r');
    let version_ok = (1..=3).contains(&version.len())
        && version.bytes().all(|b| b.is_ascii_digit())
        && version != "0";
    let row_ok = |row: &&str| {
        let mut values = row.split_ascii_whitespace().peekable();
        values.peek().is_some() && values.all(|v| v.parse::<f32>().is_ok_and(f32::is_finite))
    };
    if !version_ok || rows.is_empty() || !rows.iter().all(row_ok) {
        return Ok(None);
    }
    Ok(Some(Details::note(format!(
        "Leela Zero network, format version {version}"
    ))))
}
