//! Writing replies straight into a connection's output buffer.
//!
//! Handlers never build a reply tree: they call these methods, which append
//! RESP bytes for the protocol the client negotiated (RESP2 by default, RESP3
//! after `HELLO 3`). Where the two protocols differ (null, map, set, double,
//! boolean, verbatim, push), the method picks the right form.

use soquete_resp::encode;

use crate::error::CmdError;
use crate::util::num::fmt_double;

/// A connection's output buffer and its protocol version.
#[derive(Debug, Default)]
pub struct Reply {
    /// The bytes waiting to be written.
    pub buf: Vec<u8>,
    /// True once the client switched to RESP3.
    pub resp3: bool,
}

impl Reply {
    /// `+OK`.
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A simple string.
    pub fn simple(&mut self, s: &str) {
        encode::simple(&mut self.buf, s.as_bytes());
    }

    /// A bulk string.
    pub fn bulk(&mut self, b: &[u8]) {
        encode::bulk(&mut self.buf, b);
    }

    /// An integer.
    pub fn int(&mut self, n: i64) {
        encode::integer(&mut self.buf, n);
    }

    /// An integer rendered as a bulk string (GET of an int-encoded value).
    pub fn bulk_int(&mut self, n: i64) {
        let mut b = itoa::Buffer::new();
        encode::bulk(&mut self.buf, b.format(n).as_bytes());
    }

    /// The null a missing bulk string is in this protocol (`$-1` or `_`).
    pub fn null(&mut self) {
        if self.resp3 {
            encode::null(&mut self.buf);
        } else {
            encode::null_bulk(&mut self.buf);
        }
    }

    /// The null a missing array is in this protocol (`*-1` or `_`).
    pub fn null_array(&mut self) {
        if self.resp3 {
            encode::null(&mut self.buf);
        } else {
            encode::null_array(&mut self.buf);
        }
    }

    /// An array header of `n` elements.
    pub fn array(&mut self, n: usize) {
        encode::array_header(&mut self.buf, n);
    }

    /// A map header of `n` pairs (`%n`, or `*2n` in RESP2).
    pub fn map(&mut self, n: usize) {
        if self.resp3 {
            encode::map_header(&mut self.buf, n);
        } else {
            encode::array_header(&mut self.buf, n * 2);
        }
    }

    /// A set header (`~n`, or `*n` in RESP2).
    pub fn set(&mut self, n: usize) {
        if self.resp3 {
            encode::set_header(&mut self.buf, n);
        } else {
            encode::array_header(&mut self.buf, n);
        }
    }

    /// A push header (`>n`, or `*n` in RESP2) for out-of-band messages.
    pub fn push(&mut self, n: usize) {
        if self.resp3 {
            encode::push_header(&mut self.buf, n);
        } else {
            encode::array_header(&mut self.buf, n);
        }
    }

    /// A double as Redis 7.0 sends it: `%.17g` in a bulk string (RESP2) or a
    /// `,` double (RESP3).
    pub fn double(&mut self, d: f64) {
        let mut text = Vec::with_capacity(24);
        fmt_double(&mut text, d);
        if self.resp3 {
            encode::double_text(&mut self.buf, &text);
        } else {
            encode::bulk(&mut self.buf, &text);
        }
    }

    /// A double as Redis's `addReplyHumanLongDouble` sends one (GEOPOS,
    /// WITHCOORD): `"%.17Lf"` with trailing zeros trimmed, in a bulk string
    /// (RESP2) or a `,` double (RESP3).
    pub fn human_double(&mut self, d: f64) {
        let mut text = Vec::with_capacity(32);
        crate::util::ldouble::LongDouble::from_f64(d).fmt_human(&mut text);
        if self.resp3 {
            encode::double_text(&mut self.buf, &text);
        } else {
            encode::bulk(&mut self.buf, &text);
        }
    }

    /// A boolean (`#t`/`#f`, or `:1`/`:0` in RESP2).
    pub fn boolean(&mut self, b: bool) {
        if self.resp3 {
            encode::boolean(&mut self.buf, b);
        } else {
            encode::integer(&mut self.buf, b as i64);
        }
    }

    /// A big number given as its decimal digits: a `(` big number in RESP3,
    /// a bulk string in RESP2 (Redis's `addReplyBigNum`).
    pub fn big_number(&mut self, digits: &[u8]) {
        if self.resp3 {
            encode::big_number(&mut self.buf, digits);
        } else {
            encode::bulk(&mut self.buf, digits);
        }
    }

    /// An attribute header of `n` pairs, which must be followed by the
    /// reply it annotates. RESP2 has no attributes: nothing is written, and
    /// the caller must write no pairs either.
    pub fn attribute(&mut self, n: usize) {
        if self.resp3 {
            encode::attribute_header(&mut self.buf, n);
        }
    }

    /// Human-readable text (INFO, CLIENT LIST): a verbatim string in RESP3, a
    /// bulk string in RESP2.
    pub fn verbatim(&mut self, text: &[u8]) {
        if self.resp3 {
            encode::verbatim(&mut self.buf, b"txt", text);
        } else {
            encode::bulk(&mut self.buf, text);
        }
    }

    /// An error line. CR and LF in the text become spaces. Every error
    /// reply is written here, and counted here in `stats` (INFO
    /// `total_error_replies` and errorstats), as Redis's `afterErrorReply`.
    pub fn error(&mut self, e: &CmdError, stats: &crate::shared::LoopStats) {
        let start = self.buf.len();
        e.write_to(&mut self.buf);
        stats.count_error(&self.buf[start..]);
    }

    /// Help lines as Redis's `addReplyHelp` writes them (simple strings).
    pub fn help(&mut self, lines: &[&str]) {
        self.array(lines.len());
        for l in lines {
            self.simple(l);
        }
    }

    /// A SCAN-family reply: the cursor, then the elements.
    pub fn scan(&mut self, cursor: u64, items: &[&[u8]]) {
        self.array(2);
        self.bulk(itoa::Buffer::new().format(cursor).as_bytes());
        self.array(items.len());
        for i in items {
            self.bulk(i);
        }
    }

    /// Number of bytes buffered.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}
