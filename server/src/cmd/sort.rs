//! SORT and SORT_RO (Redis's `sort.c`).
//!
//! `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
//! [ALPHA] [STORE destination]` sorts a list, set or sorted set by its
//! elements, or by values found in other keys through patterns, and
//! replies with the elements (or values fetched through GET patterns), or
//! stores them as a list.
//!
//! # What Redis does, and so do we
//!
//! * **Order.** Numeric sorting reads each element (or its BY value) as
//!   `strtod` does, and equal scores are ordered by the elements' bytes,
//!   so a numeric sort is fully determined. ALPHA compares with `strcoll`
//!   in Redis's locale (the environment's `LC_COLLATE`; C and C.UTF-8
//!   collate as `strcmp`, byte order up to the first NUL, which is what
//!   this module does), or with plain byte order (`memcmp`, then length)
//!   when the result is STOREd. ALPHA BY values that are equal, or
//!   missing (they sort first), have no order of their own: Redis sorts
//!   with glibc's `qsort`, a stable merge sort, so they keep the order the
//!   elements were read in (a list's order); with a LIMIT that does not
//!   cover everything and a BY pattern, Redis uses its partial quicksort
//!   (`pqsort.c`, Bentley–McIlroy), which is not stable but is
//!   deterministic, and `util::pqsort` is the same algorithm (shared with the
//!   geo searches), so ties come out
//!   as Redis's do. Elements read from a set's hash table or a sorted
//!   set's dictionary come in an order Redis randomises per process; ties
//!   among those are the one thing that cannot match.
//! * **No sorting.** A BY pattern without `*` skips sorting: a list keeps
//!   its order (reversed by DESC), a sorted set its score order (reversed
//!   by DESC), and LIMIT picks straight from that order; a set comes in
//!   its own order, except that with STORE, or inside a script, it is
//!   sorted ALPHA so that replicas agree (Redis's rule).
//! * **Sorted sets** are converted to the skiplist encoding by any SORT
//!   (Redis's `zsetConvert`), visible in OBJECT ENCODING.
//! * **STORE** writes a list (overwriting any type, dropping any TTL) and
//!   raises `sortstore`, or deletes the destination (`del`) when the
//!   result is empty; GET values that are missing are stored as empty
//!   strings. It is logged to the append-only file as sent, as Redis
//!   propagates it.
//!
//! # Locking
//!
//! A SORT's own keys (the sorted key, the STORE destination) are locked
//! like any command's. BY and GET patterns name keys that are only known
//! once the elements are read, and they may live in any shard, possibly
//! being written by commands on other loops. A SORT call that will look
//! keys up through a pattern (a BY pattern with `*` while sorting, or a
//! GET pattern with `*`) therefore locks **every shard of its database**
//! for its duration ([`reads_patterns`], asked by the lock plan through
//! the `KEY_PATTERNS` flag): it sees one consistent snapshot of all the
//! keys its patterns reach, exactly as in Redis, at the cost of running
//! alone on that database while it runs (commands on other loops wait for
//! it, and it waits for them). A SORT without such patterns (`GET #`,
//! `BY nosort`, plain sorts) locks only its keys. Scripts and MULTI/EXEC
//! use the same plan, so a script's `redis.call('SORT', ..., 'BY', ...)`
//! takes every shard too (Redis 7.0 lets scripts touch undeclared keys).

use super::args;
use super::flags::*;
use super::{cat, ks, lookup_read};
use super::{Ctx, Keys, Spec};
use crate::db::Locked;
use crate::error::{CmdError, CmdResult};
use crate::notify::LIST;
use crate::shared::LoopStats;
use crate::types::list::{End, List};
use crate::util::num::strtod_sort_score;
use crate::util::pqsort::pqsort;
use crate::value::Value;
use std::cmp::Ordering;

/// The bytes C code sees of an argument: up to its first NUL.
fn c_str(a: &[u8]) -> &[u8] {
    memchr::memchr(0, a).map_or(a, |end| &a[..end])
}

/// Redis's `strcasecmp(arg, word)`: the argument ends at its first NUL.
fn kw(a: &[u8], word: &str) -> bool {
    c_str(a).eq_ignore_ascii_case(word.as_bytes())
}

/// Redis's `strchr(pattern, '*')`: a `*` before the first NUL.
fn has_star(pattern: &[u8]) -> bool {
    memchr::memchr(b'*', c_str(pattern)).is_some()
}

