//! A page of yours and its server function: "Hello, {user}", the name asked
//! of the user's site as the app, and the user's visits, counted in a table
//! of yours (`migrations/*/10000_hello_visits.sql`).

use leptos::{either::EitherOf3, prelude::*, server_fn::ServerFn};

#[cfg(feature = "ssr")]
use crate::api::backend::serve_cx;
use crate::{
    api::{client::SessionClient, codec::JsonAnswer, error::ApiError},
    ui::{
        hydration::after_hydration,
        status::{ErrorBox, Loading},
    },
};

/// The server function's path, for [`super::SERVER_FUNCTIONS`].
pub(super) const GREETING: &str = <Greeting as ServerFn>::PATH;

/// The caller's visits so far, this one counted (`$1` is the tenant's id).
#[cfg(feature = "ssr")]
const COUNT_VISIT: &str = "INSERT INTO hello_visits (tenant_id, account_id, visits) VALUES ($1, $2, 1) \
    ON CONFLICT (tenant_id, account_id) DO UPDATE SET visits = hello_visits.visits + 1 \
    RETURNING CAST(visits AS TEXT)";

/// "Hello, {display name} (visit n)" for the caller, the name from their
/// site's user record.
#[server(endpoint = "vendor/greeting", client = SessionClient, output = JsonAnswer)]
pub async fn greeting() -> Result<String, ApiError> {
    serve_cx(|cx| {
        Box::pin(async move {
            let account_id = cx.caller.account_id.as_ref().ok_or(ApiError::Forbidden)?;
            let jira = cx.site()?.product != Some("confluence");
            let path = if jira { "/rest/api/3/user" } else { "/rest/api/user" };
            let user = cx.get_as_app(path, &[("accountId", account_id.as_str())]).await?;
            let name = user["displayName"].as_str().or(user["publicName"].as_str()).unwrap_or("there");
            let visits = cx.column(COUNT_VISIT, &[account_id.as_str()]).await?;
            Ok(format!("Hello, {name} (visit {})", visits.first().map_or("1", String::as_str)))
        })
    })
    .await
}

#[component]
pub(super) fn Hello() -> impl IntoView {
    let greeting = after_hydration(greeting);
    view! {
        <h1>"Hello"</h1>
        <section class="card" id="hello">
            {move || match greeting.get() {
                None => EitherOf3::A(view! { <Loading what="your name"/> }),
                Some(Ok(text)) => EitherOf3::B(view! { <p id="greeting">{text}</p> }),
                Some(Err(error)) => EitherOf3::C(view! { <ErrorBox error/> }),
            }}
        </section>
    }
}
