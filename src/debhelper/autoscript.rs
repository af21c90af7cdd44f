//! Maintainer-script snippets, added the way debhelper's `autoscript` adds its own: into
//! `debian/<package>.<script>.debhelper`, wrapped in `# Automatically added by TOOL/VERSION` and
//! `# End automatically added section`, appended for postinst/preinst and prepended for
//! prerm/postrm so that removal undoes things in reverse order. dh_installdeb later merges the
//! file into the script at `#DEBHELPER#`.

use std::path::Path;

use anyhow::{Context, Result};

use crate::fsutil::write_atomic;

pub const TOOL: &str = "dh_mlmodel";

/// Adds `snippet` to `script` (`postinst`, `prerm`, …) of `package`.
pub fn add(
    debian_dir: &Path,
    package: &str,
    script: &str,
    snippet: &str,
    no_act: bool,
) -> Result<()> {
    let path = debian_dir.join(format!("{package}.{script}.debhelper"));
    let mut block = format!(
        "# Automatically added by {TOOL}/{}\n",
        env!("CARGO_PKG_VERSION")
    );
    block.push_str(snippet);
    if !snippet.ends_with('\n') {
        block.push('\n');
    }
    block.push_str("# End automatically added section\n");
    if no_act {
        return Ok(());
    }
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    let combined = if matches!(script, "prerm" | "postrm") {
        block + &existing
    } else {
        existing + &block
    };
    write_atomic(&path, combined.as_bytes(), 0o644)
}
