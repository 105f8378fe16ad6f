//! Versioned, forward-only migrations, the same numbered files for both engines.

/// A migration: version, name, SQL for SQLite, SQL for PostgreSQL.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "directory",
        sqlite: include_str!("../migrations/sqlite/0001_directory.sql"),
        postgres: include_str!("../migrations/postgres/0001_directory.sql"),
    },
    Migration {
        version: 2,
        name: "clients",
        sqlite: include_str!("../migrations/sqlite/0002_clients.sql"),
        postgres: include_str!("../migrations/postgres/0002_clients.sql"),
    },
    Migration {
        version: 3,
        name: "signing_keys",
        sqlite: include_str!("../migrations/sqlite/0003_signing_keys.sql"),
        postgres: include_str!("../migrations/postgres/0003_signing_keys.sql"),
    },
    Migration {
        version: 4,
        name: "sessions",
        sqlite: include_str!("../migrations/sqlite/0004_sessions.sql"),
        postgres: include_str!("../migrations/postgres/0004_sessions.sql"),
    },
    Migration {
        version: 5,
        name: "par_device",
        sqlite: include_str!("../migrations/sqlite/0005_par_device.sql"),
        postgres: include_str!("../migrations/postgres/0005_par_device.sql"),
    },
    Migration {
        version: 6,
        name: "client_assertions",
        sqlite: include_str!("../migrations/sqlite/0006_client_assertions.sql"),
        postgres: include_str!("../migrations/postgres/0006_client_assertions.sql"),
    },
    Migration {
        version: 7,
        name: "leases",
        sqlite: include_str!("../migrations/sqlite/0007_leases.sql"),
        postgres: include_str!("../migrations/postgres/0007_leases.sql"),
    },
    Migration {
        version: 8,
        name: "registration",
        sqlite: include_str!("../migrations/sqlite/0008_registration.sql"),
        postgres: include_str!("../migrations/postgres/0008_registration.sql"),
    },
    Migration {
        version: 9,
        name: "scopes",
        sqlite: include_str!("../migrations/sqlite/0009_scopes.sql"),
        postgres: include_str!("../migrations/postgres/0009_scopes.sql"),
    },
    Migration {
        version: 10,
        name: "authz",
        sqlite: include_str!("../migrations/sqlite/0010_authz.sql"),
        postgres: include_str!("../migrations/postgres/0010_authz.sql"),
    },
    Migration {
        version: 11,
        name: "passwords",
        sqlite: include_str!("../migrations/sqlite/0011_passwords.sql"),
        postgres: include_str!("../migrations/postgres/0011_passwords.sql"),
    },
    Migration {
        version: 12,
        name: "credentials",
        sqlite: include_str!("../migrations/sqlite/0012_credentials.sql"),
        postgres: include_str!("../migrations/postgres/0012_credentials.sql"),
    },
    Migration {
        version: 13,
        name: "workforce_mfa",
        sqlite: include_str!("../migrations/sqlite/0013_workforce_mfa.sql"),
        postgres: include_str!("../migrations/postgres/0013_workforce_mfa.sql"),
    },
];

