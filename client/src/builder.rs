//! [`ClientBuilder`]: settings beyond the URL.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Config, IntoConfig, Protocol, TlsConfig};
use crate::error::Result;
use crate::sync::Client;
use crate::sync::Subscriber;

/// Builds a [`Client`] (or a multiplexed client, or a subscriber) with
/// timeouts, a client name, a protocol version...
///
/// ```no_run
/// use std::time::Duration;
/// use soquete_client::{Client, Protocol};
/// let mut c = Client::builder("redis://127.0.0.1:6379")
///     .connect_timeout(Duration::from_secs(1))
///     .read_timeout(Duration::from_secs(2))
///     .write_timeout(Duration::from_secs(2))
///     .client_name("worker-7")
///     .protocol(Protocol::Resp3)
///     .connect()?;
/// # Ok::<(), soquete_client::Error>(())
/// ```
#[derive(Debug)]
pub struct ClientBuilder {
    cfg: Result<Config>,
}

impl ClientBuilder {
    /// Starts from a URL, [`Config`], address... (a bad URL is reported by the
    /// `connect` call).
    pub fn new<C: IntoConfig>(target: C) -> ClientBuilder {
        ClientBuilder {
            cfg: target.into_config(),
        }
    }

    fn set(mut self, f: impl FnOnce(&mut Config)) -> Self {
        if let Ok(c) = &mut self.cfg {
            f(c);
        }
        self
    }

    /// Bound on opening the connection.
    pub fn connect_timeout(self, t: Duration) -> Self {
        self.set(|c| c.connect_timeout = Some(t))
    }
    /// Bound on each blocking read; for the async client, on each request's
    /// wait for its reply.
    pub fn read_timeout(self, t: Duration) -> Self {
        self.set(|c| c.read_timeout = Some(t))
    }
    /// Bound on each blocking write.
    pub fn write_timeout(self, t: Duration) -> Self {
        self.set(|c| c.write_timeout = Some(t))
    }
    /// The name `CLIENT LIST` shows for this connection.
    pub fn client_name(self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.set(|c| c.client_name = Some(name))
    }
    /// RESP2 (default) or RESP3 (with fallback to RESP2 when refused).
    pub fn protocol(self, p: Protocol) -> Self {
        self.set(|c| c.protocol = p)
    }
    /// The database to `SELECT`.
    pub fn db(self, db: i64) -> Self {
        self.set(|c| c.db = db)
    }
    /// ACL user name and password.
    pub fn auth(self, username: Option<&str>, password: &str) -> Self {
        let (u, p) = (username.map(str::to_owned), password.to_owned());
        self.set(|c| {
            c.username = u;
            c.password = Some(p);
        })
    }
    /// Connect attempts after a lost connection (0: never reconnect).
    pub fn reconnect_attempts(self, n: u32) -> Self {
        self.set(|c| c.reconnect_attempts = n)
    }
    /// Wait between connect attempts: `min`, doubling up to `max`.
    pub fn backoff(self, min: Duration, max: Duration) -> Self {
        self.set(|c| {
            c.backoff_min = min;
            c.backoff_max = max.max(min);
        })
    }
    /// Async client: the most requests waiting for replies at once.
    pub fn max_in_flight(self, n: usize) -> Self {
        self.set(|c| c.max_in_flight = n.max(1))
    }

    /// Connects over TLS (as a `rediss://` URL does), verifying the server's
    /// certificate against the built-in roots unless
    /// [`tls_ca_file`](Self::tls_ca_file) names others. Needs the `tls` feature.
    pub fn tls(self) -> Self {
        self.set(|c| {
            c.tls.get_or_insert_with(TlsConfig::default);
        })
    }
    /// TLS, trusting the certificate authorities of this PEM file.
    pub fn tls_ca_file(self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        self.set(|c| c.tls.get_or_insert_with(TlsConfig::default).ca_file = Some(path))
    }
    /// TLS with a client certificate (mutual TLS): PEM files of the
    /// certificate chain and of its private key.
    pub fn tls_client_cert(self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        let (cert, key) = (cert.into(), key.into());
        self.set(|c| {
            let t = c.tls.get_or_insert_with(TlsConfig::default);
            t.cert_file = Some(cert);
            t.key_file = Some(key);
        })
    }
    /// **Dangerous**: TLS without verifying the server's certificate. The
    /// traffic is encrypted, but anyone who can reach the network path can
    /// pose as the server and read it. For tests and self-signed
    /// development servers only, never in production.
    pub fn tls_insecure(self) -> Self {
        self.set(|c| c.tls.get_or_insert_with(TlsConfig::default).insecure = true)
    }

    /// The settings so far.
    pub fn config(&self) -> Result<&Config> {
        self.cfg
            .as_ref()
            .map_err(|e| crate::Error::Url(e.to_string()))
    }

    /// Connects a blocking [`Client`].
    pub fn connect(self) -> Result<Client> {
        Client::with_config(self.cfg?)
    }

    /// Connects a blocking pub/sub [`Subscriber`].
    pub fn subscriber(self) -> Result<Subscriber> {
        Subscriber::connect(self.cfg?)
    }

    /// Connects an async [`MultiplexedClient`](crate::MultiplexedClient).
    #[cfg(feature = "tokio")]
    pub async fn connect_multiplexed(self) -> Result<crate::MultiplexedClient> {
        crate::MultiplexedClient::with_config(self.cfg?).await
    }

    /// Connects a dedicated async connection,
    /// [`AsyncConnection`](crate::AsyncConnection) (transactions, blocking commands).
    #[cfg(feature = "tokio")]
    pub async fn connect_async(self) -> Result<crate::AsyncConnection> {
        crate::AsyncConnection::with_config(self.cfg?).await
    }

    /// Connects an async pub/sub [`AsyncSubscriber`](crate::AsyncSubscriber).
    #[cfg(feature = "tokio")]
    pub async fn async_subscriber(self) -> Result<crate::AsyncSubscriber> {
        crate::AsyncSubscriber::connect(self.cfg?).await
    }
}
