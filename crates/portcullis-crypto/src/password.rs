//! Password hashing: argon2id at the OWASP parameters for new hashes, and verification of the
//! hash formats other systems export, so that users can be migrated without a reset.
//!
//! Stored forms (one string each):
//! - `$argon2id$…`, `$argon2i$…`, `$argon2d$…`: PHC strings (Portcullis's own and imported);
//! - `$2a$`, `$2b$`, `$2y$`: bcrypt (Auth0 exports, most Rails/PHP apps);
//! - `$scrypt$ln=…,r=…,p=…$salt$hash`: PHC scrypt;
//! - `$pbkdf2-sha256$i=…$salt$hash`, `$pbkdf2-sha512$…`, `$pbkdf2$…` (SHA-1): PBKDF2-HMAC,
//!   salt and hash in standard base64 (Keycloak's exports, re-encoded by
//!   [`ImportedHash::into_stored`]; Keycloak's `argon2` becomes a PHC string);
//! - `$firebase-scrypt$r=…,m=…$salt$separator$signer$hash`: Firebase Auth's modified scrypt.
//!
//! Any format other than argon2id at the current parameters reports `needs_rehash`, so the
//! caller stores an argon2id hash after the next successful check.

use argon2::password_hash::rand_core::OsRng;
use std::cell::RefCell;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde::Deserialize;
use subtle::ConstantTimeEq;

/// OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1.
pub const ARGON2_MEMORY_KIB: u32 = 19_456;
/// argon2id iterations.
pub const ARGON2_ITERATIONS: u32 = 2;
/// argon2id lanes.
pub const ARGON2_PARALLELISM: u32 = 1;

/// Longest password accepted, in bytes: long enough for passphrases, short enough that a
/// request cannot make hashing expensive.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Shortest password accepted, in characters (NIST SP 800-63B §5.1.1.2).
pub const MIN_PASSWORD_CHARS: usize = 8;

// Bounds on imported parameters: a hostile import must not make one verification take
// seconds or gigabytes.
const MAX_BCRYPT_COST: u32 = 16;
const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;
const MAX_SCRYPT_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
const MAX_ARGON2_MEMORY_KIB: u32 = 256 * 1024;
const MAX_ARGON2_ITERATIONS: u32 = 10;

/// A password hash that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    #[error("unsupported or malformed password hash: {0}")]
    Format(&'static str),
    #[error("password hash parameters are outside the accepted bounds: {0}")]
    Bounds(&'static str),
    #[error("hashing failed")]
    Internal,
}

/// A password that does not meet the basic rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRuleError {
    #[error("must be at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("must be at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
}

/// Checks the length rules every password must meet, whatever the tenant's policy adds.
pub fn check_password_rules(password: &str) -> Result<(), PasswordRuleError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordRuleError::TooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordRuleError::TooShort);
    }
    Ok(())
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password matches; `needs_rehash` asks for a fresh argon2id hash to be stored.
    Match { needs_rehash: bool },
    /// The password does not match.
    Mismatch,
}

fn argon2id() -> Result<Argon2<'static>, HashError> {
    let params =
        Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_PARALLELISM, None).map_err(|_| HashError::Internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with argon2id at the OWASP parameters. CPU-heavy (~15 ms): run it on
/// the bounded blocking pool, never on an async worker.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2id()?.hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string()).map_err(|_| HashError::Internal)
}

/// Checks `password` against a stored hash in any supported format. CPU-heavy.
pub fn verify_password(stored: &str, password: &str) -> Result<Verification, HashError> {
    let matched = match stored {
        s if s.starts_with("$argon2") => return verify_argon2(s, password),
        s if s.starts_with("$2a$") || s.starts_with("$2b$") || s.starts_with("$2y$") => {
            check_bcrypt_cost(s)?;
            bcrypt::verify(password, s).map_err(|_| HashError::Format("bcrypt"))?
        }
        s if s.starts_with("$scrypt$") => verify_scrypt(s, password)?,
        s if Prf::of(s).is_some() => Pbkdf2::parse(s)?.verify(password),
        s if s.starts_with("$firebase-scrypt$") => FirebaseScrypt::parse(s)?.verify(password)?,
        _ => return Err(HashError::Format("unknown algorithm")),
    };
    Ok(if matched { Verification::Match { needs_rehash: true } } else { Verification::Mismatch })
}

