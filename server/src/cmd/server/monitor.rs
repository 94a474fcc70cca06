//! MONITOR: the command, and leaving MONITOR mode (RESET, disconnect).
//! The registry and the line format are [`crate::monitor`]; what is shown
//! and when is decided by dispatch ([`crate::cmd::dispatch::observe`]).

use std::sync::atomic::Ordering;

use crate::client::Client;
use crate::cmd::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::shared::Shared;

/// MONITOR
///
/// # Returns
///
/// `+OK`, then a line per command any client runs. A client that already
/// monitors gets no reply at all (Redis ignores the repeat), and one
/// running it inside EXEC an error (Redis's "deny blocking" clients).
pub fn monitor(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    if c.client.in_exec {
        return Err(CmdError::msg(
            "ERR MONITOR isn't allowed for DENY BLOCKING client",
        ));
    }
    if c.client.monitor {
        return Ok(());
    }
    c.client.monitor = true;
    c.client.meta.monitor.store(true, Ordering::Relaxed);
    c.shared
        .monitors
        .add(c.client.meta.loop_index, c.client.id());
    c.out.ok();
    Ok(())
}

/// Takes `client` out of MONITOR mode, if it was in it (RESET, and every
/// way a connection ends).
pub fn stop(client: &mut Client, shared: &Shared) {
    if client.monitor {
        client.monitor = false;
        client.meta.monitor.store(false, Ordering::Relaxed);
        shared.monitors.remove(client.id());
    }
}
