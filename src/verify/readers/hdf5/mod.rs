//! HDF5 (Keras 2 `.h5`, h5py files) and Keras 3 `.keras` (a zip whose stored member
//! `model.weights.h5` is HDF5), read without libhdf5: the group hierarchy is walked from the
//! root, through old-style groups (a symbol table: v1 B-tree and local heap, what h5py and
//! Keras write by default) and compact new-style groups (link messages); every dataset of
//! numbers is a tensor named by its full path without the leading `/` (`layers/dense/vars/0`
//! in Keras 3, `model_weights/dense/dense/kernel:0` in Keras 2).
//!
//! Compact and contiguous datasets are byte ranges of the file, streamed as any other tensor;
//! chunked ones (layout version 3, v1 B-tree chunk index) are decompressed row of chunks by row
//! of chunks ([`chunked`]). Dense link storage (a fractal heap), layout version 4 chunk indexes,
//! committed datatypes and filters other than deflate, shuffle and Fletcher-32 are errors
//! naming the group or dataset. Every walk is bounded by the `hdf5-*` caps of
//! `policy/verify.toml`.

mod chunked;
mod structures;

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use crate::verify::VerifyLimits;
use crate::verify::tensors::{DataRef, TensorInfo};

use self::chunked::ChunkRef;
pub use self::chunked::{Chunked, ChunkedReader};
use self::structures::{
    Cursor, Filter, MSG_DATASPACE, MSG_DATATYPE, MSG_FILTERS, MSG_LAYOUT, MSG_LINK, MSG_LINK_INFO,
    MSG_SYMBOL_TABLE, Message, Source,
};

/// The member of a Keras 3 archive that holds the weights in HDF5 (Keras' `saving_lib`
/// writes it with `ZipFile.writestr`, stored).
pub const KERAS_WEIGHTS: &str = "model.weights.h5";

/// The tensors of the HDF5 bytes `start..end` of the file at `path`.
pub(super) fn tensors(
    path: &Path,
    file: &mut File,
    start: u64,
    end: u64,
    limits: &VerifyLimits,
) -> Result<Vec<TensorInfo>, String> {
    let (source, root) = Source::open(file, start, end, limits)?;
    let mut walk = Walk {
        source,
        path,
        tensors: Vec::new(),
        chunks: 0,
    };
    walk.object(root, String::new(), &mut Vec::new())?;
    Ok(walk.tensors)
}

/// The tensors of a Keras 3 `.keras` archive: those of its stored `model.weights.h5`.
pub(super) fn keras(
    path: &Path,
    mut file: File,
    limits: &VerifyLimits,
    formats: &crate::scan::formats::Limits,
) -> Result<Vec<TensorInfo>, String> {
    let clone = file.try_clone().map_err(|e| format!("cannot read: {e}"))?;
    let entries = super::zip_entries(clone, formats)?;
    let weights = entries
        .iter()
        .find(|e| e.name == KERAS_WEIGHTS)
        .ok_or_else(|| format!("a Keras archive without {KERAS_WEIGHTS}"))?;
    if weights.member.deflated {
        return Err(format!(
            "{KERAS_WEIGHTS} is deflated in the archive (Keras stores it); unzip it and \
             compare the .h5 files"
        ));
    }
    let start = weights.member.data_start;
    let end = start
        .checked_add(weights.size)
        .ok_or_else(|| format!("{KERAS_WEIGHTS}: size overflows"))?;
    tensors(path, &mut file, start, end, limits).map_err(|e| format!("{KERAS_WEIGHTS}: {e}"))
}

struct Walk<'a, 'p> {
    source: Source<'a>,
    path: &'p Path,
    tensors: Vec<TensorInfo>,
    /// Chunks of all chunked datasets so far (`hdf5-chunks-max`).
    chunks: u64,
}

