//! A connection's output: the replies being built, then sealed blocks on
//! their way to the socket, and the `client-output-buffer-limit` check made
//! after every reply appended.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::reply::Reply;
use crate::shared::LoopStats;

/// Once the replies being built reach this many bytes they are sealed into
/// a block of their own: a big or slow reader's output then grows by
/// blocks instead of reallocating (and copying) one ever larger buffer, and
/// each block is freed as soon as it is written.
const BLOCK: usize = 64 * 1024;

/// What a reply buffer is given back after sealing or a complete write,
/// and what it is shrunk to when a burst made it larger.
const REPLY_CAPACITY: usize = 16 * 1024;

/// Where a connection's replies wait for the socket: `blocks` (oldest
/// first), then `reply`, into which commands write.
#[derive(Default)]
pub(crate) struct Output {
    /// The replies being built; commands write here.
    pub(crate) reply: Reply,
    /// Bytes at the start of `reply.buf` already written. Only ever
    /// non-zero while `blocks` is empty (blocks are written first).
    reply_pos: usize,
    /// Sealed replies waiting for the socket.
    blocks: VecDeque<Vec<u8>>,
    /// Bytes at the start of the first block already written.
    block_pos: usize,
    /// Bytes in `blocks`, written or not.
    block_bytes: usize,
    /// Since when the pending output has been above the soft limit.
    soft_since: Option<Instant>,
}

/// Why a connection must be dropped without writing what it has pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverLimit;

impl Output {
    /// Bytes not yet written.
    pub(crate) fn pending(&self) -> usize {
        self.block_bytes - self.block_pos + self.reply.len() - self.reply_pos
    }

