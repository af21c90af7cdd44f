//! The HDF5 structures `verify` reads, decoded from bytes as the HDF5 File Format
//! Specification version 3.0 (docs.hdfgroup.org, "HDF5 File Format Specification") lays them
//! out: the superblock (II.A), object headers v1 and v2 (IV.A.1) and their messages (IV.A.2:
//! dataspace, datatype, link info, link, data layout, filter pipeline, continuation, symbol
//! table), version 1 B-tree nodes (III.A.1), symbol table nodes (III.B) and local heaps
//! (III.D). Every read is bounded by the policy caps and checked against the end of the
//! HDF5 bytes; nothing here panics on hostile input.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use crate::verify::VerifyLimits;
use crate::verify::dtype::Dtype;

/// The HDF5 signature, `\x89HDF\r\n\x1a\n`.
pub const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Message types (IV.A.2).
pub const MSG_DATASPACE: u16 = 0x0001;
pub const MSG_LINK_INFO: u16 = 0x0002;
pub const MSG_DATATYPE: u16 = 0x0003;
pub const MSG_LINK: u16 = 0x0006;
pub const MSG_LAYOUT: u16 = 0x0008;
pub const MSG_FILTERS: u16 = 0x000B;
pub const MSG_CONTINUATION: u16 = 0x0010;
pub const MSG_SYMBOL_TABLE: u16 = 0x0011;

/// A message's flag bit 1: its data is a reference to a shared message (a committed datatype,
/// a shared dataspace), which lives elsewhere.
const MESSAGE_SHARED: u8 = 0x02;

/// The HDF5 bytes of a file: a whole file, or a stored zip member (Keras 3 `.keras`).
/// Addresses are relative to the superblock, as the library reads them when a user block
/// precedes it.
pub struct Source<'a> {
    file: &'a mut File,
    /// Absolute offset of the superblock's signature.
    pub base: u64,
    /// Absolute end of the HDF5 bytes.
    pub end: u64,
    pub offset_size: usize,
    pub length_size: usize,
    pub limits: &'a VerifyLimits,
    /// Object headers and continuation blocks read so far (`hdf5-objects-max`).
    objects: u64,
}

impl<'a> Source<'a> {
    /// Finds the superblock in `start..end` of `file` (at 0 or after a user block of 512 bytes
    /// times a power of two, II.A) and returns the source and the root group's object header.
    pub fn open(
        file: &'a mut File,
        start: u64,
        end: u64,
        limits: &'a VerifyLimits,
    ) -> Result<(Source<'a>, u64), String> {
        let mut source = Source {
            file,
            base: start,
            end,
            offset_size: 8,
            length_size: 8,
            limits,
            objects: 0,
        };
        let mut at = 0u64;
        loop {
            if start + at + 8 > end {
                return Err("no HDF5 superblock signature".into());
            }
            if source.read(at, 8, "superblock signature")? == SIGNATURE {
                break;
            }
            at = if at == 0 { 512 } else { at * 2 };
        }
        source.base = start + at;
        let head = source.read(0, 16.min(end - source.base), "superblock")?;
        let mut cursor = Cursor::new(&head, "superblock");
        cursor.skip(8)?;
        let version = cursor.u8()?;
        let (offset_size, length_size) = match version {
            0 | 1 => {
                cursor.skip(4)?;
                (cursor.u8()?, cursor.u8()?)
            }
            2 | 3 => (cursor.u8()?, cursor.u8()?),
            other => return Err(format!("superblock version {other}, not 0 to 3")),
        };
        for (size, field) in [
            (offset_size, "size of offsets"),
            (length_size, "size of lengths"),
        ] {
            if ![2, 4, 8].contains(&size) {
                return Err(format!("superblock: {field} is {size}, not 2, 4 or 8"));
            }
        }
        source.offset_size = offset_size.into();
        source.length_size = length_size.into();
        let o = source.offset_size as u64;
        let root = if version <= 1 {
            // Fixed fields (24 bytes in v0, 28 in v1), four addresses, then the root group's
            // symbol table entry: link name offset, object header address, …
            let fixed = if version == 0 { 24 } else { 28 };
            let len = fixed + 6 * o;
            let bytes = source.read(0, len, "superblock")?;
            let mut cursor = Cursor::new(&bytes, "superblock");
            cursor.skip(fixed as usize + 5 * o as usize)?;
            cursor.offset(o as usize)?
        } else {
            // Base, superblock extension, end of file, root object header, checksum.
            let len = 12 + 4 * o + 4;
            let bytes = source.read(0, len, "superblock")?;
            let mut cursor = Cursor::new(&bytes, "superblock");
            cursor.skip(12 + 3 * o as usize)?;
            cursor.offset(o as usize)?
        };
        let root = root.ok_or("superblock: the root group's address is undefined")?;
        Ok((source, root))
    }

