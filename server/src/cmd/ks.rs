//! Key specifications, as Redis 7.0 declares them for each command: where
//! its keys are in the arguments and how it uses them.
//!
//! A row of the command table carries its key specs (`key_specs: &[...]`),
//! written with [`spec`]:
//!
//! ```
//! use soquete_server::cmd::ks::{self, spec, Index, Keynum, Range};
//! // GET key: one key at index 1, read.
//! let get = spec(ks::RO | ks::ACCESS, Index(1), Range(0, 1, 0));
//! // ZUNION numkeys key [key ...]: the count at index 1, keys after it.
//! let zunion = spec(ks::RO | ks::ACCESS, Index(1), Keynum(0, 1, 1));
//! assert_eq!(ks::legacy_range(&[get]), (1, 1, 1, false));
//! assert_eq!(ks::legacy_range(&[zunion]), (0, 0, 0, true));
//! ```
//!
//! COMMAND INFO shows them as they are, derives the legacy
//! `first/last/step` triple and the `movablekeys` flag from them
//! ([`legacy_range`], Redis's `populateCommandLegacyRangeSpec`), and
//! COMMAND GETKEYS / GETKEYSANDFLAGS search arguments with them
//! ([`get_keys`], Redis's `getKeysFromCommandWithSpecs`).

use crate::cmd::Spec;

/// Read-only access to the key's value.
pub const RO: u16 = 1 << 0;
/// Read and write.
pub const RW: u16 = 1 << 1;
/// Overwrite: the value is replaced without being read.
pub const OW: u16 = 1 << 2;
/// Removes the key.
pub const RM: u16 = 1 << 3;
/// Returns, copies or uses the user data of the value.
pub const ACCESS: u16 = 1 << 4;
/// Updates data in the value (a new value may be set).
pub const UPDATE: u16 = 1 << 5;
/// Adds data to the value, nothing removed.
pub const INSERT: u16 = 1 << 6;
/// Removes data from the value.
pub const DELETE: u16 = 1 << 7;
/// The argument is not a key (a shard channel) though it hashes like one.
pub const NOT_KEY: u16 = 1 << 8;
/// The spec may not find every key.
pub const INCOMPLETE: u16 = 1 << 9;
/// The flags depend on other arguments (SET's GET option).
pub const VARIABLE_FLAGS: u16 = 1 << 10;

/// Flag names in Redis's order, as COMMAND INFO and GETKEYSANDFLAGS show
/// them.
pub const NAMES: &[(u16, &str)] = &[
    (RO, "RO"),
    (RW, "RW"),
    (OW, "OW"),
    (RM, "RM"),
    (ACCESS, "access"),
    (UPDATE, "update"),
    (INSERT, "insert"),
    (DELETE, "delete"),
    (NOT_KEY, "not_key"),
    (INCOMPLETE, "incomplete"),
    (VARIABLE_FLAGS, "variable_flags"),
];

/// Where the search for keys begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Begin {
    /// At this argument index.
    Index(i32),
    /// After this keyword (case-insensitive), searched from `startfrom`
    /// (negative: from the end, backwards).
    Keyword(&'static str, i32),
    /// Not expressible.
    Unknown,
}

/// How keys are found from where the search began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Find {
    /// `(lastkey, keystep, limit)`: keys up to `lastkey` relative to the
    /// start (negative: from the end), every `keystep`; a `limit` other
    /// than 0 with `lastkey` -1 keeps 1/limit of the remaining arguments.
    Range(i32, i32, i32),
    /// `(keynumidx, firstkey, keystep)`: the count of keys is at
    /// `keynumidx` from the start, the first key at `firstkey` from it.
    Keynum(i32, i32, i32),
    /// Not expressible.
    Unknown,
}

pub use Begin::{Index, Keyword};
pub use Find::{Keynum, Range};

