//! The canonical text of a user's rules, as ACL LIST and ACL GETUSER show
//! it (Redis's `ACLDescribeUser`, `ACLDescribeSelector` and
//! `ACLDescribeSelectorCommandRules`).
//!
//! Command rules start from `+@all` (when the selector was given `+@all`
//! and may run commands added later) or `-@all`, then apply, greedily, the
//! category that brings the fewest differences while having more commands
//! in common than apart, then name the single commands left over. Redis
//! walks its command dictionary in hash order for that last step; here it
//! is table order, so when several single commands are named their order
//! may differ from Redis's (which differs between two Redis processes too).

use super::index::index;
use super::user::{KeyPattern, Selector, User, READ, WRITE};
use crate::cmd::cat;

/// A key pattern as rules write it: `~p`, `%R~p` or `%W~p`.
pub fn key_pattern(out: &mut Vec<u8>, k: &KeyPattern) {
    out.extend_from_slice(match k.flags {
        f if f == READ | WRITE => b"~".as_slice(),
        READ => b"%R~",
        WRITE => b"%W~",
        _ => b"%~",
    });
    out.extend_from_slice(&k.pattern);
}

/// The command rules of a selector (`+@all -debug`, `-@all +@string`...).
pub fn command_rules(s: &Selector) -> Vec<u8> {
    let entries = &index().entries;
    let additive = !s.future;
    let mut rules = Vec::new();
    let mut fake = Selector::new(false);
    if additive {
        rules.extend_from_slice(b"-@all ");
    } else {
        rules.extend_from_slice(b"+@all ");
        fake.apply(b"+@all").ok();
    }
    let mut temp = s.clone();
    let mut applied = [false; 32];
    loop {
        let mut best = None;
        let (mut mindiff, mut maxsame) = (usize::MAX, 0usize);
        for (j, _) in cat::NAMES.iter().enumerate() {
            if applied[j] {
                continue;
            }
            let bit = 1u32 << j;
            let (mut on, mut off) = (0, 0);
            for (b, e) in entries.iter().enumerate() {
                if e.cats & bit != 0 {
                    if temp.bit(b) {
                        on += 1;
                    } else {
                        off += 1;
                    }
                }
            }
            let (diff, same) = if additive { (off, on) } else { (on, off) };
            if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                best = Some(j);
                mindiff = diff;
                maxsame = same;
            }
        }
        let Some(j) = best else { break };
        fake.set_category(1 << j, additive);
        temp.set_category(1 << j, !additive);
        rules.extend_from_slice(if additive { b"+@" } else { b"-@" });
        rules.extend_from_slice(cat::NAMES[j].as_bytes());
        rules.push(b' ');
        applied[j] = true;
    }
    // The single commands that still differ, then first arguments.
    for (b, e) in entries.iter().enumerate() {
        let user = s.bit(b);
        if user != fake.bit(b) {
            rules.push(if user { b'+' } else { b'-' });
            rules.extend_from_slice(e.full_name().as_bytes());
            rules.push(b' ');
            fake.change(b, user);
        }
        if !user {
            for arg in s.firstargs_of(b) {
                rules.push(b'+');
                rules.extend_from_slice(e.full_name().as_bytes());
                rules.push(b'|');
                rules.extend_from_slice(arg);
                rules.push(b' ');
            }
        }
    }
    rules.pop();
    debug_assert!(
        fake.allowed == s.allowed,
        "described rules differ from the bitmap"
    );
    rules
}

/// A selector's keys, channels and commands, as ACL LIST shows it.
pub fn selector(out: &mut Vec<u8>, s: &Selector) {
    if s.allkeys {
        out.extend_from_slice(b"~* ");
    } else {
        for k in &s.keys {
            key_pattern(out, k);
            out.push(b' ');
        }
    }
    if s.allchannels {
        out.extend_from_slice(b"&* ");
    } else {
        out.extend_from_slice(b"resetchannels ");
        for c in &s.channels {
            out.push(b'&');
            out.extend_from_slice(c);
            out.push(b' ');
        }
    }
    out.extend_from_slice(&command_rules(s));
}

/// The flags of a user in Redis's order (`on`, `off`, `nopass`,
/// `skip-sanitize-payload`, `sanitize-payload`).
pub fn flags(u: &User) -> Vec<&'static str> {
    let mut f = vec![if u.enabled { "on" } else { "off" }];
    if u.nopass {
        f.push("nopass");
    }
    match u.sanitize {
        Some(false) => f.push("skip-sanitize-payload"),
        Some(true) => f.push("sanitize-payload"),
        None => {}
    }
    f
}

/// The whole user, as ACL LIST shows it after `user <name> `.
pub fn user(u: &User) -> Vec<u8> {
    let mut out = Vec::new();
    for f in flags(u) {
        out.extend_from_slice(f.as_bytes());
        out.push(b' ');
    }
    for p in &u.passwords {
        out.push(b'#');
        out.extend_from_slice(p);
        out.push(b' ');
    }
    for (i, s) in u.selectors.iter().enumerate() {
        if i == 0 {
            selector(&mut out, s);
        } else {
            out.extend_from_slice(b" (");
            selector(&mut out, s);
            out.push(b')');
        }
    }
    out
}

/// A selector's key patterns as ACL GETUSER shows them (`~*`, or the
/// patterns separated by spaces).
pub fn keys_field(s: &Selector) -> Vec<u8> {
    if s.allkeys {
        return b"~*".to_vec();
    }
    let mut out = Vec::new();
    for (i, k) in s.keys.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        key_pattern(&mut out, k);
    }
    out
}

/// A selector's channel patterns as ACL GETUSER shows them.
pub fn channels_field(s: &Selector) -> Vec<u8> {
    if s.allchannels {
        return b"&*".to_vec();
    }
    let mut out = Vec::new();
    for (i, c) in s.channels.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.push(b'&');
        out.extend_from_slice(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(rules: &[&str]) -> String {
        let rules: Vec<&[u8]> = rules.iter().map(|r| r.as_bytes()).collect();
        let u = User::new(b"u", false).with_rules(&rules, false).unwrap();
        String::from_utf8(user(&u)).unwrap()
    }

    #[test]
    fn default_user_reads_as_in_redis() {
        let d = String::from_utf8(user(&User::default_user())).unwrap();
        assert_eq!(d, "on nopass ~* &* +@all");
    }

    #[test]
    fn new_user_is_off_without_channels_or_commands() {
        assert_eq!(described(&[]), "off resetchannels -@all");
    }

    #[test]
    fn subtractions_from_all_stay_single_commands() {
        assert_eq!(
            described(&["+@all", "-debug"]),
            "off resetchannels +@all -debug"
        );
        assert_eq!(
            described(&["allcommands", "-@dangerous"]),
            "off resetchannels +@all -@dangerous"
        );
    }

    #[test]
    fn categories_compact_and_first_args_follow() {
        assert_eq!(
            described(&["-@all", "+@string"]),
            "off resetchannels -@all +@string"
        );
        assert_eq!(
            described(&[
                "on",
                "nopass",
                "%R~r*",
                "%W~w*",
                "~a",
                "&ch",
                "+select|0",
                "+config|get"
            ]),
            "on nopass %R~r* %W~w* ~a resetchannels &ch -@all +select|0 +config|get"
        );
    }

    #[test]
    fn selectors_follow_the_root_in_parentheses() {
        assert_eq!(
            described(&["reset", "(~x +get)", "(%R~y", "&c)"]),
            "off sanitize-payload resetchannels -@all (~x resetchannels -@all +get) (%R~y resetchannels &c -@all)"
        );
    }
}
