//! What a reader learns of one tensor, and the bounded stream of its values.
//!
//! A reader never loads tensor data: it returns where each tensor's bytes are (a byte range of
//! the file, or of a zip member's data) and how to decode them. The comparison then streams
//! both sides in fixed-size chunks, so memory stays flat whatever the file size.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use std::sync::Arc;

use super::dtype::Dtype;
use super::readers::hdf5::{Chunked, ChunkedReader};

/// One tensor of a file: its name, row-major shape, element type and where its bytes are.
#[derive(Debug, Clone)]
pub struct TensorInfo {
    pub name: String,
    pub shape: Vec<u64>,
    pub dtype: Dtype,
    pub big_endian: bool,
    /// Where the bytes are; `Err` with the reason when they cannot be compared (a layout this
    /// tool does not read), so the tensor is still listed and named.
    pub data: Result<DataRef, String>,
}

impl TensorInfo {
    /// Elements the shape holds (`None` on overflow).
    pub fn elements(&self) -> Option<u64> {
        self.shape
            .iter()
            .try_fold(1u64, |count, &dim| count.checked_mul(dim))
    }
}

/// A byte range inside a file, or inside a zip member of it.
#[derive(Debug, Clone)]
pub struct DataRef {
    pub path: PathBuf,
    pub member: Option<Member>,
    /// Offset of the tensor's first byte in the file (or the member's uncompressed data).
    pub offset: u64,
    pub len: u64,
    /// An HDF5 chunked dataset: its chunks, decompressed row of chunks by row of chunks into
    /// row-major order as the values are read (`offset` is then 0, `len` the values' bytes).
    pub chunked: Option<Arc<Chunked>>,
}

/// A zip member holding the bytes: where its data starts in the archive, and whether it is
/// deflated (npz written by `np.savez_compressed`) or stored (`torch.save`, `np.savez`).
#[derive(Debug, Clone)]
pub struct Member {
    pub data_start: u64,
    pub compressed_size: u64,
    pub deflated: bool,
}

/// The values of one tensor, decoded chunk by chunk.
pub struct Values {
    reader: Box<dyn Read>,
    dtype: Dtype,
    big_endian: bool,
    remaining: u64,
    bytes: Vec<u8>,
}

impl Values {
    pub fn open(info: &TensorInfo, data: &DataRef) -> io::Result<Values> {
        Ok(Values {
            reader: Values::raw(data)?,
            dtype: info.dtype,
            big_endian: info.big_endian,
            remaining: data.len,
            bytes: Vec::new(),
        })
    }

    /// The `len` bytes of `data`, read from the file or inflated from the zip member.
    pub fn raw(data: &DataRef) -> io::Result<Box<dyn Read>> {
        let mut file = File::open(&data.path)?;
        if let Some(chunked) = &data.chunked {
            return Ok(Box::new(ChunkedReader::new(
                Arc::clone(chunked),
                &data.path,
                file,
            )));
        }
        Ok(match &data.member {
            None => {
                file.seek(SeekFrom::Start(data.offset))?;
                Box::new(BufReader::new(file).take(data.len))
            }
            Some(member) => {
                file.seek(SeekFrom::Start(member.data_start))?;
                let raw = BufReader::new(file).take(member.compressed_size);
                let mut inner: Box<dyn Read> = if member.deflated {
                    Box::new(flate2::read::DeflateDecoder::new(raw))
                } else {
                    Box::new(raw)
                };
                let skipped = io::copy(&mut (&mut inner).take(data.offset), &mut io::sink())?;
                if skipped != data.offset {
                    return Err(truncated(&data.path));
                }
                Box::new(inner.take(data.len))
            }
        })
    }

    /// Replaces `out` with the next `want` values (fewer only at the end). `want` is a multiple
    /// of every block length (256), so both sides of a comparison return the same count.
    pub fn next_chunk(&mut self, want: usize, out: &mut Vec<f64>, path: &Path) -> io::Result<()> {
        out.clear();
        let (block_bytes, block_len) = self.dtype.block();
        let blocks = want.div_ceil(block_len) as u64;
        let len = (blocks * block_bytes as u64).min(self.remaining);
        self.bytes.resize(len as usize, 0);
        // A decoder's own finding (an HDF5 chunk that fails its checksum) names the file and
        // the chunk; anything else cut the stream short.
        self.reader.read_exact(&mut self.bytes).map_err(|e| {
            if e.kind() == io::ErrorKind::InvalidData {
                e
            } else {
                truncated(path)
            }
        })?;
        self.remaining -= len;
        self.dtype.decode(&self.bytes, self.big_endian, out);
        Ok(())
    }
}

fn truncated(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!(
            "{}: tensor data ends before its header says",
            path.display()
        ),
    )
}
