//! A connection's input: bytes received and not yet run, in a buffer that
//! grows with what arrives rather than with what a header announces.

/// Bytes read at once (and the size of an input buffer in use).
pub(crate) const READ_CHUNK: usize = 16 * 1024;
/// The periodic resize gives back free space only when at least this much
/// is free (Redis's `clientsCronResizeQueryBuffer`: "a few kbytes").
const WASTE_MIN: usize = 4 * 1024;
/// A buffer above this size that is more than twice its recent peak is
/// cut down to the peak even when not idle (Redis's
/// `PROTO_RESIZE_THRESHOLD`).
const RESIZE_THRESHOLD: usize = 32 * 1024;
/// Idle input buffers above this size are given back.
const IDLE_BUF_MAX: usize = 256 * 1024;
/// A request at least this long gets an input buffer of its exact size
/// (Redis's `PROTO_MBULK_BIG_ARG`).
const BIG_REQUEST: usize = 32 * 1024;
/// At most this much of a big request is read at once (and the input
/// buffer initialised ahead of the data).
const READ_AHEAD: usize = 1 << 20;

/// `buf[start..end]` is received and not yet consumed. The whole Vec is
/// initialised, so reads need no unsafe. A new connection's buffer is
/// allocated by its first read, and an idle one's is given back by
/// [`Input::resize_periodically`].
#[derive(Default)]
pub(crate) struct Input {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The most bytes pending at once since the last periodic resize.
    peak: usize,
}

