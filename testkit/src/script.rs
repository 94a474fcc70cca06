//! Differential scripts: plain-text command lists in `redis-cli` syntax with a few
//! directives. The syntax is documented in `server/tests/diff/README.md`; this
//! module parses it.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// How two replies are compared (the `!`/`~` directives after a command).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Check {
    /// What must match.
    pub mode: Mode,
    /// `~N`: integers and doubles anywhere in the reply may differ by at most `N`.
    pub tolerance: Option<u64>,
    /// `!norm=NAME`: normalizers applied to both replies before comparing.
    pub norms: Vec<String>,
    /// `!error`: both replies must be errors (besides matching).
    pub expect_error: bool,
    /// `!scan-all`: the command is a SCAN-family call; iterate it to cursor 0 on
    /// each side independently and compare the sets of returned elements.
    pub scan_all: bool,
}

impl Check {
    /// Parses checks written as after a command (`"~1 !error"`, `""`).
    pub fn parse(text: &str) -> Result<Check, String> {
        let tokens = split_line(text)?;
        parse_checks(&tokens)
    }

    /// True when the raw reply bytes must be identical (no directive relaxes it).
    pub fn is_exact(&self) -> bool {
        self.mode == Mode::Exact && self.tolerance.is_none() && self.norms.is_empty()
    }
}

/// The comparison mode of a [`Check`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Identical replies (the default).
    #[default]
    Exact,
    /// `!unordered`: every aggregate, at any depth, compared as a multiset.
    Unordered,
    /// `!type-only`: the same RESP type (first byte).
    TypeOnly,
    /// `!len`: the same RESP type and the same element count (aggregates) or
    /// byte length (strings).
    Len,
    /// `!skip`: the reply is read but not compared.
    Skip,
}

/// One step of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// A command sent as a RESP array of bulk strings, its reply compared by `check`.
    Command {
        /// The command and its arguments.
        args: Vec<Vec<u8>>,
        /// How its reply is compared.
        check: Check,
    },
    /// `@send "bytes"`: raw bytes written as they are; no reply is read.
    Send(Vec<u8>),
    /// `@reply [checks]`: read one reply on each side and compare it.
    Reply(Check),
    /// `@raw "bytes" [checks]`: `@send` followed by `@reply`.
    Raw(Vec<u8>, Check),
    /// `@resp3`: `HELLO 3` on the current connection of both sides.
    Resp3,
    /// `@resp2`: `HELLO 2` on the current connection of both sides.
    Resp2,
    /// `@flushall`: `FLUSHALL` on both sides.
    FlushAll,
    /// `@new-connection`: replace the current connection of both sides by a fresh one.
    NewConnection,
    /// `@conn NAME`: make connection `NAME` current (opened on first use; the first
    /// connection is called `main`).
    Conn(String),
    /// `@sleep-ms N`: pause (only where time must pass, e.g. expiry).
    SleepMs(u64),
    /// `@wait-blocked N`: wait until each server reports `N` blocked clients
    /// (`INFO clients`), so that a command sent with `@send` on another
    /// connection has blocked before the script goes on.
    WaitBlocked(u64),
    /// `@pipeline`: the commands up to `@end-pipeline` are written in one batch,
    /// then their replies are read and compared in order.
    Pipeline(Vec<Step>),
    /// `@expect-closed`: both servers must close the current connection (after a
    /// protocol error or QUIT); the connection is then reopened.
    ExpectClosed,
    /// `@requires CMD...`: skip the rest of the script unless both servers know
    /// every named command (asked with `COMMAND INFO`). Lets scripts for
    /// commands a server does not have yet sit beside the others.
    Requires(Vec<String>),
}

/// One line of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// 1-based line number.
    pub line: usize,
    /// The line as written (without its comment).
    pub text: String,
    /// What it does.
    pub action: Action,
}

