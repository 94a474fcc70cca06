//! DEBUG (SLEEP, SET-ACTIVE-EXPIRE, OBJECT...), allowed as
//! `enable-debug-command` says.

use std::time::Duration;

use crate::cmd::args::{self};
use crate::cmd::Ctx;
use crate::error::{CmdError, CmdResult};

fn debug_allowed(c: &Ctx<'_>) -> bool {
    match c.shared.config().enable_debug_command.as_str() {
        "yes" => true,
        "local" => {
            c.client.meta.unix
                || c.client.meta.addr.starts_with("127.")
                || c.client.meta.addr.starts_with("[::1]")
        }
        _ => false,
    }
}

const DEBUG_HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "OBJECT <key>",
    "    Show low-level info about the `key` and associated value.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "HELP",
    "    Prints this help.",
];

/// DEBUG SLEEP | SET-ACTIVE-EXPIRE | OBJECT | HELP
pub fn debug(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if !debug_allowed(c) {
        return Err(CmdError::msg(
            "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
        ));
    }
    let sub = args::lower(a[1]);
    match (sub.as_str(), a.len()) {
        ("help", 2) => c.out.help(DEBUG_HELP),
        ("sleep", 3) => {
            let secs = crate::util::num::parse_f64(a[2]).unwrap_or(0.0);
            if secs > 0.0 && secs.is_finite() {
                std::thread::sleep(Duration::from_secs_f64(secs.min(3600.0)));
            }
            c.out.ok();
        }
        ("set-active-expire", 3) => {
            let on = args::int(a[2])? != 0;
            c.shared.set_active_expire(on);
            c.out.ok();
        }
        ("object", 3) => {
            let now = c.ks.now;
            let Some(e) = c.ks.peek(a[2]) else {
                return Err(CmdError::NoSuchKey);
            };
            let len = e.value.heap_size();
            let text = format!(
                "Value at:0x0 refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                e.value.encoding(),
                len,
                (now / 1000) & ((1 << 24) - 1),
                e.idle_seconds(now)
            );
            c.out.simple(&text);
        }
        _ => {
            return Err(CmdError::quoting(
                "ERR unknown subcommand or wrong number of arguments for '",
                a[1],
                "'. Try DEBUG HELP.",
            ))
        }
    }
    Ok(())
}
