//! Pub/sub fan-out and blocking-list wake-ups: soquete-server (release,
//! `--threads 2`) against real redis-server, both started by this bench on
//! ephemeral loopback ports, measured in the same run.
//!
//! * `pubsub_fanout/latency-100subs/{redis,soquete}`: one PUBLISH to a
//!   channel with 100 subscribers (each on its own connection; soquete deals
//!   them over its event loops); the time until the last subscriber has the
//!   whole message.
//! * `pubsub_fanout/throughput-100subs/{redis,soquete}`: 32 pipelined
//!   PUBLISHes, until every subscriber has all 32; criterion's elements/s is
//!   deliveries per second.
//! * `blocking/blpop-lpush-pingpong/{redis,soquete}`: two clients bounce an
//!   element over two lists, each blocked in BLPOP while the other LPUSHes
//!   (`LPUSH ping x` + `BLPOP pong 0` in one write, and the mirror image):
//!   one iteration is a round trip, i.e. two wake-ups of a blocked client.
//!
//! After criterion (in bench mode only), the same three workloads run again
//! in interleaved rounds — redis, soquete, soquete, redis, ... — and the
//! medians and the median of per-round ratios are printed, since the
//! machine's load drifts between criterion's long back-to-back runs.
//!
//! Run: `cargo bench -p soquete-benches --bench pubsub`
//! (`SOQUETE_BENCH_QUICK=1` for a short smoke run).
//!
//! Clients are plain sockets: every reply and message has a known exact
//! length (the same from both servers), so a client only counts bytes, and
//! one thread watches all subscribers with `poll(2)`.

use std::hint::black_box;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use soquete_benches::quick;
use soquete_testkit::{ServerKind, ServerProcess};

const SUBSCRIBERS: usize = 100;
const BATCH: usize = 32;
const CHANNEL: &str = "fan";
const PAYLOAD: &[u8] = b"0123456789abcdef0123456789abcdef";
/// soquete's arguments: two event loops, as many as the machine has cores.
const SOQUETE_ARGS: [&str; 2] = ["--threads", "2"];
/// How long any read may wait before the bench fails instead of hanging.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A command as RESP.
fn resp(args: &[&[u8]]) -> Vec<u8> {
    soquete_testkit::conn::command_bytes(args)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).expect("TCP_NODELAY");
    s.set_read_timeout(Some(READ_TIMEOUT))
        .expect("read timeout");
    s
}

/// Reads exactly `want` and checks it.
fn expect(s: &mut TcpStream, want: &[u8]) {
    let mut got = vec![0; want.len()];
    s.read_exact(&mut got).expect("reading a reply");
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(want),
        "unexpected reply"
    );
}

/// One server and its clients for the fan-out.
struct Fanout {
    publisher: TcpStream,
    subscribers: Vec<TcpStream>,
    /// `PUBLISH` once, and `BATCH` times.
    one: Vec<u8>,
    batch: Vec<u8>,
    /// The publisher's reply to one PUBLISH (`:100`).
    reply: Vec<u8>,
    /// The bytes of one message as a subscriber receives it.
    message_len: usize,
    buf: Vec<u8>,
}

impl Fanout {
    fn new(addr: SocketAddr) -> Fanout {
        let confirm = resp(&[b"subscribe", CHANNEL.as_bytes()]);
        let subscribers = (0..SUBSCRIBERS)
            .map(|_| {
                let mut s = connect(addr);
                s.write_all(&resp(&[b"SUBSCRIBE", CHANNEL.as_bytes()]))
                    .expect("SUBSCRIBE");
                // `*3 subscribe fan :1`: the two bulks, then the count.
                let mut want = confirm.clone();
                want[1] = b'3';
                want.extend_from_slice(b":1\r\n");
                expect(&mut s, &want);
                s.set_nonblocking(true).expect("non-blocking");
                s
            })
            .collect();
        let one = resp(&[b"PUBLISH", CHANNEL.as_bytes(), PAYLOAD]);
        let message_len = resp(&[b"message", CHANNEL.as_bytes(), PAYLOAD]).len();
        Fanout {
            publisher: connect(addr),
            subscribers,
            batch: one.repeat(BATCH),
            one,
            reply: format!(":{SUBSCRIBERS}\r\n").into_bytes(),
            message_len,
            buf: vec![0; 64 * 1024],
        }
    }