    /// `len` bytes at `address` (relative to the superblock), at most `hdf5-decompressed-max`
    /// and within the HDF5 bytes.
    pub fn read(&mut self, address: u64, len: u64, what: &str) -> Result<Vec<u8>, String> {
        if len > self.limits.hdf5_decompressed_max {
            return Err(format!(
                "{what} at {address:#x}: {len} bytes, more than hdf5-decompressed-max ({}) in \
                 policy/verify.toml",
                self.limits.hdf5_decompressed_max
            ));
        }
        let start = self.absolute(address, len, what)?;
        let mut bytes = Vec::with_capacity(len as usize);
        self.file
            .seek(SeekFrom::Start(start))
            .and_then(|_| (&mut *self.file).take(len).read_to_end(&mut bytes))
            .map_err(|e| format!("{what} at {address:#x}: cannot read: {e}"))?;
        if bytes.len() as u64 != len {
            return Err(format!("{what} at {address:#x}: the file ends inside it"));
        }
        Ok(bytes)
    }

    /// The absolute file offset of `len` bytes at `address`, checked to lie within the HDF5
    /// bytes.
    pub fn absolute(&self, address: u64, len: u64, what: &str) -> Result<u64, String> {
        self.base
            .checked_add(address)
            .filter(|start| start.checked_add(len).is_some_and(|end| end <= self.end))
            .ok_or_else(|| {
                format!(
                    "{what} at {address:#x}+{len}: past the end of the file ({} bytes of HDF5)",
                    self.end - self.base
                )
            })
    }

    /// Counts one more object header or continuation block against `hdf5-objects-max`.
    fn count_object(&mut self) -> Result<(), String> {
        self.objects += 1;
        if self.objects > self.limits.hdf5_objects_max {
            return Err(format!(
                "more than hdf5-objects-max ({}) object headers in policy/verify.toml",
                self.limits.hdf5_objects_max
            ));
        }
        Ok(())
    }

