//! The differential net: every script in tests/diff and random command
//! sequences run against real redis-server and soquete-server; each reply must
//! match (see tests/diff/README.md). Knobs: SOQUETE_DIFF_FILTER,
//! SOQUETE_DIFF_KEEP_GOING, SOQUETE_DIFF_CASES, SOQUETE_DIFF_COMMANDS,
//! SOQUETE_DIFF_SEED; REDIS_SERVER overrides the reference binary.

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use soquete_testkit::diff::{FailureKind, Report, Runner};
use soquete_testkit::gen::{self, GenConfig};
use soquete_testkit::script::{scripts_in, Script};
use soquete_testkit::{ServerKind, ServerProcess};

/// Both servers allow DEBUG from loopback, as Redis's own test suite runs it.
const DEBUG: [&str; 2] = ["--enable-debug-command", "local"];

fn redis() -> ServerProcess {
    ServerProcess::builder(ServerKind::Redis)
        .args(DEBUG)
        .start()
}

fn soquete() -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(env!("CARGO_BIN_EXE_soquete-server"))
        .args(DEBUG)
        .start()
}

/// What a server said before dying: its panic messages if it panicked, else
/// the last lines of its output.
fn tail(server: &ServerProcess) -> String {
    let out = server.output();
    let lines: Vec<&str> = out.lines().collect();
    let panics: Vec<String> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("panicked at"))
        .map(|(i, l)| format!("{l}\n{}", lines.get(i + 1).unwrap_or(&"")))
        .collect();
    if panics.is_empty() {
        lines[lines.len().saturating_sub(20)..].join("\n")
    } else {
        panics.join("\n")
    }
}

#[test]
fn scripts_match_redis() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/diff");
    let filter = std::env::var("SOQUETE_DIFF_FILTER").ok();
    let redis = redis();
    let mut ours = soquete();
    let mut report = Report::default();
    let mut crashes = Vec::new();
    let start = Instant::now();
    for path in scripts_in(&dir).unwrap() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let mut script = Script::load(&path).unwrap_or_else(|e| panic!("{e}"));
        script.name = name.clone();
        report
            .scripts
            .push(Runner::between(&redis, &ours).run_script(&script));
        // A connection failure may mean a crashed or wedged server (a panicking
        // event loop leaves its connections hanging): report any panic, and give
        // the next script a fresh server so that one bug does not fail them all.
        let broken = report
            .scripts
            .last()
            .unwrap()
            .failures
            .iter()
            .any(|f| f.kind != FailureKind::Mismatch);
        if broken || !ours.is_running() {
            if ours.output().contains("panicked") {
                crashes.push(format!(
                    "soquete-server panicked during {name}; its last output:\n{}",
                    tail(&ours)
                ));
            }
            ours = soquete();
        }
    }
    let elapsed = start.elapsed();
    assert!(
        report.is_ok() && crashes.is_empty(),
        "soquete differs from redis:\n{report}\n{}",
        crashes.join("\n\n")
    );
    // A skipped script (`@requires` a command one side lacks) tests nothing.
    let skipped: Vec<_> = report.skipped().collect();
    assert!(skipped.is_empty(), "scripts skipped: {skipped:?}");
    eprintln!("{report}");
    eprintln!(
        "{} scripts, {} commands in {elapsed:?}",
        report.scripts.len(),
        report.commands()
    );
}

/// Whether a server can take the next sequence: running, never panicked
/// (a panicking event loop may leave the process up but wedged), answering.
fn healthy(server: &mut ServerProcess) -> bool {
    server.is_running()
        && !server.output().contains("panicked")
        && server.ping(Duration::from_secs(2))
}

#[test]
fn random_sequences_match_redis() {
    random_sequences_of(gen::TEMPLATES);
}

/// Bitmap commands only (SETBIT, BITFIELD, BITCOUNT, BITPOS, BITOP... on
/// strings and other types), so that they meet one another more often
/// than among every template.
#[test]
fn random_bitmap_sequences_match_redis() {
    random_sequences_of(soquete_testkit::templates_bitmap::TEMPLATES);
}

fn random_sequences_of(templates: &'static [gen::Template]) {
    let redis = redis();
    let ours = RefCell::new(soquete());
    let crashes = Cell::new(0);
    let cfg = GenConfig::from_env();
    let start = Instant::now();
    let result = gen::run_random_with(templates, &cfg, || {
        let mut server = ours.borrow_mut();
        if !healthy(&mut server) {
            crashes.set(crashes.get() + 1);
            eprintln!(
                "soquete-server crashed; restarting it. Its last output:\n{}",
                tail(&server)
            );
            *server = soquete();
        }
        Runner::between(&redis, &server)
    });
    if let Err(e) = result {
        panic!(
            "{e}\n\nsoquete-server's last output:\n{}",
            tail(&ours.borrow())
        );
    }
    assert_eq!(
        crashes.get(),
        0,
        "soquete-server crashed during passing sequences"
    );
    eprintln!("{:?} in {:?}", result.unwrap(), start.elapsed());
}
