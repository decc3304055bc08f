//! One module per command; each takes plain options and returns data.
//! Only `main.rs` prints.

pub mod build;
pub mod comments;
pub mod init;
pub mod new;
pub mod report;
pub mod serve;
pub mod syndicate;

pub use build::{build, check, BuildOptions, BuildReport};
