//! ACL rules from arbitrary bytes never panic: each line is one ACL
//! SETUSER argument. Whatever is accepted is described (which checks, in
//! debug builds, that the description rebuilds the same command bitmap)
//! and asked about a few commands.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soquete_server::acl::{describe, User};
use soquete_server::cmd::dispatch::resolve;

fuzz_target!(|data: &[u8]| {
    let rules: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let Ok(user) = User::new(b"fuzz", false).with_rules(&rules, false) else {
        return;
    };
    let _ = describe::user(&user);
    for s in &user.selectors {
        let _ = describe::keys_field(s);
        let _ = describe::channels_field(s);
    }
    let last = rules.last().copied().unwrap_or_default();
    for line in [
        &[b"get".as_slice(), last][..],
        &[b"set", last, b"v", b"GET"],
        &[b"select", last],
        &[b"config", b"get", last],
        &[b"publish", last, b"m"],
        &[b"psubscribe", last],
        &[b"zunionstore", b"d", b"2", last, b"b"],
    ] {
        if let Ok(r) = resolve(line) {
            let _ = user.check(r.spec, r.id, line);
        }
    }
});
