//! Forge's deliveries to the app's remote endpoints, and one tenant across
//! both worlds: a Connect tenant keeps its notes through a Forge reinstall
//! (new installationId, joined by a FIT-verified `installed` event), a site
//! rename and a site import (the old tenant orphaned); nothing unverified
//! creates or re-points a mapping (Forge-native tenants: `forge_native.rs`). The system token each delivery brings is
//! kept, and the app calls the stand-in product API with it, as itself; a
//! user token serves its one invocation and is never kept.

use hostkit::{
    ForgeJwks, ProductApi, Tenant,
    forge::{self, ForgeInstall},
    product_api::ApiCall,
};
use serde_json::Value; // demo
use server::{
    connect::{forge_event::ForgeEvent, lifecycle::InstallState, signature::Signature},
    store::{
        event_log::{Outcome, Proof},
        identities::{self, IdentityKind}, // demo
        installations,
        tenant_lookup, // demo
    },
    vendor::ClientKey,
};

use crate::{
    on_both_databases,
    support::{
        app::{TestApp, jira_site},
        db::DbKind,
        eventually::eventually,
        rows::{dump, dump_text, wait_for_row},
    },
};

struct ForgeWorld {
    app: TestApp,
    forge: ForgeJwks,
    api: ProductApi,
    tenant: Tenant,
    install: ForgeInstall,
}

/// The app with Forge on, the stand-in product API allowed, and a
/// Connect-on-Forge tenant installed by a signed `installed` carrying its
/// installationId.
async fn forge_world(kind: DbKind) -> ForgeWorld {
    let forge = ForgeJwks::start().await;
    let api = ProductApi::start().await;
    let app_id = forge::app_id();
    let app = TestApp::builder(kind)
        .var("FORGE_APP_ID", app_id.clone())
        .var("FORGE_JWKS_URL", forge.url.clone())
        .var("FORGE_API_BASE_ALLOWLIST", api.url.clone())
        .var("FORGE_GRAPHQL_URL", format!("{}/graphql", api.url))
        .start()
        .await;
    let cloud_id = forge::cloud_id();
    let install = ForgeInstall::new(&app_id, &cloud_id, &api.jira_base(&cloud_id));
    let tenant = Tenant { installation_id: Some(install.installation_id.clone()), ..Tenant::new(&jira_site()) };
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    ForgeWorld { app, forge, api, tenant, install }
}

impl ForgeWorld {
    /// The status of a server function called with a FIT of `install`'s, as `user-1`.
    async fn call_with_fit(&self, install: &ForgeInstall) -> u16 {
        let fit = self.forge.fit_for(install, Some("user-1"));
        self.app.call("/api/me/identity", Some(&format!("Bearer {fit}")), &[]).await.0
    }

    // demo:begin
    async fn list_notes(&self, install: &ForgeInstall) -> (u16, Value) {
        let fit = self.forge.fit_for(install, Some("user-1"));
        self.app.call("/api/notes/list", Some(&format!("Bearer {fit}")), &[]).await
    }
    // demo:end

    async fn deliver(&self, install: &ForgeInstall, event: ForgeEvent, token: Option<&str>, retry: u32) -> u16 {
        let url = self.app.url(event.path());
        self.forge.deliver(&url, install, event.as_str(), token, retry).await.status().as_u16()
    }

    async fn installation(&self, client_key: &str) -> server::tenant::Tenant {
        installations::find_by_client_key(&self.app.raw_db, &ClientKey::new(client_key))
            .await
            .unwrap()
            .expect("the tenant is stored")
    }

    fn another_installation(&self) -> ForgeInstall {
        ForgeInstall { installation_id: forge::installation_id(), ..self.install.clone() }
    }
}

/// The product API's calls, once it has answered one made with `token` with `status`.
async fn api_call_with(api: &ProductApi, token: &str, status: u16) -> Vec<ApiCall> {
    let answered = || api.calls().iter().any(|c| c.token.as_deref() == Some(token) && c.status == status);
    eventually(&format!("the product API answered {status} to a call with the token"), || async { answered() }).await;
    api.calls()
}

