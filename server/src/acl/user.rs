//! Users and selectors, and the rules that change them (Redis 7.0's
//! `ACLSetUser` / `ACLSetSelector`).

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use super::index::{self, index};

/// A key pattern may be read (`%R~`)...
pub const READ: u8 = 1;
/// ...written (`%W~`), or both (`~`).
pub const WRITE: u8 = 2;

/// A key pattern with the access it grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPattern {
    /// [`READ`] and/or [`WRITE`].
    pub flags: u8,
    /// A glob pattern, as KEYS takes.
    pub pattern: Vec<u8>,
    /// The pattern is this many plain bytes and a final `*` (`app:*`,
    /// `*`): it matches what starts with them, tested without the glob
    /// matcher on every command.
    prefix: Option<usize>,
}

impl KeyPattern {
    /// A pattern granting `flags`.
    pub fn new(flags: u8, pattern: &[u8]) -> KeyPattern {
        let prefix = match pattern.split_last() {
            Some((b'*', head)) if !head.iter().any(|b| b"*?[\\".contains(b)) => Some(head.len()),
            _ => None,
        };
        KeyPattern {
            flags,
            pattern: pattern.to_vec(),
            prefix,
        }
    }

    /// Whether `key` matches the pattern (as KEYS would match it).
    #[inline]
    pub fn matches(&self, key: &[u8]) -> bool {
        match self.prefix {
            // Redis's matcher finds nothing for `*` against an empty key.
            Some(n) => key.starts_with(&self.pattern[..n]) && (n > 0 || !key.is_empty()),
            None => crate::util::glob::glob_match(&self.pattern, key, false),
        }
    }
}

/// One set of permissions: commands, keys and channels. A user has a root
/// selector and any number of others (`(...)` rules); a command is allowed
/// when one selector allows it whole.
#[derive(Clone, Debug)]
pub struct Selector {
    /// `allkeys` / `~*`: every key, read and write.
    pub allkeys: bool,
    /// `allchannels` / `&*`.
    pub allchannels: bool,
    /// `allcommands` / `+@all`, until a command is taken away.
    pub allcommands: bool,
    /// Set by `+@all` only (Redis's reserved "future commands" bit): what
    /// makes the describer start from `+@all` rather than `-@all`.
    pub(crate) future: bool,
    /// One bit per command and subcommand ([`index`]).
    pub(crate) allowed: Box<[u64]>,
    /// First arguments allowed of an otherwise denied command without
    /// subcommands (`+select|0`), by command bit, in the order given.
    pub(crate) firstargs: Vec<(usize, Vec<Vec<u8>>)>,
    /// Key patterns, in the order given (a repeated pattern widens the
    /// first one's access).
    pub keys: Vec<KeyPattern>,
    /// Channel patterns, in the order given.
    pub channels: Vec<Vec<u8>>,
}

/// Why a rule was refused: each renders as Redis's text for its `errno`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// EINVAL
    Syntax,
    /// ENOENT
    UnknownCommand,
    /// EEXIST
    KeyAfterAll,
    /// EISDIR
    ChannelAfterAll,
    /// ENODEV
    NoSuchPassword,
    /// EBADMSG
    BadHash,
    /// ECHILD
    FirstArgOfSubcommand,
}

impl RuleError {
    /// Redis's `ACLSetUserStringError` text.
    pub fn text(self) -> &'static str {
        match self {
            RuleError::Syntax => "Syntax error",
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::KeyAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::ChannelAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// C's `isspace`, and NUL: what patterns and user names may not hold.
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter()
        .any(|&b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0))
}

/// The SHA-256 of a password, in lower-case hex, as users keep them.
pub fn hash_password(clear: &[u8]) -> [u8; 64] {
    let digest = Sha256::digest(clear);
    let mut hex = [0u8; 64];
    for (i, b) in digest.iter().enumerate() {
        hex[i * 2] = b"0123456789abcdef"[(b >> 4) as usize];
        hex[i * 2 + 1] = b"0123456789abcdef"[(b & 15) as usize];
    }
    hex
}

fn valid_hash(h: &[u8]) -> Option<[u8; 64]> {
    let h: [u8; 64] = h.try_into().ok()?;
    h.iter()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        .then_some(h)
}

