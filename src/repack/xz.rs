//! The xz encoder of every tarball `repack` writes: always liblzma's multithreaded encoder
//! (`lzma_stream_encoder_mt`), even with one job. The threaded encoder cuts the input into
//! blocks of a fixed size and compresses each on its own, so its output depends on the preset
//! and the block size only, never on how many threads ran: `--jobs 1` and `--jobs 8` give the
//! same bytes (for the same liblzma). The single-threaded encoder writes one block and
//! different bytes, so it is never used.

use std::io::Write;

use anyhow::{Context, Result};
use liblzma::stream::{Check, MtStreamBuilder};
use liblzma::write::XzEncoder;
use serde::Deserialize;

/// `policy/repack.toml`: what the orig tarballs are compressed with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct XzSettings {
    /// The xz preset, 0 to 9 (`xz -6` is dpkg-source's and mk-origtargz's default).
    #[serde(rename = "xz-preset")]
    pub preset: u32,
    /// Uncompressed bytes per xz block.
    #[serde(rename = "xz-block-bytes")]
    pub block_bytes: u64,
}

/// An xz encoder writing to `out` with `threads` threads.
pub fn encoder<W: Write>(out: W, settings: &XzSettings, threads: u32) -> Result<XzEncoder<W>> {
    let stream = builder(settings, threads)
        .encoder()
        .context("cannot start the xz encoder")?;
    Ok(XzEncoder::new_stream(out, stream))
}

/// The memory the encoder needs with `threads` threads, as liblzma computes it.
pub fn memory_usage(settings: &XzSettings, threads: u32) -> u64 {
    builder(settings, threads).memusage()
}

fn builder(settings: &XzSettings, threads: u32) -> MtStreamBuilder {
    let mut builder = MtStreamBuilder::new();
    builder
        .threads(threads.max(1))
        .block_size(settings.block_bytes)
        .preset(settings.preset)
        .check(Check::Crc64);
    builder
}
