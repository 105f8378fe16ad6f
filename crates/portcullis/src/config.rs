//! Configuration: every setting from a flag, the environment (`PORTCULLIS_<NAME>`), a TOML
//! file (`--config`), or its default — in that order of precedence. Unknown keys in the file
//! and invalid values are refused at start with a message naming the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The settings shared by `serve`, `migrate`, `config print` and `audit verify`, as flags and
/// environment variables. Every field is optional here: absence means "ask the file, then the
/// default".
#[derive(Debug, Clone, Default, Args)]
pub struct ServerArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "PORTCULLIS_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Directory for the SQLite database, master key and bootstrap token [default: ./portcullis-data]
    #[arg(long, env = "PORTCULLIS_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://…` [default: SQLite file in the data dir]
    #[arg(long, env = "PORTCULLIS_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// The URL clients reach this server at [default: http://localhost:{port} when listening on
    /// a loopback or wildcard address, else http://{listen}]
    #[arg(long, env = "PORTCULLIS_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// A TOML file with any of these settings (keys as the flags, with `_` for `-`)
    #[arg(long = "config", env = "PORTCULLIS_CONFIG", value_name = "FILE")]
    pub config_file: Option<PathBuf>,
    /// Log format [default: text]
    #[arg(long, env = "PORTCULLIS_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// File holding the base64 master key [default: {data-dir}/master.key, created on first start]
    #[arg(long, env = "PORTCULLIS_MASTER_KEY_FILE", value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,
    /// Password hashes computed at once [default: number of cores]
    #[arg(long, env = "PORTCULLIS_HASH_WORKERS", value_name = "N")]
    pub hash_workers: Option<usize>,
    /// Days a signing key signs before it is rotated on schedule; 0 never [default: 90]
    #[arg(long, env = "PORTCULLIS_KEY_ROTATION_DAYS", value_name = "DAYS")]
    pub key_rotation_days: Option<u32>,
    /// Reverse proxies (addresses or CIDR networks, comma-separated) whose X-Forwarded-For
    /// names the client [default: none, the peer is the client]
    #[arg(long, env = "PORTCULLIS_TRUSTED_PROXIES", value_name = "CIDRS", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<String>>,
    /// The SMTP server mail leaves through: `smtp://[user:password@]host[:port]` (plain, or
    /// `?tls=required` for STARTTLS) or `smtps://…` (TLS) [default: none, no mail: e-mail
    /// codes, magic links and password reset are not offered]
    #[arg(long, env = "PORTCULLIS_SMTP_URL", value_name = "URL")]
    pub smtp_url: Option<String>,
    /// The sender of mail [default: no-reply@{public host}]
    #[arg(long, env = "PORTCULLIS_SMTP_FROM", value_name = "ADDRESS")]
    pub smtp_from: Option<String>,
    /// Send text messages as signed JSON POSTs to this URL; the secret they are signed with
    /// comes from PORTCULLIS_SMS_WEBHOOK_SECRET [default: none; with no SMS provider, codes by
    /// text message are not offered]
    #[arg(long, env = "PORTCULLIS_SMS_WEBHOOK_URL", value_name = "URL")]
    pub sms_webhook_url: Option<String>,
    /// Send text messages through Twilio (or a compatible API) as this account; its auth token
    /// comes from PORTCULLIS_SMS_TWILIO_AUTH_TOKEN
    #[arg(long, env = "PORTCULLIS_SMS_TWILIO_ACCOUNT_SID", value_name = "SID")]
    pub sms_twilio_account_sid: Option<String>,
    /// The sender of Twilio messages: a number, or a messaging service (MG…)
    #[arg(long, env = "PORTCULLIS_SMS_TWILIO_FROM", value_name = "FROM")]
    pub sms_twilio_from: Option<String>,
    /// The Twilio-compatible API's address [default: https://api.twilio.com]
    #[arg(long, env = "PORTCULLIS_SMS_TWILIO_API_URL", value_name = "URL")]
    pub sms_twilio_api_url: Option<String>,
    /// Origins besides the public URL's that passkey ceremonies may come from, comma-separated:
    /// Android apps (`android:apk-key-hash:…`) or other sites under the same domain
    /// [default: none]
    #[arg(long, env = "PORTCULLIS_PASSKEY_ORIGINS", value_name = "ORIGINS", value_delimiter = ',')]
    pub passkey_origins: Option<Vec<String>>,
    /// Also serve over mutual TLS here, for sign-in with client certificates (smart cards,
    /// device certificates); needs --mtls-cert, --mtls-key and --mtls-client-ca [default: none]
    #[arg(long, env = "PORTCULLIS_MTLS_LISTEN", value_name = "ADDR")]
    pub mtls_listen: Option<SocketAddr>,
    /// The mutual-TLS listener's certificate chain (PEM)
    #[arg(long, env = "PORTCULLIS_MTLS_CERT", value_name = "FILE")]
    pub mtls_cert: Option<PathBuf>,
    /// The mutual-TLS listener's private key (PEM)
    #[arg(long, env = "PORTCULLIS_MTLS_KEY", value_name = "FILE")]
    pub mtls_key: Option<PathBuf>,
    /// The CAs whose client certificates are accepted (PEM bundle)
    #[arg(long, env = "PORTCULLIS_MTLS_CLIENT_CA", value_name = "FILE")]
    pub mtls_client_ca: Option<PathBuf>,
    /// Certificate revocation lists (PEM or DER files, comma-separated) [default: none]
    #[arg(long, env = "PORTCULLIS_MTLS_CRL", value_name = "FILES", value_delimiter = ',')]
    pub mtls_crl: Option<Vec<PathBuf>>,
    /// The URL the mutual-TLS listener is reached at; its host must be the public URL's, so
    /// that the browser's cookies go there too [default: https://{public host}:{mtls port}]
    #[arg(long, env = "PORTCULLIS_MTLS_PUBLIC_URL", value_name = "URL")]
    pub mtls_public_url: Option<String>,
}

