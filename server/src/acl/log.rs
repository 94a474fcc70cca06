//! The ACL LOG: refused commands and failed authentications, newest first
//! (Redis's `addACLLogEntry`).
//!
//! An entry like one of the ten newest (same reason, context, object and
//! user, within a minute) is moved to the front and counted again instead
//! of added; the log keeps `acllog-max-len` entries.

use std::collections::VecDeque;

use super::Denial;

/// Why an entry was logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A command or subcommand the user may not run.
    Command,
    /// A key the user may not touch.
    Key,
    /// A channel the user may not use.
    Channel,
    /// AUTH or HELLO ... AUTH with a wrong user or password.
    Auth,
}

impl Reason {
    /// The name ACL LOG shows.
    pub fn name(self) -> &'static str {
        match self {
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Channel => "channel",
            Reason::Auth => "auth",
        }
    }
}

/// Where the refused command was called from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// Sent by the client.
    Toplevel,
    /// Sent inside MULTI, or run by EXEC.
    Multi,
    /// Called by a script or a function.
    Lua,
}

impl Context {
    /// The name ACL LOG shows.
    pub fn name(self) -> &'static str {
        match self {
            Context::Toplevel => "toplevel",
            Context::Multi => "multi",
            Context::Lua => "lua",
        }
    }
}

/// One ACL LOG entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// How many times it happened (similar events are grouped).
    pub count: u64,
    /// Why.
    pub reason: Reason,
    /// Where from.
    pub context: Context,
    /// The command's full name, the key or channel, or AUTH's name as
    /// sent.
    pub object: Vec<u8>,
    /// The user the client ran as (or tried to authenticate as).
    pub username: Vec<u8>,
    /// Unix ms of the latest occurrence.
    pub ctime: u64,
    /// The CLIENT LIST line of the client, at the latest occurrence.
    pub client_info: String,
}

/// How far apart in time two similar events may be to share an entry.
const GROUPING_MS: u64 = 60_000;
/// How many of the newest entries a new event is compared with.
const SCAN: usize = 10;

/// The log, newest first.
#[derive(Debug, Default)]
pub struct Log {
    entries: VecDeque<Entry>,
}

impl Log {
    /// Adds `e`, or counts it on a similar recent entry, and keeps at most
    /// `max_len` entries.
    pub fn add(&mut self, e: Entry, max_len: usize) {
        let similar = self.entries.iter().take(SCAN).position(|old| {
            old.reason == e.reason
                && old.context == e.context
                && old.ctime.abs_diff(e.ctime) <= GROUPING_MS
                && old.object == e.object
                && old.username == e.username
        });
        match similar.and_then(|i| self.entries.remove(i)) {
            Some(mut old) => {
                old.count += 1;
                old.ctime = e.ctime;
                old.client_info = e.client_info;
                self.entries.push_front(old);
            }
            None => {
                self.entries.push_front(e);
                self.entries.truncate(max_len);
            }
        }
    }

    /// The newest `count` entries.
    pub fn newest(&self, count: usize) -> Vec<Entry> {
        self.entries.iter().take(count).cloned().collect()
    }

    /// Empties the log (ACL LOG RESET).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

impl From<Denial> for Reason {
    fn from(d: Denial) -> Reason {
        match d {
            Denial::Command => Reason::Command,
            Denial::Key(_) => Reason::Key,
            Denial::Channel(_) => Reason::Channel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(object: &str, ctime: u64) -> Entry {
        Entry {
            count: 1,
            reason: Reason::Key,
            context: Context::Toplevel,
            object: object.into(),
            username: b"u".to_vec(),
            ctime,
            client_info: format!("at {ctime}"),
        }
    }

    #[test]
    fn similar_events_within_a_minute_share_an_entry_moved_to_the_front() {
        let mut log = Log::default();
        log.add(entry("a", 1_000), 128);
        log.add(entry("b", 2_000), 128);
        log.add(entry("a", 61_000), 128);
        let newest = log.newest(10);
        assert_eq!(newest.len(), 2);
        assert_eq!(
            (newest[0].object.as_slice(), newest[0].count),
            (&b"a"[..], 2)
        );
        assert_eq!(newest[0].client_info, "at 61000");
        // Over a minute after the last occurrence: a new entry.
        log.add(entry("a", 121_001), 128);
        assert_eq!(log.newest(10).len(), 3);
    }

    #[test]
    fn the_log_keeps_its_newest_entries_up_to_the_limit() {
        let mut log = Log::default();
        for i in 0..5 {
            log.add(entry(&i.to_string(), i), 3);
        }
        let objects: Vec<_> = log.newest(10).into_iter().map(|e| e.object).collect();
        assert_eq!(objects, [b"4", b"3", b"2"]);
        log.add(entry("x", 9), 0);
        assert!(log.newest(10).is_empty());
        log.clear();
        assert!(log.newest(1).is_empty());
    }
}
