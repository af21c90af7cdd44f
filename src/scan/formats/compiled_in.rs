//! Weights compiled into executables and shared libraries.
//!
//! Programs embed their networks with `INCBIN`, `xxd -i` or linker scripts (Debian's stockfish
//! carries its NNUE net in `.rodata`), so the bytes of the weight file appear unchanged inside
//! the binary. The file is read once, in fixed-size chunks, each searched for the signatures
//! of every `embeddable` format in `policy/formats.toml` with memchr's SIMD substring search;
//! each hit only nominates a start, and
//! the format's own check must then accept the bytes from there on, read through a window that
//! starts at the hit. A signature is a few bytes, so it also turns up in machine code and
//! string tables: the checks reject those, and the number of hits examined is capped.

use std::io::{self, Read, Seek, SeekFrom};

use memchr::memmem::Finder;

use crate::fsutil::read_full;

use super::{FormatTable, Identified, Probe, try_format};
use crate::scan::pickle::PickleTable;

/// Bytes searched at a time.
const COMPILED_IN_CHUNK: usize = 1 << 20;

/// One network found inside an executable.
#[derive(Debug, Clone)]
pub struct CompiledIn {
    /// Byte offset of the network's first byte in the executable.
    pub offset: u64,
    pub identified: Identified,
}

/// What the search found, and whether it stopped early.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub found: Vec<CompiledIn>,
    /// Set when more signature hits than `compiled-in-candidates-max` were met: the rest of
    /// the file was not examined.
    pub truncated: bool,
}

/// Searches `file` (`size` bytes) for networks in an `embeddable` format.
pub fn search_compiled_in<R: Read + Seek>(
    table: &FormatTable,
    pickle: &PickleTable,
    file: &mut R,
    size: u64,
    name: &str,
) -> io::Result<Search> {
    // Pattern i belongs to `owners[i]`: (format entry, the signature's offset in the file).
    let mut patterns = Vec::new();
    let mut owners = Vec::new();
    for (index, spec) in table.formats.iter().enumerate() {
        if !spec.embeddable {
            continue;
        }
        for magic in spec.magic.iter().filter(|m| m.offset >= 0) {
            patterns.push(magic.hex.clone());
            owners.push((index, magic.offset as u64));
        }
    }
    let mut search = Search::default();
    if patterns.is_empty() {
        return Ok(search);
    }
    let finders: Vec<Finder> = patterns.iter().map(Finder::new).collect();
    let max = table.limits.compiled_in_candidates_max;
    let mut candidates = Vec::new();
    // The file is read in chunks, each searched whole for every signature (a few passes over
    // a chunk in cache cost less than reading it); the last bytes of a chunk are kept
    // in front of the next so that a signature across the boundary is still seen, and a hit
    // lying wholly within those kept bytes was already counted.
    let keep = patterns.iter().map(Vec::len).max().unwrap_or(1) - 1;
    let mut buffer = vec![0u8; keep + COMPILED_IN_CHUNK];
    let (mut filled, mut buffer_at) = (0usize, 0u64);
    file.seek(SeekFrom::Start(0))?;
    'chunks: loop {
        let kept = filled;
        let read = read_full(file, &mut buffer[kept..])?;
        if read == 0 {
            break;
        }
        filled = kept + read;
        let hits = finders.iter().enumerate().flat_map(|(pattern, finder)| {
            finder
                .find_iter(&buffer[..filled])
                .map(move |at| (pattern, at))
        });
        for (pattern, at) in hits {
            if at + patterns[pattern].len() <= kept {
                continue;
            }
            let (index, magic_offset) = owners[pattern];
            // A signature that sits past the start of its format (TFLite's at 4) must leave
            // room for the bytes before it; one at the very start of the file is the file
            // itself.
            let Some(start) = (buffer_at + at as u64).checked_sub(magic_offset) else {
                continue;
            };
            if start == 0 {
                continue;
            }
            if candidates.len() == max {
                search.truncated = true;
                break 'chunks;
            }
            candidates.push((start, index));
        }
        let carry = keep.min(filled);
        buffer.copy_within(filled - carry..filled, 0);
        buffer_at += (filled - carry) as u64;
        filled = carry;
    }
    for (start, index) in candidates {
        let spec = &table.formats[index];
        let mut window = Window {
            inner: &mut *file,
            start,
            len: size - start,
            pos: 0,
        };
        let mut head = Vec::new();
        (&mut window)
            .take(table.limits.head_bytes as u64)
            .read_to_end(&mut head)?;
        let mut probe = Probe {
            file: &mut window,
            size: size - start,
            name,
            on_disk: None,
            head,
            limits: &table.limits,
            tables: &table.tables,
            pickle,
            formats: &table.formats,
            zip_names: None,
        };
        if let Some(identified) = try_format(&mut probe, spec)?
            && identified.class == super::Class::Weights
        {
            search.found.push(CompiledIn {
                offset: start,
                identified,
            });
        }
    }
    Ok(search)
}

/// The bytes of `inner` from `start` on, as a file of their own.
struct Window<'a, R> {
    inner: &'a mut R,
    start: u64,
    len: u64,
    pos: u64,
}

impl<R: Read + Seek> Read for Window<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        if left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        self.inner.seek(SeekFrom::Start(self.start + self.pos))?;
        let got = self.inner.read(&mut buf[..want])?;
        self.pos += got as u64;
        Ok(got)
    }
}

impl<R: Read + Seek> Seek for Window<'_, R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
        };
        let target = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the window's start",
            )
        })?;
        self.pos = target;
        Ok(target)
    }
}