/// A parsed script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// Where it came from (a file path, or a name given to [`Script::parse`]).
    pub name: String,
    /// Its steps in order.
    pub steps: Vec<Step>,
}

/// A syntax error in a script, with its location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Script name.
    pub name: String,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.name, self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

impl Script {
    /// Reads and parses a script file.
    pub fn load(path: &Path) -> io::Result<Script> {
        let text = fs::read_to_string(path)?;
        Script::parse(&path.display().to_string(), &text)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Parses script text; `name` is used in error messages and reports.
    pub fn parse(name: &str, text: &str) -> Result<Script, ParseError> {
        let mut steps = Vec::new();
        let mut pipeline: Option<(usize, String, Vec<Step>)> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |message: String| ParseError {
                name: name.to_owned(),
                line,
                message,
            };
            let tokens = split_line(raw).map_err(err)?;
            let Some(first) = tokens.first() else {
                continue;
            };
            let shown = shown_text(raw);
            let step = if !first.quoted && first.bytes.starts_with(b"@") {
                match parse_directive(&tokens).map_err(err)? {
                    Directive::Action(action) => Some(action),
                    Directive::PipelineStart => {
                        if pipeline.is_some() {
                            return Err(err("@pipeline inside @pipeline".into()));
                        }
                        pipeline = Some((line, shown.clone(), Vec::new()));
                        None
                    }
                    Directive::PipelineEnd => {
                        let Some((start, text, inner)) = pipeline.take() else {
                            return Err(err("@end-pipeline without @pipeline".into()));
                        };
                        steps.push(Step {
                            line: start,
                            text,
                            action: Action::Pipeline(inner),
                        });
                        None
                    }
                }
            } else {
                let (args, check) = split_checks(tokens).map_err(err)?;
                Some(Action::Command { args, check })
            };
            if let Some(action) = step {
                let step = Step {
                    line,
                    text: shown,
                    action,
                };
                match &mut pipeline {
                    Some((_, _, inner)) => {
                        if !matches!(step.action, Action::Command { .. }) {
                            return Err(err("only commands may appear inside @pipeline".into()));
                        }
                        if let Action::Command { check, .. } = &step.action {
                            if check.scan_all {
                                return Err(err("!scan-all cannot be pipelined".into()));
                            }
                        }
                        inner.push(step);
                    }
                    None => steps.push(step),
                }
            }
        }
        if let Some((start, _, _)) = pipeline {
            return Err(ParseError {
                name: name.to_owned(),
                line: start,
                message: "@pipeline without @end-pipeline".into(),
            });
        }
        Ok(Script {
            name: name.to_owned(),
            steps,
        })
    }

    /// Number of commands (and raw sends) in the script, pipelines included.
    pub fn command_count(&self) -> usize {
        fn count(steps: &[Step]) -> usize {
            steps
                .iter()
                .map(|s| match &s.action {
                    Action::Command { .. } | Action::Raw(..) | Action::Send(_) => 1,
                    Action::Pipeline(inner) => count(inner),
                    _ => 0,
                })
                .sum()
        }
        count(&self.steps)
    }
}

/// Every `*.redis` file in `dir`, sorted by name.
pub fn scripts_in(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "redis"))
        .collect();
    paths.sort();
    Ok(paths)
}

enum Directive {
    Action(Action),
    PipelineStart,
    PipelineEnd,
}