    /// The messages of the object header at `address`, continuation blocks followed.
    pub fn object_header(&mut self, address: u64) -> Result<Vec<Message>, String> {
        let what = format!("object header at {address:#x}");
        self.count_object()?;
        let remaining = self.end.saturating_sub(self.base.saturating_add(address));
        let prefix = self.read(address, 16.min(remaining), &what)?;
        let mut messages = Vec::new();
        let mut blocks: Vec<(u64, u64, bool)> = Vec::new();
        let v2 = prefix.starts_with(b"OHDR");
        if v2 {
            let mut cursor = Cursor::new(&prefix, &what);
            cursor.skip(4)?;
            let version = cursor.u8()?;
            if version != 2 {
                return Err(format!("{what}: version {version}, not 2"));
            }
            let flags = cursor.u8()?;
            let mut skip = 0u64;
            if flags & 0x20 != 0 {
                skip += 16; // access, modification, change and birth times
            }
            if flags & 0x10 != 0 {
                skip += 4; // attribute storage phase change values
            }
            let width = 1u64 << (flags & 0x03);
            let size_at = 6 + skip;
            let size_bytes = self.read(address.saturating_add(size_at), width, &what)?;
            let size = Cursor::new(&size_bytes, &what).uint(width as usize)?;
            let start = address.saturating_add(size_at + width);
            blocks.push((start, size, true));
            self.messages_v2(&mut blocks, &mut messages, flags & 0x04 != 0, &what)?;
        } else {
            let mut cursor = Cursor::new(&prefix, &what);
            let version = cursor.u8()?;
            if version != 1 {
                return Err(format!(
                    "{what}: neither a version 1 header nor `OHDR` (version byte {version})"
                ));
            }
            cursor.skip(1 + 2 + 4)?;
            let size = u64::from(cursor.u32()?);
            // The 12-byte prefix is padded to 16 so that messages are 8-byte aligned.
            blocks.push((address.saturating_add(16), size, false));
            self.messages_v1(&mut blocks, &mut messages, &what)?;
        }
        Ok(messages)
    }

    /// Version 1 messages: type (2), size (2), flags (1), reserved (3), data; continuation
    /// blocks hold messages with no prefix of their own.
    fn messages_v1(
        &mut self,
        blocks: &mut Vec<(u64, u64, bool)>,
        messages: &mut Vec<Message>,
        what: &str,
    ) -> Result<(), String> {
        let mut done = 0;
        while let Some(&(start, len, _)) = blocks.get(done) {
            done += 1;
            let bytes = self.read(start, len, what)?;
            let mut at = 0usize;
            while at + 8 <= bytes.len() {
                let mut cursor = Cursor::new(&bytes[at..], what);
                let kind = cursor.u16()?;
                let size = usize::from(cursor.u16()?);
                let flags = cursor.u8()?;
                let data = bytes
                    .get(at + 8..at + 8 + size)
                    .ok_or_else(|| format!("{what}: message {kind:#x} runs past its block"))?;
                self.keep(
                    kind,
                    flags,
                    data,
                    start + at as u64 + 8,
                    blocks,
                    messages,
                    what,
                )?;
                at += 8 + size.next_multiple_of(8);
            }
        }
        Ok(())
    }

    /// Version 2 messages: type (1), size (2), flags (1), creation order (2, when the header
    /// tracks it), data; each block ends with a checksum, and continuation blocks start
    /// with `OCHK`.
    fn messages_v2(
        &mut self,
        blocks: &mut Vec<(u64, u64, bool)>,
        messages: &mut Vec<Message>,
        creation_order: bool,
        what: &str,
    ) -> Result<(), String> {
        let header = if creation_order { 6 } else { 4 };
        let mut done = 0;
        while let Some(&(start, len, first)) = blocks.get(done) {
            done += 1;
            let bytes = self.read(start, len, what)?;
            let (from, to) = if first {
                (0, bytes.len())
            } else {
                if !bytes.starts_with(b"OCHK") || bytes.len() < 8 {
                    return Err(format!(
                        "{what}: continuation block at {start:#x} without `OCHK`"
                    ));
                }
                (4, bytes.len() - 4)
            };
            let mut at = from;
            // What is left after the last message, smaller than a message header, is a gap.
            while at + header <= to {
                let mut cursor = Cursor::new(&bytes[at..to], what);
                let kind = u16::from(cursor.u8()?);
                let size = usize::from(cursor.u16()?);
                let flags = cursor.u8()?;
                let data = bytes
                    .get(at + header..at + header + size)
                    .filter(|_| at + header + size <= to)
                    .ok_or_else(|| format!("{what}: message {kind:#x} runs past its block"))?;
                self.keep(
                    kind,
                    flags,
                    data,
                    start + (at + header) as u64,
                    blocks,
                    messages,
                    what,
                )?;
                at += header + size;
            }
        }
        Ok(())
    }

