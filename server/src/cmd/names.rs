//! The names clients call commands by: the table's own names, as changed
//! by `rename-command` lines at start-up.
//!
//! Redis keeps two dictionaries: `server.commands`, which `rename-command`
//! edits and every client-facing lookup reads (requests, scripts, COMMAND
//! INFO/DOCS/GETKEYS/LIST/COUNT, ACL DRYRUN, LATENCY HISTOGRAM), and
//! `server.orig_commands`, which ACL rules read (`+get` names GET even
//! when it was renamed). Here they are two maps from a lower-case name to
//! the command's index in [`table::commands`]: [`index`] (current) and
//! [`original_index`]. A renamed command keeps its own name everywhere
//! Redis shows `cmd->fullname` (COMMAND INFO's first field, arity errors,
//! INFO commandstats); a command renamed to `""` is in no map, so it is
//! unknown and COMMAND COUNT/LIST leave it out.
//!
//! The current map is built once: [`install_renames`] sets it at start-up,
//! before the first request, so the per-request lookup costs what it cost
//! before renames existed (one hash lookup), with no check for renames.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::table;

/// A name-to-index map of the command table.
#[derive(Debug, Clone)]
pub struct Names {
    map: HashMap<Box<[u8]>, usize, ahash::RandomState>,
    /// Indices with no name (renamed to `""`).
    removed: Vec<bool>,
}

impl Names {
    /// The table's own names.
    pub fn original() -> Names {
        let map = table::commands()
            .iter()
            .enumerate()
            .map(|(i, s)| (Box::from(s.name.as_bytes()), i))
            .collect();
        Names {
            map,
            removed: vec![false; table::commands().len()],
        }
    }

    /// The table's names after `renames` (`(old, new)` pairs, applied in
    /// order as Redis reads `rename-command` lines). On failure, the
    /// position of the pair refused and Redis's reason.
    pub fn with_renames(renames: &[(String, String)]) -> Result<Names, (usize, &'static str)> {
        let mut names = Names::original();
        for (n, (from, to)) in renames.iter().enumerate() {
            names
                .rename(from.as_bytes(), to.as_bytes())
                .map_err(|e| (n, e))?;
        }
        Ok(names)
    }

    /// One `rename-command from to` (Redis's `loadServerConfigFromString`):
    /// `from` must name a command by its current name; an empty `to`
    /// removes the command.
    fn rename(&mut self, from: &[u8], to: &[u8]) -> Result<(), &'static str> {
        // Redis finds `container|sub` too, then fails an assertion when
        // the dictionary has no such key: refused here instead.
        let i = self
            .get(from)
            .filter(|_| !from.contains(&b'|'))
            .ok_or("No such command in rename-command")?;
        self.map.remove(&*from.to_ascii_lowercase());
        if to.is_empty() {
            self.removed[i] = true;
            return Ok(());
        }
        let to = to.to_ascii_lowercase().into_boxed_slice();
        if self.map.contains_key(&to) {
            return Err("Target command name already exists");
        }
        self.map.insert(to, i);
        Ok(())
    }

    /// The index of the command called `name`, case-insensitively.
    #[inline(always)]
    pub fn get(&self, name: &[u8]) -> Option<usize> {
        let mut lower = [0u8; 32];
        if name.len() > lower.len() {
            return self.get_long(name);
        }
        let lower = &mut lower[..name.len()];
        for (d, s) in lower.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        self.map.get(&*lower).copied()
    }

    /// [`Names::get`] for a name longer than any in the table: only a
    /// renamed command can have one (a 40-digit hex name is the usual way
    /// to hide a command).
    #[cold]
    #[inline(never)]
    fn get_long(&self, name: &[u8]) -> Option<usize> {
        self.map.get(&*name.to_ascii_lowercase()).copied()
    }

    /// How many commands have a name (COMMAND COUNT).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no command has a name.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// True unless the command at `index` was renamed to `""`.
    pub fn has_name(&self, index: usize) -> bool {
        !self.removed.get(index).copied().unwrap_or(true)
    }
}

static CURRENT: OnceLock<Names> = OnceLock::new();

/// The names clients use now.
#[inline]
pub fn current() -> &'static Names {
    CURRENT.get_or_init(Names::original)
}

/// The index of the command a client calls `name` (after renames): one
/// call, as the lookup was before renames existed.
#[inline(never)]
pub fn index(name: &[u8]) -> Option<usize> {
    current().get(name)
}

/// The index of the command whose own name is `name`, renamed or not (ACL
/// rules name commands this way).
pub fn original_index(name: &[u8]) -> Option<usize> {
    static ORIGINAL: OnceLock<Names> = OnceLock::new();
    ORIGINAL.get_or_init(Names::original).get(name)
}

/// Applies the configuration's `rename-command` pairs for the rest of the
/// process. Called once at start-up, before any request is looked up;
/// nothing to do without renames.
pub fn install_renames(renames: &[(String, String)]) -> Result<(), String> {
    if renames.is_empty() {
        return Ok(());
    }
    let names = Names::with_renames(renames).map_err(|(_, e)| e.to_string())?;
    CURRENT
        .set(names)
        .map_err(|_| "rename-command: the command table is already in use".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn a_renamed_command_answers_only_to_its_new_name() {
        let n = Names::with_renames(&pairs(&[("get", "FETCH")])).unwrap();
        let get = Names::original().get(b"get").unwrap();
        assert_eq!(n.get(b"fetch"), Some(get));
        assert_eq!(n.get(b"FeTcH"), Some(get));
        assert_eq!(n.get(b"get"), None);
        assert_eq!(n.len(), Names::original().len());
        assert!(n.has_name(get));
    }

    #[test]
    fn renaming_to_empty_removes_the_command() {
        let n = Names::with_renames(&pairs(&[("flushall", "")])).unwrap();
        let i = Names::original().get(b"flushall").unwrap();
        assert_eq!(n.get(b"flushall"), None);
        assert!(!n.has_name(i));
        assert_eq!(n.len(), Names::original().len() - 1);
    }

    #[test]
    fn renames_apply_in_order_and_fail_as_redis() {
        let n = Names::with_renames(&pairs(&[("get", "a"), ("a", "b"), ("set", "get")])).unwrap();
        assert_eq!(n.get(b"b"), Names::original().get(b"get"));
        assert_eq!(n.get(b"get"), Names::original().get(b"set"));
        assert_eq!(
            Names::with_renames(&pairs(&[("nosuch", "x")])).unwrap_err(),
            (0, "No such command in rename-command")
        );
        assert_eq!(
            Names::with_renames(&pairs(&[("get", "x"), ("get", "y")])).unwrap_err(),
            (1, "No such command in rename-command")
        );
        assert_eq!(
            Names::with_renames(&pairs(&[("get", "set")])).unwrap_err(),
            (0, "Target command name already exists")
        );
        assert_eq!(
            Names::with_renames(&pairs(&[("config|get", "x")])).unwrap_err(),
            (0, "No such command in rename-command")
        );
    }

    #[test]
    fn long_new_names_are_found() {
        let long = "b840fc02d524045429941cc15f59e41cb7be6c52";
        let n = Names::with_renames(&pairs(&[("config", long)])).unwrap();
        assert_eq!(
            n.get(long.to_uppercase().as_bytes()),
            Names::original().get(b"config")
        );
    }
}
