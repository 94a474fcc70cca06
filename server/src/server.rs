//! The server process: listeners, start-up (the open-file limit, the
//! log lines), the event loop threads, and shutdown.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Config;
use crate::event_loop;
use crate::shared::Shared;
use crate::{notice, warning};

/// A listening socket.
pub enum Listener {
    /// TCP.
    Tcp(mio::net::TcpListener),
    /// Unix domain socket, with its path (removed at exit).
    Unix(mio::net::UnixListener, PathBuf),
    /// TCP whose clients speak TLS (`tls-port`).
    Tls(mio::net::TcpListener),
}

/// A bound, not yet running server.
pub struct Server {
    shared: Arc<Shared>,
    listeners: Vec<Listener>,
}

/// A server running on background threads (tests, embedding).
pub struct ServerHandle {
    shared: Arc<Shared>,
    addr: Option<SocketAddr>,
    thread: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl ServerHandle {
    /// The TCP address it listens on.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// The server's shared state.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops the server and waits for it.
    pub fn shutdown(mut self) -> io::Result<()> {
        self.stop()
    }

    fn stop(&mut self) -> io::Result<()> {
        self.shared.request_shutdown();
        match self.thread.take() {
            Some(t) => t
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("server thread panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

fn bind_tcp(addr: SocketAddr, backlog: u32) -> io::Result<mio::net::TcpListener> {
    let domain = socket2::Domain::for_address(addr);
    let sock = socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
    if addr.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.set_reuse_address(true)?;
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    sock.listen(backlog.min(i32::MAX as u32) as i32)?;
    Ok(mio::net::TcpListener::from_std(sock.into()))
}

/// Binds `port` on every `bind` address (a leading `-` makes an address
/// optional); `what` names the listener in errors (" (TLS)").
fn bind_all(config: &Config, port: u16, what: &str) -> io::Result<Vec<mio::net::TcpListener>> {
    let mut out = Vec::new();
    for b in &config.bind {
        let (optional, a) = match b.strip_prefix('-') {
            Some(a) => (true, a),
            None => (false, b.as_str()),
        };
        let ip = parse_bind(a)?;
        match bind_tcp(SocketAddr::new(ip, port), config.tcp_backlog) {
            Ok(l) => out.push(l),
            Err(e) if optional => {
                warning!("Could not create server TCP listening socket {a}:{port}{what}: {e} (optional, skipped)");
            }
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("Could not create server TCP listening socket {a}:{port}{what}: {e}"),
                ))
            }
        }
    }
    Ok(out)
}

fn parse_bind(addr: &str) -> io::Result<IpAddr> {
    match addr {
        "*" => Ok(IpAddr::from([0, 0, 0, 0])),
        "::*" => Ok(IpAddr::from([0u16; 8])),
        a => a.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("Invalid bind address '{a}'"),
            )
        }),
    }
}

impl Server {
    /// Binds the listeners `config` asks for.
    pub fn bind(config: Config) -> io::Result<Server> {
        Server::bind_with_file(config, None)
    }

    /// Binds the listeners `config` asks for; `config_file` is where the
    /// configuration came from (INFO shows it).
    pub fn bind_with_file(config: Config, config_file: Option<PathBuf>) -> io::Result<Server> {
        // Before any request can be looked up (see `cmd::names`).
        crate::cmd::names::install_renames(&config.rename_commands).map_err(io::Error::other)?;
        let mut tls_context = None;
        let mut listeners = Vec::new();
        let mut port = 0;
        if config.port != 0 {
            for l in bind_all(&config, config.port, "")? {
                port = l.local_addr()?.port();
                listeners.push(Listener::Tcp(l));
            }
        }
        if config.tls_port != 0 {
            let tls = crate::tls::TlsContext::configure(&config).map_err(|e| {
                warning!("{e}");
                io::Error::other("Failed to configure TLS. Check logs for more info.")
            })?;
            tls_context = Some(Arc::new(tls));
            for l in bind_all(&config, config.tls_port, " (TLS)")? {
                listeners.push(Listener::Tls(l));
            }
        }
        if let Some(path) = &config.unixsocket {
            let _ = std::fs::remove_file(path);
            let l = mio::net::UnixListener::bind(path).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("Failed opening Unix socket {}: {e}", path.display()),
                )
            })?;
            if config.unixsocketperm != 0 {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(
                    path,
                    std::fs::Permissions::from_mode(config.unixsocketperm),
                )?;
            }
            listeners.push(Listener::Unix(l, path.clone()));
        }
        if listeners.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "Configured to not listen anywhere, exiting.",
            ));
        }
        let shared = Shared::new_arc(config, config_file);
        // The logged error is what Redis logs before it exits.
        crate::acl::file::load_at_startup(&shared).map_err(io::Error::other)?;
        shared.set_tcp_port(port);
        if let Some(tls) = tls_context {
            shared.set_tls(tls);
        }
        Ok(Server { shared, listeners })
    }

    /// Binds only `127.0.0.1` on an ephemeral port (tests and embedding),
    /// with everything else from `config` except the save points, which
    /// are cleared.
    pub fn bind_ephemeral(mut config: Config) -> io::Result<Server> {
        config.port = 0;
        config.unixsocket = None;
        // No save points: a server embedded in a test or an application
        // writes no snapshot into its working directory unless asked.
        config.save.clear();
        let l = bind_tcp(SocketAddr::from(([127, 0, 0, 1], 0)), config.tcp_backlog)?;
        let port = l.local_addr()?.port();
        let shared = Shared::new_arc(config, None);
        shared.set_tcp_port(port);
        Ok(Server {
            shared,
            listeners: vec![Listener::Tcp(l)],
        })
    }

    /// The first TCP address listened on.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listeners.iter().find_map(|l| match l {
            Listener::Tcp(t) => t.local_addr().ok(),
            Listener::Unix(..) | Listener::Tls(_) => None,
        })
    }

    /// The shared state.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Runs until shutdown (SIGINT/SIGTERM when a signal pipe from
    /// [`event_loop::signal_pipe`] is given, SHUTDOWN, or
    /// [`Shared::request_shutdown`]).
    pub fn run(self, signals: Option<std::os::unix::net::UnixStream>) -> io::Result<()> {
        let Server { shared, listeners } = self;
        let paths: Vec<PathBuf> = listeners
            .iter()
            .filter_map(|l| match l {
                Listener::Unix(_, p) => Some(p.clone()),
                Listener::Tcp(_) | Listener::Tls(_) => None,
            })
            .collect();
        let loader = crate::persist::load::start(&shared)?;
        let result = event_loop::run_loops(shared.clone(), listeners, signals);
        for p in paths {
            let _ = std::fs::remove_file(p);
        }
        if let Some(loader) = loader {
            let _ = loader.join();
        }
        // Whatever the loops appended last reaches the file.
        shared.persist.aof.flush_all(true);
        if let Some(e) = shared.persist.load_error() {
            return Err(io::Error::other(e));
        }
        result
    }

    /// Runs on background threads; the handle stops it when dropped.
    pub fn spawn(self) -> ServerHandle {
        let shared = self.shared.clone();
        let addr = self.local_addr();
        let thread = std::thread::Builder::new()
            .name("soquete-main".into())
            .spawn(move || self.run(None))
            .expect("spawning the server thread");
        ServerHandle {
            shared,
            addr,
            thread: Some(thread),
        }
    }
}