fn parse_directive(tokens: &[Token]) -> Result<Directive, String> {
    let name = String::from_utf8_lossy(&tokens[0].bytes).into_owned();
    let rest = &tokens[1..];
    let no_args = |d: Directive| {
        if rest.is_empty() {
            Ok(d)
        } else {
            Err(format!("{name} takes no arguments"))
        }
    };
    let one_bytes = || -> Result<(Vec<u8>, &[Token]), String> {
        match rest.split_first() {
            Some((t, more)) => Ok((t.bytes.clone(), more)),
            None => Err(format!("{name} needs an argument")),
        }
    };
    match name.as_str() {
        "@resp3" => no_args(Directive::Action(Action::Resp3)),
        "@resp2" => no_args(Directive::Action(Action::Resp2)),
        "@flushall" => no_args(Directive::Action(Action::FlushAll)),
        "@new-connection" => no_args(Directive::Action(Action::NewConnection)),
        "@expect-closed" => no_args(Directive::Action(Action::ExpectClosed)),
        "@pipeline" => no_args(Directive::PipelineStart),
        "@end-pipeline" => no_args(Directive::PipelineEnd),
        "@sleep-ms" => {
            let (n, more) = one_bytes()?;
            if !more.is_empty() {
                return Err("@sleep-ms takes one number".into());
            }
            let ms = std::str::from_utf8(&n)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .filter(|&ms| ms <= 10_000)
                .ok_or("@sleep-ms needs a number of milliseconds up to 10000")?;
            Ok(Directive::Action(Action::SleepMs(ms)))
        }
        "@wait-blocked" => {
            let (n, more) = one_bytes()?;
            if !more.is_empty() {
                return Err("@wait-blocked takes one number".into());
            }
            let n = std::str::from_utf8(&n)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or("@wait-blocked needs a number of clients")?;
            Ok(Directive::Action(Action::WaitBlocked(n)))
        }
        "@conn" => {
            let (n, more) = one_bytes()?;
            if !more.is_empty() {
                return Err("@conn takes one name".into());
            }
            Ok(Directive::Action(Action::Conn(
                String::from_utf8_lossy(&n).into_owned(),
            )))
        }
        "@send" => {
            let (bytes, more) = one_bytes()?;
            if !more.is_empty() {
                return Err("@send takes one (quoted) argument".into());
            }
            Ok(Directive::Action(Action::Send(bytes)))
        }
        "@raw" => {
            let (bytes, more) = one_bytes()?;
            let check = parse_checks(more)?;
            Ok(Directive::Action(Action::Raw(bytes, check)))
        }
        "@reply" => Ok(Directive::Action(Action::Reply(parse_checks(rest)?))),
        "@requires" => {
            if rest.is_empty() {
                return Err("@requires needs command names".into());
            }
            Ok(Directive::Action(Action::Requires(
                rest.iter()
                    .map(|t| String::from_utf8_lossy(&t.bytes).into_owned())
                    .collect(),
            )))
        }
        _ => Err(format!("unknown directive {name}")),
    }
}

/// Splits trailing unquoted `!x`/`~N` tokens (the checks) from the command.
fn split_checks(tokens: Vec<Token>) -> Result<(Vec<Vec<u8>>, Check), String> {
    let first_check = tokens
        .iter()
        .position(Token::is_check)
        .unwrap_or(tokens.len());
    if first_check == 0 {
        return Err("a line must start with a command or a @directive".into());
    }
    let check = parse_checks(&tokens[first_check..])?;
    let args = tokens
        .into_iter()
        .take(first_check)
        .map(|t| t.bytes)
        .collect();
    Ok((args, check))
}

fn parse_checks(tokens: &[Token]) -> Result<Check, String> {
    let mut check = Check::default();
    let set_mode = |check: &mut Check, mode: Mode| {
        if check.mode != Mode::Exact && check.mode != mode {
            return Err(format!(
                "conflicting checks {:?} and {:?}",
                check.mode, mode
            ));
        }
        check.mode = mode;
        Ok(())
    };
    for t in tokens {
        if !t.is_check() {
            return Err(format!(
                "argument {:?} after a check: checks (!x, ~N) go last; quote arguments that start with ! or ~",
                String::from_utf8_lossy(&t.bytes)
            ));
        }
        let text = String::from_utf8_lossy(&t.bytes).into_owned();
        if let Some(n) = text.strip_prefix('~') {
            let n: u64 = n
                .parse()
                .map_err(|_| format!("bad tolerance {text:?}: expected ~N, N >= 0"))?;
            check.tolerance = Some(n);
            continue;
        }
        match text.as_str() {
            "!unordered" => set_mode(&mut check, Mode::Unordered)?,
            "!type-only" => set_mode(&mut check, Mode::TypeOnly)?,
            "!len" => set_mode(&mut check, Mode::Len)?,
            "!skip" | "!skip-reply-check" => set_mode(&mut check, Mode::Skip)?,
            "!error" => check.expect_error = true,
            "!scan-all" => check.scan_all = true,
            _ => match text.strip_prefix("!norm=") {
                Some(name) if !name.is_empty() => check.norms.push(name.to_owned()),
                _ => return Err(format!("unknown check {text:?}")),
            },
        }
    }
    Ok(check)
}

