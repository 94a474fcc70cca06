//! [`Inbox`]: the bytes a connection received, decoded into frames.

use bytes::BytesMut;
use soquete_resp::{Decoder, Frame};

/// The bytes received and not yet decoded, and the decoder's place in them.
///
/// A driver reads from its socket into [`buf`](Self::buf) and asks for
/// frames; `Ok(None)` means the frame is not complete yet (read more).
/// Resuming never re-scans what the decoder already consumed.
pub(crate) struct Inbox {
    buf: BytesMut,
    decoder: Decoder,
}

impl Inbox {
    /// An empty inbox whose buffer holds `bytes` before it grows.
    pub(crate) fn with_capacity(bytes: usize) -> Inbox {
        Inbox {
            buf: BytesMut::with_capacity(bytes),
            decoder: Decoder::new(),
        }
    }

    /// Where the driver appends the bytes it read.
    #[inline]
    pub(crate) fn buf(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// The next complete frame, RESP3 push frames included. Bytes that are
    /// not RESP are the codec's error (`?` makes it an
    /// [`Error::Protocol`](crate::Error::Protocol); the multiplexed driver's
    /// hot loop matches it as it is, a conversion fewer per reply).
    #[inline]
    pub(crate) fn frame(&mut self) -> Result<Option<Frame>, soquete_resp::Error> {
        self.decoder.decode(&mut self.buf)
    }

    /// The next reply to a request: RESP3 push frames (out-of-band
    /// messages: pub/sub, client-side caching invalidations) are skipped.
    #[inline]
    pub(crate) fn reply(&mut self) -> Result<Option<Frame>, soquete_resp::Error> {
        loop {
            match self.frame() {
                Ok(Some(Frame::Push(_))) => continue,
                r => return r,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn a_frame_split_anywhere_is_whole_once_its_last_byte_arrives() {
        let wire = b"*2\r\n$5\r\nhello\r\n:42\r\n";
        for cut in 1..wire.len() {
            let mut inbox = Inbox::with_capacity(16);
            inbox.buf().extend_from_slice(&wire[..cut]);
            assert_eq!(inbox.frame().unwrap(), None, "cut at {cut}");
            inbox.buf().extend_from_slice(&wire[cut..]);
            let f = inbox.frame().unwrap().unwrap();
            assert_eq!(
                f,
                Frame::Array(vec![Frame::Bulk("hello".into()), Frame::Integer(42)])
            );
        }
    }

    #[test]
    fn replies_skip_push_frames_and_frames_keep_them() {
        let wire = b">2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n+OK\r\n";
        let mut inbox = Inbox::with_capacity(64);
        inbox.buf().extend_from_slice(wire);
        assert_eq!(inbox.reply().unwrap(), Some(Frame::Simple("OK".into())));
        let mut inbox = Inbox::with_capacity(64);
        inbox.buf().extend_from_slice(wire);
        assert!(matches!(inbox.frame().unwrap(), Some(Frame::Push(_))));
        // A push frame alone is no reply yet.
        let mut inbox = Inbox::with_capacity(64);
        inbox.buf().extend_from_slice(&wire[..wire.len() - 5]);
        assert_eq!(inbox.reply().unwrap(), None);
    }

    #[test]
    fn bytes_that_are_not_resp_are_a_protocol_error() {
        let mut inbox = Inbox::with_capacity(16);
        inbox.buf().extend_from_slice(b"?what\r\n");
        let e: Error = inbox.frame().unwrap_err().into();
        assert!(matches!(e, Error::Protocol(_)));
    }
}