    /// Publishes `n` messages (1 or `BATCH`) and waits until every
    /// subscriber has all of them.
    fn round(&mut self, n: usize) {
        let cmd = if n == 1 { &self.one } else { &self.batch };
        self.publisher.write_all(cmd).expect("PUBLISH");
        let mut left: Vec<usize> = vec![n * self.message_len; SUBSCRIBERS];
        let mut waiting = SUBSCRIBERS;
        let mut fds: Vec<libc::pollfd> = Vec::with_capacity(SUBSCRIBERS);
        let mut which: Vec<usize> = Vec::with_capacity(SUBSCRIBERS);
        while waiting > 0 {
            fds.clear();
            which.clear();
            for (i, s) in self.subscribers.iter().enumerate() {
                if left[i] > 0 {
                    fds.push(libc::pollfd {
                        fd: s.as_raw_fd(),
                        events: libc::POLLIN,
                        revents: 0,
                    });
                    which.push(i);
                }
            }
            // SAFETY: `fds` is a valid, initialised array of `fds.len()`
            // pollfd structs that outlives the call; poll only writes
            // their `revents`.
            let ready = unsafe {
                libc::poll(
                    fds.as_mut_ptr(),
                    fds.len() as libc::nfds_t,
                    READ_TIMEOUT.as_millis() as libc::c_int,
                )
            };
            assert!(ready > 0, "subscribers got nothing for {READ_TIMEOUT:?}");
            for (fd, &i) in fds.iter().zip(&which) {
                if fd.revents == 0 {
                    continue;
                }
                loop {
                    match self.subscribers[i].read(&mut self.buf) {
                        Ok(0) => panic!("the server closed subscriber {i}"),
                        Ok(got) => {
                            assert!(got <= left[i], "subscriber {i} got more than published");
                            left[i] -= got;
                            if left[i] == 0 {
                                waiting -= 1;
                                break;
                            }
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => panic!("subscriber {i}: {e}"),
                    }
                }
            }
        }
        let mut replies = vec![0; n * self.reply.len()];
        self.publisher
            .read_exact(&mut replies)
            .expect("PUBLISH replies");
        assert!(
            replies.chunks(self.reply.len()).all(|r| r == self.reply),
            "PUBLISH counted other than {SUBSCRIBERS} receivers"
        );
        black_box(&replies);
    }
}

/// Two clients bouncing an element through `ping` and `pong` with BLPOP.
struct PingPong {
    /// The measuring side: `LPUSH ping x` + `BLPOP pong 0`.
    driver: TcpStream,
    /// The other side, on its own thread.
    echo: Option<thread::JoinHandle<()>>,
}

const PONG_REPLY: &[u8] = b":1\r\n*2\r\n$4\r\npong\r\n$1\r\nx\r\n";

impl PingPong {
    fn new(addr: SocketAddr) -> PingPong {
        let mut echo = connect(addr);
        echo.write_all(b"DEL ping pong\r\n").expect("DEL");
        let mut r = [0u8; 4];
        echo.read_exact(&mut r).expect("DEL reply");
        // The echo side blocks on `ping`; each element it gets is pushed
        // back on `pong`, and it blocks again in the same write. "stop"
        // ends it.
        echo.write_all(b"BLPOP ping 0\r\n").expect("BLPOP");
        let handle = thread::spawn(move || {
            echo.set_read_timeout(None)
                .expect("no timeout: it waits for the bench");
            let mut buf = [0u8; 64];
            loop {
                // `*2 $4 ping $N element`
                let head = b"*2\r\n$4\r\nping\r\n$1\r\n";
                echo.read_exact(&mut buf[..head.len() + 3])
                    .expect("BLPOP reply");
                if &buf[..head.len()] != head {
                    return; // "stop": `$4\r\nstop`, not a one-byte element
                }
                echo.write_all(b"*3\r\n$5\r\nLPUSH\r\n$4\r\npong\r\n$1\r\nx\r\n*3\r\n$5\r\nBLPOP\r\n$4\r\nping\r\n$1\r\n0\r\n")
                    .expect("LPUSH pong");
                echo.read_exact(&mut buf[..4]).expect("LPUSH reply");
            }
        });
        PingPong {
            driver: connect(addr),
            echo: Some(handle),
        }
    }

    /// One round trip: two blocked clients woken.
    fn round(&mut self) {
        self.driver
            .write_all(b"*3\r\n$5\r\nLPUSH\r\n$4\r\nping\r\n$1\r\nx\r\n*3\r\n$5\r\nBLPOP\r\n$4\r\npong\r\n$1\r\n0\r\n")
            .expect("LPUSH ping");
        let mut got = [0u8; PONG_REPLY.len()];
        self.driver.read_exact(&mut got).expect("pong");
        assert_eq!(&got[..], PONG_REPLY);
    }
}

impl Drop for PingPong {
    fn drop(&mut self) {
        let _ = self.driver.write_all(b"LPUSH ping stop\r\n");
        if let Some(h) = self.echo.take() {
            let _ = h.join();
        }
    }
}

/// A server and its clients (dropped first: fields drop in order).
struct Side {
    name: &'static str,
    fanout: Fanout,
    pingpong: PingPong,
    _server: ServerProcess,
}

impl Side {
    fn start(kind: ServerKind) -> Side {
        let server = match kind {
            ServerKind::Soquete => ServerProcess::builder(kind).args(SOQUETE_ARGS).start(),
            _ => ServerProcess::builder(kind).start(),
        };
        let addr = server.addr();
        Side {
            name: kind.name(),
            fanout: Fanout::new(addr),
            pingpong: PingPong::new(addr),
            _server: server,
        }
    }

