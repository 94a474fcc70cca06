//! Random-sequence templates for the hash commands.
//!
//! Hashes live on the shared key space (`k0`..`k3`), so they collide with
//! the other types there and the WRONGTYPE paths get exercised. Fields come
//! from a small pool so that updates, deletes and increments hit; values from
//! the shared pool (numbers, look-alikes, binary) plus one 65-byte value that
//! converts a hash to a hashtable (whose order is its own: replies that list
//! a whole hash are compared unordered). HINCRBYFLOAT only touches field
//! `fl`, which only ever holds values whose sums are exact in both `double`
//! and `long double` (see `gen::FLOAT_VALUES`).
//!
//! HRANDFIELD leaves the hash alone, so its random picks are compared by
//! shape (`!len`) without making the two servers' states diverge.

use crate::gen::Arg::*;
use crate::gen::{t, Arg, Template, FLOAT_VALUES};

/// Fields: a few short ones, a numeric-looking one, binary, the empty one.
pub const FIELDS: &[&str] = &["a", "b", "c", "d", "1", "", "\u{0}\u{ff}", "a", "b"];
/// Hash values: short ones, integers (HINCRBY targets), and one too long for
/// a listpack.
pub const HVALUES: &[&str] = &[
    "v",
    "",
    "0",
    "10",
    "-5",
    "9223372036854775807",
    "007",
    "1.5",
    "\u{0}\r\n",
    "0123456789012345678901234567890123456789012345678901234567890123x",
];
/// HINCRBY increments.
pub const INCRS: &[&str] = &[
    "1",
    "-1",
    "100",
    "0",
    "9223372036854775807",
    "-9223372036854775808",
    "x",
    "1.5",
];
/// HRANDFIELD counts: none can ask Redis for an enormous reply.
pub const RAND_COUNTS: &[&str] = &["0", "1", "2", "3", "10", "-1", "-3", "-10", "x"];

const FIELD: Arg = OneOf(FIELDS);
const HVALUE: Arg = OneOf(HVALUES);

/// The hash templates.
pub static TEMPLATES: &[Template] = &[
    t(
        8,
        &[OneOf(&["HSET", "HMSET"]), Key, Repeat(&[FIELD, HVALUE], 3)],
        "",
    ),
    t(2, &[Lit("HSETNX"), Key, FIELD, HVALUE], ""),
    t(5, &[Lit("HGET"), AnyKey, FIELD], ""),
    t(3, &[Lit("HMGET"), AnyKey, Repeat(&[FIELD], 3)], ""),
    t(4, &[Lit("HGETALL"), AnyKey], "!unordered"),
    t(2, &[OneOf(&["HKEYS", "HVALS"]), AnyKey], "!unordered"),
    t(4, &[Lit("HDEL"), AnyKey, Repeat(&[FIELD], 3)], ""),
    t(2, &[Lit("HLEN"), AnyKey], ""),
    t(2, &[Lit("HEXISTS"), AnyKey, FIELD], ""),
    t(2, &[Lit("HSTRLEN"), AnyKey, FIELD], ""),
    t(4, &[Lit("HINCRBY"), Key, FIELD, OneOf(INCRS)], ""),
    t(3, &[Lit("HINCRBYFLOAT"), Key, Lit("fl"), Float], ""),
    t(1, &[Lit("HSET"), Key, Lit("fl"), OneOf(FLOAT_VALUES)], ""),
    t(2, &[Lit("HRANDFIELD"), AnyKey], "!type-only"),
    t(
        3,
        &[
            Lit("HRANDFIELD"),
            AnyKey,
            OneOf(RAND_COUNTS),
            Opt(&[OneOf(&["WITHVALUES", "withvalues"])]),
        ],
        "!len",
    ),
    t(
        2,
        &[
            Lit("HSCAN"),
            AnyKey,
            Lit("0"),
            Opt(&[Lit("MATCH"), OneOf(&["*", "a*", "[ab]", "?", "x"])]),
            Opt(&[Lit("COUNT"), Count]),
        ],
        "!scan-all",
    ),
];
