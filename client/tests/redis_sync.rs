//! The blocking (sync) client against real `redis-server` (started on an
//! ephemeral loopback port by each test).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use soquete_client::{cmd, pipe, Client, Error, Protocol, Result, ServerErrorKind};
use soquete_testkit::{ServerKind, ServerProcess};

fn url(s: &ServerProcess) -> String {
    format!("redis://{}", s.addr())
}

fn both_protocols(s: &ServerProcess) -> Vec<Client> {
    [Protocol::Resp2, Protocol::Resp3]
        .into_iter()
        .map(|p| {
            let c = Client::builder(url(s)).protocol(p).connect().unwrap();
            assert_eq!(c.protocol(), p);
            c
        })
        .collect()
}

#[test]
fn strings_and_keys() {
    let s = ServerProcess::redis();
    for mut c in both_protocols(&s) {
        let _: () = c.flushdb().unwrap();
        let _: () = c.set("k", "v").unwrap();
        assert_eq!(c.get::<_, String>("k").unwrap(), "v");
        assert_eq!(c.get::<_, Option<String>>("nope").unwrap(), None);
        assert!(c.set_nx::<_, _, bool>("k", "w").is_ok_and(|set| !set));
        assert_eq!(c.incr::<_, i64>("n").unwrap(), 1);
        assert_eq!(c.incr_by::<_, i64>("n", 41).unwrap(), 42);
        assert_eq!(c.decr_by::<_, i64>("n", 2).unwrap(), 40);
        assert_eq!(c.incr_by_float::<_, f64>("f", 1.5).unwrap(), 1.5);
        let _: () = c.mset(&[("a", 1), ("b", 2)]).unwrap();
        let v: Vec<Option<i64>> = c.mget(["a", "b", "zz"]).unwrap();
        assert_eq!(v, [Some(1), Some(2), None]);
        assert_eq!(c.exists::<_, i64>(&["a", "b", "zz"]).unwrap(), 2);
        assert!(c.exists::<_, bool>("a").unwrap());
        assert!(c.expire::<_, bool>("a", 100).unwrap());
        let ttl: i64 = c.ttl("a").unwrap();
        assert!((1..=100).contains(&ttl), "{ttl}");
        assert_eq!(c.ttl::<_, i64>("b").unwrap(), -1);
        assert_eq!(c.ttl::<_, i64>("zz").unwrap(), -2);
        let _: () = c.set_ex("e", "x", 50).unwrap();
        assert!(c.pttl::<_, i64>("e").unwrap() > 0);
        assert_eq!(c.key_type::<_, String>("e").unwrap(), "string");
        assert_eq!(c.append::<_, _, i64>("e", "yz").unwrap(), 3);
        assert_eq!(c.getrange::<_, String>("e", 1, -1).unwrap(), "yz");
        assert_eq!(c.del::<_, i64>(&["a", "b", "zz"]).unwrap(), 2);
        assert_eq!(c.ping::<String>().unwrap(), "PONG");
        assert_eq!(c.dbsize::<i64>().unwrap(), 4);
    }
}

#[test]
fn binary_values_round_trip() {
    let s = ServerProcess::redis();
    let mut c = Client::connect(url(&s)).unwrap();
    let blob: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let _: () = c.set(&b"bin\r\n\0key"[..], &blob).unwrap();
    let back: Vec<u8> = c.get(&b"bin\r\n\0key"[..]).unwrap();
    assert_eq!(back, blob);
    let back: soquete_client::Bytes = c.get(&b"bin\r\n\0key"[..]).unwrap();
    assert_eq!(&back[..], &blob[..]);
}

