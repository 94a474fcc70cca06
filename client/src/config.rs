//! Where to connect and how: URLs, addresses, the builder's settings.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};

/// The RESP version a connection speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// RESP2: what every Redis speaks. The default.
    #[default]
    Resp2,
    /// RESP3, asked for with `HELLO 3`. Against a server that refuses it
    /// (Redis before 6, or `-NOPROTO`), the connection falls back to RESP2;
    /// [`Client::protocol`](crate::Client::protocol) tells which one is in use.
    Resp3,
}

/// Where the server listens.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Addr {
    /// A TCP host name or IP address and a port.
    Tcp {
        /// Host name, IPv4 or IPv6 address (without brackets).
        host: String,
        /// Port.
        port: u16,
    },
    /// A Unix domain socket path.
    Unix(PathBuf),
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Addr::Tcp { host, port } => write!(f, "{host}:{port}"),
            Addr::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// TLS settings of a connection (`rediss://`). Needs the crate's `tls`
/// feature to connect; without it, connecting fails with
/// [`Error::Tls`](crate::Error::Tls).
///
/// The server's certificate is verified against `ca_file` when given, else
/// against Mozilla's root certificates (compiled in, from `webpki-roots`),
/// for the host name of the address (an IP address is checked against the
/// certificate's IP address entries).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TlsConfig {
    /// PEM file of the certificate authorities to trust instead of the
    /// built-in roots.
    pub ca_file: Option<PathBuf>,
    /// PEM file of the client certificate (chain) for mutual TLS; needs `key_file`.
    pub cert_file: Option<PathBuf>,
    /// PEM file of the client certificate's private key; needs `cert_file`.
    pub key_file: Option<PathBuf>,
    /// **Dangerous**: accept any server certificate, unverified. The
    /// connection is encrypted but anyone on the path can pose as the
    /// server. For tests and self-signed development servers only.
    pub insecure: bool,
}

/// Everything needed to open and set up a connection. Built from a URL with
/// [`Config::from_url`] or with a [`ClientBuilder`](crate::ClientBuilder).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The server's address.
    pub addr: Addr,
    /// ACL user name for `AUTH`/`HELLO` (needs `password`).
    pub username: Option<String>,
    /// Password for `AUTH`/`HELLO`.
    pub password: Option<String>,
    /// Database selected with `SELECT` after connecting (0 is not sent).
    pub db: i64,
    /// Name given with `CLIENT SETNAME` (or `HELLO ... SETNAME`).
    pub client_name: Option<String>,
    /// RESP version to ask for.
    pub protocol: Protocol,
    /// Bound on the time to open the connection (each resolved address).
    pub connect_timeout: Option<Duration>,
    /// Bound on each blocking read; for the async client, on each request's
    /// wait for its reply.
    pub read_timeout: Option<Duration>,
    /// Bound on each blocking write.
    pub write_timeout: Option<Duration>,
    /// Reconnection: how many connect attempts, with backoff, before the
    /// requests that wait for a connection fail (0 disables reconnecting).
    pub reconnect_attempts: u32,
    /// Reconnection: the first wait between attempts (doubled each time).
    pub backoff_min: Duration,
    /// Reconnection: the longest wait between attempts.
    pub backoff_max: Duration,
    /// Async client: the most requests waiting for a reply at once; a caller
    /// beyond it waits for a slot (backpressure).
    pub max_in_flight: usize,
    /// TLS, when set (`rediss://` URLs, [`ClientBuilder::tls`](crate::ClientBuilder::tls)).
    pub tls: Option<TlsConfig>,
}

impl Config {
    /// Settings for `addr` with all defaults: RESP2, db 0, no timeouts,
    /// 6 reconnect attempts backing off from 10 ms to 1 s, 65,536 requests in flight.
    pub fn new(addr: Addr) -> Self {
        Config {
            addr,
            username: None,
            password: None,
            db: 0,
            client_name: None,
            protocol: Protocol::Resp2,
            connect_timeout: None,
            read_timeout: None,
            write_timeout: None,
            reconnect_attempts: 6,
            backoff_min: Duration::from_millis(10),
            backoff_max: Duration::from_secs(1),
            max_in_flight: 65_536,
            tls: None,
        }
    }

