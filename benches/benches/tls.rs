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

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use soquete_benches::versus::{self, Samples, Who};
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
    let dir = tempfile::tempdir().expect("a temporary directory");
    let certs = make_certs(dir.path());
    let client = [
        "--tls".to_string(),
        "--cacert".into(),
        certs.ca.display().to_string(),
        "--cert".into(),
        certs.client_cert.display().to_string(),
        "--key".into(),
        certs.client_key.display().to_string(),
    ];
    let mut samples = Samples::default();
    for round in 0..setup.rounds {
        for who in Who::round_order(round, &Who::PAIR) {
            let tls_port = free_port().expect("a free port");
            let server = setup.start_with(who, &certs.server_args(tls_port));
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

/// The certificate files both servers and redis-benchmark use.
struct Certs {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

impl Certs {
    /// The server's TLS options: the TLS port and the files.
    fn server_args(&self, tls_port: u16) -> Vec<String> {
        let path = |p: &Path| p.display().to_string();
        vec![
            "--tls-port".into(),
            tls_port.to_string(),
            "--tls-cert-file".into(),
            path(&self.server_cert),
            "--tls-key-file".into(),
            path(&self.server_key),
            "--tls-ca-cert-file".into(),
            path(&self.ca),
        ]
    }
}

/// A CA, and a server and a client certificate signed by it, in `dir`.
fn make_certs(dir: &Path) -> Certs {
    let ca_key = KeyPair::generate().expect("a key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "soquete bench CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).expect("the CA certificate");
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("writing a certificate");
        path
    };
    let ca_path = write("ca.crt", ca_cert.pem());
    let leaf = |name: &str, usage: ExtendedKeyUsagePurpose| {
        let key = KeyPair::generate().expect("a key");
        let mut p = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("certificate parameters");
        p.distinguished_name
            .push(DnType::CommonName, format!("soquete bench {name}"));
        p.extended_key_usages = vec![usage];
        let cert = p
            .signed_by(&key, &ca_cert, &ca_key)
            .expect("a signed certificate");
        (
            write(&format!("{name}.crt"), cert.pem()),
            write(&format!("{name}.key"), key.serialize_pem()),
        )
    };
    let (server_cert, server_key) = leaf("server", ExtendedKeyUsagePurpose::ServerAuth);
    let (client_cert, client_key) = leaf("client", ExtendedKeyUsagePurpose::ClientAuth);
    Certs {
        ca: ca_path,
        server_cert,
        server_key,
        client_cert,
        client_key,
    }
}
