//! The load generator: one thread, one `mio` poll, N pipelined connections.
//!
//! Every connection runs a closed loop: write a batch of `depth` requests in
//! one `write`, read until all `depth` replies are in, send the next batch.
//! Requests come from a pre-encoded [`Workload`] (a ring of requests built
//! once, before the clock starts), so the generator's work per request is a
//! slice, a `write` share, a reply scan and a histogram increment. That keeps
//! it lean on a 2-core machine where it competes with the server under test.
//!
//! # Measurement
//!
//! A run is warm-up, then a measured window, then a drain (no new batches,
//! wait for the replies in flight). Only replies read inside the window
//! count. At the window's edges the generator samples the server's CPU time
//! (user + system, all threads: [`process_cpu`]) and its own thread's
//! CPU time, so [`LoadResult`] carries throughput, server CPU per request,
//! and how busy the generator itself was.
//!
//! **Latency is per request**, as `redis-benchmark` defines it: from the
//! moment its batch started to be written to the `read` that completed its
//! reply. At depth 1 that is the round trip; at depth 64 every request of a
//! batch carries the batch's queueing.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream as StdStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::hist::Histogram;
use crate::reply::{scan, Scan};

/// A ring of pre-encoded requests: request `i` is
/// `bytes[offsets[i]..offsets[i + 1]]`.
#[derive(Clone, Debug)]
pub struct Workload {
    bytes: Vec<u8>,
    offsets: Vec<usize>,
}

impl Workload {
    /// Builds `count` requests; `encode(i, out)` appends request `i` to `out`.
    pub fn build(count: usize, mut encode: impl FnMut(usize, &mut Vec<u8>)) -> Workload {
        let mut bytes = Vec::new();
        let mut offsets = Vec::with_capacity(count + 1);
        offsets.push(0);
        for i in 0..count {
            encode(i, &mut bytes);
            offsets.push(bytes.len());
        }
        Workload { bytes, offsets }
    }

    /// How many requests the ring holds.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether the ring is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total encoded size in bytes.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Request `i` as sent on the wire.
    pub fn request(&self, i: usize) -> &[u8] {
        &self.bytes[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Byte range of the `depth` requests from `start`.
    fn range(&self, start: usize, depth: usize) -> (usize, usize) {
        (self.offsets[start], self.offsets[start + depth])
    }
}

/// How to run one load.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// Server address.
    pub addr: SocketAddr,
    /// The server's process id, for its CPU time.
    pub server_pid: u32,
    /// Connections, all driven by the one generator thread.
    pub connections: usize,
    /// Requests per batch (pipeline depth).
    pub depth: usize,
    /// Load before the measured window.
    pub warmup: Duration,
    /// The measured window.
    pub measure: Duration,
    /// How long the drain may take before the run fails.
    pub drain_timeout: Duration,
}

/// What one run measured.
#[derive(Clone, Debug)]
pub struct LoadResult {
    /// Replies read inside the window.
    pub requests: u64,
    /// The window's actual length.
    pub elapsed: Duration,
    /// Server CPU time (user + system, all threads) over the window.
    pub server_cpu: Duration,
    /// The generator thread's CPU time over the window.
    pub client_cpu: Duration,
    /// Per-request latency in nanoseconds (see the module docs).
    pub latency: Histogram,
    /// Error replies during the whole run.
    pub errors: u64,
    /// The first error reply, if any.
    pub first_error: Option<String>,
}

impl LoadResult {
    /// Requests per second over the window.
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// Server CPU nanoseconds per request.
    pub fn server_cpu_per_request_ns(&self) -> f64 {
        self.server_cpu.as_nanos() as f64 / self.requests.max(1) as f64
    }

    /// Fraction of one core the generator used (near 1.0: it may be the bottleneck).
    pub fn client_busy(&self) -> f64 {
        self.client_cpu.as_secs_f64() / self.elapsed.as_secs_f64()
    }

    /// Latency quantile in microseconds.
    pub fn latency_us(&self, q: f64) -> f64 {
        self.latency.quantile(q).unwrap_or(0) as f64 / 1000.0
    }
}

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    filled: usize,
    /// Bytes of the current batch still to write (a range of the workload).
    out: (usize, usize),
    /// Replies still expected for the current batch.
    pending: usize,
    sent_at: Instant,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Warmup,
    Measure,
    Drain,
}

/// A measured window that another thread ends: for loads that must cover
/// an event of unknown length (a background save), not a fixed time.
#[derive(Debug, Default)]
pub struct Window {
    measuring: AtomicBool,
    stop: AtomicBool,
}

impl Window {
    /// A window not yet open.
    pub fn new() -> Window {
        Window::default()
    }

