//! Command errors, rendered exactly as Redis 7 words them.

use std::borrow::Cow;
use std::fmt;

use soquete_resp::encode;

/// Result of a command handler: the reply is already written on success.
pub type CmdResult = Result<(), CmdError>;

/// An error a command replies with. The connection stays open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdError {
    /// `-WRONGTYPE Operation against a key holding the wrong kind of value`
    WrongType,
    /// `-ERR syntax error`
    Syntax,
    /// `-ERR value is not an integer or out of range`
    NotInteger,
    /// `-ERR value is not a valid float`
    NotFloat,
    /// `-ERR increment or decrement would overflow`
    Overflow,
    /// `-ERR no such key`
    NoSuchKey,
    /// `-ERR index out of range`
    OutOfRange,
    /// `-ERR wrong number of arguments for '<name>' command`
    Arity(String),
    /// A whole error line as bytes, code word included: for messages that
    /// quote a client's argument, which need not be UTF-8.
    Line(Vec<u8>),
    /// `-NOAUTH Authentication required.`
    NoAuth,
    /// Any other error, the whole line after `-` (it starts with its code
    /// word, e.g. `ERR`, `NOPERM`, `EXECABORT`).
    Other(Cow<'static, str>),
}

impl CmdError {
    /// An error from a complete line (code word included).
    pub fn msg(line: impl Into<Cow<'static, str>>) -> CmdError {
        CmdError::Other(line.into())
    }

    /// `ERR wrong number of arguments for '<name>' command`.
    pub fn arity(name: &str) -> CmdError {
        CmdError::Arity(name.to_ascii_lowercase())
    }

    /// `prefix` + the argument as C's `%s` prints it (up to a NUL) + `suffix`.
    pub fn quoting(prefix: &str, arg: &[u8], suffix: &str) -> CmdError {
        let mut v = Vec::with_capacity(prefix.len() + arg.len() + suffix.len());
        v.extend_from_slice(prefix.as_bytes());
        v.extend_from_slice(c_str(arg));
        v.extend_from_slice(suffix.as_bytes());
        CmdError::Line(v)
    }

    /// Redis's reply for a command name it does not know.
    pub fn unknown_command(name: &[u8], args: &[&[u8]]) -> CmdError {
        // As processCommand in Redis 7.0: the name cut at 128 bytes, then
        // arguments quoted while the list is shorter than 128 bytes. Redis
        // formats them with "%.*s", which also stops at a NUL byte.
        let name = c_str(name);
        let mut list: Vec<u8> = Vec::new();
        for a in args {
            if list.len() >= 128 {
                break;
            }
            let room = 128 - list.len();
            let a = c_str(a);
            let a = &a[..a.len().min(room)];
            list.push(b'\'');
            list.extend_from_slice(a);
            list.extend_from_slice(b"' ");
        }
        let name = &name[..name.len().min(128)];
        let mut line = b"ERR unknown command '".to_vec();
        line.extend_from_slice(name);
        line.extend_from_slice(b"', with args beginning with: ");
        line.extend_from_slice(&list);
        CmdError::Line(line)
    }

    /// Redis's reply for an unknown subcommand of a container command.
    pub fn unknown_subcommand(cmd: &str, sub: &[u8]) -> CmdError {
        let sub = c_str(sub);
        CmdError::quoting(
            "ERR unknown subcommand '",
            &sub[..sub.len().min(128)],
            &format!("'. Try {} HELP.", cmd.to_ascii_uppercase()),
        )
    }

    /// Redis's `addReplySubcommandSyntaxError`: a subcommand given the wrong
    /// arguments, named as the client typed it.
    pub fn subcommand_syntax(container: &[u8], sub: &[u8]) -> CmdError {
        let sub = c_str(sub);
        CmdError::quoting(
            "ERR unknown subcommand or wrong number of arguments for '",
            &sub[..sub.len().min(128)],
            &format!(
                "'. Try {} HELP.",
                String::from_utf8_lossy(c_str(container)).to_ascii_uppercase()
            ),
        )
    }

    /// Appends the error line (`-...\r\n`) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            CmdError::Other(s) => encode::error(out, s.as_bytes()),
            CmdError::Line(b) => encode::error(out, b),
            other => encode::error(out, other.to_string().as_bytes()),
        }
    }

    /// The error's code word (`ERR`, `WRONGTYPE`...), for stats.
    pub fn code(&self) -> &str {
        match self {
            CmdError::WrongType => "WRONGTYPE",
            CmdError::NoAuth => "NOAUTH",
            CmdError::Other(s) => s.split(' ').next().unwrap_or("ERR"),
            CmdError::Line(b) => {
                std::str::from_utf8(b.split(|&c| c == b' ').next().unwrap_or(b"ERR"))
                    .unwrap_or("ERR")
            }
            _ => "ERR",
        }
    }
}

/// The bytes before the first NUL, as C's `%s` would print them.
pub(crate) fn c_str(b: &[u8]) -> &[u8] {
    b.iter().position(|&x| x == 0).map_or(b, |i| &b[..i])
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmdError::WrongType => {
                f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            CmdError::Syntax => f.write_str("ERR syntax error"),
            CmdError::NotInteger => f.write_str("ERR value is not an integer or out of range"),
            CmdError::NotFloat => f.write_str("ERR value is not a valid float"),
            CmdError::Overflow => f.write_str("ERR increment or decrement would overflow"),
            CmdError::NoSuchKey => f.write_str("ERR no such key"),
            CmdError::OutOfRange => f.write_str("ERR index out of range"),
            CmdError::Arity(name) => {
                write!(f, "ERR wrong number of arguments for '{name}' command")
            }
            CmdError::Line(b) => f.write_str(&String::from_utf8_lossy(b)),
            CmdError::NoAuth => f.write_str("NOAUTH Authentication required."),
            CmdError::Other(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for CmdError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(e: &CmdError) -> String {
        let mut v = Vec::new();
        e.write_to(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn renders_redis_words() {
        assert_eq!(
            line(&CmdError::WrongType),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
        assert_eq!(
            line(&CmdError::arity("GET")),
            "-ERR wrong number of arguments for 'get' command\r\n"
        );
    }

    #[test]
    fn unknown_command_lists_args_like_redis() {
        let e = CmdError::unknown_command(b"foo", &[b"a", b"b"]);
        assert_eq!(
            line(&e),
            "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
        );
    }

    #[test]
    fn arguments_are_quoted_as_bytes_up_to_a_nul() {
        let e = CmdError::unknown_command(b"\xff\xfe", &[b"a\0b"]);
        let mut v = Vec::new();
        e.write_to(&mut v);
        assert_eq!(
            v,
            b"-ERR unknown command '\xff\xfe', with args beginning with: 'a' \r\n"
        );
    }

    #[test]
    fn crlf_in_user_text_cannot_break_framing() {
        let e = CmdError::unknown_command(b"x\r\n+OK", &[b"\r\n"]);
        let l = line(&e);
        assert_eq!(l.matches("\r\n").count(), 1, "{l:?}");
        assert!(l.ends_with("\r\n"));
    }
}
