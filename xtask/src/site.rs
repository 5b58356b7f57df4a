//! The browser bundle: the `frontend` crate compiled to wasm, JS bindings
//! from wasm-bindgen (the library, pinned to Cargo.lock's version), the CSS,
//! and wasm-opt when a version known to produce a working bundle is at hand
//! (Debian's binaryen 108 silently breaks hydration): `WASM_OPT`, a new
//! enough `wasm-opt` on `PATH`, or binaryen from npm (`tools/bundle`, run on
//! node); terser from the same npm tools minifies the JS bindings. The JS and
//! wasm then get content-hashed names, written to `pkg/bundle.txt` for the
//! server, and brotli and gzip copies beside them.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::cmd;

const SITE_PKG: &str = "target/site/pkg";
/// Where the server reads the hashed bundle name (`frontend.<hash>`).
const BUNDLE_NAME_FILE: &str = "bundle.txt";
const NPM_TOOLS: &str = "tools/bundle";
/// binaryen releases older than this emit bundles that fail at run time.
const MIN_WASM_OPT: u32 = 116;

/// `WASM_PROFILE` picks the cargo profile (default: the small `wasm-release`).
pub fn profile() -> String {
    std::env::var("WASM_PROFILE").unwrap_or_else(|_| "wasm-release".into())
}

pub fn build(profile: String) -> Result<()> {
    cmd::cargo(&["build", "-p", "frontend", "--lib", "--target", "wasm32-unknown-unknown", "--profile", &profile])?;
    let profile_dir = if profile == "dev" { "debug" } else { profile.as_str() };
    // An app made by new-app may build beside the foundation's artifacts.
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let input = format!("{target}/wasm32-unknown-unknown/{profile_dir}/frontend.wasm");
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .web(true)?
        .out_name("frontend")
        .typescript(false)
        .generate(SITE_PKG)
        .with_context(|| format!("wasm-bindgen on {input}"))?;
    let pkg = Path::new(SITE_PKG);
    optimise(&pkg.join("frontend_bg.wasm"))?;
    minify(&pkg.join("frontend.js"))?;
    std::fs::copy("style/main.css", pkg.join("frontend.css")).context("copying style/main.css")?;
    let name = hash_names(pkg)?;
    for file in [format!("{name}.js"), format!("{name}_bg.wasm"), "frontend.css".to_string()] {
        precompress(&pkg.join(file))?;
    }
    let size = std::fs::metadata(pkg.join(format!("{name}_bg.wasm")))?.len();
    let brotli = std::fs::metadata(pkg.join(format!("{name}_bg.wasm.br")))?.len();
    eprintln!("xtask: site ready in {SITE_PKG} ({name}_bg.wasm {size} bytes, {brotli} brotli)");
    Ok(())
}

/// Renames the JS and wasm to `frontend.<hash>` (of both), drops older
/// hashed copies, and records the name. Returns it.
fn hash_names(pkg: &Path) -> Result<String> {
    let (js, wasm) = (std::fs::read(pkg.join("frontend.js"))?, std::fs::read(pkg.join("frontend_bg.wasm"))?);
    let digest = Sha256::new().chain_update(&js).chain_update(&wasm).finalize();
    let hash = hex::encode(&digest[..8]);
    let name = format!("frontend.{hash}");
    for entry in std::fs::read_dir(pkg)? {
        let path = entry?.path();
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or_default().to_string();
        if file.starts_with("frontend.") && (file.contains(".js") || file.contains(".wasm")) {
            std::fs::remove_file(&path)?;
        }
    }
    std::fs::write(pkg.join(format!("{name}.js")), js)?;
    std::fs::write(pkg.join(format!("{name}_bg.wasm")), wasm)?;
    std::fs::remove_file(pkg.join("frontend_bg.wasm"))?;
    std::fs::write(pkg.join(BUNDLE_NAME_FILE), &name)?;
    Ok(name)
}

/// `file.br` (quality 11) and `file.gz` (level 9), for the server to send
/// to browsers that accept them.
fn precompress(file: &Path) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let with = |ext: &str| PathBuf::from(format!("{}.{ext}", file.display()));
    let mut br = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut bytes.as_slice(), &mut br, &params)?;
    std::fs::write(with("br"), br)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bytes)?;
    std::fs::write(with("gz"), gz.finish()?)?;
    Ok(())
}

fn optimise(wasm: &Path) -> Result<()> {
    if std::env::var_os("NO_WASM_OPT").is_some() {
        return Ok(());
    }
    let Some(program) = wasm_opt() else {
        eprintln!("xtask: no wasm-opt {MIN_WASM_OPT}+ and no node/npm for binaryen: the bundle stays unoptimised");
        return Ok(());
    };
    cmd::status(
        Command::new(program)
            .args(["-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "-o"])
            .arg(wasm)
            .arg(wasm),
    )
}

/// The JS bindings, minified in place (an ES module: its exports keep their names).
fn minify(js: &Path) -> Result<()> {
    if std::env::var_os("NO_WASM_OPT").is_some() {
        return Ok(());
    }
    let terser = format!("{NPM_TOOLS}/node_modules/.bin/terser");
    if !npm_tools_installed() || !Path::new(&terser).exists() {
        eprintln!("xtask: no node/npm for terser: the JS bindings stay as wasm-bindgen wrote them");
        return Ok(());
    }
    cmd::status(Command::new(terser).arg(js).args(["--module", "--compress", "--mangle", "-o"]).arg(js))
}

/// `tools/bundle/node_modules`, installed from its lock file the first time.
fn npm_tools_installed() -> bool {
    if Path::new(NPM_TOOLS).join("node_modules").exists() {
        return true;
    }
    if cmd::output("npm", &["--version"]).is_none() {
        return false;
    }
    eprintln!("xtask: installing the bundle tools (binaryen's wasm-opt, terser) from npm (once)");
    let installed = Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(NPM_TOOLS).status();
    installed.is_ok_and(|s| s.success())
}

/// The first usable wasm-opt: `WASM_OPT`, then `PATH`, then binaryen from npm
/// (`tools/bundle`).
fn wasm_opt() -> Option<String> {
    let usable = |program: &str| {
        let version = cmd::output(program, &["--version"]).and_then(|v| parse_version(&v));
        match version {
            Some(v) if v >= MIN_WASM_OPT => true,
            Some(v) => {
                eprintln!("xtask: skipping {program} {v} (needs {MIN_WASM_OPT}+; older ones break hydration)");
                false
            }
            None => false,
        }
    };
    let from_npm = format!("{NPM_TOOLS}/node_modules/.bin/wasm-opt");
    if let Ok(program) = std::env::var("WASM_OPT") {
        return usable(&program).then_some(program);
    }
    if usable("wasm-opt") {
        return Some("wasm-opt".into());
    }
    (npm_tools_installed() && usable(&from_npm)).then_some(from_npm)
}

/// "wasm-opt version 116 (version_116)" -> 116
fn parse_version(text: &str) -> Option<u32> {
    text.split_whitespace().find_map(|word| word.parse().ok())
}
