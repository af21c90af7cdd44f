//! Compressed streams, the one place for them: the magic numbers that tell them apart, the
//! decoders, the file suffixes they come with, and the bounded decompression of a prefix that
//! format identification looks through. Shared by format identification (`formats`), pickle
//! analysis (`pickle`) and archive recursion (`archive`).

use std::io::{self, Read, Seek, SeekFrom};

/// The largest dictionary an lzma-alone stream may make a decoder allocate while its whole
/// content is read (the header states it, so a hostile file could ask for gigabytes).
pub const LZMA_MEMORY_LIMIT: u64 = 256 * 1024 * 1024;

/// The largest window (log2 bytes) a zstd frame may make a decoder allocate: 128 MiB, the limit
/// the `zstd` tool applies unless told `--long`.
const ZSTD_WINDOW_LOG_MAX: u32 = 27;

/// The compressions weights, pickles and archives come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zlib,
    Bzip2,
    Xz,
    /// The legacy `.lzma` format: no magic, only a properties byte and a dictionary size.
    LzmaAlone,
    Zstd,
}

impl Compression {
    pub fn sniff(head: &[u8]) -> Option<Self> {
        match head {
            [0x1f, 0x8b, ..] => Some(Self::Gzip),
            // zlib: deflate method with a window of at most 32 KiB, and the header checksum.
            [cmf @ 0x78, flg, ..] if (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0 => {
                Some(Self::Zlib)
            }
            // bzip2: `BZh` and the block size digit.
            [b'B', b'Z', b'h', b'1'..=b'9', ..] => Some(Self::Bzip2),
            [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Some(Self::Xz),
            [0x5d, 0, 0, ..] => Some(Self::LzmaAlone),
            // RFC 8878 §3.1.1: the frame magic 0xFD2FB528, little-endian.
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Self::Zstd),
            _ => None,
        }
    }

    /// Whether the magic number is long and specific enough to try on any file of a tree;
    /// zlib's two bytes and lzma-alone's properties byte match too much ordinary data.
    pub fn has_strong_magic(self) -> bool {
        matches!(self, Self::Gzip | Self::Bzip2 | Self::Xz | Self::Zstd)
    }

    /// Suffixes a file compressed this way has; stripped from its name to name what is inside.
    pub fn suffixes(self) -> &'static [&'static str] {
        match self {
            Self::Gzip => &[".gz", ".tgz", ".z"],
            Self::Xz => &[".xz", ".txz"],
            Self::Bzip2 => &[".bz2", ".tbz2", ".tbz"],
            Self::Zlib => &[".zz"],
            Self::LzmaAlone => &[".lzma"],
            Self::Zstd => &[".zst", ".tzst"],
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Zlib => "zlib",
            Self::Bzip2 => "bzip2",
            Self::Xz => "xz",
            Self::LzmaAlone => "lzma",
            Self::Zstd => "zstd",
        }
    }

    /// A decoder of `input`, reading every concatenated member of gzip, bzip2 and xz streams as
    /// their command-line tools do. `lzma_memory_limit` bounds the dictionary an lzma-alone
    /// stream may ask for.
    pub fn decoder<R: Read>(self, input: R, lzma_memory_limit: u64) -> io::Result<Decoder<R>> {
        Ok(match self {
            Self::Gzip => Decoder::Gzip(flate2::read::MultiGzDecoder::new(input)),
            Self::Zlib => Decoder::Zlib(flate2::read::ZlibDecoder::new(input)),
            Self::Bzip2 => Decoder::Bzip2(bzip2::read::MultiBzDecoder::new(input)),
            Self::Xz => Decoder::Xz(liblzma::read::XzDecoder::new_multi_decoder(input)),
            Self::LzmaAlone => {
                let stream = liblzma::stream::Stream::new_lzma_decoder(lzma_memory_limit)
                    .map_err(io::Error::other)?;
                Decoder::Xz(liblzma::read::XzDecoder::new_stream(input, stream))
            }
            Self::Zstd => {
                let mut decoder = zstd::stream::read::Decoder::new(input)?;
                // The frame header names its window; refuse more than zstd's own default
                // ceiling for decoders (128 MiB), which is what `zstd -d` accepts unasked.
                decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
                Decoder::Zstd(decoder)
            }
        })
    }
}

/// A decoder of one of the compressions: a type of its own rather than a boxed reader, so that
/// it can be sent to another thread whenever its input can (`check` decodes a `.deb`'s data
/// member on a thread of its own).
pub enum Decoder<R: Read> {
    Gzip(flate2::read::MultiGzDecoder<R>),
    Zlib(flate2::read::ZlibDecoder<R>),
    Bzip2(bzip2::read::MultiBzDecoder<R>),
    /// xz, and lzma-alone through the same liblzma reader.
    Xz(liblzma::read::XzDecoder<R>),
    Zstd(zstd::stream::read::Decoder<'static, io::BufReader<R>>),
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Gzip(decoder) => decoder.read(buf),
            Self::Zlib(decoder) => decoder.read(buf),
            Self::Bzip2(decoder) => decoder.read(buf),
            Self::Xz(decoder) => decoder.read(buf),
            Self::Zstd(decoder) => decoder.read(buf),
        }
    }
}

impl Compression {
    /// A decoder of one whole stream read once from start to end (a `.deb` member): xz with
    /// liblzma's multithreaded decoder, which decodes the blocks of a multi-block stream on
    /// `threads` threads (dpkg-deb and `xz -T` write such streams) and runs single-threaded on
    /// a single block; it uses fewer threads when they would need more than
    /// `memlimit_threading` bytes. Every other compression as [`Compression::decoder`].
    pub fn stream_decoder<R: Read>(
        self,
        input: R,
        threads: u32,
        memlimit_threading: u64,
    ) -> io::Result<Decoder<R>> {
        if self != Self::Xz {
            return self.decoder(input, LZMA_MEMORY_LIMIT);
        }
        let stream = liblzma::stream::MtStreamBuilder::new()
            .threads(threads.max(1))
            .memlimit_threading(memlimit_threading)
            .memlimit_stop(LZMA_MEMORY_LIMIT)
            .decoder()
            .map_err(io::Error::other)?;
        Ok(Decoder::Xz(liblzma::read::XzDecoder::new_stream(
            input, stream,
        )))
    }
}

/// The first `limit` decompressed bytes of `file` (`size` bytes, starting with `head`), or `None`
/// when it is not a compressed stream we know or nothing decompresses. A stream that breaks off
/// after some output still yields that output: the caller judges the prefix.
pub fn decompressed_prefix<R: Read + Seek>(
    file: &mut R,
    size: u64,
    head: &[u8],
    limit: usize,
) -> io::Result<Option<(Compression, Vec<u8>)>> {
    let Some(compression) = Compression::sniff(head) else {
        return Ok(None);
    };
    file.seek(SeekFrom::Start(0))?;
    let input = file.take(size);
    // Only a bounded prefix is read, so an lzma stream may name any dictionary.
    let Ok(decoder) = compression.decoder(input, u64::MAX) else {
        return Ok(None);
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
