//! `dh_mlmodel`, the debhelper command (see `dh_mlmodel --help` and dh_mlmodel(1)).

fn main() -> std::process::ExitCode {
    // Every failure of a debhelper command exits 255, as debhelper's error() does; a panic too,
    // after one line `dh_mlmodel: error: internal error: …`.
    dh_mlmodel::error::install_panic_hook("dh_mlmodel", 255);
    dh_mlmodel::error::panic_if_asked();
    dh_mlmodel::debhelper::main(dh_mlmodel::debhelper::Phase::Binary)
}