    /// Whether the warm-up is over and replies now count.
    pub fn measuring(&self) -> bool {
        self.measuring.load(Ordering::Acquire)
    }

    /// Closes the window (at the latest [`LoadConfig::measure`] after it
    /// opened, it closes by itself).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }
}

/// How often a generator with a [`Window`] looks at its stop flag.
const WINDOW_POLL: Duration = Duration::from_millis(2);

/// Runs `workload` against the server in `cfg` and returns what it measured.
///
/// Fails on I/O errors, on a reply that is not RESP, when the server closes a
/// connection, or when the drain does not finish in time. Error replies do
/// not fail the run: they are counted in [`LoadResult::errors`].
pub fn run(workload: &Workload, cfg: &LoadConfig) -> io::Result<LoadResult> {
    run_in(workload, cfg, None)
}

/// Like [`run`], but the measured window opens after the warm-up (then
/// [`Window::measuring`] turns true) and closes when [`Window::stop`] is
/// called, or after `cfg.measure` at the latest.
pub fn run_window(
    workload: &Workload,
    cfg: &LoadConfig,
    window: &Window,
) -> io::Result<LoadResult> {
    run_in(workload, cfg, Some(window))
}

fn run_in(
    workload: &Workload,
    cfg: &LoadConfig,
    window: Option<&Window>,
) -> io::Result<LoadResult> {
    assert!(cfg.connections > 0 && cfg.depth > 0);
    assert!(
        workload.len() >= cfg.depth,
        "a workload of {} requests cannot fill a batch of {}",
        workload.len(),
        cfg.depth
    );
    let mut poll = Poll::new()?;
    let mut conns = Vec::with_capacity(cfg.connections);
    for i in 0..cfg.connections {
        let s = StdStream::connect(cfg.addr)?;
        s.set_nodelay(true)?;
        s.set_nonblocking(true)?;
        let mut stream = TcpStream::from_std(s);
        poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        conns.push(Conn {
            stream,
            buf: vec![0; 64 * 1024],
            filled: 0,
            out: (0, 0),
            pending: 0,
            sent_at: Instant::now(),
        });
    }

    let mut st = State {
        workload,
        depth: cfg.depth,
        next: 0,
        phase: Phase::Warmup,
        requests: 0,
        latency: Histogram::new(),
        errors: 0,
        first_error: None,
    };
    let start = Instant::now();
    for c in &mut conns {
        st.issue(c)?;
    }
    let mut events = Events::with_capacity(1024);
    let warm_end = start + cfg.warmup;
    let mut t0 = warm_end;
    let mut t1 = warm_end + cfg.measure;
    let mut drain_deadline = t1 + cfg.drain_timeout;
    let (mut server0, mut server1, mut client0, mut client1) = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    loop {
        let now = Instant::now();
        let wake = match st.phase {
            Phase::Warmup => warm_end,
            Phase::Measure => t1,
            Phase::Drain => drain_deadline,
        };
        let mut timeout = wake.saturating_duration_since(now);
        if window.is_some() && st.phase == Phase::Measure {
            timeout = timeout.min(WINDOW_POLL);
        }
        poll.poll(&mut events, Some(timeout))?;
        let now = Instant::now();
        if st.phase == Phase::Warmup && now >= warm_end {
            server0 = process_cpu(cfg.server_pid)?;
            client0 = thread_cpu();
            t0 = Instant::now();
            t1 = t0 + cfg.measure;
            st.phase = Phase::Measure;
            if let Some(w) = window {
                w.measuring.store(true, Ordering::Release);
            }
        }
        let stopped = st.phase == Phase::Measure && window.is_some_and(Window::stopped);
        if st.phase == Phase::Measure && (now >= t1 || stopped) {
            server1 = process_cpu(cfg.server_pid)?;
            client1 = thread_cpu();
            t1 = Instant::now();
            drain_deadline = t1 + cfg.drain_timeout;
            st.phase = Phase::Drain;
        }
        for ev in events.iter() {
            let c = &mut conns[ev.token().0];
            if ev.is_writable() {
                st.flush(c)?;
            }
            if ev.is_readable() || ev.is_read_closed() {
                st.read(c)?;
            }
        }
        if st.phase == Phase::Drain {
            if conns.iter().all(|c| c.pending == 0) {
                break;
            }
            if Instant::now() >= drain_deadline {
                return Err(io::Error::new(
                    ErrorKind::TimedOut,
                    format!(
                        "{} replies still missing {:?} after the window closed",
                        conns.iter().map(|c| c.pending).sum::<usize>(),
                        cfg.drain_timeout
                    ),
                ));
            }
        }
    }
    Ok(LoadResult {
        requests: st.requests,
        elapsed: t1 - t0,
        server_cpu: server1.saturating_sub(server0),
        client_cpu: client1.saturating_sub(client0),
        latency: st.latency,
        errors: st.errors,
        first_error: st.first_error,
    })
}

