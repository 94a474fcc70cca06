//! Random-sequence templates for the set commands.
//!
//! Sets live on the shared key space (`k0`..`k3`), so they collide with the
//! other types there and the WRONGTYPE paths get exercised. Members mix
//! canonical integers (intsets, whose order Redis fixes) with strings and
//! integer look-alikes (hashtables, whose order is their own): replies that
//! list members are compared unordered.
//!
//! Randomness: SRANDMEMBER changes nothing, so its picks are compared by
//! shape (`!len`). SPOP changes the set, so it only appears with counts that
//! make it deterministic (0, one that empties any set of this pool, or
//! invalid ones); anything else would make the servers' states diverge.

use crate::gen::Arg::*;
use crate::gen::{t, Arg, Template};

/// Members: integers of each width, look-alikes, strings, binary.
pub const MEMBERS: &[&str] = &[
    "1",
    "2",
    "3",
    "-1",
    "70000",
    "9223372036854775807",
    "a",
    "b",
    "",
    "007",
    "-0",
    "\u{0}\u{ff}",
];
/// SRANDMEMBER counts: none can ask Redis for an enormous reply.
pub const RAND_COUNTS: &[&str] = &[
    "0",
    "1",
    "2",
    "5",
    "100",
    "-1",
    "-5",
    "-100",
    "x",
    "-9223372036854775808",
];
/// SPOP counts that leave both servers in the same state.
pub const POP_COUNTS: &[&str] = &["0", "100", "-1", "x", "9223372036854775807"];

const MEMBER: Arg = OneOf(MEMBERS);

/// The set templates.
pub static TEMPLATES: &[Template] = &[
    t(8, &[Lit("SADD"), Key, Repeat(&[MEMBER], 4)], ""),
    t(4, &[Lit("SREM"), AnyKey, Repeat(&[MEMBER], 3)], ""),
    t(3, &[Lit("SISMEMBER"), AnyKey, MEMBER], ""),
    t(2, &[Lit("SMISMEMBER"), AnyKey, Repeat(&[MEMBER], 3)], ""),
    t(2, &[Lit("SCARD"), AnyKey], ""),
    t(4, &[Lit("SMEMBERS"), AnyKey], "!unordered"),
    t(3, &[Lit("SMOVE"), Key, Key, MEMBER], ""),
    t(
        4,
        &[OneOf(&["SINTER", "SUNION", "SDIFF"]), Repeat(&[AnyKey], 3)],
        "!unordered",
    ),
    t(
        3,
        &[
            OneOf(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]),
            Key,
            Repeat(&[AnyKey], 3),
        ],
        "",
    ),
    t(
        2,
        &[
            Lit("SINTERCARD"),
            Either(&[
                &[Lit("1"), AnyKey],
                &[Lit("2"), AnyKey, AnyKey],
                &[Lit("3"), AnyKey, AnyKey, AnyKey],
                &[OneOf(&["0", "-1", "x", "4"]), AnyKey, AnyKey],
            ]),
            Opt(&[Lit("LIMIT"), OneOf(&["0", "1", "2", "-1", "x"])]),
        ],
        "",
    ),
    t(2, &[Lit("SRANDMEMBER"), AnyKey], "!type-only"),
    t(3, &[Lit("SRANDMEMBER"), AnyKey, OneOf(RAND_COUNTS)], "!len"),
    t(2, &[Lit("SPOP"), AnyKey, OneOf(POP_COUNTS)], "!unordered"),
    t(
        2,
        &[
            Lit("SSCAN"),
            AnyKey,
            Lit("0"),
            Opt(&[Lit("MATCH"), OneOf(&["*", "1*", "[ab]", "?", "x"])]),
            Opt(&[Lit("COUNT"), Count]),
        ],
        "!scan-all",
    ),
];
