//! The admin status of a tenant born on Forge is authorized as Forge allows
//! it: the app asks the product as the user (impersonated through Forge's
//! GraphQL gateway: Jira's `mypermissions`, Confluence's own operations),
//! never as the app about someone else, which the product refuses a Forge
//! app that is not an administrator, as the fake product API does.

use hostkit::forge::modules;
use serde_json::json;

use crate::{
    forge_native::forge_of,
    support::{app::TestApp, db::DbKind},
};

async fn install_status(app: &TestApp, site: &str, user: &str) -> u16 {
    let forge = forge_of(app);
    let install = app.fake.forge_installation(site).expect("installed through Forge");
    let fit = forge.jwks.fit_of(&install, modules::ADMIN_PAGE, Some(user));
    app.call("/api/admin/install_status", Some(&format!("Bearer {fit}")), &[]).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_user_is_refused_the_admin_status_and_an_admin_is_not_on_jira_and_confluence() {
    let app = TestApp::builder(DbKind::Sqlite).forge().start().await;
    for (site, product) in [("nova", "jira"), ("wiki", "confluence")] {
        app.fake.add_native_site(site, product);
        app.fake.add_user(site, "admin", "Ada Admin", true);
        app.fake.add_user(site, "user", "Uma User", false);
        assert_eq!(app.fake.forge_install(site).await, Ok(204), "{site}");
        assert_eq!(install_status(&app, site, "admin").await, 200, "{site}: an admin");
        assert_eq!(install_status(&app, site, "user").await, 403, "{site}: a plain user");
    }
    let calls = forge_of(&app).api.calls();
    let asked: Vec<&str> = calls.iter().map(|c| c.path.as_str()).filter(|p| !p.contains("serverInfo")).collect();
    assert!(!asked.iter().any(|p| p.contains("permissions/check") || *p == "user"), "never about another: {asked:?}");
    for user in ["admin", "user"] {
        assert!(asked.contains(&format!("graphql impersonate {user}").as_str()), "{asked:?}");
    }
    assert_eq!(asked.iter().filter(|p| **p == "mypermissions").count(), 2, "Jira, as each user: {asked:?}");
    assert_eq!(asked.iter().filter(|p| **p == "myself").count(), 2, "Confluence, as each user: {asked:?}");
}

/// The fake product API refuses what Jira refuses: a Forge app's system
/// token asking about another user's permissions (Jira lets only Connect
/// apps do that without Administer Jira).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_product_api_refuses_the_app_asking_about_another_user() {
    let api = hostkit::ProductApi::start().await;
    let cloud_id = hostkit::forge::cloud_id();
    api.add_user(&cloud_id, "admin", "Ada Admin", true);
    api.add_user(&cloud_id, "user", "Uma User", false);
    let url = format!("{}/rest/api/3/permissions/check", api.jira_base(&cloud_id));
    let ask = |token: String, about: &str| {
        let body = json!({ "accountId": about, "globalPermissions": ["ADMINISTER"] });
        reqwest::Client::new().post(&url).bearer_auth(token).json(&body).send()
    };
    assert_eq!(ask(api.system_token(&cloud_id, 3600), "admin").await.unwrap().status(), 403, "the app");
    assert_eq!(ask(api.user_token(&cloud_id, "user"), "admin").await.unwrap().status(), 403, "a plain user");
    let by_admin = ask(api.user_token(&cloud_id, "admin"), "user").await.unwrap();
    assert_eq!(by_admin.status(), 200, "an administrator may ask");
    let about_self = ask(api.user_token(&cloud_id, "user"), "user").await.unwrap();
    assert_eq!(about_self.json::<serde_json::Value>().await.unwrap()["globalPermissions"], json!([]));
}