/// `GET #`: the element itself (the pattern is `#` as a C string).
fn is_self(pattern: &[u8]) -> bool {
    c_str(pattern) == b"#"
}

/// A SORT call's options, parsed as Redis parses them.
#[derive(Debug, Default, PartialEq)]
struct Options<'a> {
    desc: bool,
    alpha: bool,
    /// LIMIT offset and count, as given (`0, -1` without LIMIT).
    limit: (i64, i64),
    /// The last STORE destination.
    store: Option<&'a [u8]>,
    /// The last BY pattern.
    by: Option<&'a [u8]>,
    /// Some BY pattern had no `*`: nothing is sorted.
    dontsort: bool,
    /// GET patterns, in order.
    gets: Vec<&'a [u8]>,
}

/// Parses the options after the key (`a[2..]`), as Redis's
/// `sortCommandGeneric`: the first error wins (a bad LIMIT number, or a
/// syntax error, STORE counting as one for SORT_RO).
fn parse<'a>(a: &[&'a [u8]], readonly: bool) -> Result<Options<'a>, CmdError> {
    let mut o = Options {
        limit: (0, -1),
        ..Options::default()
    };
    let mut j = 2;
    while j < a.len() {
        let left = a.len() - j - 1;
        let arg = a[j];
        if kw(arg, "asc") {
            o.desc = false;
        } else if kw(arg, "desc") {
            o.desc = true;
        } else if kw(arg, "alpha") {
            o.alpha = true;
        } else if kw(arg, "limit") && left >= 2 {
            o.limit = (args::int(a[j + 1])?, args::int(a[j + 2])?);
            j += 2;
        } else if !readonly && kw(arg, "store") && left >= 1 {
            o.store = Some(a[j + 1]);
            j += 1;
        } else if kw(arg, "by") && left >= 1 {
            o.by = Some(a[j + 1]);
            if !has_star(a[j + 1]) {
                o.dontsort = true;
            }
            j += 1;
        } else if kw(arg, "get") && left >= 1 {
            o.gets.push(a[j + 1]);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// True when this SORT call will look keys up through its patterns (a BY
/// pattern with `*` while sorting, a GET pattern with `*`): the lock plan
/// then takes every shard of the database (see the module docs).
pub fn reads_patterns(argv: &[&[u8]]) -> bool {
    let readonly = argv
        .first()
        .is_some_and(|n| n.eq_ignore_ascii_case(b"sort_ro"));
    match parse(argv, readonly) {
        Ok(o) => {
            (o.by.is_some() && !o.dontsort) || o.gets.iter().any(|g| !is_self(g) && has_star(g))
        }
        Err(_) => false,
    }
}

/// SORT's keys for locking: the sorted key and the STORE destination the
/// handler will write (its last STORE).
fn sort_keys<'x>(argv: &[&'x [u8]], db: usize, out: &mut Vec<(usize, &'x [u8])>) {
    if let Some(k) = argv.get(1) {
        out.push((db, k));
    }
    if let Ok(Options { store: Some(d), .. }) = parse(argv, false) {
        out.push((db, d));
    }
}

/// Redis's `sortGetKeys`, behind COMMAND GETKEYS for SORT: the key, and
/// the argument after the last `STORE` found by skipping LIMIT's, GET's
/// and BY's arguments (without checking anything else).
pub fn getkeys(argv: &[&[u8]]) -> ks::KeyRefs {
    let mut keys = vec![(1, ks::RO | ks::ACCESS)];
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i];
        if kw(a, "limit") {
            i += 2;
        } else if kw(a, "get") || kw(a, "by") {
            i += 1;
        } else if kw(a, "store") && i + 1 < argv.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    keys.extend(store.map(|p| (p, ks::OW | ks::UPDATE)));
    keys
}

/// Where a pattern leads for one element (Redis's `lookupKeyByPattern`).
enum Target<'p> {
    /// `#`: the element itself.
    Element,
    /// Nothing (no `*` in the pattern).
    Nothing,
    /// The key in `buf`, its hash field if any.
    Key { field: Option<&'p [u8]> },
}

