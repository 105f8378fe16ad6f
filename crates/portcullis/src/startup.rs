//! Start-up: the data directory, the master key, the database and its migrations, the check
//! that the master key matches the database, and the first-start bootstrap.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use portcullis_core::hashing::HashPool;
use portcullis_core::keys::KeyRing;
use portcullis_core::service::Bootstrap;
use portcullis_core::store::Store;
use portcullis_core::{Services, SystemClock};
use portcullis_crypto::envelope::Key;

use crate::config::{Config, write_private_file};

/// A started core, ready to be served.
pub struct Started {
    pub services: Services,
    pub store: Arc<dyn Store>,
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create data dir {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// The master key from `PORTCULLIS_MASTER_KEY`, or the key file, which is created (0600)
/// when it does not exist yet.
fn master_key(config: &Config) -> anyhow::Result<Key> {
    if let Some(text) = &config.master_key {
        return Key::from_base64(text)
            .context("invalid value for PORTCULLIS_MASTER_KEY: must be 32 bytes, base64-encoded");
    }
    let path = &config.master_key_file;
    if path.exists() {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read master key file {}", path.display()))?;
        return Key::from_base64(&text).with_context(|| {
            format!("invalid master key file {}: must hold 32 bytes, base64-encoded", path.display())
        });
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(parent)?;
    }
    let key = Key::generate();
    write_private_file(path, &format!("{}\n", key.to_base64()))?;
    tracing::info!(path = %path.display(), "created the master key; back it up: without it the data cannot be read");
    Ok(key)
}

/// Opens the store and applies pending migrations (`portcullis migrate`).
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    if config.is_sqlite() {
        create_private_dir(&config.data_dir)?;
    }
    let store = portcullis_store::open(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact_url(&config.database_url)))?;
    let ran = store.migrate().await.context("migrations failed")?;
    restrict_sqlite_file(&config.database_url)?;
    if ran > 0 {
        tracing::info!(migrations = ran, engine = store.engine(), "database migrated");
    }
    Ok(store)
}

/// The SQLite file holds every secret's digest and the wrapped keys: owner-only, whatever
/// the umask or the data directory's mode. (Its `-wal` and `-shm` files take the same mode.)
fn restrict_sqlite_file(url: &str) -> anyhow::Result<()> {
    #[cfg(unix)]
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        use std::os::unix::fs::PermissionsExt;
        let path = Path::new(path.split('?').next().unwrap_or(path));
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("cannot restrict {} to its owner", path.display()))?;
        }
    }
    Ok(())
}

/// Everything `serve` needs before it listens.
pub async fn start(config: &Config) -> anyhow::Result<Started> {
    create_private_dir(&config.data_dir)?;
    let key = master_key(config)?;
    let store = open_store(config).await?;
    let services = Services::new(
        store.clone(),
        Arc::new(SystemClock),
        KeyRing::new(key),
        HashPool::new(config.hash_workers, config.hash_workers * 32),
    )
    .with_breach_check(Arc::new(crate::breached::HttpRanges::new()?))
    .with_passkeys(portcullis_core::service::relying_party(&config.public_url, &config.passkey_origins)?);
    let services = match &config.smtp_url {
        Some(url) => services.with_mailer(Arc::new(crate::mailer::SmtpMailer::new(url, &config.smtp_from)?)),
        None => services,
    };
    let services = match &config.sms {
        Some(crate::config::SmsConfig::Webhook { url, secret }) => {
            services.with_sms(Arc::new(crate::sms::WebhookSms::new(url, secret)?), &config.public_url)
        }
        Some(crate::config::SmsConfig::Twilio { api_url, account_sid, auth_token, from }) => services.with_sms(
            Arc::new(crate::sms::TwilioSms::new(api_url, account_sid, auth_token, from)?),
            &config.public_url,
        ),
        None => services,
    };
    if !services.passkeys_enabled() {
        tracing::info!(
            public_url = %config.public_url,
            "passkeys are off: the public URL's host is an IP address, which WebAuthn cannot use (try http://localhost:PORT)"
        );
    }
    services.check_master_key().await.context("master key check")?;
    match services.bootstrap(config.bootstrap_token.as_deref()).await.context("bootstrap")? {
        Bootstrap::AlreadyDone => {}
        Bootstrap::InstalledGivenToken => {
            tracing::info!("first start: created the admin tenant and installed PORTCULLIS_BOOTSTRAP_TOKEN")
        }
        Bootstrap::CreatedToken(secret) => {
            let path = config.data_dir.join("bootstrap-token");
            write_private_file(&path, &format!("{secret}\n"))?;
            tracing::warn!(
                token = %secret,
                file = %path.display(),
                "first start: created the admin tenant and this bootstrap admin token; it is shown once"
            );
        }
    }
    Ok(Started { services, store })
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
