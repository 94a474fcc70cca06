//! [`Cmd`]: one command, its arguments packed in one buffer.

use std::fmt;

use crate::args::{ArgSink, ToArgs};
use crate::error::Result;
use crate::sync::Client;
use crate::value::FromValue;

/// One command and its arguments, ready to send.
///
/// Arguments are encoded as RESP bulk strings (`$3\r\nfoo\r\n`) straight into
/// one buffer as they are added, reserving the exact length of each; sending
/// adds only the `*N\r\n` header. Build one with [`cmd`] or a typed
/// constructor such as [`Cmd::get`], then [`query`](Cmd::query) it.
///
/// ```no_run
/// use soquete_client::{cmd, Client};
/// let mut c = Client::connect("redis://127.0.0.1:6379")?;
/// cmd("SET").arg("greeting").arg("hello").exec(&mut c)?;
/// let v: String = cmd("GET").arg("greeting").query(&mut c)?;
/// assert_eq!(v, "hello");
/// # Ok::<(), soquete_client::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Cmd {
    /// The arguments, each as `$len\r\n<bytes>\r\n`.
    pub(crate) buf: Vec<u8>,
    pub(crate) argc: usize,
}

/// A new command named `name` (the first argument).
///
/// ```
/// let c = soquete_client::cmd("INCRBY").arg("counter").arg(5).clone();
/// assert_eq!(c.to_packed(), b"*3\r\n$6\r\nINCRBY\r\n$7\r\ncounter\r\n$1\r\n5\r\n");
/// ```
pub fn cmd(name: &str) -> Cmd {
    let mut c = Cmd::with_capacity(64);
    c.push_arg(name.as_bytes());
    c
}

/// Appends `arg` as a RESP bulk string, reserving the exact length first.
#[inline]
pub(crate) fn write_bulk(out: &mut Vec<u8>, arg: &[u8]) {
    let mut b = itoa::Buffer::new();
    let len = b.format(arg.len()).as_bytes();
    out.reserve(1 + len.len() + 2 + arg.len() + 2);
    out.push(b'$');
    out.extend_from_slice(len);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(arg);
    out.extend_from_slice(b"\r\n");
}

/// Appends a `*n\r\n` array header.
#[inline]
pub(crate) fn write_array_header(out: &mut Vec<u8>, n: usize) {
    let mut b = itoa::Buffer::new();
    let s = b.format(n).as_bytes();
    out.reserve(s.len() + 3);
    out.push(b'*');
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

/// A sink that writes each argument as a bulk string into a byte buffer.
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
struct BulkWriter<'a> {
    out: &'a mut Vec<u8>,
}

impl ArgSink for BulkWriter<'_> {
    #[inline]
    fn push_arg(&mut self, arg: &[u8]) {
        write_bulk(self.out, arg);
    }
}

/// A command given as arguments (the name first) and encoded straight into
/// the output buffer when it is sent, with no [`Cmd`] built in between: the
/// async clients' `query`. The arguments are counted once, up front (the
/// `*N` header needs the count, the resend policy the name).
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
pub(crate) struct ArgsCommand<'a, A: ?Sized> {
    args: &'a A,
    counted: ArgCounter,
}

#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
impl<'a, A: ToArgs + ?Sized> ArgsCommand<'a, A> {
    /// The command `args` writes.
    #[inline]
    pub(crate) fn new(args: &'a A) -> Self {
        let mut counted = ArgCounter::default();
        args.write_args(&mut counted);
        ArgsCommand { args, counted }
    }

    /// Its name, upper-cased (empty past 24 bytes).
    #[inline]
    pub(crate) fn name(&self) -> &[u8] {
        self.counted.name()
    }

    /// Appends the command as a RESP array of bulk strings.
    #[inline]
    pub(crate) fn write_packed(&self, out: &mut Vec<u8>) {
        write_array_header(out, self.counted.count);
        self.args.write_args(&mut BulkWriter { out });
    }

    /// True when resending it after a lost connection cannot change data.
    pub(crate) fn is_safe_to_resend(&self) -> bool {
        crate::proto::resend::is_safe_to_resend(self.name())
    }
}

/// Counts arguments and remembers the first one (the command name), upper-cased,
/// up to 24 bytes.
#[derive(Default)]
pub(crate) struct ArgCounter {
    pub(crate) count: usize,
    pub(crate) name: [u8; 24],
    pub(crate) name_len: usize,
}

impl ArgSink for ArgCounter {
    #[inline]
    fn push_arg(&mut self, arg: &[u8]) {
        if self.count == 0 && arg.len() <= self.name.len() {
            for (d, s) in self.name.iter_mut().zip(arg) {
                *d = s.to_ascii_uppercase();
            }
            self.name_len = arg.len();
        }
        self.count += 1;
    }
}

impl ArgCounter {
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn name(&self) -> &[u8] {
        &self.name[..self.name_len]
    }
}

impl ArgSink for Cmd {
    #[inline]
    fn push_arg(&mut self, arg: &[u8]) {
        write_bulk(&mut self.buf, arg);
        self.argc += 1;
    }
}

impl Cmd {
    /// An empty command (add the name with [`arg`](Self::arg)).
    pub fn new() -> Cmd {
        Cmd::default()
    }

