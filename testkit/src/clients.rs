//! What a server says about its clients (`CLIENT ID`, `CLIENT LIST`), and
//! readiness checks built on it that say when a client is blocked or gone,
//! so that no test has to sleep. They work the same on Redis and soquete.

use crate::frames::{int, text};
use crate::wait::{eventually, DEADLINE};
use crate::Conn;

/// The connection's client id (`CLIENT ID`).
pub fn client_id(conn: &mut Conn) -> i64 {
    int(&conn.cmd(&["CLIENT", "ID"]))
}

/// The `CLIENT LIST` line of client `id`, asked on `ctl`, if it is connected.
pub fn client_line(ctl: &mut Conn, id: i64) -> Option<String> {
    let list = text(&ctl.cmd(&["CLIENT", "LIST", "ID", &id.to_string()]));
    list.lines()
        .find(|l| l.starts_with(&format!("id={id} ")))
        .map(str::to_string)
}

/// Waits until client `id` is blocked in `cmd` (as `CLIENT LIST` names it:
/// `blpop`, `blmove`...): its last command is `cmd` and its flags hold `b`.
/// soquete raises the flag only once the client is registered as a waiter,
/// so a push after this returns always finds the waiter.
///
/// # Panics
///
/// After [`DEADLINE`].
pub fn wait_blocked(ctl: &mut Conn, id: i64, cmd: &str) {
    let want = format!(" cmd={cmd} ");
    eventually(&format!("client {id} to block in {cmd}"), DEADLINE, || {
        client_line(ctl, id)
            .filter(|l| l.contains(&want) && flags(l).contains('b'))
            .map(|_| ())
    });
}

/// Waits until client `id` is no longer connected.
///
/// # Panics
///
/// After [`DEADLINE`].
pub fn wait_gone(ctl: &mut Conn, id: i64) {
    eventually(&format!("client {id} to be gone"), DEADLINE, || {
        client_line(ctl, id).is_none().then_some(())
    });
}

/// The `flags=` field of a `CLIENT LIST` line.
fn flags(line: &str) -> &str {
    line.split(' ')
        .find_map(|f| f.strip_prefix("flags="))
        .unwrap_or("")
}
