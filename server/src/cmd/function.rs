//! FUNCTION and FCALL/FCALL_RO: Redis 7.0's function libraries (the
//! registry and the Lua side are [`crate::script::function`]).

use super::flags::*;
use super::scripting::{
    eval_keys, monitor_before_script, prepare_for_run, run_script, script_sub, EVAL_KEYS_RO,
    EVAL_KEYS_RW,
};
use super::{cat, Ctx, Keys, Spec};
use crate::error::{CmdError, CmdResult};
use crate::rdb::file::opcode;
use crate::script::function::{self, RestorePolicy};

/// An argument as C's `%s` prints it: up to its first NUL.
fn c_str(b: &[u8]) -> &[u8] {
    &b[..memchr::memchr(0, b).unwrap_or(b.len())]
}

fn err(text: String) -> CmdError {
    CmdError::msg(format!("ERR {text}"))
}

/// A change to the libraries: one change for the save points, and the
/// command goes to the append-only file as sent (Redis's
/// `server.dirty++`).
fn changed(c: &mut Ctx<'_>) {
    crate::stats::bump(&c.stats.dirty, 1);
    c.force_propagation();
}

/// FCALL function numkeys [key ...] [arg ...]
pub fn fcall(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    fcall_generic(c, a, false)
}

/// FCALL_RO function numkeys [key ...] [arg ...]
pub fn fcall_ro(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    fcall_generic(c, a, true)
}

