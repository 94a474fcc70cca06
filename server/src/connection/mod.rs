//! A client connection without its socket: the input received, the request
//! decoder, the client's state and the output on its way out. The event
//! loop puts a socket around one; a [`Session`](crate::session::Session)
//! feeds one from memory. Both run requests through [`Connection::run`] and
//! end one through [`Connection::disconnect`], so the command path and the
//! cleanup cannot drift apart between them.

pub(crate) mod input;
pub(crate) mod output;
mod prefetch;

use std::sync::atomic::Ordering;
use std::time::Instant;

use soquete_resp::{Limits, RequestDecoder};

use crate::client::{Client, Close, ReplyMode};
use crate::cmd::{self, LockPlan};
use crate::pubsub::Outbox;
use crate::shared::{unix_ms, LoopStats, Shared};
use crate::verbose;
use input::Input;
use output::{Output, OutputLimit, OverLimit};
use prefetch::Prefetcher;

/// One client's connection, socket aside.
pub(crate) struct Connection {
    /// Bytes received, not yet run.
    pub(crate) input: Input,
    decoder: RequestDecoder,
    /// Whether the decoder has the authenticated limits.
    decoder_auth: bool,
    /// The client's state.
    pub(crate) client: Client,
    /// Replies waiting to be written.
    pub(crate) output: Output,
}

/// Buffers a thread reuses from one batch of requests to the next.
#[derive(Default)]
pub(crate) struct Scratch {
    plan: LockPlan,
    argv: Vec<&'static [u8]>,
    prefetcher: Prefetcher,
    /// Pub/sub messages the requests produced, for the owner to send.
    pub(crate) outbox: Outbox,
}

/// The protocol limits for a client that has (or has not) authenticated.
fn limits_for(authenticated: bool) -> Limits {
    Limits {
        unauthenticated: !authenticated,
        ..Limits::default()
    }
}

/// Reuses a vector's allocation for a vector of a different lifetime.
/// (`collect` into a Vec of the same layout reuses the buffer in place.)
fn recycle<'a, 'b>(mut v: Vec<&'a [u8]>) -> Vec<&'b [u8]> {
    v.clear();
    v.into_iter().map(|_| -> &'b [u8] { &[] }).collect()
}

impl Connection {
    /// A connection for `client`.
    pub(crate) fn new(client: Client) -> Connection {
        Connection {
            input: Input::default(),
            decoder: RequestDecoder::with_limits(limits_for(client.authenticated)),
            decoder_auth: client.authenticated,
            output: Output::default(),
            client,
        }
    }

    /// How many bytes the request being received needs in all, as far as
    /// its headers tell (for sizing the input buffer).
    pub(crate) fn request_len(&self) -> usize {
        self.decoder.wants()
    }

    /// The `client-output-buffer-limit` of this client's class.
    pub(crate) fn output_limit(&self, shared: &Shared) -> OutputLimit {
        OutputLimit::of(&shared.hot.output_limits, self.client.subs.active())
    }

    /// Decodes and runs every complete request in the input, in order,
    /// appending the replies to the output; stops early when the client
    /// blocks or is to be closed. A protocol error is answered, the rest of
    /// the input dropped and the client marked to close after the reply.
    /// Stops with `Err` as soon as the replies break the client's output
    /// limit: the connection must then be dropped unwritten.
    pub(crate) fn run(
        &mut self,
        shared: &Shared,
        stats: &LoopStats,
        scratch: &mut Scratch,
    ) -> Result<(), OverLimit> {
        let now = unix_ms();
        let mut store = recycle(std::mem::take(&mut scratch.argv));
        let Connection {
            input,
            decoder,
            decoder_auth,
            output,
            client,
        } = self;
        let mut result = Ok(());
        // The limit of the client's class, read again only when a command
        // moves the client between classes (SUBSCRIBE, UNSUBSCRIBE).
        let mut subscribed = client.subs.active();
        let mut limit = OutputLimit::of(&shared.hot.output_limits, subscribed);
        let mut window = 0;
        let mut clock = Instant::now();
        while !input.is_empty()
            && client.close == Close::No
            && client.blocked.is_none()
            && !client.postponed
        {
            if window == 0 {
                window = scratch
                    .prefetcher
                    .run(&shared.keyspace, client.db, input.pending())
                    .max(1);
            }
            window -= 1;
            match decoder.decode(input.pending()) {
                Ok(None) => break,
                Ok(Some(req)) => {
                    let used = req.consumed();
                    if !req.is_empty() {
                        let mut argv = recycle(store);
                        argv.extend(req.args());
                        let mut env = cmd::Env {
                            shared,
                            stats,
                            plan: &mut scratch.plan,
                            now,
                            clock,
                            outbox: &mut scratch.outbox,
                        };
                        let mark = output.reply.buf.len();
                        cmd::execute(&argv, client, &mut output.reply, &mut env);
                        clock = env.clock;
                        store = recycle(argv);
                        // Off the fast path: CLIENT REPLY OFF/SKIP, and
                        // commands held by CLIENT PAUSE.
                        if client.postponed {
                            // The request stays in the input and runs
                            // again when the pause ends.
                            break;
                        }
                        if client.reply != ReplyMode::On && client.blocked.is_none() {
                            client.settle_reply(&mut output.reply.buf, mark);
                        }
                    }
                    input.consume(used);
                    if client.authenticated != *decoder_auth {
                        *decoder_auth = client.authenticated;
                        decoder.set_limits(limits_for(client.authenticated));
                    }
                    if client.subs.active() != subscribed {
                        subscribed = !subscribed;
                        limit = OutputLimit::of(&shared.hot.output_limits, subscribed);
                    }
                    result = output.after_reply(&limit);
                    if result.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    output.reply.error(&cmd::protocol_error(&e), stats);
                    verbose!("Protocol error ({e}) from client {}", client.meta.addr);
                    client.close = Close::AfterReply;
                    input.discard();
                }
            }
        }
        client.meta.last_ms.store(now, Ordering::Relaxed);
        scratch.argv = recycle(store);
        result
    }

    /// Ends the client's part in server-wide state: a wait on keys, its
    /// subscriptions, its WATCHes, its MONITOR. Every way a connection ends goes here.
    pub(crate) fn disconnect(&mut self, shared: &Shared) {
        if self.client.blocked.take().is_some() {
            shared.blocking.claim(self.client.id());
        }
        cmd::pubsub::unsubscribe_all(&mut self.client, shared);
        cmd::transaction::unwatch_all(&mut self.client, shared);
        cmd::server::monitor::stop(&mut self.client, shared);
        if let Some(t) = self.client.tracking.take() {
            shared.tracking.disable(shared, self.client.id(), &t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::recycle;

    #[test]
    fn recycle_keeps_the_allocation() {
        let mut v: Vec<&[u8]> = Vec::with_capacity(64);
        v.push(b"x");
        let ptr = v.as_ptr() as usize;
        let w: Vec<&[u8]> = recycle(v);
        assert!(w.is_empty());
        assert_eq!(w.capacity(), 64);
        assert_eq!(w.as_ptr() as usize, ptr);
    }
}
