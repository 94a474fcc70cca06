//! COMMAND DOCS from Redis's own documentation data.
//!
//! `docs.resp` is Redis 7.0.15's `COMMAND DOCS` reply (RESP3) for every
//! top-level command soquete implements, argument specifications included —
//! `redis-cli` builds its interactive hints from them. It is regenerated with
//! `server/tools/gen_docs.py` when commands are added. Commands it lacks get
//! docs built from the command table.

use std::collections::HashMap;
use std::sync::OnceLock;

use soquete_resp::{decode_slice, Frame};

use crate::reply::Reply;

static DOCS: &[u8] = include_bytes!("docs.resp");

/// Name (lower case, `parent|sub` for subcommands) -> docs.
fn all() -> &'static HashMap<Vec<u8>, Frame> {
    static MAP: OnceLock<HashMap<Vec<u8>, Frame>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map = HashMap::new();
        if let Ok(Some((Frame::Map(pairs), _))) = decode_slice(DOCS) {
            for (name, doc) in pairs {
                let Some(name) = name.as_bytes().map(<[u8]>::to_ascii_lowercase) else {
                    continue;
                };
                // Subcommands are documented inside their container.
                if let Frame::Map(fields) = &doc {
                    for (k, v) in fields {
                        if k.as_bytes() == Some(b"subcommands") {
                            if let Frame::Map(subs) = v {
                                for (sn, sd) in subs {
                                    if let Some(sn) = sn.as_bytes() {
                                        map.insert(sn.to_ascii_lowercase(), sd.clone());
                                    }
                                }
                            }
                        }
                    }
                }
                map.insert(name, doc);
            }
        }
        map
    })
}

/// Redis's docs for `name` (`get`, `config|get`), if we carry them.
pub fn find(name: &str) -> Option<&'static Frame> {
    all().get(name.as_bytes())
}

/// Summary, version and complexity of the commands Redis 7.0.15 lacks
/// (7.2's, accepted for clients that send them): `docs.resp` cannot
/// carry them, so they are written here as Redis 7.2 documents them.
pub const NEWER: &[(&str, &str, &str, &str)] = &[
    (
        "client|no-touch",
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
        "7.2.0",
        "O(1)",
    ),
    (
        "client|setinfo",
        "Sets information specific to the client or connection.",
        "7.2.0",
        "O(1)",
    ),
];

/// Writes a frame in the client's protocol (maps become flat arrays and sets
/// arrays in RESP2, as Redis does).
pub fn write_frame(out: &mut Reply, f: &Frame) {
    match f {
        Frame::Map(pairs) => {
            out.map(pairs.len());
            for (k, v) in pairs {
                write_frame(out, k);
                write_frame(out, v);
            }
        }
        Frame::Set(items) => {
            out.set(items.len());
            for i in items {
                write_frame(out, i);
            }
        }
        Frame::Array(items) | Frame::Push(items) => {
            out.array(items.len());
            for i in items {
                write_frame(out, i);
            }
        }
        Frame::Simple(s) => out.simple(&String::from_utf8_lossy(s)),
        Frame::Bulk(b) => out.bulk(b),
        Frame::Integer(n) => out.int(*n),
        Frame::Double(d) => out.double(*d),
        Frame::Boolean(b) => out.boolean(*b),
        Frame::Verbatim { text, .. } => out.verbatim(text),
        _ => out.null(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_redis_docs_with_arguments() {
        let Some(Frame::Map(get)) = find("get") else {
            panic!("no docs for GET");
        };
        assert!(get.iter().any(|(k, _)| k.as_bytes() == Some(b"arguments")));
        assert!(find("config|get").is_some(), "subcommands are indexed");
    }

    #[test]
    fn rendered_in_resp2_maps_become_arrays() {
        let mut out = Reply::default();
        write_frame(&mut out, find("ping").unwrap());
        assert!(
            out.buf.starts_with(b"*"),
            "{:?}",
            String::from_utf8_lossy(&out.buf)
        );
        let mut out3 = Reply {
            resp3: true,
            ..Reply::default()
        };
        write_frame(&mut out3, find("ping").unwrap());
        assert!(out3.buf.starts_with(b"%"));
    }

    #[test]
    fn every_command_has_redis_docs_or_newer_ones() {
        for s in crate::cmd::table::commands() {
            let mut names = vec![s.name.to_string()];
            names.extend(
                s.subcommands
                    .iter()
                    .map(|sub| format!("{}|{}", s.name, sub.name)),
            );
            for n in names {
                let newer = NEWER.iter().any(|d| d.0 == n);
                assert!(
                    find(&n).is_some() != newer,
                    "{n}: docs in docs.resp: {}, in NEWER: {newer}",
                    find(&n).is_some()
                );
            }
        }
    }
}
