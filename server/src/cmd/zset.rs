//! Sorted set commands (Redis's `t_zset.c`).

#[allow(unused_imports)]
use super::flags::*;
#[allow(unused_imports)]
use super::{Ctx, Keys, Spec};

// ---- command table rows ----

/// This group's rows of the command table.
pub static COMMANDS: &[Spec] = &[];
