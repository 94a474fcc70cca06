//! MIGRATE's connections to other servers (Redis's `migrateGetSocket`,
//! `migrateCloseSocket`, `migrateCloseTimedoutSockets` and the `syncio.c`
//! calls MIGRATE makes), kept apart from the command itself
//! (`cmd/migrate.rs`) so that the wire behaviour can be tested alone.
//!
//! A [`Target`] is one blocking TCP connection with Redis's timeouts: a
//! non-blocking connect that waits at most `timeout` ms for the socket to
//! become writable (and, as Redis, does not look at the connect's outcome:
//! a refused connection shows up as a failed write), writes in chunks of
//! 64 KB each bounded by `timeout`, and reads reply lines of at most 1023
//! bytes with `timeout` for each wait.
//!
//! [`Sockets`] is the cache of those connections by `host:port`, as Redis
//! keeps them: at most 64, each closed once unused for more than 10
//! seconds (by event loop 0's cron, once a second). A connection in use is
//! out of the cache: two loops migrating to the same target at once each
//! use their own connection, and the one put back last stays.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// Most cached connections (Redis's `MIGRATE_SOCKET_CACHE_ITEMS`).
pub const CACHE_ITEMS: usize = 64;
/// Seconds a cached connection may stay unused (Redis's
/// `MIGRATE_SOCKET_CACHE_TTL`): it is closed when idle for longer.
pub const CACHE_TTL_SECS: u64 = 10;
/// Bytes written per bounded write (Redis writes MIGRATE's commands in
/// 64 KB chunks, each with the full timeout).
const CHUNK: usize = 64 * 1024;
/// Redis reads each reply line into a 1024-byte buffer: at most 1023
/// bytes before the newline are read; the rest stays unread.
const LINE_MAX: usize = 1023;

/// How a connection attempt or an exchange failed.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Failure {
    /// The timeout passed (Redis's `ETIMEDOUT`): MIGRATE does not retry.
    TimedOut,
    /// Any other error, end of file included: MIGRATE retries once on a
    /// fresh connection when nothing was acknowledged yet.
    Broken,
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Failure::TimedOut,
            _ => Failure::Broken,
        }
    }
}

/// One connection to a target server.
#[derive(Debug)]
pub struct Target {
    stream: TcpStream,
    /// Bytes read but not consumed yet.
    input: Vec<u8>,
    /// The database the target has selected, -1 when unknown (a new
    /// connection, or after an error reply) so that SELECT is sent.
    pub last_dbid: i64,
    /// When it was last taken from the cache, Unix seconds.
    last_use: u64,
}

impl Target {
    /// Connects to `host:port` as Redis's `connBlockingConnect` does:
    /// `None` when the name does not resolve, every address refuses the
    /// `connect` call at once, or none becomes writable within `timeout`
    /// ms (MIGRATE replies "error or timeout connecting"). A connection
    /// that failed after `connect` returned is still returned, as in
    /// Redis; writing to it fails.
    pub fn connect(host: &[u8], port: u16, timeout_ms: u64) -> Option<Target> {
        let host = std::str::from_utf8(host).ok()?;
        let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs().ok()?.collect();
        let socket = addrs.iter().find_map(start_connect)?;
        if !wait_writable(&socket, deadline_after(timeout_ms)) {
            return None;
        }
        socket.set_nonblocking(false).ok()?;
        let stream: TcpStream = socket.into();
        let _ = stream.set_nodelay(true);
        Some(Target {
            stream,
            input: Vec::new(),
            last_dbid: -1,
            last_use: 0,
        })
    }

