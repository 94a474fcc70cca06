//! Glob-style pattern matching with the exact semantics of Redis 7.0's
//! `stringmatchlen()` (`src/util.c`), as used by `KEYS`, `SCAN … MATCH`,
//! `PSUBSCRIBE`, `PUBSUB CHANNELS`, `CONFIG GET`, `COMMAND LIST FILTERBY
//! PATTERN` and the `MATCH` option of `HSCAN`/`SSCAN`/`ZSCAN`.
//!
//! # Syntax
//!
//! * `*` matches any run of bytes, `?` any single byte.
//! * `[abc]` a byte from the set, `[^abc]` a byte not in it, `[a-z]` a range
//!   (a reversed range such as `[z-a]` is the same as `[a-z]`), `\x` inside a
//!   class is a literal `x`.
//! * `\x` outside a class matches `x` literally; a lone trailing `\` matches
//!   a backslash.
//!
//! # Redis quirks reproduced here (all checked against `redis-server` 7.0.15)
//!
//! * An **empty string matches only the empty pattern**: `glob_match(b"*", b"",
//!   false)` is `false`, as is `**`. (`KEYS *` and `SCAN` still list an empty
//!   key because those commands skip matching entirely when the pattern is
//!   exactly `*`; callers must keep that shortcut to match Redis.)
//! * An unterminated class runs to the end of the pattern: `[abc` is the
//!   class `{a, b, c}`, `[` never matches, and `[^` matches any one byte.
//! * Range bounds are compared as C `char`, which is signed on x86-64: a range
//!   written with a byte ≥ 0x80 behaves as if that byte were negative.
//! * With `nocase`, only ASCII `A`–`Z` fold; bytes escaped inside a class are
//!   compared case-sensitively; range bounds are lowered *after* a reversed
//!   range is swapped, so `[Z-a]` with `nocase` matches nothing.
//! * Every `*` that is followed by more pattern recurses one level; beyond
//!   1000 levels the match fails (Redis's protection against abusive
//!   patterns, CVE-2022-36021). `"*?"` repeated 1000 times matches a long
//!   enough string, repeated 1001 times it never matches.
//! * Once the rest of the pattern after some `*` has failed to match at every
//!   later position, the whole match fails immediately
//!   (`skipLongerMatches`). Together with the nesting cap this bounds the
//!   work to roughly `O(pattern.len() * string.len())`; no pattern can take
//!   exponential time.

/// Nesting depth beyond which Redis gives up (`if (nesting > 1000) return 0`).
const MAX_NESTING: u32 = 1000;

/// Returns whether `string` matches the glob `pattern`, exactly as Redis 7.0's
/// `stringmatchlen(pattern, string, nocase)` does.
///
/// `nocase` folds ASCII letters (Redis passes `1` for `CONFIG GET` and
/// `COMMAND LIST FILTERBY PATTERN`, `0` for keys, channels and `SCAN`).
///
/// See the module documentation for the exact syntax and the quirks that are
/// reproduced; note in particular that an empty `string` matches only an
/// empty `pattern`.
///
/// # Examples
///
/// ```ignore
/// assert!(glob_match(b"h?llo", b"hello", false));
/// assert!(glob_match(b"h[^e]llo", b"hallo", false));
/// assert!(glob_match(b"H*", b"hello", true));
/// assert!(!glob_match(b"*", b"", false));
/// ```
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer_matches = false;
    match_from(pattern, string, nocase, &mut skip_longer_matches, 0)
}

/// The byte at `i`, or 0 past the end: Redis reads the NUL terminator of the
/// pattern's sds string in a few places, and 0 is never a special character.
#[inline]
fn byte_at(p: &[u8], i: usize) -> u8 {
    p.get(i).copied().unwrap_or(0)
}

/// C's `tolower()` in the "C" locale (Redis never sets `LC_CTYPE`), applied
/// to a value that came from a (signed) `char`.
#[inline]
fn c_tolower(c: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&c) {
        c + 32
    } else {
        c
    }
}

