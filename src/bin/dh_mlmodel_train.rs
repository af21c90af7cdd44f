//! `dh_mlmodel_train`, the build-phase half of the debhelper support: trains the models built
//! in the archive (see `dh_mlmodel_train --help` and dh_mlmodel_train(1)).

fn main() -> std::process::ExitCode {
    // Every failure of a debhelper command exits 255, as debhelper's error() does; a panic too.
    dh_mlmodel::error::install_panic_hook("dh_mlmodel_train", 255);
    dh_mlmodel::error::panic_if_asked();
    dh_mlmodel::debhelper::main(dh_mlmodel::debhelper::Phase::Build)
}
