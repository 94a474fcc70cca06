//! [`Pipeline`]: many commands, one write, their replies read in order.

use soquete_resp::Frame;

use crate::args::{ArgSink, ToArgs};
use crate::cmd::{write_array_header, write_bulk, Cmd};
use crate::error::{Error, Result, ServerError};
use crate::sync::Client;
use crate::value::FromValue;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    /// End of this command's arguments in `buf`.
    end: usize,
    argc: usize,
    ignore: bool,
}

/// A batch of commands sent in one write; their replies are read in order and
/// converted together.
///
/// The replies of the commands not marked [`ignore`](Self::ignore) form an
/// array that is converted to the type asked for: a tuple, a `Vec`... Each
/// command's error is its own: asking for `Vec<Result<T>>` (or a tuple of
/// `Result`s) gives every command's outcome, a failing command does not hide
/// the others' replies, and the connection stays in step. Asking for plain
/// types returns the first error instead. The reply of an ignored command is
/// dropped, unless it is an error, which is returned (errors never vanish).
///
/// [`atomic`](Self::atomic) wraps the batch in `MULTI`/`EXEC`: the result is
/// then the array `EXEC` returns, or null when a `WATCH`ed key changed (ask
/// for an `Option`). A command that fails to queue (unknown command, wrong
/// arity) aborts the transaction; its error is returned.
///
/// ```no_run
/// use soquete_client::{pipe, Client};
/// let mut c = Client::connect("redis://127.0.0.1")?;
/// let (a, b): (i64, Option<String>) = pipe()
///     .set("k", "v").ignore()
///     .incr("n")
///     .get("k")
///     .query(&mut c)?;
///
/// // Per-command errors: `k` holds a string, so INCR fails, the others do not.
/// let r: Vec<soquete_client::Result<i64>> = pipe().incr("n").incr("k").incr("n").query(&mut c)?;
/// assert!(r[0].is_ok() && r[1].is_err() && r[2].is_ok());
/// # Ok::<(), soquete_client::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Pipeline {
    buf: Vec<u8>,
    cmds: Vec<Entry>,
    atomic: bool,
}

/// A new, empty [`Pipeline`].
pub fn pipe() -> Pipeline {
    Pipeline::new()
}

struct PipeSink<'a>(&'a mut Pipeline);

