//! Random-sequence templates for streams and their consumer groups.
//!
//! Streams live on the shared key space (`k0`..`k3`), so they collide with
//! the other types there. IDs come from a small pool of explicit ones
//! (never `*`, whose value is the clock's), so XADD fails or succeeds
//! alike on both servers and groups read, claim and acknowledge the same
//! entries. Two groups and three consumers keep the PELs crowded.
//!
//! Times: idle times and delivery times depend on the moment, so XPENDING
//! ranges and XINFO CONSUMERS are compared within `~1000` ms, XCLAIM only
//! uses IDLE/TIME values that leave the state independent of the clock
//! (IDLE 0 is "now" on each side, a TIME far in the past is clamped to
//! nothing different), and min-idle-times are 0 or huge.

use crate::gen::Arg::*;
use crate::gen::{t, Arg, Template};

/// Entry IDs: explicit, partial, and some invalid.
pub const IDS: &[&str] = &[
    "1-1", "2-0", "2-1", "3", "5-*", "7-7", "10-0", "0-1", "0", "x",
];
/// Range bounds.
pub const BOUNDS: &[&str] = &["-", "+", "0", "2", "(2-0", "5-0", "(10-0", "x"];
/// Group names.
pub const GROUPS: &[&str] = &["g1", "g2"];
/// Consumer names.
pub const CONSUMERS: &[&str] = &["alice", "bob", ""];
/// Counts, including invalid ones.
pub const COUNTS: &[&str] = &["1", "2", "5", "0", "-1", "x"];
/// Group positions: explicit IDs, `$`, and invalid ones.
pub const GROUP_IDS: &[&str] = &["0", "$", "2-0", "5", "-", "x"];

const ID: Arg = OneOf(IDS);
const BOUND: Arg = OneOf(BOUNDS);
const GROUP: Arg = OneOf(GROUPS);
const CONSUMER: Arg = OneOf(CONSUMERS);
const COUNT: Arg = OneOf(COUNTS);
const FIELD: Arg = OneOf(&["f", "g", ""]);

/// The stream templates.
pub static TEMPLATES: &[Template] = &[
    t(
        10,
        &[
            Lit("XADD"),
            Key,
            Opt(&[Lit("MAXLEN"), OneOf(&["3", "0", "="])]),
            ID,
            Repeat(&[FIELD, Value], 2),
        ],
        "",
    ),
    t(3, &[Lit("XDEL"), AnyKey, Repeat(&[ID], 2)], ""),
    t(
        2,
        &[
            Lit("XTRIM"),
            AnyKey,
            Either(&[&[Lit("MAXLEN"), COUNT], &[Lit("MINID"), ID]]),
        ],
        "",
    ),
    t(2, &[Lit("XLEN"), AnyKey], ""),
    t(
        3,
        &[
            OneOf(&["XRANGE", "XREVRANGE"]),
            AnyKey,
            BOUND,
            BOUND,
            Opt(&[Lit("COUNT"), COUNT]),
        ],
        "",
    ),
    t(
        5,
        &[
            Lit("XGROUP"),
            Lit("CREATE"),
            AnyKey,
            GROUP,
            OneOf(GROUP_IDS),
            Opt(&[Lit("MKSTREAM")]),
            Opt(&[Lit("ENTRIESREAD"), OneOf(&["0", "3", "-1", "-2"])]),
        ],
        "",
    ),
    t(
        2,
        &[
            Lit("XGROUP"),
            Lit("SETID"),
            AnyKey,
            GROUP,
            OneOf(GROUP_IDS),
            Opt(&[Lit("ENTRIESREAD"), OneOf(&["1", "-1"])]),
        ],
        "",
    ),
    t(1, &[Lit("XGROUP"), Lit("DESTROY"), AnyKey, GROUP], ""),
    t(
        2,
        &[
            Lit("XGROUP"),
            OneOf(&["CREATECONSUMER", "DELCONSUMER"]),
            AnyKey,
            GROUP,
            CONSUMER,
        ],
        "",
    ),
    t(
        8,
        &[
            Lit("XREADGROUP"),
            Lit("GROUP"),
            GROUP,
            CONSUMER,
            Opt(&[Lit("COUNT"), COUNT]),
            Opt(&[Lit("NOACK")]),
            Lit("STREAMS"),
            Either(&[
                &[AnyKey, OneOf(&[">", ">", "0", "2-0", "$"])],
                &[AnyKey, AnyKey, Lit(">"), Lit(">")],
            ]),
        ],
        "",
    ),
    t(4, &[Lit("XACK"), AnyKey, GROUP, Repeat(&[ID], 3)], ""),
    t(3, &[Lit("XPENDING"), AnyKey, GROUP], ""),
    t(
        2,
        &[
            Lit("XPENDING"),
            AnyKey,
            GROUP,
            BOUND,
            BOUND,
            COUNT,
            Opt(&[CONSUMER]),
        ],
        "~1000",
    ),
    t(
        3,
        &[
            Lit("XCLAIM"),
            AnyKey,
            GROUP,
            CONSUMER,
            OneOf(&["0", "3600000", "-1"]),
            Repeat(&[ID], 2),
            Opt(&[Lit("RETRYCOUNT"), OneOf(&["0", "5", "x"])]),
            Opt(&[OneOf(&["FORCE", "JUSTID"])]),
            Opt(&[Lit("LASTID"), ID]),
        ],
        "",
    ),
    t(
        3,
        &[
            Lit("XAUTOCLAIM"),
            AnyKey,
            GROUP,
            CONSUMER,
            OneOf(&["0", "3600000"]),
            BOUND,
            Opt(&[Lit("COUNT"), COUNT]),
            Opt(&[Lit("JUSTID")]),
        ],
        "",
    ),
    t(2, &[Lit("XINFO"), Lit("GROUPS"), AnyKey], ""),
    t(1, &[Lit("XINFO"), Lit("CONSUMERS"), AnyKey, GROUP], "~1000"),
    t(1, &[Lit("XINFO"), Lit("STREAM"), AnyKey], ""),
];
