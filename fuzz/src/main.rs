//! The afl harness: `fuzz TARGET` runs one target of `dh_mlmodel::fuzz_targets` on the inputs
//! afl-fuzz feeds it; `fuzz list` lists the targets. Built and run by `scripts/fuzz`.

use dh_mlmodel::fuzz_targets::{TARGETS, target};

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    if name == "list" {
        for t in TARGETS {
            println!("{:<12} {}", t.name, t.about);
        }
        return;
    }
    let Some(target) = target(&name) else {
        eprintln!("usage: fuzz TARGET | fuzz list (unknown target `{name}`)");
        std::process::exit(2);
    };
    // The policy tables are loaded on the first input; load them now, so that afl sees the
    // same path for the same input every time.
    (target.run)(b"");
    afl::fuzz!(|data: &[u8]| {
        (target.run)(data);
    });
}
