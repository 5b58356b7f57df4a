//! Every threat id (`L-07`) and seed (`seed 000`) that a comment or test
//! cites must resolve in `docs/threat-model.md`, so a newcomer can look it
//! up: the catalogue and the seed texts live outside this repository.

use std::{collections::BTreeSet, fs, path::Path};

use anyhow::{Context, Result, bail};

use crate::sources::{CRATE_DIRS, rust_files};

const DOC: &str = "docs/threat-model.md";

pub fn check() -> Result<()> {
    let doc = fs::read_to_string(DOC).with_context(|| format!("cannot read {DOC}"))?;
    let mut cited = BTreeSet::new();
    for dir in CRATE_DIRS {
        for (_, text) in rust_files(Path::new(dir))? {
            cited.extend(citations(&text));
        }
    }
    let missing: Vec<String> = cited.into_iter().filter(|c| !documented(&doc, c)).collect();
    if !missing.is_empty() {
        bail!("cited but not explained in {DOC}: {}", missing.join(", "));
    }
    println!("xtask: every cited threat id and seed is in {DOC}");
    Ok(())
}

/// `L-07`- and `FT-01`-style ids and `seed 000`-style references in `text`.
fn citations(text: &str) -> BTreeSet<String> {
    let bytes = text.as_bytes();
    let alone = |at: Option<&u8>| at.is_none_or(|c| !c.is_ascii_alphanumeric());
    let mut found = BTreeSet::new();
    for i in 0..bytes.len() {
        if !alone(i.checked_sub(1).and_then(|p| bytes.get(p))) {
            continue;
        }
        let letters = bytes[i..].iter().take_while(|b| b.is_ascii_uppercase()).count();
        let id =
            bytes.get(i + letters..i + letters + 3).filter(|w| w[0] == b'-' && w[1..].iter().all(u8::is_ascii_digit));
        if (1..=2).contains(&letters) && id.is_some() && alone(bytes.get(i + letters + 3)) {
            found.insert(text[i..i + letters + 3].to_string());
        }
        let seed = bytes.get(i..i + 8).filter(|w| w.starts_with(b"seed ") && w[5..].iter().all(u8::is_ascii_digit));
        if seed.is_some() && alone(bytes.get(i + 8)) {
            found.insert(text[i..i + 8].to_string());
        }
    }
    found
}

/// A row of its table (`| L-07 |`) or its seed entry (`Seed 000`).
fn documented(doc: &str, citation: &str) -> bool {
    match citation.strip_prefix("seed ") {
        Some(number) => doc.contains(&format!("Seed {number}")),
        None => doc.contains(&format!("| {citation} |")) || doc.contains(&format!("| {citation}* |")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_seeds_are_found_and_other_dashes_are_not() {
        let found = citations(
            "// threat L-07, (I-21), FT-05 and seed 000; AES-256, X-100, aL-07, ABC-01, seed 1234 and seed 12",
        );
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["FT-05", "I-21", "L-07", "seed 000"]);
    }

    #[test]
    fn a_citation_resolves_only_to_its_own_row() {
        let doc = "| L-07 | kids |\n| D-12* | secrets |\n- **Seed 000: imports.**";
        assert!(documented(doc, "L-07") && documented(doc, "D-12") && documented(doc, "seed 000"));
        assert!(!documented(doc, "L-08") && !documented(doc, "seed 001"));
    }
}
