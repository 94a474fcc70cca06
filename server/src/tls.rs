//! TLS on the `tls-port` listener, as Redis 7.0's `tls.c` offers it, over
//! rustls (a pure-Rust TLS stack: no OpenSSL to link or to configure).
//!
//! * [`TlsContext::configure`] builds the server's TLS setup from the
//!   `tls-*` parameters, as Redis's `tlsConfigure` does: the certificate
//!   chain and key, the CA that client certificates are checked against,
//!   the protocol versions, the cipher suites, session caching. It runs at
//!   start-up and again on CONFIG SET of a `tls-*` parameter; a failure
//!   leaves the running setup as it was.
//! * [`TlsStream`] drives one `rustls::ServerConnection` over a
//!   non-blocking socket: plaintext in through [`TlsStream::read`],
//!   plaintext out through [`TlsStream::write`], the handshake and any
//!   alert carried along by both. Neither ever blocks: a socket that has
//!   nothing to give, or no room, says `WouldBlock` and the event loop
//!   waits for its next readiness edge, as for a plain TCP client.
//!
//! # What differs from Redis (OpenSSL)
//!
//! * Only TLSv1.2 and TLSv1.3 exist in rustls: `tls-protocols` accepts
//!   `TLSv1` and `TLSv1.1` (Redis's names) but a setting that leaves no
//!   version rustls speaks is refused.
//! * `tls-ciphers` (TLSv1.2, OpenSSL names such as
//!   `ECDHE-RSA-AES256-GCM-SHA384`, `:`-separated) and `tls-ciphersuites`
//!   (TLSv1.3, `TLS_AES_256_GCM_SHA384`...) select among the suites rustls
//!   has; OpenSSL's keywords and operators (`DEFAULT`, `HIGH`, `!aNULL`,
//!   `@STRENGTH`) are ignored. A list that names no suite rustls has keeps
//!   every suite of that version (logged).
//! * An encrypted private key (`ENCRYPTED PRIVATE KEY`, or a legacy key
//!   with `Proc-Type: 4,ENCRYPTED`) is refused with a message saying to
//!   decrypt it (`openssl pkey -in key.pem -out plain.pem`): rustls reads
//!   only unencrypted keys. `tls-key-file-pass` is accepted and shown.
//! * `tls-session-cache-timeout` is accepted and shown, not applied:
//!   rustls's session cache has no per-entry timeout; it is bounded by
//!   `tls-session-cache-size` (0, OpenSSL's "unlimited", keeps 20480).
//! * `tls-dh-params-file`: rustls has no finite-field Diffie-Hellman, only
//!   ECDHE; the file is accepted and not read.
//! * `tls-replication`, `tls-cluster` and the `tls-client-*` files are for
//!   connections soquete does not make; they are accepted and shown.

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

use mio::net::TcpStream;
use rustls::crypto::ring as provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{NoServerSessionStorage, ServerSessionMemoryCache, WebPkiClientVerifier};
use rustls::{RootCertStore, ServerConfig, ServerConnection, SupportedCipherSuite};

use crate::config::Config;

/// `tls-auth-clients`: whether a client must present a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthClients {
    /// `no`: none is asked for.
    No,
    /// `yes` (the default): one is required and must be signed by the CA.
    Yes,
    /// `optional`: a client may present one (then it is checked) or not.
    Optional,
}

impl AuthClients {
    /// The mode a `tls-auth-clients` value names (`yes` for anything
    /// else, as Redis's default case falls to the secure side).
    pub fn parse(v: &str) -> AuthClients {
        match v.to_ascii_lowercase().as_str() {
            "no" => AuthClients::No,
            "optional" => AuthClients::Optional,
            _ => AuthClients::Yes,
        }
    }
}

