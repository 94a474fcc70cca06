//! Limits that bound what a peer can make the decoders accept.

/// Limits applied by [`RequestDecoder`](crate::RequestDecoder) and
/// [`Decoder`](crate::Decoder).
///
/// The defaults are Redis 7's. A peer that breaks a limit gets an
/// [`Error`](crate::Error) naming it; a length field is checked against the
/// limits as soon as it is read, before any of the bytes it announces arrive,
/// and the decoders never allocate by a claimed length (see the crate docs,
/// *Memory*).
///
/// ```
/// use soquete_resp::Limits;
///
/// let limits = Limits { max_bulk_len: 1024, ..Limits::default() };
/// assert_eq!(limits.max_inline_len, 64 * 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest bulk string accepted, in bytes (Redis `proto-max-bulk-len`,
    /// default 512 MiB). A longer `$len` is `invalid bulk length`.
    pub max_bulk_len: u64,
    /// Largest element count of an aggregate (default `i32::MAX`, as Redis:
    /// a larger `*len` is `invalid multibulk length`). For maps and
    /// attributes it bounds the number of pairs.
    pub max_multibulk_len: u64,
    /// Longest inline command line, and longest length line of a multibulk
    /// request, in bytes (Redis `PROTO_INLINE_MAX_SIZE`, default 64 KiB).
    /// The general decoder also bounds numeric lines (`:`, `,`, `#`, `_`,
    /// lengths) by it.
    pub max_inline_len: usize,
    /// Deepest nesting of aggregates the general [`Decoder`](crate::Decoder)
    /// accepts (default 128). Requests are flat and ignore it.
    pub max_depth: usize,
    /// Redis's limits for a client that has not authenticated yet where a
    /// password is required: a multibulk of more than 10 arguments is
    /// `unauthenticated multibulk length`, a bulk longer than 16384 bytes is
    /// `unauthenticated bulk length`. Default `false`.
    pub unauthenticated: bool,
}

impl Limits {
    /// Redis's most arguments in a request from an unauthenticated client.
    pub const UNAUTHENTICATED_MAX_MULTIBULK_LEN: u64 = 10;
    /// Redis's longest argument from an unauthenticated client.
    pub const UNAUTHENTICATED_MAX_BULK_LEN: u64 = 16384;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_multibulk_len: i32::MAX as u64,
            max_inline_len: 64 * 1024,
            max_depth: 128,
            unauthenticated: false,
        }
    }
}
