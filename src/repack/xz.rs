//! The xz encoder of every tarball `repack` writes: liblzma's multithreaded stream encoder
//! (`lzma_stream_encoder_mt`), always, even with one job, with each block's filter chain chosen
//! by the block's content.
//!
//! The threaded encoder cuts the input into blocks of a fixed size (`xz-block-bytes`) and
//! compresses each on its own, so its output depends on the blocks' bytes and filter chains,
//! never on how many threads ran: `--jobs 1` and `--jobs 8` give the same bytes (for the same
//! liblzma). The single-threaded encoder writes one block and different bytes, so it is never
//! used.
//!
//! Why per block: float32 weights hardly compress, and preset 6's match finder spends most of
//! its time looking for matches that are not there. This encoder holds one block back, probes
//! it ([`is_numeric`]) and, between blocks, switches the encoder's chain with
//! `lzma_filters_update` (which the threaded encoder accepts at a block boundary: liblzma's
//! `stream_encoder_mt_update`) to the text chain (`xz-preset`) or the numeric chain
//! (`[numeric]`). Each block header records its own chain, so any xz decoder reads the one
//! stream. The `liblzma` crate's `Stream` does not expose `lzma_filters_update`, hence the
//! `liblzma-sys` calls; the liblzma linked is the one `liblzma-sys` builds from its bundled
//! source (it needs ≥ 5.8, newer than Debian bookworm's 5.4), so the bytes do not depend on
//! the system's liblzma.

use std::io::{self, Write};

use anyhow::{Result, bail};
use liblzma_sys as sys;
use serde::Deserialize;

/// `policy/repack.toml`: what the orig tarballs are compressed with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct XzSettings {
    /// The xz preset of text blocks, 0 to 9 (`xz -6` is dpkg-source's and mk-origtargz's
    /// default).
    #[serde(rename = "xz-preset")]
    pub preset: u32,
    /// Uncompressed bytes per xz block.
    #[serde(rename = "xz-block-bytes")]
    pub block_bytes: u64,
    /// The chain of blocks that look like packed numbers, and how they are told apart.
    pub numeric: NumericChain,
}

/// `[numeric]` of `policy/repack.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NumericChain {
    /// A block is numeric when the entropy of its bytes, counted apart at each position
    /// modulo 4, averages at least this many bits per byte ...
    pub min_entropy_bits: f64,
    /// ... and at least this many fewer than counted together (the mark of fixed-width
    /// words).
    pub min_alignment_gain_bits: f64,
    /// The LZMA2 preset the chain starts from.
    pub preset: u32,
    /// LZMA `lc`, `lp`, `pb`: literal context bits, literal position bits, position bits.
    pub literal_context_bits: u32,
    pub literal_position_bits: u32,
    pub position_bits: u32,
}

/// The filter chain a block is compressed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chain {
    Text,
    Numeric,
}

/// Blocks at most this large: a block is held in memory, and liblzma's threaded encoder
/// holds one more per thread.
const MAX_BLOCK_BYTES: u64 = 256 << 20;

/// Compressed bytes taken from liblzma per call.
const OUT_CHUNK: usize = 1 << 20;

/// An xz encoder writing to `out` with `threads` threads.
pub fn encoder<W: Write>(out: W, settings: &XzSettings, threads: u32) -> Result<Encoder<W>> {
    if !(4096..=MAX_BLOCK_BYTES).contains(&settings.block_bytes) {
        bail!(
            "policy/repack.toml: xz-block-bytes = {} is not between 4096 and {MAX_BLOCK_BYTES}",
            settings.block_bytes
        );
    }
    let text = lzma_options("xz-preset", settings.preset)?;
    let numeric = &settings.numeric;
    let mut fast = lzma_options("[numeric] preset", numeric.preset)?;
    // LZMA2 wants lc + lp <= 4 and pb <= 4 (xz's lzma_lzma_lclppb_encoder check).
    if numeric.literal_context_bits + numeric.literal_position_bits > 4 || numeric.position_bits > 4
    {
        bail!(
            "policy/repack.toml: [numeric] literal-context-bits + literal-position-bits must be \
             at most 4 and position-bits at most 4 (LZMA2's limits)"
        );
    }
    fast.lc = numeric.literal_context_bits;
    fast.lp = numeric.literal_position_bits;
    fast.pb = numeric.position_bits;
    let mut stream = RawStream::new();
    let mut options = Box::new([text, fast]);
    let filters = chain(&mut options[0]);
    // SAFETY: an all-zero lzma_mt is LZMA_MT's documented initial state (reserved fields 0).
    let mut mt: sys::lzma_mt = unsafe { std::mem::zeroed() };
    mt.threads = threads.max(1);
    mt.block_size = settings.block_bytes;
    mt.filters = filters.as_ptr();
    mt.check = sys::LZMA_CHECK_CRC64;
    // SAFETY: `stream` is LZMA_STREAM_INIT, `mt` and the chain it points to live through the
    // call (liblzma copies the chain).
    let ret = unsafe { sys::lzma_stream_encoder_mt(&mut stream.0, &mt) };
    check(ret).map_err(|err| anyhow::anyhow!("cannot start the xz encoder: {err}"))?;
    Ok(Encoder {
        out,
        stream,
        options,
        current: Chain::Text,
        pending: Vec::with_capacity(settings.block_bytes as usize),
        block_bytes: settings.block_bytes as usize,
        probe: numeric.clone(),
        buffer: vec![0; OUT_CHUNK],
    })
}

