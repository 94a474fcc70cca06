//! The server's command path: arbitrary bytes, as a client would send them,
//! go through the request decoder and every command handler (a `Session`
//! is a connection without a socket). Nothing may panic; a handler panic
//! is caught by the server and answered as an internal error, and counted:
//! the count going up fails the target.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use soquete_server::session::Session;
use soquete_server::shared::Shared;
use soquete_server::Config;

fn shared() -> Arc<Shared> {
    static SHARED: OnceLock<Arc<Shared>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let mut config = Config::default();
            config.threads = 1;
            config.databases = 4;
            config.proto_max_bulk_len = 1 << 20;
            // No save points: FLUSHALL would write a snapshot each time.
            config.save.clear();
            Arc::new(Shared::new(config, None))
        })
        .clone()
}

fuzz_target!(|data: &[u8]| {
    // CONFIG SET could lift the memory limits above, MIGRATE would
    // connect to whatever host and port the input names, and the
    // persistence commands (SAVE, BGSAVE, BGREWRITEAOF, DEBUG RELOAD and
    // LOADAOF, SHUTDOWN) would fork and write files, and a script (EVAL,
    // FCALL, a FUNCTION library) may loop for ever, as Lua lets it: leave
    // them out. Script bodies still reach the Lua compiler through SCRIPT
    // LOAD.
    let has = |word: &[u8]| {
        data.windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word))
    };
    if [
        &b"config"[..],
        b"migrate",
        b"save",
        b"aof",
        b"reload",
        b"shutdown",
        b"eval",
        b"fcall",
        b"function",
    ]
    .iter()
    .any(|w| has(w))
    {
        return;
    }
    let shared = shared();
    let mut reset = Session::on(shared.clone());
    reset.feed(b"FLUSHALL\r\n");
    let mut s = Session::on(shared);
    // The first byte picks where the input is split, so the decoder's
    // resumption is exercised along the way.
    let (split, rest) = match data.split_first() {
        Some((b, rest)) => ((*b as usize) % (rest.len() + 1), rest),
        None => (0, data),
    };
    let panics = soquete_server::cmd::panics();
    let mut out = s.feed(&rest[..split]);
    out.extend(s.feed(&rest[split..]));
    assert_eq!(
        soquete_server::cmd::panics(),
        panics,
        "a command handler panicked; replies: {}",
        String::from_utf8_lossy(&out)
    );
});
