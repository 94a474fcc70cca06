//! CONFIG GET, SET, RESETSTAT, REWRITE.

use crate::cmd::flags::*;
use crate::cmd::Ctx;
use crate::cmd::{Keys, Spec};
use crate::config::{Config, LogLevel};
use crate::error::{CmdError, CmdResult};
use crate::util::glob::glob_match;

/// CONFIG GET parameter [parameter ...]
pub fn config_get(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let all = c.shared.config().all();
    // (name to show, value); an exact name is echoed as the client typed it,
    // as Redis does.
    let mut found: Vec<(Vec<u8>, &str, String)> = Vec::new();
    for pat in &a[2..] {
        let literal = !pat.iter().any(|b| matches!(b, b'*' | b'?' | b'['));
        for (name, value) in &all {
            let hit = if literal {
                pat.eq_ignore_ascii_case(name.as_bytes())
            } else {
                glob_match(pat, name.as_bytes(), true)
            };
            if hit && !found.iter().any(|(_, n, _)| n == name) {
                let shown = if literal {
                    pat.to_vec()
                } else {
                    name.as_bytes().to_vec()
                };
                found.push((shown, name, value.clone()));
            }
        }
    }
    c.out.map(found.len());
    for (shown, _, v) in found {
        c.out.bulk(&shown);
        c.out.bulk(v.as_bytes());
    }
    Ok(())
}

/// CONFIG SET parameter value [parameter value ...] — all or nothing.
pub fn config_set(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() % 2 != 0 {
        return Err(CmdError::arity("config|set"));
    }
    let pairs: Vec<(String, String)> = a[2..]
        .chunks_exact(2)
        .map(|p| {
            (
                String::from_utf8_lossy(p[0]).to_ascii_lowercase(),
                String::from_utf8_lossy(p[1]).into_owned(),
            )
        })
        .collect();
    for (i, (name, _)) in pairs.iter().enumerate() {
        match Config::is_mutable(name) {
            None => {
                return Err(CmdError::msg(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                )))
            }
            Some(false) => {
                return Err(CmdError::msg(format!(
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
                )))
            }
            Some(true) => {}
        }
        if pairs[..i].iter().any(|(n, _)| n == name) {
            return Err(CmdError::msg(format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - duplicate parameter"
            )));
        }
    }
    let mut next = c.shared.config().clone();
    for (name, value) in &pairs {
        next.set(name, std::slice::from_ref(value)).map_err(|e| {
            CmdError::msg(format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - {e}"
            ))
        })?;
    }
    if next.maxclients != c.shared.config().maxclients {
        let fitted = crate::server::fit_open_files(next.maxclients).unwrap_or(0);
        if fitted < next.maxclients {
            return Err(CmdError::msg(format!(
                "ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to handle the specified number of clients, try with {fitted}"
            )));
        }
    }
    let level: LogLevel = next.loglevel;
    c.shared.update_config(|cfg| *cfg = next);
    crate::log::set_level(level);
    c.out.ok();
    Ok(())
}

/// CONFIG RESETSTAT
pub fn config_resetstat(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.shared.reset_stats();
    c.shared.slowlog_reset();
    c.out.ok();
    Ok(())
}

/// CONFIG REWRITE — there is no file we could rewrite faithfully.
pub fn config_rewrite(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    if c.shared.config_file().is_none() {
        return Err(CmdError::msg(
            "ERR The server is running without a config file",
        ));
    }
    Err(CmdError::msg(
        "ERR Rewriting config file: soquete does not rewrite config files; edit it by hand",
    ))
}

const CONFIG_HELP: &[&str] = &[
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
];

/// CONFIG HELP
pub fn config_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(CONFIG_HELP);
    Ok(())
}

pub(super) static CONFIG_SUBCOMMANDS: &[Spec] = &[
    Spec {
        name: "get",
        arity: -3,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: config_get,
        subcommands: &[],
    },
    Spec {
        name: "set",
        arity: -4,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: config_set,
        subcommands: &[],
    },
    Spec {
        name: "resetstat",
        arity: 2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: config_resetstat,
        subcommands: &[],
    },
    Spec {
        name: "rewrite",
        arity: 2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: config_rewrite,
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: config_help,
        subcommands: &[],
    },
];