#[inline]
fn bytes_equal(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// The recursive matcher (`stringmatchlen_impl`). `skip` is the shared
/// `skipLongerMatches` flag and `nesting` the recursion depth.
fn match_from(p: &[u8], s: &[u8], nocase: bool, skip: &mut bool, nesting: u32) -> bool {
    if nesting > MAX_NESTING {
        return false;
    }
    let mut pi = 0usize;
    let mut si = 0usize;
    while pi < p.len() && si < s.len() {
        match p[pi] {
            b'*' => {
                while pi < p.len() && byte_at(p, pi + 1) == b'*' {
                    pi += 1;
                }
                if pi + 1 == p.len() {
                    return true;
                }
                while si < s.len() {
                    if match_from(&p[pi + 1..], &s[si..], nocase, skip, nesting + 1) {
                        return true;
                    }
                    if *skip {
                        return false;
                    }
                    si += 1;
                }
                // The rest of the pattern matches nowhere in the rest of the
                // string: a longer match for any earlier '*' cannot help.
                *skip = true;
                return false;
            }
            b'?' => si += 1,
            b'[' => {
                pi += 1;
                let negate = byte_at(p, pi) == b'^';
                if negate {
                    pi += 1;
                }
                let c = s[si];
                let mut matched = false;
                loop {
                    let rem = p.len() - pi;
                    let b = byte_at(p, pi);
                    if b == b'\\' && rem >= 2 {
                        pi += 1;
                        if p[pi] == c {
                            matched = true;
                        }
                    } else if b == b']' {
                        break;
                    } else if rem == 0 {
                        // Unterminated class: step back so that the common
                        // advance below lands exactly on the pattern's end.
                        pi -= 1;
                        break;
                    } else if rem >= 3 && p[pi + 1] == b'-' {
                        // Signed `char` comparisons, as in C on x86-64.
                        let mut start = i32::from(p[pi] as i8);
                        let mut end = i32::from(p[pi + 2] as i8);
                        let mut cc = i32::from(c as i8);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = c_tolower(start);
                            end = c_tolower(end);
                            cc = c_tolower(cc);
                        }
                        pi += 2;
                        if cc >= start && cc <= end {
                            matched = true;
                        }
                    } else if bytes_equal(b, c, nocase) {
                        matched = true;
                    }
                    pi += 1;
                }
                if negate {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                si += 1;
            }
            b => {
                let mut b = b;
                if b == b'\\' && p.len() - pi >= 2 {
                    pi += 1;
                    b = p[pi];
                }
                if !bytes_equal(b, s[si], nocase) {
                    return false;
                }
                si += 1;
            }
        }
        pi += 1;
        if si == s.len() {
            while byte_at(p, pi) == b'*' {
                pi += 1;
            }
            break;
        }
    }
    pi == p.len() && si == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Independent reference: tokenize the pattern the way Redis reads it,
    /// then match with a dynamic program (no backtracking, no depth limit).
    #[derive(Debug)]
    enum Tok {
        Star,
        Any,
        Lit(u8),
        /// Items of a class: (lo, hi) signed ranges or escaped/plain bytes.
        Class {
            negate: bool,
            items: Vec<ClassItem>,
        },
    }

    #[derive(Debug)]
    enum ClassItem {
        Escaped(u8),
        Plain(u8),
        Range(u8, u8),
    }

    fn tokenize(p: &[u8]) -> Vec<Tok> {
        let mut toks = Vec::new();
        let mut i = 0;
        while i < p.len() {
            match p[i] {
                b'*' => {
                    toks.push(Tok::Star);
                    i += 1;
                }
                b'?' => {
                    toks.push(Tok::Any);
                    i += 1;
                }
                b'[' => {
                    i += 1;
                    let negate = i < p.len() && p[i] == b'^';
                    if negate {
                        i += 1;
                    }
                    let mut items = Vec::new();
                    loop {
                        if i >= p.len() {
                            break;
                        }
                        if p[i] == b'\\' && i + 1 < p.len() {
                            items.push(ClassItem::Escaped(p[i + 1]));
                            i += 2;
                        } else if p[i] == b']' {
                            i += 1;
                            break;
                        } else if i + 2 < p.len() && p[i + 1] == b'-' {
                            items.push(ClassItem::Range(p[i], p[i + 2]));
                            i += 3;
                        } else {
                            items.push(ClassItem::Plain(p[i]));
                            i += 1;
                        }
                    }
                    toks.push(Tok::Class { negate, items });
                }
                b'\\' if i + 1 < p.len() => {
                    toks.push(Tok::Lit(p[i + 1]));
                    i += 2;
                }
                b => {
                    toks.push(Tok::Lit(b));
                    i += 1;
                }
            }
        }
        toks
    }

    fn tok_matches(t: &Tok, c: u8, nocase: bool) -> bool {
        let low = |x: u8| if nocase { x.to_ascii_lowercase() } else { x };
        match t {
            Tok::Star => unreachable!(),
            Tok::Any => true,
            Tok::Lit(b) => low(*b) == low(c),
            Tok::Class { negate, items } => {
                let hit = items.iter().any(|it| match *it {
                    ClassItem::Escaped(b) => b == c,
                    ClassItem::Plain(b) => low(b) == low(c),
                    ClassItem::Range(a, b) => {
                        let (mut lo, mut hi) = (a as i8 as i32, b as i8 as i32);
                        if lo > hi {
                            std::mem::swap(&mut lo, &mut hi);
                        }
                        let mut cc = c as i8 as i32;
                        if nocase {
                            lo = c_tolower(lo);
                            hi = c_tolower(hi);
                            cc = c_tolower(cc);
                        }
                        lo <= cc && cc <= hi
                    }
                });
                hit != *negate
            }
        }
    }

    fn reference(p: &[u8], s: &[u8], nocase: bool) -> bool {
        if s.is_empty() {
            return p.is_empty();
        }
        let toks = tokenize(p);
        // Redis fails once more than 1000 stars (each followed by more
        // pattern) are nested; the reference only models small patterns.
        assert!(toks.len() < 500);
        // dp[j] = pattern prefix of i tokens matches string prefix of j bytes.
        let mut dp = vec![false; s.len() + 1];
        dp[0] = true;
        for t in &toks {
            let mut next = vec![false; s.len() + 1];
            match t {
                Tok::Star => {
                    let mut any = false;
                    for j in 0..=s.len() {
                        any |= dp[j];
                        next[j] = any;
                    }
                }
                _ => {
                    for j in 0..s.len() {
                        if dp[j] && tok_matches(t, s[j], nocase) {
                            next[j + 1] = true;
                        }
                    }
                }
            }
            dp = next;
        }
        dp[s.len()]
    }

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn keyspace_tcl_keys_with_pattern() {
        // tests/unit/keyspace.tcl "KEYS with pattern" / "KEYS with hashtag".
        let keys = [
            "key_x", "key_y", "key_z", "foo_a", "foo_b", "foo_c", "{a}x", "{a}y", "{a}z", "{b}a",
            "{b}b", "{b}c",
        ];
        let sel = |p: &str| -> Vec<&str> { keys.iter().copied().filter(|k| m(p, k)).collect() };
        assert_eq!(sel("foo*"), ["foo_a", "foo_b", "foo_c"]);
        assert_eq!(sel("*"), keys);
        assert_eq!(sel("{a}*"), ["{a}x", "{a}y", "{a}z"]);
        assert_eq!(sel("*{b}*"), ["{b}a", "{b}b", "{b}c"]);
    }

    #[test]
    fn keyspace_tcl_long_nested_loops() {
        // "Regression for pattern matching long nested loops".
        let key = "a".repeat(40);
        assert!(!m("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", &key));
        // "Regression for pattern matching very long nested loops".
        let key = "a".repeat(50_000);
        assert!(!m(&"*?".repeat(50_000), &key));
    }

    #[test]
    fn nesting_limit_matches_redis() {
        // Checked with redis-server 7.0.15: SET <50000 a's>, then KEYS:
        // "*?"x1000+"*" -> match, "*?"x1001+"*" -> none, "*?"x1000 -> match,
        // "*?"x1001 -> none, "a*"x1001 -> match, "a*"x1002 -> none.
        let key = "a".repeat(50_000);
        assert!(m(&("*?".repeat(1000) + "*"), &key));
        assert!(!m(&("*?".repeat(1001) + "*"), &key));
        assert!(m(&"*?".repeat(1000), &key));
        assert!(!m(&"*?".repeat(1001), &key));
        assert!(m(&"a*".repeat(1001), &key));
        assert!(!m(&"a*".repeat(1002), &key));
    }

    #[test]
    fn pathological_pattern_is_bounded() {
        let key = "a".repeat(10_000);
        assert!(!m("a*a*a*a*a*a*a*a*a*a*a*b", &key));
        assert!(m("a*a*a*a*a*a*a*a*a*a*a*a", &key));
        let pat = "*a".repeat(500) + "b";
        assert!(!m(&pat, &key));
        let pat = "*?".repeat(999) + "[b]";
        assert!(!m(&pat, &key));
    }

    #[test]
    fn empty_string_matches_only_empty_pattern() {
        // redis-server 7.0.15: SET "" x; KEYS "**" -> (empty), KEYS "" -> "",
        // KEYS "*?" -> (empty), KEYS "[^" -> (empty).
        assert!(m("", ""));
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(!m("*?", ""));
        assert!(!m("[^", ""));
        assert!(!m("", "a"));
    }

    #[test]
    fn class_edge_cases_match_redis() {
        // redis-server 7.0.15 with the single key "a":
        // KEYS [^ -> a; [ -> none; [a -> a; [^a -> none; a\ -> none;
        // [a- -> a; [\ -> none; [] -> none; []a] -> none; [a-] -> a.
        assert!(m("[^", "a"));
        assert!(!m("[", "a"));
        assert!(m("[a", "a"));
        assert!(!m("[^a", "a"));
        assert!(!m("a\\", "a"));
        assert!(m("[a-", "a"));
        assert!(!m("[\\", "a"));
        assert!(!m("[]", "a"));
        assert!(!m("[]a]", "a"));
        assert!(m("[a-]", "a"));
        assert!(m("[z-a]", "q"));
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("a\\", "a\\"));
    }

    #[test]
    fn nocase_rules() {
        assert!(glob_match(b"HELLO", b"hello", true));
        assert!(glob_match(b"h[A-Z]llo", b"hello", true));
        assert!(glob_match(b"h[^A-D]llo", b"hello", true));
        // Escaped class members compare case-sensitively.
        assert!(!glob_match(b"[\\E]", b"e", true));
        assert!(glob_match(b"[E]", b"e", true));
        // Bounds are lowered after swapping: [Z-a] becomes [z..a], empty.
        assert!(!glob_match(b"[Z-a]", b"z", true));
        assert!(glob_match(b"[Z-a]", b"_", false));
        assert!(!glob_match(b"HELLO", b"hello", false));
    }

    #[test]
    fn high_bytes_use_signed_ranges() {
        // [a-\xff] is [-1, 97] as signed char: 0xff and '0' are in, 'b' and
        // 0x80 (-128) are out.
        assert!(glob_match(b"[a-\xff]", b"\xff", false));
        assert!(glob_match(b"[a-\xff]", b"0", false));
        assert!(!glob_match(b"[a-\xff]", b"b", false));
        assert!(!glob_match(b"[a-\xff]", b"\x80", false));
        assert!(glob_match(b"[\x80-\xff]", b"\x90", false));
        assert!(glob_match(b"\xe9*", b"\xe9t\xe9", false));
    }

    /// Vectors produced by redis-server 7.0.15 with `testdata/num/gen_glob.py`:
    /// case-sensitive results from `KEYS` over a fixed key set,
    /// case-insensitive ones from `COMMAND LIST FILTERBY PATTERN` over every
    /// command name.
    #[test]
    fn golden_vectors_from_redis() {
        let text = include_str!("../../testdata/num/glob.txt");
        let (mut keys, mut names) = (Vec::new(), Vec::new());
        let (mut checked, mut matched) = (0, 0);
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = line.split('\t').collect();
            match f[0] {
                "k" => keys.push(hex(f[1])),
                "n" => names.push(hex(f[1])),
                "c" | "i" => {
                    let nocase = f[0] == "i";
                    let universe = if nocase { &names } else { &keys };
                    let pat = hex(f[1]);
                    let bits = hex(f[2]);
                    for (i, s) in universe.iter().enumerate() {
                        let want = bits[i / 8] & (1 << (i % 8)) != 0;
                        assert_eq!(
                            glob_match(&pat, s, nocase),
                            want,
                            "pattern {:?} string {:?} nocase {nocase}",
                            String::from_utf8_lossy(&pat),
                            String::from_utf8_lossy(s)
                        );
                        checked += 1;
                        matched += usize::from(want);
                    }
                }
                other => panic!("bad line kind {other:?}"),
            }
        }
        assert!(
            checked > 100_000 && matched > 2_000,
            "{checked} checked, {matched} matched"
        );
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn small_alphabet() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(prop::sample::select(b"ab*?[]^-\\A\xe9".to_vec()), 0..12)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn agrees_with_reference(p in small_alphabet(), s in small_alphabet(), nocase: bool) {
            prop_assert_eq!(glob_match(&p, &s, nocase), reference(&p, &s, nocase));
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(p in prop::collection::vec(any::<u8>(), 0..40),
                                           s in prop::collection::vec(any::<u8>(), 0..40),
                                           nocase: bool) {
            prop_assert_eq!(glob_match(&p, &s, nocase), reference(&p, &s, nocase));
        }

        #[test]
        fn literal_pattern_matches_itself(s in prop::collection::vec(1u8..=255, 1..30)) {
            let mut p = Vec::new();
            for &b in &s {
                if matches!(b, b'*' | b'?' | b'[' | b'\\') {
                    p.push(b'\\');
                }
                p.push(b);
            }
            prop_assert!(glob_match(&p, &s, false));
        }
    }
}
