//! Atlassian's personal data reporting: each cycle reports every account
//! the tenants' data names, 90 to a request, to the fake's reporting API
//! (Connect: as the app with its JWT; Forge: with the system token on the
//! API's origin), and a closed account's notes are anonymised; nothing else
//! changes (the row snapshot proves it). An updated account changes nothing
//! the house keeps. The cycle runs every second here
//! (`PERSONAL_DATA_REPORT_INTERVAL_SECS=1`), on one instance at a time.

use server::store::{TenantDb, personal_data::ANONYMOUS, tenant_lookup};

use crate::{
    forge_native::{forge_of, install_of, native_site_of},
    on_both_databases,
    support::{
        app::TestApp,
        db::DbKind,
        eventually::eventually,
        rows::{dump, dump_text},
    },
};

const CLOSED: &str = "user-closed";
const KEPT: &str = "user-kept";
/// Accounts beyond the two above: 93 in all, so two requests of 90 and 3.
const OTHERS: usize = 91;

fn reporting(kind: DbKind) -> crate::support::app_builder::TestAppBuilder {
    TestApp::builder(kind).var("PERSONAL_DATA_REPORT_INTERVAL_SECS", "1")
}

/// The lines only in `before`, and those only in `after`, of the store's
/// dumps, but the reporting lease's (its next run moves every cycle).
fn changed(before: &[u8], after: &[u8]) -> (Vec<String>, Vec<String>) {
    let (before, after) = (dump_text(before), dump_text(after));
    let only = |a: &str, b: &str| -> Vec<String> {
        let lines = a.lines().filter(|l| !l.contains("personal-data-report"));
        lines.filter(|l| !b.lines().any(|o| o == *l)).map(str::to_string).collect()
    };
    (only(&before, &after), only(&after, &before))
}

async fn a_closed_accounts_notes_are_anonymised_and_nothing_else_changes(kind: DbKind) {
    let app = reporting(kind).start().await;
    let tenant = app.fake.add_site("acme", "jira");
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    let others: Vec<String> = (0..OTHERS).map(|i| format!("user-{i:03}")).collect();
    let authors = [CLOSED, CLOSED, KEPT].into_iter().chain(others.iter().map(String::as_str));
    for (i, author) in authors.enumerate() {
        let session = app.session_for(&tenant, author).await;
        let note = [("title", format!("Note {i}")), ("body", format!("Body {i}"))];
        let form: Vec<(&str, &str)> = note.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(app.call_as(&session, "/api/notes/create", &form).await.0, 200);
    }
    app.fake.update_account(KEPT);
    let reported = app.fake.personal_data_reports().len();
    eventually("a whole cycle reported after the notes", || async {
        let reports = app.fake.personal_data_reports();
        reports.len() >= reported + 2 && reports[reports.len() - 2..].iter().all(|(_, n)| *n == 90 || *n == 3)
    })
    .await;
    let before = dump(&app.raw_db).await;

    app.fake.close_account(CLOSED);
    eventually("the closed account's notes anonymised", || async {
        !dump_text(&dump(&app.raw_db).await).contains(CLOSED)
    })
    .await;
    let after = dump(&app.raw_db).await;
    let (gone, came) = changed(&before, &after);
    assert_eq!(gone.len(), 2, "two notes changed: {gone:?}");
    assert!(gone.iter().all(|l| l.contains(CLOSED)), "{gone:?}");
    assert_eq!(came, gone.iter().map(|l| l.replace(CLOSED, ANONYMOUS)).collect::<Vec<_>>(), "and only their author");
    let reports = app.fake.personal_data_reports();
    assert!(reports.iter().all(|(site, n)| site == "acme" && *n <= 90), "{reports:?}");
    assert!(reports.iter().any(|(_, n)| *n == 90), "a full batch: {reports:?}");
}
on_both_databases!(a_closed_accounts_notes_are_anonymised_and_nothing_else_changes);

async fn a_forge_tenant_reports_with_its_system_token_on_the_apis_origin(kind: DbKind) {
    let app = native_site_of(reporting(kind)).await;
    let (forge, install) = (forge_of(&app), install_of(&app));
    for (user, title) in [("user", "A: mine"), ("admin", "B: theirs")] {
        let fit = forge.jwks.fit_of(&install, hostkit::forge::modules::GLOBAL_PAGE, Some(user));
        let form = [("title", title), ("body", "")];
        assert_eq!(app.call("/api/notes/create", Some(&format!("Bearer {fit}")), &form).await.0, 200);
    }
    app.fake.close_account("user");
    let tenant = tenant_lookup::find_tenant(&app.raw_db, &install.installation_id).await.unwrap().unwrap();
    let authors = || async {
        let db = TenantDb::new(&app.raw_db, &tenant.tenant_id);
        db.column("SELECT author_account_id FROM notes WHERE tenant_id = $1 ORDER BY title", &[]).await.unwrap()
    };
    eventually("the closed account's note anonymised", || async { authors().await == [ANONYMOUS, "admin"] }).await;
    let reports = forge.api.personal_data_reports();
    assert!(reports.iter().any(|(cloud_id, n)| *cloud_id == install.cloud_id && *n == 2), "{reports:?}");
}
on_both_databases!(a_forge_tenant_reports_with_its_system_token_on_the_apis_origin);
