//! One module per command; each takes plain options and returns data.
//! Only `main.rs` prints.

pub mod build;
pub mod init;
pub mod new;

pub use build::{build, check, BuildOptions, BuildReport};