/// Checks that a stored hash is in a supported format with parameters inside the bounds,
/// without a password: used when hashes are imported.
pub fn validate_stored_hash(stored: &str) -> Result<(), HashError> {
    match stored {
        s if s.starts_with("$argon2") => argon2_params(s).map(|_| ()),
        s if s.starts_with("$2a$") || s.starts_with("$2b$") || s.starts_with("$2y$") => {
            check_bcrypt_cost(s)?;
            // 60 characters: `$2b$` + 2-digit cost + `$` + 22 salt + 31 hash.
            if s.len() != 60 {
                return Err(HashError::Format("bcrypt hash must be 60 characters"));
            }
            Ok(())
        }
        s if s.starts_with("$scrypt$") => scrypt_params(s).map(|_| ()),
        s if Prf::of(s).is_some() => Pbkdf2::parse(s).map(|_| ()),
        s if s.starts_with("$firebase-scrypt$") => FirebaseScrypt::parse(s).map(|_| ()),
        _ => Err(HashError::Format("unknown algorithm")),
    }
}

fn argon2_params(stored: &str) -> Result<(PasswordHash<'_>, Params), HashError> {
    let parsed = PasswordHash::new(stored).map_err(|_| HashError::Format("argon2"))?;
    if parsed.hash.is_none() || parsed.salt.is_none() {
        return Err(HashError::Format("argon2 salt and hash"));
    }
    let params = Params::try_from(&parsed).map_err(|_| HashError::Format("argon2 parameters"))?;
    if params.m_cost() > MAX_ARGON2_MEMORY_KIB || params.t_cost() > MAX_ARGON2_ITERATIONS {
        return Err(HashError::Bounds("argon2 memory or iterations"));
    }
    Ok((parsed, params))
}

thread_local! {
    /// This thread's argon2 working memory, kept from one hash to the next: allocating and
    /// zeroing 19 MiB for every hash cost a tenth of its time (BENCHMARKS.md). Each hash
    /// writes every block before it reads it, so what the last one left does not matter; it
    /// stays in the process's memory until the next hash overwrites it, like the password
    /// itself stays in a request buffer.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// The most working memory a thread keeps between hashes (64 MiB, in 1 KiB blocks); an
/// imported hash that asks for more gets memory of its own for that once.
const KEPT_BLOCKS: usize = 64 * 1024;

/// `argon` over `password` and `salt` into `out`, in this thread's kept working memory.
fn argon2_into(argon: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), argon2::Error> {
    let needed = argon.params().block_count();
    if needed > KEPT_BLOCKS {
        return argon.hash_password_into(password, salt, out);
    }
    BLOCKS.with(|kept| match kept.try_borrow_mut() {
        Ok(mut blocks) => {
            if blocks.len() < needed {
                blocks.resize(needed, Block::default());
            }
            argon.hash_password_into_with_memory(password, salt, out, &mut blocks[..needed])
        }
        Err(_) => argon.hash_password_into(password, salt, out),
    })
}

fn verify_argon2(stored: &str, password: &str) -> Result<Verification, HashError> {
    let (parsed, params) = argon2_params(stored)?;
    let current = parsed.algorithm.as_str() == "argon2id"
        && params.m_cost() == ARGON2_MEMORY_KIB
        && params.t_cost() == ARGON2_ITERATIONS
        && params.p_cost() == ARGON2_PARALLELISM;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|_| HashError::Format("argon2 algorithm"))?;
    let version = match parsed.version {
        Some(version) => Version::try_from(version).map_err(|_| HashError::Format("argon2 version"))?,
        None => Version::default(),
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(HashError::Format("argon2 salt and hash"));
    };
    let mut salt_bytes = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes).map_err(|_| HashError::Format("argon2 salt"))?;
    let mut out = [0u8; 64];
    let out = out.get_mut(..expected.len()).ok_or(HashError::Format("argon2 hash length"))?;
    argon2_into(&Argon2::new(algorithm, version, params), password.as_bytes(), salt, out)
        .map_err(|_| HashError::Format("argon2"))?;
    if bool::from(out.ct_eq(expected.as_bytes())) {
        Ok(Verification::Match { needs_rehash: !current })
    } else {
        Ok(Verification::Mismatch)
    }
}

fn check_bcrypt_cost(stored: &str) -> Result<(), HashError> {
    let cost: u32 = stored.get(4..6).and_then(|c| c.parse().ok()).ok_or(HashError::Format("bcrypt cost"))?;
    if cost > MAX_BCRYPT_COST {
        return Err(HashError::Bounds("bcrypt cost"));
    }
    Ok(())
}

