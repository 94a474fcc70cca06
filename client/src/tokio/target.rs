//! [`AsyncTarget`]: where an async command or pipeline can be sent.

use std::future::Future;

use soquete_resp::Frame;

use super::dedicated::AsyncConnection;
use super::multiplexed::MultiplexedClient;
use crate::cmd::Cmd;
use crate::error::Result;
use crate::pipeline::Pipeline;

mod sealed {
    pub trait Sealed {}
    impl Sealed for &crate::MultiplexedClient {}
    impl Sealed for &mut crate::AsyncConnection {}
}

/// Where an async [`Cmd`] or [`Pipeline`] can be sent:
/// `&MultiplexedClient` (shared by many tasks) or `&mut AsyncConnection`
/// (owned by one). Sealed: only those two implement it.
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
pub trait AsyncTarget: sealed::Sealed {
    /// Sends one command; its raw reply (a server error is `Err`).
    #[doc(hidden)]
    fn send_command(self, cmd: &Cmd) -> impl Future<Output = Result<Frame>> + Send;
    /// Sends a pipeline; every reply, errors included.
    #[doc(hidden)]
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

impl AsyncTarget for &mut AsyncConnection {
    fn send_command(self, cmd: &Cmd) -> impl Future<Output = Result<Frame>> + Send {
        self.req_command(cmd)
    }
    fn send_pipeline(self, p: &Pipeline) -> impl Future<Output = Result<Vec<Frame>>> + Send {
        self.req_pipeline(p)
    }
}
