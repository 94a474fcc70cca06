//! The `skiplist` encoding of a sorted set ([`Skip`]): Redis's skiplist
//! with spans, its nodes' records in one pool of `u32` words addressed by
//! index, plus a chained hash index over node ids (member -> node, O(1)
//! score lookups, Redis's reverse-binary cursor for ZSCAN).
//!
//! O(log n) insert, delete, rank and access by rank; free records and ids
//! are reused, and the whole structure is rebuilt when most of it is free
//! ([`Skip::maybe_shrink`]).

use std::cmp::Ordering;

use super::cmp_pair;
use crate::util::rand::{rand_below, rand_u64};

const MAX_LEVEL: usize = 32;
pub(super) const NIL: u32 = u32::MAX;
/// The header's record, always first in the pool.
pub(super) const HEAD: u32 = 0;

// A node's record in the pool, in `u32` words. Score and links sit together
// (as in Redis's node) so that a step of a search costs one cache miss.
/// The score: two words, the f64's low bits first.
const R_SCORE: usize = 0;
/// The node's [`Meta`] index.
const R_ID: usize = 2;
/// Number of levels.
const R_HEIGHT: usize = 3;
/// The previous record at level 0 (NIL for the first); for a free record,
/// the next free record of the same height.
const R_BACK: usize = 4;
/// Then `(next record, span)` for each level.
const R_LEVELS: usize = 5;

#[inline]
fn rec_words(height: usize) -> usize {
    R_LEVELS + 2 * height
}

/// What a node keeps outside the pool: its member, where its record is, and
/// the next node of its hash chain.
#[derive(Debug, Clone)]
struct Meta {
    member: Box<[u8]>,
    /// The node's record (NIL for a free slot).
    rec: u32,
    /// Next id in the hash chain, or in the free list for a free slot.
    hnext: u32,
}

/// The big encoding: a skiplist with spans (links address records in
/// `pool`) and a chained hash index over node ids (indexes in `meta`).
#[derive(Debug, Clone)]
pub struct Skip {
    pool: Vec<u32>,
    /// Free records by height, chained through their `R_BACK` word.
    free_rec: [u32; MAX_LEVEL + 1],
    free_words: usize,
    meta: Vec<Meta>,
    /// First free id (chained through `hnext`).
    free_meta: u32,
    nfree_meta: usize,
    /// Bytes of all members (MEMORY USAGE in O(1)).
    member_bytes: usize,
    level: usize,
    pub(super) len: usize,
    pub(super) tail: u32,
    /// Hash index: heads of chains of ids, a power of two long (or empty).
    buckets: Vec<u32>,
}

fn random_level() -> usize {
    // P(level > k) = 4^-k, as Redis's ZSKIPLIST_P = 0.25.
    let r = rand_u64();
    (1 + (r.trailing_zeros() as usize) / 2).min(MAX_LEVEL)
}

#[inline]
fn member_hash(m: &[u8]) -> u64 {
    crate::util::hash::hash_key(m)
}

impl Skip {
    pub(super) fn new() -> Skip {
        Skip::with_capacity(0)
    }

    pub(super) fn with_capacity(n: usize) -> Skip {
        let head = rec_words(MAX_LEVEL);
        let mut pool = Vec::with_capacity(head + n * rec_words(2));
        pool.resize(head, 0);
        pool[R_ID] = NIL;
        pool[R_HEIGHT] = MAX_LEVEL as u32;
        pool[R_BACK] = NIL;
        for i in 0..MAX_LEVEL {
            pool[R_LEVELS + 2 * i] = NIL;
        }
        Skip {
            pool,
            free_rec: [NIL; MAX_LEVEL + 1],
            free_words: 0,
            meta: Vec::with_capacity(n),
            free_meta: NIL,
            nfree_meta: 0,
            member_bytes: 0,
            level: 1,
            len: 0,
            tail: NIL,
            buckets: Vec::new(),
        }
    }

    pub(super) fn heap_size(&self) -> usize {
        self.pool.capacity() * 4
            + self.meta.capacity() * std::mem::size_of::<Meta>()
            + self.buckets.capacity() * 4
            + self.member_bytes
    }