fn eq(op: &[u8], word: &str) -> bool {
    op.eq_ignore_ascii_case(word.as_bytes())
}

impl Selector {
    /// An empty selector: no commands, no keys; every channel when
    /// `acl-pubsub-default` is `allchannels`.
    pub fn new(pubsub_all: bool) -> Selector {
        Selector {
            allkeys: false,
            allchannels: pubsub_all,
            allcommands: false,
            future: false,
            allowed: vec![0; index::bits().div_ceil(64)].into_boxed_slice(),
            firstargs: Vec::new(),
            keys: Vec::new(),
            channels: Vec::new(),
        }
    }

    /// Whether command bit `bit` is set (not counting `allcommands`).
    #[inline]
    pub(crate) fn bit(&self, bit: usize) -> bool {
        self.allowed
            .get(bit / 64)
            .is_some_and(|w| w & (1 << (bit % 64)) != 0)
    }

    fn set_bit(&mut self, bit: usize, on: bool) {
        if let Some(w) = self.allowed.get_mut(bit / 64) {
            if on {
                *w |= 1 << (bit % 64);
            } else {
                *w &= !(1 << (bit % 64));
                self.allcommands = false;
            }
        }
    }

    /// Allows or denies a command, and every subcommand of a container
    /// (Redis's `ACLChangeSelectorPerm`).
    pub(crate) fn change(&mut self, bit: usize, on: bool) {
        self.set_bit(bit, on);
        self.firstargs.retain(|(b, _)| *b != bit);
        let subs = index().entries[bit].subs;
        for s in bit + 1..=bit + subs {
            self.set_bit(s, on);
        }
    }

    /// `+@category` / `-@category` (the category by bit).
    pub(crate) fn set_category(&mut self, cat: u32, on: bool) {
        let entries = &index().entries;
        let mut bit = 0;
        while bit < entries.len() {
            let e = &entries[bit];
            if e.cats & cat != 0 {
                self.change(bit, on);
            }
            for (s, sub) in entries.iter().enumerate().skip(bit + 1).take(e.subs) {
                if sub.cats & cat != 0 {
                    self.change(s, on);
                }
            }
            bit += 1 + e.subs;
        }
    }

    fn all_commands(&mut self, on: bool) {
        let fill = if on { u64::MAX } else { 0 };
        self.allowed.iter_mut().for_each(|w| *w = fill);
        self.allcommands = on;
        self.future = on;
        self.firstargs.clear();
    }

