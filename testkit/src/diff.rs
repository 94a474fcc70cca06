//! The differential harness: run the same steps against two servers (real
//! Redis and soquete, or two Redis servers to prove the scripts) and compare
//! every reply.
//!
//! ```no_run
//! use soquete_testkit::{diff::Runner, ServerProcess};
//!
//! let redis = ServerProcess::redis();
//! let soquete = ServerProcess::soquete();
//! let report = Runner::between(&redis, &soquete).run_dir("server/tests/diff".as_ref(), None);
//! assert!(report.is_ok(), "{report}");
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use soquete_resp::{encode, Bytes, Frame};

use crate::conn::{command_bytes, Conn, Reply};
use crate::render::{escape, render};
use crate::script::{self, Action, Check, Mode, Script, Step};
use crate::ServerProcess;

/// A reply rewriter applied to both replies before comparing (`!norm=NAME`).
pub type Normalizer = Arc<dyn Fn(&mut Frame) + Send + Sync>;

/// Named normalizers. [`Normalizers::builtin`] holds `hello`, `client` and `id`.
#[derive(Clone)]
pub struct Normalizers(HashMap<String, Normalizer>);

impl fmt::Debug for Normalizers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.0.keys().collect();
        names.sort();
        f.debug_tuple("Normalizers").field(&names).finish()
    }
}

impl Default for Normalizers {
    fn default() -> Self {
        Normalizers::builtin()
    }
}

impl Normalizers {
    /// No normalizers at all.
    pub fn empty() -> Self {
        Normalizers(HashMap::new())
    }

    /// The built-in normalizers:
    /// * `hello`: the `id` field of a `HELLO` reply (map or flat array) becomes 0;
    /// * `client`: in `CLIENT LIST`/`CLIENT INFO` text, connection-specific
    ///   fields (`id addr laddr fd age idle qbuf qbuf-free argv-mem multi-mem
    ///   obl oll omem tot-mem rbs rbp`) become `?`;
    /// * `acl-log`: in ACL LOG entries, `age-seconds` becomes 0 and
    ///   `client-info` is normalized as by `client`;
    /// * `id`: any integer becomes 0;
    /// * `debug-object`: in a `DEBUG OBJECT` line, the values of `at`, `lru`
    ///   and `lru_seconds_idle` (an address and clocks) become `?`;
    /// * `debug-object-shape`: the same, and `serializedlength` too (Redis
    ///   LZF-compresses what it would serialize; soquete does not);
    /// * `info`: in INFO text, every number in a value (with its sign and
    ///   a unit suffix such as `1.04M` or `99.10%`) becomes `N`: field
    ///   names, their order and the non-numeric values stay;
    /// * `info-unordered`: the same, with the lines of each section sorted
    ///   (commandstats and latencystats list commands in Redis's hash
    ///   table order);
    /// * `commandstats`: in INFO commandstats, the `usec` and
    ///   `usec_per_call` values become `?` and the lines are sorted; the
    ///   call counts stay exact.
    pub fn builtin() -> Self {
        let mut n = Normalizers::empty();
        n.insert("hello", Arc::new(normalize_hello));
        n.insert("client", Arc::new(normalize_client));
        n.insert("acl-log", Arc::new(normalize_acl_log));
        n.insert("id", Arc::new(normalize_integers));
        n.insert(
            "debug-object",
            Arc::new(|f: &mut Frame| normalize_debug_object(f, &["at", "lru", "lru_seconds_idle"])),
        );
        n.insert(
            "info",
            Arc::new(|f: &mut Frame| map_info_text(f, info_shape)),
        );
        n.insert(
            "info-unordered",
            Arc::new(|f: &mut Frame| map_info_text(f, |t| sort_info_sections(&info_shape(t)))),
        );
        n.insert(
            "commandstats",
            Arc::new(|f: &mut Frame| {
                map_info_text(f, |t| sort_info_sections(&mask_command_times(t)))
            }),
        );
        n.insert(
            "debug-object-shape",
            Arc::new(|f: &mut Frame| {
                normalize_debug_object(f, &["at", "lru", "lru_seconds_idle", "serializedlength"])
            }),
        );
        n
    }

    /// Adds or replaces a normalizer.
    pub fn insert(&mut self, name: &str, f: Normalizer) {
        self.0.insert(name.to_owned(), f);
    }

    /// Looks one up.
    pub fn get(&self, name: &str) -> Option<&Normalizer> {
        self.0.get(name)
    }
}

/// Applies `g` to the text of an INFO reply (a bulk or verbatim string).
fn map_info_text(f: &mut Frame, g: impl Fn(&str) -> String) {
    match f {
        Frame::Bulk(b) => *b = Bytes::from(g(&String::from_utf8_lossy(b))),
        Frame::Verbatim { text, .. } => *text = Bytes::from(g(&String::from_utf8_lossy(text))),
        _ => {}
    }
}

