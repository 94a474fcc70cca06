//! Keyspace notifications through the subscribers, against real
//! `redis-server` and `soquete-server` (started on ephemeral loopback ports).

use std::time::Duration;

use soquete_client::{cmd, Client, KeyspaceEvent, KeyspaceKind, Protocol, Subscriber};
use soquete_testkit::ServerProcess;

fn servers() -> [ServerProcess; 2] {
    [ServerProcess::redis(), ServerProcess::soquete()]
}

fn enable(s: &ServerProcess) -> Client {
    let mut admin = Client::connect(format!("redis://{}", s.addr())).unwrap();
    cmd("CONFIG")
        .arg(("SET", "notify-keyspace-events", "KEA"))
        .exec(&mut admin)
        .unwrap();
    admin
}

/// The next message as `(kind, key, event)`; a missing message fails after 10 s.
fn next(sub: &mut Subscriber) -> (KeyspaceKind, String, String) {
    let m = sub
        .next_message_timeout(Duration::from_secs(10))
        .unwrap()
        .expect("a notification");
    let e: KeyspaceEvent = m.keyspace_event().expect("a keyspace notification");
    assert_eq!(e.db, 2);
    (e.kind, e.key_str().into_owned(), e.event_str().into_owned())
}

#[test]
fn subscriber_receives_its_databases_keyspace_and_keyevent_notifications() {
    use KeyspaceKind::{Keyevent, Keyspace};
    for s in servers() {
        let _admin = enable(&s);
        for proto in [Protocol::Resp2, Protocol::Resp3] {
            let k = s.kind();
            let db2 = format!("redis://{}/2", s.addr());
            let mut sub = Client::builder(db2.as_str())
                .protocol(proto)
                .subscriber()
                .unwrap();
            sub.subscribe_keyspace("user:*").unwrap();
            sub.subscribe_keyevent("del").unwrap();
            let mut w0 = Client::connect(format!("redis://{}/0", s.addr())).unwrap();
            let mut w2 = Client::connect(db2.as_str()).unwrap();
            // Another database, a key out of the pattern, an event out of
            // the pattern: none of them reaches the subscriber.
            let _: () = w0.set("user:0", 1).unwrap();
            let _: () = w0.del("user:0").unwrap();
            let _: () = w2.set("other", 1).unwrap();
            let _: () = w2.set("user:1", "x").unwrap();
            let _: i64 = w2.append("user:1", "y").unwrap();
            let _: i64 = w2.del(("user:1", "other")).unwrap();
            let got: Vec<_> = (0..5).map(|_| next(&mut sub)).collect();
            let want = [
                (Keyspace, "user:1", "set"),
                (Keyspace, "user:1", "append"),
                (Keyspace, "user:1", "del"),
                (Keyevent, "user:1", "del"),
                (Keyevent, "other", "del"),
            ]
            .map(|(kind, key, ev)| (kind, key.to_string(), ev.to_string()));
            assert_eq!(got, want, "{k} {proto:?}");
            assert!(sub
                .next_message_timeout(Duration::from_millis(50))
                .unwrap()
                .is_none());
        }
    }
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn async_subscriber_receives_keyspace_notifications() {
    for s in servers() {
        let _admin = enable(&s);
        let db2 = format!("redis://{}/2", s.addr());
        let mut sub = soquete_client::AsyncSubscriber::connect(db2.as_str())
            .await
            .unwrap();
        sub.subscribe_keyspace("cart:*").await.unwrap();
        sub.subscribe_keyevent("lpush").await.unwrap();
        let w = soquete_client::MultiplexedClient::connect(db2.as_str())
            .await
            .unwrap();
        let _: i64 = w.lpush("cart:7", "apple").await.unwrap();
        let mut got = Vec::new();
        for _ in 0..2 {
            let m = tokio::time::timeout(Duration::from_secs(10), sub.next_message())
                .await
                .expect("a notification")
                .unwrap();
            let e = m.keyspace_event().unwrap();
            got.push((
                e.kind,
                e.db,
                e.key_str().into_owned(),
                e.event_str().into_owned(),
            ));
        }
        assert_eq!(
            got,
            [
                (KeyspaceKind::Keyspace, 2, "cart:7".into(), "lpush".into()),
                (KeyspaceKind::Keyevent, 2, "cart:7".into(), "lpush".into()),
            ],
            "{}",
            s.kind()
        );
    }
}
