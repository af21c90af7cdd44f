//! Man pages and shell completions, generated from the command-line definition itself
//! ([`crate::cli::command`]) so they can never disagree with `--help`. The project's own
//! `debian/rules` runs `dh-mlmodel generate …` at build time; nothing here is installed by hand.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::fsutil;

/// Writes `dh-mlmodel.1` and one `dh-mlmodel-SUBCOMMAND.1` per visible subcommand into `dir`,
/// as git and cargo do, so `man dh-mlmodel-scan` works. Returns the file names written.
///
/// `date` goes into each page's header (`.TH`); the build passes the changelog's date so that
/// two builds of the same source give the same bytes.
pub fn write_man_pages(command: clap::Command, dir: &Path, date: &str) -> Result<Vec<String>> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut command = command.version(env!("CARGO_PKG_VERSION"));
    // Building propagates the global options (`--policy`) into each subcommand, so every page
    // lists them.
    command.build();
    let mut written = Vec::new();
    let top = command.get_name().to_string();
    write_page(&command, &top, dir, date, &mut written)?;
    for sub in command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
    {
        let name = format!("{top}-{}", sub.get_name());
        // A page of its own names the command as a user types it (`dh-mlmodel scan`), and its
        // own subcommands (none today) would get pages the same way.
        let sub = sub
            .clone()
            .name(name.clone())
            .bin_name(format!("{top} {}", sub.get_name()));
        write_page(&sub, &name, dir, date, &mut written)?;
    }
    Ok(written)
}

fn write_page(
    command: &clap::Command,
    name: &str,
    dir: &Path,
    date: &str,
    written: &mut Vec<String>,
) -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone())
        .title(name.to_uppercase())
        .section("1")
        .date(date)
        .source(format!("dh-mlmodel {}", env!("CARGO_PKG_VERSION")))
        .manual("dh-mlmodel")
        .render(&mut page)
        .with_context(|| format!("cannot render the man page of {name}"))?;
    let file = format!("{name}.1");
    fsutil::write_atomic(&dir.join(&file), &page, 0o644)?;
    written.push(file);
    Ok(())
}

/// Writes the completion script of `shell` for `dh-mlmodel` to `out`.
pub fn write_completion(
    mut command: clap::Command,
    shell: clap_complete::Shell,
    out: &mut dyn Write,
) {
    let name = command.get_name().to_string();
    clap_complete::generate(shell, &mut command, name, out);
}
