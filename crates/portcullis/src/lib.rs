//! The `portcullis` binary's library: configuration, start-up wiring, the server loop, and
//! the command-line client of the admin API. `main.rs` only parses the command line.

pub mod admin_cli;
pub mod breached;
pub mod cli;
pub mod config;
pub mod mailer;
pub mod mtls;
pub mod serve;
pub mod sms;
pub mod startup;
