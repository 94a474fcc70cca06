//! COMMAND INFO of every command soquete implements is Redis 7.0.15's
//! entry byte for byte: arity, flags, key range, ACL categories, tips, key
//! specifications and subcommands. This keeps the command table honest.
//!
//! Container commands (CLIENT, MEMORY...) implement a subset of Redis's
//! subcommands: their entries are compared with Redis's subcommand list
//! cut down to the ones soquete has, both sorted by name (Redis lists
//! them in its dict's order). Subcommands Redis 7.0 lacks (7.2's CLIENT
//! NO-TOUCH and SETINFO, accepted for newer clients) have no Redis entry.

use soquete_resp::Frame;
use soquete_testkit::{Conn, ServerProcess};

/// Subcommands soquete accepts that Redis 7.0.15 does not have.
const NEWER: &[&str] = &["client|no-touch", "client|setinfo"];

fn names(c: &mut Conn) -> Vec<String> {
    let Frame::Array(items) = c.cmd(&["COMMAND", "LIST"]) else {
        panic!("COMMAND LIST is an array");
    };
    items
        .iter()
        .map(|f| String::from_utf8_lossy(f.as_bytes().unwrap()).into_owned())
        .collect()
}

fn entry_name(f: &Frame) -> String {
    let Frame::Array(fields) = f else {
        panic!("an entry is an array: {f:?}");
    };
    String::from_utf8_lossy(fields[0].as_bytes().unwrap()).into_owned()
}

/// The entry with its subcommands sorted by name, keeping only those
/// named in `keep`.
fn normalized(f: &Frame, keep: &[String]) -> Frame {
    let Frame::Array(fields) = f else {
        panic!("an entry is an array: {f:?}");
    };
    let mut fields = fields.clone();
    if let Frame::Array(subs) = &fields[9] {
        let mut subs: Vec<Frame> = subs
            .iter()
            .filter(|s| keep.contains(&entry_name(s)))
            .cloned()
            .collect();
        subs.sort_by_key(entry_name);
        fields[9] = Frame::Array(subs);
    }
    Frame::Array(fields)
}

fn compare_every_command(resp3: bool) {
    let redis = ServerProcess::redis();
    let soquete = ServerProcess::soquete();
    let (mut r, mut s) = (redis.connect(), soquete.connect());
    if resp3 {
        r.hello3();
        s.hello3();
    }
    let ours = names(&mut s);
    let shared: Vec<String> = ours
        .iter()
        .filter(|n| !NEWER.contains(&n.as_str()))
        .cloned()
        .collect();
    assert!(ours.len() > 200, "{} commands", ours.len());
    let mut containers = Vec::new();
    for name in &ours {
        let args = ["COMMAND", "INFO", name.as_str()];
        let (want, got) = (r.try_cmd(&args).unwrap(), s.try_cmd(&args).unwrap());
        if NEWER.contains(&name.as_str()) {
            let Frame::Array(w) = &want.frame else {
                panic!("{want:?}");
            };
            assert!(w[0].is_null(), "Redis has {name} now");
            continue;
        }
        if ours.iter().any(|n| n.starts_with(&format!("{name}|"))) {
            containers.push(name.clone());
            let (Frame::Array(w), Frame::Array(g)) = (&want.frame, &got.frame) else {
                panic!("{name}: {want:?} / {got:?}");
            };
            assert_eq!(
                normalized(&w[0], &shared),
                normalized(&g[0], &shared),
                "COMMAND INFO {name} (subcommands cut to soquete's and sorted)"
            );
            continue;
        }
        assert_eq!(want, got, "COMMAND INFO {name}");
    }
    assert!(containers.len() >= 8, "{containers:?}");

    // The whole COMMAND reply: soquete's entries are Redis's entries.
    let (Frame::Array(all_r), Frame::Array(all_s)) = (r.cmd(&["COMMAND"]), s.cmd(&["COMMAND"]))
    else {
        panic!("COMMAND is an array");
    };
    let top: Vec<&String> = ours.iter().filter(|n| !n.contains('|')).collect();
    assert_eq!(all_s.len(), top.len());
    for e in &all_s {
        let name = entry_name(e);
        let theirs = all_r
            .iter()
            .find(|x| entry_name(x) == name)
            .unwrap_or_else(|| panic!("Redis has no {name}"));
        assert_eq!(
            normalized(theirs, &shared),
            normalized(e, &shared),
            "COMMAND: {name}"
        );
    }
}

#[test]
fn command_info_of_every_command_is_redis_entry_resp2() {
    compare_every_command(false);
}

#[test]
fn command_info_of_every_command_is_redis_entry_resp3() {
    compare_every_command(true);
}
