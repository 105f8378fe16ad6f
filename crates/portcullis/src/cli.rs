//! The command line: `serve`, `migrate`, `config print`, `audit verify`, and `admin …`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use portcullis_core::hashing::HashPool;
use portcullis_core::keys::KeyRing;
use portcullis_core::{Services, SystemClock};

use crate::admin_cli::AdminArgs;
use crate::config::{Config, LogFormat, ServerArgs};
use crate::{serve, startup};

/// Portcullis: workforce IAM and customer CIAM in one identity server.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (migrates the database and bootstraps it on first start)
    Serve(ServerArgs),
    /// Apply pending database migrations, then exit
    Migrate(ServerArgs),
    /// Inspect the configuration
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Check the audit log
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Call the admin API of a running server (PORTCULLIS_URL, PORTCULLIS_TOKEN)
    Admin(AdminArgs),
    /// Print the admin API's OpenAPI 3.1 document (as served at /admin/v1/openapi.json)
    Openapi,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration (flags > environment > file > defaults), secrets redacted
    Print(ServerArgs),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify the hash chain of the audit log and report the first broken link, if any
    Verify(ServerArgs),
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

/// Runs a parsed command line; the exit code is 0 on success, 1 on failure, 2 for a broken
/// audit chain.
pub fn run(cli: Cli) -> ExitCode {
    match execute(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => {
            let config = Config::resolve(&args)?;
            serve::init_logging(config.log_format);
            runtime()?.block_on(serve::serve(config))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate(args) => {
            let config = Config::resolve(&args)?;
            serve::init_logging(config.log_format);
            runtime()?.block_on(async {
                let store = startup::open_store(&config).await?;
                store.close().await;
                anyhow::Ok(())
            })?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Config { command: ConfigCommand::Print(args) } => {
            print!("{}", Config::resolve(&args)?.to_toml()?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command: AuditCommand::Verify(args) } => {
            let config = Config::resolve(&args)?;
            serve::init_logging(LogFormat::Text);
            runtime()?.block_on(audit_verify(config))
        }
        Command::Admin(args) => runtime()?.block_on(crate::admin_cli::run(args)),
        Command::Openapi => {
            println!("{}", portcullis_web::openapi().to_pretty_json()?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn audit_verify(config: Config) -> anyhow::Result<ExitCode> {
    let store = startup::open_store(&config).await?;
    // Verification reads hashes only and never decrypts, so it needs no master key.
    let keys = KeyRing::new(portcullis_crypto::envelope::Key::generate());
    let services = Services::new(store.clone(), Arc::new(SystemClock), keys, HashPool::new(1, 1));
    let report = services.verify_audit().await?;
    store.close().await;
    match report.first_broken {
        None => {
            println!("audit log intact: {} events verified", report.events_checked);
            Ok(ExitCode::SUCCESS)
        }
        Some(broken) => {
            println!(
                "audit log BROKEN at event {}: {} ({} events verified before it)",
                broken.seq, broken.reason, report.events_checked
            );
            Ok(ExitCode::from(2))
        }
    }
}