struct State<'a> {
    workload: &'a Workload,
    depth: usize,
    /// The ring position of the next batch.
    next: usize,
    phase: Phase,
    requests: u64,
    latency: Histogram,
    errors: u64,
    first_error: Option<String>,
}

impl State<'_> {
    /// Starts the next batch on `c`, unless the run is draining.
    fn issue(&mut self, c: &mut Conn) -> io::Result<()> {
        if self.phase == Phase::Drain {
            return Ok(());
        }
        if self.next + self.depth > self.workload.len() {
            self.next = 0;
        }
        c.out = self.workload.range(self.next, self.depth);
        self.next += self.depth;
        c.pending = self.depth;
        c.sent_at = Instant::now();
        self.flush(c)
    }

    /// Writes what the socket takes of the current batch.
    fn flush(&mut self, c: &mut Conn) -> io::Result<()> {
        while c.out.0 < c.out.1 {
            match c.stream.write(&self.workload.bytes[c.out.0..c.out.1]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => c.out.0 += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads until the socket is empty, counting complete replies; starts the
    /// next batch when the current one is answered.
    fn read(&mut self, c: &mut Conn) -> io::Result<()> {
        loop {
            if c.filled == c.buf.len() {
                // A single reply larger than the buffer.
                c.buf.resize(c.buf.len() * 2, 0);
            }
            let n = match c.stream.read(&mut c.buf[c.filled..]) {
                Ok(0) => {
                    return Err(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        "the server closed a connection",
                    ))
                }
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            c.filled += n;
            let now = Instant::now();
            let mut pos = 0;
            loop {
                match scan(&c.buf[pos..c.filled]) {
                    Scan::Complete { len, error } => {
                        if error {
                            self.errors += 1;
                            if self.first_error.is_none() {
                                let text = &c.buf[pos..pos + len.min(200)];
                                self.first_error =
                                    Some(String::from_utf8_lossy(text).trim_end().to_owned());
                            }
                        }
                        pos += len;
                        if c.pending == 0 {
                            return Err(io::Error::new(
                                ErrorKind::InvalidData,
                                "a reply arrived with no request in flight",
                            ));
                        }
                        c.pending -= 1;
                        if self.phase == Phase::Measure {
                            self.requests += 1;
                            self.latency.record((now - c.sent_at).as_nanos() as u64);
                        }
                    }
                    Scan::Incomplete => break,
                    Scan::Invalid => {
                        let text = &c.buf[pos..c.filled.min(pos + 64)];
                        return Err(io::Error::new(
                            ErrorKind::InvalidData,
                            format!("not a RESP reply: {:?}", String::from_utf8_lossy(text)),
                        ));
                    }
                }
            }
            c.buf.copy_within(pos..c.filled, 0);
            c.filled -= pos;
            if c.pending == 0 {
                self.issue(c)?;
            }
        }
    }
}

/// Sends `count` requests (`encode(i, out)` appends request `i`) on one
/// blocking connection, pipelined in batches of up to 1,000 requests or
/// 256 KiB, and waits for every reply. Fails on the first error reply.
///
/// For loading data, not for measuring: replies are expected to be small
/// (`+OK`, integers), so a batch's replies always fit the socket buffers.
pub fn fill(
    addr: SocketAddr,
    count: usize,
    mut encode: impl FnMut(usize, &mut Vec<u8>),
) -> io::Result<()> {
    let mut s = StdStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut out = Vec::with_capacity(512 * 1024);
    let mut buf = vec![0u8; 64 * 1024];
    let mut filled = 0;
    let mut i = 0;
    while i < count {
        out.clear();
        let mut batch = 0;
        while i < count && batch < 1000 && out.len() < 256 * 1024 {
            encode(i, &mut out);
            i += 1;
            batch += 1;
        }
        s.write_all(&out)?;
        while batch > 0 {
            let mut pos = 0;
            loop {
                match scan(&buf[pos..filled]) {
                    Scan::Complete { len, error } => {
                        if error {
                            let text = String::from_utf8_lossy(&buf[pos..pos + len]);
                            return Err(io::Error::other(format!(
                                "error reply while loading: {}",
                                text.trim_end()
                            )));
                        }
                        pos += len;
                        batch -= 1;
                        if batch == 0 {
                            break;
                        }
                    }
                    Scan::Incomplete => break,
                    Scan::Invalid => {
                        return Err(io::Error::new(ErrorKind::InvalidData, "not a RESP reply"))
                    }
                }
            }
            buf.copy_within(pos..filled, 0);
            filled -= pos;
            if batch == 0 {
                break;
            }
            if filled == buf.len() {
                buf.resize(buf.len() * 2, 0);
            }
            match s.read(&mut buf[filled..])? {
                0 => return Err(ErrorKind::UnexpectedEof.into()),
                n => filled += n,
            }
        }
    }
    Ok(())
}

/// CPU time (user + system, all threads) that process `pid` has used, at
/// nanosecond resolution: the kernel's process CPU clock
/// (`clock_getcpuclockid`), the exact sum that `/proc/<pid>/stat` reports as
/// `utime + stime` in 10 ms ticks. Falls back to those ticks if the clock is
/// unavailable.
pub fn process_cpu(pid: u32) -> io::Result<Duration> {
    let Ok(id) = libc::pid_t::try_from(pid) else {
        return soquete_testkit::procfs::cpu_time(pid);
    };
    let mut clock: libc::clockid_t = 0;
    // SAFETY: `clock` is a valid, writable clockid_t; the call only writes it.
    if unsafe { libc::clock_getcpuclockid(id, &mut clock) } != 0 {
        return soquete_testkit::procfs::cpu_time(pid);
    }
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes it.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return soquete_testkit::procfs::cpu_time(pid);
    }
    Ok(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// CPU time (user + system) of the calling thread.
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and the clock id is supported
    // on Linux; the call writes only `ts`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    #[test]
    fn process_cpu_agrees_with_proc_stat_ticks() {
        let pid = std::process::id();
        // Burn 30 ms of this thread's CPU (bounded in wall time: the machine may be busy).
        let start = Instant::now();
        let mut x = 0u64;
        while thread_cpu() < Duration::from_millis(30) && start.elapsed() < Duration::from_secs(10)
        {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        let own = thread_cpu();
        let precise = process_cpu(pid).unwrap();
        let ticks = soquete_testkit::procfs::cpu_time(pid).unwrap();
        // The process clock includes this thread's time.
        assert!(precise >= own, "{precise:?} < {own:?}");
        // Ticks round down per thread, so they trail the precise clock a little.
        assert!(
            precise + Duration::from_millis(100) >= ticks,
            "{precise:?} vs {ticks:?}"
        );
    }

    #[test]
    fn workload_ring_slices_requests_in_order() {
        let w = Workload::build(3, |i, out| {
            out.extend_from_slice(format!("r{i};").as_bytes())
        });
        assert_eq!(w.len(), 3);
        assert_eq!(w.request(1), b"r1;");
        assert_eq!(w.range(1, 2), (3, 9));
        assert_eq!(w.byte_len(), 9);
    }

    /// A fake server that answers `+OK` to every line, so the generator's
    /// accounting can be checked without a real server.
    #[test]
    fn counts_every_reply_and_each_error_once() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let mut handles = Vec::new();
            for _ in 0..3 {
                let (mut s, _) = listener.accept().unwrap();
                handles.push(thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let mut carry = Vec::new();
                    loop {
                        let n = match s.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        carry.extend_from_slice(&buf[..n]);
                        let mut out = Vec::new();
                        while let Some(i) = carry.iter().position(|&b| b == b'\n') {
                            let line: Vec<u8> = carry.drain(..=i).collect();
                            out.extend_from_slice(if line.starts_with(b"BAD") {
                                b"-ERR bad\r\n"
                            } else {
                                b"+OK\r\n"
                            });
                        }
                        if s.write_all(&out).is_err() {
                            return;
                        }
                    }
                }));
            }
            for h in handles {
                h.join().unwrap();
            }
        });
        let w = Workload::build(8, |i, out| {
            out.extend_from_slice(if i == 5 { b"BAD\r\n" } else { b"PING\r\n" })
        });
        let cfg = LoadConfig {
            addr,
            server_pid: std::process::id(),
            connections: 3,
            depth: 4,
            warmup: Duration::from_millis(20),
            measure: Duration::from_millis(100),
            drain_timeout: Duration::from_secs(5),
        };
        let r = run(&w, &cfg).unwrap();
        assert!(r.requests > 0);
        assert_eq!(r.latency.len(), r.requests);
        assert!(r.errors > 0, "request 5 answers an error");
        assert_eq!(r.first_error.as_deref(), Some("-ERR bad"));
        assert!(r.rps() > 0.0 && r.latency_us(0.99) >= r.latency_us(0.5));
        server.join().unwrap();
    }
}