impl ArgSink for PipeSink<'_> {
    #[inline]
    fn push_arg(&mut self, arg: &[u8]) {
        self.0.push_raw_arg(arg)
    }
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new() -> Pipeline {
        Pipeline::default()
    }

    /// An empty pipeline with room for about `cmds` commands.
    pub fn with_capacity(cmds: usize) -> Pipeline {
        Pipeline {
            buf: Vec::with_capacity(cmds * 32),
            cmds: Vec::with_capacity(cmds),
            atomic: false,
        }
    }

    fn push_raw_arg(&mut self, arg: &[u8]) {
        write_bulk(&mut self.buf, arg);
        match self.cmds.last_mut() {
            Some(e) => {
                e.end = self.buf.len();
                e.argc += 1;
            }
            None => self.cmds.push(Entry {
                end: self.buf.len(),
                argc: 1,
                ignore: false,
            }),
        }
    }

    fn start(&mut self) {
        self.cmds.push(Entry {
            end: self.buf.len(),
            argc: 0,
            ignore: false,
        });
    }

    /// Starts a new command named `name`; [`arg`](Self::arg) adds to it.
    pub fn cmd(&mut self, name: &str) -> &mut Self {
        self.start();
        self.push_raw_arg(name.as_bytes());
        self
    }

    /// Adds arguments to the last command (starts one if there is none).
    pub fn arg<T: ToArgs>(&mut self, arg: T) -> &mut Self {
        arg.write_args(&mut PipeSink(self));
        self
    }

    /// Adds a command made of `args`, the name first.
    pub fn push_args<A: ToArgs>(&mut self, args: A) -> &mut Self {
        self.start();
        args.write_args(&mut PipeSink(self));
        self
    }

    /// Adds a built command.
    pub fn add_command(&mut self, cmd: Cmd) -> &mut Self {
        self.buf.extend_from_slice(&cmd.buf);
        self.cmds.push(Entry {
            end: self.buf.len(),
            argc: cmd.argc,
            ignore: false,
        });
        self
    }

    /// Drops the last command's reply from the result (an error is still reported).
    pub fn ignore(&mut self) -> &mut Self {
        if let Some(e) = self.cmds.last_mut() {
            e.ignore = true;
        }
        self
    }

    /// Wraps the batch in `MULTI`/`EXEC`.
    pub fn atomic(&mut self) -> &mut Self {
        self.atomic = true;
        self
    }

    /// True for a `MULTI`/`EXEC` pipeline.
    pub fn is_atomic(&self) -> bool {
        self.atomic
    }

    /// How many commands (without `MULTI`/`EXEC`).
    pub fn len(&self) -> usize {
        self.cmds.len()
    }

    /// True when no command was added.
    pub fn is_empty(&self) -> bool {
        self.cmds.is_empty()
    }

    /// Removes every command (keeping the buffers) and the atomic flag.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.cmds.clear();
        self.atomic = false;
    }

    /// How many replies the server sends for this pipeline: one per
    /// command, and two more for an atomic one (`MULTI`'s and `EXEC`'s).
    ///
    /// ```
    /// let mut p = soquete_client::pipe();
    /// p.incr("a").get("b");
    /// assert_eq!(p.reply_count(), 2);
    /// assert_eq!(p.atomic().reply_count(), 4);
    /// ```
    pub fn reply_count(&self) -> usize {
        self.cmds.len() + if self.atomic { 2 } else { 0 }
    }

    /// Appends every command, RESP-encoded.
    pub fn write_packed(&self, out: &mut Vec<u8>) {
        out.reserve(self.buf.len() + self.cmds.len() * 4 + 40);
        if self.atomic {
            out.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n");
        }
        let mut start = 0;
        for e in &self.cmds {
            write_array_header(out, e.argc);
            out.extend_from_slice(&self.buf[start..e.end]);
            start = e.end;
        }
        if self.atomic {
            out.extend_from_slice(b"*1\r\n$4\r\nEXEC\r\n");
        }
    }

    /// The names of the commands.
    pub(crate) fn names(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut start = 0;
        self.cmds.iter().map(move |e| {
            let body = &self.buf[start..e.end];
            start = e.end;
            first_bulk(body)
        })
    }

    /// True when every command only reads (never for atomic pipelines).
    pub(crate) fn is_safe_to_resend(&self) -> bool {
        !self.atomic && self.names().all(crate::proto::resend::is_safe_to_resend)
    }

    /// Turns the replies into the result frame: an array of the replies not
    /// ignored (or, for atomic pipelines, of `EXEC`'s results; null when
    /// `EXEC` returned null).
    pub(crate) fn collect(&self, replies: Vec<Frame>) -> Result<Frame> {
        if !self.atomic {
            return self.filter(replies);
        }
        let mut it = replies.into_iter();
        let multi = it.next().unwrap_or(Frame::Null);
        crate::value::prep(multi)?;
        let mut queue_err: Option<ServerError> = None;
        for _ in 0..self.cmds.len() {
            if let Some(Frame::Error(e) | Frame::BlobError(e)) = it.next() {
                queue_err.get_or_insert(ServerError::new(e));
            }
        }
        match it.next().unwrap_or(Frame::Null) {
            Frame::Array(results) => self.filter(results),
            Frame::Error(e) | Frame::BlobError(e) => Err(Error::Server(
                queue_err.unwrap_or_else(|| ServerError::new(e)),
            )),
            f if f.is_null() => Ok(Frame::Null),
            f => Err(Error::conversion("the array EXEC returns", &f)),
        }
    }

    fn filter(&self, replies: Vec<Frame>) -> Result<Frame> {
        if replies.len() != self.cmds.len() {
            return Err(Error::Client(format!(
                "pipeline of {} commands got {} replies",
                self.cmds.len(),
                replies.len()
            )));
        }
        if !self.cmds.iter().any(|e| e.ignore) {
            return Ok(Frame::Array(replies));
        }
        let mut out = Vec::with_capacity(replies.len());
        for (f, e) in replies.into_iter().zip(&self.cmds) {
            if !e.ignore {
                out.push(f);
            } else if let Frame::Error(m) | Frame::BlobError(m) = f {
                return Err(Error::Server(ServerError::new(m)));
            }
        }
        Ok(Frame::Array(out))
    }

    /// Sends the batch on `client`, reads every reply, and converts the
    /// replies of the commands not ignored into `T`.
    pub fn query<T: FromValue>(&self, client: &mut Client) -> Result<T> {
        if self.cmds.is_empty() && !self.atomic {
            return T::from_value(Frame::Array(Vec::new()));
        }
        let replies = client.req_pipeline(self)?;
        T::from_value(self.collect(replies)?)
    }

    /// Sends the batch and checks that no command failed.
    pub fn exec(&self, client: &mut Client) -> Result<()> {
        self.query::<()>(client)
    }

    /// Sends the batch on a multiplexed client (`&MultiplexedClient`: its
    /// commands go out together, never interleaved with other tasks'
    /// commands), on a dedicated async connection (`&mut AsyncConnection`) or
    /// on any other [`AsyncTarget`](crate::AsyncTarget).
    #[cfg(feature = "tokio")]
    pub async fn query_async<T: FromValue>(&self, client: impl crate::AsyncTarget) -> Result<T> {
        if self.cmds.is_empty() && !self.atomic {
            return T::from_value(Frame::Array(Vec::new()));
        }
        let replies = client.send_pipeline(self).await?;
        T::from_value(self.collect(replies)?)
    }

    /// Async [`exec`](Self::exec) on a multiplexed client or a dedicated async connection.
    #[cfg(feature = "tokio")]
    pub async fn exec_async(&self, client: impl crate::AsyncTarget) -> Result<()> {
        self.query_async::<()>(client).await
    }
}