/// The TOML file's shape: the same settings, and the two secrets that have no flag.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    public_url: Option<String>,
    log_format: Option<LogFormat>,
    master_key_file: Option<PathBuf>,
    master_key: Option<String>,
    bootstrap_token: Option<String>,
    hash_workers: Option<usize>,
    key_rotation_days: Option<u32>,
    trusted_proxies: Option<Vec<String>>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    sms_webhook_url: Option<String>,
    sms_webhook_secret: Option<String>,
    sms_twilio_account_sid: Option<String>,
    sms_twilio_auth_token: Option<String>,
    sms_twilio_from: Option<String>,
    sms_twilio_api_url: Option<String>,
    passkey_origins: Option<Vec<String>>,
    mtls_listen: Option<SocketAddr>,
    mtls_cert: Option<PathBuf>,
    mtls_key: Option<PathBuf>,
    mtls_client_ca: Option<PathBuf>,
    mtls_crl: Option<Vec<PathBuf>>,
    mtls_public_url: Option<String>,
}

/// The provider text messages leave through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum SmsConfig {
    /// Signed JSON POSTs to the operator's URL.
    Webhook {
        url: String,
        #[serde(serialize_with = "redact_str")]
        secret: String,
    },
    /// Twilio's Messages API, or one that speaks it.
    Twilio {
        api_url: String,
        account_sid: String,
        #[serde(serialize_with = "redact_str")]
        auth_token: String,
        from: String,
    },
}

/// The effective configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub public_url: String,
    pub log_format: LogFormat,
    pub master_key_file: PathBuf,
    #[serde(serialize_with = "redact")]
    pub master_key: Option<String>,
    #[serde(serialize_with = "redact")]
    pub bootstrap_token: Option<String>,
    pub hash_workers: usize,
    pub key_rotation_days: u32,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    #[serde(serialize_with = "redact_password")]
    pub smtp_url: Option<String>,
    pub smtp_from: String,
    pub sms: Option<SmsConfig>,
    pub passkey_origins: Vec<String>,
    pub mtls: Option<crate::mtls::MtlsConfig>,
}

/// An SMTP URL without its password.
fn redact_password<S: serde::Serializer>(value: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    match value.as_deref().map(url::Url::parse) {
        Some(Ok(mut url)) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("redacted"));
            }
            serializer.serialize_str(url.as_str())
        }
        Some(Err(_)) => serializer.serialize_str("<invalid>"),
        None => serializer.serialize_str("<not set>"),
    }
}

fn redact_str<S: serde::Serializer>(_: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str("<redacted>")
}

