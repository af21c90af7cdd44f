//! apt, configured privately under the census directory: the sources of one suite, the
//! Contents indexes as an extra index target, `apt-get update`, the index files apt fetched
//! (`apt-get indextargets`), their text (`apt-helper cat-file` decompresses whatever
//! compression apt kept) and `apt-get download`.
//!
//! Nothing of the host's apt configuration is read (`APT_CONFIG` names our file, which moves
//! `Dir::Etc`, `Dir::State` and `Dir::Cache` under `DIR/apt/`), so a census never changes the
//! host's package lists, and two censuses (shards) never share a lock.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

use anyhow::{Context, Result, bail};

/// Where packages come from.
#[derive(Debug, Clone)]
pub enum Archive {
    /// An HTTP(S) mirror, its Release files checked with the Debian archive keyring.
    Remote { uri: String, keyring: PathBuf },
    /// A local directory laid out as a mirror (`dists/`, `pool/`), trusted as given.
    Local(PathBuf),
}

/// The archive a census reads by default.
pub const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
/// The keyring Debian's `debian-archive-keyring` package installs.
pub const DEFAULT_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
const APT_HELPER: &str = "/usr/lib/apt/apt-helper";

/// A private apt set-up under `DIR/apt/`.
#[derive(Debug, Clone)]
pub struct Apt {
    root: PathBuf,
}

/// One index file apt fetched.
#[derive(Debug, Clone)]
pub struct IndexFile {
    /// The name `apt-get indextargets` gives (apt may keep it compressed beside that name).
    pub path: PathBuf,
    /// `Packages` or `Contents-deb`.
    pub identifier: String,
    pub component: String,
    pub architecture: String,
}

impl Apt {
    /// Writes the configuration for `suite`'s `components` on `architecture` under
    /// `dir/apt/`, replacing one written before (its downloaded lists are kept, so a resumed
    /// census fetches only what changed).
    pub fn configure(
        dir: &Path,
        archive: &Archive,
        suite: &str,
        components: &[String],
        architecture: &str,
    ) -> Result<Self> {
        let root = std::path::absolute(dir.join("apt"))
            .with_context(|| format!("cannot resolve {}", dir.display()))?;
        for sub in [
            "apt.conf.d",
            "preferences.d",
            "sources.list.d",
            "trusted.gpg.d",
            "state/lists/partial",
            "cache/archives/partial",
        ] {
            std::fs::create_dir_all(root.join(sub))
                .with_context(|| format!("cannot create {}", root.join(sub).display()))?;
        }
        let status = root.join("state/status");
        if !status.exists() {
            std::fs::write(&status, "")
                .with_context(|| format!("cannot write {}", status.display()))?;
        }
        let source = match archive {
            Archive::Remote { uri, keyring } => {
                format!("deb [signed-by={}] {uri} {suite}", keyring.display())
            }
            Archive::Local(path) => {
                let path = std::path::absolute(path)
                    .with_context(|| format!("cannot resolve {}", path.display()))?;
                format!("deb [trusted=yes] file:{} {suite}", path.display())
            }
        };
        let sources = format!("{source} {}\n", components.join(" "));
        write(&root.join("sources.list"), &sources)?;
        let r = root.display();
        // Acquire::IndexTargets::deb::Contents-deb is the target apt-file defines
        // (acquire-additional-files.md in apt's documentation): apt fetches it for every
        // architecture it is configured for and for `all`, so Contents-<arch> and Contents-all
        // both come. KeepCompressed stores them as fetched (lz4 on Debian's mirrors, about a
        // tenth of their text); apt-helper cat-file reads them back.
        let conf = format!(
            "// Written by dh-mlmodel census; the whole apt configuration of this census.\n\
             Dir::Etc \"{r}/\";\n\
             Dir::Etc::main \"apt.conf\";\n\
             Dir::Etc::parts \"apt.conf.d\";\n\
             Dir::Etc::sourcelist \"sources.list\";\n\
             Dir::Etc::sourceparts \"sources.list.d\";\n\
             Dir::Etc::preferences \"preferences\";\n\
             Dir::Etc::preferencesparts \"preferences.d\";\n\
             Dir::Etc::trusted \"trusted.gpg\";\n\
             Dir::Etc::trustedparts \"trusted.gpg.d\";\n\
             Dir::State \"{r}/state/\";\n\
             Dir::State::lists \"{r}/state/lists/\";\n\
             Dir::State::status \"{r}/state/status\";\n\
             Dir::Cache \"{r}/cache/\";\n\
             APT::Architecture \"{architecture}\";\n\
             APT::Architectures {{ \"{architecture}\"; }};\n\
             // The downloads write into the census directory, which apt's _apt user may not\n\
             // be allowed to.\n\
             APT::Sandbox::User \"root\";\n\
             Acquire::Languages \"none\";\n\
             Acquire::GzipIndexes \"true\";\n\
             Acquire::IndexTargets::deb::Contents-deb {{\n\
             \x20 MetaKey \"$(COMPONENT)/Contents-$(ARCHITECTURE)\";\n\
             \x20 ShortDescription \"Contents-$(ARCHITECTURE)\";\n\
             \x20 Description \"$(RELEASE)/$(COMPONENT) $(ARCHITECTURE) Contents (deb)\";\n\
             \x20 flatMetaKey \"Contents-$(ARCHITECTURE)\";\n\
             \x20 flatDescription \"$(RELEASE) Contents (deb)\";\n\
             \x20 KeepCompressed \"true\";\n\
             }};\n"
        );
        write(&root.join("apt.conf"), &conf)?;
        Ok(Self { root })
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.env("APT_CONFIG", self.root.join("apt.conf"));
        command
    }