    // --- record accessors

    #[inline]
    pub(super) fn score(&self, r: u32) -> f64 {
        let r = r as usize + R_SCORE;
        f64::from_bits(u64::from(self.pool[r]) | (u64::from(self.pool[r + 1]) << 32))
    }

    #[inline]
    fn set_score(&mut self, r: u32, score: f64) {
        let bits = score.to_bits();
        let r = r as usize + R_SCORE;
        self.pool[r] = bits as u32;
        self.pool[r + 1] = (bits >> 32) as u32;
    }

    #[inline]
    fn id(&self, r: u32) -> u32 {
        self.pool[r as usize + R_ID]
    }

    #[inline]
    fn height(&self, r: u32) -> usize {
        self.pool[r as usize + R_HEIGHT] as usize
    }

    #[inline]
    pub(super) fn back(&self, r: u32) -> u32 {
        self.pool[r as usize + R_BACK]
    }

    #[inline]
    fn set_back(&mut self, r: u32, back: u32) {
        self.pool[r as usize + R_BACK] = back;
    }

    #[inline]
    pub(super) fn next(&self, r: u32, i: usize) -> u32 {
        self.pool[r as usize + R_LEVELS + 2 * i]
    }

    #[inline]
    fn span(&self, r: u32, i: usize) -> u32 {
        self.pool[r as usize + R_LEVELS + 2 * i + 1]
    }

    #[inline]
    fn set_link(&mut self, r: u32, i: usize, next: u32, span: u32) {
        let at = r as usize + R_LEVELS + 2 * i;
        self.pool[at] = next;
        self.pool[at + 1] = span;
    }

    #[inline]
    fn set_span(&mut self, r: u32, i: usize, span: u32) {
        self.pool[r as usize + R_LEVELS + 2 * i + 1] = span;
    }

    #[inline]
    fn member(&self, r: u32) -> &[u8] {
        &self.meta[self.id(r) as usize].member
    }

    #[inline]
    fn pair(&self, r: u32) -> (f64, &[u8]) {
        (self.score(r), self.member(r))
    }

    #[inline]
    pub(super) fn pair_m(&self, r: u32) -> (&[u8], f64) {
        (self.member(r), self.score(r))
    }

    /// True when record `r` sorts before `(score, member)`.
    #[inline]
    fn lt(&self, r: u32, score: f64, member: &[u8]) -> bool {
        let s = self.score(r);
        s < score || (s == score && self.member(r) < member)
    }

    // --- allocation

    fn alloc_rec(&mut self, height: usize) -> u32 {
        let words = rec_words(height);
        let r = self.free_rec[height];
        if r != NIL {
            self.free_rec[height] = self.back(r);
            self.free_words -= words;
            return r;
        }
        let r = self.pool.len();
        if r + words > self.pool.capacity() {
            // Grow by a quarter: amortised O(1), at most 25% slack.
            self.pool.reserve_exact((r / 4).max(words).max(64));
        }
        self.pool.resize(r + words, 0);
        r as u32
    }

    fn release_rec(&mut self, r: u32) {
        let h = self.height(r);
        self.pool[r as usize + R_ID] = NIL;
        self.set_back(r, self.free_rec[h]);
        self.free_rec[h] = r;
        self.free_words += rec_words(h);
    }

    fn alloc_meta(&mut self, member: Box<[u8]>) -> u32 {
        self.member_bytes += member.len();
        let m = Meta {
            member,
            rec: NIL,
            hnext: NIL,
        };
        if self.free_meta != NIL {
            let id = self.free_meta;
            self.free_meta = self.meta[id as usize].hnext;
            self.nfree_meta -= 1;
            self.meta[id as usize] = m;
            id
        } else {
            if self.meta.len() == self.meta.capacity() {
                let extra = (self.meta.len() / 4).max(4);
                self.meta.reserve_exact(extra);
            }
            self.meta.push(m);
            (self.meta.len() - 1) as u32
        }
    }

    fn release_meta(&mut self, id: u32) -> Box<[u8]> {
        let free = self.free_meta;
        let m = &mut self.meta[id as usize];
        let member = std::mem::take(&mut m.member);
        m.rec = NIL;
        m.hnext = free;
        self.free_meta = id;
        self.nfree_meta += 1;
        self.member_bytes -= member.len();
        member
    }

