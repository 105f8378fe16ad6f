use super::*;
use proptest::prelude::*;

#[test]
fn argon2id_round_trip_at_owasp_parameters() {
    let hash = hash_password("correct horse").expect("hash");
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert_eq!(verify_password(&hash, "correct horse"), Ok(Verification::Match { needs_rehash: false }));
    assert_eq!(verify_password(&hash, "wrong horse"), Ok(Verification::Mismatch));
}

#[test]
fn weaker_argon2_matches_but_asks_for_rehash() {
    let params = Params::new(4096, 1, 1, None).expect("params");
    let weak = Argon2::new(Algorithm::Argon2i, Version::V0x13, params)
        .hash_password(b"pw-12345", &SaltString::generate(&mut OsRng))
        .expect("hash")
        .to_string();
    assert_eq!(verify_password(&weak, "pw-12345"), Ok(Verification::Match { needs_rehash: true }));
}

#[test]
fn bcrypt_from_php_documentation_and_fresh() {
    // The example of PHP's password_verify() documentation.
    let php = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a";
    assert_eq!(verify_password(php, "rasmuslerdorf"), Ok(Verification::Match { needs_rehash: true }));
    assert_eq!(verify_password(php, "rasmus"), Ok(Verification::Mismatch));
    let fresh = bcrypt::hash("auth0-user", 4).expect("bcrypt");
    assert!(validate_stored_hash(&fresh).is_ok());
    assert!(matches!(verify_password(&fresh, "auth0-user"), Ok(Verification::Match { .. })));
}

#[test]
fn bcrypt_cost_is_bounded() {
    let expensive = "$2b$31$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a";
    assert_eq!(validate_stored_hash(expensive), Err(HashError::Bounds("bcrypt cost")));
    assert!(verify_password(expensive, "x").is_err());
}

#[test]
fn keycloak_pbkdf2_sha256() {
    // Computed independently with Python's hashlib.pbkdf2_hmac('sha256', …, 27500, 64).
    let import = ImportedHash::Keycloak {
        algorithm: "pbkdf2-sha256".into(),
        iterations: 27_500,
        salt: "c2FsdHNhbHRzYWx0c2FsdA==".into(),
        hash: "eAA4hxO3phBzs5xL0cbw/QNMYgcXgmgYB5i1VB4SaJoX2bCyrIxrozK24K+x+NAS18K0E9YZ150biARaSSoFZQ==".into(),
        additional_parameters: KeycloakParameters::new(),
    };
    let stored = import.into_stored().expect("valid");
    assert_eq!(verify_password(&stored, "correct horse"), Ok(Verification::Match { needs_rehash: true }));
    assert_eq!(verify_password(&stored, "correct horsf"), Ok(Verification::Mismatch));
}

#[test]
fn phc_scrypt() {
    // Computed independently with Python's hashlib.scrypt(n=2**10, r=8, p=1, dklen=32).
    let stored = "$scrypt$ln=10,r=8,p=1$TmFDbC1zYWx0LTE2Ynl0ZQ$gkjuJFs/EcPBaq4PINEJDtMUKZqNDASRkiG2Vv24NBg";
    assert!(validate_stored_hash(stored).is_ok());
    assert_eq!(verify_password(stored, "correct horse"), Ok(Verification::Match { needs_rehash: true }));
    assert_eq!(verify_password(stored, "correct"), Ok(Verification::Mismatch));
    let huge = "$scrypt$ln=30,r=8,p=1$TmFDbC1zYWx0LTE2Ynl0ZQ$gkjuJFs/EcPBaq4PINEJDtMUKZqNDASRkiG2Vv24NBg";
    assert!(validate_stored_hash(huge).is_err());
}

#[test]
fn firebase_scrypt_published_vector() {
    // The example of Firebase's own scrypt tool.
    let import: ImportedHash = serde_json::from_value(serde_json::json!({
        "algorithm": "firebase-scrypt",
        "passwordHash": "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
        "salt": "42xEC+ixf3L2lw==",
        "saltSeparator": "Bw==",
        "signerKey": "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
        "rounds": 8,
        "memCost": 14
    }))
    .expect("deserialises");
    let stored = import.into_stored().expect("valid");
    assert_eq!(verify_password(&stored, "user1password"), Ok(Verification::Match { needs_rehash: true }));
    assert_eq!(verify_password(&stored, "user2password"), Ok(Verification::Mismatch));
}

#[test]
fn malformed_hashes_are_errors_not_mismatches() {
    for bad in [
        "",
        "plain",
        "$argon2id$garbage",
        "$2b$xx$abc",
        "$pbkdf2-sha256$i=0$AA$AA",
        "$pbkdf2-sha256$i=10$!!$AA",
        "$pbkdf2-sha256$i=99999999$c2FsdA==$c2FsdA==",
        "$firebase-scrypt$r=8,m=14$AA$AA$AA",
        "$firebase-scrypt$r=8,m=40$AA$AA$AA$AA",
        "$scrypt$ln=10$",
    ] {
        assert!(validate_stored_hash(bad).is_err(), "{bad}");
        assert!(verify_password(bad, "x").is_err(), "{bad}");
    }
}

#[test]
fn keycloak_other_algorithms_refused() {
    let import = ImportedHash::Keycloak {
        algorithm: "md5".into(),
        iterations: 1,
        salt: "AA==".into(),
        hash: "AA==".into(),
        additional_parameters: KeycloakParameters::new(),
    };
    assert!(import.into_stored().is_err());
}

