//! The `tls-port` listener over real sockets: `redis-cli` and
//! `redis-benchmark` built with TLS, a rustls client for what needs exact
//! control (large values, pipelines, no certificate), a plain-text client
//! on the TLS port, and the `tls-*` parameters against a real
//! redis-server started with the same options.
//!
//! The certificates (a CA, a server certificate for 127.0.0.1 and
//! localhost, a client certificate) are made by `soquete_testkit::certs` with rcgen, so nothing
//! outside the test is needed but the Redis tools.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use soquete_testkit::certs::Certs;
use soquete_testkit::server::free_port;
use soquete_testkit::tools::run_with_timeout;
use soquete_testkit::wait::{eventually, DEADLINE};
use soquete_testkit::{Conn, ServerKind, ServerProcess};

/// rustls's ring provider (deprecated in rustls 0.23.48 for lacking
/// post-quantum key exchange; the server uses it, see `soquete_server::tls`).
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The binary under test, built by cargo for this test run.
const BIN: &str = env!("CARGO_BIN_EXE_soquete-server");

/// A server of `kind` with a TLS listener (and its plain port).
struct TlsServer {
    server: ServerProcess,
    tls_port: u16,
}

fn start(kind: ServerKind, certs: &Certs, auth: &str, extra: &[&str]) -> TlsServer {
    let mut last = None;
    // The TLS port was free a moment ago; another process may take it
    // before the server binds: try again with another.
    for _ in 0..3 {
        let tls_port = free_port().unwrap();
        let mut b = ServerProcess::builder(kind).args(certs.server_args(tls_port, auth));
        if kind == ServerKind::Soquete {
            b = b.binary(BIN);
        }
        match b.args(extra).try_start() {
            Ok(server) => return TlsServer { server, tls_port },
            Err(e) => last = Some(e),
        }
    }
    panic!("{}", last.unwrap());
}

fn soquete(certs: &Certs, auth: &str) -> TlsServer {
    start(ServerKind::Soquete, certs, auth, &[])
}

/// A rustls client that trusts the test CA, with the client certificate
/// when `with_cert`.
fn client_config(certs: &Certs, with_cert: bool) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(certs.path("ca.crt")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let b = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let cfg = if with_cert {
        let chain = CertificateDer::pem_file_iter(certs.path("client.crt"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(certs.path("client.key")).unwrap();
        b.with_client_auth_cert(chain, key).unwrap()
    } else {
        b.with_no_client_auth()
    };
    Arc::new(cfg)
}

type Tls = StreamOwned<ClientConnection, TcpStream>;

fn tls_connect(port: u16, cfg: Arc<ClientConfig>) -> Tls {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(DEADLINE)).unwrap();
    tcp.set_write_timeout(Some(DEADLINE)).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    StreamOwned::new(ClientConnection::new(cfg, name).unwrap(), tcp)
}

/// Reads exactly `n` bytes, or fails with what the stream said.
fn read_n(s: &mut impl Read, n: usize) -> std::io::Result<Vec<u8>> {
    let mut v = vec![0; n];
    s.read_exact(&mut v)?;
    Ok(v)
}

fn command(args: &[&[u8]]) -> Vec<u8> {
    soquete_testkit::conn::command_bytes(args)
}

/// Sends a command on a plain connection and reads its reply's bytes.
fn raw(c: &mut Conn, args: &[&str]) -> Vec<u8> {
    c.send_cmd(args);
    c.read_raw_reply()
}

/// The bulk strings of a flat RESP2 array of bulks.
fn bulks(raw: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(raw);
    let mut lines = text.split("\r\n");
    let head = lines.next().unwrap();
    assert!(head.starts_with('*'), "{text}");
    let mut out = Vec::new();
    while let (Some(len), Some(v)) = (lines.next(), lines.next()) {
        assert!(len.starts_with('$'), "{text}");
        out.push(v.to_string());
    }
    out
}

/// `redis-cli --tls` with the test CA (and the client certificate when
/// `with_cert`), running `args`; (success, stdout + stderr).
fn redis_cli(port: u16, certs: &Certs, with_cert: bool, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new("redis-cli");
    cmd.args(["--tls", "--cacert", &certs.arg("ca.crt")]);
    if with_cert {
        cmd.args(["--cert", &certs.arg("client.crt")]);
        cmd.args(["--key", &certs.arg("client.key")]);
    }
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()]);
    cmd.args(args);
    let out = run_with_timeout(cmd, b"", DEADLINE);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn redis_cli_with_a_client_certificate_runs_commands_over_tls() {
    let certs = Certs::new();
    let s = soquete(&certs, "yes");
    assert_eq!(redis_cli(s.tls_port, &certs, true, &["PING"]).1, "PONG\n");
    assert_eq!(
        redis_cli(s.tls_port, &certs, true, &["SET", "k", "over tls"]).1,
        "OK\n"
    );
    assert_eq!(
        redis_cli(s.tls_port, &certs, true, &["GET", "k"]).1,
        "over tls\n"
    );
    // The same keyspace as the plain port.
    let mut plain = s.server.connect();
    assert_eq!(raw(&mut plain, &["GET", "k"]), b"$8\r\nover tls\r\n");
}

