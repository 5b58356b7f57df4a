//! The browser bundle: the `frontend` crate compiled to wasm, JS bindings
//! from wasm-bindgen (the library, pinned to Cargo.lock's version), the CSS,
//! and wasm-opt only when a version known to produce a working bundle is
//! installed (Debian's binaryen 108 silently breaks hydration).

use std::{path::Path, process::Command};

use anyhow::{Context, Result};

use crate::cmd;

const SITE_PKG: &str = "target/site/pkg";
/// binaryen releases older than this emit bundles that fail at run time.
const MIN_WASM_OPT: u32 = 116;

/// `WASM_PROFILE` picks the cargo profile (default: the small `wasm-release`).
pub fn profile() -> String {
    std::env::var("WASM_PROFILE").unwrap_or_else(|_| "wasm-release".into())
}

pub fn build(profile: String) -> Result<()> {
    cmd::cargo(&["build", "-p", "frontend", "--lib", "--target", "wasm32-unknown-unknown", "--profile", &profile])?;
    let profile_dir = if profile == "dev" { "debug" } else { profile.as_str() };
    let input = format!("target/wasm32-unknown-unknown/{profile_dir}/frontend.wasm");
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .web(true)?
        .out_name("frontend")
        .typescript(false)
        .generate(SITE_PKG)
        .with_context(|| format!("wasm-bindgen on {input}"))?;
    optimise(&Path::new(SITE_PKG).join("frontend_bg.wasm"))?;
    std::fs::copy("style/main.css", Path::new(SITE_PKG).join("frontend.css")).context("copying style/main.css")?;
    let size = std::fs::metadata(Path::new(SITE_PKG).join("frontend_bg.wasm"))?.len();
    eprintln!("xtask: site ready in {SITE_PKG} (frontend_bg.wasm {size} bytes)");
    Ok(())
}

fn optimise(wasm: &Path) -> Result<()> {
    if std::env::var_os("NO_WASM_OPT").is_some() {
        return Ok(());
    }
    let program = std::env::var("WASM_OPT").unwrap_or_else(|_| "wasm-opt".into());
    let Some(version) = cmd::output(&program, &["--version"]).and_then(|v| parse_version(&v)) else {
        return Ok(());
    };
    if version < MIN_WASM_OPT {
        eprintln!("xtask: skipping wasm-opt {version} (needs {MIN_WASM_OPT}+; older ones break hydration)");
        return Ok(());
    }
    cmd::status(
        Command::new(program)
            .args(["-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "-o"])
            .arg(wasm)
            .arg(wasm),
    )
}

/// "wasm-opt version 116 (version_116)" -> 116
fn parse_version(text: &str) -> Option<u32> {
    text.split_whitespace().find_map(|word| word.parse().ok())
}