impl Walk<'_, '_> {
    /// Reads the object at `address`, named `name` (`""` for the root group): a group is
    /// walked, a dataset becomes a tensor, anything else (a committed datatype) is passed
    /// over. `ancestors` are the groups above it, so that a link back up is a loop.
    fn object(
        &mut self,
        address: u64,
        name: String,
        ancestors: &mut Vec<u64>,
    ) -> Result<(), String> {
        let shown = if name.is_empty() { "/" } else { name.as_str() };
        let messages = self
            .source
            .object_header(address)
            .map_err(|e| format!("{shown}: {e}"))?;
        let find = |kind: u16| messages.iter().find(|m| m.kind == kind);
        if let Some(layout) = find(MSG_LAYOUT) {
            return self.dataset(&name, layout, &messages);
        }
        let links = self.links(&messages, shown)?;
        if links.is_empty() && find(MSG_SYMBOL_TABLE).is_none() && find(MSG_LINK_INFO).is_none() {
            return Ok(());
        }
        if ancestors.contains(&address) {
            return Err(format!(
                "group {shown} links back to a group above it (a loop)"
            ));
        }
        if ancestors.len() as u64 >= u64::from(self.source.limits.hdf5_depth_max) {
            return Err(format!(
                "group {shown}: nested more than hdf5-depth-max ({}) deep in policy/verify.toml",
                self.source.limits.hdf5_depth_max
            ));
        }
        ancestors.push(address);
        for (link, child) in links {
            let child_name = if name.is_empty() {
                link
            } else {
                format!("{name}/{link}")
            };
            self.object(child, child_name, ancestors)?;
        }
        ancestors.pop();
        Ok(())
    }

    /// A group's hard links, from its symbol table or its link messages. Soft and external
    /// links name objects by path, which h5py does not follow when it lists a group's
    /// members either.
    fn links(&mut self, messages: &[Message], group: &str) -> Result<Vec<(String, u64)>, String> {
        let what = format!("group {group}");
        let o = self.source.offset_size;
        let mut links = Vec::new();
        for message in messages {
            match message.kind {
                MSG_SYMBOL_TABLE => {
                    let mut cursor = Cursor::new(&message.data, &what);
                    let btree = cursor.offset(o)?;
                    let heap = cursor.offset(o)?;
                    let (Some(btree), Some(heap)) = (btree, heap) else {
                        return Err(format!("{what}: a symbol table at an undefined address"));
                    };
                    links.extend(self.source.symbol_table(btree, heap, group)?);
                }
                MSG_LINK_INFO => {
                    let mut cursor = Cursor::new(&message.data, &what);
                    cursor.skip(1)?;
                    let flags = cursor.u8()?;
                    if flags & 0x01 != 0 {
                        cursor.skip(8)?;
                    }
                    if cursor.offset(o)?.is_some() {
                        return Err(format!(
                            "{what}: links in dense storage (a fractal heap), which verify does \
                             not read; rewrite the file with h5py's default (libver='earliest')"
                        ));
                    }
                }
                MSG_LINK => {
                    if let Some(link) = hard_link(&message.data, &what, o)? {
                        links.push(link);
                    }
                }
                _ => {}
            }
        }
        Ok(links)
    }