    /// An empty command whose buffer holds `bytes` before it grows.
    pub fn with_capacity(bytes: usize) -> Cmd {
        Cmd {
            buf: Vec::with_capacity(bytes),
            argc: 0,
        }
    }

    /// A command made of the arguments `args` writes (the first is the name).
    ///
    /// ```
    /// let c = soquete_client::Cmd::from_args(("SET", "k", 1, Some("NX")));
    /// assert_eq!(c.arg_count(), 4);
    /// ```
    pub fn from_args<A: ToArgs>(args: A) -> Cmd {
        let mut c = Cmd::with_capacity(64);
        args.write_args(&mut c);
        c
    }

    /// Appends the arguments of `arg` (one, several, or none for `None`).
    #[inline]
    pub fn arg<T: ToArgs>(&mut self, arg: T) -> &mut Cmd {
        arg.write_args(self);
        self
    }

    /// Removes every argument, keeping the buffer.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.argc = 0;
    }

    /// How many arguments, the name included.
    pub fn arg_count(&self) -> usize {
        self.argc
    }

    /// The arguments, the name first.
    pub fn args(&self) -> impl Iterator<Item = &[u8]> + '_ {
        BulkIter { rest: &self.buf }
    }

    /// The command name (first argument) as sent.
    pub fn name(&self) -> Option<&[u8]> {
        self.args().next()
    }

    /// Length in bytes of the encoded command.
    pub fn packed_len(&self) -> usize {
        let mut b = itoa::Buffer::new();
        3 + b.format(self.argc).len() + self.buf.len()
    }

    /// Appends the command as a RESP array of bulk strings.
    pub fn write_packed(&self, out: &mut Vec<u8>) {
        out.reserve(self.packed_len());
        write_array_header(out, self.argc);
        out.extend_from_slice(&self.buf);
    }

    /// The command as a RESP array of bulk strings.
    pub fn to_packed(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.packed_len());
        self.write_packed(&mut v);
        v
    }

    /// True when resending this command after a lost connection cannot change
    /// data (see [`is_safe_to_resend`](crate::is_safe_to_resend)).
    pub fn is_safe_to_resend(&self) -> bool {
        self.name()
            .is_some_and(crate::proto::resend::is_safe_to_resend)
    }

    /// Sends the command on `client` and converts its reply to `T`.
    pub fn query<T: FromValue>(&self, client: &mut Client) -> Result<T> {
        T::from_value(client.req_command(self)?)
    }

    /// Sends the command and checks that it did not fail, ignoring the reply.
    pub fn exec(&self, client: &mut Client) -> Result<()> {
        self.query::<()>(client)
    }

    /// Sends the command on a multiplexed client (`&MultiplexedClient`), a
    /// dedicated async connection (`&mut AsyncConnection`) or any other
    /// [`AsyncTarget`](crate::AsyncTarget) (a pool's handle...) and converts
    /// its reply to `T`.
    #[cfg(feature = "tokio")]
    pub async fn query_async<T: FromValue>(&self, client: impl crate::AsyncTarget) -> Result<T> {
        T::from_value(client.send_command(self).await?)
    }

    /// Async [`exec`](Self::exec) on a multiplexed client or a dedicated async connection.
    #[cfg(feature = "tokio")]
    pub async fn exec_async(&self, client: impl crate::AsyncTarget) -> Result<()> {
        self.query_async::<()>(client).await
    }
}

/// Iterates over the bulk strings of a packed argument buffer.
struct BulkIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for BulkIter<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        // The buffer is written only by `write_bulk`, so its shape is known.
        let r = self.rest.strip_prefix(b"$")?;
        let nl = r.iter().position(|&b| b == b'\r')?;
        let len: usize = std::str::from_utf8(&r[..nl]).ok()?.parse().ok()?;
        let start = nl + 2;
        let arg = r.get(start..start + len)?;
        self.rest = r.get(start + len + 2..).unwrap_or(&[]);
        Some(arg)
    }
}

impl fmt::Debug for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cmd(")?;
        for (i, a) in self.args().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{:?}", String::from_utf8_lossy(a))?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_exactly_like_the_codec_contract() {
        let mut c = cmd("SET");
        c.arg("key").arg(b"").arg(-7i64).arg(Some(1.5));
        assert_eq!(
            c.to_packed(),
            b"*5\r\n$3\r\nSET\r\n$3\r\nkey\r\n$0\r\n\r\n$2\r\n-7\r\n$3\r\n1.5\r\n"
        );
        assert_eq!(c.packed_len(), c.to_packed().len());
        assert_eq!(c.arg_count(), 5);
    }

    #[test]
    fn args_round_trip_binary_data() {
        let bin = [0u8, b'\r', b'\n', 255];
        let mut c = cmd("SET");
        c.arg(&bin[..]).arg("v");
        let args: Vec<&[u8]> = c.args().collect();
        assert_eq!(args, [&b"SET"[..], &bin[..], b"v"]);
        assert_eq!(c.name(), Some(&b"SET"[..]));
        assert_eq!(format!("{c:?}"), "Cmd(\"SET\" \"\\0\\r\\n\u{fffd}\" \"v\")");
    }

    #[test]
    fn counter_upper_cases_the_name() {
        let mut n = ArgCounter::default();
        ("get", "k").write_args(&mut n);
        assert_eq!((n.count, n.name()), (2, &b"GET"[..]));
    }
}
