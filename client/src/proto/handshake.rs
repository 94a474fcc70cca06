//! The connection handshake, shared by the blocking and async clients.

use soquete_resp::Frame;

use crate::cmd::Cmd;
use crate::config::{Config, Protocol};
use crate::error::{Error, Result, ServerErrorKind};
use crate::value::prep;

/// `HELLO 3 [AUTH user pass] [SETNAME name]` when RESP3 is asked for.
pub(crate) fn hello(cfg: &Config) -> Option<Cmd> {
    if cfg.protocol != Protocol::Resp3 {
        return None;
    }
    let mut c = crate::cmd("HELLO");
    c.arg("3");
    if let Some(p) = &cfg.password {
        c.arg("AUTH")
            .arg(cfg.username.as_deref().unwrap_or("default"))
            .arg(p.as_str());
    }
    if let Some(n) = &cfg.client_name {
        c.arg("SETNAME").arg(n.as_str());
    }
    Some(c)
}

/// Ok(true): RESP3 is on. Ok(false): the server refused RESP3 (unknown
/// command, `NOPROTO`), fall back to RESP2. Err: a real failure (bad password).
pub(crate) fn hello_outcome(reply: Frame) -> Result<bool> {
    match prep(reply) {
        Ok(_) => Ok(true),
        Err(Error::Server(e))
            if e.kind() == ServerErrorKind::NoProto
                || e.message().starts_with("unknown command") =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// What still has to be sent after HELLO (or without it): AUTH, CLIENT
/// SETNAME, SELECT.
pub(crate) fn setup(cfg: &Config, hello_done: bool) -> Vec<Cmd> {
    let mut v = Vec::new();
    if !hello_done {
        if let Some(p) = &cfg.password {
            let mut c = crate::cmd("AUTH");
            c.arg(cfg.username.as_deref()).arg(p.as_str());
            v.push(c);
        }
        if let Some(n) = &cfg.client_name {
            let mut c = crate::cmd("CLIENT");
            c.arg("SETNAME").arg(n.as_str());
            v.push(c);
        }
    }
    if cfg.db != 0 {
        let mut c = crate::cmd("SELECT");
        c.arg(cfg.db);
        v.push(c);
    }
    v
}

/// A setup reply must not be an error.
pub(crate) fn check(reply: Frame) -> Result<()> {
    prep(reply).map(|_| ())
}
