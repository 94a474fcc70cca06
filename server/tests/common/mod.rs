//! Helpers shared by the integration and interop tests: servers to talk to
//! (the `soquete-server` binary, `redis-server`, an in-process server), a
//! child process with exactly the arguments a test gives, bounded polling,
//! external tools run with a deadline, and small `/proc` readers.
//!
//! Each test binary compiles this module on its own and uses part of it.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use soquete_server::{Config, Server, ServerHandle};
use soquete_testkit::{ServerKind, ServerProcess};

/// The binary under test, built by cargo for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_soquete-server");

/// How long anything in these tests may take before the test fails instead of
/// hanging.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Starts the `soquete-server` binary on `127.0.0.1:<ephemeral>` with `args`.
pub fn soquete(args: &[&str]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(BIN)
        .args(args)
        .start()
}

/// Starts real `redis-server` on `127.0.0.1:<ephemeral>` with `args`
/// (persistence off).
pub fn redis(args: &[&str]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Redis).args(args).start()
}

/// Runs soquete in this process on `127.0.0.1:<ephemeral>`; dropping the
/// handle stops it.
pub fn in_process(config: Config) -> (ServerHandle, SocketAddr) {
    let handle = Server::bind_ephemeral(config)
        .expect("binding an ephemeral port")
        .spawn();
    let addr = handle.addr().expect("a TCP listener");
    (handle, addr)
}

/// Polls `f` with a short back-off until it returns `Some`, for at most
/// `timeout`; panics naming `what` otherwise. A readiness check, not a sleep.
pub fn eventually<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Runs `f(i, barrier)` on `n` threads; returns their results in order.
/// Each thread calls `barrier.wait()` when it is ready to start, so that
/// all start together.
pub fn together<T: Send + 'static>(
    n: usize,
    f: impl Fn(usize, &std::sync::Barrier) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let f = std::sync::Arc::new(f);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (f, barrier) = (f.clone(), barrier.clone());
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || f(i, &barrier))
                .expect("spawn a client thread")
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("a client thread failed"))
        .collect()
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding 127.0.0.1:0")
        .port()
}

/// A `soquete-server` child started with exactly the arguments a test gives
/// (nothing added), in its own temporary working directory, its stdout and
/// stderr captured in files there. Dropping it stops it (SIGTERM, then
/// SIGKILL) and reaps it.
pub struct Proc {
    child: Child,
    dir: tempfile::TempDir,
    status: Option<ExitStatus>,
}

