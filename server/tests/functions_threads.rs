//! Libraries are the server's, not a loop's: a function loaded through
//! one connection answers on connections served by every other event
//! loop (each compiles it in its own Lua state on first use), and a
//! replaced or deleted library is replaced or gone everywhere.

use soquete_resp::Frame;
use soquete_testkit::frames::text;
use soquete_testkit::{ServerKind, ServerProcess};

#[test]
fn every_event_loop_sees_loaded_replaced_and_deleted_libraries() {
    let server = ServerProcess::builder(ServerKind::Soquete)
        .args(["--threads", "4"])
        .start();
    // Connections are handed to the loops round-robin: 8 cover all 4.
    let mut conns: Vec<_> = (0..8).map(|_| server.connect()).collect();
    let v1 =
        "#!lua name=lib\nredis.register_function('which', function(k, a) return 'v1 ' .. a[1] end)";
    let v2 =
        "#!lua name=lib\nredis.register_function('which', function(k, a) return 'v2 ' .. a[1] end)";
    assert_eq!(text(&conns[0].cmd(&["FUNCTION", "LOAD", v1])), "lib");
    for c in conns.iter_mut() {
        assert_eq!(text(&c.cmd(&["FCALL", "which", "0", "x"])), "v1 x");
    }
    assert_eq!(
        text(&conns[3].cmd(&["FUNCTION", "LOAD", "REPLACE", v2])),
        "lib"
    );
    for c in conns.iter_mut() {
        assert_eq!(text(&c.cmd(&["FCALL", "which", "0", "y"])), "v2 y");
    }
    assert_eq!(text(&conns[5].cmd(&["FUNCTION", "DELETE", "lib"])), "OK");
    for c in conns.iter_mut() {
        assert_eq!(
            c.cmd(&["FCALL", "which", "0", "z"]),
            Frame::Error("ERR Function not found".into())
        );
    }
    // Loaded again under the same name: every loop compiles the new code.
    assert_eq!(text(&conns[7].cmd(&["FUNCTION", "LOAD", v1])), "lib");
    for c in conns.iter_mut() {
        assert_eq!(text(&c.cmd(&["FCALL", "which", "0", "w"])), "v1 w");
    }
}
