//! The last step of `cargo bench` (cargo runs bench targets by name, and
//! `summary` sorts after `client`, `codec` and `server`): one table of
//! ratios from what the other benches left behind.
//!
//! * soquete-server / Redis: `target/soquete-bench/server.json` (the `server` bench).
//! * soquete-client / redis-rs and soquete-resp / redis-protocol: criterion's
//!   JSON under `target/criterion` (the `client` and `codec` benches).
//!
//! Prints the table and writes `target/soquete-bench/summary.md` (table plus
//! details), `throughput.svg` (32-byte values, 50 connections) and
//! `throughput-all.svg` (every cell). Runs in a blink, so it also runs
//! alone: `cargo bench -p soquete-benches --bench summary`. Outside `cargo
//! bench` it does nothing.

use soquete_benches::criterion;
use soquete_benches::report::summarize;
use soquete_benches::results::{criterion_dir, output_dir, ServerReport};

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("summary: runs only under `cargo bench`");
        return;
    }
    let out = output_dir();
    let server: Option<ServerReport> = std::fs::read_to_string(out.join("server.json"))
        .ok()
        .and_then(|s| match serde_json::from_str(&s) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("summary: ignoring unreadable server.json: {e}");
                None
            }
        });
    let crit_dir = criterion_dir();
    let crit = criterion::read_all(&crit_dir);
    let sum = summarize(server.as_ref(), &crit);
    std::fs::create_dir_all(&out).expect("create target/soquete-bench");
    std::fs::write(out.join("summary.md"), &sum.markdown).expect("write summary.md");
    let mut written = vec![out.join("summary.md")];
    for (name, svg) in [
        ("throughput.svg", &sum.chart),
        ("throughput-all.svg", &sum.chart_all),
    ] {
        if let Some(svg) = svg {
            std::fs::write(out.join(name), svg).expect("write chart");
            written.push(out.join(name));
        }
    }
    println!("\n== soquete benchmark summary: ratios soquete / reference, medians ==\n");
    if let Some(s) = &server {
        println!(
            "machine: {}; load average {} -> {}{}\n",
            s.machine.describe(),
            s.machine.load_before,
            s.machine.load_after,
            if s.quick {
                "  [QUICK MODE: smoke numbers]"
            } else {
                ""
            }
        );
    } else {
        println!("(no server results: run `cargo bench --bench server`)\n");
    }
    if crit.is_empty() {
        println!("(no criterion results under {})\n", crit_dir.display());
    }
    println!("{}", sum.table);
    for p in written {
        println!("wrote {}", p.display());
    }
}