/// Builds the key name for `pattern` and `subst` in `buf`: the first `*`
/// (before any NUL) replaced by `subst`, and a `->field` suffix after the
/// `*` split off (when something follows the arrow), as Redis does.
fn expand<'p>(pattern: &'p [u8], subst: &[u8], buf: &mut Vec<u8>) -> Target<'p> {
    if is_self(pattern) {
        return Target::Element;
    }
    let c = c_str(pattern);
    let Some(star) = memchr::memchr(b'*', c) else {
        return Target::Nothing;
    };
    // strstr(p+1, "->") in the C string, with something after the arrow.
    let after = &c[star + 1..];
    let arrow = after
        .windows(2)
        .position(|w| w == b"->")
        .map(|i| star + 1 + i)
        .filter(|&f| c.len() > f + 2);
    let (postfix_end, field) = match arrow {
        Some(f) => (f, Some(&pattern[f + 2..])),
        None => (pattern.len(), None),
    };
    buf.clear();
    buf.extend_from_slice(&pattern[..star]);
    buf.extend_from_slice(subst);
    buf.extend_from_slice(&pattern[star + 1..postfix_end]);
    Target::Key { field }
}

/// Looks up the value `pattern` names for element `elem` and hands it to
/// `f` (`None`: no such key, the wrong type, or no such field). A key
/// lookup counts as a keyspace hit or miss, as Redis's `lookupKeyRead`.
fn with_value<R>(
    ks: &mut Locked<'_>,
    stats: &LoopStats,
    pattern: &[u8],
    elem: &[u8],
    buf: &mut Vec<u8>,
    f: impl FnOnce(Option<&[u8]>) -> R,
) -> R {
    let field = match expand(pattern, elem, buf) {
        Target::Element => return f(Some(elem)),
        Target::Nothing => return f(None),
        Target::Key { field } => field,
    };
    let mut scratch = itoa::Buffer::new();
    let value = lookup_read(ks, stats, buf).map(|e| &e.value);
    let found = match (value, field) {
        (Some(Value::Hash(h)), Some(field)) => h.get(field),
        (Some(v), None) => v.as_bytes(&mut scratch),
        _ => None,
    };
    f(found)
}

/// One element to sort and what it is sorted by.
struct Item {
    obj: Vec<u8>,
    score: f64,
    /// The BY value for ALPHA with a pattern (`None`: missing).
    by: Option<Vec<u8>>,
}

impl Item {
    fn new(obj: Vec<u8>) -> Item {
        Item {
            obj,
            score: 0.0,
            by: None,
        }
    }
}

/// How items compare (Redis's `sortCompare` and its globals).
#[derive(Clone, Copy)]
struct Order {
    desc: bool,
    alpha: bool,
    by_pattern: bool,
    /// STORE: byte order instead of collation.
    store: bool,
}

impl Order {
    fn cmp(self, a: &Item, b: &Item) -> Ordering {
        let o = if !self.alpha {
            match a.score.partial_cmp(&b.score) {
                Some(Ordering::Equal) | None => a.obj.cmp(&b.obj),
                Some(o) => o,
            }
        } else if self.by_pattern {
            match (&a.by, &b.by) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => self.text_cmp(x, y),
            }
        } else {
            self.text_cmp(&a.obj, &b.obj)
        };
        if self.desc {
            o.reverse()
        } else {
            o
        }
    }

    /// `compareStringObjects` (bytes, then length) under STORE, else
    /// `strcoll` in the C locale: bytes up to the first NUL.
    fn text_cmp(self, a: &[u8], b: &[u8]) -> Ordering {
        if self.store {
            a.cmp(b)
        } else {
            c_str(a).cmp(c_str(b))
        }
    }
}