fn redact<S: serde::Serializer>(value: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(_) => serializer.serialize_str("<redacted>"),
        None => serializer.serialize_str("<not set>"),
    }
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Config {
    /// Resolves flags and environment (`args`), the file they name, and the defaults.
    pub fn resolve(args: &ServerArgs) -> anyhow::Result<Self> {
        let file = match &args.config_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| anyhow::anyhow!("config file {}: {}", path.display(), e.message()))?
            }
            None => FileConfig::default(),
        };
        let sms = sms_config(args, &file)?;
        let mtls = mtls_config(args, &file)?;
        let listen = args.listen.or(file.listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let data_dir = args.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from("portcullis-data"));
        let database_url = args
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("portcullis.db").display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            bail!("invalid value for database_url: must start with sqlite:// or postgres://");
        }
        let public_url = args.public_url.clone().or(file.public_url).unwrap_or_else(|| default_public_url(listen));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) || public_url.ends_with('/') {
            bail!("invalid value for public_url: must be an http(s) URL without a trailing slash");
        }
        let hash_workers = args
            .hash_workers
            .or(file.hash_workers)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
        if !(1..=256).contains(&hash_workers) {
            bail!("invalid value for hash_workers: must be between 1 and 256");
        }
        let key_rotation_days = args.key_rotation_days.or(file.key_rotation_days).unwrap_or(90);
        if key_rotation_days > 3650 {
            bail!("invalid value for key_rotation_days: must be between 0 (never) and 3650");
        }
        let mut trusted_proxies = Vec::new();
        for text in args.trusted_proxies.clone().or(file.trusted_proxies).unwrap_or_default() {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let parsed = text
                .parse::<ipnet::IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    anyhow::anyhow!("invalid value for trusted_proxies: {text} is no address or CIDR network")
                })?;
            trusted_proxies.push(parsed);
        }
        let smtp_url = args.smtp_url.clone().or(file.smtp_url).filter(|u| !u.is_empty());
        if smtp_url.as_deref().is_some_and(|u| !(u.starts_with("smtp://") || u.starts_with("smtps://"))) {
            bail!("invalid value for smtp_url: must start with smtp:// or smtps://");
        }
        let smtp_from = args.smtp_from.clone().or(file.smtp_from).unwrap_or_else(|| {
            let host = url::Url::parse(&public_url).ok().and_then(|u| match u.host() {
                Some(url::Host::Domain(domain)) => Some(domain.to_owned()),
                _ => None,
            });
            format!("no-reply@{}", host.unwrap_or_else(|| "localhost".to_owned()))
        });
        Ok(Self {
            listen,
            master_key_file: args
                .master_key_file
                .clone()
                .or(file.master_key_file)
                .unwrap_or_else(|| data_dir.join("master.key")),
            data_dir,
            database_url,
            public_url,
            log_format: args.log_format.or(file.log_format).unwrap_or(LogFormat::Text),
            master_key: non_empty_env("PORTCULLIS_MASTER_KEY").or(file.master_key),
            bootstrap_token: non_empty_env("PORTCULLIS_BOOTSTRAP_TOKEN").or(file.bootstrap_token),
            hash_workers,
            key_rotation_days,
            trusted_proxies,
            smtp_url,
            smtp_from,
            sms,
            passkey_origins: args.passkey_origins.clone().or(file.passkey_origins).unwrap_or_default(),
            mtls,
        })
    }

    /// The configuration as TOML, secrets redacted (`portcullis config print`).
    pub fn to_toml(&self) -> anyhow::Result<String> {
        Ok(toml::to_string(self)?)
    }

    /// Whether the database is the embedded SQLite file.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// The SMS provider the flags, the environment and the file name, if any: its secret only from
