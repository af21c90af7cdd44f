//! Compressed streams, told by their first bytes: one table of magic numbers and one place that
//! builds decoders, shared by format identification, pickle analysis and archive recursion.

use std::io::{self, Read};

/// The largest dictionary an lzma-alone stream may make a decoder allocate while its whole
/// content is read (the header states it, so a hostile file could ask for gigabytes).
pub const LZMA_MEMORY_LIMIT: u64 = 256 * 1024 * 1024;

/// The compressions weights, pickles and archives come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zlib,
    Bzip2,
    Xz,
    /// The legacy `.lzma` format: no magic, only a properties byte and a dictionary size.
    LzmaAlone,
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
            _ => None,
        }
    }

    /// Whether the magic number is long and specific enough to try on any file of a tree;
    /// zlib's two bytes and lzma-alone's properties byte match too much ordinary data.
    pub fn has_strong_magic(self) -> bool {
        matches!(self, Self::Gzip | Self::Bzip2 | Self::Xz)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Zlib => "zlib",
            Self::Bzip2 => "bzip2",
            Self::Xz => "xz",
            Self::LzmaAlone => "lzma",
        }
    }

    /// A decoder of `input`, reading every concatenated member of gzip, bzip2 and xz streams as
    /// their command-line tools do. `lzma_memory_limit` bounds the dictionary an lzma-alone
    /// stream may ask for.
    pub fn decoder<'a>(
        self,
        input: impl Read + 'a,
        lzma_memory_limit: u64,
    ) -> io::Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Self::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
            Self::Zlib => Box::new(flate2::read::ZlibDecoder::new(input)),
            Self::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(input)),
            Self::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(input)),
            Self::LzmaAlone => {
                let stream = liblzma::stream::Stream::new_lzma_decoder(lzma_memory_limit)
                    .map_err(io::Error::other)?;
                Box::new(liblzma::read::XzDecoder::new_stream(input, stream))
            }
        })
    }
}
