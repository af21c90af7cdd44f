//! Entry point: all behaviour lives in the library so that tests and `dh_mlmodel` share it.

fn main() -> std::process::ExitCode {
    // A panic is an internal error: one line, exit status 3 (never Rust's 101).
    dh_mlmodel::error::install_panic_hook("dh-mlmodel", 3);
    dh_mlmodel::error::panic_if_asked();
    dh_mlmodel::cli::main()
}
