//! The `stampcard` binary, run as a child process with a clean environment.

use std::process::Command;

/// The built `stampcard` binary, in a directory with no `.env`, with none of the settings the
/// tests care about inherited from the environment.
pub fn stampcard() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampcard"));
    cmd.current_dir(std::env::temp_dir()).env_remove("DATABASE_URL");
    for var in
        ["STAMPCARD_SECRET_KEY", "STAMPCARD_BCRYPT_COST", "STAMPCARD_DEV", "STAMPCARD_ADDR", "STAMPCARD_PASSWORD"]
    {
        cmd.env_remove(var);
    }
    cmd
}