/// One key specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySpec {
    /// Redis's note on the spec, if it has one.
    pub notes: Option<&'static str>,
    /// [`RO`], [`RW`]... bits.
    pub flags: u16,
    /// Where the search begins.
    pub begin: Begin,
    /// How keys are found.
    pub find: Find,
}

/// A key spec without notes.
pub const fn spec(flags: u16, begin: Begin, find: Find) -> KeySpec {
    KeySpec {
        notes: None,
        flags,
        begin,
        find,
    }
}

/// The most common spec: one key at argument `pos`.
pub const fn key(flags: u16, pos: i32) -> KeySpec {
    spec(flags, Index(pos), Range(0, 1, 0))
}

impl KeySpec {
    /// The same spec with Redis's note.
    pub const fn notes(self, notes: &'static str) -> KeySpec {
        KeySpec {
            notes: Some(notes),
            ..self
        }
    }
}

/// The legacy `(first, last, step)` COMMAND INFO shows, and whether the
/// command has movable keys, derived from its key specs as Redis's
/// `populateCommandLegacyRangeSpec` does: consecutive index/range specs of
/// step 1 glue into one range (a single one keeps its step); any other
/// spec, or an incomplete one, makes the keys movable.
pub fn legacy_range(specs: &[KeySpec]) -> (i32, i32, i32, bool) {
    match specs {
        [] => return (0, 0, 0, false),
        [s] => {
            if let (Index(pos), Range(last, step, _)) = (s.begin, s.find) {
                let last = if last >= 0 { last + pos } else { last };
                return (pos, last, step, s.flags & INCOMPLETE != 0);
            }
        }
        _ => {}
    }
    let mut movable = false;
    let (mut first, mut last, mut prev_last) = (i32::MAX, 0i32, 0i32);
    for s in specs {
        let (Index(pos), Range(lastkey, step, _)) = (s.begin, s.find) else {
            movable = true;
            continue;
        };
        if step != 1 || (prev_last != 0 && prev_last != pos - 1) {
            movable = true;
            continue;
        }
        if s.flags & INCOMPLETE != 0 {
            movable = true;
        }
        first = first.min(pos);
        let abs = if lastkey >= 0 { lastkey + pos } else { lastkey };
        // Redis compares as unsigned: a negative (from the end) wins.
        last = (last as u32).max(abs as u32) as i32;
        prev_last = last;
    }
    if first == i32::MAX {
        return (0, 0, 0, true);
    }
    (first, last, 1, movable)
}

/// True when some spec finds real keys (Redis's `doesCommandHaveKeys`).
pub fn has_keys(specs: &[KeySpec]) -> bool {
    specs.iter().any(|s| s.flags & NOT_KEY == 0)
}

/// The bytes C code sees of an argument: up to its first NUL.
fn c_str(arg: &[u8]) -> &[u8] {
    arg.iter()
        .position(|&b| b == 0)
        .map_or(arg, |end| &arg[..end])
}

/// C's `atoi` (as glibc: `(int)strtol(s, NULL, 10)`): leading white
/// space, a sign, digits up to the first other byte; saturating at the
/// `long` range, then truncated to `int`.
pub(crate) fn atoi(arg: &[u8]) -> i32 {
    let s = c_str(arg);
    let mut i = s
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .unwrap_or(s.len());
    let negative = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut n: i64 = 0;
    for &b in s[i..].iter().take_while(|b| b.is_ascii_digit()) {
        let d = i64::from(b - b'0');
        n = if negative {
            n.saturating_mul(10).saturating_sub(d)
        } else {
            n.saturating_mul(10).saturating_add(d)
        };
    }
    n as i32
}

/// Key positions (indices into `argv`, the command name at 0) and their
/// flags.
pub type KeyRefs = Vec<(usize, u16)>;

/// Redis's `getKeysUsingKeySpecs`: `None` where a spec does not fit the
/// arguments (a bad key count, a range past the end, an incomplete spec).
#[cfg(test)]
fn using_specs(specs: &[KeySpec], argv: &[&[u8]]) -> Option<KeyRefs> {
    let mut keys = Vec::new();
    using_specs_into(specs, argv, &mut keys).then_some(keys)
}

