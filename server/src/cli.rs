//! The `server` command line: run the app (the default), or operate on its
//! database with the same configuration.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "server", version, about = "Atlassian Connect app server and operator commands")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the app (the default when no command is given).
    Serve,
    /// Delete orphaned and uninstalled installations past the retention window, with their data.
    Purge {
        /// Only list what would be purged; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Re-encrypt every shared secret under APP_ENCRYPTION_KEY. Give the old key(s) in
    /// APP_ENCRYPTION_KEY_PREVIOUS. Safe while the app runs.
    RotateKey,
    /// Print a new random encryption key (base64 of 32 bytes).
    GenerateKey,
    /// Print the descriptor as the app serves it.
    Descriptor,
    /// Print the Forge manifest.yml generated from the descriptor and the app's Forge modules:
    /// Connect-on-Forge by default, a Connect app done moving onto Forge with --migrated, or a
    /// Forge-native app with --native.
    ForgeManifest {
        /// The product the Forge app targets.
        #[arg(long, default_value = "jira")]
        product: String,
        /// Print JSON instead of YAML (what schema validators read).
        #[arg(long)]
        json: bool,
        /// A Forge-native app: no `app.connect`, no Connect modules; product events through a trigger.
        #[arg(long, conflicts_with = "migrated")]
        native: bool,
        /// A Connect app moved onto Forge for good: keeps `app.connect.key`, declares no Connect module;
        /// Forge pages and triggers as with --native.
        #[arg(long)]
        migrated: bool,
    },
    /// List installations (newest event first).
    List {
        /// Only installations whose clientKey or base URL contains this text.
        #[arg(long)]
        search: Option<String>,
    },
    /// Show one installation, its identity history and lifecycle log, by clientKey,
    /// installationId, cloudId or base URL (`https://…`: the site's newest active
    /// installation, as after a site import; an old base URL finds a renamed site).
    Show { client_key: String },
    /// Print the webhook queue: how many jobs are queued, running, done, dead or dropped.
    Webhooks,
    /// Write a consistent copy of the SQLite database to a new file, while the app runs
    /// (`VACUUM INTO`). Restore by stopping the app and copying the file back.
    Backup {
        /// Where to write the copy; the file must not exist yet.
        to: std::path::PathBuf,
    },
    /// Hash an operator password (read from standard input) for OPERATOR_PASSWORD_HASH.
    CreateOperator {
        #[arg(long)]
        name: String,
    },
}