/// Fits the process's open-file limit to `maxclients` (see
/// [`open_files`](crate::util::open_files)), logging what it did in
/// Redis's words; returns the `maxclients` the limit allows, lower than
/// asked when it could not be raised far enough, or an error when the
/// limit does not even cover the reserved descriptors.
pub fn fit_open_files(maxclients: usize) -> io::Result<usize> {
    use crate::util::open_files::{describe, fit, needed, Fit};
    let needed = needed(maxclients);
    match fit(maxclients) {
        Fit::Fits {
            raised_from: Some(old),
            limit,
        } => {
            notice!("Increased maximum number of open files to {limit} (it was originally set to {old}).");
            Ok(maxclients)
        }
        Fit::Fits { .. } => Ok(maxclients),
        Fit::Reduced {
            maxclients: fitted,
            limit,
            error,
        } => {
            warning!("You requested maxclients of {maxclients} requiring at least {needed} max file descriptors.");
            warning!(
                "Server can't set maximum open files to {needed} because of OS error: {}.",
                describe(&error)
            );
            warning!("Current maximum open files is {limit}. maxclients has been reduced to {fitted} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.");
            Ok(fitted)
        }
        Fit::TooFew { limit } => Err(io::Error::other(format!(
            "Your current 'ulimit -n' of {limit} is not enough for the server to start. Please increase your open file limit to at least {needed}. Exiting."
        ))),
    }
}

/// Logs the start-up lines and runs the server as the `soquete-server`
/// binary does.
pub fn serve(mut config: Config, config_file: Option<PathBuf>) -> io::Result<()> {
    // CONFIG REWRITE finds the file wherever the working directory is later.
    let config_file = match config_file {
        Some(p) if p.is_relative() => Some(std::env::current_dir()?.join(p)),
        other => other,
    };
    crate::log::init(config.loglevel, &config.logfile)?;
    notice!("oO0OoO0OoO0Oo soquete is starting oO0OoO0OoO0Oo");
    notice!(
        "soquete version={}, bits=64, pid={}, just started (Redis-compatible: {})",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        crate::REDIS_VERSION
    );
    match &config_file {
        Some(p) => notice!("Configuration loaded from {}", p.display()),
        None => notice!("No config file specified, using the default config."),
    }
    if config.maxmemory != 0 && config.maxmemory < 1024 * 1024 {
        warning!(
            "WARNING: You specified a maxmemory value that is less than 1MB (current value is {} bytes). Are you sure this is what you really want?",
            config.maxmemory
        );
    }
    config.maxclients = fit_open_files(config.maxclients)?;
    if let Some(p) = &config.pidfile {
        std::fs::write(p, format!("{}\n", std::process::id()))?;
    }
    let loops = config.loop_count();
    let pidfile = config.pidfile.clone();
    let server = Server::bind_with_file(config, config_file)?;
    let signals = event_loop::signal_pipe()?;
    let port = server.shared.tcp_port();
    notice!("Server initialized, {loops} event loop thread(s)");
    if port != 0 {
        notice!("Ready to accept connections tcp (port {port})");
    }
    if let Some(p) = &server.shared.config().unixsocket {
        notice!("Ready to accept connections unix ({})", p.display());
    }
    let result = server.run(Some(signals));
    if let Some(p) = pidfile {
        let _ = std::fs::remove_file(p);
    }
    notice!("soquete is now ready to exit, bye bye...");
    result
}