/// A preset's LZMA options, or an error naming the policy field.
fn lzma_options(field: &str, preset: u32) -> Result<sys::lzma_options_lzma> {
    // SAFETY: lzma_lzma_preset fills every field; zeroes are a valid start.
    let mut options: sys::lzma_options_lzma = unsafe { std::mem::zeroed() };
    // SAFETY: `options` is a valid, writable lzma_options_lzma.
    if preset > 9 || unsafe { sys::lzma_lzma_preset(&mut options, preset) } != 0 {
        bail!("policy/repack.toml: {field} = {preset} is not an xz preset (0 to 9)");
    }
    Ok(options)
}

/// The one-filter chain LZMA2 with `options`, terminated as liblzma wants.
fn chain(options: &mut sys::lzma_options_lzma) -> [sys::lzma_filter; 2] {
    [
        sys::lzma_filter {
            id: sys::LZMA_FILTER_LZMA2,
            options: (options as *mut sys::lzma_options_lzma).cast(),
        },
        sys::lzma_filter {
            id: sys::LZMA_VLI_UNKNOWN,
            options: std::ptr::null_mut(),
        },
    ]
}

/// Whether `block` looks like packed numbers: its bytes, counted apart at each position
/// modulo 4 (a float32's or int32's four bytes, two float16s), carry on average at least
/// `min_entropy_bits` bits per byte, and at least `min_alignment_gain_bits` fewer than the
/// same bytes counted together. Text and code stay near 4.5 to 5 bits at every position;
/// float32 weights reach 6.6 by position against 7.3 together (three mantissa bytes near 8,
/// the exponent byte near 2.6). Dense data without that word structure (an executable, a
/// compressed member, a serialisation with variable-length numbers) keeps the text chain:
/// its matches are what preset 6 finds and preset 0 misses. A short block cannot reach a
/// high entropy (at most log2 of its length), so a small tail stays text.
fn is_numeric(block: &[u8], probe: &NumericChain) -> bool {
    let mut counts = [[0u64; 256]; 4];
    for word in block.chunks_exact(4) {
        for (position, byte) in word.iter().enumerate() {
            counts[position][usize::from(*byte)] += 1;
        }
    }
    let words = (block.len() / 4) as u64;
    if words == 0 {
        return false;
    }
    let by_position = counts.iter().map(|c| entropy(c, words)).sum::<f64>() / 4.0;
    let mut together = [0u64; 256];
    for position in &counts {
        for (sum, count) in together.iter_mut().zip(position) {
            *sum += count;
        }
    }
    let together = entropy(&together, 4 * words);
    by_position >= probe.min_entropy_bits && together - by_position >= probe.min_alignment_gain_bits
}

/// The order-0 entropy, in bits per byte, of `total` bytes counted in `counts`.
fn entropy(counts: &[u64; 256], total: u64) -> f64 {
    counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let p = count as f64 / total as f64;
            -p * p.log2()
        })
        .sum()
}

/// The xz encoder: `Write` the tar in, then [`Encoder::finish`].
pub struct Encoder<W: Write> {
    out: W,
    stream: RawStream,
    /// The text and the numeric chain's LZMA options (boxed: the chains point into them).
    options: Box<[sys::lzma_options_lzma; 2]>,
    /// The chain the encoder has now.
    current: Chain,
    /// The block being gathered, up to `block_bytes`.
    pending: Vec<u8>,
    block_bytes: usize,
    probe: NumericChain,
    /// Compressed bytes on their way to `out`.
    buffer: Vec<u8>,
}

impl<W: Write> Encoder<W> {
    /// Compresses the last block, writes the index and stream footer, and gives the output
    /// back.
    pub fn finish(mut self) -> io::Result<W> {
        let block = std::mem::take(&mut self.pending);
        if !block.is_empty() {
            self.switch_chain(&block)?;
        }
        self.code(&block, sys::LZMA_FINISH)?;
        Ok(self.out)
    }