    /// Parses a connection URL:
    ///
    /// * `redis://[[user]:password@]host[:port][/db][?protocol=resp3]` (port 6379 by default;
    ///   IPv6 hosts in brackets: `redis://[::1]:6380`)
    /// * `unix:///path/to.sock[?db=N&protocol=resp3]` (also `redis+unix://`)
    /// * `rediss://...` (also `valkeys://`): as `redis://`, over TLS (see
    ///   [`TlsConfig`]). Query parameters `ca_file=PATH` (trusted CAs, PEM),
    ///   `cert_file=PATH` and `key_file=PATH` (client certificate for mutual
    ///   TLS) and `insecure=true`; a URL ending in `#insecure` (redis-rs's
    ///   form) is insecure too. **`insecure` turns certificate verification
    ///   off**: never use it where the network is not yours.
    ///
    /// `valkey://` is accepted as `redis://`. User, password and query
    /// values are percent-decoded.
    ///
    /// ```
    /// use soquete_client::{Addr, Config, Protocol};
    /// let c = Config::from_url("redis://alice:s%40cret@localhost:6380/2?protocol=resp3").unwrap();
    /// assert_eq!(c.addr, Addr::Tcp { host: "localhost".into(), port: 6380 });
    /// assert_eq!(c.username.as_deref(), Some("alice"));
    /// assert_eq!(c.password.as_deref(), Some("s@cret"));
    /// assert_eq!(c.db, 2);
    /// assert_eq!(c.protocol, Protocol::Resp3);
    ///
    /// let u = Config::from_url("unix:///tmp/redis.sock?db=3").unwrap();
    /// assert_eq!(u.addr, Addr::Unix("/tmp/redis.sock".into()));
    /// assert_eq!(u.db, 3);
    ///
    /// let t = Config::from_url("rediss://cache.example.com:6380?ca_file=/etc/ca.pem").unwrap();
    /// let tls = t.tls.unwrap();
    /// assert_eq!(tls.ca_file.as_deref(), Some(std::path::Path::new("/etc/ca.pem")));
    /// assert!(!tls.insecure);
    /// assert!(Config::from_url("rediss://127.0.0.1:6380/#insecure").unwrap().tls.unwrap().insecure);
    /// ```
    pub fn from_url(url: &str) -> Result<Config> {
        parse_url(url)
    }
}

/// Anything that can name a server: a URL string, a [`Config`], an [`Addr`],
/// a `(host, port)` pair or a `SocketAddr`.
pub trait IntoConfig {
    /// Converts into full settings.
    fn into_config(self) -> Result<Config>;
}

impl IntoConfig for Config {
    fn into_config(self) -> Result<Config> {
        Ok(self)
    }
}
impl IntoConfig for &Config {
    fn into_config(self) -> Result<Config> {
        Ok(self.clone())
    }
}
impl IntoConfig for &str {
    fn into_config(self) -> Result<Config> {
        parse_url(self)
    }
}
impl IntoConfig for String {
    fn into_config(self) -> Result<Config> {
        parse_url(&self)
    }
}
impl IntoConfig for &String {
    fn into_config(self) -> Result<Config> {
        parse_url(self)
    }
}
impl IntoConfig for Addr {
    fn into_config(self) -> Result<Config> {
        Ok(Config::new(self))
    }
}
impl IntoConfig for (&str, u16) {
    fn into_config(self) -> Result<Config> {
        Ok(Config::new(Addr::Tcp {
            host: self.0.to_string(),
            port: self.1,
        }))
    }
}
impl IntoConfig for std::net::SocketAddr {
    fn into_config(self) -> Result<Config> {
        Ok(Config::new(Addr::Tcp {
            host: self.ip().to_string(),
            port: self.port(),
        }))
    }
}

fn url_err(msg: impl Into<String>) -> Error {
    Error::Url(msg.into())
}