fn fcall_generic(c: &mut Ctx<'_>, a: &[&[u8]], ro: bool) -> CmdResult {
    monitor_before_script(c, a);
    let shared = c.shared;
    let Some((lib, idx)) = shared.functions.find(a[1]) else {
        return Err(CmdError::msg("ERR Function not found"));
    };
    let numkeys = crate::util::num::parse_i64(a[2])
        .ok_or_else(|| CmdError::msg("ERR Bad number of keys provided"))?;
    if numkeys > (a.len() - 3) as i64 {
        return Err(CmdError::msg(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    if numkeys < 0 {
        return Err(CmdError::msg("ERR Number of keys can't be negative"));
    }
    let fflags = lib.functions[idx].flags;
    let oom = prepare_for_run(c, fflags, ro)?;
    let n = numkeys as usize;
    let (keys, args) = (&a[3..3 + n], &a[3 + n..]);
    let read_only = ro || fflags & crate::script::flags::NO_WRITES != 0;
    let allow_oom = fflags & crate::script::flags::ALLOW_OOM != 0;
    crate::script::busy::note_command(a);
    run_script(
        c,
        |run| function::call(&shared.functions, &lib, idx, keys, args, run),
        |run| {
            run.eval = false;
            run.read_only = read_only;
            run.allow_oom = allow_oom;
            run.oom_at_start = oom;
        },
    );
    Ok(())
}

/// FUNCTION LOAD [REPLACE] code
pub fn function_load(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let mut replace = false;
    let mut pos = 2;
    while pos < a.len() - 1 {
        let opt = a[pos];
        pos += 1;
        if opt.eq_ignore_ascii_case(b"replace") {
            replace = true;
            continue;
        }
        return Err(CmdError::quoting(
            "ERR Unknown option given: ",
            c_str(opt),
            "",
        ));
    }
    let timeout = (!c.client.replaying).then_some(function::LOAD_TIMEOUT);
    let name = c
        .shared
        .functions
        .load(a[pos], replace, timeout)
        .map_err(err)?;
    changed(c);
    c.out.bulk(name.as_bytes());
    Ok(())
}

/// FUNCTION DELETE library-name
pub fn function_delete(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if !c.shared.functions.delete(a[2]) {
        return Err(CmdError::msg("ERR Library not found"));
    }
    changed(c);
    c.out.ok();
    Ok(())
}

/// FUNCTION FLUSH [ASYNC|SYNC]
pub fn function_flush(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() > 3 {
        return Err(CmdError::subcommand_syntax(a[0], a[1]));
    }
    if a.len() == 3 && !a[2].eq_ignore_ascii_case(b"sync") && !a[2].eq_ignore_ascii_case(b"async") {
        return Err(CmdError::msg(
            "ERR FUNCTION FLUSH only supports SYNC|ASYNC option",
        ));
    }
    c.shared.functions.flush();
    changed(c);
    c.out.ok();
    Ok(())
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]
pub fn function_list(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < a.len() {
        let arg = a[i];
        if !with_code && arg.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && arg.eq_ignore_ascii_case(b"libraryname") {
            if i >= a.len() - 1 {
                return Err(CmdError::msg("ERR library name argument was not given"));
            }
            i += 1;
            pattern = Some(a[i]);
        } else {
            return Err(CmdError::quoting("ERR Unknown argument ", c_str(arg), ""));
        }
        i += 1;
    }
    let libs: Vec<_> = c
        .shared
        .functions
        .libraries()
        .into_iter()
        .filter(|l| {
            pattern.is_none_or(|p| crate::util::glob::glob_match(p, l.name.as_bytes(), true))
        })
        .collect();
    let out = &mut *c.out;
    out.array(libs.len());
    for lib in libs {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(lib.name.as_bytes());
        out.bulk(b"engine");
        out.bulk(function::ENGINE.as_bytes());
        out.bulk(b"functions");
        out.array(lib.functions.len());
        for f in &lib.functions {
            out.map(3);
            out.bulk(b"name");
            out.bulk(f.name.as_bytes());
            out.bulk(b"description");
            match &f.description {
                Some(d) => out.bulk(d),
                None => out.null(),
            }
            out.bulk(b"flags");
            let names: Vec<&str> = crate::script::flags::NAMES
                .iter()
                .filter(|(bit, _)| f.flags & bit != 0)
                .map(|(_, n)| *n)
                .collect();
            out.set(names.len());
            for n in names {
                out.simple(n);
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
    Ok(())
}

/// The libraries as Redis's `rdbSaveFunctions` writes them: each
/// `FUNCTION2` and its code as an RDB string (LZF when `compress`).
pub fn encode_libraries(codes: &[Vec<u8>], compress: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(opcode::FUNCTION2);
        crate::rdb::write_string(&mut out, code, compress);
    }
    out
}

/// Reads libraries written as [`encode_libraries`] writes them (and
/// the pre-GA 7.0 format): their code, or Redis's error text.
pub fn decode_libraries(mut body: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut codes = Vec::new();
    while !body.is_empty() {
        let mut r = crate::rdb::Reader::new(body);
        let t = r.byte().map_err(|_| "can not read data type".to_string())?;
        let code = match t {
            opcode::FUNCTION2 => r
                .bytes()
                .map_err(|_| "Failed loading library payload".to_string())?,
            opcode::FUNCTION_PRE_GA => {
                let name = r
                    .bytes()
                    .map_err(|_| "Failed loading library name".to_string())?;
                let engine = r
                    .bytes()
                    .map_err(|_| "Failed loading engine name".to_string())?;
                let has_desc = r
                    .length()
                    .map_err(|_| "Failed loading library description indicator".to_string())?;
                if has_desc != 0 {
                    r.bytes()
                        .map_err(|_| "Failed loading library description".to_string())?;
                }
                let blob = r
                    .bytes()
                    .map_err(|_| "Failed loading library blob".to_string())?;
                let mut code = b"#!".to_vec();
                code.extend_from_slice(&engine);
                code.extend_from_slice(b" name=");
                code.extend_from_slice(&name);
                code.push(b'\n');
                code.extend_from_slice(&blob);
                code
            }
            _ => return Err("given type is not a function".into()),
        };
        codes.push(code);
        body = &body[r.position()..];
    }
    Ok(codes)
}

/// FUNCTION DUMP
pub fn function_dump(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let compress = c.shared.config().get_by_name("rdbcompression").as_deref() == Some("yes");
    let body = encode_libraries(&c.shared.functions.codes(), compress);
    c.out.bulk(&crate::rdb::make_payload(body));
    Ok(())
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]
pub fn function_restore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    if a.len() > 4 {
        return Err(CmdError::subcommand_syntax(a[0], a[1]));
    }
    let policy =
        match a.get(3) {
            None => RestorePolicy::Append,
            Some(p) if p.eq_ignore_ascii_case(b"append") => RestorePolicy::Append,
            Some(p) if p.eq_ignore_ascii_case(b"replace") => RestorePolicy::Replace,
            Some(p) if p.eq_ignore_ascii_case(b"flush") => RestorePolicy::Flush,
            Some(_) => return Err(CmdError::msg(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            )),
        };
    let Some(body) = crate::rdb::check_payload(a[2]) else {
        return Err(CmdError::msg(
            "ERR DUMP payload version or checksum are wrong",
        ));
    };
    let codes = decode_libraries(body).map_err(err)?;
    c.shared.functions.restore(&codes, policy).map_err(err)?;
    changed(c);
    c.out.ok();
    Ok(())
}

/// FUNCTION STATS
pub fn function_stats(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let (libs, fns) = c.shared.functions.counts();
    let out = &mut *c.out;
    out.map(2);
    out.bulk(b"running_script");
    match crate::script::busy::busy_scripts().first() {
        None => out.null(),
        Some(b) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(b.name.as_bytes());
            out.bulk(b"command");
            out.array(b.command.len());
            for arg in &b.command {
                out.bulk(arg);
            }
            out.bulk(b"duration_ms");
            out.int(b.started.elapsed().as_millis() as i64);
        }
    }
    out.bulk(b"engines");
    out.map(1);
    out.bulk(function::ENGINE.as_bytes());
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(libs as i64);
    out.bulk(b"functions_count");
    out.int(fns as i64);
    Ok(())
}

/// FUNCTION KILL: no function runs long enough to be killed yet.
pub fn function_kill(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    crate::script::busy::kill(false)?;
    c.out.ok();
    Ok(())
}

const FUNCTION_HELP: &[&str] = &[
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
];

/// FUNCTION HELP
pub fn function_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(FUNCTION_HELP);
    Ok(())
}

// ---- command table rows ----

const ALL_SHARDS_OK: &[&str] = &["request_policy:all_shards", "response_policy:all_succeeded"];

/// This group's rows of the command table.
pub static COMMANDS: &[Spec] = &[
    Spec {
        name: "fcall",
        arity: -3,
        flags: NOSCRIPT | SKIP_MONITOR | MAY_REPLICATE | NO_MANDATORY_KEYS | STALE | MOVABLE_KEYS,
        keys: Keys::Custom(eval_keys),
        group: "scripting",
        handler: fcall,
        acl: cat::SCRIPTING,
        key_specs: EVAL_KEYS_RW,
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "fcall_ro",
        arity: -3,
        flags: READONLY | NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | MOVABLE_KEYS,
        keys: Keys::Custom(eval_keys),
        group: "scripting",
        handler: fcall_ro,
        acl: cat::SCRIPTING,
        key_specs: EVAL_KEYS_RO,
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "function",
        arity: -2,
        flags: 0,
        keys: Keys::None,
        group: "scripting",
        handler: super::table::container,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[
            script_sub(
                "delete",
                3,
                WRITE | NOSCRIPT,
                function_delete,
                ALL_SHARDS_OK,
            ),
            script_sub("dump", 2, NOSCRIPT, function_dump, &[]),
            script_sub("flush", -2, WRITE | NOSCRIPT, function_flush, ALL_SHARDS_OK),
            script_sub("help", 2, LOADING | STALE, function_help, &[]),
            script_sub(
                "kill",
                2,
                NOSCRIPT | ALLOW_BUSY,
                function_kill,
                &["request_policy:all_shards", "response_policy:one_succeeded"],
            ),
            script_sub(
                "list",
                -2,
                NOSCRIPT,
                function_list,
                &["nondeterministic_output_order"],
            ),
            script_sub(
                "load",
                -3,
                WRITE | DENYOOM | NOSCRIPT,
                function_load,
                ALL_SHARDS_OK,
            ),
            script_sub(
                "restore",
                -3,
                WRITE | DENYOOM | NOSCRIPT,
                function_restore,
                ALL_SHARDS_OK,
            ),
            script_sub(
                "stats",
                2,
                NOSCRIPT | ALLOW_BUSY,
                function_stats,
                &[
                    "nondeterministic_output",
                    "request_policy:all_shards",
                    "response_policy:special",
                ],
            ),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libraries_round_trip_through_the_dump_format() {
        let codes = vec![
            b"#!lua name=a\nredis.register_function('a', function() return 1 end)".to_vec(),
            b"#!lua name=b\n".to_vec(),
        ];
        for compress in [false, true] {
            let body = encode_libraries(&codes, compress);
            assert_eq!(decode_libraries(&body).unwrap(), codes);
        }
        assert_eq!(
            decode_libraries(&[0]).unwrap_err(),
            "given type is not a function"
        );
        assert_eq!(
            decode_libraries(&[opcode::FUNCTION2, 5, b'x']).unwrap_err(),
            "Failed loading library payload"
        );
    }
}
