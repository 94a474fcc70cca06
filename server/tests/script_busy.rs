//! Long scripts, against real Redis and soquete alike: past
//! `busy-reply-threshold` other clients get BUSY (new connections too, on
//! whichever event loop they land), SCRIPT KILL stops a script that has
//! not written, one that wrote is UNKILLABLE, and only SHUTDOWN NOSAVE
//! ends it.

use std::io::Read;
use std::time::Duration;

use soquete_resp::Frame;
use soquete_testkit::wait::eventually;
use soquete_testkit::{Conn, ServerKind, ServerProcess};

const WAIT: Duration = Duration::from_secs(20);

fn start(kind: ServerKind) -> ServerProcess {
    ServerProcess::builder(kind)
        .args(["--save", "", "--busy-reply-threshold", "100"])
        .start()
}

fn conn(server: &ServerProcess) -> Conn {
    let mut c = server.connect();
    c.set_timeout(WAIT).expect("a read timeout");
    c
}

fn error_text(f: &Frame) -> String {
    match f {
        Frame::Error(e) => String::from_utf8_lossy(e).into_owned(),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// Sends a script that loops forever and waits until other clients are
/// refused with BUSY.
fn start_busy(server: &ServerProcess, script: &str) -> Conn {
    let mut runner = conn(server);
    runner.send_cmd(&["EVAL", script, "0"]);
    eventually("the script to be busy", WAIT, || busy_now(server));
    runner
}

/// Whether a new connection's PING is refused with BUSY. A connection
/// that reached the script's own loop before the script became busy
/// waits for it (soquete answers it when the script ends): it is given up
/// after a short while, and asked again on a new connection.
fn busy_now(server: &ServerProcess) -> Option<()> {
    let mut c = server.connect();
    c.set_timeout(Duration::from_millis(500)).ok()?;
    match c.try_cmd(&["PING"]) {
        Ok(r) if r.is_error() => Some(()),
        _ => None,
    }
}

fn a_read_only_busy_script_is_refused_to_others_and_killed(kind: ServerKind) {
    let server = start(kind);
    let mut runner = start_busy(&server, "local i = 0 while true do i = i + 1 end");
    // Every new connection is answered, whichever loop it lands on.
    for _ in 0..6 {
        let mut c = conn(&server);
        assert_eq!(
            error_text(&c.cmd(&["GET", "k"])),
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
            "{kind:?}"
        );
    }
    let mut killer = conn(&server);
    assert_eq!(
        error_text(&killer.cmd(&["FUNCTION", "KILL"])),
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
        "{kind:?}"
    );
    assert_eq!(killer.cmd(&["SCRIPT", "KILL"]), Frame::Simple("OK".into()));
    let reply = error_text(&runner.read_frame());
    assert!(
        reply.starts_with("ERR Script killed by user with SCRIPT KILL... script: "),
        "{kind:?}: {reply}"
    );
    assert_eq!(killer.cmd(&["PING"]), Frame::Simple("PONG".into()));
    assert_eq!(
        error_text(&killer.cmd(&["SCRIPT", "KILL"])),
        "NOTBUSY No scripts in execution right now."
    );
}

#[test]
fn a_read_only_busy_script_is_refused_to_others_and_killed_in_redis() {
    a_read_only_busy_script_is_refused_to_others_and_killed(ServerKind::Redis);
}

#[test]
fn a_read_only_busy_script_is_refused_to_others_and_killed_in_soquete() {
    a_read_only_busy_script_is_refused_to_others_and_killed(ServerKind::Soquete);
}

fn a_script_that_wrote_is_unkillable_until_shutdown_nosave(kind: ServerKind) {
    let mut server = start(kind);
    let _runner = start_busy(
        &server,
        "redis.call('SET', 'x', 1) local i = 0 while true do i = i + 1 end",
    );
    let mut c = conn(&server);
    assert!(
        error_text(&c.cmd(&["SCRIPT", "KILL"]))
            .starts_with("UNKILLABLE Sorry the script already executed write commands"),
        "{kind:?}"
    );
    assert_eq!(
        error_text(&c.cmd(&["SHUTDOWN"])),
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
        "{kind:?}"
    );
    c.send_cmd(&["SHUTDOWN", "NOSAVE"]);
    // The server goes away: the connection ends without a reply.
    let mut buf = [0u8; 16];
    let n = c.stream().try_clone().unwrap().read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "{kind:?}: SHUTDOWN NOSAVE answered {:?}", &buf[..n]);
    server.wait_exit(WAIT);
}

#[test]
fn a_script_that_wrote_is_unkillable_until_shutdown_nosave_in_redis() {
    a_script_that_wrote_is_unkillable_until_shutdown_nosave(ServerKind::Redis);
}

#[test]
fn a_script_that_wrote_is_unkillable_until_shutdown_nosave_in_soquete() {
    a_script_that_wrote_is_unkillable_until_shutdown_nosave(ServerKind::Soquete);
}

fn a_busy_function_shows_in_function_stats_and_is_killed(kind: ServerKind) {
    let server = start(kind);
    let mut c = conn(&server);
    let lib = "#!lua name=slow\nredis.register_function('spin', function() local i = 0 while true do i = i + 1 end end)";
    assert_eq!(
        c.cmd(&["FUNCTION", "LOAD", lib]),
        Frame::Bulk("slow".into())
    );
    let mut runner = conn(&server);
    runner.send_cmd(&["FCALL", "spin", "0"]);
    eventually("the function to be busy", WAIT, || busy_now(&server));
    let mut c = conn(&server);
    assert_eq!(
        error_text(&c.cmd(&["GET", "k"])),
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
        "{kind:?}"
    );
    let stats = soquete_testkit::frames::items(c.cmd(&["FUNCTION", "STATS"]));
    assert_eq!(stats[0], Frame::Bulk("running_script".into()));
    let running = soquete_testkit::frames::items(stats[1].clone());
    assert_eq!(running[0], Frame::Bulk("name".into()));
    assert_eq!(running[1], Frame::Bulk("spin".into()));
    assert_eq!(running[2], Frame::Bulk("command".into()));
    assert_eq!(
        soquete_testkit::frames::items(running[3].clone()),
        vec![
            Frame::Bulk("FCALL".into()),
            Frame::Bulk("spin".into()),
            Frame::Bulk("0".into())
        ]
    );
    assert_eq!(running[4], Frame::Bulk("duration_ms".into()));
    assert!(
        matches!(running[5], Frame::Integer(ms) if ms >= 100),
        "{kind:?}"
    );
    assert_eq!(
        error_text(&c.cmd(&["SCRIPT", "KILL"])),
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
        "{kind:?}"
    );
    assert_eq!(c.cmd(&["FUNCTION", "KILL"]), Frame::Simple("OK".into()));
    assert_eq!(
        error_text(&runner.read_frame()),
        "ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.",
        "{kind:?}"
    );
}

#[test]
fn a_busy_function_shows_in_function_stats_and_is_killed_in_redis() {
    a_busy_function_shows_in_function_stats_and_is_killed(ServerKind::Redis);
}

#[test]
fn a_busy_function_shows_in_function_stats_and_is_killed_in_soquete() {
    a_busy_function_shows_in_function_stats_and_is_killed(ServerKind::Soquete);
}

/// SHUTDOWN NOSAVE during a script that wrote: what was acknowledged
/// before survives in the append-only file, and the unfinished script's
/// writes are not logged (Redis exits without finishing it).
fn shutdown_nosave_does_not_log_the_unfinished_script(kind: ServerKind) {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--save",
        "",
        "--busy-reply-threshold",
        "100",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--dir",
        dir.path().to_str().unwrap(),
    ];
    let mut server = ServerProcess::builder(kind).args(args).start();
    let mut c = conn(&server);
    eventually("the log to be ready", WAIT, || {
        (c.cmd(&["SET", "before", "1"]) == Frame::Simple("OK".into())).then_some(())
    });
    let _runner = start_busy(
        &server,
        "redis.call('SET', 'during', 1) local i = 0 while true do i = i + 1 end",
    );
    let mut c = conn(&server);
    c.send_cmd(&["SHUTDOWN", "NOSAVE"]);
    server.wait_exit(WAIT);
    let again = ServerProcess::builder(kind).args(args).start();
    let mut c = conn(&again);
    let get = |c: &mut Conn, k: &str| loop {
        match c.cmd(&["GET", k]) {
            Frame::Error(e) if e.starts_with(b"LOADING") => continue,
            other => return other,
        }
    };
    assert_eq!(get(&mut c, "before"), Frame::Bulk("1".into()), "{kind:?}");
    assert_eq!(get(&mut c, "during"), Frame::NullBulk, "{kind:?}");
}

#[test]
fn shutdown_nosave_does_not_log_the_unfinished_script_in_redis() {
    shutdown_nosave_does_not_log_the_unfinished_script(ServerKind::Redis);
}

#[test]
fn shutdown_nosave_does_not_log_the_unfinished_script_in_soquete() {
    shutdown_nosave_does_not_log_the_unfinished_script(ServerKind::Soquete);
}