/// The server's TLS setup: one rustls configuration per
/// `tls-auth-clients` mode, so that a change of that parameter applies to
/// the next connection without rebuilding anything (Redis reads it at
/// every accept too). A mode that needs a CA has no configuration when
/// none is set; a connection accepted in that mode is closed at once.
pub struct TlsContext {
    no: Arc<ServerConfig>,
    yes: Option<Arc<ServerConfig>>,
    optional: Option<Arc<ServerConfig>>,
}

/// The value of a stored `tls-*` parameter (empty when unset).
fn param(cfg: &Config, name: &str) -> String {
    cfg.get_by_name(name).unwrap_or_default()
}

impl TlsContext {
    /// Builds the setup the `tls-*` parameters of `cfg` describe, checking
    /// what Redis's `tlsConfigure` checks, in its order. The error is the
    /// line Redis logs (the caller logs it).
    pub fn configure(cfg: &Config) -> Result<TlsContext, String> {
        let cert_file = param(cfg, "tls-cert-file");
        let key_file = param(cfg, "tls-key-file");
        let ca_file = param(cfg, "tls-ca-cert-file");
        let ca_dir = param(cfg, "tls-ca-cert-dir");
        if cert_file.is_empty() {
            return Err("No tls-cert-file configured!".into());
        }
        if key_file.is_empty() {
            return Err("No tls-key-file configured!".into());
        }
        let auth = AuthClients::parse(&param(cfg, "tls-auth-clients"));
        let peers = param(cfg, "tls-cluster") == "yes" || param(cfg, "tls-replication") == "yes";
        if (auth != AuthClients::No || peers) && ca_file.is_empty() && ca_dir.is_empty() {
            return Err("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!".into());
        }
        let versions = protocols(&param(cfg, "tls-protocols"))?;
        let chain = load_certs(&cert_file)
            .map_err(|e| format!("Failed to load certificate: {cert_file}: {e}"))?;
        let key = load_key(&key_file)
            .map_err(|e| format!("Failed to load private key: {key_file}: {e}"))?;
        let roots = if ca_file.is_empty() && ca_dir.is_empty() {
            None
        } else {
            Some(Arc::new(load_roots(&ca_file, &ca_dir).map_err(|e| {
                format!("Failed to configure CA certificate(s) file/directory: {e}")
            })?))
        };
        let suites = cipher_suites(&param(cfg, "tls-ciphers"), &param(cfg, "tls-ciphersuites"))?;
        // The ring provider: rustls 0.23.48 deprecates it for having no
        // post-quantum key exchange (that needs aws-lc-rs, a large C and
        // assembly build). Redis 7.0 with OpenSSL 3.0 has none either, and
        // ring builds in seconds with only a C compiler.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::CryptoProvider {
            cipher_suites: suites,
            ..provider::default_provider()
        });
        let caching = param(cfg, "tls-session-caching") != "no";
        let cache_size = match param(cfg, "tls-session-cache-size").parse::<usize>() {
            Ok(0) | Err(_) => 20 * 1024,
            Ok(n) => n,
        };
        let prefer_server = param(cfg, "tls-prefer-server-ciphers") == "yes";
        // One session store for the three modes: a client resumes whatever
        // the mode of its next connection.
        let sessions: Arc<dyn rustls::server::StoresServerSessions> = if caching {
            ServerSessionMemoryCache::new(cache_size)
        } else {
            Arc::new(NoServerSessionStorage {})
        };
        let build = |verifier: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>| {
            let b = ServerConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(&versions)
                .map_err(|e| format!("Failed to configure TLS: {e}"))?;
            let b = match verifier {
                Some(v) => b.with_client_cert_verifier(v),
                None => b.with_no_client_auth(),
            };
            let mut c = b
                .with_single_cert(chain.clone(), key.clone_key())
                .map_err(|e| format!("Failed to load private key: {key_file}: {e}"))?;
            c.ignore_client_order = prefer_server;
            c.session_storage = sessions.clone();
            if !caching {
                c.send_tls13_tickets = 0;
            }
            Ok::<_, String>(Arc::new(c))
        };
        let verifier =
            |optional: bool| {
                let roots = roots.clone()?;
                let b = WebPkiClientVerifier::builder_with_provider(roots, provider.clone());
                let b = if optional {
                    b.allow_unauthenticated()
                } else {
                    b
                };
                Some(b.build().map_err(|e| {
                    format!("Failed to configure CA certificate(s) file/directory: {e}")
                }))
            };
        let yes = verifier(false)
            .transpose()?
            .map(|v| build(Some(v)))
            .transpose()?;
        let optional = verifier(true)
            .transpose()?
            .map(|v| build(Some(v)))
            .transpose()?;
        Ok(TlsContext {
            no: build(None)?,
            yes,
            optional,
        })
    }

    /// A server-side connection for a client accepted in `auth` mode, or
    /// None when that mode cannot be served (no CA configured).
    pub fn accept(&self, auth: AuthClients) -> Option<ServerConnection> {
        let cfg = match auth {
            AuthClients::No => &self.no,
            AuthClients::Yes => self.yes.as_ref()?,
            AuthClients::Optional => self.optional.as_ref()?,
        };
        ServerConnection::new(cfg.clone()).ok()
    }
}

