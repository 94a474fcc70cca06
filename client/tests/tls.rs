//! The client over TLS (`rediss://`), blocking and async, against
//! soquete-server and real redis-server started with TLS listeners:
//! verification against a CA file, mutual TLS, an untrusted CA,
//! `insecure`, large pipelines and values.
//!
//! Certificates (a CA, a server certificate for 127.0.0.1 and localhost, a
//! client certificate) are made by `soquete_testkit::certs` with rcgen.

use soquete_client::{pipe, Client, Error, MultiplexedClient, Protocol, Result};
use soquete_testkit::certs::Certs;
use soquete_testkit::server::free_port;
use soquete_testkit::{ServerKind, ServerProcess};

/// A server of `kind` with a TLS listener whose `tls-auth-clients` is `auth`.
struct TlsServer {
    _server: ServerProcess,
    tls_port: u16,
}

fn start(kind: ServerKind, certs: &Certs, auth: &str) -> TlsServer {
    let mut last = None;
    // The TLS port was free a moment ago; another process may take it
    // before the server binds: try again with another.
    for _ in 0..3 {
        let tls_port = free_port().unwrap();
        let args = certs.server_args(tls_port, auth);
        match ServerProcess::builder(kind).args(args).try_start() {
            Ok(server) => {
                return TlsServer {
                    _server: server,
                    tls_port,
                }
            }
            Err(e) => last = Some(e),
        }
    }
    panic!("{}", last.unwrap());
}

impl TlsServer {
    /// `rediss://` URL trusting `certs`'s CA, with the client certificate
    /// when `with_cert`.
    fn url(&self, certs: &Certs, with_cert: bool) -> String {
        let mut u = format!(
            "rediss://127.0.0.1:{}?ca_file={}",
            self.tls_port,
            certs.arg("ca.crt")
        );
        if with_cert {
            u += &format!(
                "&cert_file={}&key_file={}",
                certs.arg("client.crt"),
                certs.arg("client.key")
            );
        }
        u
    }
}

const BIG: usize = 1 << 20;

/// PING, SET/GET, a pipeline of 1000 commands and a 1 MB value, blocking.
fn exercise_sync(url: &str) {
    for proto in [Protocol::Resp2, Protocol::Resp3] {
        let mut c = Client::builder(url).protocol(proto).connect().unwrap();
        assert_eq!(c.ping::<String>().unwrap(), "PONG");
        let _: () = c.set("k", "v").unwrap();
        assert_eq!(c.get::<_, String>("k").unwrap(), "v");
        let mut p = pipe();
        for i in 0..500 {
            p.set(format!("p{i}"), i).ignore();
        }
        for i in 0..500 {
            p.get(format!("p{i}"));
        }
        let got: Vec<i64> = p.query(&mut c).unwrap();
        assert_eq!(got, (0..500).collect::<Vec<i64>>());
        let big: Vec<u8> = (0..BIG).map(|i| (i % 251) as u8).collect();
        let _: () = c.set("big", big.as_slice()).unwrap();
        assert_eq!(c.get::<_, Vec<u8>>("big").unwrap(), big);
        assert_eq!(c.strlen::<_, i64>("big").unwrap(), BIG as i64);
    }
}

/// The same on a multiplexed client shared by tasks, and on a dedicated
/// async connection.
async fn exercise_async(url: &str) {
    let c = MultiplexedClient::connect(url).await.unwrap();
    assert_eq!(c.query::<_, String>("PING").await.unwrap(), "PONG");
    let mut tasks = Vec::new();
    for i in 0..200 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let _: () = c.set(format!("a{i}"), i).await?;
            let v: i64 = c.get(format!("a{i}")).await?;
            assert_eq!(v, i);
            Result::<()>::Ok(())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let mut p = pipe();
    for i in 0..1000 {
        p.incr("ctr");
        let _ = i;
    }
    let got: Vec<i64> = p.query_async(&c).await.unwrap();
    assert_eq!(got.last().copied(), Some(1000));
    let big: Vec<u8> = (0..BIG).map(|i| (i % 253) as u8).collect();
    let _: () = c.set("abig", big.as_slice()).await.unwrap();
    assert_eq!(c.get::<_, Vec<u8>>("abig").await.unwrap(), big);

    let mut own = c.dedicated_connection().await.unwrap();
    let (n, v): (i64, Vec<u8>) = pipe()
        .incr("ctr")
        .get("abig")
        .query_async(&mut own)
        .await
        .unwrap();
    assert_eq!((n, v.len()), (1001, BIG));
}

