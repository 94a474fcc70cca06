//! The `soquete-server` binary as a process: command line, config file,
//! listeners (TCP, Unix socket), signals, SHUTDOWN, maxclients,
//! requirepass, idle timeout, and its log lines.

use std::io::{BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use soquete_testkit::conn::{bulk_bytes, command_bytes};
use soquete_testkit::frames::info_field;
use soquete_testkit::procfs::tcp_listen_ports;
use soquete_testkit::render::show;
use soquete_testkit::server::free_port;
use soquete_testkit::tools::run_with_timeout;
use soquete_testkit::wait::{eventually, DEADLINE};
use soquete_testkit::{Conn, ServerKind, ServerProcess, Signal};

/// The binary under test, built by cargo for this test run.
const BIN: &str = env!("CARGO_BIN_EXE_soquete-server");

/// The binary on `127.0.0.1:<ephemeral>` with `args` after `--port` and
/// `--bind`, once it answers `PING`.
fn soquete(args: &[&str]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(BIN)
        .args(args)
        .start()
}

/// The binary with exactly `args`, once it logs that it is ready.
fn soquete_exact<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(BIN)
        .exact_args()
        .args(args.iter().map(|a| a.as_ref().to_owned()))
        .start()
}

/// Runs the binary with `args` to completion (killed after [`DEADLINE`]).
fn run(args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    run_with_timeout(cmd, b"", DEADLINE)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("soquete-itest-")
        .tempdir()
        .expect("a temporary directory")
}

#[test]
fn help_and_version_exit_0() {
    for flag in ["--help", "-h"] {
        let out = run(&[flag]);
        assert!(out.status.success(), "{flag}: {:?}", out.status);
        let stdout = text(&out.stdout);
        assert!(
            stdout.starts_with("Usage: soquete-server"),
            "{flag}: {stdout}"
        );
    }
    for flag in ["--version", "-v"] {
        let out = run(&[flag]);
        assert!(out.status.success(), "{flag}: {:?}", out.status);
        let stdout = text(&out.stdout);
        assert!(
            stdout.starts_with("soquete-server v=") && stdout.contains("7.0.15"),
            "{flag}: {stdout}"
        );
    }
}

/// Runs the binary with `bad` appended to arguments that, were `bad`
/// silently ignored, would make it listen only on a Unix socket in a
/// temporary directory (never on a TCP port someone else owns).
fn run_bad(bad: &[&str]) -> (std::process::Output, tempfile::TempDir) {
    let dir = tempdir();
    let sock = dir.path().join("s.sock");
    let sock = sock.to_str().expect("utf-8 path");
    let mut args = vec!["--port", "0", "--unixsocket", sock];
    args.extend_from_slice(bad);
    (run(&args), dir)
}