/// `tls-protocols` (Redis's default when empty: TLSv1.2 and TLSv1.3).
fn protocols(v: &str) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, String> {
    if v.trim().is_empty() {
        return Ok(vec![&rustls::version::TLS12, &rustls::version::TLS13]);
    }
    let mut out = Vec::new();
    for w in v.split(' ').filter(|w| !w.is_empty()) {
        match w.to_ascii_lowercase().as_str() {
            "tlsv1" | "tlsv1.1" => {}
            "tlsv1.2" => out.push(&rustls::version::TLS12),
            "tlsv1.3" => out.push(&rustls::version::TLS13),
            _ => return Err("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.".into()),
        }
    }
    if out.is_empty() {
        return Err(format!(
            "tls-protocols '{v}' leaves no version soquete speaks: it supports TLSv1.2 and TLSv1.3"
        ));
    }
    Ok(out)
}

/// OpenSSL's names of the TLSv1.2 suites rustls has.
const TLS12_NAMES: &[(&str, SupportedCipherSuite)] = &[
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        provider::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        provider::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        provider::cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        provider::cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        provider::cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        provider::cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
];

/// The TLSv1.3 suites, by their standard (and OpenSSL's) names.
const TLS13_NAMES: &[(&str, SupportedCipherSuite)] = &[
    (
        "TLS_AES_256_GCM_SHA384",
        provider::cipher_suite::TLS13_AES_256_GCM_SHA384,
    ),
    (
        "TLS_AES_128_GCM_SHA256",
        provider::cipher_suite::TLS13_AES_128_GCM_SHA256,
    ),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        provider::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
    ),
];

/// The suites `tls-ciphers` (TLSv1.2) and `tls-ciphersuites` (TLSv1.3)
/// select, in the order given (the server's order of preference); a list
/// that is empty, or names none of rustls's suites, keeps all of its
/// version.
fn cipher_suites(tls12: &str, tls13: &str) -> Result<Vec<SupportedCipherSuite>, String> {
    let pick = |list: &str, sep: char, table: &[(&str, SupportedCipherSuite)], what: &str| {
        let named: Vec<SupportedCipherSuite> = list
            .split(sep)
            .filter_map(|w| table.iter().find(|(n, _)| n.eq_ignore_ascii_case(w.trim())))
            .map(|(_, s)| *s)
            .collect();
        if named.is_empty() {
            if !list.trim().is_empty() {
                crate::notice!(
                    "{what} '{list}' names no cipher suite soquete has: keeping them all"
                );
            }
            return table.iter().map(|(_, s)| *s).collect();
        }
        named
    };
    let mut all = pick(tls13, ':', TLS13_NAMES, "tls-ciphersuites");
    all.extend(pick(tls12, ':', TLS12_NAMES, "tls-ciphers"));
    Ok(all)
}

