//! Operations across sorted sets (and plain sets): ZUNION, ZINTER,
//! ZDIFF, their STORE forms, and ZINTERCARD.

use std::collections::HashMap;

use super::*;
use crate::cmd::args::{self, is};
use crate::cmd::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::types::set::{Member, Set};
use crate::types::zset::cmp_pair;
use crate::util::num::parse_f64;
use crate::value::Value;

// ---------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// Redis's `zunionInterAggregate`.
#[inline]
fn aggregate(target: &mut f64, val: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += val;
            // inf + -inf: Redis keeps 0 by convention.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// Calls `f(member, score)` for every element of an input (a sorted set,
/// or a set whose members score 1).
fn for_each_input(v: &Value, mut f: impl FnMut(&[u8], f64)) {
    match v {
        Value::ZSet(z) => {
            for (m, s) in z.iter() {
                f(m, s);
            }
        }
        Value::Set(s) => set_for_each(s, |m| f(m, 1.0)),
        _ => {}
    }
}

/// The score of `member` in an input (1 for a set member).
fn input_score(v: &Value, member: &[u8]) -> Option<f64> {
    match v {
        Value::ZSet(z) => z.score(member),
        Value::Set(s) => set_contains(s, member).then_some(1.0),
        _ => None,
    }
}

// The set type's interface as the sorted set commands need it.
fn set_len(s: &Set) -> usize {
    s.len()
}

fn set_contains(s: &Set, member: &[u8]) -> bool {
    s.contains(member)
}

fn set_for_each(s: &Set, mut f: impl FnMut(&[u8])) {
    let mut buf = itoa::Buffer::new();
    for m in s.iter() {
        match m {
            Member::Int(n) => f(buf.format(n).as_bytes()),
            Member::Str(b) => f(b),
        }
    }
}

/// `ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]`
pub fn zunionstore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    setop_generic(c, a, "zunionstore", Some(a[1]), 2, SetOp::Union, false)
}

/// `ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]`
pub fn zinterstore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    setop_generic(c, a, "zinterstore", Some(a[1]), 2, SetOp::Inter, false)
}

/// `ZDIFFSTORE destination numkeys key [key ...]`
pub fn zdiffstore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    setop_generic(c, a, "zdiffstore", Some(a[1]), 2, SetOp::Diff, false)
}

/// `ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
pub fn zunion(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    setop_generic(c, a, "zunion", None, 1, SetOp::Union, false)
}

/// `ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
pub fn zinter(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    setop_generic(c, a, "zinter", None, 1, SetOp::Inter, false)
}

/// `ZDIFF numkeys key [key ...] [WITHSCORES]`
pub fn zdiff(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    setop_generic(c, a, "zdiff", None, 1, SetOp::Diff, false)
}