    /// The first arguments allowed of command `bit`.
    pub(crate) fn firstargs_of(&self, bit: usize) -> &[Vec<u8>] {
        self.firstargs
            .iter()
            .find(|(b, _)| *b == bit)
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// Applies one selector rule (Redis's `ACLSetSelector`).
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let first = op.first().copied().unwrap_or(0);
        let second = op.get(1).copied().unwrap_or(0);
        if eq(op, "allkeys") || op == b"~*" {
            self.allkeys = true;
            self.keys.clear();
        } else if eq(op, "resetkeys") {
            self.allkeys = false;
            self.keys.clear();
        } else if eq(op, "allchannels") || op == b"&*" {
            self.allchannels = true;
            self.channels.clear();
        } else if eq(op, "resetchannels") {
            self.allchannels = false;
            self.channels.clear();
        } else if eq(op, "allcommands") || eq(op, "+@all") {
            self.all_commands(true);
        } else if eq(op, "nocommands") || eq(op, "-@all") {
            self.all_commands(false);
        } else if first == b'~' || first == b'%' {
            if self.allkeys {
                return Err(RuleError::KeyAfterAll);
            }
            let (flags, offset) = if first == b'%' {
                let mut flags = 0;
                let mut offset = 1;
                while offset < op.len() {
                    match op[offset] {
                        b'R' | b'r' if flags & READ == 0 => flags |= READ,
                        b'W' | b'w' if flags & WRITE == 0 => flags |= WRITE,
                        b'~' => {
                            offset += 1;
                            break;
                        }
                        _ => return Err(RuleError::Syntax),
                    }
                    offset += 1;
                }
                // Redis 7.0.15 takes a bare `%` and then panics describing
                // a pattern with no access; later versions refuse it.
                if flags == 0 {
                    return Err(RuleError::Syntax);
                }
                (flags, offset)
            } else {
                (READ | WRITE, 1)
            };
            let pattern = &op[offset..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            match self.keys.iter_mut().find(|k| k.pattern == pattern) {
                Some(k) => k.flags |= flags,
                None => self.keys.push(KeyPattern::new(flags, pattern)),
            }
            self.allkeys = false;
        } else if first == b'&' {
            if self.allchannels {
                return Err(RuleError::ChannelAfterAll);
            }
            let pattern = &op[1..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
            self.allchannels = false;
        } else if first == b'+' && second != b'@' {
            let name = &op[1..];
            match name.iter().rposition(|&b| b == b'|') {
                None => {
                    let bit = index::lookup(name).ok_or(RuleError::UnknownCommand)?;
                    self.change(bit, true);
                }
                Some(bar) => {
                    let (cmd, sub) = (&name[..bar], &name[bar + 1..]);
                    let bit = index::lookup(cmd).ok_or(RuleError::UnknownCommand)?;
                    let e = &index().entries[bit];
                    if e.parent.is_some() {
                        return Err(RuleError::FirstArgOfSubcommand);
                    }
                    if sub.is_empty() {
                        return Err(RuleError::Syntax);
                    }
                    if e.subs > 0 {
                        let bit = index::lookup(name).ok_or(RuleError::UnknownCommand)?;
                        self.change(bit, true);
                    } else {
                        self.add_firstarg(bit, sub);
                    }
                }
            }
        } else if first == b'-' && second != b'@' {
            let bit = index::lookup(&op[1..]).ok_or(RuleError::UnknownCommand)?;
            self.change(bit, false);
        } else if (first == b'+' || first == b'-') && second == b'@' {
            let cat = crate::cmd::cat::by_name(&op[2..]);
            if cat == 0 {
                return Err(RuleError::UnknownCommand);
            }
            self.set_category(cat, first == b'+');
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    fn add_firstarg(&mut self, bit: usize, sub: &[u8]) {
        // Redis keeps the argument as a C string.
        let sub = sub.split(|&b| b == 0).next().unwrap_or_default();
        match self.firstargs.iter_mut().find(|(b, _)| *b == bit) {
            Some((_, v)) => {
                if !v.iter().any(|s| s.eq_ignore_ascii_case(sub)) {
                    v.push(sub.to_vec());
                }
            }
            None => self.firstargs.push((bit, vec![sub.to_vec()])),
        }
    }
}

/// A user: whether it may log in, how, and its selectors.
#[derive(Clone, Debug)]
pub struct User {
    /// The name (no spaces, no NUL).
    pub name: Vec<u8>,
    /// `on`: may authenticate.
    pub enabled: bool,
    /// `nopass`: every password works.
    pub nopass: bool,
    /// `sanitize-payload` (Some(true)) or `skip-sanitize-payload`
    /// (Some(false)); neither until one is given.
    pub sanitize: Option<bool>,
    /// SHA-256 hex of each password, in the order added.
    pub passwords: Vec<[u8; 64]>,
    /// The root selector first, then the `(...)` ones.
    pub selectors: Vec<Selector>,
}

impl User {
    /// A new user as `ACL SETUSER name` makes it: off, no passwords, no
    /// permissions.
    pub fn new(name: &[u8], pubsub_all: bool) -> User {
        User {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            sanitize: None,
            passwords: Vec::new(),
            selectors: vec![Selector::new(pubsub_all)],
        }
    }

    /// True when some selector allows every command on every key and
    /// channel: no command of this user can be refused.
    pub fn allows_everything(&self) -> bool {
        self.selectors
            .iter()
            .any(|s| s.allcommands && s.allkeys && s.allchannels)
    }

    /// The `default` user of a fresh server: `on nopass ~* &* +@all`.
    pub fn default_user() -> User {
        let mut u = User::new(b"default", false);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            let applied = u.apply(op.as_bytes(), false);
            debug_assert!(applied.is_ok());
        }
        u
    }

    /// The root selector.
    pub fn root(&self) -> &Selector {
        &self.selectors[0]
    }

    /// Whether `password` lets this user in (it must be `on`).
    pub fn accepts(&self, password: &[u8]) -> bool {
        if !self.enabled {
            return false;
        }
        if self.nopass {
            return true;
        }
        let hashed = hash_password(password);
        // Compared without an early exit, so timing reveals nothing.
        self.passwords.iter().fold(false, |ok, p| {
            ok | (p.iter().zip(&hashed).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0)
        })
    }

    /// Applies one user rule (Redis's `ACLSetUser`); selector rules apply
    /// to the root selector. `pubsub_all` is `acl-pubsub-default`.
    pub fn apply(&mut self, op: &[u8], pubsub_all: bool) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let first = op[0];
        if eq(op, "on") {
            self.enabled = true;
        } else if eq(op, "off") {
            self.enabled = false;
        } else if eq(op, "skip-sanitize-payload") {
            self.sanitize = Some(false);
        } else if eq(op, "sanitize-payload") {
            self.sanitize = Some(true);
        } else if eq(op, "nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if eq(op, "resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if first == b'>' || first == b'#' {
            let hash = if first == b'>' {
                hash_password(&op[1..])
            } else {
                valid_hash(&op[1..]).ok_or(RuleError::BadHash)?
            };
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.nopass = false;
        } else if first == b'<' || first == b'!' {
            let hash = if first == b'<' {
                hash_password(&op[1..])
            } else {
                valid_hash(&op[1..]).ok_or(RuleError::BadHash)?
            };
            let at = self
                .passwords
                .iter()
                .position(|p| *p == hash)
                .ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(at);
        } else if first == b'(' && op[op.len() - 1] == b')' {
            let mut s = Selector::new(pubsub_all);
            // Redis splits the inside as it splits a command line; one
            // that does not split (an open quote) makes an empty selector.
            for rule in
                crate::util::split_args::split_args(&op[1..op.len() - 1]).unwrap_or_default()
            {
                s.apply(&rule)?;
            }
            self.selectors.push(s);
        } else if eq(op, "clearselectors") {
            self.selectors.truncate(1);
        } else if eq(op, "reset") {
            self.nopass = false;
            self.passwords.clear();
            let root = &mut self.selectors[0];
            root.allkeys = false;
            root.keys.clear();
            root.allchannels = pubsub_all;
            root.channels.clear();
            self.enabled = false;
            self.sanitize = Some(true);
            self.selectors.truncate(1);
            self.selectors[0].all_commands(false);
        } else {
            self.selectors[0].apply(op)?;
        }
        Ok(())
    }

    /// Applies the rules of ACL SETUSER to a copy and returns it: all of
    /// them or none. The error is Redis's reply text (without `ERR `).
    pub fn with_rules(&self, rules: &[&[u8]], pubsub_all: bool) -> Result<User, Vec<u8>> {
        let merged = merge_selectors(rules).map_err(|start| {
            let mut e = b"Unmatched parenthesis in acl selector starting at '".to_vec();
            e.extend_from_slice(c_str(rules[start]));
            e.extend_from_slice(b"'.");
            e
        })?;
        let mut u = self.clone();
        for op in &merged {
            if let Err(err) = u.apply(op, pubsub_all) {
                let mut e = b"Error in ACL SETUSER modifier '".to_vec();
                e.extend_from_slice(c_str(op));
                e.extend_from_slice(b"': ");
                e.extend_from_slice(err.text().as_bytes());
                return Err(e);
            }
        }
        Ok(u)
    }
}

/// The bytes C's `%s` shows: up to the first NUL.
fn c_str(s: &[u8]) -> &[u8] {
    s.split(|&b| b == 0).next().unwrap_or_default()
}

/// Joins the arguments of a selector given in several arguments (`(~x`
/// `+get)`) with spaces, as Redis's `ACLMergeSelectorArguments`; the error
/// is the index of an argument that opens a selector never closed.
pub fn merge_selectors<'a>(rules: &[&'a [u8]]) -> Result<Vec<Cow<'a, [u8]>>, usize> {
    let mut out = Vec::with_capacity(rules.len());
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, &op) in rules.iter().enumerate() {
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((j, op.to_vec()));
            continue;
        }
        if let Some((_, sel)) = open.as_mut() {
            sel.push(b' ');
            sel.extend_from_slice(op);
            if op.last() == Some(&b')') {
                let (_, sel) = open.take().unwrap_or_default();
                out.push(Cow::Owned(sel));
            }
            continue;
        }
        out.push(Cow::Borrowed(op));
    }
    match open {
        Some((start, _)) => Err(start),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Prefix patterns take a shortcut that must agree with the glob
        /// matcher on every key.
        #[test]
        fn key_patterns_match_as_the_glob_matcher_does(
            pattern in "[ab:*?\\[\\]\\\\]{0,6}",
            key in "[ab:*?\\[\\]]{0,8}",
        ) {
            let p = KeyPattern::new(READ, pattern.as_bytes());
            prop_assert_eq!(
                p.matches(key.as_bytes()),
                crate::util::glob::glob_match(pattern.as_bytes(), key.as_bytes(), false)
            );
        }
    }

    fn user(rules: &[&str]) -> Result<User, String> {
        let rules: Vec<&[u8]> = rules.iter().map(|r| r.as_bytes()).collect();
        User::new(b"u", false)
            .with_rules(&rules, false)
            .map_err(|e| String::from_utf8_lossy(&e).into_owned())
    }

    #[test]
    fn passwords_are_kept_as_sha256_hex_once_each() {
        let u = user(&[">pw", ">pw", "on"]).unwrap();
        assert_eq!(u.passwords.len(), 1);
        assert_eq!(
            &u.passwords[0][..],
            b"30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4"
        );
        assert!(u.accepts(b"pw"));
        assert!(!u.accepts(b"other"));
        let u = user(&[
            "#30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4",
            "<pw",
        ])
        .unwrap();
        assert!(u.passwords.is_empty());
    }

    #[test]
    fn bad_rules_name_the_modifier_and_redis_reason() {
        assert_eq!(
            user(&["+nosuch"]).unwrap_err(),
            "Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"
        );
        assert_eq!(
            user(&["bogus"]).unwrap_err(),
            "Error in ACL SETUSER modifier 'bogus': Syntax error"
        );
        assert!(user(&["~*", "~x"]).unwrap_err().contains("'allkeys' flag"));
        assert!(user(&["&*", "&x"])
            .unwrap_err()
            .contains("'allchannels' flag"));
        assert!(user(&["<nope"]).unwrap_err().ends_with("does not exist"));
        assert!(user(&["#abc"])
            .unwrap_err()
            .ends_with("hexadecimal characters"));
        assert!(user(&["+config|get|x"])
            .unwrap_err()
            .ends_with("not supported"));
        assert!(user(&["+select|"]).unwrap_err().ends_with("Syntax error"));
        assert!(user(&["%X~k"]).unwrap_err().ends_with("Syntax error"));
        assert!(user(&["%~k"]).unwrap_err().ends_with("Syntax error"));
        assert_eq!(
            user(&["(~x", "+get"]).unwrap_err(),
            "Unmatched parenthesis in acl selector starting at '(~x'."
        );
        assert_eq!(
            user(&["(~x on)"]).unwrap_err(),
            "Error in ACL SETUSER modifier '(~x on)': Syntax error"
        );
    }

    #[test]
    fn key_patterns_merge_their_access() {
        let u = user(&["%R~k", "%W~k", "%RW~j"]).unwrap();
        let keys = &u.root().keys;
        assert_eq!(keys[0].flags, READ | WRITE);
        assert_eq!(keys[1].flags, READ | WRITE);
    }

    #[test]
    fn selectors_split_like_a_command_line() {
        let u = user(&["(~a \"&b c\")"]).unwrap_err();
        assert!(u.ends_with("Syntax error"), "{u}");
        // An unbalanced quote makes an empty selector, as in Redis.
        let u = user(&["(~a \"x)"]).unwrap();
        assert_eq!(u.selectors.len(), 2);
        assert!(u.selectors[1].keys.is_empty());
    }

    #[test]
    fn minus_command_clears_allcommands_but_not_the_future_bit() {
        let u = user(&["+@all", "-get"]).unwrap();
        assert!(!u.root().allcommands);
        assert!(u.root().future);
    }
}
