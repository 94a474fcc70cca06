//! Connecting over TLS, blocking and async: PING, SET, GET.
//!
//! Give a `rediss://` URL; the CA file, client certificate and `insecure`
//! go in its query. Against a soquete-server or redis-server started with
//! `--tls-port 6380 --tls-cert-file server.crt --tls-key-file server.key
//! --tls-ca-cert-file ca.crt --tls-auth-clients no`:
//!
//! ```text
//! cargo run -p soquete-client --features tls,tokio --example tls -- \
//!     "rediss://127.0.0.1:6380?ca_file=ca.crt"
//! ```
//!
//! With `--tls-auth-clients yes` add `&cert_file=client.crt&key_file=client.key`;
//! for a self-signed server you cannot verify (tests only!), `#insecure`.

use soquete_client::{Client, MultiplexedClient, Result};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "rediss://127.0.0.1:6380".into());

    let mut c = Client::connect(url.as_str())?;
    let pong: String = c.ping()?;
    let _: () = c.set("example:tls", "over TLS")?;
    let v: String = c.get("example:tls")?;
    println!("blocking: {pong}, example:tls = {v:?}");

    let m = MultiplexedClient::connect(url.as_str()).await?;
    let n: i64 = m.incr("example:tls:count").await?;
    println!("async: example:tls:count = {n}");
    Ok(())
}
