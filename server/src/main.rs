//! The `server` binary: run the app until Ctrl-C or SIGTERM, or run one of
//! the operator commands (`server --help`).

use std::process::ExitCode;

use clap::Parser;
use server::{
    cli::{Cli, Command},
    config::Config,
    connect::{
        forge_manifest::{Mode, manifest_json, manifest_yaml},
        forge_modules::Product,
    },
    error::{Error, Result},
    maintenance, operator_cli,
    secrets::{AppKey, load_keyring},
    store::{self, Database},
    telemetry,
    vendor::{Application, Clock},
};

// Measured under load: glibc's malloc took a third of a page load's CPU (8.8k pages/s against 13.5k with
// mimalloc). Without transparent huge pages (`no_thp`) mimalloc's RSS stays that of glibc (27 MB after the load).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Commands that need no configuration.
    match &cli.command {
        Some(Command::GenerateKey) => return finish(AppKey::generate_base64().map(|key| println!("{key}"))),
        Some(Command::CreateOperator { name }) => return finish(operator_cli::create_operator(name)),
        _ => {}
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("server: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_json);
    finish(run(cli.command.unwrap_or(Command::Serve), config).await)
}

async fn run(command: Command, config: Config) -> Result<()> {
    match command {
        Command::Serve => Application::builder(config).build().await?.run_until(shutdown_signal()).await,
        Command::Purge { dry_run } => purge(config, dry_run).await,
        Command::RotateKey => {
            let keyring = load_keyring(&config.keys.encryption, &config.keys.previous_encryption)?;
            let db = open_db(&config).await?;
            let report = maintenance::reencrypt_all(&db, &keyring).await?;
            println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            println!("key ids in use: {:?}", store::installations::key_ids_in_use(&db).await?);
            Ok(())
        }
        Command::Descriptor => {
            let descriptor = config.descriptor()?;
            print!("{}", String::from_utf8_lossy(descriptor.bytes()));
            Ok(())
        }
        Command::ForgeManifest { product, json, native, migrated } => {
            let descriptor = config.descriptor()?;
            let product: Product = product.parse().map_err(Error::BadRequest)?;
            let app_id = config.forge.app_id.as_deref();
            let mode = match (native, migrated) {
                (true, _) => Mode::Native,
                (_, true) => Mode::Migrated,
                _ => Mode::ConnectOnForge,
            };
            if json {
                println!("{}", manifest_json(&descriptor, product, app_id, mode));
            } else {
                print!("{}", manifest_yaml(&descriptor, product, app_id, mode));
            }
            Ok(())
        }
        Command::List { search } => {
            let listing = operator_cli::Listing {
                search: search.as_deref(),
                now: Clock::system().now(),
                silence: &config.forge.silence,
            };
            operator_cli::list(&open_db(&config).await?, &listing, &mut std::io::stdout()).await
        }
        Command::Show { client_key } => operator_cli::show(&open_db(&config).await?, &client_key).await,
        Command::Webhooks => operator_cli::webhooks(&open_db(&config).await?).await,
        Command::Backup { to } => {
            store::backup::sqlite_copy(&open_db(&config).await?, &to).await?;
            println!("backed up to {}", to.display());
            Ok(())
        }

        Command::GenerateKey | Command::CreateOperator { .. } => Ok(()),
    }
}

async fn purge(config: Config, dry_run: bool) -> Result<()> {
    let db = open_db(&config).await?;
    let clock = Clock::system();
    let expired = if dry_run {
        store::purge::expired(&db, clock.now(), config.retention.keep.as_secs() as i64).await?
    } else {
        maintenance::purge(&db, &clock, config.retention.keep).await?
    };
    let verb = if dry_run { "would purge" } else { "purged" };
    for e in &expired {
        let name = e.client_key.as_deref().unwrap_or(e.tenant_id.as_str());
        println!("{verb} {name} ({}, {}, inactive since {})", e.base_url, e.reason, e.inactive_since);
    }
    println!("{verb} {} installation(s)", expired.len());
    Ok(())
}

async fn open_db(config: &Config) -> Result<Database> {
    let db = Database::connect(config.database_url.as_str()).await?;
    db.migrate().await?;
    Ok(db)
}

fn finish(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server stopped");
            eprintln!("server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
