//! Cryptography for Portcullis, built on well-kept crates; no I/O and no primitives of our own.
//!
//! - [`password`]: argon2id at OWASP parameters, and verification of imported hashes
//!   (bcrypt, PBKDF2-SHA256, argon2, scrypt, Firebase's modified scrypt).
//! - [`envelope`]: AES-256-GCM sealing and key wrapping (master key → tenant key → user key).
//! - [`secret`]: random high-entropy secrets, their SHA-256 digests, blind indexes.

pub mod envelope;
pub mod password;
pub mod secret;
pub mod signing;
pub mod verify;
