//! Random-sequence templates for the bitmap commands (SETBIT GETBIT
//! BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO).
//!
//! Bitmaps live on the shared key space (`k0`..`k3`), so they meet strings
//! (int-encoded ones too) and the other types there. Offsets stay small
//! for writes (a large one would allocate up to 512 MB on both servers);
//! reads also try the last bit of a 512 MB string and the first one past
//! it. Ranges mix bytes and bits, negative and out-of-range indexes.

use crate::gen::Arg::*;
use crate::gen::{t, Arg, Template};

/// Bit offsets for writes: small, around byte and word edges, and invalid.
pub const WRITE_OFFSETS: &[&str] = &[
    "0",
    "1",
    "7",
    "8",
    "15",
    "63",
    "64",
    "100",
    "255",
    "300",
    "-1",
    "x",
    "4294967296",
];
/// Bit offsets for reads: the write offsets and the limits.
pub const READ_OFFSETS: &[&str] = &[
    "0",
    "3",
    "8",
    "64",
    "100",
    "300",
    "4294967295",
    "4294967296",
    "-1",
    "x",
];
/// BITCOUNT/BITPOS range bounds.
pub const BOUNDS: &[&str] = &[
    "0", "1", "2", "5", "9", "40", "-1", "-2", "-9", "-100", "100", "x",
];
/// BITFIELD types, valid and not.
pub const TYPES: &[&str] = &[
    "u1", "u4", "u8", "i8", "u16", "i16", "i5", "u31", "u63", "i64", "i1", "u64", "i65", "x8",
];
/// BITFIELD offsets: plain, `#N` and invalid.
pub const FIELD_OFFSETS: &[&str] = &["0", "1", "7", "13", "64", "#0", "#1", "#3", "-1", "#x"];
/// BITFIELD SET values and INCRBY increments around type limits.
pub const FIELD_VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "127",
    "128",
    "-128",
    "-129",
    "255",
    "256",
    "65535",
    "9223372036854775807",
    "-9223372036854775808",
    "x",
];

const FIELD: Arg = Either(&[
    &[Lit("GET"), OneOf(TYPES), OneOf(FIELD_OFFSETS)],
    &[
        OneOf(&["SET", "INCRBY"]),
        OneOf(TYPES),
        OneOf(FIELD_OFFSETS),
        OneOf(FIELD_VALUES),
    ],
    &[Lit("OVERFLOW"), OneOf(&["WRAP", "SAT", "FAIL", "x"])],
]);

/// The bitmap templates.
pub static TEMPLATES: &[Template] = &[
    t(
        8,
        &[
            Lit("SETBIT"),
            Key,
            OneOf(WRITE_OFFSETS),
            OneOf(&["0", "1", "1", "2"]),
        ],
        "",
    ),
    t(4, &[Lit("GETBIT"), AnyKey, OneOf(READ_OFFSETS)], ""),
    t(
        5,
        &[
            Lit("BITCOUNT"),
            AnyKey,
            Opt(&[
                OneOf(BOUNDS),
                OneOf(BOUNDS),
                Opt(&[OneOf(&["BIT", "BYTE", "x"])]),
            ]),
        ],
        "",
    ),
    t(
        5,
        &[
            Lit("BITPOS"),
            AnyKey,
            OneOf(&["0", "1", "1", "2"]),
            Opt(&[
                OneOf(BOUNDS),
                Opt(&[OneOf(BOUNDS), Opt(&[OneOf(&["BIT", "BYTE"])])]),
            ]),
        ],
        "",
    ),
    t(
        4,
        &[
            Lit("BITOP"),
            OneOf(&["AND", "OR", "XOR", "NOT", "x"]),
            Key,
            Repeat(&[AnyKey], 3),
        ],
        "",
    ),
    t(8, &[Lit("BITFIELD"), Key, Repeat(&[FIELD], 4)], ""),
    t(
        3,
        &[
            Lit("BITFIELD_RO"),
            AnyKey,
            Repeat(&[Lit("GET"), OneOf(TYPES), OneOf(FIELD_OFFSETS)], 3),
        ],
        "",
    ),
    t(3, &[Lit("GET"), AnyKey], ""),
    t(2, &[Lit("SET"), Key, Value], ""),
    t(1, &[Lit("OBJECT"), Lit("ENCODING"), AnyKey], ""),
];
