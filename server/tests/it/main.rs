//! Behaviour tests: each starts the real server on a random loopback port
//! against a fresh database and speaks HTTP to it, as Atlassian's host would.
//! One test binary (modules below) keeps link time down.

mod support;

mod admin_page;
mod api_tokens;
mod browser_app; // demo
mod cli;
mod connections;
mod console;
mod cors;
mod crash_safety;
mod custom_ui;
mod database_faults; // demo
mod fair_queue;
mod fake_host;
mod forge_admin_check;
mod forge_events;
mod forge_fit;
mod forge_native;
mod forge_product_events;
mod forge_silence;
mod foundation;
mod hydration;
mod install_attacks;
mod instances;
mod isolation; // demo
mod key_server;
mod licensing;
mod lifecycle;
mod lifecycle_hooks;
mod metrics;
mod pages;
mod personal_data; // demo
mod queue_batches;
mod refusal_limits;
mod route_proofs;
mod secrets_at_rest;
mod site_client;
mod site_import;
mod snapshots;
mod tenant_migration; // demo
mod vendor_example;
mod vendor_pages;
mod vendor_tables;
mod webhook_runs;
mod webhooks;