/// [`using_specs`] into `keys` (cleared first): false where it gives `None`.
fn using_specs_into(specs: &[KeySpec], argv: &[&[u8]], keys: &mut KeyRefs) -> bool {
    let argc = argv.len() as i32;
    keys.clear();
    let keys_ok = (|| -> Option<()> {
        for s in specs.iter().filter(|s| s.flags & NOT_KEY == 0) {
            let mut first = match s.begin {
                Index(pos) => pos,
                Keyword(word, from) => {
                    // Redis stops one short of the far end in both directions.
                    let is_word =
                        |i: &i32| c_str(argv[*i as usize]).eq_ignore_ascii_case(word.as_bytes());
                    let found = if from > 0 {
                        (from.max(1)..argc - 1).find(is_word)
                    } else if from < 0 {
                        (2..=argc + from).rev().find(is_word)
                    } else {
                        None
                    };
                    match found {
                        Some(i) => i + 1,
                        None => continue,
                    }
                }
                Begin::Unknown => return None,
            };
            let (last, step) = match s.find {
                Range(lastkey, step, limit) => {
                    let last = if lastkey >= 0 {
                        first.wrapping_add(lastkey)
                    } else if limit == 0 {
                        argc + lastkey
                    } else {
                        first + ((argc - first) / limit + lastkey)
                    };
                    (last, step)
                }
                Keynum(idx, firstkey, step) => {
                    if idx >= argc {
                        return None;
                    }
                    let count = argv.get(usize::try_from(first + idx).ok()?)?;
                    let n = crate::util::num::parse_i64(count).filter(|&n| n >= 0)?;
                    first += firstkey;
                    (first.wrapping_add(n as i32).wrapping_sub(1), step)
                }
                Find::Unknown => return None,
            };
            if last >= argc || last < first || first >= argc {
                return None;
            }
            let mut i = first;
            while i <= last {
                keys.push((i as usize, s.flags));
                i += step.max(1);
            }
            if s.flags & INCOMPLETE != 0 {
                return None;
            }
        }
        Some(())
    })();
    keys_ok.is_some()
}

/// Redis's `genericGetKeys`, the key finder behind every command whose
/// specs count keys (`numkeys`): Redis falls back to it when the specs do
/// not fit. It reads the count with `atoi` and puts the destination key,
/// if any, last, with no flags.
fn counted(specs: &[KeySpec], argv: &[&[u8]]) -> KeyRefs {
    let mut store = None;
    for s in specs {
        match (s.begin, s.find) {
            (Index(pos), Range(0, _, _)) => store = Some(pos as usize),
            (Index(pos), Keynum(idx, firstkey, step)) => {
                let count_at = (pos + idx) as usize;
                let first = count_at + firstkey as usize;
                let step = step.max(1) as usize;
                let num = argv.get(count_at).map_or(0, |a| atoi(a));
                if num < 1 || num as usize > argv.len().saturating_sub(first) / step {
                    return Vec::new();
                }
                let mut keys: KeyRefs = (0..num as usize).map(|i| (first + i * step, 0)).collect();
                keys.extend(store.map(|p| (p, 0)));
                return keys;
            }
            _ => {}
        }
    }
    Vec::new()
}

/// Redis's `bitfieldGetKeys`: BITFIELD's key is only read when every
/// operation is a GET (with OVERFLOW between), up to the first that is not.
fn bitfield_key(argv: &[&[u8]]) -> (usize, u16) {
    let mut i = 2;
    let mut readonly = true;
    while i < argv.len() {
        let left = argv.len() - i - 1;
        let arg = c_str(argv[i]);
        if arg.eq_ignore_ascii_case(b"get") && left >= 2 {
            i += 3;
        } else if arg.eq_ignore_ascii_case(b"overflow") && left >= 1 {
            i += 2;
        } else {
            // SET, INCRBY, or a syntax error: assumed to write.
            readonly = false;
            break;
        }
    }
    if readonly {
        (1, RO | ACCESS)
    } else {
        (1, RW | ACCESS | UPDATE)
    }
}

