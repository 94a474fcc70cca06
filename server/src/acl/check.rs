//! Whether a user may run a command with given arguments (Redis's
//! `ACLCheckAllUserCommandPerm`). ACL DRYRUN asks it today; it is built to
//! become the per-command check, so a selector that allows everything
//! answers without looking at the arguments, and nothing is allocated on
//! the way to "allowed" (key positions go into a per-thread buffer).

use std::cell::RefCell;

use super::index::{self, index};
use super::user::{Selector, User, READ, WRITE};
use crate::cmd::{flags, ks, Spec};
use crate::util::glob::glob_match;

/// Why a command was refused, with the argument at fault (an index into
/// the command's arguments, the name at 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denial {
    /// The command or subcommand is not allowed.
    Command,
    /// The key at this position is not allowed (with the access needed).
    Key(usize),
    /// The channel at this position is not allowed.
    Channel(usize),
}

/// What a refusal says to a script or module (Redis's
/// `getAclErrorMessage`).
pub fn refusal(d: Denial) -> &'static str {
    match d {
        Denial::Command => "can't run this command or subcommand",
        Denial::Key(_) => {
            "can't access at least one of the keys mentioned in the command arguments"
        }
        Denial::Channel(_) => "can't publish to the channel mentioned in the command",
    }
}

impl Denial {
    /// Redis's order of importance when no selector allows a command.
    fn rank(self) -> (u8, usize) {
        match self {
            Denial::Command => (1, 0),
            Denial::Key(i) => (2, i),
            Denial::Channel(i) => (4, i),
        }
    }
}

thread_local! {
    static KEYS: RefCell<ks::KeyRefs> = const { RefCell::new(Vec::new()) };
}

/// Where a command names channels: (first, count or all), whether they are
/// patterns (Redis's `commands_with_channels`, publishing and subscribing
/// only: unsubscribing is never refused).
fn channels_of(spec: &Spec) -> Option<(usize, bool, bool)> {
    // (single, pattern) by name: PUBLISH and SPUBLISH name one channel.
    match spec.name {
        "publish" | "spublish" => Some((1, true, false)),
        "subscribe" | "ssubscribe" => Some((1, false, false)),
        "psubscribe" => Some((1, false, true)),
        _ => None,
    }
}

fn key_allowed(s: &Selector, key: &[u8], spec_flags: u16) -> bool {
    let mut need = 0;
    if spec_flags & ks::ACCESS != 0 {
        need |= READ;
    }
    if spec_flags & (ks::INSERT | ks::DELETE | ks::UPDATE) != 0 {
        need |= WRITE;
    }
    s.keys
        .iter()
        .any(|p| p.flags & need == need && p.matches(key))
}

fn channel_allowed(s: &Selector, channel: &[u8], pattern: bool) -> bool {
    channel_in(&s.channels, channel, pattern)
}

/// The channel patterns `new` allows, when they no longer cover all that
/// `old` allowed and subscribers may have to go (Redis's
/// `ACLKillPubsubClientsIfNeeded`): `None` when `new` allows every channel
/// or each of `old`'s patterns is still among `new`'s.
pub fn narrowed_channels(new: &User, old: &User) -> Option<Vec<Vec<u8>>> {
    if new.selectors.iter().any(|s| s.allchannels) {
        return None;
    }
    let upcoming: Vec<Vec<u8>> = new
        .selectors
        .iter()
        .flat_map(|s| s.channels.iter().cloned())
        .collect();
    let kept = old
        .selectors
        .iter()
        .all(|s| !s.allchannels && s.channels.iter().all(|c| upcoming.contains(c)));
    (!kept).then_some(upcoming)
}

/// Whether a subscription to `name` (a pattern subscription when
/// `pattern`) is within `patterns` (Redis's `ACLCheckChannelAgainstList`).
pub fn channel_in(patterns: &[Vec<u8>], name: &[u8], pattern: bool) -> bool {
    patterns.iter().any(|p| {
        if pattern {
            p == name
        } else {
            glob_match(p, name, false)
        }
    })
}

impl User {
    /// Whether this user may run `spec` (command id `id`, as
    /// [`crate::cmd::Resolved::id`]) with `argv` (the command name first;
    /// for a subcommand, its name second). Arity must have been checked.
    pub fn check(&self, spec: &Spec, id: u16, argv: &[&[u8]]) -> Result<(), Denial> {
        let mut keys_ready = false;
        let mut worst: Option<Denial> = None;
        for s in &self.selectors {
            match check_selector(s, spec, id, argv, &mut keys_ready) {
                Ok(()) => return Ok(()),
                Err(d) => {
                    if worst.is_none_or(|w| d.rank() > w.rank()) {
                        worst = Some(d);
                    }
                }
            }
        }
        Err(worst.unwrap_or(Denial::Command))
    }
}

