//! The `stampcard` binary: everything it does is in the library, behind [`stampcard::run`].

fn main() -> std::process::ExitCode {
    stampcard::run()
}