/// Redis's `setGetKeys`: SET's key is read and written with GET, only
/// overwritten without.
fn set_key(argv: &[&[u8]]) -> (usize, u16) {
    let get = argv
        .iter()
        .skip(3)
        .any(|a| c_str(a).eq_ignore_ascii_case(b"get"));
    (
        1,
        if get {
            RW | ACCESS | UPDATE
        } else {
            OW | UPDATE
        },
    )
}

/// The keys of `spec` called with `argv` (name first, the subcommand
/// name second for a subcommand), as COMMAND GETKEYS finds them: through
/// the key specs, else through the command's own key finder as Redis
/// falls back to it. Empty when the arguments do not say where keys are.
pub fn get_keys(spec: &Spec, argv: &[&[u8]]) -> KeyRefs {
    let mut keys = Vec::new();
    get_keys_into(spec, argv, &mut keys);
    keys
}

/// [`get_keys`] into `out` (cleared first): no allocation once `out` has
/// room, in the common case where the key specs fit the arguments.
pub fn get_keys_into(spec: &Spec, argv: &[&[u8]], out: &mut KeyRefs) {
    let specs = spec.key_specs;
    // The most common shape, one key at a fixed place (GET, INCR, HSET):
    // what the general walk below finds, found directly.
    if let [KeySpec {
        flags,
        begin: Index(pos),
        find: Range(0, _, _),
        ..
    }] = specs
    {
        if flags & (NOT_KEY | VARIABLE_FLAGS) == 0 && *pos > 0 && (*pos as usize) < argv.len() {
            out.clear();
            out.push((*pos as usize, *flags));
            return;
        }
    }
    let variable = specs.iter().any(|s| s.flags & VARIABLE_FLAGS != 0);
    if has_keys(specs) && !variable && using_specs_into(specs, argv, out) {
        return;
    }
    out.clear();
    if variable && spec.name == "set" {
        out.push(set_key(argv));
    } else if variable && spec.name == "bitfield" {
        out.push(bitfield_key(argv));
    } else if spec.name == "sort" {
        // Redis's sortGetKeys and sortROGetKeys, behind their unknown specs.
        *out = crate::cmd::sort::getkeys(argv);
    } else if spec.name == "sort_ro" {
        out.push((1, RO | ACCESS));
    } else if spec.name == "migrate" {
        // Redis's migrateGetKeys, behind MIGRATE's incomplete KEYS spec.
        let (first, n) = crate::cmd::migrate::key_range(argv);
        out.extend((first..first + n).map(|i| (i, RW | ACCESS | DELETE)));
    } else {
        *out = counted(specs, argv);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<&[u8]> {
        s.split(' ').map(str::as_bytes).collect()
    }

    #[test]
    fn legacy_range_glues_consecutive_ranges() {
        let one = |pos| spec(RW, Index(pos), Range(0, 1, 0));
        assert_eq!(legacy_range(&[one(1), one(2)]), (1, 2, 1, false));
        let rest = spec(RO, Index(2), Range(-1, 1, 0));
        assert_eq!(legacy_range(&[one(1), rest]), (1, -1, 1, false));
        let mset = spec(OW, Index(1), Range(-1, 2, 0));
        assert_eq!(legacy_range(&[mset]), (1, -1, 2, false));
        let count = spec(RO, Index(2), Keynum(0, 1, 1));
        assert_eq!(legacy_range(&[one(1), count]), (1, 1, 1, true));
    }

    /// The one-key shortcut of `get_keys_into` finds what the general walk
    /// over the key specs finds, for every command of the table.
    #[test]
    fn single_key_shortcut_agrees_with_the_spec_walk() {
        let args: Vec<Vec<u8>> = (0..6).map(|i| format!("a{i}").into_bytes()).collect();
        let mut checked = 0;
        for top in crate::cmd::table::commands() {
            for spec in std::iter::once(*top).chain(top.subcommands.iter()) {
                if !matches!(
                    spec.key_specs,
                    [KeySpec {
                        begin: Index(_),
                        find: Range(0, _, _),
                        ..
                    }]
                ) {
                    continue;
                }
                for argc in 1..=args.len() {
                    let argv: Vec<&[u8]> = args[..argc].iter().map(Vec::as_slice).collect();
                    let mut fast = Vec::new();
                    get_keys_into(spec, &argv, &mut fast);
                    let mut walked = Vec::new();
                    if using_specs_into(spec.key_specs, &argv, &mut walked)
                        && spec.key_specs[0].flags & VARIABLE_FLAGS == 0
                    {
                        assert_eq!(fast, walked, "{} with {argc} arguments", spec.name);
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 100, "only {checked} cases");
    }

    #[test]
    fn atoi_reads_like_c() {
        assert_eq!(atoi(b"2abc"), 2);
        assert_eq!(atoi(b" \t-3"), -3);
        assert_eq!(atoi(b"+4"), 4);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b"4294967298"), 2);
        assert_eq!(atoi(b"99999999999999999999999"), -1);
        assert_eq!(atoi(b"5\x007"), 5);
    }

    #[test]
    fn keynum_specs_count_keys_and_reject_bad_counts() {
        let specs = [
            spec(OW | UPDATE, Index(1), Range(0, 1, 0)),
            spec(RO | ACCESS, Index(2), Keynum(0, 1, 1)),
        ];
        let a = argv("zunionstore d 2 a b WEIGHTS 1 2");
        assert_eq!(
            using_specs(&specs, &a),
            Some(vec![(1, OW | UPDATE), (3, RO | ACCESS), (4, RO | ACCESS)])
        );
        assert_eq!(using_specs(&specs, &argv("zunionstore d 3 a b")), None);
        assert_eq!(using_specs(&specs, &argv("zunionstore d -1 a b")), None);
        assert_eq!(using_specs(&specs, &argv("zunionstore d 2a a b")), None);
        // Redis's fallback reads "2a" as 2 and puts the destination last.
        assert_eq!(
            counted(&specs, &argv("zunionstore d 2a a b")),
            vec![(3, 0), (4, 0), (1, 0)]
        );
        assert_eq!(counted(&specs, &argv("zunionstore d 3 a b")), vec![]);
    }

    #[test]
    fn huge_key_counts_wrap_as_in_c_and_never_panic() {
        let specs = [spec(RO, Index(1), Keynum(0, 1, 1))];
        for n in [
            "2147483647",
            "2147483648",
            "4294967297",
            "9223372036854775807",
        ] {
            let line = format!("zunion {n} a");
            let a = argv(&line);
            let _ = using_specs(&specs, &a);
            let _ = counted(&specs, &a);
        }
        assert_eq!(
            using_specs(&specs, &argv("zunion 4294967297 a")),
            Some(vec![(2, RO)])
        );
    }

    #[test]
    fn keyword_specs_search_from_either_end() {
        let fwd = [spec(RO, Keyword("STREAMS", 1), Range(-1, 1, 2))];
        assert_eq!(
            using_specs(&fwd, &argv("xread count 1 streams a b 0 0")),
            Some(vec![(4, RO), (5, RO)])
        );
        let back = [spec(RW, Keyword("KEYS", -2), Range(-1, 1, 0))];
        assert_eq!(
            using_specs(&back, &argv("migrate h p \"\" 0 5 keys a b")),
            Some(vec![(7, RW), (8, RW)])
        );
        assert_eq!(using_specs(&back, &argv("migrate h p k 0 5")), Some(vec![]));
    }
}
