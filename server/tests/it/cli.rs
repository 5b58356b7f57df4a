//! The `server` command line, run as a real process on the app's database.

use std::collections::HashMap;

use hostkit::Tenant;
use server::connect::lifecycle::InstallState;

use crate::support::{
    app::{TestApp, jira_site},
    db::DbKind,
    process::run_cli,
    rows::{dump, rows_naming},
};

/// The environment of `app`, for a CLI run on the same database.
fn env_of(app: &TestApp, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", app.db.url.clone()),
        ("APP_BASE_URL", app.base_url.clone()),
        ("APP_ENCRYPTION_KEY", app.encryption_key.clone()),
        ("APP_SESSION_KEY", server::secrets::AppKey::generate_base64().unwrap()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    vars
}

fn stdout(output: &std::process::Output) -> String {
    assert!(output.status.success(), "exit {:?}: {}", output.status, String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_show_descriptor_and_forge_manifest_print_what_is_stored_and_served() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let tenant =
        Tenant { installation_id: Some("ari:cloud:ecosystem::installation/1234".into()), ..Tenant::new(&jira_site()) };
    app.host.install(&tenant).await;
    let dir = tempfile::tempdir().unwrap();
    let env = env_of(&app, &[]);

    let list = stdout(&run_cli(dir.path(), &["list"], &env, ""));
    assert!(list.contains(&tenant.client_key) && list.contains(&tenant.base_url), "{list}");
    let show = stdout(&run_cli(dir.path(), &["show", &tenant.client_key], &env, ""));
    let shown: serde_json::Value = serde_json::from_str(&show).unwrap();
    assert_eq!(
        shown["installationId"], "ari:cloud:ecosystem::installation/1234",
        "Forge-era installs keep their installationId"
    );
    assert_eq!(shown["events"][0]["event"], "installed");
    assert!(!show.contains(&tenant.shared_secret));
    assert!(!run_cli(dir.path(), &["show", "nobody"], &env, "").status.success());
    // By base URL: after a site import, the newest installation of the site.
    let imported = Tenant { client_key: format!("imported-{}", hostkit::random_hex(6)), ..tenant.clone() };
    assert_eq!(app.host.install(&imported).await.status(), 204);
    let by_site = stdout(&run_cli(dir.path(), &["show", &format!("{}/", tenant.base_url)], &env, ""));
    let by_site: serde_json::Value = serde_json::from_str(&by_site).unwrap();
    assert_eq!(by_site["clientKey"], imported.client_key.as_str(), "the site's newest installation");
    assert!(!run_cli(dir.path(), &["show", "https://nobody.atlassian.net"], &env, "").status.success());

    let descriptor: serde_json::Value =
        serde_json::from_str(&stdout(&run_cli(dir.path(), &["descriptor"], &env, ""))).unwrap();
    assert_eq!(descriptor["baseUrl"], app.base_url.as_str());
    let manifest = stdout(&run_cli(dir.path(), &["forge-manifest", "--product", "confluence"], &env, ""));
    let yaml = &yaml_rust2::YamlLoader::load_from_str(&manifest).expect("the manifest is YAML")[0];
    assert_eq!(yaml["app"]["connect"]["key"].as_str(), descriptor["key"].as_str());
    assert_eq!(yaml["remotes"][0]["baseUrl"].as_str(), Some("${REMOTE_BASE_URL}"));
    assert_eq!(yaml["environment"]["variables"][0]["default"].as_str(), Some(app.base_url.as_str()));
    assert_eq!(yaml["connectModules"]["confluence:lifecycle"][0]["installed"].as_str(), Some("/installed"));
    assert_eq!(yaml["connectModules"]["confluence:generalPages"][0]["url"].as_str(), Some("/app"));
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "the CLI wrote nothing in its working directory");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forge_era_install_works_without_enabled_or_disabled() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let tenant =
        Tenant { installation_id: Some("ari:cloud:ecosystem::installation/77".into()), ..Tenant::new(&jira_site()) };
    assert_eq!(app.host.install(&tenant).await.status(), 204);
    let row = app.installation(&tenant.client_key).await.unwrap();
    assert_eq!(row.installation_id().map(|i| i.as_str()), Some("ari:cloud:ecosystem::installation/77"));
    assert_eq!(row.state, InstallState::Installed);
    assert_eq!(app.open_page(&tenant, "/app", &[], Some("u")).await.status, 200, "no enabled event is needed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_dry_run_changes_nothing_and_purge_removes_only_expired_installations_with_their_data() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let orphan = Tenant::new(&jira_site());
    app.host.install(&orphan).await;
    // demo:begin
    let orphan_session = app.session_for(&orphan, "u").await;
    let (status, _) =
        app.call_as(&orphan_session, "/api/notes/create", &[("title", "old site note"), ("body", "")]).await;
    assert_eq!(status, 200);
    // demo:end
    let successor = Tenant::new(&orphan.base_url);
    app.host.install(&successor).await;
    let gone = Tenant::new(&jira_site());
    app.host.install(&gone).await;
    app.host.uninstall(&gone).await;
    let active = Tenant::new(&jira_site());
    app.host.install(&active).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let dir = tempfile::tempdir().unwrap();
    let env = env_of(&app, &[("INSTALL_RETENTION_DAYS", "0")]);
    let before = dump(&app.raw_db).await;
    let dry = stdout(&run_cli(dir.path(), &["purge", "--dry-run"], &env, ""));
    assert!(dry.contains(&orphan.client_key) && dry.contains(&gone.client_key), "{dry}");
    assert!(!dry.contains(&active.client_key) && !dry.contains(&successor.client_key));
    assert!(dry.contains("would purge 2"), "{dry}");
    assert_eq!(dump(&app.raw_db).await, before, "a dry run changes nothing");

    let mut purged_ids = Vec::new();
    for purged in [&orphan, &gone] {
        purged_ids.push(app.installation(&purged.client_key).await.expect("stored before the purge").tenant_id);
    }
    let done = stdout(&run_cli(dir.path(), &["purge"], &env, ""));
    assert!(done.contains("purged 2"), "{done}");
    for (purged, id) in [&orphan, &gone].into_iter().zip(&purged_ids) {
        assert!(app.installation(&purged.client_key).await.is_none());
        let left = rows_naming(&app.raw_db, id.as_str()).await;
        assert!(left.is_empty(), "{}'s data went with it: {left:?}", purged.client_key);
    }
    // demo:begin
    let remaining = dump(&app.raw_db).await;
    assert!(!remaining.windows(13).any(|w| w == b"old site note"), "the orphan's notes went with it");
    // demo:end
    for kept in [&active, &successor] {
        assert!(app.installation(&kept.client_key).await.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_key_re_encrypts_and_every_tenant_still_verifies() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let tenants: Vec<Tenant> = (0..3).map(|_| Tenant::new(&jira_site())).collect();
    for t in &tenants {
        app.host.install(t).await;
    }
    let new_key = server::secrets::AppKey::generate_base64().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = env_of(&app, &[("APP_ENCRYPTION_KEY", &new_key), ("APP_ENCRYPTION_KEY_PREVIOUS", &app.encryption_key)]);
    let report = stdout(&run_cli(dir.path(), &["rotate-key"], &env, ""));
    assert!(report.contains("\"reencrypted\": 3"), "{report}");
    let db_url = app.db.url.clone();
    let cdn = app.host.key_server.url();
    let rotated = TestApp::builder(DbKind::Sqlite)
        .var("DATABASE_URL", db_url)
        .var("CONNECT_KEYS_CDN_URL", cdn)
        .var("APP_ENCRYPTION_KEY", new_key.clone())
        .start()
        .await;
    for t in &tenants {
        assert_eq!(rotated.host.toggle(t, "disabled").await.status(), 204, "verifies under the new key alone");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_operator_hashes_a_password_read_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdout(&run_cli(
        dir.path(),
        &["create-operator", "--name", "ops"],
        &HashMap::new(),
        "a sufficiently long password\n",
    ));
    assert!(out.contains("OPERATOR_USER=ops"));
    assert!(out.contains("OPERATOR_PASSWORD_HASH='$argon2id$"), "{out}");
    assert!(!out.contains("sufficiently"), "the password itself is never printed");
    let short = run_cli(dir.path(), &["create-operator", "--name", "ops"], &HashMap::new(), "short\n");
    assert!(!short.status.success());
}

/// The generated manifest for both products, in all three modes
/// (Connect-on-Forge, migrated, Forge-native), refused by nothing of the
/// npm package `@forge/manifest` (installed by `cargo xtask test`): its JSON
/// schema and every one of its own validators, as `forge lint` and `forge
/// deploy` run them on the YAML file that `forge deploy` reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs node and @forge/manifest in tools/forge-manifest: run by cargo xtask test"]
async fn the_forge_manifest_passes_the_schema_and_validators_of_forge_manifest() {
    let tools = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/forge-manifest");
    assert!(tools.join("node_modules/tslib").exists(), "run `cargo xtask test`: it installs @forge/manifest");
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let manifests = tempfile::tempdir().unwrap();
    // A production URL, a development one (which gets no migration notice: it must be https), and a paid app.
    let sites = [
        ("prod", "https://notes.example.com", "false"),
        ("dev", "http://127.0.0.1:3000", "false"),
        ("paid", "https://notes.example.com", "true"),
    ];
    let modes = [("connect-on-forge", None), ("migrated", Some("--migrated")), ("native", Some("--native"))];
    let mut files = Vec::new();
    for (site, base_url, licensing) in sites {
        for (product, (mode, flag)) in ["jira", "confluence"].into_iter().flat_map(|p| modes.map(|m| (p, m))) {
            let vars =
                [("APP_BASE_URL", base_url), ("FORGE_APP_ID", &hostkit::forge::app_id()), ("APP_LICENSING", licensing)];
            let env = env_of(&app, &vars);
            let mut args = vec!["forge-manifest", "--product", product];
            args.extend(flag);
            let yaml = stdout(&run_cli(dir.path(), &args, &env, ""));
            let json = stdout(&run_cli(dir.path(), &[&args[..], &["--json"]].concat(), &env, ""));
            let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed["app"].get("connect").is_some(), mode != "native", "{product}, {mode}");
            assert_eq!(parsed.get("connectModules").is_some(), mode == "connect-on-forge", "{product}, {mode}");
            assert_eq!(parsed["environment"]["variables"][0]["default"], base_url);
            let paid = licensing == "true";
            assert_eq!(parsed["app"]["licensing"]["enabled"] == true, paid, "{product}, {mode}, {site}");
            let product_events = parsed["modules"]["trigger"].as_array().into_iter().flatten();
            for trigger in product_events.filter(|t| t["key"] == "product-events") {
                assert_eq!(trigger["filter"]["appIsLicensed"] == true, paid, "{trigger}");
            }
            // The YAML is what `forge deploy` reads, so it is what is checked.
            let file = manifests.path().join(format!("{product}-{mode}-{site}.yml"));
            std::fs::write(&file, yaml).unwrap();
            files.push(file);
        }
    }
    // One run for all: the validators take seconds to compile the schema.
    let out = std::process::Command::new("node")
        .arg(tools.join("validate.mjs"))
        .args(&files)
        // Forge reads manifest variables from the environment: the defaults are what is checked.
        .env_remove("REMOTE_BASE_URL")
        .output()
        .expect("node runs");
    let valid = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{valid}", String::from_utf8_lossy(&out.stderr));
    for file in &files {
        let line = format!("{}: manifest valid against @forge/manifest 13.7.0", file.display());
        assert!(valid.contains(&line), "{valid}");
    }
    assert_eq!(files.len(), 18, "three modes, two products, three sites");
}

/// `server backup` copies the SQLite database while the app serves: the copy
/// opens on its own with every acknowledged install and note in it, and an
/// existing file is never overwritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_writes_a_consistent_copy_while_the_app_serves() {
    let app = TestApp::spawn(DbKind::Sqlite).await;
    let tenants: Vec<Tenant> = (0..3).map(|_| Tenant::new(&jira_site())).collect();
    for tenant in &tenants {
        assert_eq!(app.host.install(tenant).await.status(), 204);
    }
    // demo:begin
    let session = app.session_for(&tenants[0], "u").await;
    let (status, _) = app.call_as(&session, "/api/notes/create", &[("title", "kept in the copy"), ("body", "")]).await;
    assert_eq!(status, 200);
    // demo:end

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let copy_arg = copy.to_str().unwrap();
    let done = stdout(&run_cli(dir.path(), &["backup", copy_arg], &env_of(&app, &[]), ""));
    assert!(done.contains("backed up to"), "{done}");
    let copied = server::store::Database::connect(&format!("sqlite://{copy_arg}")).await.unwrap();
    for tenant in &tenants {
        let row = server::store::installations::find_by_client_key(
            &copied,
            &server::vendor::ClientKey::new(&tenant.client_key),
        )
        .await
        .unwrap();
        assert!(row.is_some_and(|r| r.is_active()), "{} is in the copy", tenant.client_key);
    }
    assert_eq!(notes_in(&copied).await, 1, "the note is in the copy"); // demo
    let again = run_cli(dir.path(), &["backup", copy_arg], &env_of(&app, &[]), "");
    assert!(!again.status.success(), "an existing file is never overwritten");
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
}

// demo:begin
async fn notes_in(db: &server::store::Database) -> i64 {
    let server::store::Pool::Sqlite(pool) = &db.pool else { unreachable!() };
    sqlx::query_scalar("SELECT COUNT(*) FROM notes WHERE title = 'kept in the copy'").fetch_one(pool).await.unwrap()
}
// demo:end
