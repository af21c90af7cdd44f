//! The values of a chunked HDF5 dataset, in row-major order.
//!
//! Chunks tile the dataset, so row-major order needs every chunk that crosses the current rows:
//! the chunks sharing one first coordinate (a row of chunks) are read, their filters undone in
//! reverse pipeline order (skipping those the chunk's filter mask marks as not applied, as
//! `H5Z_pipeline` does), and scattered into a buffer of those rows, which is then streamed. The
//! buffer's size was checked against `hdf5-decompressed-max` when the dataset was opened, and
//! no stage may grow past the chunk's size, so a compression bomb stops at the expected size.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::structures::Filter;

/// A chunked dataset's layout and chunk index, checked when the file was opened: every chunk
/// lies inside the shape, exactly once, and within the file.
#[derive(Debug)]
pub struct Chunked {
    pub dataset: String,
    pub shape: Vec<u64>,
    pub chunk: Vec<u64>,
    pub element_size: usize,
    pub filters: Vec<Filter>,
    /// Sorted by coordinates.
    pub chunks: Vec<ChunkRef>,
}

/// One stored chunk: its first element's coordinates, absolute file offset and stored size,
/// and which filters were skipped for it (bit i: filter i).
#[derive(Debug)]
pub struct ChunkRef {
    pub coords: Vec<u64>,
    pub at: u64,
    pub size: u64,
    pub filter_mask: u32,
}

/// Streams a chunked dataset's bytes in row-major order, one row of chunks in memory.
pub struct ChunkedReader {
    data: Arc<Chunked>,
    path: PathBuf,
    file: File,
    /// Index of the next chunk to read (chunks are sorted, so a row of chunks is a run).
    next: usize,
    rows: Vec<u8>,
    at: usize,
}

impl ChunkedReader {
    pub fn new(data: Arc<Chunked>, path: &Path, file: File) -> Self {
        ChunkedReader {
            data,
            path: path.to_path_buf(),
            file,
            next: 0,
            rows: Vec::new(),
            at: 0,
        }
    }

    fn error(&self, coords: &[u64], why: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: dataset {}: chunk at {coords:?}: {why}",
                self.path.display(),
                self.data.dataset
            ),
        )
    }

    /// Reads the next row of chunks into `rows`; false when none is left.
    fn next_row(&mut self) -> io::Result<bool> {
        let data = Arc::clone(&self.data);
        let Some(first) = data.chunks.get(self.next) else {
            return Ok(false);
        };
        let row = first.coords[0];
        let rank = data.shape.len();
        let element = data.element_size as u64;
        let height = data.chunk[0].min(data.shape[0] - row);
        // Bytes of one index step along each dimension, within the rows buffer.
        let mut strides = vec![element; rank];
        for d in (0..rank.saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * data.shape[d + 1];
        }
        self.rows.clear();
        self.rows.resize((height * strides[0]) as usize, 0);
        self.at = 0;
        let chunk_bytes = data.chunk.iter().product::<u64>() * element;
        while let Some(chunk) = data.chunks.get(self.next).filter(|c| c.coords[0] == row) {
            self.next += 1;
            let values = self.decode(chunk, chunk_bytes as usize)?;
            scatter(&data, chunk, &values, &strides, row, &mut self.rows);
        }
        Ok(true)
    }

    /// A chunk's bytes with its filters undone: exactly `expected` bytes.
    fn decode(&mut self, chunk: &ChunkRef, expected: usize) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::with_capacity(chunk.size as usize);
        self.file.seek(SeekFrom::Start(chunk.at))?;
        (&mut self.file).take(chunk.size).read_to_end(&mut bytes)?;
        if bytes.len() as u64 != chunk.size {
            return Err(self.error(&chunk.coords, "the file ends inside it"));
        }
        // No stage yields more than the values and one checksum per Fletcher-32 stage.
        let most = expected + 4 * self.data.filters.len();
        for (index, filter) in self.data.filters.iter().enumerate().rev() {
            if index < 32 && chunk.filter_mask & (1 << index) != 0 {
                continue;
            }
            bytes = match *filter {
                Filter::Deflate => {
                    let mut out = Vec::with_capacity(expected);
                    flate2::read::ZlibDecoder::new(&bytes[..])
                        .take(most as u64 + 1)
                        .read_to_end(&mut out)
                        .map_err(|e| self.error(&chunk.coords, &format!("deflate: {e}")))?;
                    if out.len() > most {
                        return Err(self.error(&chunk.coords, "inflates past its size"));
                    }
                    out
                }
                Filter::Shuffle(size) => unshuffle(&bytes, size),
                Filter::Fletcher32 => {
                    let Some(split) = bytes.len().checked_sub(4) else {
                        return Err(self.error(&chunk.coords, "shorter than its checksum"));
                    };
                    let stored = u32::from_le_bytes([
                        bytes[split],
                        bytes[split + 1],
                        bytes[split + 2],
                        bytes[split + 3],
                    ]);
                    let sum = fletcher32(&bytes[..split]);
                    // HDF5 before 1.6.3 stored the checksum with the bytes of each half
                    // swapped; H5Z_filter_fletcher32 accepts both.
                    let swapped = ((sum & 0x00ff_00ff) << 8) | ((sum & 0xff00_ff00) >> 8);
                    if stored != sum && stored != swapped {
                        return Err(self.error(&chunk.coords, "fails its Fletcher-32 checksum"));
                    }
                    bytes.truncate(split);
                    bytes
                }
            };
        }
        if bytes.len() != expected {
            return Err(self.error(
                &chunk.coords,
                &format!("{} bytes once decoded, not {expected}", bytes.len()),
            ));
        }
        Ok(bytes)
    }
}

