//! Envelope encryption (DESIGN §4): AES-256-GCM with a random 96-bit nonce per message and
//! associated data that binds each ciphertext to its owner, so a sealed value copied onto
//! another row does not open.
//!
//! Layout of a sealed value: `version (1 byte) || nonce (12) || ciphertext || tag (16)`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use zeroize::{Zeroize, ZeroizeOnDrop};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// Why sealing or opening failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the sealed value is malformed or was not sealed with this key for this owner")]
    Open,
    #[error("a key must be 32 bytes, base64-encoded")]
    KeyFormat,
    #[error("encryption failed")]
    Seal,
}

/// A 256-bit symmetric key: the master key, a tenant key or a user's data key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Reads a key from its base64 form (whitespace around it is ignored).
    pub fn from_base64(text: &str) -> Result<Self, EnvelopeError> {
        let mut raw = STANDARD.decode(text.trim()).map_err(|_| EnvelopeError::KeyFormat)?;
        let result = <[u8; 32]>::try_from(raw.as_slice()).map(Self).map_err(|_| EnvelopeError::KeyFormat);
        raw.zeroize();
        result
    }

    /// The key in base64, for writing a key file.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// The raw key bytes (for HMAC-based blind indexes).
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Encrypts `plaintext` bound to `aad` (who owns it and what it is).
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        let cipher = Aes256Gcm::new((&self.0).into());
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })
            .map_err(|_| EnvelopeError::Seal)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypts a value sealed by [`Key::seal`] with the same key and `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(EnvelopeError::Open);
        }
        let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
        let cipher = Aes256Gcm::new((&self.0).into());
        cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad }).map_err(|_| EnvelopeError::Open)
    }

    /// Wraps (encrypts) another key under this one.
    pub fn wrap(&self, aad: &[u8], key: &Key) -> Result<Vec<u8>, EnvelopeError> {
        self.seal(aad, &key.0)
    }

    /// Unwraps a key wrapped by [`Key::wrap`].
    pub fn unwrap_key(&self, aad: &[u8], wrapped: &[u8]) -> Result<Key, EnvelopeError> {
        let mut raw = self.open(aad, wrapped)?;
        let key = <[u8; 32]>::try_from(raw.as_slice()).map(Key).map_err(|_| EnvelopeError::Open);
        raw.zeroize();
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn seal_and_open() {
        let key = Key::generate();
        let sealed = key.seal(b"user:1", b"secret").expect("seal");
        assert_eq!(key.open(b"user:1", &sealed).expect("open"), b"secret");
    }

    #[test]
    fn wrong_key_aad_or_tampering_fails() {
        let key = Key::generate();
        let sealed = key.seal(b"user:1", b"secret").expect("seal");
        assert_eq!(Key::generate().open(b"user:1", &sealed), Err(EnvelopeError::Open));
        assert_eq!(key.open(b"user:2", &sealed), Err(EnvelopeError::Open));
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(key.open(b"user:1", &tampered), Err(EnvelopeError::Open));
        assert_eq!(key.open(b"user:1", &sealed[..10]), Err(EnvelopeError::Open));
        assert_eq!(key.open(b"user:1", &[]), Err(EnvelopeError::Open));
    }

    #[test]
    fn wrapping_round_trips() {
        let master = Key::generate();
        let tenant = Key::generate();
        let wrapped = master.wrap(b"tenant:t", &tenant).expect("wrap");
        let back = master.unwrap_key(b"tenant:t", &wrapped).expect("unwrap");
        assert_eq!(back.bytes(), tenant.bytes());
        assert!(master.unwrap_key(b"tenant:u", &wrapped).is_err());
    }

    #[test]
    fn base64_form() {
        let key = Key::generate();
        let back = Key::from_base64(&format!(" {}\n", key.to_base64())).expect("parses");
        assert_eq!(back.bytes(), key.bytes());
        assert_eq!(Key::from_base64("c2hvcnQ=").err(), Some(EnvelopeError::KeyFormat));
        assert_eq!(Key::from_base64("!!").err(), Some(EnvelopeError::KeyFormat));
    }

    proptest! {
        #[test]
        fn open_never_panics_on_garbage(data in proptest::collection::vec(any::<u8>(), 0..128)) {
            let key = Key::generate();
            prop_assert!(key.open(b"x", &data).is_err());
        }
    }
}
