//! Random-sequence templates for the sorted set commands.
//!
//! Sorted sets live on the shared key space (`k0`..`k3`), so they collide
//! with the other types there and the WRONGTYPE paths get exercised. Scores
//! come from a pool of exactly representable values, infinities, `-0` and
//! invalid spellings; members from a small pool (so that updates, ranks and
//! set operations hit) plus one 65-byte member that forces the skiplist
//! encoding, as does the occasional `CONFIG SET zset-max-listpack-entries`.
//!
//! Lexicographic ranges are only defined when all scores are equal; over
//! mixed scores a skiplist's answer depends on its random levels, in Redis
//! too. So the lexicographic commands work on two keys of their own, `zl0`
//! and `zl1`, which only ever receive score 0.

use crate::gen::Arg::*;
use crate::gen::{t, Arg, Template};

/// Scores: exact values, infinities, `-0`, and invalid ones.
pub const SCORES: &[&str] = &[
    "0",
    "1",
    "-1",
    "2.5",
    "-0",
    "1e3",
    "0.1",
    "inf",
    "-inf",
    "+inf",
    "100000000000000000",
    "9007199254740993",
    "1",
    "2",
    "nan",
    "abc",
    "",
    "1e400",
];
/// Members: a few short ones, numeric-looking ones, binary, one too long
/// for a listpack.
pub const MEMBERS: &[&str] = &[
    "a",
    "b",
    "c",
    "d",
    "e",
    "",
    "1",
    "-0",
    "\u{0}\u{ff}",
    "a",
    "b",
    "0123456789012345678901234567890123456789012345678901234567890123x",
];
/// Score range bounds.
pub const BOUNDS: &[&str] = &[
    "-inf", "+inf", "0", "1", "(1", "2.5", "(2.5", "-1", "(-inf", "inf", "(inf", "x", "", "(",
    "nan",
];
/// Lexicographic range bounds.
pub const LEX_BOUNDS: &[&str] = &[
    "-", "+", "[a", "(a", "[b", "(c", "[", "(", "[e", "a", "[\u{0}", "+x",
];
/// LIMIT offsets and counts.
pub const LIMITS: &[&str] = &["0", "1", "2", "-1", "10", "-5", "x"];
/// Weights.
pub const WEIGHTS: &[&str] = &["1", "2", "-1", "0", "0.5", "inf", "-0", "x"];
/// Counts for ZPOPMIN/ZPOPMAX/ZRANDMEMBER/ZMPOP.
pub const COUNTS: &[&str] = &["0", "1", "2", "3", "100", "-1", "-3", "x"];

const SCORE: Arg = OneOf(SCORES);
const MEMBER: Arg = OneOf(MEMBERS);
const BOUND: Arg = OneOf(BOUNDS);
const LEX: Arg = OneOf(LEX_BOUNDS);
const LEXKEY: Arg = OneOf(&["zl0", "zl1"]);
const LIMIT: Arg = Opt(&[Lit("LIMIT"), OneOf(LIMITS), OneOf(LIMITS)]);
const COUNT: Arg = OneOf(COUNTS);

/// The inputs of a set operation: numkeys and that many keys (sometimes a
/// wrong count), then options.
const SETOP_KEYS: Arg = Either(&[
    &[Lit("1"), AnyKey],
    &[Lit("2"), Key, Key],
    &[Lit("2"), Key, LEXKEY],
    &[Lit("3"), Key, Key, Key],
    &[OneOf(&["0", "-1", "3", "x"]), Key],
]);
const WEIGHTS_OPT: Arg = Opt(&[Lit("WEIGHTS"), Repeat(&[OneOf(WEIGHTS)], 3)]);
const AGGREGATE_OPT: Arg = Opt(&[
    Lit("AGGREGATE"),
    OneOf(&["SUM", "MIN", "MAX", "min", "AVG"]),
]);

