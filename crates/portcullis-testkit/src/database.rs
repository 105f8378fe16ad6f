use std::sync::Arc;

use portcullis_core::store::Store;
use sqlx::Connection;

/// The environment variable naming a PostgreSQL server for tests.
pub const POSTGRES_ENV: &str = "PORTCULLIS_TEST_DATABASE_URL";

/// Which engine a test database runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The engines every store test must run on: SQLite always, PostgreSQL when configured.
/// When it is not, says so on stderr, so a skipped engine is never silent.
pub fn engines() -> Vec<Engine> {
    if std::env::var(POSTGRES_ENV).is_ok_and(|v| !v.is_empty()) {
        vec![Engine::Sqlite, Engine::Postgres]
    } else {
        skipped(&format!("store and HTTP suites on PostgreSQL: {POSTGRES_ENV} is not set (scripts/check sets it)"));
        vec![Engine::Sqlite]
    }
}

/// Says that a suite was skipped, once per test binary and past the test harness's output
/// capture (which would hide it for passing tests).
pub fn skipped(what: &str) {
    use std::io::Write;
    static SAID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let Ok(mut said) = SAID.lock() else { return };
    if said.iter().any(|s| s == what) {
        return;
    }
    said.push(what.to_owned());
    let _ = writeln!(std::io::stderr(), "SKIPPED {what}");
}

/// A fresh, empty database, removed when dropped.
pub struct TestDatabase {
    pub engine: Engine,
    pub url: String,
    pub dir: tempfile::TempDir,
    admin_url: Option<String>,
    name: Option<String>,
}

impl TestDatabase {
    /// A new database on `engine`.
    pub async fn new(engine: Engine) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        match engine {
            Engine::Sqlite => Ok(Self {
                engine,
                url: format!("sqlite://{}", dir.path().join("portcullis.db").display()),
                dir,
                admin_url: None,
                name: None,
            }),
            Engine::Postgres => {
                let admin_url = std::env::var(POSTGRES_ENV)?;
                let name = format!("portcullis_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await?;
                conn.close().await?;
                let url = with_database(&admin_url, &name);
                Ok(Self { engine, url, dir, admin_url: Some(admin_url), name: Some(name) })
            }
        }
    }

    /// Opens and migrates the store.
    pub async fn store(&self) -> anyhow::Result<Arc<dyn Store>> {
        let store = portcullis_store::open(&self.url).await?;
        store.migrate().await?;
        Ok(store)
    }
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (Some(admin_url), Some(name)) = (self.admin_url.take(), self.name.take()) else {
            return;
        };
        // Drop needs its own runtime: the test's may be shutting down.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
                }
            });
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(with_database("postgres://u:p@127.0.0.1:5432/postgres", "x"), "postgres://u:p@127.0.0.1:5432/x");
        assert_eq!(with_database("postgres://127.0.0.1:5432", "x"), "postgres://127.0.0.1:5432/x");
        assert_eq!(with_database("postgres://h/db?sslmode=disable", "x"), "postgres://h/x?sslmode=disable");
    }
}
