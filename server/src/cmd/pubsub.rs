//! Pub/sub commands (Redis's `pubsub.c`). The registry and cross-loop
//! delivery are in [`crate::pubsub`].

use super::flags::*;
use super::ks;
use super::{Ctx, Keys, Spec};
use crate::client::Client;
use crate::error::CmdResult;
use crate::pubsub::Space;

/// The (un)subscribe confirmation: `[kind, name, count]`, a push in RESP3.
fn confirm(c: &mut Ctx<'_>, kind: &str, name: Option<&[u8]>, count: usize) {
    c.out.push(3);
    c.out.bulk(kind.as_bytes());
    match name {
        Some(n) => c.out.bulk(n),
        None => c.out.null(),
    }
    c.out.int(count as i64);
    // A push: sent even to a client whose replies are off (CLIENT REPLY).
    c.client.keep = c.out.buf.len();
}

fn subscribe_generic(c: &mut Ctx<'_>, a: &[&[u8]], space: Space, kind: &str) -> CmdResult {
    for name in &a[1..] {
        if c.client.subs.set_mut(space).insert(name.to_vec()) {
            c.shared.pubsub.subscribe(space, name, &c.client.meta);
        }
        let n = c.client.subs.count(space);
        confirm(c, kind, Some(name), n);
    }
    c.client.subs.publish_counts(&c.client.meta);
    Ok(())
}

fn unsubscribe_generic(c: &mut Ctx<'_>, a: &[&[u8]], space: Space, kind: &str) -> CmdResult {
    let names: Vec<Vec<u8>> = if a.len() == 1 {
        c.client.subs.set_mut(space).iter().cloned().collect()
    } else {
        a[1..].iter().map(|n| n.to_vec()).collect()
    };
    if names.is_empty() {
        let n = c.client.subs.count(space);
        confirm(c, kind, None, n);
        return Ok(());
    }
    let id = c.client.id();
    for name in &names {
        if c.client.subs.set_mut(space).remove(name) {
            c.shared.pubsub.unsubscribe(space, name, id);
        }
        let n = c.client.subs.count(space);
        confirm(c, kind, Some(name), n);
    }
    c.client.subs.publish_counts(&c.client.meta);
    Ok(())
}

/// Drops every subscription of a client (disconnect, RESET).
pub fn unsubscribe_all(client: &mut Client, shared: &crate::shared::Shared) {
    let id = client.id();
    for space in [Space::Channel, Space::Pattern, Space::Shard] {
        for name in client.subs.set_mut(space).drain() {
            shared.pubsub.unsubscribe(space, &name, id);
        }
    }
    client.subs.publish_counts(&client.meta);
}

/// SUBSCRIBE channel [channel ...]
pub fn subscribe(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    subscribe_generic(c, a, Space::Channel, "subscribe")
}

/// UNSUBSCRIBE [channel ...]
pub fn unsubscribe(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(c, a, Space::Channel, "unsubscribe")
}

/// PSUBSCRIBE pattern [pattern ...]
pub fn psubscribe(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    subscribe_generic(c, a, Space::Pattern, "psubscribe")
}

/// PUNSUBSCRIBE [pattern ...]
pub fn punsubscribe(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(c, a, Space::Pattern, "punsubscribe")
}

/// SSUBSCRIBE shardchannel [shardchannel ...]
pub fn ssubscribe(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    subscribe_generic(c, a, Space::Shard, "ssubscribe")
}

/// SUNSUBSCRIBE [shardchannel ...]
pub fn sunsubscribe(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(c, a, Space::Shard, "sunsubscribe")
}

/// PUBLISH channel message
pub fn publish(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    publish_generic(c, Space::Channel, a[1], a[2])
}

fn publish_generic(c: &mut Ctx<'_>, space: Space, channel: &[u8], msg: &[u8]) -> CmdResult {
    let own = c.client.id();
    let (n, mine) = c.shared.pubsub.publish(
        c.outbox,
        c.shared.hot.pubsub_hard_limit(),
        space,
        channel,
        msg,
        Some(own),
    );
    c.pushes.extend(mine);
    c.out.int(n as i64);
    Ok(())
}

/// SPUBLISH shardchannel message
pub fn spublish(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    publish_generic(c, Space::Shard, a[1], a[2])
}

fn channels_generic(c: &mut Ctx<'_>, a: &[&[u8]], space: Space) -> CmdResult {
    if a.len() > 3 {
        return Err(crate::error::CmdError::subcommand_syntax(a[0], a[1]));
    }
    let names = c.shared.pubsub.names(space, a.get(2).copied());
    c.out.array(names.len());
    for n in names {
        c.out.bulk(&n);
    }
    Ok(())
}

