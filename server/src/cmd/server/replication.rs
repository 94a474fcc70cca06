//! The replication commands of a server that has no replicas and follows no
//! master: ROLE, REPLICAOF/SLAVEOF (only `NO ONE`) and WAIT answer as a
//! standalone Redis master does.

use crate::blocking::Op;
use crate::cmd::args::is;
use crate::cmd::blocking::{block, deadline_after};
use crate::cmd::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::util::num::parse_i64;

/// ROLE — always a master at offset 0, with no replicas.
pub fn role(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.array(3);
    c.out.bulk(b"master");
    c.out.int(0);
    c.out.array(0);
    Ok(())
}

/// REPLICAOF host port | NO ONE (and SLAVEOF, its old name). `NO ONE` is
/// what a master already is; following a master is refused, after the
/// port is checked as Redis checks it.
pub fn replicaof(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if is(a[1], "no") && is(a[2], "one") {
        c.out.ok();
        return Ok(());
    }
    match parse_i64(a[2]) {
        Some(port) if (0..=65535).contains(&port) => Err(CmdError::msg(
            "ERR REPLICAOF is not supported: soquete has no replication (only REPLICAOF NO ONE is accepted)",
        )),
        _ => Err(CmdError::msg("ERR Invalid master port")),
    }
}

/// WAIT numreplicas timeout — there are no replicas to acknowledge. As
/// in Redis, asking for none (or fewer than zero) answers 0 at once, and
/// so does WAIT inside a transaction; asking for one or more blocks the
/// client until the timeout (milliseconds, 0 for ever) or CLIENT UNBLOCK,
/// then answers 0.
pub fn wait(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let wanted = parse_i64(a[1]).ok_or(CmdError::NotInteger)?;
    let timeout = parse_i64(a[2]).ok_or(CmdError::msg(
        "ERR timeout is not an integer or out of range",
    ))?;
    if timeout < 0 {
        return Err(CmdError::msg("ERR timeout is negative"));
    }
    let deadline = deadline_after(c.ks.now, timeout);
    if wanted <= 0 {
        c.out.int(0);
        return Ok(());
    }
    block(c, &[], Op::WaitReplicas, deadline);
    Ok(())
}
