//! Start `redis-server` or `soquete-server` on an ephemeral loopback port.

use std::env;
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::procfs;

/// The hint printed when `redis-server` cannot be found.
pub const REDIS_INSTALL_HINT: &str = "apt-get install -y redis-server";

/// Which server a [`ServerProcess`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerKind {
    /// The reference: real `redis-server` (from `$REDIS_SERVER`, else `PATH`).
    Redis,
    /// Ours: `soquete-server` (from `$SOQUETE_SERVER`, else the build next to the running
    /// test executable, else built with cargo).
    Soquete,
}

impl ServerKind {
    /// A short lowercase name: `redis` or `soquete`.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Redis => "redis",
            ServerKind::Soquete => "soquete",
        }
    }
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Configures and starts a [`ServerProcess`].
///
/// ```no_run
/// use soquete_testkit::{ServerKind, ServerProcess};
/// let server = ServerProcess::builder(ServerKind::Redis)
///     .args(["--databases", "4"])
///     .start();
/// println!("redis on {}", server.addr());
/// ```
#[derive(Clone, Debug)]
pub struct ServerBuilder {
    kind: ServerKind,
    binary: Option<PathBuf>,
    args: Vec<OsString>,
    ready_timeout: Duration,
    attempts: u32,
    open_file_limit: Option<u64>,
    exact_args: bool,
}

impl ServerBuilder {
    /// A builder for `kind` with the default binary lookup and no extra arguments.
    pub fn new(kind: ServerKind) -> Self {
        ServerBuilder {
            kind,
            binary: None,
            args: Vec::new(),
            ready_timeout: Duration::from_secs(10),
            attempts: 3,
            open_file_limit: None,
            exact_args: false,
        }
    }

