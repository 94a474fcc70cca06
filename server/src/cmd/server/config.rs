//! CONFIG GET, SET, RESETSTAT, REWRITE.

use crate::cmd::flags::*;
use crate::cmd::Ctx;
use crate::cmd::{Keys, Spec};
use crate::config::{params, rewrite, LogLevel, Param, Support};
use crate::error::{CmdError, CmdResult};
use crate::util::glob::glob_match;

/// CONFIG GET parameter [parameter ...]
///
/// As Redis 7: a name without glob characters finds its parameter (hidden
/// ones too) and is echoed as typed; a pattern matches every name that is
/// not hidden, aliases included. A name already in the reply is not
/// repeated (names compare case-insensitively). RESP2 gets a flat array,
/// RESP3 a map.
pub fn config_get(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let cfg = c.shared.config();
    let mut found: Vec<(Vec<u8>, &'static Param)> = Vec::new();
    let seen = |found: &[(Vec<u8>, &Param)], name: &[u8]| {
        found.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    for pat in &a[2..] {
        if !pat.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
            let hit = std::str::from_utf8(pat).ok().and_then(params::lookup);
            if let Some((p, _)) = hit {
                if !seen(&found, pat) {
                    found.push((pat.to_vec(), p));
                }
            }
            continue;
        }
        for (name, p) in params::names() {
            if !p.has(params::HIDDEN)
                && !seen(&found, name.as_bytes())
                && glob_match(pat, name.as_bytes(), true)
            {
                found.push((name.as_bytes().to_vec(), p));
            }
        }
    }
    let values: Vec<String> = found.iter().map(|(_, p)| cfg.get(p)).collect();
    drop(cfg);
    c.out.map(found.len());
    for ((shown, _), v) in found.iter().zip(values) {
        c.out.bulk(shown);
        c.out.bulk(v.as_bytes());
    }
    Ok(())
}

fn set_failed(name: &str, why: &str) -> CmdError {
    CmdError::msg(format!(
        "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
    ))
}

/// CONFIG SET parameter value [parameter value ...] — all or nothing.
///
/// As Redis 7: the names are checked first (the first unknown, immutable,
/// protected or repeated name fails the command), then the values are set
/// in order on a copy of the configuration; the first bad value fails the
/// command and nothing changes. A parameter soquete does not implement
/// accepts only its default value; `port` and `bind` only their current one.
pub fn config_set(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() % 2 != 0 {
        return Err(CmdError::Syntax);
    }
    // Every sensitive value (requirepass...) is hidden from SLOWLOG and
    // MONITOR, whatever error the rest of the command meets, as in Redis.
    for (i, pair) in a[2..].chunks_exact(2).enumerate() {
        let name = String::from_utf8_lossy(pair[0]);
        if params::lookup(&name).is_some_and(|(p, _)| p.has(params::SENSITIVE)) {
            c.client.redact(2 + 2 * i + 1);
        }
    }
    let pairs: Vec<(String, String)> = a[2..]
        .chunks_exact(2)
        .map(|p| {
            (
                String::from_utf8_lossy(p[0]).into_owned(),
                String::from_utf8_lossy(p[1]).into_owned(),
            )
        })
        .collect();
    let protected_ok = c
        .shared
        .config()
        .enable_protected_configs
        .permits(c.client.meta.is_local());
    let mut rows: Vec<(&'static Param, &'static str)> = Vec::with_capacity(pairs.len());
    for (typed, _) in &pairs {
        let Some((p, name)) = params::lookup(typed) else {
            return Err(CmdError::msg(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{typed}'"
            )));
        };
        if p.has(params::IMMUTABLE) {
            return Err(set_failed(typed, "can't set immutable config"));
        }
        if p.has(params::PROTECTED) && !protected_ok {
            return Err(set_failed(typed, "can't set protected config"));
        }
        if rows.iter().any(|(_, n)| *n == name) {
            return Err(set_failed(typed, "duplicate parameter"));
        }
        rows.push((p, name));
    }
    let current = c.shared.config().clone();
    let mut next = current.clone();
    for ((p, name), (_, value)) in rows.iter().zip(&pairs) {
        let args = [value.clone()];
        if p.support == Support::Unsupported {
            let ok = p
                .kind
                .normalize(&args, p.has(params::MULTI_ARG))
                .map_err(|e| set_failed(name, &e))?;
            if ok.split_whitespace().ne(p.default.split_whitespace()) {
                return Err(CmdError::msg(format!(
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - {}",
                    crate::config::unsupported(p)
                )));
            }
            continue;
        }
        next.set(name, &args).map_err(|e| set_failed(name, &e))?;
        if p.has(params::FIXED) && next.get(p) != current.get(p) {
            return Err(set_failed(
                name,
                "soquete cannot change this parameter at runtime yet",
            ));
        }
    }
    if next.maxclients != current.maxclients {
        let fitted = crate::server::fit_open_files(next.maxclients).unwrap_or(0);
        if fitted < next.maxclients {
            return Err(set_failed(
                "maxclients",
                &format!("The operating system is not able to handle the specified number of clients, try with {fitted}"),
            ));
        }
    }
    let tls = reconfigure_tls(&rows, &current, &next)?;
    let level: LogLevel = next.loglevel;
    let aof_change = (next.appendonly != current.appendonly).then_some(next.appendonly);
    c.shared.update_config(|cfg| *cfg = next);
    if let Some(tls) = tls {
        c.shared.set_tls(tls);
    }
    crate::log::set_level(level);
    c.shared.persist.aof.configure(c.shared);
    match aof_change {
        Some(true) => {
            use crate::persist::aof::{self, Mode, RewriteError};
            match aof::rewrite(c.shared, None, Mode::Enable) {
                Ok(()) | Err(RewriteError::InProgress) => {}
                Err(RewriteError::OtherChild) => {
                    crate::notice!("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
                    aof::schedule(c.shared);
                }
                Err(RewriteError::Failed(_)) => {
                    c.shared.update_config(|cfg| cfg.appendonly = false);
                    return Err(set_failed(
                        "appendonly",
                        "Unable to turn on AOF. Check server logs.",
                    ));
                }
            }
        }
        Some(false) => crate::persist::aof::stop(c.shared),
        None => {}
    }
    c.out.ok();
    Ok(())
}

/// Redis's `applyTlsCfg`: when CONFIG SET changed a parameter of the TLS
/// setup (certificates, key, CA, protocols, ciphers, session caching) and
/// TLS is in use, the setup is built anew from the new values; a failure
/// fails the command (the reason is logged) and nothing changes. The new
/// setup serves the connections accepted from then on.
/// `tls-auth-clients` needs no rebuild: it is read at every accept.
fn reconfigure_tls(
    rows: &[(&'static Param, &'static str)],
    current: &crate::config::Config,
    next: &crate::config::Config,
) -> Result<Option<std::sync::Arc<crate::tls::TlsContext>>, CmdError> {
    let changed = rows.iter().find(|(p, _)| {
        p.name.starts_with("tls-")
            && !matches!(p.name, "tls-auth-clients" | "tls-port")
            && next.get(p) != current.get(p)
    });
    let Some((_, name)) = changed else {
        return Ok(None);
    };
    let yes = |n: &str| next.get_by_name(n).is_some_and(|v| v == "yes");
    if next.tls_port == 0 && !yes("tls-replication") && !yes("tls-cluster") {
        return Ok(None);
    }
    match crate::tls::TlsContext::configure(next) {
        Ok(t) => Ok(Some(std::sync::Arc::new(t))),
        Err(e) => {
            crate::warning!("{e}");
            crate::warning!("Failed applying new configuration. Possibly related to new {name} setting. Restoring previous settings.");
            Err(set_failed(
                name,
                "Unable to update TLS configuration. Check server logs.",
            ))
        }
    }
}

/// CONFIG RESETSTAT
pub fn config_resetstat(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.shared.reset_stats();
    c.shared.slowlog_reset();
    c.out.ok();
    Ok(())
}

/// CONFIG REWRITE: writes the running configuration into the file the
/// server started from (see [`crate::config::rewrite`]).
pub fn config_rewrite(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let Some(path) = c.shared.config_file().map(|p| p.to_path_buf()) else {
        return Err(CmdError::msg(
            "ERR The server is running without a config file",
        ));
    };
    let cfg = c.shared.config().clone();
    let users: Vec<String> = c
        .shared
        .acl
        .users()
        .values()
        .map(|u| String::from_utf8_lossy(&crate::acl::file::user_line(u)).into_owned())
        .collect();
    if let Err(e) = rewrite::rewrite_file(&path, &cfg, &users) {
        crate::warning!("CONFIG REWRITE failed: {e}");
        // Redis says strerror(errno): drop Rust's " (os error N)".
        let text = e.to_string();
        let text = text.split(" (os error").next().unwrap_or(&text).to_string();
        return Err(CmdError::msg(format!("ERR Rewriting config file: {text}")));
    }
    crate::notice!("CONFIG REWRITE executed with success.");
    c.out.ok();
    Ok(())
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
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "set",
        arity: -4,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: config_set,
        acl: 0,
        key_specs: &[],
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        subcommands: &[],
    },
    Spec {
        name: "resetstat",
        arity: 2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: config_resetstat,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "rewrite",
        arity: 2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: config_rewrite,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "server",
        handler: config_help,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
];
