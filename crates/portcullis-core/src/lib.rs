//! Portcullis's services: the rules of the directory, its schema, admin tokens and the audit
//! log, free of HTTP and SQL (DESIGN §3). Services are reached through [`Services`]; they keep
//! their data through the [`store`] traits, which `portcullis-store` implements twice.

mod authz_index;
pub mod cache;
pub mod clock;
pub mod error;
pub mod hashing;
pub mod keys;
pub mod model;
pub mod service;
pub mod store;

pub use authz_index::FRESHNESS as AUTHZ_FRESHNESS;
pub use clock::{Clock, SystemClock};
pub use error::{Error, FieldError};
pub use service::Services;
