//! SAVE, BGSAVE, LASTSAVE and SHUTDOWN: the commands around snapshots
//! (`crate::persist`).

use super::is;
use crate::client::Close;
use crate::cmd::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::persist::snapshot::{self, with_all_shards, SaveError};

/// SAVE: writes the snapshot now, every loop waiting, as Redis's SAVE
/// blocks its server.
pub fn save(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let r = with_all_shards(c.shared, &mut c.ks, snapshot::save);
    match r {
        Ok(()) => {
            c.out.ok();
            Ok(())
        }
        Err(SaveError::InProgress) => Err(CmdError::msg("ERR Background save already in progress")),
        Err(SaveError::Failed(_)) => Err(CmdError::msg("ERR")),
    }
}

/// BGSAVE [SCHEDULE]
pub fn bgsave(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    match a.len() {
        1 => {}
        2 if is(a[1], "SCHEDULE") => {}
        _ => return Err(CmdError::Syntax),
    }
    let p = &c.shared.persist;
    if p.child_running() {
        return Err(CmdError::msg("ERR Background save already in progress"));
    }
    if c.client.multi.is_some() || c.ks.holds_all() {
        // Inside EXEC Redis does not fork: the save waits for the cron.
        p.schedule();
        c.out.simple("Background saving scheduled");
        return Ok(());
    }
    match snapshot::bgsave(c.shared, None) {
        Ok(()) => {
            c.out.simple("Background saving started");
            Ok(())
        }
        Err(SaveError::InProgress) => Err(CmdError::msg("ERR Background save already in progress")),
        Err(SaveError::Failed(_)) => Err(CmdError::msg("ERR")),
    }
}

/// BGREWRITEAOF
pub fn bgrewriteaof(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    use crate::persist::aof::{self, RewriteError};
    let p = &c.shared.persist;
    if p.child_kind() == Some(snapshot::ChildKind::AofRewrite) {
        return Err(CmdError::msg(
            "ERR Background append only file rewriting already in progress",
        ));
    }
    let scheduled = "Background append only file rewriting scheduled";
    if p.child_running() || c.client.multi.is_some() || c.ks.holds_all() {
        aof::schedule(c.shared);
        c.out.simple(scheduled);
        return Ok(());
    }
    match aof::rewrite(c.shared, None, aof::mode_now(c.shared)) {
        Ok(()) => c.out.simple("Background append only file rewriting started"),
        Err(RewriteError::OtherChild) => {
            aof::schedule(c.shared);
            c.out.simple(scheduled);
        }
        Err(RewriteError::InProgress) => {
            return Err(CmdError::msg(
                "ERR Background append only file rewriting already in progress",
            ))
        }
        Err(RewriteError::Failed(_)) => {
            return Err(CmdError::msg(
                "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.",
            ))
        }
    }
    Ok(())
}

/// LASTSAVE: when the last save succeeded (the start time before any).
pub fn lastsave(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.int(c.shared.persist.lastsave() as i64);
    Ok(())
}

/// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]
pub fn shutdown(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (mut save, mut nosave, mut force, mut other, mut abort) =
        (false, false, false, false, false);
    for opt in &a[1..] {
        if is(opt, "NOSAVE") {
            nosave = true;
        } else if is(opt, "SAVE") {
            save = true;
        } else if is(opt, "NOW") {
            other = true;
        } else if is(opt, "FORCE") {
            force = true;
        } else if is(opt, "ABORT") {
            abort = true;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if (abort && (save || nosave || force || other)) || (save && nosave) {
        return Err(CmdError::Syntax);
    }
    if abort {
        // Nothing waits for replicas here: a shutdown never lingers.
        return Err(CmdError::msg("ERR No shutdown in progress."));
    }
    // A busy script: only SHUTDOWN NOSAVE goes ahead (and stops it).
    if crate::script::busy::busy_count() != 0 {
        if !nosave {
            return Err(crate::script::busy::busy_error());
        }
        crate::script::busy::shutting_down();
    }
    if crate::persist::prepare_shutdown(c.shared, save, nosave, force).is_err() {
        return Err(CmdError::msg("ERR Errors trying to SHUTDOWN. Check logs."));
    }
    // Like Redis: no reply on success, the connection just closes.
    c.client.close = Close::AfterReply;
    c.shared.request_shutdown();
    Ok(())
}
