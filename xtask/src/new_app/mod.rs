//! `cargo xtask new-app`: a new app from this project, in a folder of its
//! own. It copies the files git tracks (so no build output, database, key
//! or `node_modules` goes with them), then gives the copy its own app key,
//! name and vendor everywhere the checkout wrote its own, as its descriptor
//! names them (the descriptor, and so the Forge manifests, the snapshots,
//! the tests), and the README's first lines. A copy has no `data/`: its development keys and its SQLite
//! database are made new on its first run.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

mod demo;

/// What the checkout calls itself (its descriptor's key, name and vendor);
/// a new app's files say its own instead.
#[derive(Debug)]
pub(crate) struct Names {
    key: String,
    name: String,
    vendor: String,
    /// What the app does, in the descriptor's words: the demo's, said again
    /// in the snapshots, so an app without the demo says its own.
    description: String,
}

impl Names {
    fn of(checkout: &Path) -> Result<Self> {
        let path = checkout.join("atlassian-connect.json");
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let d: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
        let field = |value: &serde_json::Value, what: &str| {
            value
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .with_context(|| format!("the descriptor has no {what}"))
        };
        Ok(Self {
            key: field(&d["key"], "key")?,
            name: field(&d["name"], "name")?,
            vendor: field(&d["vendor"]["name"], "vendor name")?,
            description: field(&d["description"], "description")?,
        })
    }
}
/// Where `server forge-manifest` says which product it targets by default.
const MANIFEST_DEFAULT: (&str, &str) = ("server/src/cli.rs", r#"#[arg(long, default_value = "jira")]"#);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Product {
    Jira,
    Confluence,
    Both,
}

impl Product {
    fn parse(text: &str) -> Result<Self> {
        match text {
            "jira" => Ok(Self::Jira),
            "confluence" => Ok(Self::Confluence),
            "both" => Ok(Self::Both),
            other => bail!("--product is jira, confluence or both, not {other:?}"),
        }
    }

