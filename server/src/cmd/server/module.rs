//! MODULE: soquete loads no modules, so LIST is empty and LOAD, LOADEX and
//! UNLOAD fail as they fail in Redis when the library cannot be loaded or
//! no module has the name. Dispatch refuses the last three first unless
//! `enable-module-command` allows them (their `PROTECTED` flag).

use crate::cmd::flags::*;
use crate::cmd::Ctx;
use crate::cmd::Spec;
use crate::error::{CmdError, CmdResult};

const MODULE_HELP: &[&str] = &[
    "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LIST",
    "    Return a list of loaded modules.",
    "LOAD <path> [<arg> ...]",
    "    Load a module library from <path>, passing to it any optional arguments.",
    "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
    "    Load a module library from <path>, while passing it module configurations and optional arguments.",
    "UNLOAD <name>",
    "    Unload a module.",
    "HELP",
    "    Prints this help.",
];

/// MODULE HELP
pub fn module_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(MODULE_HELP);
    Ok(())
}

/// MODULE LIST — no modules are loaded.
pub fn module_list(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.array(0);
    Ok(())
}

/// MODULE LOAD | LOADEX path ... — what Redis replies when loading fails:
/// soquete cannot load Redis modules (C libraries written against Redis's
/// own internals), so every load fails.
pub fn module_load(_c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    Err(CmdError::msg(
        "ERR Error loading the extension. Please check the server logs.",
    ))
}

/// MODULE UNLOAD name — no module is loaded, so none has that name.
pub fn module_unload(_c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    Err(CmdError::msg(
        "ERR Error unloading module: no such module with that name",
    ))
}

pub(super) static MODULE_SUBCOMMANDS: &[Spec] = &[
    Spec::keyless_server("help", 2, LOADING | STALE, module_help, &[]),
    Spec::keyless_server(
        "list",
        2,
        ADMIN | NOSCRIPT,
        module_list,
        &["nondeterministic_output_order"],
    ),
    Spec::keyless_server(
        "load",
        -3,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | PROTECTED,
        module_load,
        &[],
    ),
    Spec::keyless_server(
        "loadex",
        -3,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | PROTECTED,
        module_load,
        &[],
    ),
    Spec::keyless_server(
        "unload",
        3,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | PROTECTED,
        module_unload,
        &[],
    ),
];
