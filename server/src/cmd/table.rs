//! The command table: every group's rows (each group file ends with its
//! `COMMANDS`), gathered once. It is the single source of truth for names,
//! arities, flags, key positions and handlers. Rows were first taken from
//! Redis 7.0's own COMMAND INFO / COMMAND DOCS so that what clients see
//! matches; keep them in sync with Redis when adding commands.

use std::sync::OnceLock;

use super::{
    bitmap, connection, consumer_group, function, geo, hash, hyperloglog, keys, list, pubsub,
    scripting, server, set, sort, stream, string, transaction, zset, Spec,
};
use crate::error::CmdResult;

/// Every group's rows. Adding a group: one entry here.
pub static GROUPS: &[&[Spec]] = &[
    connection::COMMANDS,
    string::COMMANDS,
    bitmap::COMMANDS,
    keys::COMMANDS,
    server::COMMANDS,
    transaction::COMMANDS,
    pubsub::COMMANDS,
    hash::COMMANDS,
    list::COMMANDS,
    set::COMMANDS,
    sort::COMMANDS,
    stream::COMMANDS,
    consumer_group::COMMANDS,
    zset::COMMANDS,
    geo::COMMANDS,
    scripting::COMMANDS,
    function::COMMANDS,
    hyperloglog::COMMANDS,
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

    /// Every row and subcommand row with the row that contains it.
    fn all_rows() -> Vec<&'static Spec> {
        commands()
            .iter()
            .flat_map(|s| std::iter::once(*s).chain(s.subcommands.iter()))
            .collect()
    }

    #[test]
    fn movable_keys_flag_is_what_the_key_specs_make_it() {
        for s in all_rows() {
            let movable = crate::cmd::ks::legacy_range(s.key_specs).3;
            assert_eq!(
                s.has(crate::cmd::flags::MOVABLE_KEYS),
                movable,
                "{}",
                s.name
            );
        }
    }

    /// The locking key finder (`keys`) and the key specs find the same
    /// keys: for every arity a command accepts up to four more arguments,
    /// with counts of keys (`numkeys`) of 1 and 2 where the specs read one
    /// (arguments the specs reject, the command rejects too).
    #[test]
    fn lock_keys_are_the_key_specs_keys() {
        use crate::cmd::ks::{self, Begin, Find};
        for s in all_rows() {
            let parent = commands()
                .iter()
                .find(|p| p.subcommands.iter().any(|c| std::ptr::eq(c, s)));
            let min = s.arity.unsigned_abs() as usize;
            let max = if s.arity < 0 { min + 4 } else { min };
            for argc in min..=max {
                for count in [b"1", b"2"] {
                    let names: Vec<Vec<u8>> =
                        (0..argc).map(|i| format!("k{i}").into_bytes()).collect();
                    let mut argv: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
                    argv[0] = parent.map_or(s.name, |p| p.name).as_bytes();
                    if parent.is_some() {
                        argv[1] = s.name.as_bytes();
                    }
                    for k in s.key_specs {
                        if let (Begin::Index(pos), Find::Keynum(idx, _, _)) = (k.begin, k.find) {
                            if let Some(a) = argv.get_mut((pos + idx) as usize) {
                                *a = count;
                            }
                        }
                    }
                    let real = s.key_specs.iter().any(|k| k.flags & ks::NOT_KEY == 0);
                    let mut by_specs: Vec<&[u8]> = if real {
                        ks::get_keys(s, &argv)
                            .into_iter()
                            .map(|(i, _)| argv[i])
                            .collect()
                    } else {
                        Vec::new()
                    };
                    let mut locked = Vec::new();
                    s.keys_of(&argv, 0, &mut locked);
                    let mut by_lock: Vec<&[u8]> = locked.into_iter().map(|(_, k)| k).collect();
                    for v in [&mut by_specs, &mut by_lock] {
                        v.sort();
                        v.dedup();
                    }
                    if real && by_specs.is_empty() {
                        continue; // Redis: invalid arguments; the command fails
                    }
                    assert_eq!(by_specs, by_lock, "{} with {argc} arguments", s.name);
                }
            }
        }
    }

    #[test]
    fn whole_keyspace_commands_have_no_key_range() {
        for s in commands().iter().filter(|s| s.has(WHOLE_KEYSPACE)) {
            assert!(matches!(s.keys, Keys::None), "{}", s.name);
        }
    }
}