    /// Runs `iters` iterations of workload `w`; returns the time taken.
    fn run(&mut self, w: Workload, iters: u64) -> Duration {
        let t0 = Instant::now();
        for _ in 0..iters {
            match w {
                Workload::FanoutLatency => self.fanout.round(1),
                Workload::FanoutThroughput => self.fanout.round(BATCH),
                Workload::PingPong => self.pingpong.round(),
            }
        }
        t0.elapsed()
    }
}

#[derive(Clone, Copy)]
enum Workload {
    FanoutLatency,
    FanoutThroughput,
    PingPong,
}

impl Workload {
    const ALL: [Workload; 3] = [
        Workload::FanoutLatency,
        Workload::FanoutThroughput,
        Workload::PingPong,
    ];

    fn group(self) -> &'static str {
        match self {
            Workload::PingPong => "blocking",
            _ => "pubsub_fanout",
        }
    }

    fn id(self) -> &'static str {
        match self {
            Workload::FanoutLatency => "latency-100subs",
            Workload::FanoutThroughput => "throughput-100subs",
            Workload::PingPong => "blpop-lpush-pingpong",
        }
    }

    /// Deliveries (fan-out) or round trips per iteration.
    fn elements(self) -> u64 {
        match self {
            Workload::FanoutLatency => SUBSCRIBERS as u64,
            Workload::FanoutThroughput => (SUBSCRIBERS * BATCH) as u64,
            Workload::PingPong => 1,
        }
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Interleaved rounds outside criterion: medians and the median per-round
/// ratio for each workload.
fn interleaved(sides: &mut [Side; 2]) {
    let rounds = if quick() { 5 } else { 21 };
    let per_round = Duration::from_millis(if quick() { 100 } else { 300 });
    eprintln!(
        "\npub/sub and blocking: soquete-server {} vs redis-server, {rounds} interleaved rounds of ~{per_round:?} each, medians",
        SOQUETE_ARGS.join(" ")
    );
    eprintln!("command: cargo bench -p soquete-benches --bench pubsub");
    for w in Workload::ALL {
        // Iterations per round, sized from a short calibration on redis.
        let t = sides[0].run(w, 20);
        let iters = ((per_round.as_secs_f64() / (t.as_secs_f64() / 20.0)) as u64).clamp(5, 200_000);
        let mut per_op: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        let mut ratios = Vec::new();
        for round in 0..rounds {
            let mut this = [0.0; 2];
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for i in order {
                let d = sides[i].run(w, iters);
                this[i] = d.as_secs_f64() / iters as f64;
                per_op[i].push(this[i]);
            }
            ratios.push(this[1] / this[0]);
        }
        let redis = median(&mut per_op[0]);
        let ours = median(&mut per_op[1]);
        let ratio = median(&mut ratios);
        let rate = |secs: f64| w.elements() as f64 / secs;
        let what = match w {
            Workload::PingPong => "round trips/s",
            _ => "deliveries/s",
        };
        eprintln!(
            "  {:<36} redis {:>9.1} us  {:>11.0} {what}   soquete {:>9.1} us  {:>11.0} {what}   time ratio soquete/redis {:.2} (speed x{:.2})",
            format!("{}/{}", w.group(), w.id()),
            redis * 1e6,
            rate(redis),
            ours * 1e6,
            rate(ours),
            ratio,
            1.0 / ratio
        );
    }
}

/// Bench mode (`cargo bench`), not `cargo test`'s single pass.
fn bench_mode() -> bool {
    std::env::args().skip(1).any(|a| a == "--bench")
}

fn benches(c: &mut Criterion) {
    let mut sides = [
        Side::start(ServerKind::Redis),
        Side::start(ServerKind::Soquete),
    ];
    for w in Workload::ALL {
        let mut g = c.benchmark_group(w.group());
        g.throughput(Throughput::Elements(w.elements()));
        for side in sides.iter_mut() {
            let name = side.name;
            g.bench_function(BenchmarkId::new(w.id(), name), |b| {
                b.iter_custom(|iters| side.run(w, iters))
            });
        }
        g.finish();
    }
    if bench_mode() {
        interleaved(&mut sides);
    }
}

criterion_group! {
    name = pubsub;
    config = soquete_benches::criterion_config();
    targets = benches
}
criterion_main!(pubsub);