/// Every number in the values of `name:value` lines becomes `N` (a sign
/// before it and a unit letter or `%` after it go with it).
fn info_shape(text: &str) -> String {
    let mask = |v: &str| {
        let mut out = String::new();
        let mut chars = v.chars().peekable();
        while let Some(c) = chars.next() {
            let starts_number =
                c.is_ascii_digit() || (c == '-' && chars.peek().is_some_and(char::is_ascii_digit));
            if !starts_number {
                out.push(c);
                continue;
            }
            while chars
                .peek()
                .is_some_and(|d| d.is_ascii_digit() || *d == '.')
            {
                chars.next();
            }
            if chars.peek().is_some_and(|u| "BKMGTP%".contains(*u)) {
                chars.next();
            }
            out.push('N');
        }
        out
    };
    text.split("\r\n")
        .map(|line| match line.split_once(':') {
            Some((k, v)) if !line.starts_with('#') => format!("{k}:{}", mask(v)),
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// Sorts the lines under each `# Section` header.
fn sort_info_sections(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    let flush = |block: &mut Vec<&str>, out: &mut Vec<String>| {
        block.sort_unstable();
        out.extend(block.drain(..).map(str::to_owned));
    };
    for line in text.split("\r\n") {
        if line.starts_with('#') || line.is_empty() {
            flush(&mut block, &mut out);
            out.push(line.to_owned());
        } else {
            block.push(line);
        }
    }
    flush(&mut block, &mut out);
    out.join("\r\n")
}

/// `cmdstat_x:calls=1,usec=4,usec_per_call=4.00,...`: the times become `?`.
fn mask_command_times(text: &str) -> String {
    text.split("\r\n")
        .map(|line| {
            if !line.starts_with("cmdstat_") {
                return line.to_owned();
            }
            let Some((name, fields)) = line.split_once(':') else {
                return line.to_owned();
            };
            let fields: Vec<String> = fields
                .split(',')
                .map(|f| match f.split_once('=') {
                    Some((k @ ("usec" | "usec_per_call"), _)) => format!("{k}=?"),
                    _ => f.to_owned(),
                })
                .collect();
            format!("{name}:{}", fields.join(","))
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

fn normalize_hello(f: &mut Frame) {
    let is_id = |k: &Frame| k.as_bytes() == Some(b"id");
    match f {
        Frame::Map(pairs) => {
            for (k, v) in pairs.iter_mut() {
                if is_id(k) {
                    *v = Frame::Integer(0);
                }
            }
        }
        Frame::Array(items) => {
            for pair in items.chunks_mut(2) {
                if let [k, v] = pair {
                    if is_id(k) {
                        *v = Frame::Integer(0);
                    }
                }
            }
        }
        _ => {}
    }
}

const CLIENT_VOLATILE: &[&str] = &[
    "id",
    "addr",
    "laddr",
    "fd",
    "age",
    "idle",
    "qbuf",
    "qbuf-free",
    "argv-mem",
    "multi-mem",
    "obl",
    "oll",
    "omem",
    "tot-mem",
    "rbs",
    "rbp",
];

fn normalize_client_text(text: &[u8]) -> Bytes {
    let text = String::from_utf8_lossy(text);
    let lines: Vec<String> = text
        .split('\n')
        .map(|line| {
            line.split(' ')
                .map(|field| match field.split_once('=') {
                    Some((k, _)) if CLIENT_VOLATILE.contains(&k) => format!("{k}=?"),
                    _ => field.to_owned(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    Bytes::from(lines.join("\n"))
}

fn normalize_client(f: &mut Frame) {
    match f {
        Frame::Bulk(b) => *b = normalize_client_text(b),
        Frame::Verbatim { text, .. } => *text = normalize_client_text(text),
        _ => {}
    }
}

/// ACL LOG entries: `age-seconds` becomes 0 and `client-info` is
/// normalized as `client` is, in every entry (RESP2 pairs or RESP3 maps).
fn normalize_acl_log(f: &mut Frame) {
    fn field(k: &Frame, v: &mut Frame) {
        match k.as_bytes() {
            Some(b"age-seconds") => *v = Frame::Integer(0),
            Some(b"client-info") => normalize_client(v),
            _ => normalize_acl_log(v),
        }
    }
    match f {
        Frame::Map(pairs) => pairs.iter_mut().for_each(|(k, v)| field(k, v)),
        Frame::Array(items) if items.iter().all(|i| i.as_bytes().is_none()) => {
            items.iter_mut().for_each(normalize_acl_log)
        }
        Frame::Array(items) => {
            for pair in items.chunks_mut(2) {
                if let [k, v] = pair {
                    field(k, v);
                }
            }
        }
        _ => {}
    }
}

/// `Value at:0x.. refcount:1 ...`: the named fields' values become `?`.
fn normalize_debug_object(f: &mut Frame, volatile: &[&str]) {
    if let Frame::Simple(b) = f {
        let text = String::from_utf8_lossy(b);
        let out: Vec<String> = text
            .split(' ')
            .map(|field| match field.split_once(':') {
                Some((k, _)) if volatile.contains(&k) => format!("{k}:?"),
                _ => field.to_owned(),
            })
            .collect();
        *b = Bytes::from(out.join(" "));
    }
}

fn normalize_integers(f: &mut Frame) {
    match f {
        Frame::Integer(n) => *n = 0,
        Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
            items.iter_mut().for_each(normalize_integers)
        }
        _ => {}
    }
}

/// Compares two replies under `check`; `Err` says why they differ.
///
/// * exact (no relaxing check): the raw bytes must be equal;
/// * `~N`, `!unordered`, `!norm=`: the decoded frames must be equal after
///   normalizing, sorting aggregates (unordered) and allowing integers and
///   doubles to differ by `N`;
/// * `!type-only`: the first byte; `!len`: type and element count/byte length;
/// * `!skip`: always equal; `!error`: both must also be errors.
pub fn compare(check: &Check, a: &Reply, b: &Reply, norms: &Normalizers) -> Result<(), String> {
    if check.expect_error && (!a.is_error() || !b.is_error()) {
        return Err("expected both replies to be errors (!error)".into());
    }
    match check.mode {
        Mode::Skip => return Ok(()),
        Mode::TypeOnly => {
            return if a.raw.first() == b.raw.first() {
                Ok(())
            } else {
                Err("different RESP types".into())
            }
        }
        Mode::Len => {
            if a.raw.first() != b.raw.first() {
                return Err("different RESP types".into());
            }
            return if size(&a.frame) == size(&b.frame) {
                Ok(())
            } else {
                Err(format!(
                    "different lengths: {:?} vs {:?}",
                    size(&a.frame).unwrap_or(0),
                    size(&b.frame).unwrap_or(0)
                ))
            };
        }
        Mode::Exact | Mode::Unordered => {}
    }
    if check.is_exact() {
        return if a.raw == b.raw {
            Ok(())
        } else {
            Err("replies differ".into())
        };
    }
    let (mut fa, mut fb) = (a.frame.clone(), b.frame.clone());
    for name in &check.norms {
        let f = norms
            .get(name)
            .ok_or_else(|| format!("unknown normalizer {name:?}"))?;
        f(&mut fa);
        f(&mut fb);
    }
    if check.mode == Mode::Unordered {
        canonicalize(&mut fa);
        canonicalize(&mut fb);
    }
    let tol = check.tolerance.unwrap_or(0);
    if close(&fa, &fb, tol) {
        Ok(())
    } else if check.tolerance.is_some() {
        Err(format!("replies differ (beyond a tolerance of {tol})"))
    } else {
        Err("replies differ".into())
    }
}

/// Element count of aggregates, byte length of strings and errors.
fn size(f: &Frame) -> Option<usize> {
    match f {
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => Some(v.len()),
        Frame::Map(p) => Some(p.len()),
        Frame::Simple(b) | Frame::Bulk(b) | Frame::Error(b) | Frame::BlobError(b) => Some(b.len()),
        Frame::BigNumber(b) => Some(b.len()),
        Frame::Verbatim { text, .. } => Some(text.len()),
        _ => None,
    }
}

fn encoded(f: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    encode::frame(&mut out, f);
    out
}

/// Sorts every aggregate (at any depth) into a canonical order.
fn canonicalize(f: &mut Frame) {
    match f {
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => {
            v.iter_mut().for_each(canonicalize);
            v.sort_by_cached_key(encoded);
        }
        Frame::Map(p) => {
            for (k, v) in p.iter_mut() {
                canonicalize(k);
                canonicalize(v);
            }
            p.sort_by_cached_key(|(k, v)| (encoded(k), encoded(v)));
        }
        Frame::Attribute { attrs, value } => {
            for (k, v) in attrs.iter_mut() {
                canonicalize(k);
                canonicalize(v);
            }
            attrs.sort_by_cached_key(|(k, v)| (encoded(k), encoded(v)));
            canonicalize(value);
        }
        _ => {}
    }
}

/// Frame equality where integers and doubles may differ by `tol`.
fn close(a: &Frame, b: &Frame, tol: u64) -> bool {
    match (a, b) {
        (Frame::Integer(x), Frame::Integer(y)) => {
            (*x as i128 - *y as i128).unsigned_abs() <= tol as u128
        }
        (Frame::Double(x), Frame::Double(y)) => {
            (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= tol as f64
        }
        (Frame::Array(x), Frame::Array(y))
        | (Frame::Set(x), Frame::Set(y))
        | (Frame::Push(x), Frame::Push(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| close(p, q, tol))
        }
        (Frame::Map(x), Frame::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| close(k1, k2, tol) && close(v1, v2, tol))
        }
        (
            Frame::Attribute {
                attrs: x,
                value: vx,
            },
            Frame::Attribute {
                attrs: y,
                value: vy,
            },
        ) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| close(k1, k2, tol) && close(v1, v2, tol))
                && close(vx, vy, tol)
        }
        _ => a == b,
    }
}

/// One server under test: a display name and an address.
#[derive(Clone, Debug)]
pub struct Side {
    /// Shown in reports (`redis`, `soquete`, `redis-b`).
    pub name: String,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Side {
    /// A running server, named after its kind (`redis`, `soquete`).
    ///
    /// # Panics
    ///
    /// As [`ServerProcess::addr`].
    pub fn of(server: &ServerProcess) -> Side {
        Side {
            name: server.kind().to_string(),
            addr: server.addr(),
        }
    }
}

/// What kind of failure a [`Failure`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The replies differ (or a check such as `!error` does not hold).
    Mismatch,
    /// A server closed the connection, timed out, or sent malformed bytes: the
    /// script stops, and the server may have crashed.
    Connection,
    /// The fresh state before the script could not be set up (the server was
    /// unreachable or `FLUSHALL` failed): nothing in the script ran.
    Setup,
}

/// A failed step: where, what, and both replies.
#[derive(Clone, Debug)]
pub struct Failure {
    /// What went wrong, broadly.
    pub kind: FailureKind,
    /// Script name.
    pub script: String,
    /// 1-based line.
    pub line: usize,
    /// The line as written.
    pub command: String,
    /// Why it failed, with both replies rendered.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}\n{}",
            self.script, self.line, self.command, self.message
        )
    }
}

/// What happened to one script.
#[derive(Clone, Debug)]
pub struct ScriptReport {
    /// Script name.
    pub name: String,
    /// Commands (and raw sends) executed.
    pub commands: usize,
    /// Mismatches and errors; the first one only unless keep-going is on.
    pub failures: Vec<Failure>,
    /// Why the script was skipped (`@requires` not met), if it was.
    pub skipped: Option<String>,
    /// Wall time.
    pub elapsed: Duration,
}

/// What happened to a set of scripts.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// One entry per script, in run order.
    pub scripts: Vec<ScriptReport>,
}

impl Report {
    /// True when no script failed.
    pub fn is_ok(&self) -> bool {
        self.scripts.iter().all(|s| s.failures.is_empty())
    }

    /// Every failure of every script.
    pub fn failures(&self) -> impl Iterator<Item = &Failure> {
        self.scripts.iter().flat_map(|s| s.failures.iter())
    }

    /// Scripts that were skipped, with the reason.
    pub fn skipped(&self) -> impl Iterator<Item = (&str, &str)> {
        self.scripts
            .iter()
            .filter_map(|s| s.skipped.as_deref().map(|why| (s.name.as_str(), why)))
    }

    /// Total commands executed.
    pub fn commands(&self) -> usize {
        self.scripts.iter().map(|s| s.commands).sum()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.scripts {
            let status = if let Some(why) = &s.skipped {
                format!("skipped ({why})")
            } else if s.failures.is_empty() {
                "ok".to_owned()
            } else {
                format!("FAILED ({} mismatch(es))", s.failures.len())
            };
            writeln!(
                f,
                "{:<48} {:>5} commands {:>7.1?}  {status}",
                s.name, s.commands, s.elapsed
            )?;
        }
        let failures: Vec<&Failure> = self.failures().collect();
        if !failures.is_empty() {
            writeln!(f, "\n{} failure(s):", failures.len())?;
            for fail in failures {
                writeln!(f, "\n{fail}")?;
            }
        }
        Ok(())
    }
}

/// Runs scripts and command sequences against two servers and compares replies.
#[derive(Clone, Debug)]
pub struct Runner {
    a: Side,
    b: Side,
    normalizers: Normalizers,
    keep_going: bool,
}

impl Runner {
    /// Compares server `a` (the reference) with server `b`.
    pub fn new(a: Side, b: Side) -> Runner {
        Runner {
            a,
            b,
            normalizers: Normalizers::builtin(),
            keep_going: std::env::var_os("SOQUETE_DIFF_KEEP_GOING").is_some_and(|v| v != "0"),
        }
    }

    /// Compares two running servers, named after their kinds (`redis` and
    /// `soquete`, or `redis-a` and `redis-b` when both are the same kind).
    pub fn between(a: &ServerProcess, b: &ServerProcess) -> Runner {
        let (na, nb) = if a.kind() == b.kind() {
            (format!("{}-a", a.kind()), format!("{}-b", b.kind()))
        } else {
            (a.kind().to_string(), b.kind().to_string())
        };
        Runner::new(
            Side {
                name: na,
                addr: a.addr(),
            },
            Side {
                name: nb,
                addr: b.addr(),
            },
        )
    }

    /// Registers a normalizer for `!norm=NAME`.
    pub fn normalizer(
        mut self,
        name: &str,
        f: impl Fn(&mut Frame) + Send + Sync + 'static,
    ) -> Self {
        self.normalizers.insert(name, Arc::new(f));
        self
    }

    /// Report every mismatch of a script instead of stopping at the first
    /// (default: off, or on when `SOQUETE_DIFF_KEEP_GOING` is set). Later
    /// mismatches may be consequences of earlier ones.
    pub fn keep_going(mut self, on: bool) -> Self {
        self.keep_going = on;
        self
    }

    /// The two sides.
    pub fn sides(&self) -> (&Side, &Side) {
        (&self.a, &self.b)
    }

    /// Runs every `*.redis` script in `dir` (name order) whose file name
    /// contains `filter` (or `$SOQUETE_DIFF_FILTER` when `filter` is `None`).
    ///
    /// # Panics
    ///
    /// When the directory or a script cannot be read or parsed: that is a bug
    /// in the scripts, not a mismatch.
    pub fn run_dir(&self, dir: &Path, filter: Option<&str>) -> Report {
        let env_filter = std::env::var("SOQUETE_DIFF_FILTER").ok();
        let filter = filter.or(env_filter.as_deref());
        let paths = script::scripts_in(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        assert!(!paths.is_empty(), "no *.redis scripts in {}", dir.display());
        let mut report = Report::default();
        for path in paths {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if filter.is_some_and(|f| !name.contains(f)) {
                continue;
            }
            let mut script = Script::load(&path).unwrap_or_else(|e| panic!("{e}"));
            script.name = name;
            report.scripts.push(self.run_script(&script));
        }
        report
    }

    /// Runs one script on fresh state (`FLUSHALL`, new connections).
    pub fn run_script(&self, script: &Script) -> ScriptReport {
        let start = Instant::now();
        let mut session = Session::new(self);
        let mut report = ScriptReport {
            name: script.name.clone(),
            commands: 0,
            failures: Vec::new(),
            skipped: None,
            elapsed: Duration::ZERO,
        };
        if let Err(e) = session.reset() {
            report.failures.push(Failure {
                kind: FailureKind::Setup,
                script: script.name.clone(),
                line: 0,
                command: "(reset before the script)".into(),
                message: e.message,
            });
        } else {
            for step in &script.steps {
                match session.exec(step) {
                    Ok(Flow::Continue) => {}
                    Ok(Flow::Skip(why)) => {
                        report.skipped = Some(why);
                        break;
                    }
                    Err(e) => {
                        report.failures.push(Failure {
                            kind: if e.fatal {
                                FailureKind::Connection
                            } else {
                                FailureKind::Mismatch
                            },
                            script: script.name.clone(),
                            line: e.line.unwrap_or(step.line),
                            command: e.command.unwrap_or_else(|| step.text.clone()),
                            message: e.message,
                        });
                        if e.fatal || !self.keep_going {
                            break;
                        }
                    }
                }
            }
        }
        report.commands = session.commands;
        report.elapsed = start.elapsed();
        report
    }

    /// Runs commands (each with its check) on fresh state; the first mismatch
    /// is returned. Used by the random sequence tests.
    pub fn run_commands(
        &self,
        name: &str,
        commands: &[(Vec<Vec<u8>>, Check)],
    ) -> Result<usize, Failure> {
        let script = Script {
            name: name.to_owned(),
            steps: commands
                .iter()
                .enumerate()
                .map(|(i, (args, check))| Step {
                    line: i + 1,
                    text: script::format_command(args),
                    action: Action::Command {
                        args: args.clone(),
                        check: check.clone(),
                    },
                })
                .collect(),
        };
        let report = self.clone().keep_going(false).run_script(&script);
        match report.failures.into_iter().next() {
            Some(f) => Err(f),
            None => Ok(report.commands),
        }
    }
}

enum Flow {
    Continue,
    Skip(String),
}

struct StepError {
    message: String,
    /// The connection state is unknown: stop the script.
    fatal: bool,
    /// Overrides the step's line/text (inside a pipeline).
    line: Option<usize>,
    command: Option<String>,
}

impl StepError {
    fn mismatch(message: String) -> Self {
        StepError {
            message,
            fatal: false,
            line: None,
            command: None,
        }
    }

    fn fatal(message: String) -> Self {
        StepError {
            message,
            fatal: true,
            line: None,
            command: None,
        }
    }
}

/// The connections of one run: per side, named connections.
struct Session<'r> {
    runner: &'r Runner,
    conns: [HashMap<String, Conn>; 2],
    current: String,
    commands: usize,
}

impl<'r> Session<'r> {
    fn new(runner: &'r Runner) -> Self {
        Session {
            runner,
            conns: [HashMap::new(), HashMap::new()],
            current: "main".into(),
            commands: 0,
        }
    }

    fn side(&self, i: usize) -> &Side {
        if i == 0 {
            &self.runner.a
        } else {
            &self.runner.b
        }
    }

    fn io_err(&self, i: usize, e: io::Error) -> StepError {
        StepError::fatal(format!("  {}: {e}", self.side(i).name))
    }

    /// `FLUSHALL` on both sides and drop every connection.
    fn reset(&mut self) -> Result<(), StepError> {
        self.conns = [HashMap::new(), HashMap::new()];
        self.current = "main".into();
        for i in 0..2 {
            // A short timeout: a server that stopped answering fails fast here.
            let conn = self.conn(i)?;
            let _ = conn.set_timeout(Duration::from_secs(2));
            let reply = conn.try_cmd(&["FLUSHALL"]).map_err(|e| self.io_err(i, e))?;
            if reply.raw != b"+OK\r\n" {
                return Err(StepError::fatal(format!(
                    "  {}: FLUSHALL answered {}",
                    self.side(i).name,
                    escape(&reply.raw, 200)
                )));
            }
        }
        self.conns = [HashMap::new(), HashMap::new()];
        Ok(())
    }

    fn conn(&mut self, i: usize) -> Result<&mut Conn, StepError> {
        if !self.conns[i].contains_key(&self.current) {
            let addr = self.side(i).addr;
            let c = Conn::connect(addr).map_err(|e| {
                StepError::fatal(format!(
                    "  {}: cannot connect to {addr}: {e}",
                    self.side(i).name
                ))
            })?;
            self.conns[i].insert(self.current.clone(), c);
        }
        Ok(self.conns[i].get_mut(&self.current).expect("just inserted"))
    }

    /// Polls each server's `INFO clients` on a connection of its own until
    /// it reports `n` blocked clients (at most 10 s).
    fn wait_blocked(&mut self, n: u64) -> Result<(), StepError> {
        let want = format!("blocked_clients:{n}\r\n");
        for i in 0..2 {
            let addr = self.side(i).addr;
            let mut c = Conn::connect(addr).map_err(|e| self.io_err(i, e))?;
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let reply = c
                    .try_cmd(&["INFO", "clients"])
                    .map_err(|e| self.io_err(i, e))?;
                let info = reply.frame.as_bytes().unwrap_or_default().to_vec();
                if info.windows(want.len()).any(|w| w == want.as_bytes()) {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(StepError::fatal(format!(
                        "  {}: never reported {n} blocked clients",
                        self.side(i).name
                    )));
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        Ok(())
    }

    fn send_both(&mut self, bytes: &[u8]) -> Result<(), StepError> {
        for i in 0..2 {
            let r = self.conn(i)?.try_send(bytes);
            r.map_err(|e| self.io_err(i, e))?;
        }
        Ok(())
    }

    fn read(&mut self, i: usize) -> Result<Reply, StepError> {
        let r = self.conn(i)?.try_read_reply();
        match r {
            Ok(Some(reply)) => Ok(reply),
            Ok(None) => Err(StepError::fatal(format!(
                "  {}: the server closed the connection instead of replying",
                self.side(i).name
            ))),
            Err(e) => Err(self.io_err(i, e)),
        }
    }

    fn read_both(&mut self) -> Result<[Reply; 2], StepError> {
        Ok([self.read(0)?, self.read(1)?])
    }

    fn check(&self, check: &Check, replies: &[Reply; 2]) -> Result<(), StepError> {
        compare(check, &replies[0], &replies[1], &self.runner.normalizers)
            .map_err(|why| StepError::mismatch(self.describe(&why, replies)))
    }

    fn describe(&self, why: &str, replies: &[Reply; 2]) -> String {
        let width = self.runner.a.name.len().max(self.runner.b.name.len()) + 1;
        let mut out = format!("  {why}\n");
        for (i, reply) in replies.iter().enumerate() {
            let label = format!("{}:", self.side(i).name);
            let pad = " ".repeat(width + 4);
            let shown = render(&reply.frame).replace('\n', &format!("\n{pad}"));
            out.push_str(&format!("  {label:<width$}  {shown}\n"));
            out.push_str(&format!("{pad}raw {}\n", escape(&reply.raw, 400)));
        }
        out
    }

    fn exec(&mut self, step: &Step) -> Result<Flow, StepError> {
        match &step.action {
            Action::Command { args, check } => {
                self.commands += 1;
                if check.scan_all {
                    return self.scan_all(args, check).map(|_| Flow::Continue);
                }
                self.send_both(&command_bytes(args))?;
                let replies = self.read_both()?;
                self.check(check, &replies)?;
            }
            Action::Send(bytes) => {
                self.commands += 1;
                self.send_both(bytes)?;
            }
            Action::Reply(check) => {
                let replies = self.read_both()?;
                self.check(check, &replies)?;
            }
            Action::Raw(bytes, check) => {
                self.commands += 1;
                self.send_both(bytes)?;
                let replies = self.read_both()?;
                self.check(check, &replies)?;
            }
            Action::Resp3 | Action::Resp2 => {
                let proto = if step.action == Action::Resp3 {
                    "3"
                } else {
                    "2"
                };
                self.send_both(&command_bytes(&["HELLO", proto]))?;
                let replies = self.read_both()?;
                if replies.iter().any(Reply::is_error) {
                    return Err(StepError::fatal(self.describe("HELLO failed", &replies)));
                }
            }
            Action::FlushAll => {
                self.send_both(&command_bytes(&["FLUSHALL"]))?;
                let replies = self.read_both()?;
                if replies.iter().any(|r| r.raw != b"+OK\r\n") {
                    return Err(StepError::fatal(self.describe("FLUSHALL failed", &replies)));
                }
            }
            Action::NewConnection => {
                for i in 0..2 {
                    let name = self.current.clone();
                    self.conns[i].remove(&name);
                    self.conn(i)?;
                }
            }
            Action::Conn(name) => self.current = name.clone(),
            Action::SleepMs(ms) => std::thread::sleep(Duration::from_millis(*ms)),
            Action::WaitBlocked(n) => self.wait_blocked(*n)?,
            Action::Pipeline(inner) => self.pipeline(inner)?,
            Action::ExpectClosed => {
                let mut problems = Vec::new();
                for i in 0..2 {
                    if let Err(e) = self.conn(i)?.expect_closed() {
                        problems.push(format!("  {}: {e}", self.side(i).name));
                    }
                    let name = self.current.clone();
                    self.conns[i].remove(&name);
                }
                if !problems.is_empty() {
                    return Err(StepError::mismatch(problems.join("\n")));
                }
            }
            Action::Requires(commands) => {
                for name in commands {
                    for i in 0..2 {
                        let reply = self.conn(i)?.try_cmd(&["COMMAND", "INFO", name.as_str()]);
                        let reply = reply.map_err(|e| self.io_err(i, e))?;
                        let known = matches!(&reply.frame, Frame::Array(v) if matches!(v.first(), Some(Frame::Array(_))));
                        if !known {
                            return Ok(Flow::Skip(format!("{} lacks {name}", self.side(i).name)));
                        }
                    }
                }
            }
        }
        Ok(Flow::Continue)
    }

    fn pipeline(&mut self, inner: &[Step]) -> Result<(), StepError> {
        let mut batch = Vec::new();
        let mut checks = Vec::new();
        for step in inner {
            if let Action::Command { args, check } = &step.action {
                batch.extend_from_slice(&command_bytes(args));
                checks.push((step, check));
            }
        }
        self.commands += checks.len();
        self.send_both(&batch)?;
        // Read every reply on both sides first, so that a mismatch leaves both
        // connections in step.
        let mut replies: [Vec<Reply>; 2] = [Vec::new(), Vec::new()];
        for (i, side_replies) in replies.iter_mut().enumerate() {
            for _ in 0..checks.len() {
                side_replies.push(self.read(i)?);
            }
        }
        let mut first_err = None;
        for (n, (step, check)) in checks.iter().enumerate() {
            let pair = [replies[0][n].clone(), replies[1][n].clone()];
            if let Err(mut e) = self.check(check, &pair) {
                e.line = Some(step.line);
                e.command = Some(format!("{}   (in @pipeline)", step.text));
                if first_err.is_none() {
                    first_err = Some(e);
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Iterates a SCAN-family command to cursor 0 on each side; compares the
    /// sets of elements (pairs for HSCAN/ZSCAN).
    fn scan_all(&mut self, args: &[Vec<u8>], check: &Check) -> Result<(), StepError> {
        let name = args
            .first()
            .map(|a| a.to_ascii_uppercase())
            .unwrap_or_default();
        let cursor_at = if name == b"SCAN" { 1 } else { 2 };
        let group = if name == b"HSCAN" || name == b"ZSCAN" {
            2
        } else {
            1
        };
        if args.len() <= cursor_at {
            // Let the arity error be compared as a plain reply.
            self.send_both(&command_bytes(args))?;
            let replies = self.read_both()?;
            return self.check(check, &replies);
        }
        let mut sets: [Vec<Vec<u8>>; 2] = [Vec::new(), Vec::new()];
        let mut first: Vec<Reply> = Vec::new();
        for (i, set) in sets.iter_mut().enumerate() {
            let mut args = args.to_vec();
            let mut calls = 0;
            loop {
                calls += 1;
                if calls > 100_000 {
                    return Err(StepError::fatal(format!(
                        "  {}: SCAN did not reach cursor 0 within 100000 calls",
                        self.side(i).name
                    )));
                }
                let r = self.conn(i)?.try_cmd(&args);
                let reply = r.map_err(|e| self.io_err(i, e))?;
                let parsed = match &reply.frame {
                    Frame::Array(v) if v.len() == 2 => match (&v[0], &v[1]) {
                        (Frame::Bulk(c), Frame::Array(items)) => Some((c.to_vec(), items.clone())),
                        _ => None,
                    },
                    _ => None,
                };
                let Some((cursor, items)) = parsed else {
                    // An error or an odd shape: compare the first reply as it is.
                    first.push(reply);
                    break;
                };
                if calls == 1 {
                    first.push(reply.clone());
                }
                for chunk in items.chunks(group) {
                    set.push(
                        chunk
                            .iter()
                            .flat_map(|f| {
                                let mut e = encoded(f);
                                e.push(0);
                                e
                            })
                            .collect(),
                    );
                }
                if cursor == b"0" {
                    break;
                }
                args[cursor_at] = cursor;
            }
            set.sort();
            set.dedup();
        }
        let [ra, rb] = [first[0].clone(), first[1].clone()];
        let a_scanned = matches!(&ra.frame, Frame::Array(v) if v.len() == 2);
        let b_scanned = matches!(&rb.frame, Frame::Array(v) if v.len() == 2);
        if !a_scanned || !b_scanned {
            return self.check(
                &Check {
                    scan_all: false,
                    ..check.clone()
                },
                &[ra, rb],
            );
        }
        if check.expect_error {
            return Err(StepError::mismatch(
                "expected both replies to be errors (!error)".into(),
            ));
        }
        if sets[0] == sets[1] {
            return Ok(());
        }
        let show = |set: &Vec<Vec<u8>>| -> String {
            let items: Vec<String> = set
                .iter()
                .map(|e| {
                    let mut e = e.clone();
                    e.pop();
                    escape(&e, 80)
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        };
        Err(StepError::mismatch(format!(
            "  full scans returned different sets\n  {}: {}\n  {}: {}\n",
            self.runner.a.name,
            show(&sets[0]),
            self.runner.b.name,
            show(&sets[1])
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(raw: &[u8]) -> Reply {
        let (frame, used) = soquete_resp::decode_slice(raw).unwrap().unwrap();
        assert_eq!(used, raw.len());
        Reply {
            raw: raw.to_vec(),
            frame,
        }
    }

    fn check(text: &str) -> Check {
        match Script::parse("t", &format!("X {text}"))
            .unwrap()
            .steps
            .remove(0)
            .action
        {
            Action::Command { check, .. } => check,
            other => panic!("{other:?}"),
        }
    }

    fn cmp(c: &str, a: &[u8], b: &[u8]) -> Result<(), String> {
        compare(&check(c), &reply(a), &reply(b), &Normalizers::builtin())
    }

    #[test]
    fn exact_compares_bytes() {
        assert!(cmp("", b"+OK\r\n", b"+OK\r\n").is_ok());
        assert!(cmp("", b"+OK\r\n", b"$2\r\nOK\r\n").is_err());
        assert!(cmp("", b":1\r\n", b":2\r\n").is_err());
        assert!(cmp("", b"$-1\r\n", b"_\r\n").is_err());
        // Same double, different text: exact mode sees the difference.
        assert!(cmp("", b",1.5\r\n", b",1.50\r\n").is_err());
    }

    #[test]
    fn tolerance_applies_to_numbers_anywhere() {
        assert!(cmp("~1", b":100\r\n", b":99\r\n").is_ok());
        assert!(cmp("~1", b":100\r\n", b":98\r\n").is_err());
        assert!(cmp("~0", b":1\r\n", b":1\r\n").is_ok());
        assert!(cmp("~5", b"*2\r\n:10\r\n:20\r\n", b"*2\r\n:12\r\n:17\r\n").is_ok());
        assert!(cmp(
            "~5",
            b"*2\r\n:10\r\n$1\r\na\r\n",
            b"*2\r\n:12\r\n$1\r\nb\r\n"
        )
        .is_err());
        assert!(cmp("~1", b",1.5\r\n", b",2.25\r\n").is_ok());
        assert!(cmp("~1", b":1\r\n", b"$1\r\n1\r\n").is_err());
        assert!(cmp(
            "~1",
            b":9223372036854775807\r\n",
            b":-9223372036854775808\r\n"
        )
        .is_err());
    }

    #[test]
    fn unordered_compares_multisets_at_every_depth() {
        let a = b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n";
        let b = b"*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n";
        assert!(cmp("", a, b).is_err());
        assert!(cmp("!unordered", a, b).is_ok());
        assert!(cmp("!unordered", a, b"*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\na\r\n").is_err());
        assert!(cmp("!unordered", a, b"*2\r\n$1\r\nc\r\n$1\r\na\r\n").is_err());
        let nested_a = b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n";
        let nested_b = b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\ny\r\n$1\r\nx\r\n";
        assert!(cmp("!unordered", nested_a, nested_b).is_ok());
        // A set is not an array, even with the same elements.
        assert!(cmp("!unordered", b"~1\r\n:1\r\n", b"*1\r\n:1\r\n").is_err());
    }

    #[test]
    fn type_only_and_len() {
        assert!(cmp("!type-only", b"$1\r\na\r\n", b"$3\r\nabc\r\n").is_ok());
        assert!(cmp("!type-only", b"$1\r\na\r\n", b"$-1\r\n").is_ok());
        assert!(cmp("!type-only", b"$1\r\na\r\n", b"+a\r\n").is_err());
        assert!(cmp("!len", b"$1\r\na\r\n", b"$1\r\nb\r\n").is_ok());
        assert!(cmp("!len", b"$1\r\na\r\n", b"$2\r\nab\r\n").is_err());
        assert!(cmp("!len", b"*1\r\n:1\r\n", b"*1\r\n:7\r\n").is_ok());
        assert!(cmp("!len", b"*1\r\n:1\r\n", b"*2\r\n:1\r\n:1\r\n").is_err());
    }

    #[test]
    fn skip_and_error() {
        assert!(cmp("!skip", b"+OK\r\n", b"-ERR x\r\n").is_ok());
        assert!(cmp("!error", b"-ERR x\r\n", b"-ERR x\r\n").is_ok());
        assert!(cmp("!error", b"+OK\r\n", b"+OK\r\n").is_err());
        assert!(cmp("!error", b"-ERR x\r\n", b"-ERR y\r\n").is_err());
        assert!(cmp("!error !type-only", b"-ERR x\r\n", b"-ERR y\r\n").is_ok());
        assert!(cmp("!skip !error", b"+OK\r\n", b"-ERR y\r\n").is_err());
    }

    #[test]
    fn normalizers() {
        let hello_a = b"%2\r\n$2\r\nid\r\n:5\r\n$5\r\nproto\r\n:3\r\n";
        let hello_b = b"%2\r\n$2\r\nid\r\n:9\r\n$5\r\nproto\r\n:3\r\n";
        assert!(cmp("", hello_a, hello_b).is_err());
        assert!(cmp("!norm=hello", hello_a, hello_b).is_ok());
        let flat_b = b"*4\r\n$2\r\nid\r\n:9\r\n$5\r\nproto\r\n:2\r\n";
        let flat_a = b"*4\r\n$2\r\nid\r\n:5\r\n$5\r\nproto\r\n:2\r\n";
        assert!(cmp("!norm=hello", flat_a, flat_b).is_ok());
        assert!(cmp(
            "!norm=hello",
            hello_a,
            b"%2\r\n$2\r\nid\r\n:9\r\n$5\r\nproto\r\n:2\r\n"
        )
        .is_err());
        let ca = b"$39\r\nid=5 addr=127.0.0.1:5 fd=8 name=x db=0\n\r\n";
        let cb = b"$41\r\nid=77 addr=127.0.0.1:99 fd=9 name=x db=0\n\r\n";
        assert!(cmp("!norm=client", ca, cb).is_ok());
        let cc = b"$39\r\nid=5 addr=127.0.0.1:5 fd=8 name=y db=0\n\r\n";
        assert!(cmp("!norm=client", ca, cc).is_err());
        assert!(cmp("!norm=id", b":5\r\n", b":6\r\n").is_ok());
        assert!(cmp("!norm=nosuch", b":5\r\n", b":5\r\n").is_err());
    }

    fn bulk(text: &str) -> Vec<u8> {
        format!("${}\r\n{text}\r\n", text.len()).into_bytes()
    }

    #[test]
    fn info_normalizer_masks_numbers_but_keeps_names_and_order() {
        let a = bulk("# Memory\r\nused_memory:1093392\r\nused_memory_human:1.04M\r\nallocator_rss_bytes:-12\r\nmem_allocator:jemalloc-5.3.0\r\n");
        let b = bulk("# Memory\r\nused_memory:77\r\nused_memory_human:77B\r\nallocator_rss_bytes:12\r\nmem_allocator:jemalloc-5.3.0\r\n");
        assert!(cmp("", &a, &b).is_err());
        assert!(cmp("!norm=info", &a, &b).is_ok());
        let renamed = bulk("# Memory\r\nused_memory:77\r\nused_memory_human:77B\r\nallocator_rss_bytes:12\r\nmem_allocator:libc\r\n");
        assert!(cmp("!norm=info", &a, &renamed).is_err());
        let reordered = bulk("# Memory\r\nused_memory_human:1.04M\r\nused_memory:1093392\r\nallocator_rss_bytes:-12\r\nmem_allocator:jemalloc-5.3.0\r\n");
        assert!(cmp("!norm=info", &a, &reordered).is_err());
        assert!(cmp("!norm=info-unordered", &a, &reordered).is_ok());
    }

    #[test]
    fn commandstats_normalizer_keeps_counts_exact() {
        let a = bulk("# Commandstats\r\ncmdstat_get:calls=1,usec=4,usec_per_call=4.00,rejected_calls=1,failed_calls=0\r\ncmdstat_set:calls=2,usec=6,usec_per_call=3.00,rejected_calls=0,failed_calls=0\r\n");
        let b = bulk("# Commandstats\r\ncmdstat_set:calls=2,usec=9,usec_per_call=4.50,rejected_calls=0,failed_calls=0\r\ncmdstat_get:calls=1,usec=1,usec_per_call=1.00,rejected_calls=1,failed_calls=0\r\n");
        assert!(cmp("!norm=commandstats", &a, &b).is_ok());
        let c = bulk("# Commandstats\r\ncmdstat_set:calls=2,usec=9,usec_per_call=4.50,rejected_calls=0,failed_calls=0\r\ncmdstat_get:calls=1,usec=1,usec_per_call=1.00,rejected_calls=0,failed_calls=1\r\n");
        assert!(cmp("!norm=commandstats", &a, &c).is_err());
    }
}
