//! Test support: real databases and a real server on a random port.
//!
//! - [`TestDatabase`]: a fresh SQLite file in a temp dir, or a fresh PostgreSQL database
//!   when `PORTCULLIS_TEST_DATABASE_URL` names a server (CI always sets it).
//! - [`TestServer`]: the whole HTTP application on `127.0.0.1:0` over such a database.

mod database;
mod server;
mod sms;
mod smtp;

pub use database::{Engine, TestDatabase, engines, skipped};
pub use server::{TEST_TOKEN, TestServer};
pub use sms::{ReceivedSms, SmsSink};
pub use smtp::{MailSink, ReceivedMail};