    /// Sets the chain `block` needs before it goes in.
    fn switch_chain(&mut self, block: &[u8]) -> io::Result<()> {
        let wanted = if is_numeric(block, &self.probe) {
            Chain::Numeric
        } else {
            Chain::Text
        };
        if wanted == self.current {
            return Ok(());
        }
        let filters = chain(&mut self.options[wanted as usize]);
        // SAFETY: the encoder is between blocks (every block before was fed whole, and a
        // block of `block_bytes` ends itself), and `filters` lives through the call (liblzma
        // copies it).
        let ret = unsafe { sys::lzma_filters_update(&mut self.stream.0, filters.as_ptr()) };
        check(ret).map_err(|err| io::Error::other(format!("xz: cannot switch chains: {err}")))?;
        self.current = wanted;
        Ok(())
    }

    /// Feeds the whole gathered block.
    fn encode_pending(&mut self) -> io::Result<()> {
        let block = std::mem::take(&mut self.pending);
        self.switch_chain(&block)?;
        let result = self.code(&block, sys::LZMA_RUN);
        self.pending = block;
        self.pending.clear();
        result
    }

    /// Runs liblzma over `input` with `action` until it took all the input (LZMA_RUN) or
    /// ended the stream (LZMA_FINISH), writing what it produces.
    fn code(&mut self, input: &[u8], action: sys::lzma_action) -> io::Result<()> {
        let raw = &mut self.stream.0;
        raw.next_in = input.as_ptr();
        raw.avail_in = input.len();
        let result = loop {
            raw.next_out = self.buffer.as_mut_ptr();
            raw.avail_out = self.buffer.len();
            // SAFETY: next_in/avail_in describe `input` and next_out/avail_out `buffer`, both
            // alive and unaliased for the call.
            let ret = unsafe { sys::lzma_code(raw, action) };
            let produced = self.buffer.len() - raw.avail_out;
            if let Err(err) = self.out.write_all(&self.buffer[..produced]) {
                break Err(err);
            }
            match ret {
                sys::LZMA_STREAM_END => break Ok(()),
                sys::LZMA_OK if action == sys::LZMA_RUN && raw.avail_in == 0 => break Ok(()),
                sys::LZMA_OK => {}
                err => break Err(io::Error::other(format!("xz: {}", describe(err)))),
            }
        };
        // Leave no pointer to `input` behind.
        raw.next_in = std::ptr::null();
        raw.avail_in = 0;
        result
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let taken = data.len().min(self.block_bytes - self.pending.len());
        self.pending.extend_from_slice(&data[..taken]);
        if self.pending.len() == self.block_bytes {
            self.encode_pending()?;
        }
        Ok(taken)
    }

    /// Flushes `out` only: ending a block early would make the blocks depend on where the
    /// writer flushed.
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// An `lzma_stream`, ended when dropped.
struct RawStream(sys::lzma_stream);

impl RawStream {
    fn new() -> Self {
        // SAFETY: an all-zero lzma_stream is LZMA_STREAM_INIT.
        Self(unsafe { std::mem::zeroed() })
    }
}

impl Drop for RawStream {
    fn drop(&mut self) {
        // SAFETY: the stream was initialised (or is still LZMA_STREAM_INIT, which lzma_end
        // accepts), and is ended once.
        unsafe { sys::lzma_end(&mut self.0) }
    }
}

fn check(ret: sys::lzma_ret) -> std::result::Result<(), &'static str> {
    match ret {
        sys::LZMA_OK => Ok(()),
        err => Err(describe(err)),
    }
}

/// liblzma's return codes in words.
fn describe(ret: sys::lzma_ret) -> &'static str {
    match ret {
        sys::LZMA_MEM_ERROR => "out of memory",
        sys::LZMA_MEMLIMIT_ERROR => "memory limit reached",
        sys::LZMA_OPTIONS_ERROR => "unsupported options",
        sys::LZMA_UNSUPPORTED_CHECK => "unsupported integrity check",
        sys::LZMA_PROG_ERROR => "liblzma was called wrongly (a bug in dh-mlmodel)",
        _ => "liblzma failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe() -> NumericChain {
        NumericChain {
            min_entropy_bits: 6.0,
            min_alignment_gain_bits: 0.25,
            preset: 0,
            literal_context_bits: 0,
            literal_position_bits: 2,
            position_bits: 2,
        }
    }

    /// xorshift64 (Marsaglia 2003): near 8 bits at every position.
    fn noise(len: usize) -> Vec<u8> {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    }

    #[test]
    fn only_dense_fixed_width_words_are_numeric() {
        let text = b"int f(int x) { return x * 3 + 1; }\n".repeat(1000);
        assert!(!is_numeric(&text, &probe()));
        // Dense but without word structure: the text chain.
        assert!(!is_numeric(&noise(1 << 16), &probe()));
        // Three dense bytes and a narrow fourth, as float32 mantissas and exponents.
        let mut words = noise(1 << 16);
        for (i, byte) in words.iter_mut().enumerate() {
            if i % 4 == 3 {
                *byte = 0x3c | (*byte & 1);
            }
        }
        assert!(is_numeric(&words, &probe()));
        assert!(!is_numeric(&[], &probe()));
    }
}
