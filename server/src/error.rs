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
    /// `-ERR unknown command ...` (the text after `ERR `)
    Unknown(String),
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

    /// Redis's reply for a command name it does not know.
    pub fn unknown_command(name: &[u8], args: &[&[u8]]) -> CmdError {
        // As processCommand in Redis 7.0: the name cut at 128 bytes, then
        // arguments quoted while the list is shorter than 128 bytes.
        let mut list = String::new();
        for a in args {
            if list.len() >= 128 {
                break;
            }
            let room = 128 - list.len();
            let a = &a[..a.len().min(room)];
            list.push('\'');
            list.push_str(&String::from_utf8_lossy(a));
            list.push_str("' ");
        }
        let name = &name[..name.len().min(128)];
        CmdError::Unknown(format!(
            "unknown command '{}', with args beginning with: {}",
            String::from_utf8_lossy(name),
            list
        ))
    }

    /// Redis's reply for an unknown subcommand of a container command.
    pub fn unknown_subcommand(cmd: &str, sub: &[u8]) -> CmdError {
        let sub = &sub[..sub.len().min(128)];
        CmdError::Other(
            format!(
                "ERR unknown subcommand '{}'. Try {} HELP.",
                String::from_utf8_lossy(sub),
                cmd.to_ascii_uppercase()
            )
            .into(),
        )
    }

    /// Appends the error line (`-...\r\n`) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            CmdError::Other(s) => encode::error(out, s.as_bytes()),
            other => encode::error(out, other.to_string().as_bytes()),
        }
    }

    /// The error's code word (`ERR`, `WRONGTYPE`...), for stats.
    pub fn code(&self) -> &str {
        match self {
            CmdError::WrongType => "WRONGTYPE",
            CmdError::NoAuth => "NOAUTH",
            CmdError::Other(s) => s.split(' ').next().unwrap_or("ERR"),
            _ => "ERR",
        }
    }
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
            CmdError::Unknown(text) => write!(f, "ERR {text}"),
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
    fn crlf_in_user_text_cannot_break_framing() {
        let e = CmdError::unknown_command(b"x\r\n+OK", &[b"\r\n"]);
        let l = line(&e);
        assert_eq!(l.matches("\r\n").count(), 1, "{l:?}");
        assert!(l.ends_with("\r\n"));
    }
}