/// the environment or the file (never a flag, which other users of the machine can see).
fn sms_config(args: &ServerArgs, file: &FileConfig) -> anyhow::Result<Option<SmsConfig>> {
    let pick = |flag: &Option<String>, field: &Option<String>| flag.clone().or(field.clone()).filter(|v| !v.is_empty());
    let webhook_url = pick(&args.sms_webhook_url, &file.sms_webhook_url);
    let account_sid = pick(&args.sms_twilio_account_sid, &file.sms_twilio_account_sid);
    match (webhook_url, account_sid) {
        (Some(_), Some(_)) => bail!("give one SMS provider: sms_webhook_url or sms_twilio_account_sid, not both"),
        (Some(url), None) => {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                bail!("invalid value for sms_webhook_url: must be an http:// or https:// URL");
            }
            let secret = non_empty_env("PORTCULLIS_SMS_WEBHOOK_SECRET").or(file.sms_webhook_secret.clone());
            let secret = secret.filter(|s| s.len() >= 16).ok_or_else(|| {
                anyhow::anyhow!("sms_webhook_url needs PORTCULLIS_SMS_WEBHOOK_SECRET: at least 16 characters")
            })?;
            Ok(Some(SmsConfig::Webhook { url, secret }))
        }
        (None, Some(account_sid)) => {
            let auth_token =
                non_empty_env("PORTCULLIS_SMS_TWILIO_AUTH_TOKEN")
                    .or(file.sms_twilio_auth_token.clone())
                    .ok_or_else(|| anyhow::anyhow!("sms_twilio_account_sid needs PORTCULLIS_SMS_TWILIO_AUTH_TOKEN"))?;
            let from = pick(&args.sms_twilio_from, &file.sms_twilio_from)
                .ok_or_else(|| anyhow::anyhow!("sms_twilio_account_sid needs sms_twilio_from"))?;
            let api_url = pick(&args.sms_twilio_api_url, &file.sms_twilio_api_url)
                .unwrap_or_else(|| "https://api.twilio.com".to_owned());
            if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
                bail!("invalid value for sms_twilio_api_url: must be an http:// or https:// URL");
            }
            Ok(Some(SmsConfig::Twilio { api_url, account_sid, auth_token, from }))
        }
        (None, None) => Ok(None),
    }
}

/// The mutual-TLS listener the flags, the environment and the file ask for, if any.
fn mtls_config(args: &ServerArgs, file: &FileConfig) -> anyhow::Result<Option<crate::mtls::MtlsConfig>> {
    let Some(listen) = args.mtls_listen.or(file.mtls_listen) else { return Ok(None) };
    let needed = |flag: &Option<PathBuf>, field: &Option<PathBuf>, name: &str| {
        flag.clone().or(field.clone()).ok_or_else(|| anyhow::anyhow!("mtls_listen needs {name}"))
    };
    let public_url = args.mtls_public_url.clone().or(file.mtls_public_url.clone()).filter(|u| !u.is_empty());
    if public_url.as_deref().is_some_and(|u| !u.starts_with("https://")) {
        bail!("invalid value for mtls_public_url: must be an https:// URL");
    }
    Ok(Some(crate::mtls::MtlsConfig {
        listen,
        cert: needed(&args.mtls_cert, &file.mtls_cert, "mtls_cert")?,
        key: needed(&args.mtls_key, &file.mtls_key, "mtls_key")?,
        client_ca: needed(&args.mtls_client_ca, &file.mtls_client_ca, "mtls_client_ca")?,
        crls: args.mtls_crl.clone().or(file.mtls_crl.clone()).unwrap_or_default(),
        public_url,
    }))
}

