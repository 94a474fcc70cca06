//! OBJECT IDLETIME after each command: which commands touch a key (reset
//! its idle time) and which leave it alone (Redis's `LOOKUP_NOTOUCH`: TTL,
//! TYPE, EXISTS, OBJECT...) must match real `redis-server`. The keys are
//! made, then left idle until OBJECT IDLETIME says 1 second (a readiness
//! check, not a sleep: the clock has one-second resolution), then each
//! gets one command and its idle time is read again.

use soquete_resp::Frame;
use soquete_testkit::wait::{eventually, DEADLINE};
use soquete_testkit::{Conn, ServerKind, ServerProcess};

/// A string key `s:N`, a list `l:N`; the command run on it ({} is the
/// key), the key read afterwards ({} again), and whether it is touched.
const CASES: &[(&str, &str, &str, bool)] = &[
    ("s", "GET {}", "{}", true),
    ("s", "STRLEN {}", "{}", true),
    ("s", "APPEND {} x", "{}", true),
    ("s", "SET {} new", "{}", true),
    ("s", "SET {} new XX", "{}", true),
    ("s", "SET {} new NX", "{}", true),
    ("s", "TOUCH {}", "{}", true),
    ("s", "EXPIRE {} 100", "{}", true),
    ("s", "PERSIST {}", "{}", true),
    ("s", "RENAME {} {}:renamed", "{}:renamed", true),
    ("s", "COPY {} {}:copy", "{}", true),
    ("s", "COPY {} {}:copy", "{}:copy", true),
    ("s", "GETRANGE {} 0 1", "{}", true),
    ("s", "MSET {} v2", "{}", true),
    ("s", "SETRANGE {} 0 x", "{}", true),
    ("s", "TTL {}", "{}", false),
    ("s", "PTTL {}", "{}", false),
    ("s", "EXPIRETIME {}", "{}", false),
    ("s", "TYPE {}", "{}", false),
    ("s", "EXISTS {}", "{}", false),
    ("s", "OBJECT ENCODING {}", "{}", false),
    ("s", "OBJECT REFCOUNT {}", "{}", false),
    ("s", "DEBUG OBJECT {}", "{}", false),
    ("s", "MEMORY USAGE {}", "{}", false),
    ("s", "SCAN 0 TYPE string COUNT 1000", "{}", false),
    ("s", "KEYS *", "{}", false),
    ("l", "LRANGE {} 0 -1", "{}", true),
    ("l", "LINDEX {} 0", "{}", true),
    ("l", "LLEN {}", "{}", true),
    ("l", "RPUSH {} x", "{}", true),
    ("l", "LSET {} 0 x", "{}", true),
    ("l", "TYPE {}", "{}", false),
];

fn split(s: &str, key: &str) -> Vec<String> {
    s.replace("{}", key).split(' ').map(str::to_owned).collect()
}

fn idle(c: &mut Conn, key: &str) -> i64 {
    match c.cmd(&["OBJECT", "IDLETIME", key]) {
        Frame::Integer(n) => n,
        other => panic!("OBJECT IDLETIME {key}: {other:?}"),
    }
}

/// Whether each case's key was touched (its idle time back to 0).
fn touched(server: &ServerProcess) -> Vec<bool> {
    let mut c = server.connect();
    let keys: Vec<String> = CASES
        .iter()
        .enumerate()
        .map(|(i, (kind, ..))| format!("{kind}:{i}"))
        .collect();
    for (key, (kind, ..)) in keys.iter().zip(CASES) {
        let create = if *kind == "s" {
            vec!["SET", key, "value"]
        } else {
            vec!["RPUSH", key, "a", "b"]
        };
        c.cmd(&create);
    }
    eventually("every key to be idle for a second", DEADLINE, || {
        keys.iter().all(|k| idle(&mut c, k) >= 1).then_some(())
    });
    for (key, (_, command, ..)) in keys.iter().zip(CASES) {
        let reply = c.cmd(&split(command, key));
        assert!(!reply_is_error(&reply), "{command} on {key}: {reply:?}");
    }
    keys.iter()
        .zip(CASES)
        .map(|(key, (_, _, read, _))| idle(&mut c, &read.replace("{}", key)) == 0)
        .collect()
}

fn reply_is_error(f: &Frame) -> bool {
    matches!(f, Frame::Error(_))
}

#[test]
fn commands_touch_keys_as_redis_does() {
    let redis = ServerProcess::builder(ServerKind::Redis)
        .args(["--enable-debug-command", "yes"])
        .start();
    let ours = ServerProcess::builder(ServerKind::Soquete)
        .binary(env!("CARGO_BIN_EXE_soquete-server"))
        .args(["--enable-debug-command", "yes"])
        .start();
    let (want, got) = std::thread::scope(|s| {
        let r = s.spawn(|| touched(&redis));
        (r.join().unwrap(), touched(&ours))
    });
    let mut wrong = Vec::new();
    for (i, (_, command, read, expected)) in CASES.iter().enumerate() {
        if want[i] != *expected {
            wrong.push(format!(
                "{command} (read {read}): redis touched={}, the table says {expected}",
                want[i]
            ));
        }
        if got[i] != want[i] {
            wrong.push(format!(
                "{command} (read {read}): redis touched={}, soquete {}",
                want[i], got[i]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