    /// A dataset: its shape, element type and where its values are.
    fn dataset(
        &mut self,
        name: &str,
        layout: &Message,
        messages: &[Message],
    ) -> Result<(), String> {
        let what = format!("dataset {name}");
        let find = |kind: u16| {
            messages
                .iter()
                .find(|m| m.kind == kind)
                .ok_or_else(|| format!("{what}: no {} message", message_name(kind)))
        };
        let Some(shape) =
            structures::dataspace(&find(MSG_DATASPACE)?.data, &what, self.source.length_size)?
        else {
            return Err(format!("{what}: a null dataspace (no values at all)"));
        };
        let (dtype, big_endian) = structures::datatype(&find(MSG_DATATYPE)?.data, &what)?;
        let element_size = dtype.block().0;
        let pipeline = match messages.iter().find(|m| m.kind == MSG_FILTERS) {
            Some(message) => structures::filters(&message.data, &what, element_size)?,
            None => Vec::new(),
        };
        let mut info = TensorInfo {
            name: name.to_string(),
            shape,
            dtype,
            big_endian,
            data: Err(String::new()),
        };
        let elements = info
            .elements()
            .ok_or_else(|| format!("{what}: shape {:?} overflows", info.shape))?;
        let bytes = dtype
            .bytes_for(elements)
            .ok_or_else(|| format!("{what}: shape {:?} overflows", info.shape))?;
        let mut cursor = Cursor::new(&layout.data, &what);
        let version = cursor.u8()?;
        if !(3..=4).contains(&version) {
            return Err(format!(
                "{what}: data layout message version {version}, which verify does not read \
                 (3 and 4 are what HDF5 1.6 and later write)"
            ));
        }
        let o = self.source.offset_size;
        let end = self.source.end;
        info.data = match cursor.u8()? {
            0 => {
                let len = u64::from(cursor.u16()?);
                if !pipeline.is_empty() {
                    return Err(format!("{what}: a compact dataset with filters"));
                }
                let offset = self.source.absolute(layout.address + 4, len, &what)?;
                super::check_range(&info, offset, len, end)?;
                Ok(self.data_ref(offset, len, None))
            }
            1 => {
                let address = cursor.offset(o)?;
                let len = cursor.uint(self.source.length_size)?;
                if !pipeline.is_empty() {
                    return Err(format!("{what}: a contiguous dataset with filters"));
                }
                match address {
                    None => Err(
                        "no values written (all fill value), which verify does not compare"
                            .to_string(),
                    ),
                    Some(address) => {
                        let offset = self.source.absolute(address, len, &what)?;
                        super::check_range(&info, offset, len, end)?;
                        Ok(self.data_ref(offset, len, None))
                    }
                }
            }
            2 if version == 3 => {
                let rank = usize::from(cursor.u8()?);
                let address = cursor.offset(o)?;
                let dims = (0..rank)
                    .map(|_| cursor.u32().map(u64::from))
                    .collect::<Result<Vec<u64>, String>>()?;
                match address {
                    None => Err(
                        "no chunk written (all fill value), which verify does not compare"
                            .to_string(),
                    ),
                    Some(address) => {
                        let chunked =
                            self.chunked(&what, &info, &dims, address, pipeline, element_size)?;
                        chunked.map(|chunked| self.data_ref(0, bytes, Some(Arc::new(chunked))))
                    }
                }
            }
            2 => {
                return Err(format!(
                    "{what}: chunked with a version 4 layout (a fixed, extensible or v2 B-tree \
                     chunk index, HDF5 1.10's libver='latest'), which verify does not read"
                ));
            }
            3 => {
                return Err(format!(
                    "{what}: a virtual dataset, which verify does not read"
                ));
            }
            class => return Err(format!("{what}: data layout class {class}")),
        };
        if self.tensors.len() as u64 >= self.source.limits.hdf5_objects_max {
            return Err(format!(
                "more than hdf5-objects-max ({}) datasets in policy/verify.toml",
                self.source.limits.hdf5_objects_max
            ));
        }
        self.tensors.push(info);
        Ok(())
    }

    fn data_ref(&self, offset: u64, len: u64, chunked: Option<Arc<Chunked>>) -> DataRef {
        DataRef {
            path: self.path.to_path_buf(),
            member: None,
            offset,
            len,
            chunked,
        }
    }

