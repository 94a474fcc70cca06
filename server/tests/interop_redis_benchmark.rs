//! `redis-benchmark` against the `soquete-server` binary: a smoke test that
//! every test it runs completes without an error line and leaves the
//! keyspace as it should (a speed measurement it is not: that is the
//! benches' job).

use std::process::Command;

use soquete_testkit::render::show;
use soquete_testkit::tools::run_with_timeout;
use soquete_testkit::wait::DEADLINE;
use soquete_testkit::{ServerKind, ServerProcess};

/// The binary under test, built by cargo for this test run.
const BIN: &str = env!("CARGO_BIN_EXE_soquete-server");

/// The binary on `127.0.0.1:<ephemeral>` with `args`.
fn soquete(args: &[&str]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(BIN)
        .args(args)
        .start()
}

#[test]
fn redis_benchmark_runs_clean() {
    const N: usize = 20_000;
    let server = soquete(&["--threads", "2"]);
    let mut cmd = Command::new("redis-benchmark");
    cmd.args(["-h", "127.0.0.1", "-p"])
        .arg(server.port().to_string())
        .args([
            "-q",
            "-n",
            &N.to_string(),
            "-t",
            "ping,set,get,incr,mset",
            "-P",
            "16",
        ]);
    let out = run_with_timeout(cmd, b"", DEADLINE * 3);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}\n{stdout}\n{stderr}", out.status);
    // -q prints progress lines ending in \r, and one final line per test.
    let lines: Vec<&str> = stdout
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let bad: Vec<&&str> = lines
        .iter()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("err") || l.contains("unexpected") || l.contains("fail")
        })
        .collect();
    assert!(bad.is_empty(), "error lines: {bad:?}\n{stdout}\n{stderr}");
    assert!(stderr.trim().is_empty(), "stderr: {stderr}");
    for test in [
        "PING_INLINE",
        "PING_MBULK",
        "SET",
        "GET",
        "INCR",
        "MSET (10 keys)",
    ] {
        let prefix = format!("{test}: ");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&prefix) && l.contains("requests per second")),
            "no result line for {test}:\n{stdout}"
        );
    }
    // Without -r every INCR hits the same key, so its value counts them.
    let mut c = server.connect();
    c.send(b"GET counter:__rand_int__\r\nGET key:__rand_int__\r\n");
    assert_eq!(
        c.read_raw_reply(),
        format!("${}\r\n{N}\r\n", N.to_string().len()).into_bytes(),
        "every INCR was counted"
    );
    let value = c.read_raw_reply();
    assert!(
        value.len() == 9 && value.starts_with(b"$3\r\n"),
        "SET/MSET stored the 3-byte default payload: {}",
        show(&value)
    );
}
