//! Public, tenant-free facts about the running app (name and version).
//! Deliberately unauthenticated: it reveals nothing a descriptor does not.

use leptos::prelude::*;

use super::codec::JsonAnswer;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppVersion {
    pub name: String,
    pub version: String,
}

#[server(endpoint = "public/app_info", output = JsonAnswer)]
pub async fn app_info() -> Result<AppVersion, ServerFnError> {
    Ok(AppVersion { name: env!("CARGO_PKG_NAME").to_string(), version: env!("CARGO_PKG_VERSION").to_string() })
}