    /// A chunked dataset's chunk index, walked and checked whole: every chunk inside the
    /// shape, none twice, each within the file. A dataset with chunks never written (fill
    /// values) is listed but not compared.
    fn chunked(
        &mut self,
        what: &str,
        info: &TensorInfo,
        dims: &[u64],
        btree: u64,
        pipeline: Vec<Filter>,
        element_size: usize,
    ) -> Result<Result<Chunked, String>, String> {
        let rank = info.shape.len();
        if dims.len() != rank + 1 || rank == 0 {
            return Err(format!(
                "{what}: chunks of {} dimensions for a shape of {rank}",
                dims.len().saturating_sub(1)
            ));
        }
        if dims[rank] != element_size as u64 {
            return Err(format!(
                "{what}: chunk elements of {} bytes for a datatype of {element_size}",
                dims[rank]
            ));
        }
        let chunk = dims[..rank].to_vec();
        if chunk.contains(&0) {
            return Err(format!("{what}: a chunk dimension of 0"));
        }
        let cap = self.source.limits.hdf5_decompressed_max;
        let over = |bytes: Option<u64>, of: &str| {
            if bytes.is_none_or(|b| b > cap) {
                Err(format!(
                    "{what}: {of} decompresses to more than hdf5-decompressed-max ({cap} bytes) \
                     in policy/verify.toml"
                ))
            } else {
                Ok(())
            }
        };
        let chunk_bytes = chunk
            .iter()
            .try_fold(element_size as u64, |n, &d| n.checked_mul(d));
        over(chunk_bytes, "one chunk")?;
        let row_bytes = info.shape[1..]
            .iter()
            .try_fold(element_size as u64, |n, &d| n.checked_mul(d))
            .and_then(|n| n.checked_mul(chunk[0].min(info.shape[0])));
        over(row_bytes, "one row of chunks")?;
        let key_size = 8 + 8 * (rank + 1);
        let left = self.source.limits.hdf5_chunks_max - self.chunks;
        let leaves =
            self.source
                .btree_leaves(btree, 1, key_size, (left, "hdf5-chunks-max chunks"), what)?;
        self.chunks += leaves.len() as u64;
        let mut chunks = Vec::with_capacity(leaves.len());
        for (key, address) in leaves {
            let mut cursor = Cursor::new(&key, what);
            let size = u64::from(cursor.u32()?);
            let filter_mask = cursor.u32()?;
            let coords = (0..=rank)
                .map(|_| cursor.uint(8))
                .collect::<Result<Vec<u64>, String>>()?;
            let inside = coords[..rank]
                .iter()
                .zip(&chunk)
                .zip(&info.shape)
                .all(|((&at, &c), &d)| at % c == 0 && at < d)
                && coords[rank] == 0;
            if !inside {
                return Err(format!(
                    "{what}: a chunk at {coords:?}, outside the shape {:?}",
                    info.shape
                ));
            }
            over(Some(size), &format!("the chunk at {coords:?}"))?;
            let at = self.source.absolute(address, size, what)?;
            chunks.push(ChunkRef {
                coords: coords[..rank].to_vec(),
                at,
                size,
                filter_mask,
            });
        }
        chunks.sort_by(|a, b| a.coords.cmp(&b.coords));
        if let Some(twice) = chunks.windows(2).find(|w| w[0].coords == w[1].coords) {
            return Err(format!("{what}: two chunks at {:?}", twice[0].coords));
        }
        let expected = info
            .shape
            .iter()
            .zip(&chunk)
            .try_fold(1u64, |n, (&d, &c)| n.checked_mul(d.div_ceil(c)));
        if expected != Some(chunks.len() as u64) {
            return Ok(Err(format!(
                "{} of {} chunks written (the others are fill values), which verify does not \
                 compare",
                chunks.len(),
                expected.map_or_else(|| "too many".into(), |n| n.to_string())
            )));
        }
        Ok(Ok(Chunked {
            dataset: info.name.clone(),
            shape: info.shape.clone(),
            chunk,
            element_size,
            filters: pipeline,
            chunks,
        }))
    }
}

/// A link message's name and address when it is a hard link (IV.A.2.g).
fn hard_link(data: &[u8], what: &str, offset_size: usize) -> Result<Option<(String, u64)>, String> {
    let mut cursor = Cursor::new(data, what);
    let version = cursor.u8()?;
    if version != 1 {
        return Err(format!("{what}: link message version {version}, not 1"));
    }
    let flags = cursor.u8()?;
    let kind = if flags & 0x08 != 0 { cursor.u8()? } else { 0 };
    if flags & 0x04 != 0 {
        cursor.skip(8)?;
    }
    if flags & 0x10 != 0 {
        cursor.skip(1)?;
    }
    let name_len = cursor.uint(1 << (flags & 0x03))?;
    let name = cursor
        .bytes(usize::try_from(name_len).map_err(|_| format!("{what}: a link name too long"))?)?;
    let name = String::from_utf8_lossy(name).into_owned();
    if kind != 0 {
        return Ok(None);
    }
    let address = cursor
        .offset(offset_size)?
        .ok_or_else(|| format!("{what}: link {name} to an undefined address"))?;
    Ok(Some((name, address)))
}

fn message_name(kind: u16) -> &'static str {
    match kind {
        MSG_DATASPACE => "dataspace",
        MSG_DATATYPE => "datatype",
        _ => "required",
    }
}
