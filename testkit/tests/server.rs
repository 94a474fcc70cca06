//! ServerProcess against real redis-server: start, readiness, accounting, stop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use soquete_resp::Frame;
use soquete_testkit::server::free_port;
use soquete_testkit::wait::DEADLINE;
use soquete_testkit::{Conn, ServerKind, ServerProcess, Signal, StartError};

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true)
}

fn ping(server: &ServerProcess) -> Vec<u8> {
    let mut s = TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn redis_starts_answers_and_is_stopped_on_drop() {
    let server = ServerProcess::redis();
    assert_eq!(server.kind(), ServerKind::Redis);
    assert_eq!(server.addr().ip().to_string(), "127.0.0.1");
    assert_ne!(server.port(), 0);
    assert_eq!(ping(&server), b"+PONG\r\n");
    let usage = server.usage().unwrap();
    assert!(usage.rss_bytes > 1024 * 1024, "{usage:?}");
    assert!(server.dir().is_dir());
    let (pid, dir) = (server.pid(), server.dir().to_owned());
    assert!(alive(pid));
    drop(server);
    assert!(!alive(pid), "redis-server {pid} still running after drop");
    assert!(!dir.exists(), "temp dir {} left behind", dir.display());
}

#[test]
fn redis_runs_with_persistence_off_and_extra_args() {
    let server = ServerProcess::builder(ServerKind::Redis)
        .args(["--databases", "3"])
        .start();
    let out = std::process::Command::new("redis-cli")
        .args(["-p", &server.port().to_string(), "CONFIG", "GET", "*"])
        .output()
        .expect("redis-cli (apt-get install redis-tools)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    let get = |k: &str| lines.iter().position(|l| *l == k).map(|i| lines[i + 1]);
    assert_eq!(get("save"), Some(""));
    assert_eq!(get("appendonly"), Some("no"));
    assert_eq!(get("databases"), Some("3"));
    assert_eq!(get("bind"), Some("127.0.0.1"));
}

#[test]
fn stop_reports_a_clean_exit() {
    let server = ServerProcess::redis();
    let pid = server.pid();
    let status = server.stop().unwrap();
    assert!(status.success(), "{status}");
    assert!(!alive(pid));
}

#[test]
fn early_exit_reports_the_server_output() {
    let err = ServerProcess::builder(ServerKind::Redis)
        .arg("--no-such-option")
        .arg("1")
        .try_start()
        .unwrap_err();
    match &err {
        StartError::Exited { output, .. } => {
            assert!(output.contains("no-such-option"), "{output}");
        }
        other => panic!("expected Exited, got {other}"),
    }
}

#[test]
fn a_missing_binary_is_a_spawn_error() {
    let err = ServerProcess::builder(ServerKind::Redis)
        .binary("/nonexistent/redis-server")
        .try_start()
        .unwrap_err();
    assert!(matches!(err, StartError::Spawn { .. }), "{err}");
}

#[test]
fn many_servers_start_side_by_side() {
    let servers: Vec<ServerProcess> = (0..4).map(|_| ServerProcess::redis()).collect();
    let mut ports: Vec<u16> = servers.iter().map(|s| s.port()).collect();
    ports.sort();
    ports.dedup();
    assert_eq!(ports.len(), 4);
    for s in &servers {
        assert_eq!(ping(s), b"+PONG\r\n");
    }
}

#[test]
fn exact_args_are_all_the_server_gets() {
    let port = free_port().unwrap();
    let server = ServerProcess::builder(ServerKind::Redis)
        .exact_args()
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--databases", "5"])
        .start();
    assert!(
        server.stdout().contains("Ready to accept connections"),
        "{}",
        server.output()
    );
    let addr = std::panic::catch_unwind(|| server.addr());
    assert!(addr.is_err(), "the builder does not know the address");
    let mut c = Conn::connect(([127, 0, 0, 1], port).into()).unwrap();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "port"]),
        Frame::Array(vec![
            Frame::Bulk("port".into()),
            Frame::Bulk(port.to_string().into())
        ])
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "databases"]),
        Frame::Array(vec![
            Frame::Bulk("databases".into()),
            Frame::Bulk("5".into())
        ])
    );
}

#[test]
fn a_signalled_server_exits_and_its_log_says_so() {
    for signal in [Signal::Term, Signal::Int] {
        let mut server = ServerProcess::redis();
        server.wait_for_log("Ready to accept connections", DEADLINE);
        server.signal(signal);
        let status = server.wait_exit(DEADLINE);
        assert!(
            status.success(),
            "{signal:?}: {status}\n{}",
            server.output()
        );
        assert!(!server.is_running());
        assert!(server.stdout().contains("bye bye"), "{}", server.output());
    }
}

#[test]
fn settled_rss_is_a_real_reading() {
    let server = ServerProcess::redis();
    let settled = server.settled_rss_bytes().unwrap();
    assert!(settled > 1024 * 1024, "{settled}");
    assert!(settled <= server.peak_rss_bytes().unwrap());
}