/// Writes `contents` to a new file readable by the owner only (0600).
pub fn write_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// The public URL of a server nobody named one for: `localhost` on a loopback or wildcard
/// address, because passkeys need a domain as their relying party (WebAuthn §5.1.4.1: an IP
/// address is no valid RP ID) and browsers treat `http://localhost` as a secure context.
fn default_public_url(listen: SocketAddr) -> String {
    let ip = listen.ip();
    if ip.is_loopback() || ip.is_unspecified() {
        format!("http://localhost:{}", listen.port())
    } else {
        format!("http://{listen}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (tempfile::NamedTempFile, ServerArgs) {
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        std::io::Write::write_all(&mut f, text.as_bytes()).expect("write");
        let args = ServerArgs { config_file: Some(f.path().to_owned()), ..Default::default() };
        (f, args)
    }

    #[test]
    fn defaults() {
        let config = Config::resolve(&ServerArgs::default()).expect("defaults");
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.public_url, "http://localhost:8080", "passkeys work on the default");
        assert_eq!(config.database_url, "sqlite://portcullis-data/portcullis.db");
        for (listen, url) in [
            ("[::1]:9000", "http://localhost:9000"),
            ("0.0.0.0:80", "http://localhost:80"),
            ("192.0.2.7:8080", "http://192.0.2.7:8080"),
            ("[2001:db8::1]:443", "http://[2001:db8::1]:443"),
        ] {
            let args = ServerArgs { listen: Some(listen.parse().expect("addr")), ..Default::default() };
            assert_eq!(Config::resolve(&args).expect("resolves").public_url, url);
        }
    }

    #[test]
    fn flag_beats_file_beats_default() {
        let (_f, mut args) = file("listen = \"127.0.0.1:9000\"\ndata_dir = \"/var/lib/pc\"\n");
        let from_file = Config::resolve(&args).expect("file");
        assert_eq!(from_file.listen.port(), 9000);
        assert_eq!(from_file.database_url, "sqlite:///var/lib/pc/portcullis.db");
        args.listen = Some("127.0.0.1:9100".parse().expect("addr"));
        assert_eq!(Config::resolve(&args).expect("flag").listen.port(), 9100);
    }

    #[test]
    fn sms_and_mtls_settings_are_complete_or_refused() {
        let error = |text: &str| Config::resolve(&file(text).1).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error("sms_webhook_url = \"https://h/x\"").contains("PORTCULLIS_SMS_WEBHOOK_SECRET"));
        assert!(error("sms_webhook_url = \"https://h/x\"\nsms_webhook_secret = \"short\"").contains("16"));
        assert!(error("sms_webhook_url = \"ftp://h\"\nsms_webhook_secret = \"0123456789abcdef\"").contains("http"));
        let both = "sms_webhook_url = \"https://h/x\"\nsms_webhook_secret = \"0123456789abcdef\"\nsms_twilio_account_sid = \"AC1\"";
        assert!(error(both).contains("one SMS provider"));
        assert!(error("sms_twilio_account_sid = \"AC1\"\nsms_twilio_auth_token = \"t\"").contains("sms_twilio_from"));
        assert!(error("mtls_listen = \"127.0.0.1:8443\"").contains("mtls_cert"));
        let insecure = "mtls_listen = \"127.0.0.1:8443\"\nmtls_cert = \"c\"\nmtls_key = \"k\"\nmtls_client_ca = \"ca\"\nmtls_public_url = \"http://h\"";
        assert!(error(insecure).contains("https"));
        let (_f, args) = file("sms_webhook_url = \"https://h/x\"\nsms_webhook_secret = \"0123456789abcdef\"");
        let config = Config::resolve(&args).expect("a complete webhook");
        assert!(matches!(config.sms, Some(SmsConfig::Webhook { .. })));
        assert!(!config.to_toml().expect("toml").contains("0123456789abcdef"), "the secret is redacted");
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let (_f, args) = file("listen = \"127.0.0.1:9000\"\nlisten_port = 1\n");
        let error = Config::resolve(&args).expect_err("unknown key").to_string();
        assert!(error.contains("listen_port"), "{error}");
        let (_f, args) = file("listen = \"not an address\"\n");
        let error = Config::resolve(&args).expect_err("bad value").to_string();
        assert!(error.contains("listen") || error.contains("address"), "{error}");
        let (_f, args) = file("database_url = \"mysql://x\"\n");
        assert!(Config::resolve(&args).expect_err("bad url").to_string().contains("database_url"));
        let (_f, args) = file("log_format = \"xml\"\n");
        assert!(Config::resolve(&args).is_err());
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let (_f, mut args) = file("trusted_proxies = [\"10.0.0.0/8\", \"192.0.2.1\"]\n");
        let config = Config::resolve(&args).expect("file");
        let shown: Vec<String> = config.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.0.2.1/32"]);
        assert!(config.to_toml().expect("toml").contains("10.0.0.0/8"));
        args.trusted_proxies = Some(vec!["10.0.0.0/33".into()]);
        let error = Config::resolve(&args).expect_err("bad network").to_string();
        assert!(error.contains("trusted_proxies"), "{error}");
    }

    #[test]
    fn print_redacts_secrets() {
        let (_f, args) = file("master_key = \"c2VjcmV0\"\nbootstrap_token = \"pct_very-secret-bootstrap\"\n");
        let printed = Config::resolve(&args).expect("ok").to_toml().expect("toml");
        assert!(!printed.contains("c2VjcmV0") && !printed.contains("very-secret"), "{printed}");
        assert!(printed.contains("<redacted>"));
    }
}
