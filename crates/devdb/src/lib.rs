//! PostgreSQL clusters run from the machine's own server binaries, kept out of the server
//! library (as crates.io keeps its test-database code in a crate of its own): the local
//! development database of `stampcard serve` ([`DevDatabase`]) and the throwaway cluster of
//! the test harness ([`throwaway_cluster`]). Everything that needs `unsafe` (dropping root
//! for PostgreSQL, tying a server to its thread) lives here.

mod binaries;
mod dev;
mod throwaway;

pub use binaries::{free_port, PgBinaries};
pub use dev::DevDatabase;
pub use throwaway::throwaway_cluster;
