//! The command table: every group's rows (each group file ends with its
//! `COMMANDS`), gathered once. It is the single source of truth for names,
//! arities, flags, key positions and handlers. Rows were first taken from
//! Redis 7.0's own COMMAND INFO / COMMAND DOCS so that what clients see
//! matches; keep them in sync with Redis when adding commands.

use std::sync::OnceLock;

use super::{connection, hash, keys, list, pubsub, server, set, string, transaction, zset, Spec};
use crate::error::CmdResult;

/// Every group's rows. Adding a group: one entry here.
pub static GROUPS: &[&[Spec]] = &[
    connection::COMMANDS,
    string::COMMANDS,
    keys::COMMANDS,
    server::COMMANDS,
    transaction::COMMANDS,
    pubsub::COMMANDS,
    hash::COMMANDS,
    list::COMMANDS,
    set::COMMANDS,
    zset::COMMANDS,
];

/// Every command, in table order.
pub fn commands() -> &'static [&'static Spec] {
    static ALL: OnceLock<Vec<&'static Spec>> = OnceLock::new();
    ALL.get_or_init(|| GROUPS.iter().flat_map(|g| g.iter()).collect())
}

/// The handler of container commands (CLIENT, CONFIG...): they dispatch to
/// their subcommands, and `resolve` never calls this one with a known
/// subcommand.
pub fn container(_c: &mut super::Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let name = String::from_utf8_lossy(a[0]).to_ascii_lowercase();
    Err(crate::error::CmdError::unknown_subcommand(
        &name,
        a.get(1).copied().unwrap_or_default(),
    ))
}

/// The compact id of a top-level command (index `i`) or of its subcommand
/// `j`, as stored for CLIENT LIST's `cmd=`.
pub fn command_id(i: usize, sub: Option<usize>) -> u16 {
    match sub {
        None => i as u16,
        Some(j) => (((j + 1) << 9) | i) as u16,
    }
}

/// The full name (`get`, `client|list`) of a command id.
pub fn full_name_by_index(id: usize) -> String {
    let (i, j) = (id & 0x1ff, id >> 9);
    let Some(top) = commands().get(i) else {
        return "NULL".into();
    };
    match j.checked_sub(1).and_then(|j| top.subcommands.get(j)) {
        Some(sub) => format!("{}|{}", top.name, sub.name),
        None => top.name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::{flags::WHOLE_KEYSPACE, Keys};
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_lower_case() {
        let mut seen = HashSet::new();
        for s in commands() {
            assert!(seen.insert(s.name), "duplicate {}", s.name);
            assert_eq!(s.name, s.name.to_ascii_lowercase());
            let mut subs = HashSet::new();
            for sub in s.subcommands {
                assert!(subs.insert(sub.name), "duplicate {}|{}", s.name, sub.name);
            }
        }
        assert!(
            commands().len() < 512,
            "ids need 9 bits for top-level commands"
        );
        assert!(commands().iter().all(|s| s.subcommands.len() < 127));
    }

    #[test]
    fn ids_round_trip_to_names() {
        let i = commands().iter().position(|s| s.name == "client").unwrap();
        let j = commands()[i]
            .subcommands
            .iter()
            .position(|s| s.name == "list")
            .unwrap();
        assert_eq!(
            full_name_by_index(command_id(i, Some(j)) as usize),
            "client|list"
        );
        let g = commands().iter().position(|s| s.name == "get").unwrap();
        assert_eq!(full_name_by_index(command_id(g, None) as usize), "get");
    }

    #[test]
    fn whole_keyspace_commands_have_no_key_range() {
        for s in commands().iter().filter(|s| s.has(WHOLE_KEYSPACE)) {
            assert!(matches!(s.keys, Keys::None), "{}", s.name);
        }
    }
}