/// The table that records applied migrations (created before any migration runs).
pub const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// A fingerprint of a migration's SQL, so that an edited migration is noticed.
pub fn checksum(sql: &str) -> String {
    // FNV-1a: not for security, only to notice edits.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in sql.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Splits a migration file into statements: at a `;` that ends a line, except inside a
/// `$$`-quoted body (PostgreSQL functions) or a `BEGIN … END;` block (SQLite triggers).
pub fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_dollar = false;
    let mut in_trigger_body = false;
    for line in sql.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") && current.trim().is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if trimmed.matches("$$").count() % 2 == 1 {
            in_dollar = !in_dollar;
        }
        if trimmed == "BEGIN" && !in_dollar {
            in_trigger_body = true;
        }
        let ends = trimmed.ends_with(';') && !in_dollar && (!in_trigger_body || trimmed == "END;");
        if ends {
            in_trigger_body = false;
            out.push(std::mem::take(&mut current).trim().to_owned());
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

/// Runs every pending migration of one engine (`$sql` names its query module, `lite` or
/// `pgsql`; `$exec` is what statements run on). Each migration runs in its own transaction,
/// which first claims the version's row, so two nodes starting at once cannot both apply it.
macro_rules! run_migrations {
    ($sql:ident, $exec:expr, $field:ident, $map_err:path, $up_to:expr) => {{
        use portcullis_core::Error;
        $sql::query($crate::migrations::MIGRATIONS_TABLE).execute($exec).await.map_err($map_err)?;
        let mut ran = 0usize;
        for migration in $crate::migrations::MIGRATIONS.iter().filter(|m| m.version <= $up_to) {
            let sql = migration.$field;
            let sum = $crate::migrations::checksum(sql);
            let applied: Option<(String,)> =
                $sql::query_as("SELECT checksum FROM schema_migrations WHERE version = $1")
                    .bind(migration.version)
                    .fetch_optional($exec)
                    .await
                    .map_err($map_err)?;
            if let Some((applied_sum,)) = applied {
                if applied_sum != sum {
                    return Err(Error::internal(format!(
                        "migration {} ({}) was changed after it was applied",
                        migration.version, migration.name
                    )));
                }
                continue;
            }
            let mut tx = $sql::begin($exec).await.map_err($map_err)?;
            let claimed = $sql::query(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(migration.version)
            .bind(migration.name)
            .bind(&sum)
            .bind(0i64)
            .execute(&mut *tx)
            .await;
            match claimed {
                Ok(_) => {}
                // Another node applied it meanwhile.
                Err(e) if $sql::is_unique_violation(&e) => continue,
                Err(e) => return Err($map_err(e)),
            }
            for statement in $crate::migrations::statements(sql) {
                $sql::query(statement.as_str()).execute(&mut *tx).await.map_err(|e| {
                    Error::internal(format!("migration {} ({}) failed: {e}", migration.version, migration.name))
                })?;
            }
            tx.commit().await.map_err($map_err)?;
            tracing::info!(version = migration.version, name = migration.name, "applied migration");
            ran += 1;
        }
        Ok::<usize, Error>(ran)
    }};
}

/// Whether every migration has been applied.
macro_rules! migrations_done {
    ($sql:ident, $exec:expr, $map_err:path) => {{
        let applied: Result<(i64,), _> =
            $sql::query_as("SELECT COUNT(*) FROM schema_migrations").fetch_one($exec).await;
        match applied {
            Ok((count,)) => Ok(count as usize >= $crate::migrations::MIGRATIONS.len()),
            Err(e) if $sql::is_database_error(&e) => Ok(false),
            Err(e) => Err($map_err(e)),
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both engines must have the same numbered migrations (vaultwarden's folders drifted).
    #[test]
    fn engines_have_the_same_migrations() {
        let dir = |engine: &str| {
            let mut names: Vec<String> =
                std::fs::read_dir(format!("{}/migrations/{engine}", env!("CARGO_MANIFEST_DIR")))
                    .expect("migration folder")
                    .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
                    .collect();
            names.sort();
            names
        };
        let sqlite = dir("sqlite");
        assert_eq!(sqlite, dir("postgres"));
        assert_eq!(sqlite.len(), MIGRATIONS.len());
        for (file, migration) in sqlite.iter().zip(MIGRATIONS) {
            assert_eq!(file, &format!("{:04}_{}.sql", migration.version, migration.name));
        }
    }

    #[test]
    fn statements_split_outside_bodies() {
        let sql = "-- c\nCREATE TABLE a (x INT);\nCREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    RAISE EXCEPTION 'x';\nEND;\n$$;\nCREATE TRIGGER t BEFORE UPDATE ON a\nBEGIN\n    SELECT 1;\nEND;\nINSERT INTO a VALUES (1);\n";
        let parts = statements(sql);
        assert_eq!(parts.len(), 4, "{parts:#?}");
        assert!(parts[1].starts_with("CREATE FUNCTION") && parts[1].ends_with("$$;"));
        assert!(parts[2].starts_with("CREATE TRIGGER") && parts[2].ends_with("END;"));
        assert!(statements(MIGRATIONS[0].sqlite).len() > 20);
        assert!(statements(MIGRATIONS[0].postgres).len() > 20);
        for migration in MIGRATIONS {
            assert!(!statements(migration.sqlite).is_empty());
            assert!(!statements(migration.postgres).is_empty());
        }
    }

    /// The two engines' files declare the same tables and indexes.
    #[test]
    fn engines_declare_the_same_objects() {
        let objects = |sql: &str| {
            let mut names: Vec<String> = sql
                .lines()
                .filter_map(|line| {
                    let line = line.trim();
                    ["CREATE TABLE ", "CREATE INDEX ", "CREATE UNIQUE INDEX "]
                        .iter()
                        .find_map(|p| line.strip_prefix(p))
                        .and_then(|rest| rest.split_whitespace().next())
                        .map(str::to_owned)
                })
                .collect();
            names.sort();
            names
        };
        for migration in MIGRATIONS {
            assert_eq!(objects(migration.sqlite), objects(migration.postgres), "migration {}", migration.version);
        }
    }
}