/// The sorted set templates.
pub static TEMPLATES: &[Template] = &[
    t(
        10,
        &[
            Lit("ZADD"),
            Key,
            Opt(&[OneOf(&["NX", "XX", "nx", "XX"])]),
            Opt(&[OneOf(&["GT", "LT"])]),
            Opt(&[Lit("CH")]),
            Opt(&[Lit("INCR")]),
            Repeat(&[SCORE, MEMBER], 3),
        ],
        "",
    ),
    t(3, &[Lit("ZINCRBY"), Key, SCORE, MEMBER], ""),
    t(3, &[Lit("ZREM"), Key, Repeat(&[MEMBER], 3)], ""),
    t(3, &[Lit("ZSCORE"), AnyKey, MEMBER], ""),
    t(2, &[Lit("ZMSCORE"), AnyKey, Repeat(&[MEMBER], 3)], ""),
    t(2, &[Lit("ZCARD"), AnyKey], ""),
    t(2, &[Lit("ZCOUNT"), AnyKey, BOUND, BOUND], ""),
    t(3, &[OneOf(&["ZRANK", "ZREVRANK"]), AnyKey, MEMBER], ""),
    t(
        4,
        &[
            Lit("ZRANGE"),
            AnyKey,
            Index,
            Index,
            Opt(&[Lit("REV")]),
            Opt(&[Lit("WITHSCORES")]),
        ],
        "",
    ),
    t(
        3,
        &[
            Lit("ZRANGE"),
            AnyKey,
            BOUND,
            BOUND,
            Lit("BYSCORE"),
            Opt(&[Lit("REV")]),
            LIMIT,
            Opt(&[Lit("WITHSCORES")]),
        ],
        "",
    ),
    t(
        3,
        &[
            OneOf(&["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]),
            AnyKey,
            BOUND,
            BOUND,
            Opt(&[Lit("WITHSCORES")]),
            LIMIT,
        ],
        "",
    ),
    t(
        2,
        &[
            Lit("ZREVRANGE"),
            AnyKey,
            Index,
            Index,
            Opt(&[Lit("WITHSCORES")]),
        ],
        "",
    ),
    t(
        2,
        &[
            Lit("ZRANGESTORE"),
            Key,
            AnyKey,
            Either(&[
                &[Index, Index],
                &[BOUND, BOUND, Lit("BYSCORE")],
                &[LEX, LEX, Lit("BYLEX")],
            ]),
            Opt(&[Lit("REV")]),
            LIMIT,
        ],
        "",
    ),
    t(
        3,
        &[OneOf(&["ZPOPMIN", "ZPOPMAX"]), AnyKey, Opt(&[COUNT])],
        "",
    ),
    t(
        2,
        &[
            Lit("ZMPOP"),
            Either(&[
                &[Lit("1"), AnyKey],
                &[Lit("2"), Key, Key],
                &[OneOf(&["0", "-1", "3"]), Key],
            ]),
            OneOf(&["MIN", "MAX", "max", "MID"]),
            Opt(&[Lit("COUNT"), COUNT]),
        ],
        "",
    ),
    t(2, &[Lit("ZREMRANGEBYRANK"), Key, Index, Index], ""),
    t(2, &[Lit("ZREMRANGEBYSCORE"), Key, BOUND, BOUND], ""),
    t(
        3,
        &[
            OneOf(&["ZUNION", "ZINTER", "ZDIFF"]),
            SETOP_KEYS,
            WEIGHTS_OPT,
            AGGREGATE_OPT,
            Opt(&[Lit("WITHSCORES")]),
        ],
        "",
    ),
    t(
        2,
        &[
            OneOf(&["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]),
            Key,
            SETOP_KEYS,
            WEIGHTS_OPT,
            AGGREGATE_OPT,
        ],
        "",
    ),
    t(
        1,
        &[
            Lit("ZINTERCARD"),
            SETOP_KEYS,
            Opt(&[Lit("LIMIT"), OneOf(LIMITS)]),
        ],
        "",
    ),
    t(2, &[Lit("ZRANDMEMBER"), AnyKey], "!type-only"),
    t(
        2,
        &[
            Lit("ZRANDMEMBER"),
            AnyKey,
            COUNT,
            Opt(&[OneOf(&["WITHSCORES", "withscores", "FOO"])]),
        ],
        "!len",
    ),
    t(
        1,
        &[
            Lit("ZSCAN"),
            AnyKey,
            Lit("0"),
            Opt(&[Lit("MATCH"), OneOf(&["*", "a*", "[ab]", "x*"])]),
            Opt(&[Lit("COUNT"), OneOf(&["1", "2", "10", "0"])]),
        ],
        "!scan-all",
    ),
    // --- lexicographic commands, on keys whose scores are all 0
    t(
        3,
        &[
            Lit("ZADD"),
            LEXKEY,
            Opt(&[OneOf(&["NX", "XX", "CH"])]),
            Repeat(&[Lit("0"), MEMBER], 3),
        ],
        "",
    ),
    t(1, &[Lit("ZREM"), LEXKEY, Repeat(&[MEMBER], 2)], ""),
    t(
        3,
        &[
            OneOf(&["ZRANGEBYLEX", "ZREVRANGEBYLEX"]),
            LEXKEY,
            LEX,
            LEX,
            LIMIT,
        ],
        "",
    ),
    t(
        2,
        &[
            Lit("ZRANGE"),
            LEXKEY,
            LEX,
            LEX,
            Lit("BYLEX"),
            Opt(&[Lit("REV")]),
            LIMIT,
        ],
        "",
    ),
    t(2, &[Lit("ZLEXCOUNT"), LEXKEY, LEX, LEX], ""),
    t(1, &[Lit("ZREMRANGEBYLEX"), LEXKEY, LEX, LEX], ""),
    t(
        1,
        &[
            Lit("ZRANGE"),
            LEXKEY,
            Lit("0"),
            Lit("-1"),
            Lit("WITHSCORES"),
        ],
        "",
    ),
    t(1, &[Lit("OBJECT"), Lit("ENCODING"), LEXKEY], ""),
    // --- encoding thresholds: both servers switch together
    t(
        1,
        &[
            Lit("CONFIG"),
            Lit("SET"),
            Either(&[
                &[Lit("zset-max-listpack-entries"), OneOf(&["0", "2", "128"])],
                &[Lit("zset-max-listpack-value"), OneOf(&["1", "64"])],
            ]),
        ],
        "",
    ),
];