fn scrypt_params(stored: &str) -> Result<PasswordHash<'_>, HashError> {
    let parsed = PasswordHash::new(stored).map_err(|_| HashError::Format("scrypt"))?;
    if parsed.hash.is_none() || parsed.salt.is_none() {
        return Err(HashError::Format("scrypt salt and hash"));
    }
    let params = scrypt::Params::try_from(&parsed).map_err(|_| HashError::Format("scrypt parameters"))?;
    let memory = 128u64 * u64::from(params.r()) * (1u64 << params.log_n());
    if memory > MAX_SCRYPT_MEMORY_BYTES || params.p() > 16 {
        return Err(HashError::Bounds("scrypt memory or parallelism"));
    }
    Ok(parsed)
}

fn verify_scrypt(stored: &str, password: &str) -> Result<bool, HashError> {
    let parsed = scrypt_params(stored)?;
    match scrypt::Scrypt.verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(scrypt::password_hash::Error::Password) => Ok(false),
        Err(_) => Err(HashError::Format("scrypt")),
    }
}

fn decode_b64(text: &str, what: &'static str) -> Result<Vec<u8>, HashError> {
    STANDARD.decode(text).or_else(|_| STANDARD_NO_PAD.decode(text)).map_err(|_| HashError::Format(what))
}

/// The pseudo-random function of a PBKDF2 hash.
#[derive(Debug, Clone, Copy)]
enum Prf {
    Sha1,
    Sha256,
    Sha512,
}

impl Prf {
    fn of(stored: &str) -> Option<Self> {
        [("$pbkdf2$", Self::Sha1), ("$pbkdf2-sha256$", Self::Sha256), ("$pbkdf2-sha512$", Self::Sha512)]
            .into_iter()
            .find_map(|(prefix, prf)| stored.starts_with(prefix).then_some(prf))
    }
}

struct Pbkdf2 {
    prf: Prf,
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl Pbkdf2 {
    fn parse(stored: &str) -> Result<Self, HashError> {
        let prf = Prf::of(stored).ok_or(HashError::Format("pbkdf2 algorithm"))?;
        let mut parts = stored.split('$').skip(2);
        let (Some(params), Some(salt), Some(hash), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(HashError::Format("pbkdf2 layout"));
        };
        let iterations: u32 =
            params.strip_prefix("i=").and_then(|i| i.parse().ok()).ok_or(HashError::Format("pbkdf2 iterations"))?;
        if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
            return Err(HashError::Bounds("pbkdf2 iterations"));
        }
        let salt = decode_b64(salt, "pbkdf2 salt")?;
        let hash = decode_b64(hash, "pbkdf2 hash")?;
        if hash.len() < 16 || hash.len() > 128 {
            return Err(HashError::Format("pbkdf2 hash length"));
        }
        Ok(Self { prf, iterations, salt, hash })
    }

    fn verify(&self, password: &str) -> bool {
        let mut out = vec![0u8; self.hash.len()];
        let (password, salt, rounds) = (password.as_bytes(), self.salt.as_slice(), self.iterations);
        match self.prf {
            Prf::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, rounds, &mut out),
            Prf::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, rounds, &mut out),
            Prf::Sha512 => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, rounds, &mut out),
        }
        out.ct_eq(&self.hash).into()
    }
}

struct FirebaseScrypt {
    rounds: u32,
    mem_cost: u8,
    salt: Vec<u8>,
    separator: Vec<u8>,
    signer_key: Vec<u8>,
    hash: Vec<u8>,
}