    // --- the skiplist

    /// Inserts an absent member; returns its record.
    pub(super) fn insert(&mut self, member: Box<[u8]>, score: f64) -> u32 {
        let id = self.alloc_meta(member);
        let r = self.link(id, score);
        self.hash_insert(id);
        r
    }

    /// Links a new record for node `id` into the skiplist (Redis's
    /// `zslInsert`).
    fn link(&mut self, id: u32, score: f64) -> u32 {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        {
            let member: &[u8] = &self.meta[id as usize].member;
            let mut x = HEAD;
            for i in (0..self.level).rev() {
                rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
                loop {
                    let next = self.next(x, i);
                    if next != NIL && self.lt(next, score, member) {
                        rank[i] += self.span(x, i);
                        x = next;
                    } else {
                        break;
                    }
                }
                update[i] = x;
            }
        }
        let height = random_level();
        if height > self.level {
            for i in self.level..height {
                rank[i] = 0;
                update[i] = HEAD;
                self.set_span(HEAD, i, self.len as u32);
            }
            self.level = height;
        }
        let r = self.alloc_rec(height);
        self.set_score(r, score);
        self.pool[r as usize + R_ID] = id;
        self.pool[r as usize + R_HEIGHT] = height as u32;
        for i in 0..height {
            let u = update[i];
            let crossed = rank[0] - rank[i];
            let (next, span) = (self.next(u, i), self.span(u, i));
            self.set_link(r, i, next, span - crossed);
            self.set_link(u, i, r, crossed + 1);
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(height) {
            let span = self.span(u, i);
            self.set_span(u, i, span + 1);
        }
        self.set_back(r, if update[0] == HEAD { NIL } else { update[0] });
        let next = self.next(r, 0);
        if next != NIL {
            self.set_back(next, r);
        } else {
            self.tail = r;
        }
        self.meta[id as usize].rec = r;
        self.len += 1;
        r
    }

    /// The update vector of record `r` (its predecessor at every level).
    fn update_for(&self, r: u32) -> [u32; MAX_LEVEL] {
        let (score, member) = self.pair(r);
        let mut update = [HEAD; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.next(x, i);
                if next != NIL && self.lt(next, score, member) {
                    x = next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        update
    }

    /// Redis's `zslDeleteNode`: unlinks record `r` given its update vector
    /// and frees the record.
    fn unlink(&mut self, r: u32, update: &[u32; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            if self.next(u, i) == r {
                let span = self.span(u, i) - 1 + self.span(r, i);
                self.set_link(u, i, self.next(r, i), span);
            } else {
                let span = self.span(u, i);
                self.set_span(u, i, span - 1);
            }
        }
        let (next, back) = (self.next(r, 0), self.back(r));
        if next != NIL {
            self.set_back(next, back);
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.next(HEAD, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.len -= 1;
        self.release_rec(r);
    }

    /// Removes record `r`'s node from both structures; returns its member.
    pub(super) fn delete(&mut self, r: u32) -> Box<[u8]> {
        let update = self.update_for(r);
        debug_assert_eq!(self.next(update[0], 0), r);
        let id = self.id(r);
        self.unlink(r, &update);
        self.hash_remove(id);
        self.release_meta(id)
    }

    /// Changes record `r`'s score: in place when the order allows (Redis's
    /// `zslUpdateScore`), else by relinking the node under a new record.
    pub(super) fn update_score(&mut self, r: u32, score: f64) {
        let (back, next) = (self.back(r), self.next(r, 0));
        let member = self.member(r);
        let after_back = back == NIL || self.lt(back, score, member);
        let before_next = next == NIL || {
            let (ns, nm) = self.pair(next);
            cmp_pair(score, member, ns, nm) == Ordering::Less
        };
        if after_back && before_next {
            self.set_score(r, score);
            return;
        }
        let id = self.id(r);
        let update = self.update_for(r);
        self.unlink(r, &update);
        self.link(id, score);
    }

    /// Removes ranks `start..=end` (1-based); returns how many
    /// (Redis's `zslDeleteRangeByRank`, O(log n + k)).
    pub(super) fn delete_rank_range(&mut self, start: usize, end: usize) -> usize {
        let mut update = [HEAD; MAX_LEVEL];
        let mut traversed = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.next(x, i);
                if next != NIL && traversed + (self.span(x, i) as usize) < start {
                    traversed += self.span(x, i) as usize;
                    x = next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        traversed += 1;
        let mut x = self.next(x, 0);
        let mut removed = 0;
        while x != NIL && traversed <= end {
            let next = self.next(x, 0);
            let id = self.id(x);
            self.unlink(x, &update);
            self.hash_remove(id);
            self.release_meta(id);
            removed += 1;
            traversed += 1;
            x = next;
        }
        removed
    }

    /// The 1-based rank of record `r`.
    pub(super) fn rank_of(&self, r: u32) -> usize {
        let (score, member) = self.pair(r);
        let mut rank = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.next(x, i);
                if next != NIL && (next == r || self.lt(next, score, member)) {
                    rank += self.span(x, i) as usize;
                    x = next;
                    if x == r {
                        return rank;
                    }
                } else {
                    break;
                }
            }
        }
        rank
    }

    /// The record of 1-based rank `rank` (NIL when out of range).
    pub(super) fn by_rank(&self, rank: usize) -> u32 {
        let mut traversed = 0usize;
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.next(x, i);
                if next != NIL && traversed + (self.span(x, i) as usize) <= rank {
                    traversed += self.span(x, i) as usize;
                    x = next;
                } else {
                    break;
                }
            }
            if traversed == rank {
                return if x == HEAD { NIL } else { x };
            }
        }
        NIL
    }

    fn in_range_bounds(
        &self,
        gte_min: &dyn Fn(f64, &[u8]) -> bool,
        lte_max: &dyn Fn(f64, &[u8]) -> bool,
    ) -> bool {
        if self.len == 0 {
            return false;
        }
        let (ts, tm) = self.pair(self.tail);
        let (hs, hm) = self.pair(self.next(HEAD, 0));
        gte_min(ts, tm) && lte_max(hs, hm)
    }

    pub(super) fn first_in_range(
        &self,
        gte_min: &dyn Fn(f64, &[u8]) -> bool,
        lte_max: &dyn Fn(f64, &[u8]) -> bool,
    ) -> Option<usize> {
        if !self.in_range_bounds(gte_min, lte_max) {
            return None;
        }
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let next = self.next(x, i);
                if next == NIL {
                    break;
                }
                let (s, m) = self.pair(next);
                if gte_min(s, m) {
                    break;
                }
                rank += self.span(x, i) as usize;
                x = next;
            }
        }
        let x = self.next(x, 0);
        if x == NIL {
            return None;
        }
        let (s, m) = self.pair(x);
        lte_max(s, m).then_some(rank)
    }