    fn words(self) -> &'static str {
        match self {
            Self::Jira => "Jira",
            Self::Confluence => "Confluence",
            Self::Both => "Jira and Confluence",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Spec {
    pub key: String,
    pub name: String,
    pub vendor: String,
    pub product: Product,
    pub into: PathBuf,
    /// Whether the notes and activity demo comes along (not with `--no-demo`).
    pub demo: bool,
}

pub(crate) const USAGE: &str =
    "cargo xtask new-app --key KEY --name NAME --vendor VENDOR --product jira|confluence|both [--no-demo] --into DIR";

pub(crate) fn run(args: &[String]) -> Result<()> {
    let spec = parse(args)?;
    let written = create(Path::new("."), &spec)?;
    println!("xtask: {} ({}) written to {} ({written} files)", spec.name, spec.key, spec.into.display());
    println!("xtask: next: cd {} && cargo xtask serve (or cargo xtask test)", spec.into.display());
    Ok(())
}

/// What `cargo xtask test` proves of new-app. An app with the demo
/// compiles, its tests included. An app without it (`--no-demo`) compiles
/// too, for the browser as well, then starts and, inside the fake host,
/// shows its Hello page and its admin page and answers its server function:
/// its own `vendor_pages` and `admin_page` tests, on SQLite. The copies
/// build in a target folder of their own: cargo names a workspace crate's
/// artifacts by its path inside the workspace, so a copy's `app` built in
/// this checkout's folder would stand in for this checkout's own, fresh to
/// cargo's eye.
pub(crate) fn smoke() -> Result<()> {
    for old in ["target/new-app-smoke/app", "target/new-app-smoke/bare"].map(Path::new) {
        if old.exists() {
            std::fs::remove_dir_all(old).with_context(|| format!("cannot empty {}", old.display()))?;
        }
    }
    let check = ["check", "--workspace", "--all-targets", "--exclude", "frontend"];
    let with_demo = write_smoke("--product both --into target/new-app-smoke/app")?;
    cargo_in(&with_demo, &check)?;
    let bare = write_smoke("--product jira --no-demo --into target/new-app-smoke/bare")?;
    cargo_in(&bare, &check)?;
    cargo_in(&bare, &["check", "-p", "frontend", "--target", "wasm32-unknown-unknown"])?;
    cargo_in(&bare, &["test", "-p", "server", "--test", "it", "--", "vendor_pages", "admin_page"])
}

fn write_smoke(options: &str) -> Result<PathBuf> {
    let args = format!("--key smoke-test-app --name Smoke --vendor Smokers {options}");
    let spec = parse(&args.split(' ').map(str::to_string).collect::<Vec<_>>())?;
    let written = create(Path::new("."), &spec)?;
    println!("xtask: new-app {options}: {written} files");
    Ok(spec.into)
}

/// Where the smoke's copies build, one after the other (each is written
/// just before its build, so cargo sees its files as newer than the other's).
const SMOKE_TARGET: &str = "target/new-app-smoke/target";

/// Cargo on the app in `dir`, in [`SMOKE_TARGET`].
fn cargo_in(dir: &Path, args: &[&str]) -> Result<()> {
    let manifest = dir.join("Cargo.toml");
    let manifest = manifest.to_str().context("the smoke app's path is not UTF-8")?;
    let target = std::env::current_dir()?.join(SMOKE_TARGET);
    let target = target.to_str().context("the target folder's path is not UTF-8")?;
    let (command, rest) = args.split_first().context("cargo_in needs a command")?;
    let mut all = vec![*command, "--manifest-path", manifest];
    all.extend(rest);
    crate::cmd::cargo_env(&all, &[("CARGO_TARGET_DIR", target)])
}

/// The options, each checked; a wrong or missing one says which and why.
pub(crate) fn parse(args: &[String]) -> Result<Spec> {
    let mut values = std::collections::BTreeMap::new();
    let mut demo = true;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let name = match flag.as_str() {
            "--no-demo" => {
                demo = false;
                continue;
            }
            "--key" | "--name" | "--vendor" | "--product" | "--into" => flag.as_str(),
            other => bail!("unknown option {other:?}; usage: {USAGE}"),
        };
        let value = rest.next().with_context(|| format!("{name} needs a value; usage: {USAGE}"))?;
        values.insert(name, value.clone());
    }
    let mut take = |flag: &str| values.remove(flag).with_context(|| format!("{flag} is missing; usage: {USAGE}"));
    let spec = Spec {
        key: take("--key")?,
        name: take("--name")?,
        vendor: take("--vendor")?,
        product: Product::parse(&take("--product")?)?,
        into: PathBuf::from(take("--into")?),
        demo,
    };
    check_key(&spec.key)?;
    check_words("--name", &spec.name)?;
    check_words("--vendor", &spec.vendor)?;
    Ok(spec)
}

/// Connect's key rule (letters, digits, `-`, `.`, `_`, at most 64), in the
/// lower case Forge and the Marketplace expect, starting with a letter or digit.
fn check_key(key: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._".contains(c);
    let starts_well = key.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !(1..=64).contains(&key.len()) || !key.chars().all(allowed) || !starts_well {
        bail!("--key {key:?}: 1 to 64 of a-z, 0-9, '-', '.', '_', starting with a letter or digit");
    }
    Ok(())
}

fn check_words(flag: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() || value.chars().count() > 80 || value.chars().any(char::is_control) {
        bail!("{flag} {value:?}: 1 to 80 printable characters");
    }
    if value.contains(['"', '\\', '<', '>']) {
        bail!("{flag} {value:?}: no quotes, backslashes or angle brackets (it goes into JSON, Rust and HTML)");
    }
    Ok(())
}

/// Writes the new app from the checkout at `from`; returns how many files.
pub(crate) fn create(from: &Path, spec: &Spec) -> Result<usize> {
    let into = &spec.into;
    if into.exists() && std::fs::read_dir(into).map(|mut d| d.next().is_some()).unwrap_or(true) {
        bail!("{} exists and is not empty: new-app writes only into a new or empty folder", into.display());
    }
    let names = Names::of(from)?;
    if spec.key == names.key {
        bail!("--key {:?} is this checkout's own; give your app a key of its own", spec.key);
    }
    let files: Vec<PathBuf> =
        tracked_files(from)?.into_iter().filter(|f| spec.demo || !demo::is_demo_file(f)).collect();
    let mut leftovers = Vec::new();
    for file in &files {
        let target = into.join(file);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let bytes = std::fs::read(from.join(file)).with_context(|| format!("cannot read {}", file.display()))?;
        let bytes = match String::from_utf8(bytes) {
            Ok(text) => {
                let text = rewrite(&text, file, &names, spec)?;
                if !spec.demo && speaks_code(file) {
                    leftovers.extend(demo::leftovers(file, &text));
                }
                text.into_bytes()
            }
            Err(binary) => binary.into_bytes(),
        };
        std::fs::write(&target, bytes).with_context(|| format!("cannot write {}", target.display()))?;
        copy_mode(&from.join(file), &target)?;
    }
    if !spec.demo {
        say_lost_proofs(into)?;
        // What the marks leave (blank lines, a shorter list) in the house's layout again.
        let manifest = into.join("Cargo.toml");
        let manifest = manifest.to_str().context("the new app's path is not UTF-8")?;
        crate::cmd::cargo(&["fmt", "--manifest-path", manifest, "--all"])?;
    }
    if !leftovers.is_empty() {
        bail!(
            "--no-demo: {} line(s) use the demo without a mark (docs/vendor.md, \"Without the demo\"):\n{}",
            leftovers.len(),
            leftovers.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
        );
    }
    Ok(files.len())
}

/// The copy's threat model names, for each test that went with the demo,
/// that its threat has no proof here (`proof_refs::without_missing`).
fn say_lost_proofs(into: &Path) -> Result<()> {
    let path = into.join("docs/threat-model.md");
    let Ok(doc) = std::fs::read_to_string(&path) else { return Ok(()) };
    let exists = |file: &str, name: &str| {
        std::fs::read_to_string(into.join(file)).is_ok_and(|text| crate::proof_refs::defines(&text, name))
    };
    let doc = crate::proof_refs::without_missing(&doc, exists);
    std::fs::write(&path, doc).with_context(|| format!("cannot write {}", path.display()))
}

/// A file whose words run: code, migrations, manifests. Not the docs, not
/// new-app's own list of the demo's words, and not the reader of the peer
/// script's output, which names the demo's route whatever the app.
fn speaks_code(file: &Path) -> bool {
    let code =
        file.extension().is_some_and(|e| ["rs", "sql", "json", "toml", "js", "ts", "yml"].iter().any(|x| e == *x));
    code && !file.starts_with("xtask/src/new_app") && file != Path::new("xtask/src/side_by_side.rs")
}

/// The files git tracks in the checkout (its index: committed or added).
fn tracked_files(from: &Path) -> Result<Vec<PathBuf>> {
    let out = std::process::Command::new("git")
        .args(["ls-files", "-z", "--cached"])
        .current_dir(from)
        .output()
        .context("new-app copies the files git tracks, and git cannot run")?;
    if !out.status.success() {
        bail!("new-app copies the files git tracks: run it from a git checkout of the project");
    }
    let listed = String::from_utf8(out.stdout).context("git listed a file name that is not UTF-8")?;
    // A file deleted but not yet committed is listed and absent: it is not copied.
    Ok(listed.split('\0').filter(|f| !f.is_empty()).map(PathBuf::from).filter(|f| from.join(f).is_file()).collect())
}

/// One file's text as the new app has it.
pub(crate) fn rewrite(text: &str, file: &Path, names: &Names, spec: &Spec) -> Result<String> {
    // The description first: it may hold the name (a copy made with --no-demo says "{name}, an app for …").
    let mut text = match spec.demo {
        true => text.to_string(),
        false => text.replace(&names.description, &format!("{}, an app for {}.", spec.name, spec.product.words())),
    };
    text = text.replace(&names.key, &spec.key).replace(&names.name, &spec.name).replace(&names.vendor, &spec.vendor);
    // new-app's own files name the marks rather than carry them.
    if !spec.demo && !file.starts_with("xtask/src/new_app") {
        text = demo::strip(&text, file)?;
    }
    if file == Path::new("README.md") {
        text = with_intro(&text, spec);
    }
    if file == Path::new(MANIFEST_DEFAULT.0) && spec.product == Product::Confluence {
        text = text.replace(MANIFEST_DEFAULT.1, r#"#[arg(long, default_value = "confluence")]"#);
    }
    Ok(text)
}

/// The README's title, then who made the app and for which product.
fn with_intro(readme: &str, spec: &Spec) -> String {
    let (title, rest) = readme.split_once('\n').unwrap_or((readme, ""));
    format!(
        "{title}\n\n{name} by {vendor}, an app for {product}, made with `cargo xtask new-app` from this \
         foundation{without}. Your pages and server functions go in `app/src/vendor/` \
         ([docs/vendor.md](docs/vendor.md)); what follows is the foundation's own guide.\n{rest}",
        without = if spec.demo { "" } else { ", without its notes and activity demo (the guide still tells of it)" },
        name = spec.name,
        vendor = spec.vendor,
        product = spec.product.words()
    )
}

#[cfg(unix)]
fn copy_mode(from: &Path, to: &Path) -> Result<()> {
    let mode = std::fs::metadata(from).with_context(|| format!("cannot read {}", from.display()))?.permissions();
    std::fs::set_permissions(to, mode).with_context(|| format!("cannot set the mode of {}", to.display()))
}

#[cfg(not(unix))]
fn copy_mode(_from: &Path, _to: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split(' ').map(str::to_string).collect()
    }

    fn spec() -> Spec {
        parse(&args("--key zz-tasks-test --name Tasks --vendor Acme --product confluence --into /tmp/x")).unwrap()
    }

    fn house() -> Names {
        Names::of(Path::new("..")).unwrap()
    }

    #[test]
    fn options_are_read_and_each_wrong_one_is_named() {
        let spec = spec();
        assert_eq!((spec.key.as_str(), spec.product), ("zz-tasks-test", Product::Confluence));
        let wrong = [
            ("--key Tasks --name T --vendor V --product jira --into d", "--key \"Tasks\""),
            ("--key t --name T --vendor V --product jira", "--into is missing"),
            ("--key t --name T --vendor V --product bitbucket --into d", "not \"bitbucket\""),
            ("--key t --name T\"x --vendor V --product jira --into d", "--name"),
            ("--key t --colour red", "unknown option \"--colour\""),
        ];
        for (line, said) in wrong {
            let error = parse(&args(line)).unwrap_err().to_string();
            assert!(error.contains(said), "{line}: {error}");
        }
    }

    #[test]
    fn the_house_names_become_the_new_apps_and_the_readme_says_who_made_it() {
        let (spec, house) = (spec(), house());
        let descriptor = format!(
            r#"{{"key": "{}", "name": "{}", "vendor": {{"name": "{}"}}}}"#,
            house.key, house.name, house.vendor
        );
        let rewritten = rewrite(&descriptor, Path::new("atlassian-connect.json"), &house, &spec).unwrap();
        assert_eq!(rewritten, r#"{"key": "zz-tasks-test", "name": "Tasks", "vendor": {"name": "Acme"}}"#);
        let readme = rewrite(&format!("# {}\n\nAn app.\n", house.name), Path::new("README.md"), &house, &spec).unwrap();
        assert!(readme.starts_with("# Tasks\n\nTasks by Acme, an app for Confluence, made with"), "{readme}");
        assert!(readme.ends_with("\n\nAn app.\n"), "{readme}");
        let cli = rewrite(MANIFEST_DEFAULT.1, Path::new(MANIFEST_DEFAULT.0), &house, &spec).unwrap();
        assert_eq!(cli, r#"#[arg(long, default_value = "confluence")]"#, "a Confluence app's manifest by default");
    }

    #[test]
    fn the_new_app_has_the_tracked_files_and_nothing_else_and_a_folder_in_use_is_refused() {
        let root = std::env::temp_dir().join(format!("new-app-test-{}", std::process::id()));
        let new_app = Spec { into: root.join("app"), ..spec() };
        let written = create(Path::new(".."), &new_app).unwrap();
        assert!(written > 100, "{written} files");
        let descriptor = std::fs::read_to_string(new_app.into.join("atlassian-connect.json")).unwrap();
        assert!(descriptor.contains(r#""key": "zz-tasks-test""#) && !descriptor.contains(&house().key), "{descriptor}");
        let same_key = Spec { key: house().key, into: root.join("same"), ..spec() };
        let refused = create(Path::new(".."), &same_key).unwrap_err().to_string();
        assert!(refused.contains("this checkout's own"), "{refused}");
        for never in ["target", "data", "tools/forge-manifest/node_modules"] {
            assert!(!new_app.into.join(never).exists(), "{never} is not copied");
        }
        let again = create(Path::new(".."), &new_app).unwrap_err().to_string();
        assert!(again.contains("exists and is not empty"), "{again}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn without_the_demo_its_files_marks_and_tables_are_left_out() {
        let root = std::env::temp_dir().join(format!("new-app-bare-{}", std::process::id()));
        let bare = Spec { into: root.join("app"), demo: false, ..spec() };
        create(Path::new(".."), &bare).unwrap();
        let read = |file: &str| std::fs::read_to_string(bare.into.join(file)).unwrap();
        assert!(
            !bare.into.join("app/src/api/notes.rs").exists()
                && !bare.into.join("migrations/sqlite/0002_notes.sql").exists()
        );
        let shell = read("app/src/pages/app_shell.rs");
        assert!(
            shell.contains("EitherOf4 as Tab") && !shell.contains("// demo") && !shell.contains("Notes"),
            "{shell}"
        );
        let migration = read("migrations/sqlite/0009_tenant_ids.sql");
        assert!(migration.contains("CREATE TABLE installations_v9") && !migration.contains("notes"), "{migration}");
        let descriptor = read("atlassian-connect.json");
        assert!(descriptor.contains(r#""description": "Tasks, an app for Confluence.""#), "{descriptor}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
