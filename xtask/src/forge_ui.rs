//! The Custom UI resource (`target/forge/ui`, the manifest's `resources`
//! path): the same wasm bundle and CSS the Connect pages load, the boot
//! script with the real `@forge/bridge` bundled by esbuild
//! (`tools/forge-ui`, pinned by its lock file), and a static `index.html`,
//! every asset under a content-hashed name. Forge serves it from its CDN;
//! there is no server-side rendering there.

use std::path::Path;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::cmd;

const SITE_PKG: &str = "target/site/pkg";
const OUT: &str = "target/forge/ui";
const TOOLS: &str = "tools/forge-ui";
/// What a first visit may download (wasm and JS, brotli): issue 20's budget.
pub const BUDGET_BYTES: u64 = 220 * 1024;

/// Builds the resource from the site bundle (`cargo xtask site` first).
pub fn build() -> Result<()> {
    tools()?;
    let bundle = std::fs::read_to_string(Path::new(SITE_PKG).join("bundle.txt")).context("build the site first")?;
    let bundle = bundle.trim();
    let out = Path::new(OUT);
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    std::fs::create_dir_all(out)?;
    for file in [format!("{bundle}.js"), format!("{bundle}_bg.wasm")] {
        std::fs::copy(Path::new(SITE_PKG).join(&file), out.join(&file)).with_context(|| format!("copying {file}"))?;
    }
    let css = hashed_copy(&Path::new(SITE_PKG).join("frontend.css"), out, "style", "css")?;
    esbuild(out)?;
    let boot = find(out, "boot.")?;
    std::fs::write(out.join("index.html"), index_html(bundle, &css, &boot))?;
    let sent = brotli_size_of_scripts(out)?;
    eprintln!("xtask: Custom UI ready in {OUT} (wasm + JS {sent} bytes brotli, budget {BUDGET_BYTES})");
    if sent > BUDGET_BYTES {
        bail!("the Custom UI's wasm + JS is {sent} bytes brotli, over the budget of {BUDGET_BYTES}");
    }
    Ok(())
}

/// `tools/forge-ui/node_modules`, from npm once, as the lock file says.
fn tools() -> Result<()> {
    if Path::new(TOOLS).join("node_modules/esbuild/package.json").exists() {
        return Ok(());
    }
    crate::prereqs::node()?;
    eprintln!("xtask: installing @forge/bridge, @forge/csp and esbuild from npm (once)");
    cmd::status(std::process::Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(TOOLS))
}

/// The boot script and the bridge chunk it imports inside Forge only.
fn esbuild(out: &Path) -> Result<()> {
    let out = std::path::absolute(out)?;
    cmd::status(std::process::Command::new("node").arg("build.mjs").arg(out).current_dir(TOOLS))
}

fn hashed_copy(from: &Path, out: &Path, stem: &str, ext: &str) -> Result<String> {
    let bytes = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    let hash = hex::encode(&Sha256::digest(&bytes)[..8]);
    let name = format!("{stem}.{hash}.{ext}");
    std::fs::write(out.join(&name), bytes)?;
    Ok(name)
}

fn find(out: &Path, prefix: &str) -> Result<String> {
    for entry in std::fs::read_dir(out)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with(prefix) && name.ends_with(".js") {
            return Ok(name);
        }
    }
    bail!("esbuild wrote no {prefix}*.js into {}", out.display())
}

/// No inline script: Forge would hash it into the CSP, but a file keeps
/// the policy the same for every build.
fn index_html(bundle: &str, css: &str, boot: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Notes</title>
<meta name="app-bundle" content="{bundle}">
<link rel="stylesheet" href="./{css}">
<script type="module" src="./{boot}"></script>
</head>
<body></body>
</html>
"#
    )
}

/// Brotli (quality 11) bytes of every `.js` and `.wasm` in `out`.
pub fn brotli_size_of_scripts(out: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(out)? {
        let path = entry?.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
        if ext == "js" || ext == "wasm" {
            total += brotli_size(&std::fs::read(&path)?)?;
        }
    }
    Ok(total)
}

fn brotli_size(bytes: &[u8]) -> Result<u64> {
    let mut br = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut br, &params)?;
    Ok(br.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_its_hashed_files_and_has_no_inline_script() {
        let html = index_html("frontend.0011", "style.aa.css", "boot.BB.js");
        assert!(html.contains(r#"<meta name="app-bundle" content="frontend.0011">"#));
        assert!(html.contains(r#"href="./style.aa.css""#) && html.contains(r#"src="./boot.BB.js""#));
        assert_eq!(html.matches("<script").count(), html.matches("<script type=\"module\" src=").count());
    }

    /// The budget counts what a browser downloads: it grows with the files.
    #[test]
    fn the_budget_counts_every_script_and_wasm_file() {
        let dir = tempdir();
        // xorshift64: bytes that do not compress.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let noise: Vec<u8> = (0..40_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 32) as u8
            })
            .collect();
        std::fs::write(dir.join("a.js"), &noise).unwrap();
        let one = brotli_size_of_scripts(&dir).unwrap();
        std::fs::write(dir.join("b.wasm"), &noise[..20_000]).unwrap();
        std::fs::write(dir.join("index.html"), &noise).unwrap();
        let two = brotli_size_of_scripts(&dir).unwrap();
        assert!(one > 30_000, "random bytes barely compress: {one}");
        assert!(two > one + 15_000 && two < one + 25_000, "the wasm counts, the HTML does not: {one} → {two}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempdir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("forge-ui-budget-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