// demo:begin
async fn one_tenant_across_a_forge_reinstall_a_site_rename_and_a_site_import(kind: DbKind) {
    let w = forge_world(kind).await;
    let key = w.tenant.client_key.clone();
    let session = w.app.session_for(&w.tenant, "user-1").await;
    let (status, _) = w.app.call_as(&session, "/api/notes/create", &[("title", "Before"), ("body", "")]).await;
    assert_eq!(status, 200);
    let (status, notes) = w.list_notes(&w.install).await;
    assert_eq!((status, notes[0]["title"].as_str()), (200, Some("Before")), "{notes}");
    assert_eq!(w.installation(&key).await.site.cloud_id.as_deref(), Some(w.install.cloud_id.as_str()), "learned");

    // Forge's `installed` for the installation a signed install joined: retries change nothing.
    let before = dump(&w.app.raw_db).await;
    for retry in 0..3 {
        assert_eq!(w.deliver(&w.install, ForgeEvent::Installed, None, retry).await, 204);
    }
    assert_eq!(dump_text(&dump(&w.app.raw_db).await), dump_text(&before), "retries change nothing");
    assert_eq!(
        w.installation(&key).await.installation_id().map(|i| i.as_str()),
        Some(w.install.installation_id.as_str())
    );

    // A Forge reinstall: a new installationId for the same site is unknown until its verified event.
    let second = w.another_installation();
    assert_eq!(w.list_notes(&second).await.0, 401, "never seen verified");
    assert_eq!(w.deliver(&second, ForgeEvent::Upgraded, None, 0).await, 401, "only `installed` can join");
    assert_eq!(w.deliver(&second, ForgeEvent::Installed, None, 0).await, 204);
    assert_eq!(w.deliver(&second, ForgeEvent::Installed, None, 1).await, 204, "a retry");
    let (status, notes) = w.list_notes(&second).await;
    assert_eq!((status, notes[0]["title"].as_str()), (200, Some("Before")), "the same tenant");
    assert_eq!(w.list_notes(&w.install).await.0, 401, "the replaced installation is gone");
    assert_ne!(dump(&w.app.raw_db).await, before);

    // A site rename: the signed install brings the new base URL; Forge calls keep working.
    let renamed_url = jira_site();
    let renamed = Tenant {
        base_url: renamed_url.clone(),
        installation_id: Some(second.installation_id.clone()),
        ..w.tenant.clone()
    };
    assert_eq!(w.app.host.install(&renamed).await.status(), 204);
    assert_eq!(w.list_notes(&second).await.0, 200, "a rename keeps the tenant");
    let tenant_id = w.installation(&key).await.tenant_id;
    use IdentityKind::{BaseUrl, CloudId, InstallationId};
    let history = identities::history(&w.app.raw_db, &tenant_id).await.unwrap();
    let had = |kind: IdentityKind, value: &str| history.iter().any(|h| h.kind == kind && h.value == value);
    assert!(had(BaseUrl, &w.tenant.base_url) && had(BaseUrl, &renamed_url), "{history:?}");
    assert!(had(InstallationId, &w.install.installation_id) && had(InstallationId, &second.installation_id));
    assert!(had(CloudId, &w.install.cloud_id));
    for old_name in [w.tenant.base_url.as_str(), w.install.installation_id.as_str(), w.install.cloud_id.as_str()] {
        let found = tenant_lookup::find_tenant(&w.app.raw_db, old_name).await.unwrap().expect(old_name);
        assert_eq!(found.client_key().map(|k| k.as_str()), Some(key.as_str()), "found by {old_name}");
    }

    // A site import: a new clientKey and installation for the same URL; the old tenant is an orphan.
    let third = w.another_installation();
    let imported = Tenant {
        client_key: format!("imported-{}", hostkit::random_hex(6)),
        installation_id: Some(third.installation_id.clone()),
        ..renamed.with_new_secret()
    };
    assert_eq!(w.app.host.install(&imported).await.status(), 204);
    assert!(w.installation(&key).await.orphaned_at.is_some());
    assert_eq!(w.list_notes(&second).await.0, 401, "the orphan is not reached");
    let (status, notes) = w.list_notes(&third).await;
    assert_eq!((status, notes.as_array().map(Vec::len)), (200, Some(0)), "the imported site's own notes");

    // A verified `installed` for a site no signed install brought: a tenant born on Forge, its own.
    let count = installations::list(&w.app.raw_db).await.unwrap().len();
    let cloud_id = forge::cloud_id();
    let stranger = ForgeInstall::new(&w.install.app_id, &cloud_id, &w.api.jira_base(&cloud_id));
    assert_eq!(w.list_notes(&stranger).await.0, 401, "unknown until its installed event");
    assert_eq!(w.deliver(&stranger, ForgeEvent::Installed, None, 0).await, 204);
    assert_eq!(installations::list(&w.app.raw_db).await.unwrap().len(), count + 1);
    let (status, notes) = w.list_notes(&stranger).await;
    assert_eq!((status, notes.as_array().map(Vec::len)), (200, Some(0)), "born empty, apart from the others");
}
on_both_databases!(one_tenant_across_a_forge_reinstall_a_site_rename_and_a_site_import);
// demo:end

