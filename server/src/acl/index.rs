//! The command bit index: every command and subcommand of the table gets
//! one bit in a selector's bitset, numbered densely in table order (a
//! command, then its subcommands). Redis numbers its commands the same
//! way (`ACLGetCommandID`); the numbers are ours and never leave the
//! process.

use std::sync::OnceLock;

use crate::cmd::{self, table, Spec};

/// One command or subcommand of the table, with what ACL rules need.
pub(crate) struct Entry {
    /// The row.
    pub spec: &'static Spec,
    /// The container, for a subcommand.
    pub parent: Option<&'static Spec>,
    /// Its ACL categories (explicit and implied), [`cmd::cat`] bits.
    pub cats: u32,
    /// For a container, the bits of its subcommands (`bit + 1 ..= bit + n`).
    pub subs: usize,
}

impl Entry {
    /// `name` or `container|name`.
    pub fn full_name(&self) -> String {
        match self.parent {
            Some(p) => format!("{}|{}", p.name, self.spec.name),
            None => self.spec.name.to_string(),
        }
    }
}

/// The index: entries by bit, and the first bit of each top-level command.
pub(crate) struct Index {
    /// Every command and subcommand, by bit.
    pub entries: Vec<Entry>,
    /// The bit of top-level command `i` of [`table::commands`].
    pub base: Vec<usize>,
}

/// The index, built on first use.
pub(crate) fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut entries = Vec::new();
        let mut base = Vec::new();
        for s in table::commands() {
            base.push(entries.len());
            entries.push(Entry {
                spec: s,
                parent: None,
                cats: cmd::server::categories(s),
                subs: s.subcommands.len(),
            });
            for sub in s.subcommands {
                entries.push(Entry {
                    spec: sub,
                    parent: Some(s),
                    cats: cmd::server::categories(sub),
                    subs: 0,
                });
            }
        }
        Index { entries, base }
    })
}

/// The number of bits a selector's command set needs.
pub(crate) fn bits() -> usize {
    index().entries.len()
}

/// The bit of a command id ([`table::command_id`]); out of range ids map
/// past the end, where no bit is ever set.
#[inline]
pub(crate) fn bit_of(id: u16) -> usize {
    let (i, j) = ((id & 0x1ff) as usize, (id >> 9) as usize);
    index().base.get(i).map_or(usize::MAX, |b| b + j)
}

/// Looks a command up as ACL rules name it: `name` or `container|sub`,
/// any case (Redis's `ACLLookupCommand`, strict: a `|` after a command
/// without subcommands, or a third part, finds nothing).
pub(crate) fn lookup(name: &[u8]) -> Option<usize> {
    let mut parts = name.split(|&b| b == b'|');
    let first = parts.next()?;
    let second = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let i = cmd::original_index(first)?;
    let top = table::commands()[i];
    let base = index().base[i];
    match second {
        None => Some(base),
        Some(_) if top.subcommands.is_empty() => None,
        Some(sub) => cmd::lookup_sub_index(top, sub).map(|j| base + 1 + j),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_follow_table_ids() {
        let i = cmd::lookup_index(b"config").unwrap();
        let j = cmd::lookup_sub_index(table::commands()[i], b"get").unwrap();
        let bit = bit_of(table::command_id(i, Some(j)));
        assert_eq!(index().entries[bit].full_name(), "config|get");
        assert_eq!(lookup(b"CONFIG|Get"), Some(bit));
        assert_eq!(lookup(b"get|x"), None);
        assert_eq!(lookup(b"config|get|x"), None);
        assert_eq!(lookup(b""), None);
    }
}
