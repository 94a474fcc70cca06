//! Optimistic transactions on an [`AsyncConnection`].

use std::ops::AsyncFnMut;

use super::connection::Connection;
use super::dedicated::AsyncConnection;
use crate::args::ToArgs;
use crate::error::Result;
use crate::pipeline::Pipeline;
use crate::proto::session::Session;
use crate::proto::transaction::{Next, Transaction, TxPolicy, TxRetry, WatchScope, Watching};

impl Watching for AsyncConnection {
    type Conn = Connection;
    fn session(&mut self) -> &mut Session<Connection> {
        &mut self.session
    }
}

impl AsyncConnection {
    /// Runs an optimistic transaction on `keys` with the default
    /// [`TxRetry`] policy: the async form of [`Client::transaction`](crate::Client::transaction).
    ///
    /// The closure is an async closure; write it `async move |con, pipe| ...`
    /// so that the future it returns owns what it captured, which is what
    /// lets the whole transaction run in a spawned task.
    ///
    /// ```no_run
    /// # async fn demo() -> soquete_client::Result<()> {
    /// use soquete_client::AsyncConnection;
    /// let mut con = AsyncConnection::connect("redis://127.0.0.1").await?;
    /// let key = String::from("counter");
    /// let (n,): (i64,) = con
    ///     .transaction(&key, async move |con, pipe| {
    ///         let n: i64 = con.get::<_, Option<i64>>("counter").await?.unwrap_or(0);
    ///         pipe.set("counter", n + 1).ignore().get("counter").query_async(con).await
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn transaction<K, T, F>(&mut self, keys: K, f: F) -> Result<T>
    where
        K: ToArgs,
        F: AsyncFnMut(&mut AsyncConnection, &mut Pipeline) -> Result<Option<T>>,
    {
        self.transaction_with(keys, TxRetry::default(), f).await
    }

    /// Runs an optimistic transaction on `keys`, as often as `policy`
    /// allows: the async form of [`Client::transaction_with`](crate::Client::transaction_with), with the
    /// same contract. Cancelling it (dropping its future) drops the
    /// connection when it may still hold the `WATCH`.
    pub async fn transaction_with<K, T, P, F>(&mut self, keys: K, policy: P, mut f: F) -> Result<T>
    where
        K: ToArgs,
        P: TxPolicy,
        F: AsyncFnMut(&mut AsyncConnection, &mut Pipeline) -> Result<Option<T>>,
    {
        let mut tx = Transaction::new(keys, policy);
        let scope = WatchScope(self);
        loop {
            if let Some(watch) = tx.watch() {
                scope.0.req_command(watch).await?;
            }
            let pipe = tx.begin(&mut scope.0.session);
            let r = f(scope.0, pipe).await;
            if tx.unwatch_due(&mut scope.0.session) && scope.0.unwatch().await.is_err() {
                scope.0.session.disconnect();
            }
            match tx.outcome(r)? {
                Next::Done(v) => return Ok(v),
                Next::RetryAfter(wait) => tokio::time::sleep(wait).await,
                Next::Retry => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::fake::{expect, req, send, watch_get_exec, FakePeer};
    use crate::{pipe, ClientBuilder};

    fn quick(url: &str) -> ClientBuilder {
        ClientBuilder::new(url).backoff(Duration::from_millis(1), Duration::from_millis(5))
    }

    #[tokio::test]
    async fn async_transaction_retries_in_a_spawned_task() {
        let mut p = pipe();
        p.atomic().set("k", 1).ignore().get("k");
        let mut wire = Vec::new();
        p.write_packed(&mut wire);
        let peer = FakePeer::start(vec![[
            watch_get_exec("$-1\r\n", &wire, "*-1\r\n"),
            watch_get_exec("$-1\r\n", &wire, "*2\r\n+OK\r\n$1\r\n1\r\n"),
            vec![
                expect(req(&["WATCH", "k"])),
                send("+OK\r\n"),
                expect(req(&["UNWATCH"])),
                send("+OK\r\n"),
            ],
        ]
        .concat()]);
        let mut c = quick(&peer.url()).connect_async().await.unwrap();
        let key = String::from("k");
        let task = tokio::spawn(async move {
            let (v,): (i64,) = c
                .transaction(&key, async move |con, pipe| {
                    let old: Option<i64> = con.get("k").await?;
                    pipe.set("k", old.unwrap_or(0) + 1)
                        .ignore()
                        .get("k")
                        .query_async(con)
                        .await
                })
                .await?;
            // An early return: the helper unwatches.
            let early: u8 = c.transaction("k", async |_, _| Ok(Some(7))).await?;
            Result::<_>::Ok((v, early, c))
        });
        let (v, early, mut c) = task.await.unwrap().unwrap();
        assert_eq!((v, early), (1, 7));
        assert_eq!(*c.session.watch_guard(), None);
        drop(c);
        peer.finish_async().await;
    }

    #[tokio::test]
    async fn a_cancelled_transaction_drops_the_watching_connection() {
        let peer = FakePeer::start(vec![vec![expect(req(&["WATCH", "k"])), send("+OK\r\n")]]);
        let mut c = quick(&peer.url()).connect_async().await.unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let mut rx = Some(rx);
        let r = tokio::time::timeout(
            Duration::from_millis(20),
            c.transaction("k", async |_, _| -> Result<Option<()>> {
                // Waits for ever (nobody sends): cancelled by the timeout.
                let _ = rx.take().expect("runs once").await;
                Ok(Some(()))
            }),
        )
        .await;
        assert!(r.is_err());
        drop(tx);
        assert!(!c.is_connected());
        assert_eq!(*c.session.watch_guard(), None);
        drop(c);
        peer.finish_async().await;
    }
}