impl FirebaseScrypt {
    fn parse(stored: &str) -> Result<Self, HashError> {
        let parts: Vec<&str> = stored.split('$').skip(2).collect();
        let [params, salt, separator, signer, hash] = parts.as_slice() else {
            return Err(HashError::Format("firebase-scrypt layout"));
        };
        let mut rounds = None;
        let mut mem_cost = None;
        for pair in params.split(',') {
            match pair.split_once('=') {
                Some(("r", v)) => rounds = v.parse::<u32>().ok(),
                Some(("m", v)) => mem_cost = v.parse::<u8>().ok(),
                _ => return Err(HashError::Format("firebase-scrypt parameters")),
            }
        }
        let (Some(rounds), Some(mem_cost)) = (rounds, mem_cost) else {
            return Err(HashError::Format("firebase-scrypt parameters"));
        };
        let memory = 128u64 * u64::from(rounds) * 1u64.checked_shl(u32::from(mem_cost)).unwrap_or(u64::MAX);
        if rounds == 0 || mem_cost == 0 || mem_cost > 20 || memory > MAX_SCRYPT_MEMORY_BYTES {
            return Err(HashError::Bounds("firebase-scrypt rounds or memory cost"));
        }
        let parsed = Self {
            rounds,
            mem_cost,
            salt: decode_b64(salt, "firebase-scrypt salt")?,
            separator: decode_b64(separator, "firebase-scrypt salt separator")?,
            signer_key: decode_b64(signer, "firebase-scrypt signer key")?,
            hash: decode_b64(hash, "firebase-scrypt hash")?,
        };
        if parsed.signer_key.is_empty() || parsed.signer_key.len() != parsed.hash.len() {
            return Err(HashError::Format("firebase-scrypt hash length"));
        }
        Ok(parsed)
    }

    /// Firebase's scheme: key = scrypt(password, salt ‖ separator, N = 2^mem_cost, r = rounds,
    /// p = 1, 64 bytes); hash = AES-256-CTR(key[..32], iv = 0)(signer_key).
    fn verify(&self, password: &str) -> Result<bool, HashError> {
        use aes::cipher::{KeyIvInit, StreamCipher};
        let params = scrypt::Params::new(self.mem_cost, self.rounds, 1, 64)
            .map_err(|_| HashError::Bounds("firebase-scrypt parameters"))?;
        let mut salt = self.salt.clone();
        salt.extend_from_slice(&self.separator);
        let mut key = [0u8; 64];
        scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key).map_err(|_| HashError::Internal)?;
        let mut block = self.signer_key.clone();
        let mut cipher = ctr::Ctr128BE::<aes::Aes256>::new((&key[..32]).into(), (&[0u8; 16]).into());
        cipher.apply_keystream(&mut block);
        Ok(block.ct_eq(&self.hash).into())
    }
}

/// A pre-hashed password as another system exports it, for bulk imports.
///
/// A plain string is a stored form (PHC, bcrypt MCF, or one of the forms above); the objects
/// take the fields of Keycloak's and Firebase's exports as they come.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ImportedHash {
    /// A PHC or MCF string, e.g. `$2b$10$…` (Auth0) or `$argon2id$…`.
    Encoded(String),
    /// One credential of a Keycloak realm or user export, as it comes: `credentialData` and
    /// `secretData` are JSON text (or already objects); other fields are ignored.
    KeycloakCredential {
        #[serde(rename = "credentialData")]
        credential_data: JsonOrText<KeycloakCredentialData>,
        #[serde(rename = "secretData")]
        secret_data: JsonOrText<KeycloakSecretData>,
    },
    /// The same fields flattened: `algorithm` (`pbkdf2`, `pbkdf2-sha256`, `pbkdf2-sha512`,
    /// `argon2`), `hashIterations`, `salt` and `value` in standard base64, and for argon2 the
    /// `additionalParameters` (`type`, `version`, `memory`, `parallelism`, `hashLength`).
    Keycloak {
        algorithm: String,
        #[serde(alias = "hashIterations")]
        iterations: u32,
        salt: String,
        #[serde(alias = "value")]
        hash: String,
        #[serde(default, alias = "additionalParameters")]
        additional_parameters: KeycloakParameters,
    },
    /// Firebase Auth's export: per-user `passwordHash` and `salt`, with the project's
    /// `signerKey`, `saltSeparator`, `rounds` and `memCost`.
    Firebase {
        algorithm: String,
        #[serde(alias = "passwordHash")]
        hash: String,
        salt: String,
        #[serde(alias = "saltSeparator")]
        salt_separator: String,
        #[serde(alias = "signerKey")]
        signer_key: String,
        rounds: u32,
        #[serde(alias = "memCost")]
        mem_cost: u8,
    },
}

/// A field that Keycloak writes as JSON inside a string, accepted either way.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum JsonOrText<T> {
    Text(String),
    Json(T),
}

impl<T: serde::de::DeserializeOwned> JsonOrText<T> {
    fn decode(self, what: &'static str) -> Result<T, HashError> {
        match self {
            Self::Json(value) => Ok(value),
            Self::Text(text) => serde_json::from_str(&text).map_err(|_| HashError::Format(what)),
        }
    }
}

