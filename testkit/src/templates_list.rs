//! Random-sequence templates for the list commands.
//!
//! Lists live on the shared key space (`k0`..`k3`), so they collide with the
//! strings and the other types there and the WRONGTYPE paths get exercised.
//! Elements come from a small pool so that LREM, LPOS and LINSERT find
//! what they look for; the pool mixes integers (which soquete stores
//! packed) with look-alikes that are not canonical integers.

use crate::gen::Arg::*;
use crate::gen::{t, Arg, Template};

/// List elements: few, so that searches hit.
pub const ELEMS: &[&str] = &[
    "a",
    "b",
    "c",
    "",
    "1",
    "-1",
    "007",
    "12345678901",
    "\u{0}\u{ff}",
];
/// Pop and LMPOP counts (a few invalid).
pub const POP_COUNTS: &[&str] = &["0", "1", "2", "3", "100", "-1", "x"];
/// LREM counts.
pub const REM_COUNTS: &[&str] = &[
    "0",
    "1",
    "2",
    "-1",
    "-2",
    "9223372036854775807",
    "-9223372036854775808",
    "x",
];
/// LPOS RANK values.
pub const RANKS: &[&str] = &[
    "1",
    "2",
    "-1",
    "-2",
    "0",
    "9223372036854775807",
    "-9223372036854775808",
    "x",
];
/// Ends for LMOVE and LMPOP (one invalid).
pub const ENDS: &[&str] = &["LEFT", "RIGHT", "left", "right", "LEFT", "RIGHT", "UP"];

const ELEM: Arg = OneOf(ELEMS);

/// The list templates.
pub static TEMPLATES: &[Template] = &[
    t(
        6,
        &[OneOf(&["LPUSH", "RPUSH"]), Key, Repeat(&[ELEM], 4)],
        "",
    ),
    t(
        2,
        &[OneOf(&["LPUSHX", "RPUSHX"]), Key, Repeat(&[ELEM], 2)],
        "",
    ),
    t(
        4,
        &[OneOf(&["LPOP", "RPOP"]), AnyKey, Opt(&[OneOf(POP_COUNTS)])],
        "",
    ),
    t(2, &[Lit("LLEN"), AnyKey], ""),
    t(4, &[Lit("LRANGE"), AnyKey, Index, Index], ""),
    t(3, &[Lit("LINDEX"), AnyKey, Index], ""),
    t(3, &[Lit("LSET"), Key, Index, ELEM], ""),
    t(
        3,
        &[
            Lit("LINSERT"),
            Key,
            OneOf(&["BEFORE", "AFTER", "before", "after", "MIDDLE"]),
            ELEM,
            ELEM,
        ],
        "",
    ),
    t(3, &[Lit("LREM"), Key, OneOf(REM_COUNTS), ELEM], ""),
    t(2, &[Lit("LTRIM"), Key, Index, Index], ""),
    t(
        3,
        &[
            Lit("LPOS"),
            AnyKey,
            ELEM,
            Opt(&[Lit("RANK"), OneOf(RANKS)]),
            Opt(&[Lit("COUNT"), OneOf(&["0", "1", "2", "-1"])]),
            Opt(&[Lit("MAXLEN"), OneOf(&["0", "1", "3", "-1"])]),
        ],
        "",
    ),
    t(3, &[Lit("LMOVE"), Key, Key, OneOf(ENDS), OneOf(ENDS)], ""),
    t(2, &[Lit("RPOPLPUSH"), Key, Key], ""),
    t(
        3,
        &[
            Lit("LMPOP"),
            Either(&[
                &[Lit("1"), AnyKey],
                &[Lit("2"), Key, Key],
                &[Lit("3"), Key, Key, Key],
                &[OneOf(&["0", "-1", "3"]), Key],
            ]),
            OneOf(ENDS),
            Opt(&[Lit("COUNT"), OneOf(POP_COUNTS)]),
        ],
        "",
    ),
    // Chunk sizes change only soquete's layout, never a reply: tiny ones
    // make the small lists of a sequence span many chunks.
    t(
        1,
        &[
            Lit("CONFIG"),
            Lit("SET"),
            Lit("list-max-listpack-size"),
            OneOf(&["1", "2", "3", "-1", "-2"]),
        ],
        "",
    ),
];