    /// Runs this binary instead of looking one up. Server integration tests pass
    /// `env!("CARGO_BIN_EXE_soquete-server")`, which cargo keeps fresh.
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// Appends one argument after the ones the builder sets (`--port`, `--bind`, ...).
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments after the ones the builder sets.
    pub fn args<I, A>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Starts the server with this open-file limit (soft and hard, as
    /// `ulimit -n` sets them), through util-linux's `prlimit`, which then
    /// executes the server in its own process.
    pub fn open_file_limit(mut self, limit: u64) -> Self {
        self.open_file_limit = Some(limit);
        self
    }

    /// Passes the server exactly the arguments given with [`arg`](Self::arg)
    /// and [`args`](Self::args), nothing else: no `--port` and `--bind` (nor,
    /// for Redis, the flags that turn persistence off). For tests of the
    /// command line itself: a config file's `port`, a Unix socket alone.
    ///
    /// The builder then does not know where the server listens, so
    /// [`start`](Self::start) waits for the log line `Ready to accept
    /// connections` instead of a `PING` reply, makes one attempt only, and
    /// the process's [`addr`](ServerProcess::addr) panics.
    pub fn exact_args(mut self) -> Self {
        self.exact_args = true;
        self
    }

    /// How long the server may take to be ready (default 10 s).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Starts the server and waits until it answers `PING` (with
    /// [`exact_args`](Self::exact_args): until it logs that it is ready).
    ///
    /// # Panics
    ///
    /// When the binary cannot be found (for Redis with the hint
    /// [`REDIS_INSTALL_HINT`]) or the server does not become ready; the message
    /// carries the server's output.
    pub fn start(self) -> ServerProcess {
        match self.try_start() {
            Ok(server) => server,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`start`](Self::start), returning the failure instead of panicking.
    pub fn try_start(self) -> Result<ServerProcess, StartError> {
        let binary = match &self.binary {
            Some(path) => path.clone(),
            None => match self.kind {
                ServerKind::Redis => find_redis_server()?,
                ServerKind::Soquete => find_soquete_server()?,
            },
        };
        let attempts = if self.exact_args {
            1
        } else {
            self.attempts.max(1)
        };
        let mut last = None;
        for _ in 0..attempts {
            match self.spawn_once(&binary) {
                Ok(server) => return Ok(server),
                // Another process may have taken the port between our probe and the
                // server's bind: try again with a new port.
                Err(e @ StartError::Exited { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    fn spawn_once(&self, binary: &Path) -> Result<ServerProcess, StartError> {
        let port = if self.exact_args {
            None
        } else {
            Some(free_port().map_err(StartError::Io)?)
        };
        let dir = tempfile::Builder::new()
            .prefix(&format!("soquete-{}-", self.kind.name()))
            .tempdir()
            .map_err(StartError::Io)?;
        let stdout = File::create(dir.path().join("stdout.log")).map_err(StartError::Io)?;
        let stderr = File::create(dir.path().join("stderr.log")).map_err(StartError::Io)?;
        let mut cmd = match self.open_file_limit {
            Some(n) => {
                let mut cmd = Command::new("prlimit");
                cmd.arg(format!("--nofile={n}:{n}")).arg("--").arg(binary);
                cmd
            }
            None => Command::new(binary),
        };
        cmd.current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        if let Some(port) = port {
            cmd.arg("--port")
                .arg(port.to_string())
                .arg("--bind")
                .arg("127.0.0.1");
            // No save points unless a test asks (its own `--save` comes
            // after): a test server writes no snapshot on its own.
            cmd.args(["--save", ""]);
            if self.kind == ServerKind::Redis {
                cmd.args(["--appendonly", "no", "--daemonize", "no"]);
            }
        }
        cmd.args(&self.args);
        let child = cmd.spawn().map_err(|e| StartError::Spawn {
            binary: binary.to_owned(),
            error: e,
        })?;
        let mut server = ServerProcess {
            kind: self.kind,
            child,
            addr: port.map(|port| SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))),
            binary: binary.to_owned(),
            dir,
            exited: None,
        };
        match server.wait_ready(self.ready_timeout) {
            Ok(()) => Ok(server),
            Err(e) => Err(e), // `server` drops here: the child is stopped and reaped.
        }
    }
}

/// Why a server did not start.
#[derive(Debug)]
pub enum StartError {
    /// The binary was not found; the message says how to get it.
    NotFound(String),
    /// The binary could not be executed.
    Spawn {
        /// The binary that failed.
        binary: PathBuf,
        /// The OS error.
        error: io::Error,
    },
    /// The server exited before it was ready.
    Exited {
        /// Which server.
        kind: ServerKind,
        /// How it exited.
        status: ExitStatus,
        /// Its stdout and stderr.
        output: String,
    },
    /// The server did not answer `PING` (or, started with
    /// [`exact_args`](ServerBuilder::exact_args), log that it is ready) in time.
    Timeout {
        /// Which server.
        kind: ServerKind,
        /// Its stdout and stderr so far.
        output: String,
    },
    /// Building `soquete-server` with cargo failed.
    Build(String),
    /// Any other I/O failure while preparing the server.
    Io(io::Error),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::NotFound(msg) | StartError::Build(msg) => f.write_str(msg),
            StartError::Spawn { binary, error } => {
                write!(f, "cannot run {}: {error}", binary.display())
            }
            StartError::Exited {
                kind,
                status,
                output,
            } => write!(
                f,
                "{kind} server exited before it was ready ({status}); its output:\n{output}"
            ),
            StartError::Timeout { kind, output } => {
                write!(
                    f,
                    "{kind} server was not ready in time; its output:\n{output}"
                )
            }
            StartError::Io(e) => write!(f, "cannot start server: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A server child process on `127.0.0.1:<ephemeral port>` (or wherever its
/// [exact arguments](ServerBuilder::exact_args) say), with its own temporary
/// working directory where its stdout and stderr are kept. Dropping it stops
/// the server (SIGTERM, then SIGKILL after a deadline) and reaps it, also while
/// a test panics.
///
/// This is the one wrapper of a server process in the tests: the server
/// integration tests start the binary cargo built for them with
/// [`ServerBuilder::binary`]`(env!("CARGO_BIN_EXE_soquete-server"))`.
#[derive(Debug)]
pub struct ServerProcess {
    kind: ServerKind,
    child: Child,
    /// `None` when started with exact arguments.
    addr: Option<SocketAddr>,
    binary: PathBuf,
    dir: tempfile::TempDir,
    exited: Option<ExitStatus>,
}

impl ServerProcess {
    /// Starts real `redis-server` with persistence off.
    ///
    /// # Panics
    ///
    /// When `redis-server` is missing (with the hint [`REDIS_INSTALL_HINT`]) or does not start.
    pub fn redis() -> Self {
        ServerBuilder::new(ServerKind::Redis).start()
    }

    /// Starts `soquete-server`.
    ///
    /// # Panics
    ///
    /// When it cannot be found or built, or does not start.
    pub fn soquete() -> Self {
        ServerBuilder::new(ServerKind::Soquete).start()
    }

    /// Starts a server of `kind` with default settings.
    pub fn start(kind: ServerKind) -> Self {
        ServerBuilder::new(kind).start()
    }

    /// A builder, for extra arguments or a specific binary.
    pub fn builder(kind: ServerKind) -> ServerBuilder {
        ServerBuilder::new(kind)
    }

    /// Which server this is.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// The address it listens on (`127.0.0.1:<port>`).
    ///
    /// # Panics
    ///
    /// When the server was started with
    /// [`exact_args`](ServerBuilder::exact_args): only its arguments know.
    pub fn addr(&self) -> SocketAddr {
        self.addr.unwrap_or_else(|| {
            panic!(
                "{} server was started with exact arguments: its address is in them",
                self.kind
            )
        })
    }

    /// The TCP port it listens on.
    ///
    /// # Panics
    ///
    /// As [`addr`](Self::addr).
    pub fn port(&self) -> u16 {
        self.addr().port()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The binary that runs.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The server's working directory (deleted when the server is dropped).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Opens a test connection (see [`Conn`](crate::Conn)).
    ///
    /// # Panics
    ///
    /// When the connection fails.
    pub fn connect(&self) -> crate::Conn {
        let addr = self.addr();
        crate::Conn::connect(addr)
            .unwrap_or_else(|e| panic!("cannot connect to {} at {addr}: {e}", self.kind))
    }

    /// User plus system CPU time the server has consumed so far.
    pub fn cpu_time(&self) -> io::Result<Duration> {
        procfs::cpu_time(self.pid())
    }

    /// The server's resident memory in bytes.
    pub fn rss_bytes(&self) -> io::Result<u64> {
        procfs::rss_bytes(self.pid())
    }

    /// The largest resident memory the server has had, in bytes, since it
    /// started or since [`ServerProcess::reset_peak_rss`].
    pub fn peak_rss_bytes(&self) -> io::Result<u64> {
        procfs::peak_rss_bytes(self.pid())
    }

    /// Restarts the peak that [`ServerProcess::peak_rss_bytes`] reports
    /// from the current resident memory.
    pub fn reset_peak_rss(&self) -> io::Result<()> {
        procfs::reset_peak_rss(self.pid())
    }

    /// The server's resident memory once it stops moving (allocators return
    /// or settle pages shortly after a burst of work): the lowest of six
    /// reads 50 ms apart.
    pub fn settled_rss_bytes(&self) -> io::Result<u64> {
        let mut lowest = u64::MAX;
        for _ in 0..6 {
            std::thread::sleep(Duration::from_millis(50));
            lowest = lowest.min(self.rss_bytes()?);
        }
        Ok(lowest)
    }

    /// CPU time and resident memory together.
    pub fn usage(&self) -> io::Result<procfs::Usage> {
        procfs::usage(self.pid())
    }

    /// What the server wrote to stdout so far (its log, for both servers).
    pub fn stdout(&self) -> String {
        fs::read_to_string(self.dir.path().join("stdout.log")).unwrap_or_default()
    }

    /// Waits until the server's stdout contains `needle`.
    ///
    /// # Panics
    ///
    /// When the server exits first or `timeout` passes; the message carries
    /// its output.
    pub fn wait_for_log(&mut self, needle: &str, timeout: Duration) {
        if !self.try_wait_for_log(needle, timeout) {
            panic!(
                "{} server never logged {needle:?} (exit: {:?}); its output:\n{}",
                self.kind,
                self.exited,
                self.output()
            );
        }
    }

    /// Waits until the server's stdout contains `needle`; false when the
    /// server exited first or `timeout` passed.
    fn try_wait_for_log(&mut self, needle: &str, timeout: Duration) -> bool {
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

    /// Sends the server `signal`.
    pub fn signal(&self, signal: Signal) {
        let sig = match signal {
            Signal::Term => libc::SIGTERM,
            Signal::Int => libc::SIGINT,
            Signal::Kill => libc::SIGKILL,
        };
        signal_pid(self.pid(), sig);
    }

    /// Waits for the server to exit by itself (after a signal or SHUTDOWN)
    /// and returns how it exited.
    ///
    /// # Panics
    ///
    /// When it is still running after `timeout`; the message carries its
    /// output.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(status) = self.poll_exit() {
                return status;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{} server (pid {}) did not exit within {timeout:?}; its output:\n{}",
                    self.kind,
                    self.pid(),
                    self.output()
                );
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// Everything the server wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        let mut out = String::new();
        for name in ["stdout.log", "stderr.log"] {
            if let Ok(mut f) = File::open(self.dir.path().join(name)) {
                let mut bytes = Vec::new();
                let _ = f.read_to_end(&mut bytes);
                if !bytes.is_empty() {
                    out.push_str(&format!("--- {name}\n"));
                    out.push_str(&String::from_utf8_lossy(&bytes));
                    if !out.ends_with('\n') {
                        out.push('\n');
                    }
                }
            }
        }
        out
    }

    /// Whether the server answers `PING` (any reply line) within `timeout`.
    ///
    /// # Panics
    ///
    /// As [`addr`](Self::addr).
    pub fn ping(&self, timeout: Duration) -> bool {
        ping(self.addr(), Instant::now() + timeout)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.poll_exit().is_none()
    }

    /// Stops the server (SIGTERM, SIGKILL after 5 s) and returns how it exited.
    pub fn stop(mut self) -> io::Result<ExitStatus> {
        self.stop_with(Duration::from_secs(5))
    }

    fn poll_exit(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    fn stop_with(&mut self, grace: Duration) -> io::Result<ExitStatus> {
        if let Some(status) = self.poll_exit() {
            return Ok(status);
        }
        signal_pid(self.pid(), libc::SIGTERM);
        let deadline = Instant::now() + grace;
        let mut pause = Duration::from_millis(1);
        while Instant::now() < deadline {
            if let Some(status) = self.poll_exit() {
                return Ok(status);
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
        self.child.kill()?;
        let status = self.child.wait()?;
        self.exited = Some(status);
        Ok(status)
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), StartError> {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(status) = self.poll_exit() {
                return Err(StartError::Exited {
                    kind: self.kind,
                    status,
                    output: self.output(),
                });
            }
            let ready = match self.addr {
                // Only talk to the port once our child holds it: another process could
                // have bound it in the meantime, and then our child will fail and exit.
                Some(addr) => procfs::listens_on(self.pid(), addr.port()) && ping(addr, deadline),
                None => self.stdout().contains("Ready to accept connections"),
            };
            if ready {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(StartError::Timeout {
                    kind: self.kind,
                    output: self.output(),
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(25));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.stop_with(Duration::from_secs(5));
    }
}

/// A signal [`ServerProcess::signal`] sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// `SIGTERM`, as `kill` and service managers send.
    Term,
    /// `SIGINT`, as Ctrl-C sends.
    Int,
    /// `SIGKILL`: a crash, as far as the server can tell (durability
    /// tests).
    Kill,
}

fn signal_pid(pid: u32, sig: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) has no memory-safety preconditions; `pid` is our own child,
    // which has not been reaped yet (we reap only through `Child`), so the id cannot
    // have been reused by another process.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// Sends `PING` and waits for any complete reply line (`+PONG`, or `-NOAUTH` when a
/// password is set): the server is then serving commands.
fn ping(addr: SocketAddr, deadline: Instant) -> bool {
    let left = deadline.saturating_duration_since(Instant::now());
    let budget = left.clamp(Duration::from_millis(10), Duration::from_secs(2));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, budget) else {
        return false;
    };
    if s.set_read_timeout(Some(budget)).is_err() || s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !got.ends_with(b"\r\n") && got.len() < 4096 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    matches!(got.first(), Some(b'+' | b'-'))
}

/// A port that was free a moment ago: bind `127.0.0.1:0`, read the port, close.
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `$REDIS_SERVER`, else `redis-server` from `PATH`.
pub fn find_redis_server() -> Result<PathBuf, StartError> {
    if let Some(path) = env::var_os("REDIS_SERVER").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(StartError::NotFound(format!(
                "REDIS_SERVER={} is not a file (install Redis: {REDIS_INSTALL_HINT})",
                path.display()
            )))
        };
    }
    find_in_path("redis-server").ok_or_else(|| {
        StartError::NotFound(format!(
            "redis-server not found in PATH; install it with `{REDIS_INSTALL_HINT}` or set REDIS_SERVER=/path/to/redis-server"
        ))
    })
}

/// `$SOQUETE_SERVER`; else `soquete-server` beside the running test or bench
/// executable (`target/<profile>/deps/x` -> `target/<profile>/soquete-server`) when
/// it is newer than the server and codec sources; else `cargo build -p
/// soquete-server` for that profile and target directory.
pub fn find_soquete_server() -> Result<PathBuf, StartError> {
    if let Some(path) = env::var_os("SOQUETE_SERVER").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let exe = env::current_exe().map_err(StartError::Io)?;
    let Some(profile_dir) = exe.parent().and_then(Path::parent) else {
        return Err(StartError::NotFound(format!(
            "cannot locate the target directory from {}; set SOQUETE_SERVER",
            exe.display()
        )));
    };
    let candidate = profile_dir.join("soquete-server");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives inside the workspace");
    if is_fresh(&candidate, workspace) {
        return Ok(candidate);
    }
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("debug")
        .to_owned();
    let target_dir = profile_dir.parent().unwrap_or(profile_dir);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["build", "-p", "soquete-server", "--bin", "soquete-server"])
        .arg("--target-dir")
        .arg(target_dir);
    match profile.as_str() {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    eprintln!("soquete-testkit: building soquete-server ({profile}) ...");
    let out = cmd
        .output()
        .map_err(|e| StartError::Build(format!("cannot run cargo: {e}")))?;
    if !out.status.success() {
        return Err(StartError::Build(format!(
            "cargo build -p soquete-server failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    if candidate.is_file() {
        Ok(candidate)
    } else {
        Err(StartError::Build(format!(
            "cargo build succeeded but {} is missing; set SOQUETE_SERVER",
            candidate.display()
        )))
    }
}

/// True when `binary` exists and is newer than every source file of the server
/// and the codec (so a bench never measures a stale build).
fn is_fresh(binary: &Path, workspace: &Path) -> bool {
    let Some(built) = fs::metadata(binary).and_then(|m| m.modified()).ok() else {
        return false;
    };
    let mut newest = SystemTime::UNIX_EPOCH;
    for root in [
        "server/src",
        "server/Cargo.toml",
        "resp/src",
        "resp/Cargo.toml",
        "Cargo.lock",
    ] {
        newest_mtime(&workspace.join(root), &mut newest);
    }
    built >= newest
}

fn newest_mtime(path: &Path, newest: &mut SystemTime) {
    let Ok(meta) = fs::metadata(path) else {
        return;
    };
    if meta.is_dir() {
        if let Ok(entries) = fs::read_dir(path) {
            for entry in entries.flatten() {
                newest_mtime(&entry.path(), newest);
            }
        }
    } else if let Ok(m) = meta.modified() {
        *newest = (*newest).max(m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_port_is_nonzero() {
        assert_ne!(free_port().unwrap(), 0);
    }

    #[test]
    fn freshness_compares_against_sources() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path();
        fs::create_dir_all(ws.join("server/src")).unwrap();
        fs::write(ws.join("server/src/main.rs"), "fn main() {}").unwrap();
        assert!(!is_fresh(&ws.join("missing"), ws));
        let bin = ws.join("bin");
        fs::write(&bin, "").unwrap();
        let old = SystemTime::now() - Duration::from_secs(3600);
        File::options()
            .write(true)
            .open(&bin)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(!is_fresh(&bin, ws));
        File::options()
            .write(true)
            .open(&bin)
            .unwrap()
            .set_modified(SystemTime::now() + Duration::from_secs(5))
            .unwrap();
        assert!(is_fresh(&bin, ws));
    }
}