impl Read for ChunkedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.rows.len() && !self.next_row()? {
            return Ok(0);
        }
        let n = buf.len().min(self.rows.len() - self.at);
        buf[..n].copy_from_slice(&self.rows[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Copies the part of a decoded chunk that lies inside the dataset into the rows buffer that
/// starts at row `row`: one run along the last dimension per index of the others.
fn scatter(
    data: &Chunked,
    chunk: &ChunkRef,
    values: &[u8],
    strides: &[u64],
    row: u64,
    rows: &mut [u8],
) {
    let rank = data.shape.len();
    let element = data.element_size as u64;
    let last = rank - 1;
    let run_len = data.chunk[last].min(data.shape[last] - chunk.coords[last]);
    // Index within the chunk along every dimension but the last.
    let mut index = vec![0u64; last];
    loop {
        let inside = (0..last).all(|d| chunk.coords[d] + index[d] < data.shape[d]);
        if inside {
            let mut source = 0u64;
            // The rows buffer starts at `row` along the first dimension (the last one, too,
            // for a vector).
            let first = if last == 0 { row } else { 0 };
            let mut target = (chunk.coords[last] - first) * element;
            for d in 0..last {
                source = source * data.chunk[d] + index[d];
                let global = chunk.coords[d] + index[d] - if d == 0 { row } else { 0 };
                target += global * strides[d];
            }
            let source = (source * data.chunk[last] * element) as usize;
            let len = (run_len * element) as usize;
            let target = target as usize;
            rows[target..target + len].copy_from_slice(&values[source..source + len]);
        }
        // Next index, last of the outer dimensions fastest.
        let mut d = last;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            index[d] += 1;
            if index[d] < data.chunk[d] {
                break;
            }
            index[d] = 0;
        }
    }
}

/// Undoes HDF5's shuffle filter (H5Zshuffle.c): the first bytes of every element, then the
/// second bytes, …; a tail shorter than one element of each was left as it was.
fn unshuffle(bytes: &[u8], size: usize) -> Vec<u8> {
    if size <= 1 {
        return bytes.to_vec();
    }
    let count = bytes.len() / size;
    let mut out = vec![0u8; bytes.len()];
    for byte in 0..size {
        for element in 0..count {
            out[element * size + byte] = bytes[byte * count + element];
        }
    }
    out[count * size..].copy_from_slice(&bytes[count * size..]);
    out
}

/// Fletcher-32 as HDF5 computes it (`H5_checksum_fletcher32`, H5checksum.c): big-endian
/// 16-bit words, an odd last byte as the high byte of a word, sums folded every 360 words.
fn fletcher32(data: &[u8]) -> u32 {
    let (mut sum1, mut sum2) = (0u32, 0u32);
    let words = data.chunks_exact(2);
    let tail = words.remainder();
    let mut words = words.peekable();
    while words.peek().is_some() {
        for word in words.by_ref().take(360) {
            sum1 += (u32::from(word[0]) << 8) | u32::from(word[1]);
            sum2 += sum1;
        }
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    if let [byte] = tail {
        sum1 += u32::from(*byte) << 8;
        sum2 += sum1;
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    (sum2 << 16) | sum1
}
