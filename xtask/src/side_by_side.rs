//! `cargo xtask bench`'s comparison with atlassian-connect-express: runs
//! `../shared/peers/side-by-side.sh` (the release server and a minimal ACE
//! app, each loaded by wrk in the same run) and prints its figures as one
//! table with the ratios, once per run: the machine is noisy, so one run
//! proves little.

use std::{path::Path, process::Command};

use anyhow::{Context, Result, bail};

const SCRIPT: &str = "../shared/peers/side-by-side.sh";

/// One wrk line of the script: requests/s and the two latencies it prints.
#[derive(Debug, Default, Clone, PartialEq)]
struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

pub fn run(runs: usize) -> Result<()> {
    if !Path::new(SCRIPT).exists() {
        bail!("{SCRIPT} is missing: the comparison needs the shared peers beside the checkout");
    }
    wrk()?;
    for run in 1..=runs {
        let out = Command::new("bash").args([SCRIPT, "10s", "64"]).output().context("running side-by-side.sh")?;
        let text = String::from_utf8_lossy(&out.stdout);
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        println!("\n== side by side with ACE 11.5.3, run {run} of {runs} (wrk -t2 -c64 -d10s, one machine) ==");
        print!("{text}");
        println!("{}", table(&text)?);
    }
    Ok(())
}

/// wrk comes from Debian.
fn wrk() -> Result<()> {
    if crate::cmd::output("wrk", &["--version"]).is_some() || Path::new("/usr/bin/wrk").exists() {
        return Ok(());
    }
    eprintln!("xtask: installing wrk (Debian) for the comparison");
    crate::cmd::status(crate::cmd::privileged("apt-get").args(["install", "-y", "-q", "wrk"]))
}

fn table(text: &str) -> Result<String> {
    let load = |label: &str| find_load(text, label).with_context(|| format!("no figures for {label:?}"));
    let rss = |label: &str| find_rss(text, label).with_context(|| format!("no RSS for {label:?}"));
    let (page, ace_page) = (load("project: verified page")?, load("ACE: verified page")?);
    let identity = load("project: POST /api/me/identity")?;
    let notes = load("project: POST /api/notes/list")?; // demo
    let ace_api = load("ACE: GET /api/whoami")?;
    let (our_rss, ace_rss) = (rss("project: RSS after load")?, rss("ACE: RSS after load")?);
    let mut out = String::from("| | project | ACE | throughput | p99 |\n|---|---|---|---|---|\n");
    for (name, ours, theirs) in [
        ("JWT-verified iframe page", &page, &ace_page),
        ("API call, session token (identity)", &identity, &ace_api),
        ("API call, session token (notes list)", &notes, &ace_api), // demo
    ] {
        let (rps, p99) = (ours.rps / theirs.rps, theirs.p99_ms / ours.p99_ms);
        out += &format!("| {name} | {} | {} | {rps:.1}x | 1/{p99:.1} |\n", cell(ours), cell(theirs));
    }
    let smaller = ace_rss as f64 / our_rss as f64;
    out += &format!("| RSS after the load | {our_rss} MB | {ace_rss} MB | 1/{smaller:.1} | |\n");
    Ok(out)
}

fn cell(load: &Load) -> String {
    format!("{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms", load.rps, load.p50_ms, load.p99_ms)
}

fn find_load(text: &str, label: &str) -> Option<Load> {
    let line = text.lines().find(|l| l.starts_with(label))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let after = |key: &str| words.iter().position(|w| *w == key).and_then(|i| words.get(i + 1)).copied();
    let rps = words.iter().position(|w| *w == "req/s").and_then(|i| words.get(i.checked_sub(1)?))?.parse().ok()?;
    Some(Load { rps, p50_ms: millis(after("p50")?)?, p99_ms: millis(after("p99")?)? })
}

fn find_rss(text: &str, label: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(label))?;
    line[label.len()..].split_whitespace().next()?.parse().ok()
}

/// wrk's latency: `850.00us`, `21.04ms` or `1.20s`, in milliseconds.
fn millis(value: &str) -> Option<f64> {
    let split = value.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    match unit {
        "us" => Some(number / 1000.0),
        "ms" => Some(number),
        "s" => Some(number * 1000.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "project: idle RSS 20 MB
project: verified page /app (SSR)               2811.92 req/s  p50 22.04ms  p99 31.64ms  non-2xx 0
project: POST /api/me/identity (session token)    9031.20 req/s  p50 6.94ms   p99 11.27ms  non-2xx 0
project: POST /api/notes/list (session token)    9602.41 req/s  p50 6.64ms   p99 850.00us   non-2xx 0
project: RSS after load 27 MB
ACE: idle RSS 77 MB
ACE: verified page /hello                       3190.48 req/s  p50 17.53ms  p99 1.20s non-2xx 0
ACE: GET /api/whoami (session token)            3710.68 req/s  p50 16.41ms  p99 381.92ms non-2xx 0
ACE: RSS after load 127 MB
";

    #[test]
    fn reads_the_scripts_lines_in_every_latency_unit() {
        assert_eq!(
            find_load(SAMPLE, "project: verified page"),
            Some(Load { rps: 2811.92, p50_ms: 22.04, p99_ms: 31.64 })
        );
        assert_eq!(find_load(SAMPLE, "project: POST /api/notes/list").map(|l| l.p99_ms), Some(0.85));
        assert_eq!(find_load(SAMPLE, "ACE: verified page").map(|l| l.p99_ms), Some(1200.0));
        assert_eq!(find_rss(SAMPLE, "ACE: RSS after load"), Some(127));
    }

    #[test]
    fn the_table_gives_the_ratios() {
        let table = table(SAMPLE).unwrap();
        assert!(
            table.contains("| JWT-verified iframe page | 2812 req/s, p50 22.04 ms, p99 31.64 ms | 3190 req/s"),
            "{table}"
        );
        assert!(table.contains("| 0.9x | 1/37.9 |"), "{table}");
        assert!(table.contains("| RSS after the load | 27 MB | 127 MB | 1/4.7 |"), "{table}");
    }

    #[test]
    fn missing_figures_are_an_error_not_a_zero() {
        assert!(table("project: verified page /app (SSR) failed").is_err());
    }
}