/// An I/O error in `strerror`'s words, as Redis's log lines quote it.
fn strerror(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn pem_error(e: rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(e) => strerror(&e),
        other => format!("{other:?}"),
    }
}

/// Every certificate in a PEM file (the server's chain, or a CA bundle).
fn load_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(pem_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_error)?;
    if certs.is_empty() {
        return Err("no certificate found in the file".into());
    }
    Ok(certs)
}

/// The private key in a PEM file (PKCS#8, PKCS#1 or SEC1), unencrypted.
fn load_key(path: &str) -> Result<PrivateKeyDer<'static>, String> {
    let text = std::fs::read(path).map_err(|e| strerror(&e))?;
    if memchr::memmem::find(&text, b"ENCRYPTED").is_some() {
        return Err("the key is encrypted, and soquete reads only unencrypted keys (tls-key-file-pass is not applied): decrypt it with 'openssl pkey -in key.pem -out key-plain.pem' and keep that file private".into());
    }
    PrivateKeyDer::from_pem_slice(&text).map_err(pem_error)
}

/// The CA certificates of `tls-ca-cert-file` and of every PEM file in
/// `tls-ca-cert-dir`.
fn load_roots(file: &str, dir: &str) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    let mut add = |certs: Vec<CertificateDer<'static>>| {
        for c in certs {
            roots.add(c).map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(())
    };
    if !file.is_empty() {
        add(load_certs(file)?)?;
    }
    if !dir.is_empty() {
        let entries = std::fs::read_dir(Path::new(dir)).map_err(|e| strerror(&e))?;
        for e in entries.flatten() {
            // Hash links and bundles alike; files that hold no certificate
            // are passed over, as OpenSSL passes over them.
            if let Ok(certs) = load_certs(&e.path().to_string_lossy()) {
                add(certs)?;
            }
        }
    }
    if roots.is_empty() {
        return Err("no CA certificate found".into());
    }
    Ok(roots)
}

/// A TLS client connection over a non-blocking TCP socket.
pub struct TlsStream {
    /// The socket.
    pub(crate) tcp: TcpStream,
    tls: ServerConnection,
    /// The last read from the socket was short: it had nothing more then.
    socket_drained: bool,
}

/// The socket as rustls reads it, noting whether a read came back short.
struct Probe<'a> {
    tcp: &'a mut TcpStream,
    short: bool,
}

impl Read for Probe<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.tcp.read(buf)?;
        self.short = n < buf.len();
        Ok(n)
    }
}

impl TlsStream {
    /// Wraps an accepted socket.
    pub fn new(tcp: TcpStream, tls: ServerConnection) -> TlsStream {
        TlsStream {
            tcp,
            tls,
            socket_drained: false,
        }
    }

    /// After a read of `n` plaintext bytes into a buffer of `room`: true
    /// when nothing is left to read until the socket's next readable edge
    /// (the socket's last read was short, and rustls had no more plaintext
    /// than it gave), so the loop can stop without one more read that
    /// would only say WouldBlock, as a plain socket's short read allows.
    pub fn drained(&self, n: usize, room: usize) -> bool {
        self.socket_drained && n < room
    }

    /// Writes the TLS records waiting to go out (handshake messages,
    /// alerts, encrypted replies). Ok(true) when none is left; Ok(false)
    /// when the socket is full (its next writable edge resumes).
    pub fn write_out(&mut self) -> io::Result<bool> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut self.tcp) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Queues close_notify and writes what it can, without waiting (the
    /// connection is being dropped).
    pub fn close(&mut self) {
        self.tls.send_close_notify();
        let _ = self.write_out();
    }
}