impl Input {
    /// The bytes received and not yet consumed.
    #[inline]
    pub(crate) fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// How many bytes are received and not yet consumed.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    /// True when everything received was consumed.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Marks `n` pending bytes consumed.
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.len());
        self.start += n;
    }

    /// Drops everything pending (after a protocol error).
    pub(crate) fn discard(&mut self) {
        self.start = self.end;
    }

    /// Appends bytes received without a socket (a [`Session`]).
    ///
    /// [`Session`]: crate::session::Session
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.make_room(0);
        self.buf.truncate(self.end);
        self.buf.extend_from_slice(bytes);
        self.end = self.buf.len();
    }

    /// Room to read into: a chunk, or up to [`READ_AHEAD`] of the rest of a
    /// request of `request` bytes the decoder is waiting for. Report what
    /// was read with [`Input::filled`].
    ///
    /// Memory follows the bytes that arrive, not a length a header merely
    /// announced: a big request (Redis's threshold, 32 KB) gets capacity for
    /// all of it at once, which costs nothing until written, so it is never
    /// copied into a larger buffer while it arrives; the buffer's initialised
    /// part runs at most one step ahead of the data. A big buffer is given
    /// back once its request has run.
    pub(crate) fn room(&mut self, request: usize) -> &mut [u8] {
        self.make_room(request);
        &mut self.buf[self.end..]
    }

    /// Records `n` bytes read into [`Input::room`].
    #[inline]
    pub(crate) fn filled(&mut self, n: usize) {
        debug_assert!(self.end + n <= self.buf.len());
        self.end += n;
        self.peak = self.peak.max(self.end - self.start);
    }

    /// Bytes the buffer holds room for beyond those pending (CLIENT LIST
    /// `qbuf-free`).
    pub(crate) fn free(&self) -> usize {
        self.buf.capacity() - self.len()
    }

    /// The periodic resize, as Redis's `clientsCronResizeQueryBuffer`
    /// (meant to run about once a second per client): when at least a few
    /// KB are free, an `idle` client's buffer keeps only its pending bytes,
    /// and a buffer above 32 KB that is more than twice the recent peak is
    /// cut to the peak (never below `request`, the length of the request
    /// being received). Then the peak starts again from what is pending.
    pub(crate) fn resize_periodically(&mut self, idle: bool, request: usize) {
        let size = self.buf.capacity();
        let used = self.len();
        if size - used > WASTE_MIN {
            if idle {
                self.shrink_to(used);
            } else if size > RESIZE_THRESHOLD && size / 2 > self.peak {
                self.shrink_to(used.max(self.peak).max(request));
            }
        }
        self.peak = used.max(request.min(self.buf.capacity()));
    }

    /// Gives back capacity beyond `target` bytes (at least the pending
    /// ones), moving the pending bytes to the front.
    fn shrink_to(&mut self, target: usize) {
        let used = self.len();
        if used == 0 {
            self.start = 0;
            self.end = 0;
        } else if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.start = 0;
            self.end = used;
        }
        let target = target.max(used);
        self.buf.truncate(target);
        self.buf.shrink_to(target);
    }

    fn make_room(&mut self, request: usize) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.capacity() > IDLE_BUF_MAX {
                self.buf = vec![0; READ_CHUNK];
            }
        }
        let pending = self.end - self.start;
        let room = request
            .saturating_sub(pending)
            .clamp(READ_CHUNK, READ_AHEAD);
        if self.buf.len() - self.end >= room {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end = pending;
            self.start = 0;
        }
        if request >= BIG_REQUEST && self.buf.capacity() < request {
            // Where the system refuses that much at once, the buffer
            // grows as the data comes instead.
            let _ = self
                .buf
                .try_reserve_exact(request.saturating_sub(self.buf.len()));
        }
        self.buf.resize(self.end + room, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_come_out_as_they_went_in_across_reads_and_pushes() {
        let mut input = Input::default();
        let mut want = Vec::new();
        let mut got = Vec::new();
        for round in 0..200u32 {
            let n = (round as usize * 7919) % 40_000;
            let bytes: Vec<u8> = (0..n).map(|i| (i as u32 ^ round) as u8).collect();
            if round % 3 == 0 {
                input.push(&bytes);
            } else {
                let mut at = 0;
                while at < n {
                    let room = input.room(round as usize * 1000);
                    let k = room.len().min(n - at);
                    room[..k].copy_from_slice(&bytes[at..at + k]);
                    input.filled(k);
                    at += k;
                }
            }
            want.extend_from_slice(&bytes);
            let take = input.len() / 2 + round as usize % 2;
            got.extend_from_slice(&input.pending()[..take.min(input.len())]);
            input.consume(take.min(input.len()));
        }
        got.extend_from_slice(input.pending());
        assert!(got == want, "the bytes consumed differ from those received");
    }

    #[test]
    fn a_big_request_gets_its_capacity_once_and_initialises_little_ahead() {
        let mut input = Input::default();
        let request = 100 << 20;
        let room = input.room(request).len();
        assert_eq!(room, READ_AHEAD);
        assert!(input.buf.capacity() >= request);
        let cap = input.buf.capacity();
        for _ in 0..10 {
            let n = input.room(request).len();
            input.filled(n);
            assert!(input.buf.len() - input.end <= READ_AHEAD);
        }
        assert_eq!(input.buf.capacity(), cap, "reallocated while arriving");
        input.discard();
        input.room(0);
        assert_eq!(input.buf.capacity(), READ_CHUNK, "a big idle buffer stays");
    }

    fn receive(input: &mut Input, bytes: &[u8], request: usize) {
        let mut at = 0;
        while at < bytes.len() {
            let room = input.room(request);
            let k = room.len().min(bytes.len() - at);
            room[..k].copy_from_slice(&bytes[at..at + k]);
            input.filled(k);
            at += k;
        }
    }

    #[test]
    fn a_new_input_holds_no_buffer_until_it_reads() {
        let mut input = Input::default();
        assert_eq!(input.buf.capacity(), 0);
        receive(&mut input, b"PING\r\n", 0);
        assert!(input.buf.capacity() >= READ_CHUNK);
    }

    #[test]
    fn an_idle_buffer_keeps_only_its_pending_bytes() {
        let mut input = Input::default();
        let big = vec![b'x'; 200_000];
        receive(&mut input, &big, big.len());
        input.consume(big.len() - 10);
        input.resize_periodically(true, 0);
        assert_eq!(input.pending(), &big[..10]);
        assert_eq!(input.free(), 0);
        input.consume(10);
        input.resize_periodically(true, 0);
        assert_eq!(input.buf.capacity(), 10, "a few bytes free are left alone");
        let mut empty = Input::default();
        receive(&mut empty, &big, big.len());
        empty.consume(big.len());
        empty.resize_periodically(true, 0);
        assert_eq!(empty.buf.capacity(), 0);
        // And it works as before afterwards.
        receive(&mut input, b"PING\r\n", 0);
        assert_eq!(input.pending(), b"PING\r\n");
    }

    #[test]
    fn a_busy_buffer_far_above_its_peak_is_cut_to_the_peak() {
        let mut input = Input::default();
        let big = vec![b'x'; 200_000];
        receive(&mut input, &big, big.len());
        input.consume(big.len());
        // The first visit sees the big request as the peak and keeps it.
        input.resize_periodically(false, 0);
        assert!(input.buf.capacity() >= 200_000);
        // Small traffic since: the next visit cuts it down.
        receive(&mut input, b"PING\r\n", 0);
        input.resize_periodically(false, 0);
        assert!(
            input.buf.capacity() < RESIZE_THRESHOLD,
            "{}",
            input.buf.capacity()
        );
        assert_eq!(input.pending(), b"PING\r\n");
    }

    #[test]
    fn a_request_being_received_keeps_its_room() {
        let mut input = Input::default();
        let request = 1 << 20;
        receive(&mut input, &vec![b'x'; 10_000], request);
        input.resize_periodically(false, request);
        input.resize_periodically(false, request);
        assert!(input.buf.capacity() >= request);
        assert_eq!(input.len(), 10_000);
    }
}