#[test]
fn blocking_client_runs_commands_over_tls() {
    let certs = Certs::new();
    let s = start(ServerKind::Soquete, &certs, "no");
    exercise_sync(&s.url(&certs, false));
    // The builder's way, and `valkeys://`, and a host name for SNI.
    let mut c = Client::builder(format!("valkeys://localhost:{}", s.tls_port))
        .tls_ca_file(certs.path("ca.crt"))
        .connect()
        .unwrap();
    assert_eq!(c.get::<_, String>("k").unwrap(), "v");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_clients_run_commands_over_tls() {
    let certs = Certs::new();
    let s = start(ServerKind::Soquete, &certs, "no");
    exercise_async(&s.url(&certs, false)).await;
}

fn is_tls_error(e: &Error, words: &str) -> bool {
    matches!(e, Error::Tls(m) if m.contains(words))
}

#[tokio::test]
async fn mutual_tls_needs_the_client_certificate() {
    let certs = Certs::new();
    let s = start(ServerKind::Soquete, &certs, "yes");
    let url = s.url(&certs, false);
    // TLS 1.3: the client finishes its handshake before the server checks
    // its certificate, so the refusal may come with the first reply.
    let e = Client::connect(&url)
        .and_then(|mut c| c.ping::<String>())
        .unwrap_err();
    assert!(is_tls_error(&e, "client certificate"), "{e}");
    let e = match MultiplexedClient::connect(&url).await {
        Ok(c) => c.query::<_, String>("PING").await.unwrap_err(),
        Err(e) => e,
    };
    assert!(is_tls_error(&e, "client certificate"), "{e}");

    let mut c = Client::builder(&url)
        .tls_client_cert(certs.path("client.crt"), certs.path("client.key"))
        .connect()
        .unwrap();
    assert_eq!(c.ping::<String>().unwrap(), "PONG");
    let m = Client::builder(s.url(&certs, true))
        .connect_multiplexed()
        .await
        .unwrap();
    assert_eq!(m.query::<_, String>("PING").await.unwrap(), "PONG");
}

#[tokio::test]
async fn a_server_certificate_from_another_ca_fails_verification() {
    let certs = Certs::new();
    let other = Certs::new();
    let s = start(ServerKind::Soquete, &certs, "no");
    let url = s.url(&other, false);
    let e = Client::connect(&url).map(|_| ()).unwrap_err();
    assert!(
        is_tls_error(&e, "server's certificate was not accepted"),
        "{e}"
    );
    let e = MultiplexedClient::connect(&url)
        .await
        .map(|_| ())
        .unwrap_err();
    assert!(
        is_tls_error(&e, "server's certificate was not accepted"),
        "{e}"
    );
    // The built-in roots do not trust a private CA either.
    let e = Client::connect(format!("rediss://127.0.0.1:{}", s.tls_port))
        .map(|_| ())
        .unwrap_err();
    assert!(is_tls_error(&e, "not accepted"), "{e}");
    // Nor does a certificate pass for a name it does not carry.
    let e = Client::builder(format!("rediss://127.0.0.2:{}", s.tls_port))
        .tls_ca_file(certs.path("ca.crt"))
        .connect()
        .map(|_| ())
        .unwrap_err();
    assert!(
        is_tls_error(&e, "not accepted") || matches!(e, Error::Io(_)),
        "{e}"
    );
}

#[tokio::test]
async fn insecure_connects_to_a_server_it_cannot_verify() {
    let certs = Certs::new();
    let s = start(ServerKind::Soquete, &certs, "no");
    let mut c = Client::connect(format!("rediss://127.0.0.1:{}/#insecure", s.tls_port)).unwrap();
    assert_eq!(c.ping::<String>().unwrap(), "PONG");
    let mut c = Client::builder(format!("rediss://127.0.0.1:{}", s.tls_port))
        .tls_insecure()
        .connect()
        .unwrap();
    assert_eq!(c.ping::<String>().unwrap(), "PONG");
    let m = MultiplexedClient::connect(format!("rediss://127.0.0.1:{}?insecure=true", s.tls_port))
        .await
        .unwrap();
    assert_eq!(m.query::<_, String>("PING").await.unwrap(), "PONG");
}

#[test]
fn plain_url_on_a_tls_port_fails_without_hanging_forever() {
    let certs = Certs::new();
    let s = start(ServerKind::Soquete, &certs, "no");
    let e = Client::builder(format!("redis://127.0.0.1:{}", s.tls_port))
        .read_timeout(std::time::Duration::from_secs(5))
        .connect()
        .and_then(|mut c| c.ping::<String>())
        .unwrap_err();
    assert!(!matches!(e, Error::Server(_)), "{e}");
}

#[test]
fn blocking_client_talks_tls_to_real_redis() {
    let certs = Certs::new();
    let s = start(ServerKind::Redis, &certs, "yes");
    exercise_sync(&s.url(&certs, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_clients_talk_tls_to_real_redis() {
    let certs = Certs::new();
    let s = start(ServerKind::Redis, &certs, "yes");
    exercise_async(&s.url(&certs, true)).await;
    let e = Client::connect(s.url(&certs, false))
        .and_then(|mut c| c.ping::<String>())
        .unwrap_err();
    assert!(
        matches!(e, Error::Tls(_) | Error::Io(_) | Error::ConnectionLost),
        "{e}"
    );
}