#[test]
fn password_rules() {
    assert_eq!(check_password_rules("short"), Err(PasswordRuleError::TooShort));
    assert_eq!(check_password_rules(&"x".repeat(2000)), Err(PasswordRuleError::TooLong));
    assert!(check_password_rules("long enough").is_ok());
    // Characters, not bytes: eight non-ASCII characters suffice.
    assert!(check_password_rules("ääääääää").is_ok());
}

#[test]
fn dummy_verification_spends_argon2_time() {
    // Not a timing assertion: it checks that the dummy hash is a real argon2id hash at the
    // current parameters, so verifying against it costs what a real check costs.
    let (parsed, params) = argon2_params(
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Yl/yb0ZCDkdvY0lEy/1W2GX5K9ofDoTNOdS6YyHoBCE",
    )
    .expect("parses");
    assert_eq!(parsed.algorithm.as_str(), "argon2id");
    assert_eq!((params.m_cost(), params.t_cost()), (ARGON2_MEMORY_KIB, ARGON2_ITERATIONS));
    verify_dummy("anything");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn validate_never_panics(s in "\\$[a-z0-9-]{0,16}\\$[ -~]{0,80}") {
        let _ = validate_stored_hash(&s);
    }
}

/// Keycloak exports each credential with `credentialData` and `secretData` as JSON text.
/// Vectors computed independently with Python's hashlib and argon2-cffi.
#[test]
fn keycloak_credential_exports() {
    let salt = "a2V5Y2xvYWstc2FsdC0xNg==";
    let cases = [
        (
            "pbkdf2",
            27_500,
            "XzGlYdO3ehvTkJn+LMFNZm+MYF8t6hxOGp6Cr6jq4/ZEuTQiHg0dkG8BrTDu9pq2UvOvzP3cDgZiuVjyibTx0A==",
            "{}",
        ),
        (
            "pbkdf2-sha512",
            210_000,
            "wUryWDxCKNit637bIqTv0TFySRLv7mNGhWsdjd7MUJS9CknM8UUE1bjrMq9WfN2zddDh193IKuYt1tUsmcBVrg==",
            "{}",
        ),
        (
            "argon2",
            5,
            "I1IfKHWhwTLNEDEzqWv3nFPf1boSeManbR0VkOsTQSc=",
            r#"{"hashLength":["32"],"memory":["7168"],"type":["id"],"version":["1.3"],"parallelism":["1"]}"#,
        ),
    ];
    for (algorithm, iterations, value, parameters) in cases {
        let credential = serde_json::json!({
            "id": "5b3c1b5a-0000-0000-0000-000000000000",
            "type": "password",
            "createdDate": 1_700_000_000_000u64,
            "secretData": format!(r#"{{"value":"{value}","salt":"{salt}","additionalParameters":{{}}}}"#),
            "credentialData": format!(r#"{{"hashIterations":{iterations},"algorithm":"{algorithm}","additionalParameters":{parameters}}}"#),
        });
        let import: ImportedHash = serde_json::from_value(credential).expect("deserialises");
        let stored = import.into_stored().unwrap_or_else(|e| panic!("{algorithm}: {e}"));
        assert!(
            matches!(verify_password(&stored, "correct horse"), Ok(Verification::Match { needs_rehash: true })),
            "{algorithm}: {stored}"
        );
        assert_eq!(verify_password(&stored, "correct horsf"), Ok(Verification::Mismatch), "{algorithm}");
    }
    let broken = serde_json::json!({"secretData": "{not json", "credentialData": "{}"});
    let import: ImportedHash = serde_json::from_value(broken).expect("deserialises");
    assert!(import.into_stored().is_err());
}

/// One thread verifies hashes of every size, algorithm, version and output length in turn:
/// its kept working memory grows, is reused for smaller ones, and is bypassed above the bound
/// (each answer the same as argon2's own verification).
#[test]
fn kept_argon2_memory_serves_hashes_of_any_shape_in_turn() {
    let make = |algorithm, version, m_cost, output_len| {
        let params = Params::new(m_cost, 1, 1, Some(output_len)).expect("params");
        Argon2::new(algorithm, version, params)
            .hash_password(b"pw-12345", &SaltString::generate(&mut OsRng))
            .expect("hash")
            .to_string()
    };
    let owasp = hash_password("pw-12345").expect("hash");
    let hashes = [
        owasp.clone(),
        make(Algorithm::Argon2i, Version::V0x13, 4096, 32),
        make(Algorithm::Argon2d, Version::V0x10, 2048, 16),
        make(Algorithm::Argon2id, Version::V0x13, (KEPT_BLOCKS as u32) + 1024, 64),
        owasp,
    ];
    for hash in &hashes {
        let ours = verify_password(hash, "pw-12345");
        assert!(matches!(ours, Ok(Verification::Match { .. })), "{hash}: {ours:?}");
        assert_eq!(verify_password(hash, "pw-12346"), Ok(Verification::Mismatch), "{hash}");
        let parsed = PasswordHash::new(hash).expect("phc");
        assert!(Argon2::default().verify_password(b"pw-12345", &parsed).is_ok(), "argon2 agrees: {hash}");
    }
    BLOCKS.with(|kept| assert_eq!(kept.borrow().len(), ARGON2_MEMORY_KIB as usize, "kept at most what it needed"));
}