async fn deliveries_keep_the_system_token_and_the_app_calls_the_product_as_itself(kind: DbKind) {
    let w = forge_world(kind).await;
    let key = w.tenant.client_key.clone();
    let cloud = w.install.cloud_id.clone();
    assert_eq!(w.call_with_fit(&w.install).await, 200, "teaches the cloudId");

    // A reinstall's `installed` brings a token; the first calls meet 403 while permissions propagate.
    let second = w.another_installation();
    let first_token = w.api.system_token(&cloud, 3_600);
    w.api.refuse_next(2);
    assert_eq!(w.deliver(&second, ForgeEvent::Installed, Some(&first_token), 0).await, 204);
    let calls = api_call_with(&w.api, &first_token, 200).await;
    let statuses: Vec<u16> = calls.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [403, 403, 200], "retried with backoff until it worked: {calls:?}");
    assert!(calls.iter().all(|c| c.path == "/rest/api/3/serverInfo"));

    // The hourly trigger refreshes it with a newer one; an older one never replaces it.
    let newer = w.api.system_token(&cloud, 3 * 3_600);
    assert_eq!(w.deliver(&second, ForgeEvent::Hourly, Some(&newer), 0).await, 204);
    assert!(api_call_with(&w.api, &newer, 200).await.iter().any(|c| c.token.as_deref() == Some(&newer)));
    let older = w.api.system_token(&cloud, 600);
    let calls_before = w.api.calls().len();
    assert_eq!(w.deliver(&second, ForgeEvent::Hourly, Some(&older), 0).await, 204);
    let calls = api_call_with(&w.api, &newer, 200).await;
    eventually("the hourly check called the product API", || async { w.api.calls().len() > calls_before }).await;
    let last = w.api.calls().last().cloned().expect("the hourly check called");
    assert_eq!(last.token.as_deref(), Some(newer.as_str()), "the newest token is used: {calls:?}");

    // Sealed at rest: neither token appears in the database in clear.
    let rows = dump(&w.app.raw_db).await;
    for token in [&first_token, &newer, &older] {
        assert!(!rows.windows(token.len()).any(|window| window == token.as_bytes()), "a token in clear");
    }

    // A token for an API base URL the allowlist does not name is never sent: another
    // product API, on loopback but by another name, that would answer it.
    let other_api = ProductApi::start().await;
    let other_base = other_api.jira_base(&cloud).replace("127.0.0.1", "localhost");
    let elsewhere = ForgeInstall { api_base_url: other_base, ..second.clone() };
    let stray = other_api.system_token(&cloud, 4 * 3_600);
    // The hourly check with the stray token is seen to end, refused by the
    // allowlist (the console's record of it), before the other API is asked
    // whether it was called: no waiting in silence.
    let refusal = "the API base URL is not in FORGE_API_BASE_ALLOWLIST";
    assert!(!dump_text(&dump(&w.app.raw_db).await).contains(refusal), "no refusal recorded yet");
    assert_eq!(w.deliver(&elsewhere, ForgeEvent::Hourly, Some(&stray), 0).await, 204);
    wait_for_row(&w.app.raw_db, refusal).await;
    assert_eq!(other_api.calls(), [], "a token went to an API base URL the allowlist does not name");

    // preUninstall marks the tenant uninstalled (never deletes it) and forgets the token.
    assert_eq!(w.deliver(&second, ForgeEvent::PreUninstall, None, 0).await, 204);
    assert_eq!(w.installation(&key).await.state, InstallState::Uninstalled);
    assert_eq!(w.deliver(&second, ForgeEvent::PreUninstall, None, 1).await, 204, "a retry");
    assert_eq!(w.call_with_fit(&second).await, 401);
    let events = w.app.events(&key).await;
    assert!(events.iter().any(|e| e.event == "uninstalled"
        && e.signature == Proof::Verified(Signature::ForgeInvocation)
        && e.outcome == Outcome::Accepted));
    // A delivery for an installation the app never joined is refused.
    let unknown = w.another_installation();
    assert_eq!(w.deliver(&unknown, ForgeEvent::Hourly, None, 0).await, 401);
}
on_both_databases!(deliveries_keep_the_system_token_and_the_app_calls_the_product_as_itself);