/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]`
pub fn zintercard(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    setop_generic(c, a, "zintercard", None, 1, SetOp::Inter, true)
}

/// Redis's `zunionInterDiffGenericCommand`.
fn setop_generic(
    c: &mut Ctx<'_>,
    a: &[&[u8]],
    name: &str,
    dst: Option<&[u8]>,
    numkeys_idx: usize,
    op: SetOp,
    card_only: bool,
) -> CmdResult {
    let event = match op {
        SetOp::Union => "zunionstore",
        SetOp::Inter => "zinterstore",
        SetOp::Diff => "zdiffstore",
    };
    let setnum = args::int(a[numkeys_idx])?;
    if setnum < 1 {
        return Err(CmdError::msg(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    if setnum > (a.len() - (numkeys_idx + 1)) as i64 {
        return Err(CmdError::Syntax);
    }
    let setnum = setnum as usize;
    let keys = &a[numkeys_idx + 1..numkeys_idx + 1 + setnum];
    // Look every input up (and type-check it) before parsing the options.
    let mut lens = Vec::with_capacity(setnum);
    for &k in keys {
        let len = match crate::cmd::lookup_read(&mut c.ks, c.stats, k) {
            None => 0,
            Some(e) => match &e.value {
                Value::ZSet(z) => z.len(),
                Value::Set(s) => set_len(s),
                _ => return Err(CmdError::WrongType),
            },
        };
        lens.push(len);
    }
    let mut weights = vec![1.0f64; setnum];
    let mut agg = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0i64;
    let mut j = numkeys_idx + 1 + setnum;
    while j < a.len() {
        let remaining = a.len() - j;
        if op != SetOp::Diff && !card_only && remaining > setnum && is(a[j], "WEIGHTS") {
            j += 1;
            for w in weights.iter_mut() {
                *w = parse_f64(a[j])
                    .ok_or_else(|| CmdError::msg("ERR weight value is not a float"))?;
                j += 1;
            }
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && is(a[j], "AGGREGATE") {
            agg = match args::lower(a[j + 1]).as_str() {
                "sum" => Aggregate::Sum,
                "min" => Aggregate::Min,
                "max" => Aggregate::Max,
                _ => return Err(CmdError::Syntax),
            };
            j += 2;
        } else if dst.is_none() && !card_only && is(a[j], "WITHSCORES") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && is(a[j], "LIMIT") {
            limit = args::int_in(a[j + 1], 0, i64::MAX, "ERR LIMIT can't be negative")?;
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    // Inputs from the smallest to the largest (a stable sort, as glibc's
    // qsort is for these sizes), except for DIFF whose first input is the
    // one subtracted from.
    let mut order: Vec<usize> = (0..setnum).collect();
    if op != SetOp::Diff {
        order.sort_by_key(|&i| lens[i]);
    }
    let mut result: Vec<(Vec<u8>, f64)> = match op {
        SetOp::Union => {
            let mut acc: HashMap<Vec<u8>, f64, ahash::RandomState> = HashMap::default();
            for &i in &order {
                if lens[i] == 0 {
                    continue;
                }
                let Some(e) = c.ks.get(keys[i]) else { continue };
                let w = weights[i];
                for_each_input(&e.value, |m, s| {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m) {
                        Some(t) => aggregate(t, score, agg),
                        None => {
                            acc.insert(m.to_vec(), score);
                        }
                    }
                });
            }
            acc.into_iter().collect()
        }
        SetOp::Inter => {
            let first = order[0];
            if lens[first] == 0 {
                Vec::new()
            } else {
                let mut cand: Vec<(Vec<u8>, f64)> = Vec::with_capacity(lens[first]);
                if let Some(e) = c.ks.get(keys[first]) {
                    let w = weights[first];
                    for_each_input(&e.value, |m, s| {
                        let mut score = w * s;
                        if score.is_nan() {
                            score = 0.0;
                        }
                        cand.push((m.to_vec(), score));
                    });
                }
                for &i in &order[1..] {
                    if cand.is_empty() {
                        break;
                    }
                    let Some(e) = c.ks.get(keys[i]) else {
                        cand.clear();
                        break;
                    };
                    let w = weights[i];
                    cand.retain_mut(|(m, score)| match input_score(&e.value, m) {
                        Some(v) => {
                            aggregate(score, v * w, agg);
                            true
                        }
                        None => false,
                    });
                }
                cand
            }
        }
        SetOp::Diff => {
            if lens[0] == 0 {
                Vec::new()
            } else {
                let mut cand: Vec<(Vec<u8>, f64)> = Vec::with_capacity(lens[0]);
                if let Some(e) = c.ks.get(keys[0]) {
                    for_each_input(&e.value, |m, s| cand.push((m.to_vec(), s)));
                }
                for i in 1..setnum {
                    if cand.is_empty() {
                        break;
                    }
                    if lens[i] == 0 {
                        continue;
                    }
                    let Some(e) = c.ks.get(keys[i]) else { continue };
                    cand.retain(|(m, _)| input_score(&e.value, m).is_none());
                }
                cand
            }
        }
    };
    if card_only {
        let mut n = result.len() as i64;
        if limit > 0 {
            n = n.min(limit);
        }
        c.out.int(n);
        return Ok(());
    }
    result.sort_unstable_by(|x, y| cmp_pair(x.1, &x.0, y.1, &y.0));
    match dst {
        Some(dst) => store_result(c, dst, result, event),
        None => {
            let items: Vec<(&[u8], f64)> = result.iter().map(|(m, s)| (&m[..], *s)).collect();
            reply_items(c.out, &items, withscores);
        }
    }
    Ok(())
}