    /// True when everything was written.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending() == 0
    }

    /// For CLIENT LIST: (bytes pending in the reply buffer, sealed blocks
    /// waiting, bytes those blocks hold) — Redis's `obl`, `oll`, `omem`.
    pub(crate) fn shape(&self) -> (usize, usize, usize) {
        (
            self.reply.len() - self.reply_pos,
            self.blocks.len(),
            self.block_bytes - self.block_pos,
        )
    }

    /// Called after every reply appended (a command's, a pub/sub message,
    /// a blocked client's): seals a full reply buffer into a block, then
    /// applies `limit`, as Redis does after each reply, so that one batch of
    /// pipelined requests or one burst of messages cannot run past it.
    #[inline(always)]
    pub(crate) fn after_reply(&mut self, limit: &OutputLimit) -> Result<(), OverLimit> {
        if self.reply.len() >= BLOCK {
            self.seal();
        }
        // The common case, no limit for the class (a normal client's
        // default), costs one test per reply.
        if limit.is_none() {
            return Ok(());
        }
        self.check(limit)
    }

    /// Applies `limit` to what is pending.
    #[inline(never)]
    fn check(&mut self, limit: &OutputLimit) -> Result<(), OverLimit> {
        limit.check(self.pending() as u64, &mut self.soft_since)
    }

    /// Moves the reply buffer to the back of the blocks.
    fn seal(&mut self) {
        if self.blocks.is_empty() {
            self.block_pos = self.reply_pos;
        }
        self.reply_pos = 0;
        let full = std::mem::replace(&mut self.reply.buf, Vec::with_capacity(REPLY_CAPACITY));
        self.block_bytes += full.len();
        self.blocks.push_back(full);
    }

    /// Takes everything pending at once, as one buffer (for a connection
    /// without a socket).
    pub(crate) fn take(&mut self) -> Vec<u8> {
        let mut all = Vec::with_capacity(self.pending());
        for (i, block) in self.blocks.drain(..).enumerate() {
            let from = if i == 0 { self.block_pos } else { 0 };
            all.extend_from_slice(&block[from..]);
        }
        all.extend_from_slice(&self.reply.buf[self.reply_pos..]);
        self.block_pos = 0;
        self.block_bytes = 0;
        self.reply_pos = 0;
        self.reply.buf.clear();
        all
    }

    /// Writes what is pending to `sock`; Ok(true) when all of it went out.
    pub(crate) fn write_to(
        &mut self,
        sock: &mut impl Write,
        stats: &LoopStats,
    ) -> io::Result<bool> {
        if self.blocks.is_empty() {
            return self.write_reply(sock, stats);
        }
        loop {
            let rest = match self.blocks.front() {
                Some(block) => &block[self.block_pos..],
                None if self.reply_pos < self.reply.len() => &self.reply.buf[self.reply_pos..],
                None => break,
            };
            let n = match sock.write(rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            stats.net_out.fetch_add(n as u64, Ordering::Relaxed);
            if n < rest.len() {
                // The socket's buffer is full: a retry would only say so.
                match self.blocks.front() {
                    Some(_) => self.block_pos += n,
                    None => self.reply_pos += n,
                }
                return Ok(false);
            }
            match self.blocks.pop_front() {
                Some(block) => {
                    self.block_bytes -= block.len();
                    self.block_pos = 0;
                }
                None => self.reply_pos = self.reply.len(),
            }
        }
        self.written();
        Ok(true)
    }

    /// [`Output::write_to`] when no block waits: the reply buffer alone,
    /// the path every small reply takes.
    fn write_reply(&mut self, sock: &mut impl Write, stats: &LoopStats) -> io::Result<bool> {
        while self.reply_pos < self.reply.len() {
            match sock.write(&self.reply.buf[self.reply_pos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.reply_pos += n;
                    stats.net_out.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.written();
        Ok(true)
    }

    /// Everything went out: the reply buffer starts over (shrunk, when a
    /// burst made it large).
    fn written(&mut self) {
        self.reply.buf.clear();
        self.reply_pos = 0;
        if self.reply.buf.capacity() > 4 * REPLY_CAPACITY {
            self.reply.buf.shrink_to(REPLY_CAPACITY);
        }
    }
}

/// `client-output-buffer-limit` for one client class: close the client
/// when its pending output exceeds `hard`, or stays above `soft` for
/// `soft_secs` (0 disables either limit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct OutputLimit {
    hard: u64,
    soft: u64,
    soft_secs: u64,
}

impl OutputLimit {
    /// The current limit of the normal (`pubsub` false) or pub/sub class.
    pub(crate) fn of(limits: &[[AtomicU64; 3]; 2], pubsub: bool) -> OutputLimit {
        let [hard, soft, secs] = &limits[usize::from(pubsub)];
        OutputLimit {
            hard: hard.load(Ordering::Relaxed),
            soft: soft.load(Ordering::Relaxed),
            soft_secs: secs.load(Ordering::Relaxed),
        }
    }

    /// True when neither limit is set.
    #[inline]
    fn is_none(&self) -> bool {
        self.hard == 0 && self.soft == 0
    }

    /// Checks `pending` bytes against the limit; `soft_since` remembers
    /// when the soft limit was first exceeded.
    #[inline]
    fn check(&self, pending: u64, soft_since: &mut Option<Instant>) -> Result<(), OverLimit> {
        if self.hard > 0 && pending > self.hard {
            return Err(OverLimit);
        }
        if self.soft > 0 && pending > self.soft {
            let since = *soft_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= Duration::from_secs(self.soft_secs) {
                return Err(OverLimit);
            }
            return Ok(());
        }
        *soft_since = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket that accepts `room` bytes, then would block.
    struct Sink {
        got: Vec<u8>,
        room: usize,
    }

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = b.len().min(self.room);
            self.room -= n;
            self.got.extend_from_slice(&b[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn limit(hard: u64, soft: u64, soft_secs: u64) -> OutputLimit {
        OutputLimit {
            hard,
            soft,
            soft_secs,
        }
    }

    #[test]
    fn replies_reach_the_socket_in_order_across_blocks_and_partial_writes() {
        let stats = LoopStats::default();
        let mut out = Output::default();
        let mut sink = Sink {
            got: Vec::new(),
            room: 0,
        };
        let mut want = Vec::new();
        let mut n = 0u32;
        // Replies of mixed sizes, written through a socket that takes an
        // odd number of bytes at a time.
        for round in 0..40 {
            for _ in 0..(round % 7) + 1 {
                let len = [3, 900, 70_000, 5][(n % 4) as usize] + round;
                let reply: Vec<u8> = (0..len).map(|i| (i as u32 ^ n) as u8).collect();
                out.reply.buf.extend_from_slice(&reply);
                want.extend_from_slice(&reply);
                out.after_reply(&OutputLimit::default()).unwrap();
                n += 1;
            }
            sink.room = 12_345 * (round as usize % 5);
            let done = out.write_to(&mut sink, &stats).unwrap();
            assert_eq!(done, sink.got.len() == want.len());
            assert_eq!(out.pending(), want.len() - sink.got.len());
        }
        sink.room = usize::MAX;
        assert!(out.write_to(&mut sink, &stats).unwrap());
        assert!(
            sink.got == want,
            "the bytes written differ from the replies"
        );
        assert!(out.is_empty());
        assert_eq!(out.shape(), (0, 0, 0));
        assert_eq!(stats.net_out.load(Ordering::Relaxed), want.len() as u64);
    }

    #[test]
    fn the_hard_limit_holds_per_reply() {
        let mut out = Output::default();
        let l = limit(100, 0, 0);
        out.reply.buf.extend_from_slice(&[b'x'; 100]);
        assert_eq!(out.after_reply(&l), Ok(()));
        out.reply.buf.push(b'x');
        assert_eq!(out.after_reply(&l), Err(OverLimit));
    }

    #[test]
    fn the_soft_limit_holds_after_its_seconds_and_resets_below_it() {
        let mut out = Output::default();
        out.reply.buf.extend_from_slice(&[b'x'; 11]);
        // Over for less than its seconds: allowed.
        assert_eq!(out.after_reply(&limit(0, 10, 3600)), Ok(()));
        assert!(out.soft_since.is_some());
        // Zero seconds: over it is over.
        assert_eq!(out.after_reply(&limit(0, 10, 0)), Err(OverLimit));
        // Back under: the clock restarts.
        out.reply.buf.truncate(5);
        assert_eq!(out.after_reply(&limit(0, 10, 0)), Ok(()));
        assert!(out.soft_since.is_none());
    }

    #[test]
    fn written_blocks_are_freed_and_a_grown_reply_buffer_shrinks() {
        let stats = LoopStats::default();
        let mut out = Output::default();
        for _ in 0..10 {
            out.reply.buf.extend_from_slice(&[b'y'; BLOCK]);
            out.after_reply(&OutputLimit::default()).unwrap();
        }
        assert_eq!(out.shape(), (0, 10, 10 * BLOCK));
        let mut sink = Sink {
            got: Vec::new(),
            room: 3 * BLOCK + 7,
        };
        assert!(!out.write_to(&mut sink, &stats).unwrap());
        assert_eq!(out.shape(), (0, 7, 7 * BLOCK - 7));
        out.reply
            .buf
            .extend_from_slice(&[b'z'; 4 * REPLY_CAPACITY + 1]);
        sink.room = usize::MAX;
        assert!(out.write_to(&mut sink, &stats).unwrap());
        assert!(out.reply.buf.capacity() <= 4 * REPLY_CAPACITY);
    }
}