impl User {
    /// Whether some selector lets this user run the command and read any
    /// key (Redis's `ACLUserCheckCmdWithUnrestrictedKeyAccess` for
    /// `CMD_KEY_ACCESS`): SORT's BY and GET patterns need it.
    pub fn reads_any_key(&self, spec: &Spec, id: u16, argv: &[&[u8]]) -> bool {
        let mut keys_ready = false;
        self.selectors.iter().any(|s| {
            check_selector(s, spec, id, argv, &mut keys_ready).is_ok()
                && (s.allkeys
                    || s.keys
                        .iter()
                        .any(|p| p.flags & READ == READ && p.pattern == b"*"))
        })
    }
}

fn check_selector(
    s: &Selector,
    spec: &Spec,
    id: u16,
    argv: &[&[u8]],
    keys_ready: &mut bool,
) -> Result<(), Denial> {
    if !s.allcommands && !spec.has(flags::NO_AUTH) {
        let bit = index::bit_of(id);
        if !s.bit(bit) {
            let at = if index().entries.get(bit).is_some_and(|e| e.parent.is_some()) {
                2
            } else {
                1
            };
            let first = argv.get(at).ok_or(Denial::Command)?;
            if !s
                .firstargs_of(bit)
                .iter()
                .any(|a| a.eq_ignore_ascii_case(first))
            {
                return Err(Denial::Command);
            }
        }
    }
    if !s.allkeys && ks::has_keys(spec.key_specs) {
        KEYS.with(|cell| {
            let mut keys = cell.borrow_mut();
            if !*keys_ready {
                ks::get_keys_into(spec, argv, &mut keys);
                *keys_ready = true;
            }
            for &(i, f) in keys.iter() {
                if !argv.get(i).is_some_and(|k| key_allowed(s, k, f)) {
                    return Err(Denial::Key(i));
                }
            }
            Ok(())
        })?;
    }
    if !s.allchannels {
        if let Some((first, single, pattern)) = channels_of(spec) {
            let end = if single { first + 1 } else { argv.len() };
            let end = end.min(argv.len());
            for (i, ch) in argv.iter().enumerate().take(end).skip(first) {
                if !channel_allowed(s, ch, pattern) {
                    return Err(Denial::Channel(i));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::dispatch::resolve;

    fn check(rules: &[&str], line: &str) -> Result<(), Denial> {
        let rules: Vec<&[u8]> = rules.iter().map(|r| r.as_bytes()).collect();
        let u = User::new(b"u", false).with_rules(&rules, false).unwrap();
        let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let r = resolve(&argv).unwrap();
        u.check(r.spec, r.id, &argv)
    }

    #[test]
    fn commands_need_their_bit_or_a_first_argument() {
        assert_eq!(check(&["+get", "~*"], "get k"), Ok(()));
        assert_eq!(check(&["+get", "~*"], "set k v"), Err(Denial::Command));
        assert_eq!(check(&["+select|0"], "select 0"), Ok(()));
        assert_eq!(check(&["+select|0"], "select 1"), Err(Denial::Command));
        assert_eq!(check(&["+config|get"], "config get x"), Ok(()));
        assert_eq!(
            check(&["+config|get"], "config set x y"),
            Err(Denial::Command)
        );
        assert_eq!(
            check(&[], "auth x"),
            Ok(()),
            "no_auth commands are always allowed"
        );
    }

    #[test]
    fn keys_need_a_pattern_with_the_access_used() {
        assert_eq!(check(&["+@all", "%R~r*"], "get r1"), Ok(()));
        assert_eq!(check(&["+@all", "%R~r*"], "set r1 v"), Err(Denial::Key(1)));
        assert_eq!(check(&["+@all", "%W~w*"], "set w1 v"), Ok(()));
        assert_eq!(check(&["+@all", "~a"], "mget a b"), Err(Denial::Key(2)));
        assert_eq!(check(&["+@all", "%R~s", "%W~d"], "copy s d"), Ok(()));
    }

    #[test]
    fn channels_are_matched_as_globs_and_patterns_literally() {
        assert_eq!(check(&["+@all", "&n*"], "publish news x"), Ok(()));
        assert_eq!(
            check(&["+@all", "&n*"], "subscribe news other"),
            Err(Denial::Channel(2))
        );
        assert_eq!(check(&["+@all", "&n*"], "psubscribe n*"), Ok(()));
        assert_eq!(
            check(&["+@all", "&n*"], "psubscribe ne*"),
            Err(Denial::Channel(1))
        );
        assert_eq!(check(&["+@all"], "unsubscribe any"), Ok(()));
    }

    #[test]
    fn any_selector_may_allow_and_the_worst_refusal_is_reported() {
        assert_eq!(check(&["+get", "~a", "(+set ~b)"], "set b v"), Ok(()));
        assert_eq!(
            check(&["+get", "~a", "(+set ~b)"], "get b"),
            Err(Denial::Key(1))
        );
    }
}
