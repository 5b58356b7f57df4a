//! The vendor's lifecycle hooks hear each accepted change once, after it
//! committed: a Connect install, its move onto Forge, its uninstall and its
//! purge; a tenant born on Forge and its `preUninstall`. Retries, and
//! changes that change nothing, call nothing.

use std::sync::{Arc, Mutex};

use hostkit::Tenant;
use server::vendor::{HookFuture, LifecycleHook, LifecycleHooks, TenantChange, TenantEvent, TenantId};

use crate::support::{app::TestApp, db::DbKind, eventually::eventually};

#[derive(Clone, Default)]
struct Recorder {
    heard: Arc<Mutex<Vec<(TenantChange, TenantId)>>>,
}

impl LifecycleHook for Recorder {
    fn on<'a>(&'a self, event: &'a TenantEvent) -> HookFuture<'a> {
        Box::pin(async move {
            self.heard.lock().map_err(|_| "poisoned".to_string())?.push((event.change, event.tenant_id.clone()));
            Ok(())
        })
    }
}

impl Recorder {
    async fn heard_for(&self, tenant: &str, expected: &[TenantChange]) {
        let what = format!("{tenant} heard {expected:?}");
        eventually(&what, || async { self.of(tenant) == expected }).await;
    }

    fn of(&self, tenant: &str) -> Vec<TenantChange> {
        let heard = self.heard.lock().unwrap();
        heard.iter().filter(|(_, id)| id.as_str() == tenant).map(|(change, _)| *change).collect()
    }
}

async fn tenant_id(app: &TestApp, name: &str) -> String {
    let found = server::store::tenant_lookup::find_tenant(&app.raw_db, name).await.unwrap();
    found.expect("a tenant").tenant_id.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_accepted_change_is_heard_once() {
    use TenantChange::*;
    let recorder = Recorder::default();
    let app = TestApp::builder(DbKind::Sqlite)
        .forge()
        .lifecycle(LifecycleHooks::new().with(recorder.clone()))
        .var("PURGE_INTERVAL_SECS", "1")
        .start()
        .await;

    // Connect: installed; a second install of the active tenant is no news.
    let tenant: Tenant = app.fake.add_site("acme", "jira");
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    let key = tenant_id(&app, &tenant.client_key).await;
    recorder.heard_for(&key, &[Installed]).await;
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    // Onto Forge (a signed install naming an installation, then Forge's installed event), then uninstalled.
    app.fake.move_to_forge("acme").await.unwrap();
    recorder.heard_for(&key, &[Installed, MovedToForge]).await;
    // Connect sends `disabled` just before `uninstalled`: the uninstall is still news.
    assert_eq!(app.host.toggle(&tenant, "disabled").await.status(), 204);
    assert_eq!(app.host.uninstall(&tenant).await.status(), 204);
    assert_eq!(app.host.uninstall(&tenant).await.status(), 204, "a retry");
    recorder.heard_for(&key, &[Installed, MovedToForge, Uninstalled]).await;

    // Born on Forge, then Forge's preUninstall (retried: heard once).
    app.fake.add_native_site("nova", "jira");
    assert_eq!(app.fake.forge_install("nova").await, Ok(204));
    let born = tenant_id(&app, &app.fake.forge_installation("nova").unwrap().installation_id).await;
    recorder.heard_for(&born, &[Installed]).await;
    assert_eq!(app.fake.forge_uninstall("nova").await, Ok(204));
    assert_eq!(app.fake.forge_event("nova", "pre-uninstall").await, Ok(204));
    recorder.heard_for(&born, &[Installed, Uninstalled]).await;

    // The housekeeping purges both 30 days on, and says so.
    app.clock.advance(31 * 86_400);
    recorder.heard_for(&key, &[Installed, MovedToForge, Uninstalled, Purged]).await;
    recorder.heard_for(&born, &[Installed, Uninstalled, Purged]).await;
}