#[test]
fn server_errors_keep_their_code_word() {
    let s = ServerProcess::redis();
    let mut c = Client::connect(url(&s)).unwrap();
    let _: () = c.lpush("list", "x").unwrap();
    let e = c.get::<_, String>("list").unwrap_err();
    let se = e.as_server_error().expect("server error");
    assert_eq!(se.kind(), ServerErrorKind::WrongType);
    assert_eq!(
        se.text(),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    let e = cmd("NOSUCHCMD").arg(1).query::<()>(&mut c).unwrap_err();
    assert_eq!(e.code(), Some("ERR"));
    let e = c.get::<_, i64>("missing").unwrap_err();
    assert!(matches!(e, Error::Conversion(_)), "{e}");
    assert!(
        e.to_string()
            .contains("expected an integer (i64), got null"),
        "{e}"
    );
    // The connection is still in step after each error.
    assert_eq!(c.ping::<String>().unwrap(), "PONG");
}

#[test]
fn collections_in_resp2_and_resp3() {
    let s = ServerProcess::redis();
    for mut c in both_protocols(&s) {
        let _: () = c.flushdb().unwrap();
        let _: () = c.hset_multiple("h", &[("f1", 1), ("f2", 2)]).unwrap();
        let m: HashMap<String, i64> = c.hgetall("h").unwrap();
        assert_eq!(
            m,
            [("f1".into(), 1), ("f2".into(), 2)].into_iter().collect()
        );
        let m: BTreeMap<String, String> = c.hgetall("h").unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(c.hincr::<_, _, i64>("h", "f1", 10).unwrap(), 11);
        assert_eq!(c.hget::<_, _, Option<i64>>("h", "zz").unwrap(), None);

        let _: () = c.rpush("l", ["a", "b", "c"]).unwrap();
        assert_eq!(
            c.lrange::<_, Vec<String>>("l", 0, -1).unwrap(),
            ["a", "b", "c"]
        );
        assert_eq!(
            c.lpop::<_, Option<String>>("l", None).unwrap().as_deref(),
            Some("a")
        );
        assert_eq!(c.rpop::<_, Vec<String>>("l", Some(5)).unwrap(), ["c", "b"]);

        let _: () = c.sadd("s", ["x", "y"]).unwrap();
        let set: HashSet<String> = c.smembers("s").unwrap();
        assert_eq!(
            set,
            ["x".to_string(), "y".to_string()].into_iter().collect()
        );
        assert!(c.sismember::<_, _, bool>("s", "x").unwrap());

        let _: () = c.zadd_multiple("z", &[(1.5, "a"), (2.0, "b")]).unwrap();
        let z: Vec<(String, f64)> = c.zrange_withscores("z", 0, -1).unwrap();
        assert_eq!(z, [("a".to_string(), 1.5), ("b".to_string(), 2.0)]);
        assert_eq!(c.zscore::<_, _, Option<f64>>("z", "b").unwrap(), Some(2.0));
        assert_eq!(c.zscore::<_, _, Option<f64>>("z", "q").unwrap(), None);
        assert_eq!(c.zincr::<_, _, _, f64>("z", "a", 1).unwrap(), 2.5);
        let (secs, _micros): (u64, u64) = c.time().unwrap();
        assert!(secs > 1_600_000_000);
    }
}

#[test]
fn pipelines_report_errors_per_command() {
    let s = ServerProcess::redis();
    let mut c = Client::connect(url(&s)).unwrap();
    let (n, v): (i64, String) = pipe()
        .set("s", "text")
        .ignore()
        .incr("n")
        .get("s")
        .query(&mut c)
        .unwrap();
    assert_eq!((n, v.as_str()), (1, "text"));
    let r: Vec<Result<i64>> = pipe().incr("n").incr("s").incr("n").query(&mut c).unwrap();
    assert_eq!(*r[0].as_ref().unwrap(), 2);
    assert_eq!(
        r[1].as_ref().unwrap_err().to_string(),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(*r[2].as_ref().unwrap(), 3);
    // A deep pipeline.
    let mut p = pipe();
    for i in 0..1000 {
        p.set(format!("k{i}"), i).ignore();
    }
    for i in 0..1000 {
        p.get(format!("k{i}"));
    }
    let got: Vec<i64> = p.query(&mut c).unwrap();
    assert_eq!(got, (0..1000).collect::<Vec<i64>>());
}

#[test]
fn transactions() {
    let s = ServerProcess::redis();
    let mut c = Client::connect(url(&s)).unwrap();
    let (a, b): (i64, i64) = pipe().atomic().incr("x").incr("x").query(&mut c).unwrap();
    assert_eq!((a, b), (1, 2));
    // A runtime error inside EXEC is that command's own.
    let _: () = c.set("str", "abc").unwrap();
    let r: Vec<Result<i64>> = pipe().atomic().incr("x").incr("str").query(&mut c).unwrap();
    assert_eq!(*r[0].as_ref().unwrap(), 3);
    assert!(r[1].is_err());
    // A queueing error aborts the whole transaction.
    let e = pipe()
        .atomic()
        .incr("x")
        .cmd("SET")
        .arg("onlyonearg")
        .query::<Vec<i64>>(&mut c)
        .unwrap_err();
    assert!(e.to_string().contains("wrong number of arguments"), "{e}");
    assert_eq!(c.get::<_, i64>("x").unwrap(), 3);
    // WATCH: a change from another connection makes EXEC return null.
    c.watch("w").unwrap();
    let mut other = Client::connect(url(&s)).unwrap();
    let _: () = other.set("w", 1).unwrap();
    let r: Option<(i64,)> = pipe().atomic().incr("w").query(&mut c).unwrap();
    assert_eq!(r, None);
}

#[test]
fn handshake_settings_apply() {
    let s = ServerProcess::builder(ServerKind::Redis)
        .args(["--requirepass", "s3cret"])
        .start();
    let e = Client::connect(url(&s)).and_then(|mut c| c.get::<_, Option<String>>("k"));
    assert_eq!(e.unwrap_err().code(), Some("NOAUTH"));
    for p in ["resp2", "resp3"] {
        let mut c = Client::builder(format!("redis://:s3cret@{}/3?protocol={p}", s.addr()))
            .client_name("tester")
            .connect()
            .unwrap();
        let name: String = cmd("CLIENT").arg("GETNAME").query(&mut c).unwrap();
        assert_eq!(name, "tester");
        let _: () = c.set("in3", 1).unwrap();
        let mut c0 = Client::connect(format!("redis://default:s3cret@{}/0", s.addr())).unwrap();
        assert_eq!(c0.get::<_, Option<i64>>("in3").unwrap(), None);
    }
    let e = Client::connect(format!("redis://:wrong@{}", s.addr())).unwrap_err();
    assert_eq!(e.code(), Some("WRONGPASS"));
}

#[cfg(unix)]
#[test]
fn unix_socket() {
    let path = std::env::temp_dir().join(format!("soquete-client-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let s = ServerProcess::builder(ServerKind::Redis)
        .args([
            "--unixsocket",
            path.to_str().unwrap(),
            "--unixsocketperm",
            "700",
        ])
        .start();
    let mut c = Client::connect(format!("unix://{}", path.display())).unwrap();
    let _: () = c.set("via", "unix").unwrap();
    let mut t = Client::connect(url(&s)).unwrap();
    assert_eq!(t.get::<_, String>("via").unwrap(), "unix");
    drop(s);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn read_timeout_bounds_a_waiting_pop_sent_raw() {
    let s = ServerProcess::redis();
    let mut c = Client::builder(url(&s))
        .read_timeout(Duration::from_millis(100))
        .connect()
        .unwrap();
    // Sent raw, a waiting pop keeps the plain read timeout (the typed
    // helper `blpop` would stretch it to the command's own timeout).
    let e = cmd("BLPOP")
        .arg(("empty", 0))
        .query::<Option<(String, String)>>(&mut c)
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    // The next request connects again and works.
    assert_eq!(c.ping::<String>().unwrap(), "PONG");
}

#[test]
fn reconnects_after_the_server_drops_the_connection() {
    let s = ServerProcess::redis();
    let mut c = Client::builder(url(&s))
        .client_name("victim")
        .connect()
        .unwrap();
    let _: () = c.set("k", "v").unwrap();
    let mut admin = Client::connect(url(&s)).unwrap();
    let killed: i64 = cmd("CLIENT")
        .arg(("KILL", "SKIPME", "yes", "USER", "default"))
        .query(&mut admin)
        .unwrap();
    assert!(killed >= 1);
    // GET may be resent: it works across the drop.
    assert_eq!(c.get::<_, String>("k").unwrap(), "v");
}

#[test]
fn connect_errors_are_io_errors() {
    let port = soquete_testkit::server::free_port().unwrap();
    let e = Client::builder(format!("redis://127.0.0.1:{port}"))
        .connect_timeout(Duration::from_secs(1))
        .connect()
        .unwrap_err();
    assert!(matches!(e, Error::Io(_)), "{e}");
}

#[test]
fn blocking_subscriber_in_resp2_and_resp3() {
    let s = ServerProcess::redis();
    let mut publisher = Client::connect(url(&s)).unwrap();
    for proto in [Protocol::Resp2, Protocol::Resp3] {
        let mut sub = Client::builder(url(&s))
            .protocol(proto)
            .subscriber()
            .unwrap();
        sub.subscribe("c1").unwrap();
        sub.psubscribe("p.*").unwrap();
        assert_eq!(sub.subscription_count(), 2);
        let _: i64 = publisher.publish("c1", "one").unwrap();
        let _: i64 = publisher.publish("p.x", 2).unwrap();
        let got: Vec<(String, i64)> = sub
            .messages()
            .take(2)
            .map(|m| {
                let m = m.unwrap();
                (
                    m.channel_str().into_owned(),
                    m.payload::<i64>().unwrap_or(-1),
                )
            })
            .collect();
        assert_eq!(got, [("c1".to_string(), -1), ("p.x".to_string(), 2)]);
        assert!(sub
            .next_message_timeout(Duration::from_millis(20))
            .unwrap()
            .is_none());
        // The subscriber is still usable after the timeout.
        let _: i64 = publisher.publish("c1", "late").unwrap();
        let m = sub
            .next_message_timeout(Duration::from_secs(10))
            .unwrap()
            .unwrap();
        assert_eq!(&m.payload[..], b"late");
        sub.unsubscribe(()).unwrap();
        sub.punsubscribe(()).unwrap();
        assert_eq!(sub.subscription_count(), 0);
    }
}