/// Redis's LIMIT arithmetic: the first and last positions (inclusive) of
/// `len` elements to output; `end < start` when there are none.
fn limit_range(offset: i64, count: i64, len: i64) -> (i64, i64) {
    let mut start = offset.max(0).min(len);
    let count = count.max(-1).min(len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    (start, end)
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination]
pub fn sort(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    sort_generic(c, a, false)
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
pub fn sort_ro(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    sort_generic(c, a, true)
}

fn sort_generic(c: &mut Ctx<'_>, a: &[&[u8]], readonly: bool) -> CmdResult {
    let mut o = parse(a, readonly)?;
    let in_script = crate::script::engine::running();
    // Lists and sorted sets read their range straight when nothing is
    // sorted; the LIMIT is then already applied.
    let (mut start, mut end);
    let mut items = {
        let value: Option<&Value> = match lookup_read(&mut c.ks, c.stats, a[1]) {
            None => None,
            Some(e) => {
                match &mut e.value {
                    Value::ZSet(z) => z.make_skiplist(),
                    Value::List(_) | Value::Set(_) => {}
                    _ => return Err(CmdError::WrongType),
                }
                Some(&e.value)
            }
        };
        let is_set = matches!(value, Some(Value::Set(_)));
        if o.dontsort && is_set && (o.store.is_some() || in_script) {
            // Redis sorts a set anyway so that replicas and scripts agree.
            o.dontsort = false;
            o.alpha = true;
            o.by = None;
        }
        let len = match &value {
            None => 0,
            Some(Value::List(l)) => l.len(),
            Some(Value::Set(s)) => s.len(),
            Some(Value::ZSet(z)) => z.len(),
            Some(_) => 0,
        } as i64;
        (start, end) = limit_range(o.limit.0, o.limit.1, len);
        let ranged = o.dontsort && (start != 0 || end != len - 1);
        let take = if ranged { end - start + 1 } else { len }.max(0) as usize;
        let mut items = Vec::with_capacity(take);
        match value {
            None => {}
            Some(Value::List(l)) if o.dontsort && end >= start => {
                let s = start as usize;
                if o.desc {
                    let from_back = l.iter_rev().skip(s).take(take);
                    items.extend(from_back.map(|e| Item::new(e.to_vec())));
                } else {
                    let from_front = l.iter_from(s).take(take);
                    items.extend(from_front.map(|e| Item::new(e.to_vec())));
                }
                end -= start;
                start = 0;
            }
            // Nothing in range, and nothing to sort.
            Some(Value::List(_)) if o.dontsort => {}
            Some(Value::List(l)) => items.extend(l.iter().map(|e| Item::new(e.to_vec()))),
            Some(Value::Set(s)) => items.extend(s.iter().map(|m| Item::new(m.to_vec()))),
            Some(Value::ZSet(z)) if o.dontsort => {
                let rank = if o.desc {
                    z.len() as i64 - 1 - start
                } else {
                    start
                };
                if take > 0 {
                    items.extend(
                        z.iter_from(rank as usize, o.desc)
                            .take(take)
                            .map(|(m, _)| Item::new(m.to_vec())),
                    );
                }
                end -= start;
                start = 0;
            }
            Some(Value::ZSet(z)) => items.extend(z.iter().map(|(m, _)| Item::new(m.to_vec()))),
            Some(_) => {}
        }
        items
    };
    let mut buf = Vec::new();
    let mut bad_score = false;
    if !o.dontsort {
        for it in &mut items {
            let Item { obj, score, by } = it;
            match o.by {
                Some(p) => with_value(&mut c.ks, c.stats, p, obj, &mut buf, |v| {
                    let Some(v) = v else { return };
                    if o.alpha {
                        *by = Some(v.to_vec());
                    } else {
                        match strtod_sort_score(v) {
                            Some(s) => *score = s,
                            None => bad_score = true,
                        }
                    }
                }),
                None if !o.alpha => match strtod_sort_score(obj) {
                    Some(s) => *score = s,
                    None => bad_score = true,
                },
                None => {}
            }
        }
        // After a bad score Redis still sorts, but replies only the
        // error: the order is never seen, so it is not computed.
        if !bad_score {
            let order = Order {
                desc: o.desc,
                alpha: o.alpha,
                by_pattern: o.by.is_some(),
                store: o.store.is_some(),
            };
            let len = items.len() as i64;
            if o.by.is_some() && (start != 0 || end != len - 1) {
                // Nothing is output when `end < start`: the order is not
                // computed then.
                if start <= end {
                    let (lo, hi) = (start as usize, end as usize);
                    pqsort(&mut items, &|x, y| order.cmp(x, y), lo, hi);
                }
            } else {
                items.sort_by(|x, y| order.cmp(x, y));
            }
        }
    }
    if bad_score {
        return Err(CmdError::msg(
            "ERR One or more scores can't be converted into double",
        ));
    }
    let picked = if end >= start {
        &items[start as usize..=end as usize]
    } else {
        &[]
    };
    let per = o.gets.len().max(1);
    let outputlen = picked.len() * per;
    match o.store {
        None => {
            c.out.array(outputlen);
            for it in picked {
                if o.gets.is_empty() {
                    c.out.bulk(&it.obj);
                }
                for g in &o.gets {
                    let out = &mut *c.out;
                    with_value(&mut c.ks, c.stats, g, &it.obj, &mut buf, |v| match v {
                        Some(v) => out.bulk(v),
                        None => out.null(),
                    });
                }
            }
        }
        Some(dst) => {
            let fill = super::list::fill(c);
            let mut list = List::new();
            for it in picked {
                if o.gets.is_empty() {
                    list.push(End::Back, &it.obj, fill);
                }
                for g in &o.gets {
                    with_value(&mut c.ks, c.stats, g, &it.obj, &mut buf, |v| {
                        list.push(End::Back, v.unwrap_or_default(), fill)
                    });
                }
            }
            if outputlen > 0 {
                c.ks.set(dst, Value::List(Box::new(list)), false);
                c.notify(LIST, "sortstore", dst);
                // Redis counts every stored element as a change.
                crate::stats::bump(&c.stats.dirty, outputlen as u64 - 1);
            } else {
                c.delete(dst);
            }
            c.out.int(outputlen as i64);
        }
    }
    Ok(())
}

/// Redis 7.0's key specs for SORT and SORT_RO.
const BY_GET_NOTES: &str = "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort";
const STORE_NOTES: &str = "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array";

/// The rows of this group.
#[rustfmt::skip]
pub static COMMANDS: &[Spec] = &[
    Spec { name: "sort", arity: -2, flags: WRITE | DENYOOM | MOVABLE_KEYS | KEY_PATTERNS, keys: Keys::Custom(sort_keys), group: "generic", handler: sort, acl: cat::SET | cat::SORTEDSET | cat::LIST | cat::DANGEROUS, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1), ks::spec(ks::RO | ks::ACCESS, ks::Begin::Unknown, ks::Find::Unknown).notes(BY_GET_NOTES), ks::spec(ks::OW | ks::UPDATE, ks::Begin::Unknown, ks::Find::Unknown).notes(STORE_NOTES)], tips: &[], subcommands: &[] },
    Spec { name: "sort_ro", arity: -2, flags: READONLY | MOVABLE_KEYS | KEY_PATTERNS, keys: Keys::Range(1, 1, 1), group: "generic", handler: sort_ro, acl: cat::SET | cat::SORTEDSET | cat::LIST | cat::DANGEROUS, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1), ks::spec(ks::RO | ks::ACCESS, ks::Begin::Unknown, ks::Find::Unknown).notes(BY_GET_NOTES)], tips: &[], subcommands: &[] },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<&[u8]> {
        s.split(' ').map(str::as_bytes).collect()
    }

    #[test]
    fn limit_is_clamped_as_redis_clamps_it() {
        assert_eq!(limit_range(0, -1, 7), (0, 6));
        assert_eq!(limit_range(2, 3, 7), (2, 4));
        assert_eq!(limit_range(5, 100, 7), (5, 6));
        assert_eq!(limit_range(7, 1, 7), (6, 5));
        assert_eq!(limit_range(-5, 2, 7), (0, 1));
        assert_eq!(limit_range(1, -100, 7), (1, 6));
        assert_eq!(limit_range(1, 0, 7), (1, 0));
        assert_eq!(limit_range(i64::MAX, i64::MAX, 7), (6, 5));
        assert_eq!(limit_range(i64::MIN, i64::MIN, 7), (0, 6));
        assert_eq!(limit_range(0, -1, 0), (-1, -2));
    }

    #[test]
    fn patterns_expand_at_the_first_star_with_hash_fields() {
        let mut buf = Vec::new();
        assert!(matches!(expand(b"#", b"x", &mut buf), Target::Element));
        assert!(matches!(
            expand(b"#\0junk", b"x", &mut buf),
            Target::Element
        ));
        assert!(matches!(expand(b"nostar", b"x", &mut buf), Target::Nothing));
        assert!(matches!(expand(b"w_\0*", b"x", &mut buf), Target::Nothing));
        assert!(matches!(
            expand(b"w_*_*", b"x", &mut buf),
            Target::Key { field: None }
        ));
        assert_eq!(buf, b"w_x_*");
        let Target::Key { field } = expand(b"o_*->f->g", b"1", &mut buf) else {
            panic!()
        };
        assert_eq!((buf.as_slice(), field), (&b"o_1"[..], Some(&b"f->g"[..])));
        // An arrow with nothing after it, or before the '*', is key text.
        assert!(matches!(
            expand(b"o_*->", b"1", &mut buf),
            Target::Key { field: None }
        ));
        assert_eq!(buf, b"o_1->");
        assert!(matches!(
            expand(b"o->*", b"1", &mut buf),
            Target::Key { field: None }
        ));
        assert_eq!(buf, b"o->1");
    }

    #[test]
    fn options_parse_in_order_and_the_first_error_wins() {
        let o = parse(
            &argv("sort k BY w_* GET # get x LIMIT 1 2 DESC ALPHA STORE d"),
            false,
        )
        .unwrap();
        assert_eq!(
            (o.desc, o.alpha, o.limit, o.store),
            (true, true, (1, 2), Some(&b"d"[..]))
        );
        assert_eq!(
            (o.by, o.dontsort, o.gets.len()),
            (Some(&b"w_*"[..]), false, 2)
        );
        assert!(
            parse(&argv("sort k BY nosort BY w_*"), false)
                .unwrap()
                .dontsort
        );
        assert!(matches!(
            parse(&argv("sort k LIMIT x 1 BAD"), false),
            Err(CmdError::NotInteger)
        ));
        assert!(matches!(
            parse(&argv("sort k BAD LIMIT x 1"), false),
            Err(CmdError::Syntax)
        ));
        assert!(matches!(
            parse(&argv("sort_ro k STORE d"), true),
            Err(CmdError::Syntax)
        ));
        assert!(matches!(
            parse(&argv("sort k LIMIT 1"), false),
            Err(CmdError::Syntax)
        ));
    }

    #[test]
    fn only_calls_that_look_keys_up_lock_every_shard() {
        assert!(reads_patterns(&argv("sort k BY w_*")));
        assert!(reads_patterns(&argv("sort k GET w_*")));
        assert!(reads_patterns(&argv("SORT_RO k GET #*")));
        assert!(!reads_patterns(&argv("sort k")));
        assert!(!reads_patterns(&argv("sort k GET # BY nosort ALPHA")));
        assert!(!reads_patterns(&argv("sort k BY w_* BY nosort")));
        assert!(!reads_patterns(&argv("sort k GET nostar")));
        assert!(!reads_patterns(&argv("sort_ro k GET w_* STORE d")));
        let mut keys = Vec::new();
        sort_keys(&argv("sort k BY w_* STORE d1 STORE d2"), 3, &mut keys);
        assert_eq!(keys, vec![(3, &b"k"[..]), (3, &b"d2"[..])]);
    }

    #[test]
    fn getkeys_finds_the_last_store_as_sortgetkeys() {
        let pos = |s: &str| {
            getkeys(&argv(s))
                .into_iter()
                .map(|(i, _)| i)
                .collect::<Vec<_>>()
        };
        assert_eq!(pos("sort k STORE d BY w_* GET x"), vec![1, 3]);
        assert_eq!(pos("sort k LIMIT 1 2 STORE d STORE e"), vec![1, 8]);
        assert_eq!(pos("sort k STORE"), vec![1]);
        assert_eq!(pos("sort k GET store STORE d"), vec![1, 5]);
    }

    /// Ties come out where Redis's pqsort.c puts them (checked against
    /// redis-server 7.0.15: `SORT l BY nokey_* ALPHA LIMIT 0 3` of
    /// `3 1 2 10 -5 1.5 0` replies `10 1 2`).
    #[test]
    fn pqsort_places_ties_as_redis_does() {
        let mut v = vec!["3", "1", "2", "10", "-5", "1.5", "0"];
        pqsort(&mut v, &|_, _| Ordering::Equal, 0, 2);
        assert_eq!(&v[..3], ["10", "1", "2"]);
    }

    #[test]
    fn alpha_collates_up_to_nul_and_store_compares_all_bytes() {
        let item = |s: &[u8]| Item::new(s.to_vec());
        let coll = Order {
            desc: false,
            alpha: true,
            by_pattern: false,
            store: false,
        };
        let store = Order {
            store: true,
            ..coll
        };
        assert_eq!(coll.cmp(&item(b"a\0b"), &item(b"a\0a")), Ordering::Equal);
        assert_eq!(store.cmp(&item(b"a\0b"), &item(b"a\0a")), Ordering::Greater);
        let num = Order {
            alpha: false,
            ..coll
        };
        let mut a = item(b"02");
        let mut b = item(b"2");
        (a.score, b.score) = (2.0, 2.0);
        assert_eq!(num.cmp(&a, &b), Ordering::Less);
        assert_eq!(Order { desc: true, ..num }.cmp(&a, &b), Ordering::Greater);
    }
}
