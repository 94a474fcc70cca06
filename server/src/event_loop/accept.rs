//! Accepting connections (on the loop that owns the listeners): the
//! checks Redis makes before a client is admitted (`maxclients`, protected
//! mode), handing the socket to a loop round-robin, and what happens when
//! the process is out of descriptors.

use std::io::{self, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use mio::Token;

use super::{Conn, EventLoop, Sock};
use crate::client::{Client, ClientMeta};
use crate::inbox::LoopMsg;
use crate::server::Listener;
use crate::shared::unix_ms;
use crate::{verbose, warning};

impl EventLoop {
    /// Accepts every connection waiting on listener `which`.
    pub(super) fn accept(&mut self, which: usize) {
        loop {
            let accepted = match &self.listeners.get(which) {
                Some(Listener::Tcp(l)) => l.accept().map(|(s, peer)| {
                    let local = s.local_addr().map(|a| a.to_string()).unwrap_or_default();
                    (
                        Sock::Tcp(s),
                        peer.to_string(),
                        local,
                        false,
                        Some(peer.ip()),
                    )
                }),
                Some(Listener::Unix(l, path)) => l.accept().map(|(s, _)| {
                    let p = format!("{}:0", path.display());
                    (Sock::Unix(s), p.clone(), p, true, None)
                }),
                Some(Listener::Tls(l)) => match l.accept() {
                    Ok((s, peer)) => {
                        let local = s.local_addr().map(|a| a.to_string()).unwrap_or_default();
                        let Some(sock) = tls_sock(&self.shared, s) else {
                            continue;
                        };
                        Ok((sock, peer.to_string(), local, false, Some(peer.ip())))
                    }
                    Err(e) => Err(e),
                },
                None => return,
            };
            match accepted {
                Ok((sock, addr, laddr, unix, ip)) => self.admit(sock, addr, laddr, unix, ip),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // The peer gave up before we took it: on to the next one.
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(e) if out_of_descriptors(&e) => {
                    warning!("Accepting client connection: {e}");
                    if !self.refuse_one(which) {
                        return;
                    }
                }
                Err(e) => {
                    warning!("Accepting client connection: {e}");
                    return;
                }
            }
        }
    }

    /// Out of descriptors: gives up the spare one for a moment to accept
    /// the next waiting connection and answer it as `maxclients` would, so
    /// that no client waits unanswered (the listener is edge-triggered: a
    /// connection left in its queue is not announced again). True when one
    /// was refused and the spare descriptor is back, so the caller may go
    /// on accepting.
    fn refuse_one(&mut self, which: usize) -> bool {
        let Some(spare) = self.spare_fd.take() else {
            return false;
        };
        drop(spare);
        let refused = match self.listeners.get(which) {
            Some(Listener::Tcp(l)) => l.accept().map(|(mut s, _)| s.write(MAXCLIENTS_ERROR)),
            Some(Listener::Unix(l, _)) => l.accept().map(|(mut s, _)| s.write(MAXCLIENTS_ERROR)),
            // No handshake yet, so nothing can be said: the connection
            // just drops, as in Redis.
            Some(Listener::Tls(l)) => l.accept().map(|_| Ok(0)),
            None => return false,
        };
        self.spare_fd = std::fs::File::open("/dev/null").ok();
        if refused.is_err() {
            return false;
        }
        self.stats().rejected.fetch_add(1, Ordering::Relaxed);
        self.spare_fd.is_some()
    }

    fn admit(
        &mut self,
        sock: Sock,
        addr: String,
        laddr: String,
        unix: bool,
        ip: Option<std::net::IpAddr>,
    ) {
        let shared = self.shared.clone();
        let admitted = admit_to(
            &shared,
            &shared.loop_stats[self.index],
            sock,
            (addr, laddr, unix, ip),
            &mut self.next_loop,
        );
        let Some((target, sock, meta)) = admitted else {
            return;
        };
        if target == self.index {
            self.add_conn(sock, meta);
        } else if let Some(loops) = self.shared.loops() {
            loops[target].send(LoopMsg::Accept(sock, meta));
        }
    }

    /// Takes over a connection admitted by the accepting loop.
    pub(super) fn add_conn(&mut self, mut sock: Sock, meta: Arc<ClientMeta>) {
        let authenticated = !self.shared.acl.auth_required();
        let i = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        if let Err(e) = sock.register(self.poll.registry(), Token(i)) {
            warning!("Registering client {}: {e}", meta.id);
            self.free.push(i);
            self.forget(&meta);
            return;
        }
        if self.stopping {
            sock.deregister(self.poll.registry());
            self.free.push(i);
            self.forget(&meta);
            return;
        }
        self.ids.insert(meta.id, i);
        self.conns[i] = Some(Box::new(Conn::new(sock, Client::new(meta, authenticated))));
    }

    /// Drops a client from the server's registry.
    pub(super) fn forget(&self, meta: &ClientMeta) {
        self.shared.forget_client(meta.id);
    }
}

/// Where a new connection came from: peer address, local address, a
/// Unix socket, the peer's IP.
type Peer = (String, String, bool, Option<std::net::IpAddr>);

/// Redis's checks before a client is admitted (`maxclients`, protected
/// mode; the socket is told why when refused), then the loop it goes to —
/// the next in turn, passing over loops busy running a long script — and
/// its entry in the client registry.
fn admit_to(
    shared: &crate::shared::Shared,
    stats: &crate::shared::LoopStats,
    mut sock: Sock,
    (addr, laddr, unix, ip): Peer,
    next_loop: &mut usize,
) -> Option<(usize, Sock, Arc<ClientMeta>)> {
    stats.connections.fetch_add(1, Ordering::Relaxed);
    let (maxclients, protected, keepalive) = {
        let c = shared.config();
        (c.maxclients, c.protected_mode, c.tcp_keepalive)
    };
    // A TLS client is told nothing before its handshake: it is dropped,
    // as Redis drops it.
    if shared.client_count() >= maxclients {
        if !sock.is_tls() {
            let _ = sock.write(MAXCLIENTS_ERROR);
        }
        stats.rejected.fetch_add(1, Ordering::Relaxed);
        return None;
    }
    // Redis's test: protected mode, the default user without a password,
    // and a client that is not local (exactly 127.0.0.1 or ::1).
    if protected && !crate::config::is_local(unix, ip) && shared.acl.default_nopass() {
        if !sock.is_tls() {
            let _ = sock.write(PROTECTED_MODE_ERROR.as_bytes());
        }
        stats.rejected.fetch_add(1, Ordering::Relaxed);
        return None;
    }
    let tcp = match &sock {
        Sock::Tcp(s) => Some(s),
        Sock::Tls(s) => Some(&s.tcp),
        Sock::Unix(_) => None,
    };
    let fd = match tcp {
        Some(s) => {
            let _ = s.set_nodelay(true);
            if keepalive > 0 {
                let sref = socket2::SockRef::from(s);
                let ka = socket2::TcpKeepalive::new().with_time(Duration::from_secs(keepalive));
                let _ = sref.set_tcp_keepalive(&ka);
            }
            std::os::fd::AsRawFd::as_raw_fd(s)
        }
        None => match &sock {
            Sock::Unix(s) => std::os::fd::AsRawFd::as_raw_fd(s),
            _ => -1,
        },
    };
    let target = pick_loop(shared, next_loop);
    let id = shared.next_client_id();
    let meta = Arc::new(ClientMeta::new(
        id,
        addr,
        laddr,
        fd,
        unix,
        unix_ms(),
        target,
    ));
    shared.register_client(meta.clone());
    verbose!("Accepted {}", meta.addr);
    Some((target, sock, meta))
}

/// A TLS client's socket, in the `tls-auth-clients` mode in force now;
/// None (the socket is dropped) when TLS is not configured or that mode
/// needs a CA that is not set.
fn tls_sock(shared: &crate::shared::Shared, tcp: mio::net::TcpStream) -> Option<Sock> {
    let auth = crate::tls::AuthClients::parse(
        &shared
            .config()
            .get_by_name("tls-auth-clients")
            .unwrap_or_default(),
    );
    let Some(tls) = shared.tls().and_then(|t| t.accept(auth)) else {
        warning!("Error accepting a client connection: TLS is not configured for tls-auth-clients; set tls-ca-cert-file or tls-ca-cert-dir");
        return None;
    };
    Some(Sock::Tls(Box::new(crate::tls::TlsStream::new(tcp, tls))))
}

/// The loop a new connection goes to: the next in turn, passing over loops
/// busy running a long script (all busy: the next in turn).
fn pick_loop(shared: &crate::shared::Shared, next_loop: &mut usize) -> usize {
    let n = shared.loop_stats.len();
    let busy = crate::script::busy::busy_count() != 0;
    let mut target = *next_loop % n;
    for _ in 0..n {
        target = *next_loop % n;
        *next_loop = next_loop.wrapping_add(1);
        if !busy || !crate::script::busy::loop_is_busy(target) {
            break;
        }
    }
    target
}

/// Hands the new connections waiting in loop `index`'s inbox (dealt to it
/// before its script became busy) to loops that are not busy.
pub(crate) fn redirect_pending(
    shared: &crate::shared::Shared,
    index: usize,
    next_loop: &mut usize,
) {
    let Some(loops) = shared.loops() else {
        return;
    };
    for (sock, meta) in loops[index].take_accepts() {
        let target = pick_loop(shared, next_loop);
        let moved = Arc::new(ClientMeta::new(
            meta.id,
            meta.addr.clone(),
            meta.laddr.clone(),
            meta.fd,
            meta.unix,
            meta.created_ms,
            target,
        ));
        shared.register_client(moved.clone());
        loops[target].send(LoopMsg::Accept(sock, moved));
    }
}

/// What loop 0 keeps to accept connections while it runs a long script:
/// the server, and its own descriptors of the listening sockets.
pub(crate) struct BusyAcceptor {
    shared: Arc<crate::shared::Shared>,
    tcp: Vec<std::net::TcpListener>,
    tls: Vec<std::net::TcpListener>,
    unix: Vec<(std::os::unix::net::UnixListener, std::path::PathBuf)>,
    next_loop: usize,
}

impl BusyAcceptor {
    /// Duplicates the listening sockets of `listeners` (the kernel's
    /// listening socket is shared; only the descriptor is new).
    pub(crate) fn new(
        shared: Arc<crate::shared::Shared>,
        listeners: &[Listener],
    ) -> io::Result<Self> {
        let mut tcp = Vec::new();
        let mut tls = Vec::new();
        let mut unix = Vec::new();
        for l in listeners {
            match l {
                Listener::Tcp(x) => {
                    let fd = rustix::io::dup(std::os::fd::AsFd::as_fd(x))?;
                    tcp.push(std::net::TcpListener::from(fd));
                }
                Listener::Unix(x, path) => {
                    let fd = rustix::io::dup(std::os::fd::AsFd::as_fd(x))?;
                    unix.push((std::os::unix::net::UnixListener::from(fd), path.clone()));
                }
                Listener::Tls(x) => {
                    let fd = rustix::io::dup(std::os::fd::AsFd::as_fd(x))?;
                    tls.push(std::net::TcpListener::from(fd));
                }
            }
        }
        Ok(BusyAcceptor {
            shared,
            tcp,
            tls,
            unix,
            next_loop: 1,
        })
    }

    /// Accepts what is waiting and deals it to loops not running a long
    /// script (the listeners are non-blocking: this never waits).
    pub(crate) fn accept_waiting(&mut self) {
        let shared = self.shared.clone();
        let stats = &shared.loop_stats[0];
        let mut admitted = Vec::new();
        for l in &self.tcp {
            while let Ok((s, peer)) = l.accept() {
                if s.set_nonblocking(true).is_err() {
                    continue;
                }
                let local = s.local_addr().map(|a| a.to_string()).unwrap_or_default();
                let sock = Sock::Tcp(mio::net::TcpStream::from_std(s));
                admitted.push((sock, (peer.to_string(), local, false, Some(peer.ip()))));
            }
        }
        for l in &self.tls {
            while let Ok((s, peer)) = l.accept() {
                if s.set_nonblocking(true).is_err() {
                    continue;
                }
                let local = s.local_addr().map(|a| a.to_string()).unwrap_or_default();
                let Some(sock) = tls_sock(&shared, mio::net::TcpStream::from_std(s)) else {
                    continue;
                };
                admitted.push((sock, (peer.to_string(), local, false, Some(peer.ip()))));
            }
        }
        for (l, path) in &self.unix {
            while let Ok((s, _)) = l.accept() {
                if s.set_nonblocking(true).is_err() {
                    continue;
                }
                let p = format!("{}:0", path.display());
                let sock = Sock::Unix(mio::net::UnixStream::from_std(s));
                admitted.push((sock, (p.clone(), p, true, None)));
            }
        }
        for (sock, peer) in admitted {
            if let Some((target, sock, meta)) =
                admit_to(&shared, stats, sock, peer, &mut self.next_loop)
            {
                if let Some(loops) = shared.loops() {
                    loops[target].send(LoopMsg::Accept(sock, meta));
                }
            }
        }
    }
}

/// What a client past `maxclients` is told before it is closed.
const MAXCLIENTS_ERROR: &[u8] = b"-ERR max number of clients reached\r\n";

/// True for "too many open files", in this process or in the system.
fn out_of_descriptors(e: &io::Error) -> bool {
    use rustix::io::Errno;
    matches!(Errno::from_io_error(e), Some(Errno::MFILE | Errno::NFILE))
}

/// What Redis replies to a non-loopback client in protected mode.
const PROTECTED_MODE_ERROR: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";
