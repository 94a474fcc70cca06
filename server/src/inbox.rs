//! How threads reach an event loop: each loop has an inbox of
//! [`LoopMsg`]s and a waker. No loop touches another loop's connections;
//! it sends the owner a message instead (a new connection, pub/sub
//! messages, MONITOR lines, a blocked client's reply, CLIENT KILL,
//! shutdown).

use std::sync::{Arc, Mutex};

use mio::Waker;

use crate::client::ClientMeta;
use crate::event_loop::Sock;
use crate::pubsub::Delivery;
use crate::warning;

/// A message for an event loop.
pub enum LoopMsg {
    /// Take over a newly accepted connection.
    Accept(Sock, Arc<ClientMeta>),
    /// Close client `id` (CLIENT KILL).
    Kill(u64),
    /// Pub/sub messages for clients of this loop.
    Deliver(Vec<Delivery>),
    /// Tracking invalidations for clients of this loop.
    Tracking(Vec<crate::tracking::Note>),
    /// MONITOR lines for monitors of this loop: (client id, line).
    Monitor(Vec<(u64, Arc<[u8]>)>),
    /// A blocked client was served (or unblocked): its reply.
    Unblock {
        /// The client.
        client: u64,
        /// The reply bytes, in its protocol.
        reply: Vec<u8>,
    },
    /// CLIENT UNPAUSE: run the clients the pause held.
    Unpause,
    /// Stop: accept nothing more, write what is pending, exit.
    Shutdown,
}

/// One event loop's inbox and the waker that interrupts its poll.
pub struct LoopHandle {
    waker: Waker,
    inbox: Mutex<Vec<LoopMsg>>,
}

impl LoopHandle {
    /// The handle of the loop that polls for `waker`.
    pub fn new(waker: Waker) -> LoopHandle {
        LoopHandle {
            waker,
            inbox: Mutex::new(Vec::new()),
        }
    }

    /// Queues `msg` and wakes the loop.
    pub fn send(&self, msg: LoopMsg) {
        self.queue(msg);
        if let Err(e) = self.waker.wake() {
            warning!("waking an event loop failed: {e}");
        }
    }

    /// Queues `msg` without waking the loop: for a loop sending to itself,
    /// which drains its inbox after every batch anyway.
    pub fn queue(&self, msg: LoopMsg) {
        self.lock().push(msg);
    }

    /// Takes every message queued so far, oldest first.
    pub fn take(&self) -> Vec<LoopMsg> {
        std::mem::take(&mut *self.lock())
    }

    /// Takes the new connections waiting in the inbox, leaving every
    /// other message in its order (a loop busy running a long script
    /// hands its new connections to the others).
    pub fn take_accepts(&self) -> Vec<(Sock, Arc<ClientMeta>)> {
        let mut inbox = self.lock();
        if !inbox.iter().any(|m| matches!(m, LoopMsg::Accept(..))) {
            return Vec::new();
        }
        let mut accepts = Vec::new();
        let mut rest = Vec::with_capacity(inbox.len());
        for m in inbox.drain(..) {
            match m {
                LoopMsg::Accept(sock, meta) => accepts.push((sock, meta)),
                other => rest.push(other),
            }
        }
        *inbox = rest;
        accepts
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<LoopMsg>> {
        self.inbox.lock().unwrap_or_else(|p| p.into_inner())
    }
}