fn percent_decode(s: &str) -> Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| url_err(format!("bad percent escape in {s:?}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| url_err("percent-decoded text is not UTF-8"))
}

fn apply_query(cfg: &mut Config, query: &str) -> Result<()> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v)?;
        match k {
            "db" => {
                cfg.db = v
                    .parse()
                    .map_err(|_| url_err(format!("db must be an integer, got {v:?}")))?
            }
            "protocol" => {
                cfg.protocol = match v.to_ascii_lowercase().as_str() {
                    "resp2" | "2" => Protocol::Resp2,
                    "resp3" | "3" => Protocol::Resp3,
                    _ => {
                        return Err(url_err(format!(
                            "protocol must be resp2 or resp3, got {v:?}"
                        )))
                    }
                }
            }
            "user" | "username" => cfg.username = Some(v),
            "password" | "pass" => cfg.password = Some(v),
            "name" | "client_name" => cfg.client_name = Some(v),
            "ca_file" | "cert_file" | "key_file" | "insecure" => {
                let tls = cfg
                    .tls
                    .as_mut()
                    .ok_or_else(|| url_err(format!("{k:?} needs a TLS URL (rediss://)")))?;
                match k {
                    "ca_file" => tls.ca_file = Some(PathBuf::from(v)),
                    "cert_file" => tls.cert_file = Some(PathBuf::from(v)),
                    "key_file" => tls.key_file = Some(PathBuf::from(v)),
                    _ => {
                        tls.insecure = match v.to_ascii_lowercase().as_str() {
                            "true" | "yes" | "1" | "" => true,
                            "false" | "no" | "0" => false,
                            _ => {
                                return Err(url_err(format!(
                                    "insecure must be true or false, got {v:?}"
                                )))
                            }
                        }
                    }
                }
            }
            _ => return Err(url_err(format!("unknown URL parameter {k:?}"))),
        }
    }
    Ok(())
}

fn parse_url(url: &str) -> Result<Config> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| url_err(format!("{url:?} has no scheme (redis:// or unix://)")))?;
    // redis-rs's `rediss://host/#insecure`. Only this exact fragment is
    // taken: a `#` elsewhere stays part of the URL (a password may hold one).
    let (rest, insecure_fragment) = match rest.strip_suffix("#insecure") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let mut cfg = match scheme.to_ascii_lowercase().as_str() {
        "redis" | "valkey" => parse_tcp(rest)?,
        "rediss" | "valkeys" => {
            let mut cfg = parse_tcp(rest)?;
            cfg.tls = Some(TlsConfig {
                insecure: insecure_fragment,
                ..TlsConfig::default()
            });
            cfg
        }
        "unix" | "redis+unix" => {
            if rest.is_empty() {
                return Err(url_err("unix:// URL has no path"));
            }
            Config::new(Addr::Unix(PathBuf::from(percent_decode(rest)?)))
        }
        other => return Err(url_err(format!("unknown scheme {other:?}"))),
    };
    if insecure_fragment && cfg.tls.is_none() {
        return Err(url_err("#insecure needs a TLS URL (rediss://)"));
    }
    if let Some(q) = query {
        apply_query(&mut cfg, q)?;
    }
    if let Some(t) = &cfg.tls {
        if t.cert_file.is_some() != t.key_file.is_some() {
            return Err(url_err("cert_file and key_file go together"));
        }
    }
    Ok(cfg)
}

