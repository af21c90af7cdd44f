//! Reading the upstream release as a stream of members: a tar (plain, gzip, xz, bzip2, zstd),
//! a zip (through the scan's zip view, so it is read as Python's `zipfile` and `unzip` see
//! it), or a directory. The decoders are the scan's (`scan::compression`), wrapped in the
//! scan's bomb caps (`policy/archives.toml`); nothing is extracted to the disk.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context, Result};

use crate::error::Kind;
use crate::scan::archive::{ArchiveLimits, Capped, Container, Counting, Nesting};
use crate::scan::compression::LZMA_MEMORY_LIMIT;
use crate::scan::zip_view::zip_view;

/// What a member of the upstream release is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Directory,
    Symlink(String),
    HardLink(String),
    /// A member no source tarball may hold (device node, FIFO, unknown type): what it is.
    Refused(&'static str),
}

/// One member's header, as upstream wrote it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The name as stored (directories may or may not end with `/`).
    pub name: String,
    pub kind: EntryKind,
    pub mode: u32,
    pub mtime: i64,
    pub size: u64,
}

/// Whether to go on reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// The upstream release to read.
pub struct Upstream {
    path: PathBuf,
    shape: Shape,
}

#[derive(Debug, Clone)]
enum Shape {
    Tar,
    Zip,
    Directory,
    /// One file that is not an archive, shown as `<top>/<file name>`.
    Single(String),
}

impl Upstream {
    /// Opens `path`, telling its shape by content (a directory, a zip, a tar, possibly
    /// compressed); anything else is bad input.
    pub fn open(path: &Path) -> Result<Self> {
        let meta = std::fs::metadata(path)
            .with_context(|| format!("cannot read the upstream release {}", path.display()))
            .map_err(|err| Kind::Input.mark(err))?;
        if meta.is_dir() {
            return Ok(Self {
                path: path.to_path_buf(),
                shape: Shape::Directory,
            });
        }
        let mut head = Vec::with_capacity(512);
        File::open(path)
            .and_then(|file| file.take(512).read_to_end(&mut head))
            .with_context(|| format!("cannot read the upstream release {}", path.display()))
            .map_err(|err| Kind::Input.mark(err))?;
        let shape = match Container::sniff(&head) {
            Some(Container::Zip) => Shape::Zip,
            Some(Container::Tar | Container::Compressed(_)) => Shape::Tar,
            None => {
                return Err(Kind::Input.msg(format!(
                    "{}: not a tar (plain, gzip, xz, bzip2, zstd) or zip archive; give the \
                     tarball upstream released",
                    path.display()
                )));
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            shape,
        })
    }

    /// One file that is not an archive (downloaded weights), as the member
    /// `<top>/<file name>` in the directory `<top>/`.
    pub fn single(path: &Path, top: &str) -> Result<Self> {
        Ok(Self {
            path: path.to_path_buf(),
            shape: Shape::Single(top.to_string()),
        })
    }

    /// Whether [`Self::for_each`] can visit the members in an order of the caller's choice
    /// (a zip, by its central directory) rather than only in the stream's own order.
    pub fn random_access(&self) -> bool {
        matches!(self.shape, Shape::Zip)
    }

    /// Calls `visit` with each member and a reader of its content: in the order of the archive
    /// (a directory: sorted as `repack` sorts), or for a zip in `order` (indices into the
    /// archive's order). A cap of `limits` reached is an error naming it.
    pub fn for_each(
        &self,
        limits: &ArchiveLimits,
        order: Option<&[usize]>,
        visit: &mut dyn FnMut(Entry, &mut dyn Read) -> Result<Flow>,
    ) -> Result<()> {
        match &self.shape {
            Shape::Tar => self.tar_members(limits, visit),
            Shape::Zip => self.zip_members(limits, visit, order),
            Shape::Directory => self.directory_members(visit),
            Shape::Single(top) => self.single_member(top, visit),
        }
        .with_context(|| format!("{}", self.path.display()))
    }