#[test]
fn an_unknown_option_exits_1_naming_it() {
    let (out, _dir) = run_bad(&["--frobnicate", "yes"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("frobnicate"), "stderr: {stderr}");
    assert!(!text(&out.stdout).contains("Ready to accept"));
}

#[test]
fn a_bad_value_exits_1_naming_the_option_and_value() {
    for (bad, names) in [
        (&["--port", "abc"][..], &["port", "abc"][..]),
        (&["--maxclients", "lots"], &["maxclients", "lots"]),
        (&["--loglevel", "loud"], &["loglevel", "loud"]),
        (&["--appendonly", "maybe"], &["appendonly", "maybe"]),
    ] {
        let (out, _dir) = run_bad(bad);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{bad:?}: stderr: {stderr}");
        for n in names {
            assert!(
                stderr.contains(n),
                "{bad:?}: stderr does not name {n}: {stderr}"
            );
        }
    }
}

#[test]
fn a_bad_config_file_exits_1_naming_the_line() {
    let dir = tempdir();
    let conf = dir.path().join("bad.conf");
    std::fs::write(&conf, "port 0\n# fine so far\nmaxclients lots\n").expect("write config");
    let out = run(&[conf.to_str().expect("utf-8")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("line 3") && stderr.contains("maxclients lots"),
        "stderr: {stderr}"
    );
    let missing = dir.path().join("missing.conf");
    let out = run(&[missing.to_str().expect("utf-8")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("missing.conf"), "stderr: {stderr}");
}

#[test]
fn a_config_file_with_command_line_overrides() {
    let dir = tempdir();
    let port = free_port().expect("a free port");
    let conf = dir.path().join("soquete.conf");
    std::fs::write(
        &conf,
        format!(
            "# soquete test config\n\
             port {port}\n\
             bind 127.0.0.1\n\
             databases 4\n\
             maxclients 50\n\
             save \"\"\n\
             hash-max-listpack-entries 64\n\
             requirepass fromfile\n"
        ),
    )
    .expect("write config");
    let p = soquete_exact(&[
        conf.to_str().expect("utf-8"),
        "--maxclients",
        "77",
        "--requirepass",
        "two words",
    ]);
    let mut c = Conn::connect(([127, 0, 0, 1], port).into()).expect("connect");
    c.send(b"AUTH fromfile\r\n");
    assert!(
        c.read_raw_reply().starts_with(b"-WRONGPASS"),
        "the command line overrides the file's requirepass"
    );
    c.send(b"AUTH \"two words\"\r\n");
    assert_eq!(c.read_raw_reply(), b"+OK\r\n");
    for (name, value) in [
        ("port", port.to_string()),
        ("databases", "4".into()),
        ("maxclients", "77".into()),
        ("hash-max-listpack-entries", "64".into()),
        ("save", "".into()),
    ] {
        c.send_cmd(&["CONFIG", "GET", name]);
        let mut want = b"*2\r\n".to_vec();
        want.extend(bulk_bytes(name.as_bytes()));
        want.extend(bulk_bytes(value.as_bytes()));
        assert_eq!(show(&c.read_raw_reply()), show(&want), "CONFIG GET {name}");
    }
    c.send(b"SELECT 3\r\nSELECT 4\r\n");
    assert_eq!(c.read_raw_reply(), b"+OK\r\n");
    assert_eq!(
        show(&c.read_raw_reply()),
        show(b"-ERR DB index is out of range\r\n")
    );
    let log = p.stdout();
    assert!(log.contains("Ready to accept connections"), "{log}");
    assert!(log.contains(&format!("port {port}")), "{log}");
}

/// Sends `req` on a Unix socket connection and reads exactly `want.len()`
/// bytes.
fn unix_round_trip(s: &mut UnixStream, req: &[u8], want: &[u8]) {
    s.write_all(req).expect("write");
    let mut got = vec![0u8; want.len()];
    s.read_exact(&mut got).expect("read the reply");
    assert_eq!(show(&got), show(want), "reply to {}", show(req));
}

fn unix_connect(path: &Path) -> UnixStream {
    let s = UnixStream::connect(path).unwrap_or_else(|e| panic!("connect {}: {e}", path.display()));
    s.set_read_timeout(Some(DEADLINE)).expect("timeout");
    s
}

#[test]
fn port_0_with_a_unix_socket_serves_only_the_socket() {
    // The check below must be able to see a TCP listener when there is one.
    let tcp = soquete(&[]);
    assert_eq!(tcp_listen_ports(tcp.pid()), vec![tcp.port()]);
    drop(tcp);

    let dir = tempdir();
    let path = dir.path().join("soquete.sock");
    let mut p = soquete_exact(&[
        "--port",
        "0",
        "--unixsocket",
        path.to_str().expect("utf-8"),
        "--unixsocketperm",
        "700",
    ]);
    p.wait_for_log("Ready to accept connections unix", DEADLINE);
    assert!(!p.stdout().contains("Ready to accept connections tcp"));
    let mode = std::fs::metadata(&path)
        .expect("socket file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700, "unixsocketperm");
    let mut s = unix_connect(&path);
    unix_round_trip(&mut s, b"PING\r\n", b"+PONG\r\n");
    unix_round_trip(&mut s, &command_bytes(&["SET", "over", "unix"]), b"+OK\r\n");
    unix_round_trip(&mut s, b"GET over\r\n", b"$4\r\nunix\r\n");
    unix_round_trip(
        &mut s,
        b"CONFIG GET port\r\n",
        b"*2\r\n$4\r\nport\r\n$1\r\n0\r\n",
    );
    assert_eq!(
        tcp_listen_ports(p.pid()),
        Vec::<u16>::new(),
        "no TCP listener with --port 0"
    );
}

#[test]
fn sigterm_and_sigint_exit_0_and_remove_the_unix_socket() {
    for sig in [Signal::Term, Signal::Int] {
        let dir = tempdir();
        let path = dir.path().join("soquete.sock");
        let mut p = soquete(&["--unixsocket", path.to_str().expect("utf-8")]);
        p.wait_for_log("Ready to accept connections unix", DEADLINE);
        // Clients connected on both listeners do not hold the exit up.
        let mut tcp = p.connect();
        tcp.send(b"PING\r\n");
        assert_eq!(tcp.read_raw_reply(), b"+PONG\r\n");
        let mut unix = unix_connect(&path);
        unix_round_trip(&mut unix, b"PING\r\n", b"+PONG\r\n");
        p.signal(sig);
        let status = p.wait_exit(DEADLINE);
        assert!(status.success(), "{sig:?}: {status:?}\n{}", p.output());
        assert!(!path.exists(), "{sig:?}: the socket file is left behind");
        tcp.expect_closed().expect("the TCP client sees the close");
        let mut rest = Vec::new();
        let n = unix.read_to_end(&mut rest).unwrap_or(0);
        assert_eq!(n, 0, "the Unix client sees the close");
    }
}

#[test]
fn shutdown_writes_the_replies_other_clients_have_in_flight() {
    let mut p = soquete(&["--threads", "2"]);
    let addr = p.addr();
    let mut b = p.connect();
    let value: Vec<u8> = (0..64 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    b.send_cmd(&[b"SET".as_slice(), b"big", &value]);
    assert_eq!(b.read_raw_reply(), b"+OK\r\n");

    // A pipelines ~16 MiB of replies and reads none of them yet: far more
    // than the socket buffers hold, so most wait in the server at SHUTDOWN.
    const GETS: usize = 256;
    let mut batch = Vec::new();
    for _ in 0..GETS {
        batch.extend(command_bytes(&["GET", "big"]));
    }
    batch.extend(command_bytes(&["SET", "done", "1"]));
    let a = std::net::TcpStream::connect(addr).expect("connect A");
    a.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let mut writer = a.try_clone().expect("clone");
    let write = std::thread::spawn(move || writer.write_all(&batch));
    // The whole batch has run once A's last command is visible.
    eventually("A's batch to run", DEADLINE, || {
        b.send(b"GET done\r\n");
        (b.read_raw_reply() == b"$1\r\n1\r\n").then_some(())
    });
    write.join().expect("writer").expect("A's batch written");
    b.send(b"SHUTDOWN\r\n");
    // Now A reads everything it was owed.
    let mut reader = BufReader::with_capacity(1 << 20, &a);
    let one = bulk_bytes(&value);
    let mut got = vec![0u8; one.len()];
    for i in 0..GETS {
        reader
            .read_exact(&mut got)
            .unwrap_or_else(|e| panic!("reply {i} of {GETS} lost at shutdown: {e}"));
        assert!(got == one, "reply {i} differs: {}", show(&got[..64]));
    }
    let mut last = [0u8; 5];
    reader.read_exact(&mut last).expect("the SET reply");
    assert_eq!(&last, b"+OK\r\n");
    let mut rest = Vec::new();
    assert_eq!(reader.read_to_end(&mut rest).unwrap_or(0), 0, "then EOF");
    let status = p.wait_exit(DEADLINE);
    assert!(status.success(), "{status:?}\n{}", p.output());
    b.expect_closed().expect("B is closed too");
}

#[test]
fn maxclients_refuses_the_next_connection_and_frees_the_slot_on_close() {
    let p = soquete(&["--maxclients", "3"]);
    let addr = p.addr();
    let mut held: Vec<Conn> = (0..3)
        .map(|_| {
            let mut c = Conn::connect(addr).expect("connect");
            c.send(b"PING\r\n");
            assert_eq!(c.read_raw_reply(), b"+PONG\r\n");
            c
        })
        .collect();
    let mut extra = Conn::connect(addr).expect("connect");
    assert_eq!(
        show(&extra.read_raw_reply()),
        show(b"-ERR max number of clients reached\r\n")
    );
    extra.expect_closed().expect("closed after the error");
    // The others carry on; a closed one frees its slot.
    held[1].send(b"PING\r\n");
    assert_eq!(held[1].read_raw_reply(), b"+PONG\r\n");
    drop(held.remove(0));
    let mut fresh = eventually("the freed slot", DEADLINE, || {
        let mut c = Conn::connect(addr).expect("connect");
        c.send(b"PING\r\n");
        (c.read_raw_reply() == b"+PONG\r\n").then_some(c)
    });
    fresh.send(b"INFO clients\r\n");
    let info = fresh.read_reply();
    let n = info_field(info.frame.as_bytes().expect("bulk"), "connected_clients");
    assert_eq!(n.as_deref(), Some("3"));
}

const NOAUTH: &[u8] = b"-NOAUTH Authentication required.\r\n";
const WRONGPASS: &[u8] = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n";

/// What a client that has not authenticated gets, request by request.
const BEFORE_AUTH: &[(&[u8], &[u8])] = &[
    (b"PING\r\n", NOAUTH),
    (b"GET k\r\n", NOAUTH),
    (b"SET k v\r\n", NOAUTH),
    (b"DBSIZE\r\n", NOAUTH),
    (b"SELECT 1\r\n", NOAUTH),
    (b"CLIENT ID\r\n", NOAUTH),
    (b"INFO\r\n", NOAUTH),
    (b"CONFIG GET port\r\n", NOAUTH),
    (b"FLUSHALL\r\n", NOAUTH),
    (b"KEYS *\r\n", NOAUTH),
    (b"ECHO x\r\n", NOAUTH),
    (b"MULTI\r\n", NOAUTH),
    (b"SHUTDOWN\r\n", NOAUTH),
    (b"COMMAND COUNT\r\n", NOAUTH),
    (b"RESET\r\n", b"+RESET\r\n"),
    (
        b"FOO\r\n",
        b"-ERR unknown command 'FOO', with args beginning with: \r\n",
    ),
    (
        b"GET\r\n",
        b"-ERR wrong number of arguments for 'get' command\r\n",
    ),
    (
        b"AUTH\r\n",
        b"-ERR wrong number of arguments for 'auth' command\r\n",
    ),
    (b"AUTH x y z\r\n", b"-ERR syntax error\r\n"),
    (b"AUTH wrong\r\n", WRONGPASS),
    (b"AUTH default wrong\r\n", WRONGPASS),
    (b"HELLO 3 AUTH default wrong\r\n", WRONGPASS),
    (b"HELLO 4\r\n", b"-NOPROTO unsupported protocol version\r\n"),
    (
        b"HELLO 3 AUTH default\r\n",
        b"-ERR Syntax error in HELLO option 'AUTH'\r\n",
    ),
    (b"PING\r\n", NOAUTH),
    (b"AUTH s3cret\r\n", b"+OK\r\n"),
    (b"SET k v\r\n", b"+OK\r\n"),
    (b"GET k\r\n", b"$1\r\nv\r\n"),
    (b"AUTH default s3cret\r\n", b"+OK\r\n"),
    (b"AUTH wrong\r\n", WRONGPASS),
    (b"GET k\r\n", b"$1\r\nv\r\n"),
];

fn check_requirepass(server: &ServerProcess) {
    let kind = server.kind();
    let mut c = server.connect();
    for (req, want) in BEFORE_AUTH {
        c.send(req);
        assert_eq!(
            show(&c.read_raw_reply()),
            show(want),
            "{kind}: {}",
            show(req)
        );
    }
    // HELLO with AUTH authenticates and switches protocol at once.
    let mut c = server.connect();
    c.send(b"HELLO 3 AUTH default s3cret\r\n");
    let hello = c.read_raw_reply();
    assert!(
        hello.starts_with(b"%7\r\n$6\r\nserver\r\n"),
        "{kind}: {}",
        show(&hello)
    );
    c.send(b"GET nokey\r\n");
    assert_eq!(
        c.read_raw_reply(),
        b"_\r\n",
        "{kind}: RESP3 null after HELLO 3"
    );
    // QUIT works unauthenticated, and closes.
    let mut c = server.connect();
    c.send(b"QUIT\r\n");
    assert_eq!(c.read_raw_reply(), b"+OK\r\n", "{kind}");
    c.expect_closed().expect("closed after QUIT");
}

#[test]
fn requirepass_gates_every_command_but_auth_hello_quit() {
    check_requirepass(
        &ServerProcess::builder(ServerKind::Redis)
            .args(["--requirepass", "s3cret"])
            .start(),
    );
    check_requirepass(&soquete(&["--requirepass", "s3cret"]));
}

#[test]
fn timeout_closes_an_idle_client() {
    let p = soquete(&["--timeout", "1"]);
    let mut c = p.connect();
    c.send(b"PING\r\n");
    assert_eq!(c.read_raw_reply(), b"+PONG\r\n");
    let idle_since = Instant::now();
    c.expect_closed().expect("the idle client is closed");
    let idle = idle_since.elapsed();
    assert!(idle >= Duration::from_secs(1), "closed after only {idle:?}");
}

#[test]
fn logs_ready_and_exit_lines_on_stdout() {
    let mut p = soquete(&["--threads", "2"]);
    p.wait_for_log("Ready to accept connections tcp", DEADLINE);
    let log = p.stdout();
    for line in [
        "Ready to accept connections tcp",
        &format!("port {}", p.port()),
        "2 event loop thread(s)",
    ] {
        assert!(log.contains(line), "missing {line:?} in:\n{log}");
    }
    p.signal(Signal::Term);
    assert!(p.wait_exit(DEADLINE).success());
    let log = p.stdout();
    assert!(log.contains("bye bye"), "no exit line in:\n{log}");
}

/// CPU the server uses over the next `window` of wall time, as a fraction
/// of one core (to a clock tick, 10 ms: 0.05 of these windows).
/// The share of samples, taken every 2 ms over `window`, in which some
/// thread of the server is running or waiting for a core (state `R` in
/// `/proc/<pid>/task/*/stat`). A loop that spins is always runnable, however
/// busy the machine; one asleep in `epoll_wait` never is. (CPU time would
/// measure the machine's load as much as the server.)
fn runnable_share(server: &ServerProcess, window: Duration) -> f64 {
    let tasks = format!("/proc/{}/task", server.pid());
    let runnable = || {
        std::fs::read_dir(&tasks)
            .expect("the server's threads")
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("stat")).ok())
            .any(|stat| {
                // The state follows the command name, which is in parentheses.
                stat.rsplit_once(") ")
                    .is_some_and(|(_, rest)| rest.starts_with('R'))
            })
    };
    let (mut samples, mut hits) = (0u32, 0u32);
    let end = Instant::now() + window;
    while Instant::now() < end {
        samples += 1;
        hits += u32::from(runnable());
        std::thread::sleep(Duration::from_millis(2));
    }
    f64::from(hits) / f64::from(samples.max(1))
}

/// `busy-poll` (a soquete option) keeps the loop polling without sleeping
/// for that long after an event, and no longer: the loop that served a
/// command burns its core for the window, then goes back to sleep; with the
/// option off (the default) an idle server sleeps at once.
#[test]
fn busy_poll_spins_for_its_window_after_an_event_then_sleeps() {
    let server = soquete(&["--threads", "1"]);
    let mut c = server.connect();
    c.send(b"CONFIG GET busy-poll\r\n");
    assert_eq!(
        show(&c.read_raw_reply()),
        show(b"*2\r\n$9\r\nbusy-poll\r\n$1\r\n0\r\n")
    );
    let idle = runnable_share(&server, Duration::from_millis(200));
    assert!(
        idle < 0.2,
        "idle with busy-poll 0: runnable {idle:.2} of the time"
    );

    c.send(b"CONFIG SET busy-poll 1000001\r\n");
    assert_eq!(
        show(&c.read_raw_reply()),
        show(b"-ERR CONFIG SET failed (possibly related to argument 'busy-poll') - argument must be between 0 and 1000000 inclusive\r\n")
    );
    c.send(b"CONFIG SET busy-poll 400000\r\nGET k\r\n");
    assert_eq!(c.read_raw_reply(), b"+OK\r\n");
    assert_eq!(c.read_raw_reply(), b"$-1\r\n");
    let spinning = runnable_share(&server, Duration::from_millis(200));
    assert!(
        spinning > 0.8,
        "within busy-poll's window: runnable {spinning:.2} of the time"
    );
    std::thread::sleep(Duration::from_millis(300));
    let after = runnable_share(&server, Duration::from_millis(200));
    assert!(
        after < 0.2,
        "past busy-poll's window: runnable {after:.2} of the time"
    );
}
