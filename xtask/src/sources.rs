//! The Rust files under a folder, read for the static checks of the gate
//! (import cycles, line widths, cited threat ids).

use std::{
    fs,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};

/// The folders of the workspace's crates.
pub const CRATE_DIRS: [&str; 6] = ["ids", "server", "app", "hostkit", "frontend", "xtask"];

/// Every `.rs` file under `dir`, with its text.
pub fn rust_files(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
                files.push((path, text));
            }
        }
    }
    Ok(files)
}
