//! Several instances on one database: what one instance writes (an
//! uninstall, a disable, a reinstall with a new secret, a site import) is
//! honoured by the other within one second, although each keeps a
//! short-lived copy of the installation rows it verifies requests with.

use std::time::{Duration, Instant};

use hostkit::Tenant;

use crate::{
    on_both_databases,
    support::{
        app::{Instance, TestApp},
        db::DbKind,
        eventually::within,
    },
};

/// The promise: another instance's write counts here within this time.
const WITHIN: Duration = Duration::from_secs(1);

struct Pair {
    a: TestApp,
    b: Instance,
}

impl Pair {
    async fn start(kind: DbKind) -> Self {
        let a = TestApp::spawn(kind).await;
        let b = a.another_instance().await;
        Self { a, b }
    }

    /// The status of `tenant`'s `/app` page loaded from instance B.
    async fn page_on_b(&self, tenant: &Tenant) -> u16 {
        let url = self.a.host.page_url(tenant, "/app", &[], Some("user-1"));
        let url = url.replacen(&self.a.base_url, &format!("http://{}", self.b.addr), 1);
        self.a.http.get(url).send().await.expect("page on B").status().as_u16()
    }

    /// The status of a server-function call with `token`, made to instance B.
    async fn call_on_b(&self, token: &str) -> u16 {
        let request = self.a.http.post(self.b.url("/api/me/identity")).header("authorization", format!("JWT {token}"));
        request.send().await.expect("call on B").status().as_u16()
    }

    /// How long after a change B still gave an old answer: from the change
    /// to the start of the last probe of `tenant`'s page and of a call with
    /// `token` that did not both give `expected` (polled for at most three
    /// seconds). Counted from a probe's start, so a probe the machine slows
    /// down cannot lengthen it: once B's copy has expired, every probe that
    /// starts sees the change.
    async fn until_b_answers(&self, tenant: &Tenant, token: &str, expected: (u16, u16)) -> Duration {
        let changed = Instant::now();
        let last_old = std::sync::Mutex::new(Duration::ZERO);
        let what = format!("B answers {expected:?}");
        within(&what, Duration::from_secs(3), || async {
            let started = Instant::now();
            let new = (self.page_on_b(tenant).await, self.call_on_b(token).await) == expected;
            if !new {
                *last_old.lock().unwrap() = started - changed;
            }
            new
        })
        .await;
        last_old.into_inner().unwrap()
    }
}

async fn another_instance_honours_each_lifecycle_change_within_a_second(kind: DbKind) {
    let pair = Pair::start(kind).await;
    let tenant = pair.a.installed_tenant().await;
    // B reads the row now, so it holds a copy when A changes it.
    assert_eq!(pair.page_on_b(&tenant).await, 200);
    let session = pair.a.session_for(&tenant, "user-1").await;
    assert_eq!(pair.call_on_b(&session).await, 200);

    assert_eq!(pair.a.host.toggle(&tenant, "disabled").await.status(), 204);
    let disabled = pair.until_b_answers(&tenant, &session, (403, 401)).await;
    assert_eq!(pair.a.host.toggle(&tenant, "enabled").await.status(), 204);
    let enabled = pair.until_b_answers(&tenant, &session, (200, 200)).await;

    // A reinstall with a new secret: the old secret's pages and the sessions
    // minted before it end on B too.
    let reinstalled = tenant.with_new_secret();
    assert_eq!(pair.a.host.install(&reinstalled).await.status(), 204);
    let new_secret = pair.until_b_answers(&tenant, &session, (401, 401)).await;
    let session = pair.a.session_for(&reinstalled, "user-1").await;
    assert_eq!((pair.page_on_b(&reinstalled).await, pair.call_on_b(&session).await), (200, 200));

    assert_eq!(pair.a.host.uninstall(&reinstalled).await.status(), 204);
    let uninstalled = pair.until_b_answers(&reinstalled, &session, (401, 401)).await;

    for (change, took) in
        [("disable", disabled), ("enable", enabled), ("new secret", new_secret), ("uninstall", uninstalled)]
    {
        assert!(took < WITHIN, "B still answered as before the {change} {took:?} after it");
    }
}
on_both_databases!(another_instance_honours_each_lifecycle_change_within_a_second);

async fn another_instance_honours_a_site_import_within_a_second(kind: DbKind) {
    let pair = Pair::start(kind).await;
    let before = pair.a.installed_tenant().await;
    assert_eq!(pair.page_on_b(&before).await, 200);
    let session = pair.a.session_for(&before, "user-1").await;
    let imported = Tenant::new(&before.base_url);
    assert_eq!(pair.a.host.install(&imported).await.status(), 204);
    let took = pair.until_b_answers(&before, &session, (401, 401)).await;
    assert!(took < WITHIN, "B still answered as before the site import {took:?} after it");
    assert_eq!(pair.page_on_b(&imported).await, 200, "the new clientKey works on B");
}
on_both_databases!(another_instance_honours_a_site_import_within_a_second);