/// One argument as `redis-cli` splits it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Token {
    bytes: Vec<u8>,
    /// Some part was quoted: never a directive, check or comment.
    quoted: bool,
}

impl Token {
    fn is_check(&self) -> bool {
        !self.quoted && matches!(self.bytes.first(), Some(b'!' | b'~'))
    }
}

/// The line without its trailing comment, trimmed, for reports.
fn shown_text(raw: &str) -> String {
    // Re-split to find where an unquoted `#` token starts.
    let cut = comment_start(raw).unwrap_or(raw.len());
    raw[..cut].trim().to_owned()
}

fn comment_start(raw: &str) -> Option<usize> {
    let b = raw.as_bytes();
    let mut i = 0;
    let mut in_dq = false;
    let mut in_sq = false;
    let mut token_start = true;
    while i < b.len() {
        let c = b[i];
        if in_dq {
            if c == b'\\' {
                i += 1;
            } else if c == b'"' {
                in_dq = false;
            }
        } else if in_sq {
            if c == b'\\' {
                i += 1;
            } else if c == b'\'' {
                in_sq = false;
            }
        } else if c.is_ascii_whitespace() {
            token_start = true;
            i += 1;
            continue;
        } else if c == b'#' && token_start {
            return Some(i);
        } else if c == b'"' {
            in_dq = true;
        } else if c == b'\'' {
            in_sq = true;
        }
        token_start = false;
        i += 1;
    }
    None
}