/// A page's call carries no token of the user's (`requestRemote` sends
/// none): a user token the page wrote into `x-forge-oauth-user` is never
/// used for a call to the product, nor stored.
async fn a_user_token_the_page_sent_is_never_used_or_kept(kind: DbKind) {
    let w = forge_world(kind).await;
    let cloud = w.install.cloud_id.clone();
    let user_token = w.api.user_token(&cloud, "user-1");
    let fit = w.forge.fit_for(&w.install, Some("user-1"));
    for path in [
        "/api/me/display_name",
        "/api/me/identity",
        "/api/notes/list", // demo
    ] {
        let request = w.app.http.post(w.app.url(path)).bearer_auth(&fit).header("x-forge-oauth-user", &user_token);
        let answer = request.form(&[("", "")]).send().await.unwrap();
        assert_ne!(answer.status(), 401, "{path}: the FIT is fine");
    }
    let calls = w.api.calls();
    assert!(calls.iter().all(|c| c.token.as_deref() != Some(user_token.as_str())), "{calls:?}");
    let rows = dump(&w.app.raw_db).await;
    assert!(!rows.windows(user_token.len()).any(|window| window == user_token.as_bytes()), "never stored");
}
on_both_databases!(a_user_token_the_page_sent_is_never_used_or_kept);

// demo:begin
/// Threat FT-08: where legacy unsigned installs are allowed, one naming another
/// tenant's installationId gets a row but never that installation's Forge calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_install_cannot_take_another_tenants_forge_installation() {
    let forge = ForgeJwks::start().await;
    let app_id = forge::app_id();
    let app = TestApp::builder(DbKind::Sqlite)
        .var("FORGE_APP_ID", app_id.clone())
        .var("FORGE_JWKS_URL", forge.url.clone())
        .var("CONNECT_LEGACY_INSTALL", "true")
        .start()
        .await;
    let install = ForgeInstall::new(&app_id, &forge::cloud_id(), "https://api.atlassian.com/ex/jira/x");
    let victim = Tenant { installation_id: Some(install.installation_id.clone()), ..Tenant::new(&jira_site()) };
    assert_eq!(app.host.install(&victim).await.status(), 204);
    let session = app.session_for(&victim, "user-1").await;
    assert_eq!(app.call_as(&session, "/api/notes/create", &[("title", "Victim's"), ("body", "")]).await.0, 200);

    let attacker = Tenant { installation_id: Some(install.installation_id.clone()), ..Tenant::new(&jira_site()) };
    let body = app.host.body(&attacker, "installed");
    assert_eq!(app.host.post_lifecycle("installed", &body, None).await.status(), 204, "a legacy first install");
    let stored =
        installations::find_by_client_key(&app.raw_db, &ClientKey::new(&attacker.client_key)).await.unwrap().unwrap();
    assert_eq!(stored.installation_id(), None, "an unsigned install joins no Forge installation");
    let fit = forge.fit_for(&install, Some("user-1"));
    let (status, notes) = app.call("/api/notes/list", Some(&format!("Bearer {fit}")), &[]).await;
    assert_eq!((status, notes[0]["title"].as_str()), (200, Some("Victim's")), "the FIT still reaches its tenant");
}
// demo:end
