//! Bitmaps at the size limit: the last bit of a 512 MB string (offset
//! 2^32-1) is addressable by SETBIT, GETBIT, BITFIELD, BITCOUNT and BITPOS,
//! and the first bit past it is refused with Redis's error. Runs on
//! soquete only: Redis zeroes the 512 MB it allocates (sdsgrowzero), which
//! is a lot of memory and time to spend on the reference in a test; the
//! replies are the ones Redis documents and the differential script
//! checks the same edges at a lowered `proto-max-bulk-len`.

use soquete_resp::Frame;
use soquete_testkit::{ServerKind, ServerProcess};

#[test]
fn last_bit_of_a_512_mb_string_is_addressable_and_the_next_is_not() {
    let server = ServerProcess::builder(ServerKind::Soquete)
        .binary(env!("CARGO_BIN_EXE_soquete-server"))
        .start();
    let mut c = server.connect();
    let int = |n: i64| Frame::Integer(n);
    assert_eq!(c.cmd(&["SETBIT", "big", "4294967295", "1"]), int(0));
    assert_eq!(c.cmd(&["STRLEN", "big"]), int(536_870_912));
    assert_eq!(c.cmd(&["GETBIT", "big", "4294967295"]), int(1));
    assert_eq!(c.cmd(&["BITCOUNT", "big", "-1", "-1"]), int(1));
    assert_eq!(c.cmd(&["BITCOUNT", "big", "-8", "-1", "BIT"]), int(1));
    assert_eq!(
        c.cmd(&["BITPOS", "big", "1", "536870911"]),
        int(4_294_967_295)
    );
    assert_eq!(
        c.cmd(&["BITPOS", "big", "0", "4294967295", "-1", "BIT"]),
        int(-1)
    );
    assert_eq!(
        c.cmd(&[
            "BITFIELD",
            "big",
            "GET",
            "u8",
            "4294967288",
            "INCRBY",
            "i8",
            "4294967288",
            "1"
        ]),
        Frame::Array(vec![int(1), int(2)])
    );
    let refused = Frame::Error("ERR bit offset is not an integer or out of range".into());
    assert_eq!(c.cmd(&["SETBIT", "big", "4294967296", "1"]), refused);
    assert_eq!(c.cmd(&["GETBIT", "big", "4294967296"]), refused);
    assert_eq!(
        c.cmd(&["BITFIELD", "big", "GET", "u8", "#536870912"]),
        refused
    );
    // A field that starts on the last byte may end past it, as in Redis:
    // the string grows by the bytes the field needs.
    assert_eq!(
        c.cmd(&["BITFIELD", "big", "SET", "u16", "4294967295", "65535"]),
        Frame::Array(vec![int(0)])
    );
    assert_eq!(c.cmd(&["STRLEN", "big"]), int(536_870_914));
    assert_eq!(c.cmd(&["DEL", "big"]), int(1));
}