    /// `apt-get update` with this configuration; its output goes to standard error, so that
    /// standard output is the candidate list alone.
    pub fn update(&self) -> Result<()> {
        let status = self
            .command("apt-get")
            .args(["-q", "update"])
            .stdout(std::io::stderr())
            .stderr(Stdio::inherit())
            .status()
            .context("cannot run apt-get (is apt installed?)")?;
        if !status.success() {
            bail!(
                "apt-get update failed ({status}) with the configuration {}: check the suite, \
                 the components and the mirror",
                self.root.join("apt.conf").display()
            );
        }
        Ok(())
    }

    /// The Packages and Contents files apt has for this configuration.
    pub fn index_files(&self) -> Result<Vec<IndexFile>> {
        let output = self
            .command("apt-get")
            .args([
                "indextargets",
                "--format",
                "$(FILENAME)\t$(IDENTIFIER)\t$(COMPONENT)\t$(ARCHITECTURE)",
            ])
            .output()
            .context("cannot run apt-get indextargets")?;
        if !output.status.success() {
            bail!(
                "apt-get indextargets failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let mut files = Vec::new();
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            if let [path, identifier, component, architecture] = fields[..] {
                files.push(IndexFile {
                    path: PathBuf::from(path),
                    identifier: identifier.to_string(),
                    component: component.to_string(),
                    architecture: architecture.to_string(),
                });
            }
        }
        Ok(files)
    }

    /// `apt-get download PACKAGE=VERSION` into `dir`: the path of the `.deb`.
    pub fn download(&self, package: &str, version: &str, dir: &Path) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let output = self
            .command("apt-get")
            .args(["-q", "download", &format!("{package}={version}")])
            .current_dir(dir)
            .output()
            .context("cannot run apt-get download")?;
        if !output.status.success() {
            bail!(
                "apt-get download {package}={version} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let mut debs = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "deb") {
                debs.push(path);
            }
        }
        match debs.len() {
            1 => Ok(debs.remove(0)),
            n => bail!(
                "apt-get download {package}={version} left {n} .deb files in {}",
                dir.display()
            ),
        }
    }
}

impl IndexFile {
    /// The file's text as a stream, decompressed by `apt-helper cat-file` from whichever
    /// compressed copy apt kept beside the name `indextargets` gives.
    pub fn open(&self) -> Result<IndexReader> {
        let existing = ["", ".lz4", ".gz", ".xz", ".zst", ".bz2", ".lzma"]
            .iter()
            .map(|suffix| PathBuf::from(format!("{}{suffix}", self.path.display())))
            .find(|path| path.exists())
            .with_context(|| {
                format!(
                    "{} was not fetched: run the census again to update the indexes",
                    self.path.display()
                )
            })?;
        let mut child = Command::new(APT_HELPER)
            .arg("cat-file")
            .arg(&existing)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot run {APT_HELPER}"))?;
        let stdout = child.stdout.take().context("apt-helper has no output")?;
        Ok(IndexReader {
            child,
            reader: BufReader::with_capacity(1 << 20, stdout),
            path: existing,
        })
    }
}

/// The decompressed text of one index file.
pub struct IndexReader {
    child: Child,
    pub reader: BufReader<ChildStdout>,
    pub path: PathBuf,
}

impl IndexReader {
    /// Waits for apt-helper: an error when it could not decompress the whole file.
    pub fn finish(mut self) -> Result<()> {
        drop(self.reader);
        let status = self.child.wait()?;
        if !status.success() {
            bail!(
                "apt-helper cat-file {} failed ({status}): the index is damaged; remove it \
                 and run the census again",
                self.path.display()
            );
        }
        Ok(())
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