/// True when a client gets PONG for a PING over TLS.
fn pings(port: u16, cfg: Arc<ClientConfig>) -> bool {
    let mut c = tls_connect(port, cfg);
    if c.write_all(&command(&[b"PING"])).is_err() || c.flush().is_err() {
        return false;
    }
    matches!(read_n(&mut c, 7), Ok(v) if v == b"+PONG\r\n")
}

#[test]
fn auth_clients_decides_whether_a_certificate_is_required() {
    let certs = Certs::new();
    let s = soquete(&certs, "yes");
    let (with, without) = (client_config(&certs, true), client_config(&certs, false));
    assert!(pings(s.tls_port, with.clone()));
    assert!(
        !pings(s.tls_port, without.clone()),
        "yes: refused without one"
    );
    let (ok, text) = redis_cli(s.tls_port, &certs, false, &["PING"]);
    assert!(!ok || !text.contains("PONG"), "{text}");
    let mut plain = s.server.connect();
    assert_eq!(
        raw(&mut plain, &["CONFIG", "SET", "tls-auth-clients", "no"]),
        b"+OK\r\n"
    );
    assert!(
        pings(s.tls_port, without.clone()),
        "no: accepted without one"
    );
    assert_eq!(redis_cli(s.tls_port, &certs, false, &["PING"]).1, "PONG\n");
    assert_eq!(
        raw(
            &mut plain,
            &["CONFIG", "SET", "tls-auth-clients", "optional"]
        ),
        b"+OK\r\n"
    );
    assert!(pings(s.tls_port, with), "optional: accepted with one");
    assert!(pings(s.tls_port, without), "optional: accepted without one");
    // A certificate from another CA is refused even when optional.
    let other = Certs::new();
    let mut foreign = (*client_config(&certs, false)).clone();
    let chain = CertificateDer::pem_file_iter(other.path("client.crt"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(other.path("client.key")).unwrap();
    foreign.client_auth_cert_resolver = {
        let b = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(RootCertStore::empty());
        b.with_client_auth_cert(chain, key)
            .unwrap()
            .client_auth_cert_resolver
    };
    assert!(!pings(s.tls_port, Arc::new(foreign)));
}

#[test]
fn a_plain_text_client_on_the_tls_port_is_closed_and_others_carry_on() {
    let certs = Certs::new();
    let s = soquete(&certs, "yes");
    let cfg = client_config(&certs, true);
    let mut before = tls_connect(s.tls_port, cfg.clone());
    before.write_all(&command(&[b"SET", b"a", b"1"])).unwrap();
    assert_eq!(read_n(&mut before, 5).unwrap(), b"+OK\r\n");

    let mut text = TcpStream::connect(("127.0.0.1", s.tls_port)).unwrap();
    text.set_read_timeout(Some(DEADLINE)).unwrap();
    text.write_all(b"PING\r\n").unwrap();
    // Whatever the server says (a TLS alert at most), it then closes.
    let mut got = Vec::new();
    text.read_to_end(&mut got).unwrap();
    assert!(!got.starts_with(b"+PONG"), "{got:?}");
    // RESP garbage too, and a client that sends half a ClientHello and
    // leaves.
    let mut resp = TcpStream::connect(("127.0.0.1", s.tls_port)).unwrap();
    resp.set_read_timeout(Some(DEADLINE)).unwrap();
    resp.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    let _ = resp.read_to_end(&mut Vec::new());
    let mut half = TcpStream::connect(("127.0.0.1", s.tls_port)).unwrap();
    half.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .unwrap();
    drop(half);

    before.write_all(&command(&[b"GET", b"a"])).unwrap();
    assert_eq!(read_n(&mut before, 7).unwrap(), b"$1\r\n1\r\n");
    assert!(pings(s.tls_port, cfg));
    let mut plain = s.server.connect();
    assert_eq!(raw(&mut plain, &["GET", "a"]), b"$1\r\n1\r\n");
    // The refused clients are gone from the client count.
    eventually("the refused clients to be gone", DEADLINE, || {
        let info = raw(&mut plain, &["INFO", "clients"]);
        let text = String::from_utf8_lossy(&info).into_owned();
        text.contains("connected_clients:2\r\n").then_some(())
    });
}

#[test]
fn redis_benchmark_over_tls_completes_without_errors() {
    let certs = Certs::new();
    let s = soquete(&certs, "yes");
    let mut cmd = Command::new("redis-benchmark");
    cmd.args(["--tls", "--cacert", &certs.arg("ca.crt")])
        .args(["--cert", &certs.arg("client.crt")])
        .args(["--key", &certs.arg("client.key")])
        .args(["-h", "127.0.0.1", "-p", &s.tls_port.to_string()])
        .args(["-q", "-n", "2000", "-P", "16", "-t", "set,get"]);
    let out = run_with_timeout(cmd, b"", DEADLINE * 3);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    for test in ["SET: ", "GET: "] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(test) && l.contains("requests per second")),
            "no {test} line:\n{stdout}\n{stderr}"
        );
    }
    let lower = stdout.to_ascii_lowercase();
    assert!(!lower.contains("err"), "{stdout}");
    assert!(stderr.trim().is_empty(), "{stderr}");
}

