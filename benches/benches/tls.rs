//! SET and GET over TLS: soquete-server against real `redis-server`, same
//! machine, same run, same certificates.
//!
//! ```sh
//! cargo bench -p soquete-benches --bench tls              # 3 rounds
//! SOQUETE_BENCH_ROUNDS=1 SOQUETE_BENCH_REQUESTS=2000 \
//!     cargo bench -p soquete-benches --bench tls          # a smoke run
//! ```
//!
//! A CA, a server certificate (127.0.0.1, localhost) and a client
//! certificate are made with rcgen in a temporary directory; both servers
//! get `--tls-port` with them (`tls-auth-clients yes`, the default, so the
//! client certificate is checked). `redis-benchmark --tls --cacert ...
//! --cert ... --key ... -t set,get -c 50` then runs at pipeline depths 1
//! and 16 against the TLS port; `-n` is 100,000 requests at depth 1 and
//! 1,000,000 at depth 16 (`SOQUETE_BENCH_REQUESTS` sets both).
//!
//! soquete runs with its default number of event loops. Rounds alternate
//! which server goes first; the table quotes median requests per second
//! and the ratio of the medians.

use soquete_benches::versus::{self, Samples, Who};
use soquete_testkit::certs::Certs;
use soquete_testkit::server::free_port;

const DEPTHS: [(u32, u32); 2] = [(1, 100_000), (16, 1_000_000)];
const TESTS: [&str; 2] = ["set", "get"];

fn main() {
    let Some(setup) = versus::setup("tls") else {
        return;
    };
    let requests: Option<u32> = std::env::var("SOQUETE_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok());
    let certs = Certs::new();
    let client = [
        "--tls".to_string(),
        "--cacert".into(),
        certs.arg("ca.crt"),
        "--cert".into(),
        certs.arg("client.crt"),
        "--key".into(),
        certs.arg("client.key"),
    ];
    let mut samples = Samples::default();
    for round in 0..setup.rounds {
        for who in Who::round_order(round, &Who::PAIR) {
            let tls_port = free_port().expect("a free port");
            let server = setup.start_with(who, &certs.server_args(tls_port, "yes"));
            for (d, (depth, n)) in DEPTHS.iter().enumerate() {
                let (depth, n) = (depth.to_string(), requests.unwrap_or(*n).to_string());
                let mut options: Vec<&str> = client.iter().map(String::as_str).collect();
                options.extend(["-c", "50", "-n", &n, "-P", &depth]);
                let rps = setup.redis_benchmark_tests(tls_port, &options, &TESTS);
                for (t, (test, rps)) in TESTS.iter().zip(rps).enumerate() {
                    println!("{:>8} {test} -P {depth:>2}: {rps:>10.1}/s", who.name());
                    samples.push((d, t, who), rps);
                }
            }
            drop(server);
        }
    }
    println!();
    println!("| over TLS | Redis 7.0.15 req/s | soquete req/s | soquete / Redis |");
    println!("|---|---:|---:|---:|");
    for (d, (depth, _)) in DEPTHS.iter().enumerate() {
        for (t, test) in TESTS.iter().enumerate() {
            let (r, s) = (
                samples.median(&(d, t, Who::Redis)),
                samples.median(&(d, t, Who::Soquete)),
            );
            println!(
                "| {} -P {depth} | {r:.1} | {s:.1} | {:.2} |",
                test.to_uppercase(),
                versus::ratio(s, r)
            );
        }
    }
    setup.finish("tls");
}
