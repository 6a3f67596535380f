//! The binary refuses bad configuration before it serves.

use std::process::Command;

fn run(vars: &[(&str, &str)]) -> (i32, String) {
    let dir = std::env::temp_dir();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stampcard"));
    cmd.arg("serve").current_dir(dir).env_remove("DATABASE_URL");
    for var in ["STAMPCARD_SECRET_KEY", "STAMPCARD_BCRYPT_COST", "STAMPCARD_DEV", "STAMPCARD_ADDR"] {
        cmd.env_remove(var);
    }
    for (name, value) in vars {
        cmd.env(name, value);
    }
    let out = cmd.output().expect("run the binary");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_short_secret_key_stops_the_process_naming_the_variable() {
    let (code, stderr) = run(&[("STAMPCARD_SECRET_KEY", "too-short")]);
    assert_ne!(code, 0);
    assert!(stderr.contains("STAMPCARD_SECRET_KEY"), "{stderr}");
}

#[test]
fn a_bcrypt_cost_out_of_range_stops_the_process_naming_the_variable() {
    let (code, stderr) = run(&[("STAMPCARD_BCRYPT_COST", "32")]);
    assert_ne!(code, 0);
    assert!(stderr.contains("STAMPCARD_BCRYPT_COST"), "{stderr}");
}

#[test]
fn production_mode_without_a_secret_key_refuses_to_start() {
    let (code, stderr) = run(&[("STAMPCARD_DEV", "0"), ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")]);
    assert_ne!(code, 0);
    assert!(stderr.contains("STAMPCARD_SECRET_KEY"), "{stderr}");
}
