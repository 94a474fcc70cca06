//! [`AsyncTarget`]: where an async command or pipeline can be sent.

use std::future::Future;

use soquete_resp::Frame;

use super::dedicated::AsyncConnection;
use super::multiplexed::MultiplexedClient;
use crate::cmd::Cmd;
use crate::error::Result;
use crate::pipeline::Pipeline;

/// Where an async [`Cmd`] or [`Pipeline`] can be sent: what
/// [`Cmd::query_async`] and [`Pipeline::query_async`] take.
///
/// The crate implements it for `&MultiplexedClient` (shared by many tasks),
/// and for `&mut AsyncConnection` and `&mut MultiplexedClient`. It is open:
/// a connection pool's handle (bb8, deadpool) or a test double implements
/// it for a reference to itself, and every `query_async` call accepts it.
///
/// ```no_run
/// # async fn demo() -> soquete_client::Result<()> {
/// use soquete_client::{cmd, pipe, AsyncConnection, MultiplexedClient};
/// let shared = MultiplexedClient::connect("redis://127.0.0.1").await?;
/// let mut own = shared.dedicated_connection().await?;
/// let a: i64 = cmd("INCR").arg("n").query_async(&shared).await?;
/// let b: i64 = cmd("INCR").arg("n").query_async(&mut own).await?;
/// let (c,): (i64,) = pipe().incr("n").query_async(&mut own).await?;
/// # Ok(())
/// # }
/// ```
///
/// # Implementing it
///
/// A pool's handle passes the requests on to the connection it holds; a
/// test double answers them itself. Both are implemented on `&mut Self`, so
/// that the future may borrow the value for as long as the request runs:
///
/// ```
/// use std::future::Future;
/// use soquete_client::{cmd, pipe, AsyncConnection, AsyncTarget, Cmd, Frame, Pipeline, Result};
///
/// /// What a pool lends: a connection it takes back when dropped.
/// struct Pooled {
///     conn: AsyncConnection,
/// }
///
/// impl AsyncTarget for &mut Pooled {
///     fn send_command(self, cmd: &Cmd) -> impl Future<Output = Result<Frame>> + Send {
///         self.conn.send_command(cmd)
///     }
///     fn send_pipeline(self, p: &Pipeline) -> impl Future<Output = Result<Vec<Frame>>> + Send {
///         self.conn.send_pipeline(p)
///     }
/// }
///
/// /// A test double: every command gets the next canned reply.
/// struct Canned(Vec<Frame>);
///
/// impl AsyncTarget for &mut Canned {
///     async fn send_command(self, _: &Cmd) -> Result<Frame> {
///         Ok(self.0.remove(0))
///     }
///     async fn send_pipeline(self, p: &Pipeline) -> Result<Vec<Frame>> {
///         Ok(self.0.drain(..p.reply_count()).collect())
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut fake = Canned(vec![Frame::Integer(7), Frame::Integer(1), Frame::Bulk("v".into())]);
/// let n: i64 = cmd("INCR").arg("n").query_async(&mut fake).await?;
/// let (a, b): (i64, String) = pipe().incr("n").get("k").query_async(&mut fake).await?;
/// assert_eq!((n, a, b.as_str()), (7, 1, "v"));
/// # Ok::<(), soquete_client::Error>(())
/// # }).unwrap();
/// ```
///
/// Generic code takes its connection by `&mut` and asks for
/// `for<'a> &'a mut C: AsyncTarget`, which every client above satisfies:
///
/// ```no_run
/// use soquete_client::{cmd, AsyncTarget, Result};
///
/// async fn bump_twice<C>(con: &mut C) -> Result<i64>
/// where
///     for<'a> &'a mut C: AsyncTarget,
/// {
///     let _: i64 = cmd("INCR").arg("n").query_async(&mut *con).await?;
///     cmd("INCR").arg("n").query_async(con).await
/// }
/// ```
pub trait AsyncTarget {
    /// Sends one command and returns its reply; a server error reply is
    /// [`Err`]([`Error::Server`](crate::Error::Server)), as are connection
    /// failures (after the resend policy of the crate docs, "Reconnection
    /// policy", for the crate's own clients).
    fn send_command(self, cmd: &Cmd) -> impl Future<Output = Result<Frame>> + Send;

    /// Sends a pipeline (its commands together, in order) and returns every
    /// reply the server sends for it, errors included as frames:
    /// [`p.reply_count()`](Pipeline::reply_count) of them, so for an atomic
    /// pipeline `MULTI`'s `+OK`, one `+QUEUED` per command, then `EXEC`'s
    /// array. [`Pipeline::query_async`] turns them into the result.
    fn send_pipeline(self, p: &Pipeline) -> impl Future<Output = Result<Vec<Frame>>> + Send;
}

impl AsyncTarget for &MultiplexedClient {
    fn send_command(self, cmd: &Cmd) -> impl Future<Output = Result<Frame>> + Send {
        self.req_command(cmd)
    }
    fn send_pipeline(self, p: &Pipeline) -> impl Future<Output = Result<Vec<Frame>>> + Send {
        self.req_pipeline(p)
    }
}

/// As `&MultiplexedClient`: so that code generic over `&mut C` takes it too.
impl AsyncTarget for &mut MultiplexedClient {
    fn send_command(self, cmd: &Cmd) -> impl Future<Output = Result<Frame>> + Send {
        self.req_command(cmd)
    }
    fn send_pipeline(self, p: &Pipeline) -> impl Future<Output = Result<Vec<Frame>>> + Send {
        self.req_pipeline(p)
    }
}

impl AsyncTarget for &mut AsyncConnection {
    fn send_command(self, cmd: &Cmd) -> impl Future<Output = Result<Frame>> + Send {
        self.req_command(cmd)
    }
    fn send_pipeline(self, p: &Pipeline) -> impl Future<Output = Result<Vec<Frame>>> + Send {
        self.req_pipeline(p)
    }
}
