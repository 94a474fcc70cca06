//! Proves the differential scripts and the harness: every script must pass
//! between two real redis-servers, and a real difference must be caught.

use std::path::PathBuf;
use std::time::Instant;

use soquete_testkit::diff::Runner;
use soquete_testkit::gen::{self, GenConfig};
use soquete_testkit::script::Script;
use soquete_testkit::{ServerKind, ServerProcess};

/// Redis as the differential tests run it: DEBUG allowed from loopback.
fn redis() -> ServerProcess {
    ServerProcess::builder(ServerKind::Redis)
        .args(["--enable-debug-command", "local"])
        .start()
}

fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../server/tests/diff")
}

#[test]
fn every_script_passes_redis_vs_redis() {
    let a = redis();
    let b = redis();
    let start = Instant::now();
    let report = Runner::between(&a, &b).run_dir(&scripts_dir(), None);
    assert!(
        report.is_ok(),
        "scripts disagree between two redis-servers:\n{report}"
    );
    eprintln!("{report}");
    eprintln!(
        "{} scripts, {} commands in {:?}",
        report.scripts.len(),
        report.commands(),
        start.elapsed()
    );
    let skipped: Vec<_> = report.skipped().collect();
    assert!(
        skipped.is_empty(),
        "redis itself lacks commands: {skipped:?}"
    );
    assert!(
        report.commands() > 500,
        "suspiciously few commands: {}",
        report.commands()
    );
}

#[test]
fn random_sequences_pass_redis_vs_redis() {
    let a = ServerProcess::redis();
    let b = ServerProcess::redis();
    let cfg = GenConfig::from_env();
    let start = Instant::now();
    let stats = gen::run_random(&Runner::between(&a, &b), gen::TEMPLATES, &cfg)
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{stats:?} in {:?}", start.elapsed());
    assert_eq!(stats.cases, cfg.cases);
    assert!(stats.commands >= cfg.cases as usize);
}

/// Two servers that really differ (16 vs 4 databases): the runner must report
/// the first differing line with both replies.
#[test]
fn a_real_difference_is_reported_with_its_line() {
    let a = ServerProcess::redis();
    let b = ServerProcess::builder(ServerKind::Redis)
        .args(["--databases", "4"])
        .start();
    let script = Script::parse(
        "differ.redis",
        "SET k v\nSELECT 2\nSELECT 3\n# comment\nSELECT 5        # only a has db 5\nGET k\n",
    )
    .unwrap();
    let report = Runner::between(&a, &b)
        .keep_going(false)
        .run_script(&script);
    assert_eq!(report.failures.len(), 1, "{report:?}");
    let f = &report.failures[0];
    assert_eq!(f.line, 5);
    assert_eq!(f.command, "SELECT 5");
    let text = f.to_string();
    assert!(text.starts_with("differ.redis:5: SELECT 5\n"), "{text}");
    assert!(text.contains("redis-a:"), "{text}");
    assert!(text.contains(r#"raw "+OK\r\n""#), "{text}");
    assert!(
        text.contains("(error) ERR DB index is out of range"),
        "{text}"
    );
    assert_eq!(report.commands, 4, "stops at the first mismatch");

    let all = Runner::between(&a, &b)
        .keep_going(true)
        .run_script(&Script::parse("t", "SELECT 5\nSELECT 6\nPING").unwrap());
    assert_eq!(all.failures.len(), 2);
    assert_eq!(all.commands, 3);
}

/// The random runner finds and shrinks a real difference.
#[test]
fn random_runner_reports_a_minimal_failing_sequence() {
    static DB_TEMPLATES: &[gen::Template] = &[gen::Template {
        args: &[gen::Arg::Lit("SELECT"), gen::Arg::OneOf(&["0", "1", "5"])],
        checks: "",
        weight: 1,
    }];
    let a = ServerProcess::redis();
    let b = ServerProcess::builder(ServerKind::Redis)
        .args(["--databases", "4"])
        .start();
    let cfg = GenConfig {
        cases: 32,
        commands: 10,
        seed: 7,
    };
    let err = gen::run_random(&Runner::between(&a, &b), DB_TEMPLATES, &cfg).unwrap_err();
    assert!(
        err.contains("\n\nSELECT 5\n\n"),
        "not shrunk to one command:\n{err}"
    );
    assert!(err.contains("random sequence:1: SELECT 5"), "{err}");
}

#[test]
fn requires_skips_when_a_command_is_missing() {
    let a = ServerProcess::redis();
    let b = ServerProcess::redis();
    let runner = Runner::between(&a, &b);
    let script = Script::parse("t", "PING\n@requires GET NOSUCHCOMMAND\nSELECT 99\n").unwrap();
    let report = runner.run_script(&script);
    assert!(report.failures.is_empty(), "{report:?}");
    assert_eq!(
        report.skipped.as_deref(),
        Some("redis-a lacks NOSUCHCOMMAND")
    );
    let ok =
        runner.run_script(&Script::parse("t", "@requires get SET\nSELECT 99 !error\n").unwrap());
    assert!(
        ok.skipped.is_none() && ok.failures.is_empty() && ok.commands == 1,
        "{ok:?}"
    );
}