fn parse_tcp(rest: &str) -> Result<Config> {
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let (host, port) = if let Some(stripped) = hostport.strip_prefix('[') {
        let end = stripped
            .find(']')
            .ok_or_else(|| url_err("unclosed '[' in IPv6 host"))?;
        let host = &stripped[..end];
        let after = &stripped[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(url_err(format!("unexpected {after:?} after IPv6 host"))),
        };
        (host, port)
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let host = if host.is_empty() { "127.0.0.1" } else { host };
    let port = match port {
        None | Some("") => 6379,
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| url_err(format!("port must be a number 0-65535, got {p:?}")))?,
    };
    let mut cfg = Config::new(Addr::Tcp {
        host: host.to_string(),
        port,
    });
    if let Some(ui) = userinfo {
        let (user, pass) = match ui.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (ui, None),
        };
        match pass {
            Some(p) => {
                if !user.is_empty() {
                    cfg.username = Some(percent_decode(user)?);
                }
                cfg.password = Some(percent_decode(p)?);
            }
            // `redis://secret@host` (no colon): Redis tools read it as a password.
            None if !user.is_empty() => cfg.password = Some(percent_decode(user)?),
            None => {}
        }
    }
    let path = path.trim_end_matches('/');
    if !path.is_empty() {
        cfg.db = path
            .parse()
            .map_err(|_| url_err(format!("database must be an integer, got {path:?}")))?;
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(h: &str, p: u16) -> Addr {
        Addr::Tcp {
            host: h.into(),
            port: p,
        }
    }

    #[test]
    fn parses_minimal_url_with_default_port() {
        let c = Config::from_url("redis://localhost").unwrap();
        assert_eq!(c.addr, tcp("localhost", 6379));
        assert_eq!(c.db, 0);
        assert_eq!(c.password, None);
    }

    #[test]
    fn parses_password_only_forms() {
        let c = Config::from_url("redis://:pw@h:1/").unwrap();
        assert_eq!((c.username, c.password.as_deref()), (None, Some("pw")));
        let c = Config::from_url("redis://pw@h").unwrap();
        assert_eq!(c.password.as_deref(), Some("pw"));
    }

    #[test]
    fn parses_ipv6_host() {
        let c = Config::from_url("redis://[::1]:6380/1").unwrap();
        assert_eq!(c.addr, tcp("::1", 6380));
        assert_eq!(c.db, 1);
        assert_eq!(c.addr.to_string(), "[::1]:6380");
    }

    #[test]
    fn password_may_contain_at_sign_when_escaped_or_not() {
        let c = Config::from_url("redis://u:a@b@h").unwrap();
        assert_eq!(c.password.as_deref(), Some("a@b"));
        assert_eq!(c.addr, tcp("h", 6379));
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in [
            "localhost:6379",
            "http://x",
            "redis://h:99999",
            "redis://h:abc",
            "redis://h/notanumber",
            "redis://[::1",
            "redis://h?protocol=resp9",
            "redis://h?bogus=1",
            "redis://u:%zz@h",
            "unix://",
            "redis://h?insecure=true",
            "redis://h#insecure",
            "redis://h?ca_file=/x",
            "rediss://h?insecure=maybe",
            "rediss://h?cert_file=/c",
        ] {
            assert!(matches!(Config::from_url(bad), Err(Error::Url(_))), "{bad}");
        }
    }

    #[test]
    fn parses_unix_urls() {
        let c = Config::from_url("unix:///var/run/r.sock").unwrap();
        assert_eq!(c.addr, Addr::Unix("/var/run/r.sock".into()));
        let c = Config::from_url("redis+unix:///s?db=2&password=x&protocol=3").unwrap();
        assert_eq!(c.addr, Addr::Unix("/s".into()));
        assert_eq!(
            (c.db, c.password.as_deref(), c.protocol),
            (2, Some("x"), Protocol::Resp3)
        );
    }

    #[test]
    fn parses_tls_urls_and_their_parameters() {
        let c = Config::from_url("rediss://u:p@h:6380/2").unwrap();
        assert_eq!((c.addr, c.db), (tcp("h", 6380), 2));
        assert_eq!(c.tls, Some(TlsConfig::default()));
        let c = Config::from_url(
            "valkeys://h?ca_file=%2Ftmp%2Fca.pem&cert_file=/c.pem&key_file=/k.pem&insecure=false",
        )
        .unwrap();
        let t = c.tls.unwrap();
        assert_eq!(t.ca_file, Some(PathBuf::from("/tmp/ca.pem")));
        assert_eq!(t.cert_file, Some(PathBuf::from("/c.pem")));
        assert_eq!(t.key_file, Some(PathBuf::from("/k.pem")));
        assert!(!t.insecure);
        for insecure in [
            "rediss://h/#insecure",
            "rediss://h?insecure=true",
            "rediss://h?insecure",
        ] {
            assert!(
                Config::from_url(insecure).unwrap().tls.unwrap().insecure,
                "{insecure}"
            );
        }
        assert_eq!(Config::from_url("valkey://h").unwrap().tls, None);
        assert_eq!(Config::from_url("redis://h").unwrap().tls, None);
    }

    #[test]
    fn hash_in_password_is_kept() {
        let c = Config::from_url("rediss://:a#b@h").unwrap();
        assert_eq!(c.password.as_deref(), Some("a#b"));
        assert!(!c.tls.unwrap().insecure);
    }
}
