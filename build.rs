//! Embeds every file under `policy/` into the binary, so the tool works with no data files
//! installed while `--policy DIR` can still replace any table.

use std::{env, fs, path::Path};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policy");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut names: Vec<String> = fs::read_dir(&root)
        .expect("policy/ directory")
        .map(|entry| {
            entry
                .expect("policy entry")
                .file_name()
                .into_string()
                .expect("UTF-8 name")
        })
        .filter(|name| name.ends_with(".toml"))
        .collect();
    names.sort();
    let mut out = String::from(
        "/// (file name, contents) of every embedded policy table.\npub const EMBEDDED: &[(&str, &str)] = &[\n",
    );
    for name in &names {
        let path = root.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("policy_files.rs");
    fs::write(dest, out).unwrap();
}
