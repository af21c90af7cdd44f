//! `dh_mlmodel`, the debhelper command (see `dh_mlmodel --help` and dh_mlmodel(1)).

fn main() -> std::process::ExitCode {
    dh_mlmodel::debhelper::main()
}
