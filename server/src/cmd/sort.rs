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
use crate::types::list::{Elem, End, List};
use crate::types::set::Member;
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
/// syntax error, STORE counting as one for SORT_RO, or a BY pattern with
/// `*` or any GET when the user may not read every key, `all_keys`).
fn parse<'a>(a: &[&'a [u8]], readonly: bool, all_keys: bool) -> Result<Options<'a>, CmdError> {
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
            } else if !all_keys {
                return Err(CmdError::msg(
                    "ERR BY option of SORT denied due to insufficient ACL permissions.",
                ));
            }
            j += 1;
        } else if kw(arg, "get") && left >= 1 {
            if !all_keys {
                return Err(CmdError::msg(
                    "ERR GET option of SORT denied due to insufficient ACL permissions.",
                ));
            }
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
    match parse(argv, readonly, true) {
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
    if let Ok(Options { store: Some(d), .. }) = parse(argv, false, true) {
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

/// A BY or GET pattern, split once per call (Redis's `lookupKeyByPattern`
/// splits it again for every element).
#[derive(Debug, PartialEq)]
enum Pattern<'p> {
    /// `#`: the element itself.
    Element,
    /// Nothing (no `*` in the pattern).
    Nothing,
    /// A key: `prefix`, the element, `suffix`; then its hash field if any.
    Key {
        prefix: &'p [u8],
        suffix: &'p [u8],
        field: Option<&'p [u8]>,
    },
}

impl<'p> Pattern<'p> {
    /// Splits `pattern` at its first `*` (before any NUL), and a `->field`
    /// suffix after the `*` off (when something follows the arrow), as
    /// Redis does.
    fn new(pattern: &'p [u8]) -> Pattern<'p> {
        if is_self(pattern) {
            return Pattern::Element;
        }
        let c = c_str(pattern);
        let Some(star) = memchr::memchr(b'*', c) else {
            return Pattern::Nothing;
        };
        // strstr(p+1, "->") in the C string, with something after the arrow.
        let arrow = memchr::memmem::find(&c[star + 1..], b"->")
            .map(|i| star + 1 + i)
            .filter(|&f| c.len() > f + 2);
        let (suffix_end, field) = match arrow {
            Some(f) => (f, Some(&pattern[f + 2..])),
            None => (pattern.len(), None),
        };
        Pattern::Key {
            prefix: &pattern[..star],
            suffix: &pattern[star + 1..suffix_end],
            field,
        }
    }

    /// Writes the key name for element `subst` into `buf` (for a
    /// [`Pattern::Key`]).
    fn key_into(&self, subst: &[u8], buf: &mut Vec<u8>) {
        if let Pattern::Key { prefix, suffix, .. } = self {
            buf.clear();
            buf.extend_from_slice(prefix);
            buf.extend_from_slice(subst);
            buf.extend_from_slice(suffix);
        }
    }
}

/// Looks up the value `pattern` names for element `elem` and hands it to
/// `f` (`None`: no such key, the wrong type, or no such field). A key
/// lookup counts as a keyspace hit or miss, as Redis's `lookupKeyRead`.
fn with_value<R>(
    ks: &mut Locked<'_>,
    stats: &LoopStats,
    pattern: &Pattern<'_>,
    elem: &[u8],
    buf: &mut Vec<u8>,
    f: impl FnOnce(Option<&[u8]>) -> R,
) -> R {
    let field = match pattern {
        Pattern::Element => return f(Some(elem)),
        Pattern::Nothing => return f(None),
        Pattern::Key { field, .. } => *field,
    };
    pattern.key_into(elem, buf);
    let mut scratch = itoa::Buffer::new();
    let value = lookup_read(ks, stats, buf).map(|e| &e.value);
    let found = match (value, field) {
        (Some(Value::Hash(h)), Some(field)) => h.get(field),
        (Some(v), None) => v.as_bytes(&mut scratch),
        _ => None,
    };
    f(found)
}

/// Where some bytes are in an [`Items`] arena.
#[derive(Clone, Copy, Debug)]
struct Span {
    at: usize,
    len: usize,
}

/// One element to sort and what it is sorted by. Its bytes are in the
/// [`Items`] arena: the elements are copied once, back to back, out of the
/// sorted value (which cannot stay borrowed while BY and GET patterns look
/// other keys up), instead of into an allocation each.
#[derive(Clone, Copy, Debug)]
struct Item {
    obj: Span,
    score: f64,
    /// The score is known (an integer element, sorted numerically by
    /// itself).
    scored: bool,
    /// The BY value for ALPHA with a pattern (`None`: missing).
    by: Option<Span>,
}

/// The elements of one SORT call, and the bytes they point into.
#[derive(Default)]
struct Items {
    /// The elements' bytes.
    bytes: Vec<u8>,
    /// The BY values' bytes (ALPHA with a BY pattern).
    by_bytes: Vec<u8>,
    list: Vec<Item>,
}

/// The bytes [`Item`]s point into, for comparing them.
#[derive(Clone, Copy)]
struct Arena<'a> {
    elems: &'a [u8],
    bys: &'a [u8],
}

impl Span {
    fn of(self, bytes: &[u8]) -> &[u8] {
        &bytes[self.at..self.at + self.len]
    }
}

impl Items {
    fn with_capacity(n: usize) -> Items {
        Items {
            list: Vec::with_capacity(n),
            ..Items::default()
        }
    }

    fn keep(&mut self, b: &[u8]) -> Span {
        let at = self.bytes.len();
        self.bytes.extend_from_slice(b);
        Span { at, len: b.len() }
    }

    fn push_bytes(&mut self, b: &[u8]) {
        let obj = self.keep(b);
        self.list.push(Item {
            obj,
            score: 0.0,
            scored: false,
            by: None,
        });
    }

    /// An integer element: its text, and its value as the score it has
    /// when it is sorted numerically by itself (what `strtod` reads from
    /// that text: the nearest double).
    fn push_int(&mut self, n: i64) {
        let obj = self.keep(itoa::Buffer::new().format(n).as_bytes());
        self.list.push(Item {
            obj,
            score: n as f64,
            scored: true,
            by: None,
        });
    }

    fn push_elem(&mut self, e: Elem<'_>) {
        match e {
            Elem::Bytes(b) => self.push_bytes(b),
            Elem::Int(n) => self.push_int(n),
        }
    }

    fn push_member(&mut self, m: Member<'_>) {
        match m {
            Member::Str(b) => self.push_bytes(b),
            Member::Int(n) => self.push_int(n),
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
    /// Compares `a` and `b`, whose bytes are in `at`.
    fn cmp(self, at: Arena<'_>, a: &Item, b: &Item) -> Ordering {
        let o = if !self.alpha {
            match a.score.partial_cmp(&b.score) {
                Some(Ordering::Equal) | None => a.obj.of(at.elems).cmp(b.obj.of(at.elems)),
                Some(o) => o,
            }
        } else if self.by_pattern {
            match (a.by, b.by) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => self.text_cmp(x.of(at.bys), y.of(at.bys)),
            }
        } else {
            self.text_cmp(a.obj.of(at.elems), b.obj.of(at.elems))
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

    /// True when items that compare equal cannot be told apart in a
    /// reply (they are the same bytes), so that which of them comes first
    /// does not matter and any sorting algorithm gives Redis's reply.
    /// Numbers tie only on equal bytes; ALPHA by the elements too, unless
    /// collation stops at a NUL that some element has. Not so for BY
    /// values, where distinct elements tie on equal values.
    fn is_total(self, elems: &[u8]) -> bool {
        !self.by_pattern && (!self.alpha || self.store || memchr::memchr(0, elems).is_none())
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

/// Whether the client's user may read every key with this SORT call, as
/// its BY and GET patterns need (Redis asks it before parsing).
fn reads_any_key(c: &Ctx<'_>, a: &[&[u8]], readonly: bool) -> bool {
    let acl = &c.client.acl;
    if acl.unrestricted() {
        return true;
    }
    // By its own name: the client may have called it by a renamed one.
    let name: &[u8] = if readonly { b"sort_ro" } else { b"sort" };
    let Some(i) = super::original_index(name) else {
        return false;
    };
    let id = super::table::command_id(i, None);
    acl.reads_any_key(super::table::commands()[i], id, a)
}

fn sort_generic(c: &mut Ctx<'_>, a: &[&[u8]], readonly: bool) -> CmdResult {
    let mut o = parse(a, readonly, reads_any_key(c, a, readonly))?;
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
        let mut items = Items::with_capacity(take);
        match value {
            None => {}
            Some(Value::List(l)) if o.dontsort && end >= start => {
                let s = start as usize;
                if o.desc {
                    l.iter_rev()
                        .skip(s)
                        .take(take)
                        .for_each(|e| items.push_elem(e));
                } else {
                    l.iter_from(s).take(take).for_each(|e| items.push_elem(e));
                }
                end -= start;
                start = 0;
            }
            // Nothing in range, and nothing to sort.
            Some(Value::List(_)) if o.dontsort => {}
            Some(Value::List(l)) => l.iter().for_each(|e| items.push_elem(e)),
            Some(Value::Set(s)) => s.iter().for_each(|m| items.push_member(m)),
            Some(Value::ZSet(z)) if o.dontsort => {
                let rank = if o.desc {
                    z.len() as i64 - 1 - start
                } else {
                    start
                };
                if take > 0 {
                    z.iter_from(rank as usize, o.desc)
                        .take(take)
                        .for_each(|(m, _)| items.push_bytes(m));
                }
                end -= start;
                start = 0;
            }
            Some(Value::ZSet(z)) => z.iter().for_each(|(m, _)| items.push_bytes(m)),
            Some(_) => {}
        }
        items
    };
    let by = o.by.map(Pattern::new);
    let gets: Vec<Pattern<'_>> = o.gets.iter().map(|g| Pattern::new(g)).collect();
    let mut buf = Vec::new();
    let mut bad_score = false;
    if !o.dontsort {
        let Items {
            bytes,
            by_bytes,
            list,
        } = &mut items;
        for it in list.iter_mut() {
            let obj = it.obj.of(bytes);
            match &by {
                Some(p) => with_value(&mut c.ks, c.stats, p, obj, &mut buf, |v| {
                    // A missing BY value scores 0, whatever the element.
                    it.score = 0.0;
                    let Some(v) = v else { return };
                    if o.alpha {
                        let at = by_bytes.len();
                        by_bytes.extend_from_slice(v);
                        it.by = Some(Span { at, len: v.len() });
                    } else {
                        match strtod_sort_score(v) {
                            Some(s) => it.score = s,
                            None => bad_score = true,
                        }
                    }
                }),
                None if !o.alpha && !it.scored => match strtod_sort_score(obj) {
                    Some(s) => it.score = s,
                    None => bad_score = true,
                },
                None => {}
            }
        }
        // After a bad score Redis still sorts, but replies only the
        // error: the order is never seen, so it is not computed.
        if !bad_score {
            sort_items(&mut items, &o, start, end);
        }
    }
    if bad_score {
        return Err(CmdError::msg(
            "ERR One or more scores can't be converted into double",
        ));
    }
    let picked = if end >= start {
        &items.list[start as usize..=end as usize]
    } else {
        &[]
    };
    let per = gets.len().max(1);
    let outputlen = picked.len() * per;
    match o.store {
        None => {
            c.out.array(outputlen);
            for it in picked {
                let obj = it.obj.of(&items.bytes);
                if gets.is_empty() {
                    c.out.bulk(obj);
                }
                for g in &gets {
                    let out = &mut *c.out;
                    with_value(&mut c.ks, c.stats, g, obj, &mut buf, |v| match v {
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
                let obj = it.obj.of(&items.bytes);
                if gets.is_empty() {
                    list.push(End::Back, obj, fill);
                }
                for g in &gets {
                    with_value(&mut c.ks, c.stats, g, obj, &mut buf, |v| {
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

/// Puts the items of ranks `start..=end` (Redis's LIMIT range) in the
/// places Redis's sort puts them; the rest may be left in any order.
///
/// With a BY pattern and a LIMIT short of everything, Redis sorts with its
/// partial quicksort, and so do we ([`pqsort`]): ties come out as Redis's
/// do. Otherwise Redis sorts everything with glibc's stable `qsort`; where
/// ties cannot be told apart ([`Order::is_total`]) we select the range and
/// sort only it, and otherwise sort everything stably too.
fn sort_items(items: &mut Items, o: &Options<'_>, start: i64, end: i64) {
    let order = Order {
        desc: o.desc,
        alpha: o.alpha,
        by_pattern: o.by.is_some(),
        store: o.store.is_some(),
    };
    let len = items.list.len() as i64;
    let whole = start == 0 && end == len - 1;
    // Nothing is output when `end < start`: the order is not needed then.
    if !whole && end < start {
        return;
    }
    let Items {
        bytes,
        by_bytes,
        list,
    } = items;
    let at = Arena {
        elems: bytes,
        bys: by_bytes,
    };
    let cmp = |x: &Item, y: &Item| order.cmp(at, x, y);
    if whole {
        if order.is_total(at.elems) {
            list.sort_unstable_by(cmp);
        } else {
            list.sort_by(cmp);
        }
    } else if o.by.is_some() {
        pqsort(list, &cmp, start as usize, end as usize);
    } else if order.is_total(at.elems) {
        let (lo, hi) = (start as usize, end as usize);
        list.select_nth_unstable_by(hi, cmp);
        let head = &mut list[..=hi];
        if lo > 0 {
            head.select_nth_unstable_by(lo, cmp);
        }
        head[lo..].sort_unstable_by(cmp);
    } else {
        list.sort_by(cmp);
    }
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
    fn patterns_split_at_the_first_star_with_hash_fields() {
        let mut buf = Vec::new();
        let mut key = |p: &[u8], subst: &[u8]| {
            let p = Pattern::new(p);
            p.key_into(subst, &mut buf);
            match p {
                Pattern::Key { field, .. } => Some((buf.clone(), field.map(<[u8]>::to_vec))),
                _ => None,
            }
        };
        assert_eq!(Pattern::new(b"#"), Pattern::Element);
        assert_eq!(Pattern::new(b"#\0junk"), Pattern::Element);
        assert_eq!(Pattern::new(b"nostar"), Pattern::Nothing);
        assert_eq!(Pattern::new(b"w_\0*"), Pattern::Nothing);
        assert_eq!(key(b"w_*_*", b"x"), Some((b"w_x_*".to_vec(), None)));
        assert_eq!(
            key(b"o_*->f->g", b"1"),
            Some((b"o_1".to_vec(), Some(b"f->g".to_vec())))
        );
        // An arrow with nothing after it, or before the '*', is key text.
        assert_eq!(key(b"o_*->", b"1"), Some((b"o_1->".to_vec(), None)));
        assert_eq!(key(b"o->*", b"1"), Some((b"o->1".to_vec(), None)));
        // Bytes after a NUL stay in the key name, as in Redis's sds.
        assert_eq!(key(b"k_*x\0y", b"1"), Some((b"k_1x\0y".to_vec(), None)));
    }

    #[test]
    fn options_parse_in_order_and_the_first_error_wins() {
        let o = parse(
            &argv("sort k BY w_* GET # get x LIMIT 1 2 DESC ALPHA STORE d"),
            false,
            true,
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
            parse(&argv("sort k BY nosort BY w_*"), false, true)
                .unwrap()
                .dontsort
        );
        assert!(matches!(
            parse(&argv("sort k LIMIT x 1 BAD"), false, true),
            Err(CmdError::NotInteger)
        ));
        assert!(matches!(
            parse(&argv("sort k BAD LIMIT x 1"), false, true),
            Err(CmdError::Syntax)
        ));
        assert!(matches!(
            parse(&argv("sort_ro k STORE d"), true, true),
            Err(CmdError::Syntax)
        ));
        assert!(matches!(
            parse(&argv("sort k LIMIT 1"), false, true),
            Err(CmdError::Syntax)
        ));
        // Without access to every key: BY with a '*' and any GET refused,
        // unless an earlier option already failed.
        let denied = |s: &str| match parse(&argv(s), false, false) {
            Err(CmdError::Other(m)) => Some(m.to_string()),
            _ => None,
        };
        assert_eq!(
            denied("sort k BY w_*").as_deref(),
            Some("ERR BY option of SORT denied due to insufficient ACL permissions.")
        );
        assert_eq!(
            denied("sort k GET #").as_deref(),
            Some("ERR GET option of SORT denied due to insufficient ACL permissions.")
        );
        assert!(parse(&argv("sort k BY nosort LIMIT 0 1"), false, false).is_ok());
        assert!(matches!(
            parse(&argv("sort k LIMIT x 1 GET #"), false, false),
            Err(CmdError::NotInteger)
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
        let mut items = Items::default();
        for e in [&b"a\0b"[..], b"a\0a", b"02", b"2"] {
            items.push_bytes(e);
        }
        let [ab, aa, a02, a2] = [0, 1, 2, 3].map(|i| items.list[i]);
        let at = Arena {
            elems: &items.bytes,
            bys: &[],
        };
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
        assert_eq!(coll.cmp(at, &ab, &aa), Ordering::Equal);
        assert_eq!(store.cmp(at, &ab, &aa), Ordering::Greater);
        assert!(!coll.is_total(at.elems) && store.is_total(at.elems));
        let num = Order {
            alpha: false,
            ..coll
        };
        let (mut a, mut b) = (a02, a2);
        (a.score, b.score) = (2.0, 2.0);
        assert_eq!(num.cmp(at, &a, &b), Ordering::Less);
        assert_eq!(
            Order { desc: true, ..num }.cmp(at, &a, &b),
            Ordering::Greater
        );
        assert!(num.is_total(at.elems));
    }

    /// A partial selection puts the LIMIT range where a full sort does.
    #[test]
    fn selecting_a_range_matches_sorting_everything() {
        let mut seed = 7u64;
        for round in 0..200 {
            let mut items = Items::default();
            let n = (round % 40) + 1;
            for _ in 0..n {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                items.push_int((seed >> 60) as i64 - 4);
            }
            let (start, end) = limit_range((round % 7) as i64, (round % 5) as i64, n as i64);
            let o = Options {
                desc: round % 2 == 1,
                limit: (0, -1),
                ..Options::default()
            };
            let texts = |items: &Items| -> Vec<Vec<u8>> {
                items
                    .list
                    .iter()
                    .map(|it| it.obj.of(&items.bytes).to_vec())
                    .collect()
            };
            let mut all = Items {
                bytes: items.bytes.clone(),
                by_bytes: Vec::new(),
                list: items.list.clone(),
            };
            sort_items(&mut all, &o, 0, n as i64 - 1);
            sort_items(&mut items, &o, start, end);
            if start <= end {
                let r = start as usize..=end as usize;
                assert_eq!(texts(&items)[r.clone()], texts(&all)[r]);
            }
        }
    }
}