fn numsub_generic(c: &mut Ctx<'_>, a: &[&[u8]], space: Space) -> CmdResult {
    c.out.array((a.len() - 2) * 2);
    for name in &a[2..] {
        c.out.bulk(name);
        c.out.int(c.shared.pubsub.count(space, name) as i64);
    }
    Ok(())
}

/// PUBSUB CHANNELS [pattern]
pub fn pubsub_channels(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    channels_generic(c, a, Space::Channel)
}

/// PUBSUB SHARDCHANNELS [pattern]
pub fn pubsub_shardchannels(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    channels_generic(c, a, Space::Shard)
}

/// PUBSUB NUMSUB [channel ...]
pub fn pubsub_numsub(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    numsub_generic(c, a, Space::Channel)
}

/// PUBSUB SHARDNUMSUB [shardchannel ...]
pub fn pubsub_shardnumsub(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    numsub_generic(c, a, Space::Shard)
}

/// PUBSUB NUMPAT
pub fn pubsub_numpat(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.int(c.shared.pubsub.pattern_count() as i64);
    Ok(())
}

const PUBSUB_HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

/// PUBSUB HELP
pub fn pubsub_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(PUBSUB_HELP);
    Ok(())
}

/// Shard channels are channel names, not keys: they lock nothing.
fn no_keys<'x>(_a: &[&'x [u8]], _db: usize, _out: &mut Vec<(usize, &'x [u8])>) {}

/// True for the commands a RESP2 client in subscribed mode may still send.
pub fn allowed_when_subscribed(name: &str) -> bool {
    matches!(
        name,
        "subscribe"
            | "unsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ssubscribe"
            | "sunsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

// ---- command table rows ----

static PUBSUB_SUBCOMMANDS: &[Spec] = &[
    Spec {
        name: "channels",
        arity: -2,
        flags: PUBSUB | LOADING | STALE,
        keys: Keys::None,
        group: "pubsub",
        handler: pubsub_channels,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "numsub",
        arity: -2,
        flags: PUBSUB | LOADING | STALE,
        keys: Keys::None,
        group: "pubsub",
        handler: pubsub_numsub,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "numpat",
        arity: 2,
        flags: PUBSUB | LOADING | STALE,
        keys: Keys::None,
        group: "pubsub",
        handler: pubsub_numpat,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "shardchannels",
        arity: -2,
        flags: PUBSUB | LOADING | STALE,
        keys: Keys::None,
        group: "pubsub",
        handler: pubsub_shardchannels,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "shardnumsub",
        arity: -2,
        flags: PUBSUB | LOADING | STALE,
        keys: Keys::None,
        group: "pubsub",
        handler: pubsub_shardnumsub,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "help",
        arity: 2,
        flags: LOADING | STALE,
        keys: Keys::None,
        group: "pubsub",
        handler: pubsub_help,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
];

/// This group's rows of the command table.
pub static COMMANDS: &[Spec] = &[
    Spec {
        name: "subscribe",
        arity: -2,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "pubsub",
        handler: subscribe,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "unsubscribe",
        arity: -1,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "pubsub",
        handler: unsubscribe,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "psubscribe",
        arity: -2,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "pubsub",
        handler: psubscribe,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "punsubscribe",
        arity: -1,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        keys: Keys::None,
        group: "pubsub",
        handler: punsubscribe,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "ssubscribe",
        arity: -2,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        keys: Keys::Custom(no_keys),
        group: "pubsub",
        handler: ssubscribe,
        acl: 0,
        key_specs: &[ks::spec(ks::NOT_KEY, ks::Index(1), ks::Range(-1, 1, 0))],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "sunsubscribe",
        arity: -1,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        keys: Keys::Custom(no_keys),
        group: "pubsub",
        handler: sunsubscribe,
        acl: 0,
        key_specs: &[ks::spec(ks::NOT_KEY, ks::Index(1), ks::Range(-1, 1, 0))],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "publish",
        arity: 3,
        flags: PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        keys: Keys::None,
        group: "pubsub",
        handler: publish,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "spublish",
        arity: 3,
        flags: PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        keys: Keys::Custom(no_keys),
        group: "pubsub",
        handler: spublish,
        acl: 0,
        key_specs: &[ks::key(ks::NOT_KEY, 1)],
        tips: &[],
        subcommands: &[],
    },
    Spec {
        name: "pubsub",
        arity: -2,
        flags: 0,
        keys: Keys::None,
        group: "pubsub",
        handler: super::table::container,
        acl: 0,
        key_specs: &[],
        tips: &[],
        subcommands: PUBSUB_SUBCOMMANDS,
    },
];