    fn tar_members(
        &self,
        limits: &ArchiveLimits,
        visit: &mut dyn FnMut(Entry, &mut dyn Read) -> Result<Flow>,
    ) -> Result<()> {
        let mut file = BufReader::with_capacity(1 << 20, File::open(&self.path)?);
        // The first bytes tell the compression; they stay in the buffer for the decoder.
        let head: Vec<u8> = io::BufRead::fill_buf(&mut file)?
            .iter()
            .take(512)
            .copied()
            .collect();
        let consumed = Rc::new(Cell::new(0));
        let counted = Counting {
            inner: file,
            count: Rc::clone(&consumed),
        };
        let stream: Box<dyn Read> = match Container::sniff(&head) {
            Some(Container::Compressed(compression)) => {
                let decoder = compression.decoder(counted, LZMA_MEMORY_LIMIT)?;
                Box::new(Capped::new(decoder, consumed, &Nesting::top(), limits))
            }
            _ => Box::new(counted),
        };
        let mut archive = tar::Archive::new(stream);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let header = entry.header();
            let kind = match header.entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File,
                tar::EntryType::Directory => EntryKind::Directory,
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry
                        .link_name_bytes()
                        .map(|bytes| utf8(&bytes, "link target"))
                        .transpose()?
                        .unwrap_or_default();
                    if header.entry_type() == tar::EntryType::Symlink {
                        EntryKind::Symlink(target)
                    } else {
                        EntryKind::HardLink(target)
                    }
                }
                // A pax global header (git archive's commit id) describes no member.
                tar::EntryType::XGlobalHeader => continue,
                tar::EntryType::Char => EntryKind::Refused("a character device"),
                tar::EntryType::Block => EntryKind::Refused("a block device"),
                tar::EntryType::Fifo => EntryKind::Refused("a FIFO"),
                _ => EntryKind::Refused("a member of an unknown type"),
            };
            let header = entry.header();
            let described = Entry {
                name: utf8(&entry.path_bytes(), "name")?,
                kind,
                mode: header.mode().unwrap_or(0o644),
                mtime: header.mtime().map_or(0, |t| t as i64),
                size: entry.size(),
            };
            if visit(described, &mut entry)? == Flow::Stop {
                break;
            }
        }
        Ok(())
    }

    fn zip_members(
        &self,
        limits: &ArchiveLimits,
        visit: &mut dyn FnMut(Entry, &mut dyn Read) -> Result<Flow>,
        order: Option<&[usize]>,
    ) -> Result<()> {
        let mut file = File::open(&self.path)?;
        let size = file.seek(SeekFrom::End(0))?;
        let consumed = Rc::new(Cell::new(0));
        let (view, _) = zip_view(BufReader::new(file), size)?;
        let counted = Counting {
            inner: view,
            count: Rc::clone(&consumed),
        };
        let mut archive = zip::ZipArchive::new(counted)?;
        let all: Vec<usize> = (0..archive.len()).collect();
        for &index in order.unwrap_or(&all) {
            let member = archive.by_index(index)?;
            let name = member.name()?.into_owned();
            let mode = member.unix_mode().unwrap_or(0o644);
            let is_symlink = mode & 0o170000 == 0o120000;
            let mtime = member
                .last_modified()
                .and_then(|time| {
                    chrono::NaiveDate::from_ymd_opt(
                        time.year().into(),
                        time.month().into(),
                        time.day().into(),
                    )?
                    .and_hms_opt(
                        time.hour().into(),
                        time.minute().into(),
                        time.second().into(),
                    )
                })
                .map_or(0, |time| time.and_utc().timestamp());
            let is_dir = member.is_dir();
            let size = member.size();
            consumed.set(0);
            let mut capped = Capped::new(member, Rc::clone(&consumed), &Nesting::top(), limits);
            let kind = if is_dir {
                EntryKind::Directory
            } else if is_symlink {
                let mut target = Vec::new();
                (&mut capped).take(4096).read_to_end(&mut target)?;
                EntryKind::Symlink(utf8(&target, "link target")?)
            } else {
                EntryKind::File
            };
            let entry = Entry {
                name,
                size: if kind == EntryKind::File { size } else { 0 },
                kind,
                mode,
                mtime,
            };
            if visit(entry, &mut capped)? == Flow::Stop {
                break;
            }
        }
        Ok(())
    }

    /// A directory's members, sorted, named `<directory name>/…` as a tarball of it would be.
    fn directory_members(
        &self,
        visit: &mut dyn FnMut(Entry, &mut dyn Read) -> Result<Flow>,
    ) -> Result<()> {
        use std::os::unix::fs::MetadataExt;
        let top = self
            .path
            .canonicalize()?
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "upstream".to_string());
        let walk = walkdir::WalkDir::new(&self.path)
            .follow_links(false)
            .sort_by(|a, b| a.file_name().cmp(b.file_name()));
        for item in walk {
            let item = item?;
            let rel = item.path().strip_prefix(&self.path)?;
            let rel = utf8(rel.as_os_str().as_encoded_bytes(), "name")?;
            let name = if rel.is_empty() {
                top.clone()
            } else {
                format!("{top}/{rel}")
            };
            let meta = item.metadata()?;
            let file_type = meta.file_type();
            let kind = if file_type.is_dir() {
                EntryKind::Directory
            } else if file_type.is_file() {
                EntryKind::File
            } else if file_type.is_symlink() {
                let target = std::fs::read_link(item.path())?;
                EntryKind::Symlink(utf8(target.as_os_str().as_encoded_bytes(), "link target")?)
            } else {
                EntryKind::Refused("a device node, FIFO or socket")
            };
            let entry = Entry {
                name,
                size: if kind == EntryKind::File {
                    meta.len()
                } else {
                    0
                },
                kind,
                mode: meta.mode() & 0o7777,
                mtime: meta.mtime(),
            };
            let flow = if entry.kind == EntryKind::File {
                let mut file = File::open(item.path())?;
                visit(entry, &mut file)?
            } else {
                visit(entry, &mut io::empty())?
            };
            if flow == Flow::Stop {
                break;
            }
        }
        Ok(())
    }
}

impl Upstream {
    fn single_member(
        &self,
        top: &str,
        visit: &mut dyn FnMut(Entry, &mut dyn Read) -> Result<Flow>,
    ) -> Result<()> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(&self.path)?;
        let file_name = self
            .path
            .file_name()
            .map(|name| utf8(name.as_encoded_bytes(), "name"))
            .transpose()?
            .unwrap_or_default();
        let directory = Entry {
            name: format!("{top}/"),
            kind: EntryKind::Directory,
            mode: 0o755,
            mtime: meta.mtime(),
            size: 0,
        };
        if visit(directory, &mut io::empty())? == Flow::Stop {
            return Ok(());
        }
        let file = Entry {
            name: format!("{top}/{file_name}"),
            kind: EntryKind::File,
            mode: 0o644,
            mtime: meta.mtime(),
            size: meta.len(),
        };
        visit(file, &mut File::open(&self.path)?)?;
        Ok(())
    }
}

/// A name or link target as text; tarballs Debian accepts have UTF-8 names.
fn utf8(bytes: &[u8], what: &str) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        Kind::Input.msg(format!(
            "a member's {what} is not UTF-8 ({}); rename it upstream or exclude it",
            String::from_utf8_lossy(bytes)
        ))
    })
}
