//! Which commands a multiplexed connection refuses: those that would stall
//! the connection every task shares (the waiting pops), or change it for
//! all of them (`WATCH`, `MULTI`, the `SUBSCRIBE` family, `MONITOR`).

use crate::error::Error;

/// Commands a [`MultiplexedClient`](crate::MultiplexedClient) refuses, and why. Sorted.
const UNFIT_FOR_MULTIPLEXING: &[(&[u8], Unfit)] = &[
    (b"BLMOVE", Unfit::Stalls),
    (b"BLMPOP", Unfit::Stalls),
    (b"BLPOP", Unfit::Stalls),
    (b"BRPOP", Unfit::Stalls),
    (b"BRPOPLPUSH", Unfit::Stalls),
    (b"BZMPOP", Unfit::Stalls),
    (b"BZPOPMAX", Unfit::Stalls),
    (b"BZPOPMIN", Unfit::Stalls),
    (b"MONITOR", Unfit::Streams),
    (b"MULTI", Unfit::Transaction),
    (b"PSUBSCRIBE", Unfit::Streams),
    (b"SSUBSCRIBE", Unfit::Streams),
    (b"SUBSCRIBE", Unfit::Streams),
    (b"WATCH", Unfit::Transaction),
];

#[derive(Clone, Copy, Debug)]
enum Unfit {
    Stalls,
    Transaction,
    Streams,
}

/// The error a multiplexed client returns for a command named `name` (any
/// case) that would stall or change its shared connection, if it is one.
pub(crate) fn refuse_on_multiplexed(name: &[u8]) -> Option<Error> {
    if name.len() > 16 {
        return None;
    }
    let mut up = [0u8; 16];
    for (d, s) in up.iter_mut().zip(name) {
        *d = s.to_ascii_uppercase();
    }
    let up = &up[..name.len()];
    let i = UNFIT_FOR_MULTIPLEXING
        .binary_search_by(|(n, _)| (*n).cmp(up))
        .ok()?;
    let (name, why) = UNFIT_FOR_MULTIPLEXING[i];
    let name = String::from_utf8_lossy(name);
    Some(Error::Client(match why {
        Unfit::Stalls => format!(
            "{name} would block the MultiplexedClient's shared connection, and every task's \
             requests behind it; send it on a dedicated connection \
             (MultiplexedClient::dedicated_connection)"
        ),
        Unfit::Transaction => format!(
            "{name} would put transaction state on the MultiplexedClient's shared connection, \
             for every task; use an atomic pipeline, or AsyncConnection::transaction on a \
             dedicated connection"
        ),
        Unfit::Streams => format!(
            "{name} would turn the MultiplexedClient's shared connection into a message \
             stream; use an AsyncSubscriber"
        ),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplexed_refusals_cover_waiting_pops_and_stateful_commands() {
        assert!(UNFIT_FOR_MULTIPLEXING.windows(2).all(|w| w[0].0 < w[1].0));
        for name in ["blpop", "BZMPOP", "Watch", "multi", "subscribe", "MONITOR"] {
            assert!(refuse_on_multiplexed(name.as_bytes()).is_some(), "{name}");
        }
        for name in [
            "GET",
            "LPOP",
            "EXEC",
            "UNWATCH",
            "PUBLISH",
            "XREAD",
            "averyveryverylongcommandname",
        ] {
            assert!(refuse_on_multiplexed(name.as_bytes()).is_none(), "{name}");
        }
        let e = refuse_on_multiplexed(b"blpop").unwrap();
        assert!(e.to_string().starts_with("BLPOP would block"), "{e}");
    }
}