impl Proc {
    /// Spawns the binary with `args`.
    pub fn spawn<I, S>(args: I) -> Proc
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let dir = tempfile::Builder::new()
            .prefix("soquete-itest-")
            .tempdir()
            .expect("a temporary directory");
        Proc::spawn_in(dir, args)
    }

    /// Spawns the binary with `args` in `dir` (which the `Proc` then owns).
    pub fn spawn_in<I, S>(dir: tempfile::TempDir, args: I) -> Proc
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let stdout = fs::File::create(dir.path().join("stdout.log")).expect("stdout file");
        let stderr = fs::File::create(dir.path().join("stderr.log")).expect("stderr file");
        let child = Command::new(BIN)
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("spawning soquete-server");
        Proc {
            child,
            dir,
            status: None,
        }
    }

    /// Starts the binary listening on TCP `127.0.0.1:<free port>` with
    /// `extra` arguments after `--port P --bind 127.0.0.1`, and waits until
    /// it logs that it is ready. Retries with another port if the one picked
    /// was taken in the meantime.
    pub fn start_tcp(extra: &[&str]) -> (Proc, u16) {
        for _ in 0..3 {
            let port = free_port();
            let mut args = vec![
                "--port".to_string(),
                port.to_string(),
                "--bind".into(),
                "127.0.0.1".into(),
            ];
            args.extend(extra.iter().map(|s| s.to_string()));
            let mut p = Proc::spawn(&args);
            if p.try_wait_for_log("Ready to accept connections tcp", DEADLINE) {
                return (p, port);
            }
        }
        panic!("soquete-server did not start on a free port in 3 attempts");
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The working directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the server wrote to stdout so far.
    pub fn stdout(&self) -> String {
        fs::read_to_string(self.dir.path().join("stdout.log")).unwrap_or_default()
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Both outputs, for failure messages.
    pub fn output(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout(), self.stderr())
    }

    /// Waits until stdout contains `needle`; false if the process exited
    /// first or `timeout` passed.
    pub fn try_wait_for_log(&mut self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(1);
        loop {
            if self.stdout().contains(needle) {
                return true;
            }
            if self.poll_exit().is_some() || Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// Waits until stdout contains `needle`; panics with the output otherwise.
    pub fn wait_for_log(&mut self, needle: &str) {
        if !self.try_wait_for_log(needle, DEADLINE) {
            panic!(
                "soquete-server never logged {needle:?} (exit: {:?})\n{}",
                self.status,
                self.output()
            );
        }
    }

    /// Sends a signal by name (`TERM`, `INT`) with kill(1).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("running kill")
            .success();
        assert!(ok, "kill -{name} {} failed", self.pid());
    }

    /// The exit status if the process has exited.
    pub fn poll_exit(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("try_wait");
        }
        self.status
    }

    /// Waits for the process to exit; panics with its output after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(s) = self.poll_exit() {
                return s;
            }
            if Instant::now() >= deadline {
                panic!(
                    "soquete-server (pid {}) did not exit within {timeout:?}\n{}",
                    self.pid(),
                    self.output()
                );
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.poll_exit().is_some() {
            return;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.poll_exit().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmd` with `stdin` fed to it, collecting its output; kills it and
/// panics if it runs longer than `timeout`.
pub fn run_with_timeout(mut cmd: Command, stdin: &[u8], timeout: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut input = child.stdin.take().expect("piped stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The tool may exit before reading everything (an error): not ours to judge.
        let _ = input.write_all(&data);
    });
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

/// TCP ports on which process `pid` holds a listening socket (IPv4 or IPv6),
/// from `/proc/<pid>/net/tcp{,6}` matched against its open descriptors.
pub fn tcp_listen_ports(pid: u32) -> Vec<u16> {
    let fds: Vec<u64> = fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.flatten()
                .filter_map(|fd| {
                    let t = fs::read_link(fd.path()).ok()?;
                    let t = t.to_string_lossy().into_owned();
                    t.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
                })
                .collect()
        })
        .unwrap_or_default();
    let mut ports = Vec::new();
    for table in ["tcp", "tcp6"] {
        let text = fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_ascii_whitespace().collect();
            let (Some(local), Some(state), Some(inode)) = (f.get(1), f.get(3), f.get(9)) else {
                continue;
            };
            let Ok(inode) = inode.parse::<u64>() else {
                continue;
            };
            if *state != "0A" || !fds.contains(&inode) {
                continue;
            }
            if let Some(port) = local
                .rsplit_once(':')
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
            {
                ports.push(port);
            }
        }
    }
    ports
}

/// The server's resident memory in bytes.
pub fn rss_bytes(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS line");
    let kb: u64 = line["VmRSS:".len()..]
        .split_ascii_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .expect("VmRSS value");
    kb * 1024
}

/// A path for a Unix socket inside `dir`.
pub fn sock_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// A RESP command: an array of bulk strings.
pub fn resp<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A RESP bulk string reply.
pub fn bulk(v: &[u8]) -> Vec<u8> {
    let mut out = format!("${}\r\n", v.len()).into_bytes();
    out.extend_from_slice(v);
    out.extend_from_slice(b"\r\n");
    out
}

/// Bytes shown readably in assertion messages.
pub fn show(bytes: &[u8]) -> String {
    soquete_testkit::render::escape(bytes, 400)
}

/// The value of `field` in an INFO reply's text.
pub fn info_field(info: &[u8], field: &str) -> Option<String> {
    let text = String::from_utf8_lossy(info);
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':').map(str::to_string))
}
