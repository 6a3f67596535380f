//! The server's own bcrypt (the `bcrypt` crate, as `auth::password` calls it) as a command, so
//! that `bench/py/bcrypt_ref.py` can time one verify per process exactly as it times htpasswd.
//!
//!   bcrypt_verify hash COST PASSWORD   prints a `$2b$` hash
//!   bcrypt_verify check HASH PASSWORD  exits 0 when the password matches, 1 when not

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["hash", cost, password] => match cost.parse().map(|cost| bcrypt::non_truncating_hash(password, cost)) {
            Ok(Ok(hash)) => {
                println!("{hash}");
                ExitCode::SUCCESS
            }
            _ => ExitCode::from(2),
        },
        ["check", hash, password] => match bcrypt::non_truncating_verify(password, hash) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(_) => ExitCode::from(2),
        },
        _ => {
            eprintln!("usage: bcrypt_verify hash COST PASSWORD | check HASH PASSWORD");
            ExitCode::from(2)
        }
    }
}
