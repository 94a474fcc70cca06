//! Redis's partial quicksort (`pqsort.c`): sorts only as much of a slice as
//! it takes to put the elements of ranks `lo..=hi` in place.
//!
//! GEOSEARCH with a COUNT smaller than the matches sorts with it, and which
//! of several equally distant members comes first (or is returned at all)
//! depends on the exact sequence of swaps. This is Bentley and McIlroy's
//! quicksort as Redis carries it, step for step, on indices instead of
//! pointers.

use std::cmp::Ordering;

/// Sorts `v` enough that ranks `lo..=hi` hold what a full sort would put
/// there, with the same swaps as Redis's `pqsort(v, n, es, cmp, lo, hi)`.
///
/// ```
/// let mut v = [5, 3, 9, 1, 7, 2, 8, 6, 4, 0];
/// soquete_server::util::pqsort::pqsort(&mut v, &|a: &i32, b: &i32| a.cmp(b), 0, 2);
/// assert_eq!(&v[..3], &[0, 1, 2]);
/// ```
pub fn pqsort<T>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> Ordering, lo: usize, hi: usize) {
    let n = v.len();
    sort(v, 0, n, cmp, lo, hi);
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &dyn Fn(&T, &T) -> Ordering) -> usize {
    let lt = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Less;
    let gt = |x: usize, y: usize| cmp(&v[x], &v[y]) == Ordering::Greater;
    if lt(a, b) {
        if lt(b, c) {
            b
        } else if lt(a, c) {
            c
        } else {
            a
        }
    } else if gt(b, c) {
        b
    } else if lt(a, c) {
        a
    } else {
        c
    }
}

fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// Whether the elements `s..s + len` are wholly outside `lo..=hi`.
fn outside(s: usize, len: usize, lo: usize, hi: usize) -> bool {
    (lo < s && hi < s) || (lo >= s + len && hi >= s + len)
}

fn sort<T>(
    v: &mut [T],
    mut a: usize,
    mut n: usize,
    cmp: &dyn Fn(&T, &T) -> Ordering,
    lo: usize,
    hi: usize,
) {
    loop {
        if n < 7 {
            for pm in a + 1..a + n {
                let mut pl = pm;
                while pl > a && cmp(&v[pl - 1], &v[pl]) == Ordering::Greater {
                    v.swap(pl, pl - 1);
                    pl -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[a]);
                if r == Ordering::Greater {
                    break;
                }
                if r == Ordering::Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[a]);
                if r == Ordering::Less {
                    break;
                }
                if r == Ordering::Equal {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && !outside(a, r, lo, hi) {
            sort(v, a, r, cmp, lo, hi);
        }
        let r = pd - pc;
        if r > 1 {
            a = pn - r;
            n = r;
            if !outside(a, r, lo, hi) {
                continue;
            }
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn puts_the_requested_ranks_in_place(
            mut v in proptest::collection::vec(0u8..20, 1..200),
            a in any::<prop::sample::Index>(),
            b in any::<prop::sample::Index>(),
        ) {
            let (x, y) = (a.index(v.len()), b.index(v.len()));
            let (lo, hi) = (x.min(y), x.max(y));
            let mut sorted = v.clone();
            sorted.sort();
            let mut all = v.clone();
            all.sort();
            pqsort(&mut v, &|p: &u8, q: &u8| p.cmp(q), lo, hi);
            prop_assert_eq!(&v[lo..=hi], &sorted[lo..=hi]);
            v.sort();
            prop_assert_eq!(v, all);
        }
    }

    #[test]
    fn sorts_everything_when_asked_for_every_rank() {
        let mut v: Vec<u32> = (0..500).map(|i| (i * 7919) % 503).collect();
        let n = v.len();
        pqsort(&mut v, &|a: &u32, b: &u32| a.cmp(b), 0, n - 1);
        assert!(v.windows(2).all(|w| w[0] <= w[1]));
    }
}