#[test]
fn megabyte_values_round_trip_over_tls_through_full_sockets() {
    let certs = Certs::new();
    let s = soquete(&certs, "yes");
    let mut c = tls_connect(s.tls_port, client_config(&certs, true));
    let value: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    c.write_all(&command(&[b"SET", b"big", &value])).unwrap();
    assert_eq!(read_n(&mut c, 5).unwrap(), b"+OK\r\n");
    // Sixteen GETs in one write: 16 MB of replies, more than the socket
    // holds, so the server's writes stop short and resume on its
    // writable edges while this client is not reading yet.
    let mut batch = Vec::new();
    for _ in 0..16 {
        batch.extend(command(&[b"GET", b"big"]));
    }
    c.write_all(&batch).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut expected = format!("${}\r\n", value.len()).into_bytes();
    expected.extend(&value);
    expected.extend(b"\r\n");
    for _ in 0..16 {
        assert!(read_n(&mut c, expected.len()).unwrap() == expected);
    }
    assert!(pings(s.tls_port, client_config(&certs, true)));
}

#[test]
fn pipelined_commands_over_tls_reply_in_order() {
    let certs = Certs::new();
    let s = soquete(&certs, "yes");
    let mut c = tls_connect(s.tls_port, client_config(&certs, true));
    let mut batch = Vec::new();
    let mut expected = Vec::new();
    for i in 1..=2000u32 {
        batch.extend(command(&[b"INCR", b"n"]));
        expected.extend(format!(":{i}\r\n").into_bytes());
    }
    // Written in pieces that split commands and TLS records anywhere.
    for chunk in batch.chunks(777) {
        c.write_all(chunk).unwrap();
        c.flush().unwrap();
    }
    assert!(read_n(&mut c, expected.len()).unwrap() == expected);
}