    /// Queues a continuation block, or keeps a message this reader uses.
    #[allow(clippy::too_many_arguments)]
    fn keep(
        &mut self,
        kind: u16,
        flags: u8,
        data: &[u8],
        address: u64,
        blocks: &mut Vec<(u64, u64, bool)>,
        messages: &mut Vec<Message>,
        what: &str,
    ) -> Result<(), String> {
        match kind {
            MSG_CONTINUATION => {
                let mut cursor = Cursor::new(data, what);
                let at = cursor
                    .offset(self.offset_size)?
                    .ok_or_else(|| format!("{what}: a continuation to an undefined address"))?;
                let len = cursor.uint(self.length_size)?;
                if blocks.iter().any(|&(start, _, _)| start == at) {
                    return Err(format!(
                        "{what}: continuation block at {at:#x} reached twice (a loop)"
                    ));
                }
                self.count_object()?;
                blocks.push((at, len, false));
            }
            MSG_DATASPACE | MSG_LINK_INFO | MSG_DATATYPE | MSG_LINK | MSG_LAYOUT | MSG_FILTERS
            | MSG_SYMBOL_TABLE => {
                if flags & MESSAGE_SHARED != 0 {
                    return Err(format!(
                        "{what}: a shared message of type {kind:#x} (a committed datatype or \
                         shared dataspace), which verify does not read"
                    ));
                }
                messages.push(Message {
                    kind,
                    data: data.to_vec(),
                    address,
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// The leaf entries of the version 1 B-tree at `address` of `node_type` (0: group, 1:
    /// chunks), each as its left key and child address, in key order. Levels must decrease by
    /// one from parent to child (so no walk can loop), no node may be reached twice, the root
    /// level is at most `hdf5-depth-max`, and at most `max_entries` entries are read.
    pub fn btree_leaves(
        &mut self,
        address: u64,
        node_type: u8,
        key_size: usize,
        max_entries: (u64, &str),
        what: &str,
    ) -> Result<Vec<(Vec<u8>, u64)>, String> {
        let o = self.offset_size;
        let mut seen = HashSet::new();
        let mut leaves = Vec::new();
        // (node address, level it must have; None for the root)
        let mut stack = vec![(address, None::<u8>)];
        while let Some((node, expected)) = stack.pop() {
            let node_what = format!("{what}: B-tree node at {node:#x}");
            if !seen.insert(node) {
                return Err(format!("{node_what} reached twice (a loop)"));
            }
            let head = self.read(node, 8 + 2 * o as u64, &node_what)?;
            let mut cursor = Cursor::new(&head, &node_what);
            if cursor.bytes(4)? != b"TREE" {
                return Err(format!("{node_what}: no `TREE` signature"));
            }
            let kind = cursor.u8()?;
            let level = cursor.u8()?;
            let entries = usize::from(cursor.u16()?);
            if kind != node_type {
                return Err(format!(
                    "{node_what}: node type {kind}, expected {node_type}"
                ));
            }
            match expected {
                None if u32::from(level) > self.limits.hdf5_depth_max => {
                    return Err(format!(
                        "{node_what}: {level} levels, more than hdf5-depth-max ({}) in \
                         policy/verify.toml",
                        self.limits.hdf5_depth_max
                    ));
                }
                Some(want) if want != level => {
                    return Err(format!(
                        "{node_what}: level {level} under a node of level {}",
                        u16::from(want) + 1
                    ));
                }
                _ => {}
            }
            let body_len = (entries as u64 + 1) * key_size as u64 + entries as u64 * o as u64;
            let body = self.read(node.saturating_add(8 + 2 * o as u64), body_len, &node_what)?;
            let mut cursor = Cursor::new(&body, &node_what);
            let mut children = Vec::with_capacity(entries);
            for _ in 0..entries {
                let key = cursor.bytes(key_size)?.to_vec();
                let child = cursor
                    .offset(o)?
                    .ok_or_else(|| format!("{node_what}: a child at an undefined address"))?;
                children.push((key, child));
            }
            if level == 0 {
                if leaves.len() as u64 + children.len() as u64 > max_entries.0 {
                    return Err(format!(
                        "{what}: more than {} ({}) in policy/verify.toml",
                        max_entries.1, max_entries.0
                    ));
                }
                leaves.extend(children);
            } else {
                // Pushed in reverse, so that children are visited in key order.
                for (_, child) in children.into_iter().rev() {
                    stack.push((child, Some(level - 1)));
                }
            }
        }
        Ok(leaves)
    }

    /// The links of an old-style group: its B-tree's symbol table nodes, names from its local
    /// heap.
    pub fn symbol_table(
        &mut self,
        btree: u64,
        heap: u64,
        group: &str,
    ) -> Result<Vec<(String, u64)>, String> {
        let what = format!("group {group}");
        let o = self.offset_size;
        let l = self.length_size;
        let heap_head = self.read(heap, 8 + 2 * l as u64 + o as u64, &what)?;
        let mut cursor = Cursor::new(&heap_head, &what);
        if cursor.bytes(4)? != b"HEAP" {
            return Err(format!("{what}: local heap at {heap:#x} without `HEAP`"));
        }
        cursor.skip(4)?;
        let heap_size = cursor.uint(l)?;
        cursor.skip(l)?;
        let heap_data = cursor
            .offset(o)?
            .ok_or_else(|| format!("{what}: local heap data at an undefined address"))?;
        let names = self.read(heap_data, heap_size, &what)?;
        let max = (self.limits.hdf5_objects_max, "hdf5-objects-max");
        let nodes = self.btree_leaves(btree, 0, l, max, &what)?;
        let entry_size = 2 * o + 24;
        let mut links = Vec::new();
        for (_, node) in nodes {
            let head = self.read(node, 8, &what)?;
            if !head.starts_with(b"SNOD") {
                return Err(format!(
                    "{what}: symbol table node at {node:#x} without `SNOD`"
                ));
            }
            let count = u64::from(u16::from_le_bytes([head[6], head[7]]));
            let entries = self.read(node.saturating_add(8), count * entry_size as u64, &what)?;
            for entry in entries.chunks_exact(entry_size) {
                let mut cursor = Cursor::new(entry, &what);
                let name_at = cursor.uint(o)?;
                let header = cursor
                    .offset(o)?
                    .ok_or_else(|| format!("{what}: a link to an undefined address"))?;
                let name = usize::try_from(name_at)
                    .ok()
                    .and_then(|at| names.get(at..))
                    .and_then(|rest| rest.iter().position(|&b| b == 0).map(|end| &rest[..end]))
                    .ok_or_else(|| {
                        format!("{what}: link name at heap offset {name_at} is not in the heap")
                    })?;
                links.push((String::from_utf8_lossy(name).into_owned(), header));
                if links.len() as u64 > self.limits.hdf5_objects_max {
                    return Err(format!(
                        "{what}: more than hdf5-objects-max ({}) links in policy/verify.toml",
                        self.limits.hdf5_objects_max
                    ));
                }
            }
        }
        Ok(links)
    }
}

/// A header message this reader uses, its data and the address of its data.
pub struct Message {
    pub kind: u16,
    pub data: Vec<u8>,
    pub address: u64,
}

/// Little-endian reads from a structure's bytes; running past them is an error naming it.
pub struct Cursor<'b> {
    bytes: &'b [u8],
    pub at: usize,
    what: &'b str,
}

impl<'b> Cursor<'b> {
    pub fn new(bytes: &'b [u8], what: &'b str) -> Self {
        Cursor { bytes, at: 0, what }
    }

    pub fn bytes(&mut self, len: usize) -> Result<&'b [u8], String> {
        let slice = self
            .at
            .checked_add(len)
            .and_then(|end| self.bytes.get(self.at..end))
            .ok_or_else(|| format!("{}: truncated", self.what))?;
        self.at += len;
        Ok(slice)
    }

    pub fn skip(&mut self, len: usize) -> Result<(), String> {
        self.bytes(len).map(|_| ())
    }

    pub fn u8(&mut self) -> Result<u8, String> {
        Ok(self.bytes(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, String> {
        Ok(self.uint(2)? as u16)
    }

    pub fn u32(&mut self) -> Result<u32, String> {
        Ok(self.uint(4)? as u32)
    }

    /// An unsigned little-endian integer of `len` (at most 8) bytes.
    pub fn uint(&mut self, len: usize) -> Result<u64, String> {
        let bytes = self.bytes(len)?;
        let mut word = [0u8; 8];
        let kept = len.min(8);
        word[..kept].copy_from_slice(&bytes[..kept]);
        if bytes[kept..].iter().any(|&b| b != 0) {
            return Err(format!("{}: a {len}-byte value too large", self.what));
        }
        Ok(u64::from_le_bytes(word))
    }

    /// An address of `len` bytes; all bits set is the undefined address (`None`).
    pub fn offset(&mut self, len: usize) -> Result<Option<u64>, String> {
        let bytes = self.bytes(len)?;
        if bytes.iter().all(|&b| b == 0xff) {
            return Ok(None);
        }
        Cursor::new(bytes, self.what).uint(len).map(Some)
    }
}

/// A dataspace message: the shape (`None`: a null dataspace, no elements at all).
pub fn dataspace(data: &[u8], what: &str, length_size: usize) -> Result<Option<Vec<u64>>, String> {
    let mut cursor = Cursor::new(data, what);
    let version = cursor.u8()?;
    let rank = usize::from(cursor.u8()?);
    let _flags = cursor.u8()?;
    match version {
        1 => cursor.skip(5)?,
        2 => {
            if cursor.u8()? == 2 {
                return Ok(None);
            }
        }
        other => return Err(format!("{what}: dataspace version {other}, not 1 or 2")),
    }
    // HDF5's H5S_MAX_RANK.
    if rank > 32 {
        return Err(format!("{what}: a dataspace of rank {rank}, more than 32"));
    }
    (0..rank)
        .map(|_| cursor.uint(length_size))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// A datatype message: the element type and whether it is big-endian. IEEE floats of 16
/// (binary16 or bfloat16), 32 and 64 bits, whole-byte integers, and enumerations of them
/// (h5py writes `bool` as an enumeration of int8) are read; anything else is an error.
pub fn datatype(data: &[u8], what: &str) -> Result<(Dtype, bool), String> {
    let mut cursor = Cursor::new(data, what);
    let class_version = cursor.u8()?;
    let bits = cursor.u8()?;
    cursor.skip(2)?;
    let size = cursor.u32()?;
    let big_endian = bits & 0x01 != 0;
    match class_version & 0x0f {
        0 => {
            let (offset, precision) = (cursor.u16()?, cursor.u16()?);
            if offset != 0 || u32::from(precision) != size * 8 {
                return Err(format!(
                    "{what}: an integer of {precision} bits at bit {offset} in {size} bytes"
                ));
            }
            let signed = bits & 0x08 != 0;
            let dtype = match (size, signed) {
                (1, true) => Dtype::I8,
                (2, true) => Dtype::I16,
                (4, true) => Dtype::I32,
                (8, true) => Dtype::I64,
                (1, false) => Dtype::U8,
                (2, false) => Dtype::U16,
                (4, false) => Dtype::U32,
                (8, false) => Dtype::U64,
                _ => return Err(format!("{what}: a {size}-byte integer")),
            };
            Ok((dtype, big_endian))
        }
        1 => {
            if bits & 0x40 != 0 {
                return Err(format!(
                    "{what}: a VAX-order float, which verify does not read"
                ));
            }
            cursor.skip(4)?;
            let (_, exponent_bits, _, mantissa_bits) =
                (cursor.u8()?, cursor.u8()?, cursor.u8()?, cursor.u8()?);
            let dtype = match (size, exponent_bits, mantissa_bits) {
                (2, 5, 10) => Dtype::F16,
                (2, 8, 7) => Dtype::BF16,
                (4, 8, 23) => Dtype::F32,
                (8, 11, 52) => Dtype::F64,
                _ => {
                    return Err(format!(
                        "{what}: a {size}-byte float with {exponent_bits} exponent and \
                         {mantissa_bits} mantissa bits, not IEEE binary16, bfloat16, binary32 \
                         or binary64"
                    ));
                }
            };
            Ok((dtype, big_endian))
        }
        8 => {
            let (dtype, big_endian) = datatype(&data[8.min(data.len())..], what)?;
            if matches!(dtype, Dtype::F16 | Dtype::BF16 | Dtype::F32 | Dtype::F64) {
                return Err(format!("{what}: an enumeration of floats"));
            }
            Ok((dtype, big_endian))
        }
        class => {
            let name = match class {
                2 => "time",
                3 => "string",
                4 => "bitfield",
                5 => "opaque",
                6 => "compound",
                7 => "reference",
                9 => "variable-length",
                10 => "array",
                _ => "unknown",
            };
            Err(format!(
                "{what}: a {name} datatype (class {class}); verify compares numbers only"
            ))
        }
    }
}

/// One filter of a dataset's pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// 1: zlib (`gzip` in h5py).
    Deflate,
    /// 2: byte shuffle of elements of this many bytes.
    Shuffle(usize),
    /// 3: a Fletcher-32 checksum appended to each chunk.
    Fletcher32,
}

/// A filter pipeline message (IV.A.2.l), in pipeline order (applied on write; undone in
/// reverse on read). Filters other than deflate, shuffle and Fletcher-32 are an error.
pub fn filters(data: &[u8], what: &str, element_size: usize) -> Result<Vec<Filter>, String> {
    let mut cursor = Cursor::new(data, what);
    let version = cursor.u8()?;
    let count = cursor.u8()?;
    if version == 1 {
        cursor.skip(6)?;
    } else if version != 2 {
        return Err(format!(
            "{what}: filter pipeline version {version}, not 1 or 2"
        ));
    }
    let mut pipeline = Vec::new();
    for _ in 0..count {
        let id = cursor.u16()?;
        let name_len = if version == 1 || id >= 256 {
            usize::from(cursor.u16()?)
        } else {
            0
        };
        let _flags = cursor.u16()?;
        let values = usize::from(cursor.u16()?);
        let name_len_stored = if version == 1 {
            name_len.next_multiple_of(8)
        } else {
            name_len
        };
        let name = cursor.bytes(name_len_stored)?;
        let name = String::from_utf8_lossy(name.split(|&b| b == 0).next().unwrap_or_default());
        let mut client = Vec::with_capacity(values);
        for _ in 0..values {
            client.push(cursor.u32()?);
        }
        if version == 1 && values % 2 == 1 {
            cursor.skip(4)?;
        }
        pipeline.push(match id {
            1 => Filter::Deflate,
            2 => Filter::Shuffle(
                client
                    .first()
                    .map_or(element_size, |&size| size as usize)
                    .max(1),
            ),
            3 => Filter::Fletcher32,
            _ => {
                let known = match id {
                    4 => "szip",
                    5 => "nbit",
                    6 => "scaleoffset",
                    32000 => "lzf",
                    32001 => "blosc",
                    32004 => "lz4",
                    32015 => "zstd",
                    _ => "",
                };
                let name = if name.is_empty() { known.into() } else { name };
                return Err(format!(
                    "{what}: filter {id} ({name}); verify undoes deflate, shuffle and \
                     fletcher32 only"
                ));
            }
        });
    }
    Ok(pipeline)
}
