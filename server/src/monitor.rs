//! MONITOR: the clients that watch every command the server runs, and the
//! line Redis 7.0 sends them for each.
//!
//! A monitor's connection belongs to one event loop; commands run on every
//! loop. The running loop formats the line once and queues it in its
//! [`Outbox`] for each monitor's loop, which sends it on with the pub/sub
//! messages (one inbox message per loop and batch). When nobody monitors,
//! a command pays one relaxed atomic load ([`Monitors::any`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::client::ClientMeta;
use crate::pubsub::Outbox;

/// What Redis shows instead of a hidden argument (a password).
pub const REDACTED: &[u8] = b"(redacted)";

/// The registry of clients in MONITOR mode.
#[derive(Debug, Default)]
pub struct Monitors {
    /// How many clients monitor: the fast "anyone?" check.
    count: AtomicUsize,
    /// (owning loop, client id), in the order they started monitoring.
    list: Mutex<Vec<(usize, u64)>>,
}

impl Monitors {
    /// True when at least one client monitors. One relaxed load: a
    /// monitor that starts a moment after a command may miss its line,
    /// exactly as in Redis, where it would have started after it.
    #[inline]
    pub fn any(&self) -> bool {
        self.count.load(Ordering::Relaxed) != 0
    }

    /// Makes client `id` of loop `loop_index` a monitor.
    pub fn add(&self, loop_index: usize, id: u64) {
        let mut list = self.lock();
        list.push((loop_index, id));
        self.count.store(list.len(), Ordering::Relaxed);
    }

    /// Ends client `id`'s monitoring; false when it did not monitor.
    pub fn remove(&self, id: u64) -> bool {
        let mut list = self.lock();
        let before = list.len();
        list.retain(|&(_, c)| c != id);
        self.count.store(list.len(), Ordering::Relaxed);
        list.len() != before
    }

    /// Sends every monitor the line for a command run by `meta` in
    /// database `db`, arguments at the positions in `redacted` hidden.
    pub fn feed(
        &self,
        outbox: &mut Outbox,
        db: usize,
        meta: &ClientMeta,
        argv: &[&[u8]],
        redacted: &[usize],
    ) {
        let list = self.lock();
        if list.is_empty() {
            return;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let mut line = Vec::with_capacity(64 + argv.iter().map(|a| a.len() + 3).sum::<usize>());
        write_line(
            &mut line,
            now.as_secs(),
            now.subsec_micros(),
            db,
            meta,
            argv,
            redacted,
        );
        let line: Arc<[u8]> = line.into();
        for &(l, id) in list.iter() {
            outbox.post_monitor(l, id, line.clone());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(usize, u64)>> {
        self.list.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Writes one MONITOR line, as Redis's `replicationFeedMonitors`:
/// `+<secs>.<micros> [<db> <addr>] "arg" "arg"...\r\n`, where a Unix-socket
/// client's address is `unix:<path>` and each argument is quoted as
/// [`write_repr`] does.
pub fn write_line(
    out: &mut Vec<u8>,
    secs: u64,
    micros: u32,
    db: usize,
    meta: &ClientMeta,
    argv: &[&[u8]],
    redacted: &[usize],
) {
    use std::io::Write;
    let _ = write!(out, "+{secs}.{micros:06} [{db} ");
    if meta.unix {
        let path = meta.addr.strip_suffix(":0").unwrap_or(&meta.addr);
        let _ = write!(out, "unix:{path}] ");
    } else {
        let _ = write!(out, "{}] ", meta.addr);
    }
    for (i, a) in argv.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        let a = if redacted.contains(&i) { REDACTED } else { a };
        write_repr(out, a);
    }
    out.extend_from_slice(b"\r\n");
}

/// Quotes `s` as Redis's `sdscatrepr`: in double quotes, `\\` and `"`
/// escaped, `\n \r \t \a \b` by name, other unprintable bytes as `\xhh`.
pub fn write_repr(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(&[
                b'\\',
                b'x',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ]),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(addr: &str, unix: bool) -> ClientMeta {
        ClientMeta::new(1, addr.into(), String::new(), 0, unix, 0, 0)
    }

    #[test]
    fn repr_escapes_as_sdscatrepr() {
        let mut out = Vec::new();
        write_repr(&mut out, b"a\"b\\c\n\x00\xff\x7f \x07\x08\t\r");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""a\"b\\c\n\x00\xff\x7f \a\b\t\r""#
        );
    }

    #[test]
    fn line_has_time_db_addr_and_quoted_args() {
        let mut out = Vec::new();
        let argv: [&[u8]; 3] = [b"SET", b"k", b"v"];
        write_line(&mut out, 17, 42, 3, &meta("127.0.0.1:5", false), &argv, &[]);
        assert_eq!(out, b"+17.000042 [3 127.0.0.1:5] \"SET\" \"k\" \"v\"\r\n");
    }

    #[test]
    fn line_hides_redacted_args_and_names_unix_sockets() {
        let mut out = Vec::new();
        let argv: [&[u8]; 3] = [b"AUTH", b"user", b"pw"];
        write_line(
            &mut out,
            1,
            0,
            0,
            &meta("/tmp/s.sock:0", true),
            &argv,
            &[1, 2],
        );
        assert_eq!(
            out,
            b"+1.000000 [0 unix:/tmp/s.sock] \"AUTH\" \"(redacted)\" \"(redacted)\"\r\n"
        );
    }

    #[test]
    fn registry_counts_monitors() {
        let m = Monitors::default();
        assert!(!m.any());
        m.add(0, 7);
        m.add(1, 8);
        assert!(m.any());
        assert!(m.remove(7));
        assert!(!m.remove(7));
        assert!(m.any());
        assert!(m.remove(8));
        assert!(!m.any());
    }
}
