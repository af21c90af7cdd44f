//! Entry point: all behaviour lives in the library so that tests and `dh_mlmodel` share it.

fn main() -> std::process::ExitCode {
    dh_mlmodel::cli::main()
}