/// Splits a line like `redis-cli` (`sdssplitargs`): whitespace separates
/// arguments; `"..."` understands `\n \r \t \b \a \\ \" \xHH` (any other escaped
/// character stands for itself); `'...'` understands `\'`; a closing quote must be
/// followed by whitespace or the end of the line. An unquoted token that starts
/// with `#` begins a comment that runs to the end of the line.
fn split_line(line: &str) -> Result<Vec<Token>, String> {
    let b = line.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() || b[i] == b'#' {
            return Ok(tokens);
        }
        let mut cur = Vec::new();
        let mut quoted = false;
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                let Some(&c) = b.get(i) else {
                    return Err("unbalanced double quote".into());
                };
                if c == b'\\'
                    && i + 3 < b.len()
                    && b[i + 1] == b'x'
                    && is_hex(b[i + 2])
                    && is_hex(b[i + 3])
                {
                    cur.push(hex(b[i + 2]) * 16 + hex(b[i + 3]));
                    i += 4;
                } else if c == b'\\' && i + 1 < b.len() {
                    cur.push(match b[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                    i += 2;
                } else if c == b'"' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return Err("closing quote must be followed by a space".into());
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                    i += 1;
                }
            } else if in_sq {
                let Some(&c) = b.get(i) else {
                    return Err("unbalanced single quote".into());
                };
                if c == b'\\' && i + 1 < b.len() && b[i + 1] == b'\'' {
                    cur.push(b'\'');
                    i += 2;
                } else if c == b'\'' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return Err("closing quote must be followed by a space".into());
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                    i += 1;
                }
            } else {
                match b.get(i) {
                    None => break,
                    Some(c) if c.is_ascii_whitespace() => break,
                    Some(b'"') => {
                        in_dq = true;
                        quoted = true;
                        i += 1;
                    }
                    Some(b'\'') => {
                        in_sq = true;
                        quoted = true;
                        i += 1;
                    }
                    Some(&c) => {
                        cur.push(c);
                        i += 1;
                    }
                }
            }
        }
        tokens.push(Token { bytes: cur, quoted });
    }
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// Writes `args` back in script (`redis-cli`) syntax, quoting where needed, so a
/// generated sequence can be pasted into a `.redis` file.
pub fn format_command(args: &[Vec<u8>]) -> String {
    args.iter()
        .map(|a| quote_arg(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One argument in script syntax: bare when that parses back to the same bytes
/// and cannot be mistaken for a check, comment or directive, else double-quoted.
pub fn quote_arg(arg: &[u8]) -> String {
    let plain = !arg.is_empty()
        && arg
            .iter()
            .all(|&c| c.is_ascii_graphic() && c != b'"' && c != b'\'' && c != b'\\')
        && !matches!(arg[0], b'!' | b'~' | b'#' | b'@');
    if plain {
        return String::from_utf8_lossy(arg).into_owned();
    }
    let mut s = String::from("\"");
    for &c in arg {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<Vec<u8>> {
        split_line(line)
            .unwrap()
            .into_iter()
            .map(|t| t.bytes)
            .collect()
    }

    fn one(text: &str) -> Action {
        let s = Script::parse("t", text).unwrap();
        assert_eq!(s.steps.len(), 1);
        s.steps.into_iter().next().unwrap().action
    }

    #[test]
    fn splits_like_redis_cli() {
        assert_eq!(
            args("SET k v"),
            vec![b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()]
        );
        assert_eq!(args("  a   b  "), vec![b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(
            args(r#"SET "a b" 'c d'"#)[1..],
            [b"a b".to_vec(), b"c d".to_vec()]
        );
        assert_eq!(
            args(r#""\x00\xff\n\r\t\"\\\q""#),
            vec![b"\x00\xff\n\r\t\"\\q".to_vec()]
        );
        assert_eq!(
            args(r#"'it\'s' '\n'"#),
            vec![b"it's".to_vec(), b"\\n".to_vec()]
        );
        assert_eq!(args(r#""""#), vec![Vec::<u8>::new()]);
        assert_eq!(args(r#"a"b c""#), vec![b"ab c".to_vec()]);
        assert_eq!(
            args(r#""\x4""#),
            vec![b"x4".to_vec()],
            "short hex escape is the literal char"
        );
    }

    #[test]
    fn rejects_bad_quotes() {
        assert!(split_line(r#"SET "a"b"#).is_err());
        assert!(split_line(r#"SET "abc"#).is_err());
        assert!(split_line("SET 'abc").is_err());
        assert!(split_line("SET 'a'b").is_err());
    }

    #[test]
    fn comments_start_at_an_unquoted_hash_token() {
        assert_eq!(
            args("GET k # the key"),
            vec![b"GET".to_vec(), b"k".to_vec()]
        );
        assert_eq!(args("GET a#b"), vec![b"GET".to_vec(), b"a#b".to_vec()]);
        assert_eq!(args(r##"GET "#x""##), vec![b"GET".to_vec(), b"#x".to_vec()]);
        assert!(args("# whole line").is_empty());
        assert_eq!(shown_text(r##"ECHO "# no" # yes"##), r##"ECHO "# no""##);
    }

    #[test]
    fn parses_checks() {
        match one("TTL k ~1 !error") {
            Action::Command { args, check } => {
                assert_eq!(args, vec![b"TTL".to_vec(), b"k".to_vec()]);
                assert_eq!(check.tolerance, Some(1));
                assert!(check.expect_error);
                assert_eq!(check.mode, Mode::Exact);
                assert!(!check.is_exact());
            }
            other => panic!("{other:?}"),
        }
        match one("KEYS * !unordered !norm=hello") {
            Action::Command { check, .. } => {
                assert_eq!(check.mode, Mode::Unordered);
                assert_eq!(check.norms, vec!["hello".to_string()]);
            }
            other => panic!("{other:?}"),
        }
        match one(r#"SET k "!v" "~1""#) {
            Action::Command { args, check } => {
                assert_eq!(args[2], b"!v");
                assert_eq!(args[3], b"~1");
                assert!(check.is_exact());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rejects_bad_checks() {
        assert!(Script::parse("t", "GET k !nope").is_err());
        assert!(Script::parse("t", "GET k ~x").is_err());
        assert!(Script::parse("t", "GET !skip k").is_err());
        assert!(Script::parse("t", "GET k !skip !len").is_err());
        assert!(Script::parse("t", "!skip").is_err());
        let e = Script::parse("f.redis", "PING\n@bogus").unwrap_err();
        assert_eq!(e.to_string(), "f.redis:2: unknown directive @bogus");
    }

    #[test]
    fn parses_directives() {
        assert_eq!(one("@resp3"), Action::Resp3);
        assert_eq!(one("@flushall # all"), Action::FlushAll);
        assert_eq!(one("@sleep-ms 20"), Action::SleepMs(20));
        assert_eq!(one("@wait-blocked 2"), Action::WaitBlocked(2));
        assert_eq!(one("@conn other"), Action::Conn("other".into()));
        assert_eq!(
            one(r#"@send "PING\r\n""#),
            Action::Send(b"PING\r\n".to_vec())
        );
        assert_eq!(
            one(r#"@raw "*1\r\n$4\r\nPING\r\n" !type-only"#),
            Action::Raw(
                b"*1\r\n$4\r\nPING\r\n".to_vec(),
                Check {
                    mode: Mode::TypeOnly,
                    ..Check::default()
                }
            )
        );
        assert_eq!(
            one("@requires LPUSH sadd"),
            Action::Requires(vec!["LPUSH".into(), "sadd".into()])
        );
        assert!(Script::parse("t", "@requires").is_err());
        assert!(Script::parse("t", "@sleep-ms").is_err());
        assert!(Script::parse("t", "@wait-blocked x").is_err());
        assert!(Script::parse("t", "@sleep-ms 99999").is_err());
        assert!(Script::parse("t", "@resp3 x").is_err());
    }

    #[test]
    fn parses_pipelines() {
        let s = Script::parse("t", "@pipeline\nSET a 1\nGET a\n@end-pipeline\nPING").unwrap();
        assert_eq!(s.steps.len(), 2);
        assert_eq!(s.command_count(), 3);
        match &s.steps[0].action {
            Action::Pipeline(inner) => {
                assert_eq!(inner.len(), 2);
                assert_eq!(inner[1].line, 3);
            }
            other => panic!("{other:?}"),
        }
        assert!(Script::parse("t", "@pipeline\nPING").is_err());
        assert!(Script::parse("t", "@end-pipeline").is_err());
        assert!(Script::parse("t", "@pipeline\n@resp3\n@end-pipeline").is_err());
    }

    #[test]
    fn quoting_round_trips() {
        let cases: Vec<Vec<u8>> = vec![
            b"plain".to_vec(),
            b"".to_vec(),
            b"a b".to_vec(),
            b"\x00\xff\r\n".to_vec(),
            b"!x".to_vec(),
            b"~1".to_vec(),
            b"#c".to_vec(),
            b"@d".to_vec(),
            b"q\"'\\".to_vec(),
        ];
        let line = format_command(&cases);
        let back: Vec<Vec<u8>> = split_line(&line)
            .unwrap()
            .into_iter()
            .map(|t| t.bytes)
            .collect();
        assert_eq!(back, cases);
        assert!(split_line(&line).unwrap().iter().all(|t| !t.is_check()));
    }
}