/// Keycloak's `credentialData`.
#[derive(Debug, Clone, Deserialize)]
pub struct KeycloakCredentialData {
    algorithm: String,
    #[serde(rename = "hashIterations")]
    iterations: u32,
    #[serde(default, rename = "additionalParameters")]
    additional_parameters: KeycloakParameters,
}

/// Keycloak's `secretData`.
#[derive(Debug, Clone, Deserialize)]
pub struct KeycloakSecretData {
    value: String,
    salt: String,
}

/// Keycloak's `additionalParameters`: every value is a list of strings.
pub type KeycloakParameters = std::collections::BTreeMap<String, Vec<String>>;

/// The stored form of a Keycloak password credential.
fn keycloak_stored(
    algorithm: &str,
    iterations: u32,
    salt: &str,
    hash: &str,
    parameters: &KeycloakParameters,
) -> Result<String, HashError> {
    match algorithm {
        "pbkdf2" => Ok(format!("$pbkdf2$i={iterations}${salt}${hash}")),
        "pbkdf2-sha256" => Ok(format!("$pbkdf2-sha256$i={iterations}${salt}${hash}")),
        "pbkdf2-sha512" => Ok(format!("$pbkdf2-sha512$i={iterations}${salt}${hash}")),
        "argon2" => {
            let param = |key: &str, default: &str| {
                parameters.get(key).and_then(|v| v.first()).map_or_else(|| default.to_owned(), Clone::clone)
            };
            // Keycloak's defaults (its Argon2 provider factory) when a parameter is absent.
            let variant = match param("type", "id").as_str() {
                "id" => "argon2id",
                "i" => "argon2i",
                "d" => "argon2d",
                _ => return Err(HashError::Format("Keycloak argon2 type")),
            };
            let version = match param("version", "1.3").as_str() {
                "1.3" => 19,
                "1.0" => 16,
                _ => return Err(HashError::Format("Keycloak argon2 version")),
            };
            let memory: u32 =
                param("memory", "7168").parse().map_err(|_| HashError::Format("Keycloak argon2 memory"))?;
            let parallelism: u32 =
                param("parallelism", "1").parse().map_err(|_| HashError::Format("Keycloak argon2 parallelism"))?;
            let to_phc = |text: &str, what| decode_b64(text, what).map(|raw| STANDARD_NO_PAD.encode(raw));
            let (salt, hash) = (to_phc(salt, "Keycloak argon2 salt")?, to_phc(hash, "Keycloak argon2 value")?);
            Ok(format!("${variant}$v={version}$m={memory},t={iterations},p={parallelism}${salt}${hash}"))
        }
        _ => {
            Err(HashError::Format("Keycloak algorithm: supported are pbkdf2, pbkdf2-sha256, pbkdf2-sha512 and argon2"))
        }
    }
}

impl ImportedHash {
    /// The stored form of this hash, validated.
    pub fn into_stored(self) -> Result<String, HashError> {
        let stored = match self {
            Self::Encoded(text) => text,
            Self::KeycloakCredential { credential_data, secret_data } => {
                let data = credential_data.decode("Keycloak credentialData")?;
                let secret = secret_data.decode("Keycloak secretData")?;
                keycloak_stored(
                    &data.algorithm,
                    data.iterations,
                    &secret.salt,
                    &secret.value,
                    &data.additional_parameters,
                )?
            }
            Self::Keycloak { algorithm, iterations, salt, hash, additional_parameters } => {
                keycloak_stored(&algorithm, iterations, &salt, &hash, &additional_parameters)?
            }
            Self::Firebase { algorithm, hash, salt, salt_separator, signer_key, rounds, mem_cost } => {
                if algorithm != "firebase-scrypt" && algorithm != "SCRYPT" {
                    return Err(HashError::Format("expected algorithm \"firebase-scrypt\""));
                }
                format!("$firebase-scrypt$r={rounds},m={mem_cost}${salt}${salt_separator}${signer_key}${hash}")
            }
        };
        validate_stored_hash(&stored)?;
        Ok(stored)
    }
}

/// Spends the time of one argon2id verification on a hash that matches nothing, so that an
/// unknown user takes as long to refuse as a wrong password (DESIGN §6).
pub fn verify_dummy(password: &str) {
    // A fixed hash at the current parameters (of a random password nobody knows).
    const DUMMY: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Yl/yb0ZCDkdvY0lEy/1W2GX5K9ofDoTNOdS6YyHoBCE";
    let _ = verify_password(DUMMY, password);
}

#[cfg(test)]
mod tests;
