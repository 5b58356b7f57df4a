//! The small app of `docs/vendor.md`, started like the server itself (the
//! same environment): `cargo run -p server --example vendor_app`.

mod app;

use server::vendor::{Application, Config};

#[tokio::main]
async fn main() -> server::vendor::Result<()> {
    let config = Config::from_env()?;
    let builder = Application::builder(config).webhooks(app::webhooks()).lifecycle(app::hooks());
    let app = builder.migrations(app::migrations()).build().await?;
    app.run_until(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