/// The first bulk string of an encoded argument list.
fn first_bulk(body: &[u8]) -> &[u8] {
    let Some(r) = body.strip_prefix(b"$") else {
        return &[];
    };
    let Some(nl) = r.iter().position(|&b| b == b'\r') else {
        return &[];
    };
    let len: usize = std::str::from_utf8(&r[..nl])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    r.get(nl + 2..nl + 2 + len).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_commands_and_transaction_markers() {
        let mut p = pipe();
        p.cmd("SET").arg("a").arg(1).ignore().cmd("GET").arg("a");
        let mut out = Vec::new();
        p.write_packed(&mut out);
        assert_eq!(
            out,
            b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n"
        );
        p.atomic();
        out.clear();
        p.write_packed(&mut out);
        assert!(out.starts_with(b"*1\r\n$5\r\nMULTI\r\n*3\r\n"));
        assert!(out.ends_with(b"*1\r\n$4\r\nEXEC\r\n"));
        assert_eq!(p.reply_count(), 4);
    }

    #[test]
    fn safe_only_when_every_command_reads() {
        let mut p = pipe();
        p.cmd("GET").arg("a").cmd("mget").arg(("b", "c"));
        assert!(p.is_safe_to_resend());
        p.cmd("INCR").arg("a");
        assert!(!p.is_safe_to_resend());
        let mut q = pipe();
        q.cmd("GET").arg("a").atomic();
        assert!(!q.is_safe_to_resend());
    }

    #[test]
    fn ignored_replies_drop_but_their_errors_surface() {
        let mut p = pipe();
        p.cmd("SET").arg("a").ignore().cmd("GET").arg("a");
        let ok = p
            .collect(vec![Frame::Simple("OK".into()), Frame::Integer(1)])
            .unwrap();
        assert_eq!(ok, Frame::Array(vec![Frame::Integer(1)]));
        let err = p
            .collect(vec![Frame::Error("ERR boom".into()), Frame::Integer(1)])
            .unwrap_err();
        assert_eq!(err.code(), Some("ERR"));
    }

    #[test]
    fn transaction_results_and_aborts() {
        let mut p = pipe();
        p.cmd("INCR").arg("a").cmd("INCR").arg("b").atomic();
        let queued = || Frame::Simple("QUEUED".into());
        let ok = p
            .collect(vec![
                Frame::Simple("OK".into()),
                queued(),
                queued(),
                Frame::Array(vec![Frame::Integer(1), Frame::Error("WRONGTYPE x".into())]),
            ])
            .unwrap();
        let r: Vec<Result<i64>> = FromValue::from_value(ok).unwrap();
        assert_eq!(r[1].as_ref().unwrap_err().code(), Some("WRONGTYPE"));
        let watched = p
            .collect(vec![
                Frame::Simple("OK".into()),
                queued(),
                queued(),
                Frame::NullArray,
            ])
            .unwrap();
        assert_eq!(Option::<Vec<i64>>::from_value(watched).unwrap(), None);
        let aborted = p
            .collect(vec![
                Frame::Simple("OK".into()),
                Frame::Error("ERR unknown command 'x'".into()),
                queued(),
                Frame::Error("EXECABORT Transaction discarded".into()),
            ])
            .unwrap_err();
        assert!(aborted.to_string().contains("unknown command"));
    }
}