    /// Writes `buf` in 64 KB chunks, each within `timeout_ms`.
    pub fn write_all(&mut self, buf: &[u8], timeout_ms: u64) -> Result<(), Failure> {
        for chunk in buf.chunks(CHUNK) {
            let deadline = deadline_after(timeout_ms);
            let mut rest = chunk;
            while !rest.is_empty() {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Failure::TimedOut);
                }
                self.stream.set_write_timeout(Some(left))?;
                match self.stream.write(rest) {
                    Ok(0) => return Err(Failure::Broken),
                    Ok(n) => rest = &rest[n..],
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }

    /// Reads one reply line as Redis's `syncReadLine`: up to the newline
    /// (not included, a `\r` before it dropped) or 1023 bytes, each wait
    /// for more bytes bounded by `timeout_ms`. `Ok(None)` is what Redis
    /// takes as a failure too: a line that is just `\n`.
    pub fn read_line(&mut self, timeout_ms: u64) -> Result<Option<Vec<u8>>, Failure> {
        let mut line = Vec::new();
        let mut scanned = 0;
        loop {
            let avail = &self.input[scanned..];
            let room = LINE_MAX - line.len();
            let take = avail.len().min(room);
            if let Some(i) = avail[..take].iter().position(|&b| b == b'\n') {
                line.extend_from_slice(&avail[..i]);
                self.input.drain(..scanned + i + 1);
                if line.is_empty() {
                    return Ok(None);
                }
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(line));
            }
            line.extend_from_slice(&avail[..take]);
            scanned += take;
            if line.len() == LINE_MAX {
                self.input.drain(..scanned);
                return Ok(Some(line));
            }
            self.input.drain(..scanned);
            scanned = 0;
            self.fill(timeout_ms)?;
        }
    }