#[test]
fn tls_clients_are_counted_and_listed_like_tcp_clients() {
    let certs = Certs::new();
    let s = soquete(&certs, "yes");
    let mut c = tls_connect(s.tls_port, client_config(&certs, true));
    c.write_all(&command(&[b"CLIENT", b"SETNAME", b"secure"]))
        .unwrap();
    assert_eq!(read_n(&mut c, 5).unwrap(), b"+OK\r\n");
    let mut plain = s.server.connect();
    let info = String::from_utf8(raw(&mut plain, &["INFO", "clients"])).unwrap();
    assert!(info.contains("connected_clients:2\r\n"), "{info}");
    let list = String::from_utf8(raw(&mut plain, &["CLIENT", "LIST"])).unwrap();
    let line = list
        .lines()
        .find(|l| l.contains("name=secure"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(
        line.contains(&format!("laddr=127.0.0.1:{} ", s.tls_port)),
        "{line}"
    );
    // QUIT over TLS: +OK, then close_notify and the end.
    c.write_all(&command(&[b"QUIT"])).unwrap();
    assert_eq!(read_n(&mut c, 5).unwrap(), b"+OK\r\n");
    let mut rest = Vec::new();
    assert_eq!(c.read_to_end(&mut rest).unwrap(), 0);
}

/// CONFIG GET `tls-*` over the plain port.
fn tls_params(port: u16) -> Vec<(String, String)> {
    let mut c = soquete_testkit::conn::connect(([127, 0, 0, 1], port).into());
    let items = bulks(&raw(&mut c, &["CONFIG", "GET", "tls-*"]));
    let mut pairs: Vec<(String, String)> = items
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn tls_parameters_read_as_on_redis_with_the_same_options() {
    let certs = Certs::new();
    let extra = [
        "--tls-protocols",
        "TLSv1.2 TLSv1.3",
        "--tls-ciphersuites",
        "TLS_AES_256_GCM_SHA384",
        "--tls-prefer-server-ciphers",
        "yes",
        "--tls-session-cache-size",
        "5000",
        "--tls-session-cache-timeout",
        "60",
    ];
    let redis = start(ServerKind::Redis, &certs, "optional", &extra);
    let ours = start(ServerKind::Soquete, &certs, "optional", &extra);
    let (r, o) = (
        tls_params(redis.server.port()),
        tls_params(ours.server.port()),
    );
    // Redis 7.0.15 has twenty tls-* parameters.
    assert_eq!(r.len(), 20, "{r:?}");
    let strip = |v: Vec<(String, String)>, port: u16| -> Vec<(String, String)> {
        v.into_iter()
            .map(|(k, val)| {
                let val = val.replace(&port.to_string(), "<tls-port>");
                (k, val)
            })
            .collect()
    };
    assert_eq!(strip(r, redis.tls_port), strip(o, ours.tls_port));
    // Both serve the same client the same way.
    for s in [&redis, &ours] {
        assert!(pings(s.tls_port, client_config(&certs, true)));
        assert!(pings(s.tls_port, client_config(&certs, false)));
    }
}

#[test]
fn config_set_of_a_certificate_reloads_tls_for_new_connections() {
    let certs = Certs::new();
    let redis = start(ServerKind::Redis, &certs, "yes", &[]);
    let ours = soquete(&certs, "yes");
    let subject = |port: u16| {
        let mut c = tls_connect(port, client_config(&certs, true));
        c.write_all(&command(&[b"PING"])).unwrap();
        read_n(&mut c, 7).unwrap();
        let cert = c.conn.peer_certificates().unwrap()[0].clone();
        cert.as_ref().to_vec()
    };
    let first = std::fs::read(certs.path("server.crt")).unwrap();
    let second = std::fs::read(certs.path("server2.crt")).unwrap();
    assert_ne!(first, second);
    for s in [&redis, &ours] {
        let before = subject(s.tls_port);
        let mut plain = s.server.connect();
        // A missing file fails the command and changes nothing.
        let err = raw(
            &mut plain,
            &["CONFIG", "SET", "tls-cert-file", "/nonexistent/server.crt"],
        );
        assert_eq!(
            String::from_utf8_lossy(&err),
            "-ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs.\r\n",
            "{:?}",
            s.server.kind()
        );
        assert_eq!(subject(s.tls_port), before);
        let reply = raw(
            &mut plain,
            &[
                "CONFIG",
                "SET",
                "tls-cert-file",
                &certs.arg("server2.crt"),
                "tls-key-file",
                &certs.arg("server2.key"),
            ],
        );
        assert_eq!(reply, b"+OK\r\n", "{:?}", s.server.kind());
        assert_ne!(subject(s.tls_port), before, "{:?}", s.server.kind());
    }
}

#[test]
fn an_encrypted_key_is_refused_at_start_with_a_message() {
    let certs = Certs::new();
    let key = certs.path("encrypted.key");
    std::fs::write(
        &key,
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n",
    )
    .unwrap();
    let port = free_port().unwrap();
    let r = ServerProcess::builder(ServerKind::Soquete)
        .binary(BIN)
        .args(certs.server_args(port, "yes"))
        .args(["--tls-key-file", &key.display().to_string()])
        .args(["--tls-key-file-pass", "secret"])
        .try_start();
    let Err(e) = r else {
        panic!("started with an encrypted key");
    };
    let text = e.to_string();
    assert!(text.contains("encrypted"), "{text}");
    assert!(text.contains("Failed to configure TLS"), "{text}");
}
