//! SPOP, SRANDMEMBER and HRANDFIELD pick at random, so the differential net
//! can only compare the shape of their replies. These tests check what the
//! picks must satisfy on soquete alone, for every encoding (intset, small
//! string set, big string set; listpack and hashtable hashes):
//!
//! * a positive count gives distinct members of the set, `min(count, size)`
//!   of them;
//! * a negative count gives exactly `|count|` members, repeats allowed (and
//!   seen, when the count dwarfs the set);
//! * SPOP removes exactly what it returns;
//! * picks are uniform: a chi-square test over many draws, with a threshold
//!   that a fair generator exceeds with probability below 1e-6.

use std::collections::{BTreeMap, BTreeSet};

use soquete_resp::Frame;
use soquete_testkit::{Conn, ServerKind, ServerProcess};

fn server() -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(env!("CARGO_BIN_EXE_soquete-server"))
        .start()
}

fn bytes(f: &Frame) -> Vec<u8> {
    match f {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

/// The elements of an array or set reply, as byte strings.
fn items(f: Frame) -> Vec<Vec<u8>> {
    match f {
        Frame::Array(v) | Frame::Set(v) => v.iter().map(bytes).collect(),
        other => panic!("expected an aggregate, got {other:?}"),
    }
}

fn int(f: Frame) -> i64 {
    match f {
        Frame::Integer(n) => n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

fn cmd(c: &mut Conn, args: &[&str]) -> Frame {
    let r = c.cmd(args);
    if let Frame::Error(e) = &r {
        panic!("{args:?}: {}", String::from_utf8_lossy(e));
    }
    r
}

/// The members of the set at `key`.
fn members(c: &mut Conn, key: &str) -> BTreeSet<Vec<u8>> {
    items(cmd(c, &["SMEMBERS", key])).into_iter().collect()
}

/// Creates the three kinds of sets; returns (key, expected encoding, size).
fn make_sets(c: &mut Conn) -> Vec<(&'static str, &'static str, usize)> {
    let ints: Vec<String> = (0..20).map(|i| (i * 7).to_string()).collect();
    let small: Vec<String> = (0..30).map(|i| format!("m{i}")).collect();
    let big: Vec<String> = (0..1000).map(|i| format!("member:{i}")).collect();
    for (key, list) in [("ints", &ints), ("small", &small), ("big", &big)] {
        let mut args = vec!["SADD", key];
        args.extend(list.iter().map(String::as_str));
        cmd(c, &args);
    }
    let sets = vec![
        ("ints", "intset", 20),
        ("small", "hashtable", 30),
        ("big", "hashtable", 1000),
    ];
    for (key, enc, size) in &sets {
        assert_eq!(bytes(&cmd(c, &["OBJECT", "ENCODING", key])), enc.as_bytes());
        assert_eq!(int(cmd(c, &["SCARD", key])), *size as i64);
    }
    sets
}

/// Pearson's chi-square statistic of `counts` against a uniform spread.
fn chi_square(counts: &BTreeMap<Vec<u8>, u64>, categories: usize) -> f64 {
    let total: u64 = counts.values().sum();
    let expected = total as f64 / categories as f64;
    let seen: f64 = counts
        .values()
        .map(|&o| (o as f64 - expected).powi(2) / expected)
        .sum();
    // Categories never drawn contribute `expected` each.
    seen + (categories - counts.len()) as f64 * expected
}

/// A chi-square bound for `df` degrees of freedom that a uniform generator
/// exceeds with probability well below 1e-6 (mean + 7 standard deviations,
/// which is conservative for the right-skewed distribution at these df).
fn chi_square_bound(df: usize) -> f64 {
    let df = df as f64;
    df + 7.0 * (2.0 * df).sqrt() + 20.0
}

#[test]
fn srandmember_positive_count_gives_distinct_members() {
    let s = server();
    let mut c = s.connect();
    for (key, _, size) in make_sets(&mut c) {
        let all = members(&mut c, key);
        for count in [1, 2, size / 3, size / 3 + 1, size - 1, size, size + 5] {
            let got = items(cmd(&mut c, &["SRANDMEMBER", key, &count.to_string()]));
            assert_eq!(got.len(), count.min(size), "{key} count {count}");
            let distinct: BTreeSet<_> = got.iter().cloned().collect();
            assert_eq!(distinct.len(), got.len(), "{key} count {count}: repeats");
            assert!(distinct.is_subset(&all), "{key}: picked a non-member");
        }
        // Reading never changes the set.
        assert_eq!(members(&mut c, key), all);
    }
}

#[test]
fn srandmember_negative_count_allows_repeats() {
    let s = server();
    let mut c = s.connect();
    for (key, _, size) in make_sets(&mut c) {
        let all = members(&mut c, key);
        for count in [1, 5, size, 3 * size] {
            let got = items(cmd(&mut c, &["SRANDMEMBER", key, &format!("-{count}")]));
            assert_eq!(got.len(), count, "{key} count -{count}");
            assert!(got.iter().all(|m| all.contains(m)), "{key}: non-member");
            if count == 3 * size {
                let distinct: BTreeSet<_> = got.iter().collect();
                assert!(distinct.len() < count, "{key}: no repeat in {count} picks");
            }
        }
    }
}

#[test]
fn srandmember_picks_uniformly() {
    let s = server();
    let mut c = s.connect();
    for (key, _, size) in make_sets(&mut c) {
        let draws = size * 200;
        let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for m in items(cmd(&mut c, &["SRANDMEMBER", key, &format!("-{draws}")])) {
            *counts.entry(m).or_default() += 1;
        }
        let chi = chi_square(&counts, size);
        assert!(
            chi < chi_square_bound(size - 1),
            "{key}: chi-square {chi:.1} over {size} members is not uniform"
        );
        // Single picks (no count) too.
        let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        let singles = 40 * size.min(50);
        for _ in 0..singles {
            *counts
                .entry(bytes(&cmd(&mut c, &["SRANDMEMBER", key])))
                .or_default() += 1;
        }
        assert!(counts.keys().all(|m| members(&mut c, key).contains(m)));
    }
}

#[test]
fn spop_removes_exactly_what_it_returns() {
    let s = server();
    let mut c = s.connect();
    for (key, _, size) in make_sets(&mut c) {
        let mut left = members(&mut c, key);
        // Small pops (remove one by one), then one that keeps only a few
        // (Redis rebuilds the set from what stays), then the rest.
        for count in [1, 3, size / 10] {
            let got = items(cmd(&mut c, &["SPOP", key, &count.to_string()]));
            assert_eq!(got.len(), count, "{key} SPOP {count}");
            let distinct: BTreeSet<_> = got.iter().cloned().collect();
            assert_eq!(distinct.len(), count, "{key}: SPOP returned a repeat");
            for m in &got {
                assert!(left.remove(m), "{key}: popped a non-member");
            }
            assert_eq!(members(&mut c, key), left);
        }
        let single = bytes(&cmd(&mut c, &["SPOP", key]));
        assert!(left.remove(&single));
        let keep = 2;
        let count = left.len() - keep;
        let got = items(cmd(&mut c, &["SPOP", key, &count.to_string()]));
        assert_eq!(got.len(), count);
        for m in &got {
            assert!(left.remove(m), "{key}: popped a non-member");
        }
        assert_eq!(members(&mut c, key), left);
        assert_eq!(int(cmd(&mut c, &["SCARD", key])), keep as i64);
        let rest = items(cmd(&mut c, &["SPOP", key, "100"]));
        assert_eq!(rest.into_iter().collect::<BTreeSet<_>>(), left);
        assert_eq!(int(cmd(&mut c, &["EXISTS", key])), 0);
    }
}

#[test]
fn spop_picks_uniformly() {
    let s = server();
    let mut c = s.connect();
    // Which member goes first, over many fresh sets of each kind.
    let kinds: [(&str, Vec<String>); 2] = [
        ("ints", (0..10).map(|i| i.to_string()).collect()),
        ("strs", (0..10).map(|i| format!("s{i}")).collect()),
    ];
    for (key, list) in &kinds {
        let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for _ in 0..2000 {
            let mut args = vec!["SADD", key];
            args.extend(list.iter().map(String::as_str));
            cmd(&mut c, &args);
            *counts
                .entry(bytes(&cmd(&mut c, &["SPOP", key])))
                .or_default() += 1;
            cmd(&mut c, &["DEL", key]);
        }
        let chi = chi_square(&counts, list.len());
        assert!(
            chi < chi_square_bound(list.len() - 1),
            "{key}: SPOP chi-square {chi:.1} is not uniform: {counts:?}"
        );
    }
}

/// Creates a listpack hash and a hashtable hash; returns (key, size).
fn make_hashes(c: &mut Conn) -> Vec<(&'static str, usize)> {
    for (key, n) in [("small", 20usize), ("big", 700)] {
        let fields: Vec<String> = (0..n)
            .flat_map(|i| [format!("f{i}"), format!("v{i}")])
            .collect();
        let mut args = vec!["HSET", key];
        args.extend(fields.iter().map(String::as_str));
        cmd(c, &args);
    }
    assert_eq!(
        bytes(&cmd(c, &["OBJECT", "ENCODING", "small"])),
        b"listpack"
    );
    assert_eq!(bytes(&cmd(c, &["OBJECT", "ENCODING", "big"])), b"hashtable");
    vec![("small", 20), ("big", 700)]
}

/// The value HSET gave field `f<i>`.
fn value_of(field: &[u8]) -> Vec<u8> {
    let mut v = field.to_vec();
    v[0] = b'v';
    v
}

#[test]
fn hrandfield_counts_and_values() {
    let s = server();
    let mut c = s.connect();
    for (key, size) in make_hashes(&mut c) {
        let fields: BTreeSet<Vec<u8>> = items(cmd(&mut c, &["HKEYS", key])).into_iter().collect();
        for count in [1, 3, size / 3 + 1, size - 1, size, size * 2] {
            let got = items(cmd(&mut c, &["HRANDFIELD", key, &count.to_string()]));
            assert_eq!(got.len(), count.min(size));
            let distinct: BTreeSet<_> = got.iter().cloned().collect();
            assert_eq!(distinct.len(), got.len(), "{key} {count}: repeats");
            assert!(distinct.is_subset(&fields));
            let pairs = items(cmd(
                &mut c,
                &["HRANDFIELD", key, &count.to_string(), "WITHVALUES"],
            ));
            assert_eq!(pairs.len(), 2 * count.min(size));
            for p in pairs.chunks(2) {
                assert_eq!(p[1], value_of(&p[0]), "{key}: value of the wrong field");
            }
        }
        let many = 3 * size;
        let got = items(cmd(&mut c, &["HRANDFIELD", key, &format!("-{many}")]));
        assert_eq!(got.len(), many);
        assert!(got.iter().all(|f| fields.contains(f)));
        assert!(
            got.iter().collect::<BTreeSet<_>>().len() < many,
            "no repeats"
        );
        // Uniform over the fields.
        let draws = size * 200;
        let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for f in items(cmd(&mut c, &["HRANDFIELD", key, &format!("-{draws}")])) {
            *counts.entry(f).or_default() += 1;
        }
        let chi = chi_square(&counts, size);
        assert!(
            chi < chi_square_bound(size - 1),
            "{key}: chi-square {chi:.1}"
        );
        // RESP3: WITHVALUES gives [field, value] pairs.
        let mut c3 = s.connect();
        c3.hello3();
        match c3.cmd(&["HRANDFIELD", key, "-5", "WITHVALUES"]) {
            Frame::Array(v) => {
                assert_eq!(v.len(), 5);
                for pair in v {
                    let p = items(pair);
                    assert_eq!(p.len(), 2);
                    assert_eq!(p[1], value_of(&p[0]));
                }
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn huge_negative_counts_are_refused_not_attempted() {
    // Redis tries to build the reply and can be killed for it; soquete
    // answers an error and stays up.
    let s = server();
    let mut c = s.connect();
    cmd(&mut c, &["SADD", "s", "a"]);
    cmd(&mut c, &["HSET", "h", "f", "v"]);
    for args in [
        &["SRANDMEMBER", "s", "-9223372036854775807"][..],
        &["HRANDFIELD", "h", "-9223372036854775807"][..],
        &["HRANDFIELD", "h", "-4611686018427387903", "WITHVALUES"][..],
    ] {
        assert!(matches!(c.cmd(args), Frame::Error(_)), "{args:?}");
    }
    assert_eq!(int(cmd(&mut c, &["SCARD", "s"])), 1);
}