    /// The first record whose score is `>= min` (NIL when none): one
    /// descent that reads only scores, never members.
    pub(super) fn first_score_at_least(&self, min: f64) -> u32 {
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.next(x, i);
                if next == NIL || self.score(next) >= min {
                    break;
                }
                x = next;
            }
        }
        self.next(x, 0)
    }

    /// The member of record `r`.
    #[inline]
    pub(super) fn member_of(&self, r: u32) -> &[u8] {
        self.member(r)
    }

    pub(super) fn last_in_range(
        &self,
        gte_min: &dyn Fn(f64, &[u8]) -> bool,
        lte_max: &dyn Fn(f64, &[u8]) -> bool,
    ) -> Option<usize> {
        if !self.in_range_bounds(gte_min, lte_max) {
            return None;
        }
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let next = self.next(x, i);
                if next == NIL {
                    break;
                }
                let (s, m) = self.pair(next);
                if !lte_max(s, m) {
                    break;
                }
                rank += self.span(x, i) as usize;
                x = next;
            }
        }
        if x == HEAD {
            return None;
        }
        let (s, m) = self.pair(x);
        gte_min(s, m).then(|| rank - 1)
    }

    /// A uniformly random live node's record (the list is not empty): a
    /// random id, drawn again while it is free. Free ids are at most twice
    /// the live ones plus 64 (see [`Skip::maybe_shrink`]), so this takes
    /// O(1) expected draws.
    pub(super) fn random_node(&self) -> u32 {
        loop {
            let id = rand_below(self.meta.len() as u64) as usize;
            let rec = self.meta[id].rec;
            if rec != NIL {
                return rec;
            }
        }
    }

    /// Rebuilds the structure when most of its pool or ids are free, and
    /// shrinks the hash index when it is mostly empty.
    pub(super) fn maybe_shrink(&mut self) {
        let used_words = self.pool.len() - self.free_words;
        if (self.free_words > 1024 && self.free_words > 2 * used_words)
            || (self.nfree_meta > 64 && self.nfree_meta > 2 * self.len)
        {
            let mut fresh = Skip::with_capacity(self.len);
            let mut x = self.next(HEAD, 0);
            while x != NIL {
                let score = self.score(x);
                let id = self.id(x) as usize;
                let member = std::mem::take(&mut self.meta[id].member);
                x = self.next(x, 0);
                fresh.insert(member, score);
            }
            *self = fresh;
        }
        let nb = self.buckets.len();
        if nb > 4 && self.len * 10 < nb {
            self.rehash(self.len.next_power_of_two().max(4));
        }
    }

    // --- hash index (over ids)

    /// The record of `member`.
    pub(super) fn find(&self, member: &[u8]) -> Option<u32> {
        if self.buckets.is_empty() {
            return None;
        }
        let mask = self.buckets.len() - 1;
        let mut id = self.buckets[(member_hash(member) as usize) & mask];
        while id != NIL {
            let m = &self.meta[id as usize];
            if *m.member == *member {
                return Some(m.rec);
            }
            id = m.hnext;
        }
        None
    }

    /// Indexes node `id`, already linked into the skiplist.
    fn hash_insert(&mut self, id: u32) {
        if self.len > self.buckets.len() {
            // Rebuilding indexes every live id, `id` included.
            self.rehash((self.buckets.len() * 2).max(4));
            return;
        }
        let mask = self.buckets.len() - 1;
        let b = (member_hash(&self.meta[id as usize].member) as usize) & mask;
        self.meta[id as usize].hnext = self.buckets[b];
        self.buckets[b] = id;
    }

    fn hash_remove(&mut self, id: u32) {
        let mask = self.buckets.len() - 1;
        let b = (member_hash(&self.meta[id as usize].member) as usize) & mask;
        let after = self.meta[id as usize].hnext;
        if self.buckets[b] == id {
            self.buckets[b] = after;
            return;
        }
        let mut y = self.buckets[b];
        while y != NIL {
            let next = self.meta[y as usize].hnext;
            if next == id {
                self.meta[y as usize].hnext = after;
                return;
            }
            y = next;
        }
        debug_assert!(false, "node {id} missing from its hash chain");
    }

    fn rehash(&mut self, size: usize) {
        let mut buckets = Vec::new();
        buckets.reserve_exact(size);
        buckets.resize(size, NIL);
        let mask = size - 1;
        // The side table in order, not the skiplist: no pointer chasing.
        for (id, m) in self.meta.iter_mut().enumerate() {
            if m.rec != NIL {
                let b = (member_hash(&m.member) as usize) & mask;
                m.hnext = buckets[b];
                buckets[b] = id as u32;
            }
        }
        self.buckets = buckets;
    }

    /// Redis's `dictScan` on a single table, repeated as ZSCAN does: until
    /// `count` elements were emitted, the cursor wraps to 0, or `10 * count`
    /// buckets were visited.
    pub(super) fn scan(&self, mut cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        let mut emitted = 0usize;
        let mut budget = count.saturating_mul(20);
        loop {
            let mut id = self.buckets[(cursor & mask) as usize];
            while id != NIL {
                let m = &self.meta[id as usize];
                f(&m.member, self.score(m.rec));
                emitted += 1;
                id = m.hnext;
            }
            cursor |= !mask;
            cursor = cursor.reverse_bits().wrapping_add(1).reverse_bits();
            if cursor == 0 || budget == 0 || emitted >= count {
                return cursor;
            }
            budget -= 1;
        }
    }

    #[cfg(test)]
    pub(super) fn check(&self) {
        // Level 0 is ordered and doubly linked; spans add up to ranks.
        let mut x = self.next(HEAD, 0);
        let mut prev = NIL;
        let mut n = 0;
        let mut live_words = rec_words(MAX_LEVEL);
        let mut rank_of = std::collections::HashMap::new();
        while x != NIL {
            assert_eq!(self.back(x), prev, "back link");
            if prev != NIL {
                let (ps, pm) = self.pair(prev);
                let (s, m) = self.pair(x);
                assert_eq!(cmp_pair(ps, pm, s, m), Ordering::Less, "skiplist order");
            }
            n += 1;
            rank_of.insert(x, n);
            live_words += rec_words(self.height(x));
            assert_eq!(self.meta[self.id(x) as usize].rec, x, "meta points back");
            assert_eq!(self.find(self.member(x)), Some(x), "hash index");
            prev = x;
            x = self.next(x, 0);
        }
        assert_eq!(n, self.len);
        assert_eq!(self.tail, prev);
        for i in 0..self.level {
            let mut y = HEAD;
            let mut r = 0usize;
            loop {
                let next = self.next(y, i);
                if next == NIL {
                    assert_eq!(
                        r + self.span(y, i) as usize,
                        self.len,
                        "null span at level {i}"
                    );
                    break;
                }
                r += self.span(y, i) as usize;
                assert_eq!(rank_of[&next], r, "span at level {i}");
                y = next;
            }
        }
        let chained: usize = (0..self.buckets.len())
            .map(|b| {
                let mut c = 0;
                let mut id = self.buckets[b];
                while id != NIL {
                    c += 1;
                    id = self.meta[id as usize].hnext;
                }
                c
            })
            .sum();
        assert_eq!(chained, self.len, "hash index size");
        assert_eq!(self.meta.len(), self.len + self.nfree_meta, "id accounting");
        let free = self.meta.iter().filter(|m| m.rec == NIL).count();
        assert_eq!(free, self.nfree_meta, "free ids are marked");
        assert_eq!(
            self.pool.len(),
            live_words + self.free_words,
            "pool accounting"
        );
        let bytes: usize = self.meta.iter().map(|m| m.member.len()).sum();
        assert_eq!(bytes, self.member_bytes, "member bytes");
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Limits, ZSet};

    fn small() -> Limits {
        Limits::default()
    }

    #[test]
    fn skiplist_scan_visits_everything_across_resizes() {
        let mut z = ZSet::new_skiplist();
        for i in 0..1000 {
            z.insert(format!("m{i}").as_bytes(), i as f64, small());
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut rounds = 0;
        loop {
            cursor = z.scan(cursor, 10, |m, _| {
                seen.insert(m.to_vec());
            });
            rounds += 1;
            if rounds == 20 {
                // Shrink the table mid-scan: survivors must still be seen.
                for i in 0..950 {
                    if i % 7 != 0 {
                        z.remove(format!("m{i}").as_bytes());
                    }
                }
            }
            if cursor == 0 || rounds > 10_000 {
                break;
            }
        }
        for (m, _) in z.iter() {
            assert!(seen.contains(m), "{:?} missed", String::from_utf8_lossy(m));
        }
    }

    #[test]
    fn random_draws_only_live_members_and_all_of_them() {
        let mut z = ZSet::new_skiplist();
        for i in 0..300 {
            z.insert(format!("m{i}").as_bytes(), i as f64, small());
        }
        for i in 0..300 {
            if i % 10 != 0 {
                z.remove(format!("m{i}").as_bytes());
            }
        }
        z.check();
        let mut seen = std::collections::HashSet::new();
        let sampler = z.sampler();
        for _ in 0..2000 {
            let (m, s) = sampler.pick(z.len());
            assert_eq!(z.score(m), Some(s));
            seen.insert(m.to_vec());
            let (m, _) = z.random().unwrap();
            assert!(z.score(m).is_some());
        }
        assert_eq!(seen.len(), 30, "every live member is drawn");
    }
}