    /// Reads what has arrived, waiting at most `timeout_ms`.
    fn fill(&mut self, timeout_ms: u64) -> Result<(), Failure> {
        self.stream
            .set_read_timeout(Some(Duration::from_millis(timeout_ms.max(1))))?;
        let mut buf = [0u8; 4096];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return Err(Failure::Broken),
                Ok(n) => {
                    self.input.extend_from_slice(&buf[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// `timeout_ms` from now; a timeout too long for the clock is a deadline
/// a century away.
fn deadline_after(timeout_ms: u64) -> Instant {
    let now = Instant::now();
    now.checked_add(Duration::from_millis(timeout_ms))
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(now)
}

/// A non-blocking socket whose `connect` to `addr` did not fail at once.
fn start_connect(addr: &SocketAddr) -> Option<Socket> {
    let socket = Socket::new(
        Domain::for_address(*addr),
        Type::STREAM,
        Some(Protocol::TCP),
    )
    .ok()?;
    socket.set_nonblocking(true).ok()?;
    match socket.connect(&SockAddr::from(*addr)) {
        Ok(()) => Some(socket),
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error()) => {
            Some(socket)
        }
        Err(_) => None,
    }
}

/// Waits until `socket` is writable (or in error) or `deadline` passes.
fn wait_writable(socket: &Socket, deadline: Instant) -> bool {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let mut fds = [PollFd::new(socket, PollFlags::OUT)];
        let ts = Timespec {
            tv_sec: left.as_secs().min(i64::MAX as u64) as i64,
            tv_nsec: i64::from(left.subsec_nanos()),
        };
        match poll(&mut fds, Some(&ts)) {
            Ok(0) => return false,
            Ok(_) => return true,
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => return false,
        }
    }
}

/// The cache of MIGRATE connections by `host:port` (INFO's
/// `migrate_cached_sockets`).
#[derive(Debug, Default)]
pub struct Sockets {
    map: Mutex<HashMap<Vec<u8>, Target>>,
    /// How many are cached: the cron looks at the map only when some are.
    count: AtomicUsize,
}

/// The cache key of a target, as Redis spells it: `host:port` as given.
pub fn name(host: &[u8], port: &[u8]) -> Vec<u8> {
    let mut n = Vec::with_capacity(host.len() + 1 + port.len());
    n.extend_from_slice(host);
    n.push(b':');
    n.extend_from_slice(port);
    n
}

impl Sockets {
    /// Takes the cached connection named `name` out of the cache, marked
    /// as used at `now_secs`.
    pub fn take(&self, name: &[u8], now_secs: u64) -> Option<Target> {
        let mut map = self.lock();
        let t = map.remove(name);
        self.count.store(map.len(), Ordering::Relaxed);
        t.map(|mut t| {
            t.last_use = now_secs;
            t
        })
    }

    /// Puts a connection (back) in the cache; with 64 cached already,
    /// one of them is closed first, as Redis drops one at random.
    pub fn put(&self, name: Vec<u8>, mut target: Target, now_secs: u64) {
        if target.last_use == 0 {
            target.last_use = now_secs;
        }
        let mut map = self.lock();
        if !map.contains_key(&name) && map.len() >= CACHE_ITEMS {
            let victim = map.keys().next().cloned();
            if let Some(v) = victim {
                map.remove(&v);
            }
        }
        map.insert(name, target);
        self.count.store(map.len(), Ordering::Relaxed);
    }

    /// Closes the connections unused for more than
    /// [`CACHE_TTL_SECS`] at `now_secs`.
    pub fn close_idle(&self, now_secs: u64) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut map = self.lock();
        map.retain(|_, t| now_secs.saturating_sub(t.last_use) <= CACHE_TTL_SECS);
        self.count.store(map.len(), Ordering::Relaxed);
    }

    /// How many connections are cached.
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// True when none is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Target>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn pair() -> (Target, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = Target::connect(b"127.0.0.1", port, 1000).unwrap();
        let (peer, _) = l.accept().unwrap();
        (t, peer)
    }

    #[test]
    fn read_line_strips_crlf_and_keeps_what_follows() {
        let (mut t, mut peer) = pair();
        peer.write_all(b"+OK\r\n-ERR bad\r\n").unwrap();
        assert_eq!(t.read_line(1000), Ok(Some(b"+OK".to_vec())));
        assert_eq!(t.read_line(1000), Ok(Some(b"-ERR bad".to_vec())));
    }

    #[test]
    fn read_line_stops_at_1023_bytes_as_redis() {
        let (mut t, mut peer) = pair();
        let mut long = vec![b'x'; 1500];
        long.extend_from_slice(b"\r\n+OK\r\n");
        peer.write_all(&long).unwrap();
        assert_eq!(t.read_line(1000).unwrap().unwrap().len(), 1023);
        assert_eq!(t.read_line(1000).unwrap().unwrap().len(), 1500 - 1023);
        assert_eq!(t.read_line(1000), Ok(Some(b"+OK".to_vec())));
    }

    #[test]
    fn a_bare_newline_is_a_failed_read() {
        let (mut t, mut peer) = pair();
        peer.write_all(b"\n").unwrap();
        assert_eq!(t.read_line(1000), Ok(None));
    }

    #[test]
    fn silence_times_out_and_end_of_file_is_broken() {
        let (mut t, peer) = pair();
        let start = Instant::now();
        assert_eq!(t.read_line(50), Err(Failure::TimedOut));
        assert!(start.elapsed() < Duration::from_secs(5));
        drop(peer);
        assert_eq!(t.read_line(1000), Err(Failure::Broken));
    }

    #[test]
    fn unresolvable_names_do_not_connect() {
        assert!(Target::connect(b"", 6379, 100).is_none());
        assert!(Target::connect(b"no.such.host.invalid", 6379, 100).is_none());
    }

    #[test]
    fn a_refused_connection_fails_on_write_as_in_redis() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut t = Target::connect(b"127.0.0.1", port, 1000).expect("connect returns");
        assert_eq!(t.write_all(b"PING\r\n", 1000), Err(Failure::Broken));
    }

    #[test]
    fn cache_closes_idle_connections_and_caps_its_size() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let cache = Sockets::default();
        for i in 0..CACHE_ITEMS + 3 {
            let t = Target::connect(b"127.0.0.1", port, 1000).unwrap();
            cache.put(format!("h{i}:1").into_bytes(), t, 100);
        }
        assert_eq!(cache.len(), CACHE_ITEMS);
        let t = cache.take(b"h66:1", 105).expect("the last one is kept");
        cache.put(b"h66:1".to_vec(), t, 105);
        cache.close_idle(110);
        assert_eq!(cache.len(), CACHE_ITEMS);
        cache.close_idle(111);
        assert_eq!(cache.len(), 1, "only the one used at 105 is left");
        cache.close_idle(116);
        assert!(cache.is_empty());
    }
}