impl Read for TlsStream {
    /// Plaintext the client sent. Ok(0) at the end of the stream (the
    /// client's close_notify, or the socket's end-of-file); WouldBlock
    /// once the socket has nothing more (not merely when a read was
    /// short: records may still wait in the socket). A failed handshake
    /// or a corrupt record is an error, after the alert that says so has
    /// been offered to the socket.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.tls.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The socket ended without close_notify: an end all the same.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            let mut probe = Probe {
                tcp: &mut self.tcp,
                short: false,
            };
            let read = self.tls.read_tls(&mut probe);
            self.socket_drained = probe.short;
            match read {
                Ok(0) => return Ok(0),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            if let Err(e) = self.tls.process_new_packets() {
                let handshaking = self.tls.is_handshaking();
                let _ = self.write_out();
                if handshaking {
                    crate::warning!("Error accepting a client connection: {e}");
                } else {
                    crate::verbose!("Error reading from a TLS client: {e}");
                }
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
            // Handshake messages (or a key update) to answer: a full socket
            // keeps them for its writable edge (the loop's flush).
            self.write_out()?;
        }
    }
}

impl Write for TlsStream {
    /// Encrypts and sends plaintext. Returns less than `buf.len()` only
    /// when the socket is full (as a TCP socket's short write means), and
    /// WouldBlock when it took nothing; records already encrypted but not
    /// yet written are sent first.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut taken = 0;
        while taken < buf.len() {
            if !self.write_out()? {
                break;
            }
            match self.tls.writer().write(&buf[taken..]) {
                Ok(0) => break,
                Ok(n) => taken += n,
                Err(e) => return Err(e),
            }
        }
        // What was encrypted last goes out now (or at the writable edge).
        self.write_out()?;
        if taken == 0 && !buf.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_out().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_default_to_tls12_and_tls13_and_refuse_unknown_names() {
        assert_eq!(protocols("").unwrap().len(), 2);
        assert_eq!(protocols("TLSv1.3").unwrap().len(), 1);
        assert_eq!(protocols("tlsv1.2  TLSv1.3").unwrap().len(), 2);
        assert!(protocols("TLSv1.4")
            .unwrap_err()
            .contains("Invalid tls-protocols"));
        assert!(protocols("TLSv1 TLSv1.1").unwrap_err().contains("TLSv1.2"));
    }

    #[test]
    fn ciphers_select_named_suites_and_keep_all_for_keywords() {
        let s = cipher_suites(
            "ECDHE-RSA-AES128-GCM-SHA256",
            "TLS_CHACHA20_POLY1305_SHA256",
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        let s = cipher_suites("DEFAULT:!MEDIUM", "").unwrap();
        assert_eq!(s.len(), TLS12_NAMES.len() + TLS13_NAMES.len());
    }

    #[test]
    fn auth_clients_falls_to_yes() {
        assert_eq!(AuthClients::parse("no"), AuthClients::No);
        assert_eq!(AuthClients::parse("OPTIONAL"), AuthClients::Optional);
        assert_eq!(AuthClients::parse("yes"), AuthClients::Yes);
    }

    #[test]
    fn configure_names_what_is_missing_as_redis_logs_it() {
        let mut c = Config::default();
        assert_eq!(
            TlsContext::configure(&c).err().unwrap(),
            "No tls-cert-file configured!"
        );
        c.set("tls-cert-file", &["/nonexistent/cert.pem".into()])
            .unwrap();
        assert_eq!(
            TlsContext::configure(&c).err().unwrap(),
            "No tls-key-file configured!"
        );
        c.set("tls-key-file", &["/nonexistent/key.pem".into()])
            .unwrap();
        assert!(TlsContext::configure(&c)
            .err()
            .unwrap()
            .starts_with("Either tls-ca-cert-file or tls-ca-cert-dir"));
        c.set("tls-auth-clients", &["no".into()]).unwrap();
        assert!(TlsContext::configure(&c)
            .err()
            .unwrap()
            .starts_with("Failed to load certificate: /nonexistent/cert.pem: "));
    }
}
