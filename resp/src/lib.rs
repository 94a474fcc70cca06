//! soquete-resp: a hand-written RESP2 + RESP3 codec. No I/O, no threads.
//!
//! RESP is the protocol Redis speaks. This crate turns its bytes into values
//! and values into bytes, for the two sides of a connection:
//!
//! * a **server** reads commands with [`RequestDecoder`], which yields each
//!   command's arguments as slices of the read buffer (no allocation per
//!   argument) and also accepts inline commands typed into `nc` or telnet;
//!   it writes replies piece by piece with the [`encode`] functions;
//! * a **client** writes commands with [`encode::command`] and reads any
//!   reply with [`Decoder`], which yields [`Frame`]s whose byte payloads
//!   share the read buffer (zero-copy).
//!
//! # Layout
//!
//! * [`Frame`] (`frame.rs`): one RESP2 or RESP3 value, every type.
//! * [`RequestDecoder`], [`Request`] (`request.rs`): the server's decoder.
//! * [`Decoder`], [`decode_slice`] (`decode.rs`): the general decoder.
//! * [`encode`] (`encode.rs`): encoders into a caller's `Vec<u8>`.
//! * [`Limits`] (`limits.rs`), [`Error`] (`error.rs`): what a peer may send,
//!   and what was wrong when it sent something else.
//! * `number.rs`: the strict integer parser, the line scanner and the
//!   number formatting both directions share.
//!
//! # A server's loop
//!
//! ```
//! use soquete_resp::{encode, RequestDecoder};
//!
//! let mut dec = RequestDecoder::new();
//! let mut inbuf = b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n".to_vec();
//! let mut outbuf = Vec::new();
//! let mut used = 0;
//! while let Some(req) = dec.decode(&inbuf[used..]).unwrap() {
//!     used += req.consumed();
//!     match req.arg(0) {
//!         b"PING" => encode::simple(&mut outbuf, b"PONG"),
//!         b"ECHO" => encode::bulk(&mut outbuf, req.arg(1)),
//!         _ => encode::error(&mut outbuf, b"ERR unknown command"),
//!     }
//! }
//! inbuf.drain(..used); // keep the incomplete tail, if any
//! assert_eq!(outbuf, b"+PONG\r\n$2\r\nhi\r\n");
//! ```
//!
//! # A client's loop
//!
//! ```
//! use soquete_resp::{encode, BytesMut, Decoder, Frame};
//!
//! let mut request = Vec::new();
//! encode::command(&mut request, ["GET", "greeting"]);
//! assert_eq!(request, b"*2\r\n$3\r\nGET\r\n$8\r\ngreeting\r\n");
//!
//! let mut dec = Decoder::new();
//! let mut inbuf = BytesMut::new();
//! inbuf.extend_from_slice(b"$5\r\nhel"); // a reply arrives in pieces
//! assert_eq!(dec.decode(&mut inbuf).unwrap(), None);
//! inbuf.extend_from_slice(b"lo\r\n");
//! assert_eq!(dec.decode(&mut inbuf).unwrap(), Some(Frame::Bulk("hello".into())));
//! ```
//!
//! # Contracts
//!
//! * **Incomplete is not an error.** Both decoders return `Ok(None)` until
//!   a whole request or frame is there, and resume where they stopped: no
//!   byte is parsed twice, the search for a line end resumes where the last
//!   one stopped, and the payload of a bulk whose `$len` was read is never
//!   searched at all.
//! * **Malformed input is an error that names what was wrong**, in Redis's
//!   words where Redis has them (`invalid multibulk length`, `expected '$',
//!   got 'x'`, `unbalanced quotes in request`, ...). Errors are sticky until
//!   `reset()`: after one, the byte stream is out of sync.
//! * **Integers are strict**, as Redis's `string2ll`: an optional `-`, no
//!   `+`, no spaces, no leading zeros, overflow is an error.
//! * **CRLF is strict**: a CR must be followed by LF, a line holds no bare
//!   LF, and a bulk payload is followed by CRLF (Redis itself skips the two
//!   bytes after a payload unchecked, and takes any byte after a length's CR
//!   as its LF).
//! * **Splitting never changes the outcome**: the same bytes give the same
//!   requests, frames and errors whether they arrive whole or one byte at a
//!   time (line limits are judged by where a line ends, not by how much of
//!   it has arrived). The proptests and fuzzers check this.
//! * **Limits** ([`Limits`], Redis's defaults) are checked as soon as a
//!   length is read. Nothing is allocated by a claimed length: a `$2000000000`
//!   header costs nothing until its bytes arrive, aggregates grow by the
//!   elements that actually arrived, and [`RequestDecoder::wants`] tells a
//!   server how much a big argument needs so it can grow its buffer as the
//!   bytes come.
//! * **Encoders reserve the exact length** they write, once per call.
//! * **No panics on any input**, and no recursion in the decoders: nesting
//!   is bounded by [`Limits::max_depth`] and kept on an explicit stack.
//!
//! # Differences from Redis
//!
//! Real `redis-server` is the reference, and `tests/redis.rs` compares the
//! protocol errors byte for byte. Two deliberate differences: the strict
//! CRLF above, and a NUL byte in a request's line. Redis searches request
//! lines with `strchr`, which stops at NUL, so it waits until 64 KiB have
//! arrived and then answers `too big inline request` (or `too big mbulk
//! count string`, `too big bulk count string`); [`RequestDecoder`] gives
//! the same error as soon as it sees the NUL.
//!
//! # Why another RESP crate
//!
//! The server runs the request decoder for every command it serves. Here it
//! is a small state machine over the read buffer, with a fast path that
//! parses a complete `*N $len arg...` request in one pass, a single reused
//! span vector, and no `Frame` tree. The general decoder is zero-copy and
//! resumable. `benches/benches/codec.rs` compares both with the
//! `redis-protocol` crate and with a bare `memchr` scan of the same bytes.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod decode;
pub mod encode;
mod error;
mod frame;
mod limits;
mod number;
mod request;

pub use bytes::{Bytes, BytesMut};
pub use decode::{decode_slice, Decoder};
pub use error::Error;
pub use frame::Frame;
pub use limits::Limits;
pub use request::{Args, Request, RequestDecoder};
