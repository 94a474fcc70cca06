//! Waiting pops (BLPOP and family) on dedicated connections, and the
//! multiplexed client that refuses them, against real `redis-server` and
//! `soquete-server` (each test starts both on ephemeral loopback ports).

use std::time::Duration;

use soquete_client::{cmd, Client, Direction, Protocol};
use soquete_testkit::frames::info_field;
use soquete_testkit::wait::{eventually, DEADLINE};
use soquete_testkit::ServerProcess;

fn url(s: &ServerProcess) -> String {
    format!("redis://{}", s.addr())
}

fn servers() -> [ServerProcess; 2] {
    [ServerProcess::redis(), ServerProcess::soquete()]
}

/// `blocked_clients` from `INFO clients`.
fn blocked_clients(info: &str) -> i64 {
    info_field(info.as_bytes(), "blocked_clients")
        .and_then(|v| v.trim().parse().ok())
        .expect("INFO clients has blocked_clients")
}

/// Waits until the server counts `n` clients blocked on keys (a readiness
/// check, bounded by [`DEADLINE`]).
fn wait_blocked(c: &mut Client, n: i64) {
    eventually(
        &format!("the server to count {n} blocked clients"),
        DEADLINE,
        || {
            let info: String = c.info(Some("clients")).unwrap();
            (blocked_clients(&info) == n).then_some(())
        },
    );
}

/// Runs `pop` here while another thread waits until it blocks on the
/// server, then runs `push` with `admin`.
fn served<T>(
    admin: &mut Client,
    push: impl FnOnce(&mut Client) -> soquete_client::Result<i64> + Send,
    pop: impl FnOnce() -> T,
) -> T {
    std::thread::scope(|scope| {
        let h = scope.spawn(move || {
            wait_blocked(admin, 1);
            push(admin).unwrap();
        });
        let got = pop();
        h.join().unwrap();
        got
    })
}

/// A client whose read timeout is far shorter than the commands' timeouts:
/// the typed helpers must wait for the server's answer anyway.
fn impatient(s: &ServerProcess, proto: Protocol) -> Client {
    let c = Client::builder(url(s))
        .protocol(proto)
        .read_timeout(Duration::from_millis(20))
        .connect()
        .unwrap();
    assert_eq!(c.protocol(), proto);
    c
}

#[test]
fn timeouts_return_none_even_past_a_shorter_read_timeout() {
    for s in servers() {
        for proto in [Protocol::Resp2, Protocol::Resp3] {
            let mut c = impatient(&s, proto);
            let k = s.kind();
            let t = 0.05;
            assert_eq!(
                c.blpop::<_, Option<(String, String)>>(["e1", "e2"], t)
                    .unwrap(),
                None,
                "{k}"
            );
            assert_eq!(
                c.brpop::<_, Option<(String, String)>>("e1", t).unwrap(),
                None,
                "{k}"
            );
            let moved: Option<String> = c
                .blmove("e1", "d", Direction::Left, Direction::Right, t)
                .unwrap();
            assert_eq!(moved, None, "{k}");
            assert_eq!(
                c.brpoplpush::<_, _, Option<String>>("e1", "d", t).unwrap(),
                None,
                "{k}"
            );
            let popped: Option<(String, Vec<String>)> =
                c.blmpop(t, ["e1", "e2"], Direction::Left, 5).unwrap();
            assert_eq!(popped, None, "{k}");
            assert_eq!(
                c.bzpopmin::<_, Option<(String, String, f64)>>("z", t)
                    .unwrap(),
                None,
                "{k}"
            );
            assert_eq!(
                c.bzpopmax::<_, Option<(String, String, f64)>>("z", t)
                    .unwrap(),
                None,
                "{k}"
            );
            let z: Option<(String, Vec<(String, f64)>)> = c.bzmpop_min(t, "z", 3).unwrap();
            assert_eq!(z, None, "{k}");
            // The stretched wait is for that request only: a plain command
            // still times out after 20 ms.
            let e = cmd("BLPOP")
                .arg(("e1", 0))
                .query::<Option<(String, String)>>(&mut c)
                .unwrap_err();
            assert!(e.is_timeout(), "{k}: {e}");
            assert_eq!(c.ping::<String>().unwrap(), "PONG");
        }
    }
}

#[test]
fn pops_serve_a_producer_thread_in_order() {
    const N: i64 = 200;
    for s in servers() {
        let k = s.kind();
        let mut c = impatient(&s, Protocol::Resp2);
        let mut admin = Client::connect(url(&s)).unwrap();
        let producer = {
            let u = url(&s);
            std::thread::spawn(move || {
                let mut p = Client::connect(u).unwrap();
                // The first element only once the consumer waits for it.
                wait_blocked(&mut p, 1);
                for i in 0..N {
                    let _: i64 = p.rpush("q", i).unwrap();
                }
            })
        };
        for i in 0..N {
            let got: Option<(String, i64)> = c.blpop("q", 10.0).unwrap();
            assert_eq!(got, Some(("q".to_string(), i)), "{k}");
        }
        producer.join().unwrap();

        // Each of the others, each woken from a real wait by one RPUSH.
        let got = served(
            &mut admin,
            |a| a.rpush("l", ["a", "b"]),
            || c.brpop::<_, Option<(String, String)>>(["none", "l"], 10.0),
        );
        assert_eq!(got.unwrap(), Some(("l".into(), "b".into())), "{k}");
        let got = served(
            &mut admin,
            |a| a.rpush("src", "x"),
            || c.blmove::<_, _, Option<String>>("src", "l", Direction::Left, Direction::Left, 10.0),
        );
        assert_eq!(got.unwrap().as_deref(), Some("x"), "{k}");
        let got = served(
            &mut admin,
            |a| a.rpush("src", "y"),
            || c.brpoplpush::<_, _, Option<String>>("src", "l", 10.0),
        );
        assert_eq!(got.unwrap().as_deref(), Some("y"), "{k}");
        let got = served(
            &mut admin,
            |a| a.rpush("m2", [1, 2, 3]),
            || c.blmpop::<_, Option<(String, Vec<i64>)>>(10.0, ["m1", "m2"], Direction::Right, 2),
        );
        assert_eq!(got.unwrap(), Some(("m2".into(), vec![3, 2])), "{k}");
        let rest: Vec<String> = c.lrange("l", 0, -1).unwrap();
        assert_eq!(rest, ["y", "x", "a"], "{k}");

        let got = served(
            &mut admin,
            |a| a.zadd_multiple("z", &[(2.5, "b"), (1.5, "a")]),
            || c.bzpopmin::<_, Option<(String, String, f64)>>(["nz", "z"], 10.0),
        );
        assert_eq!(got.unwrap(), Some(("z".into(), "a".into(), 1.5)), "{k}");
        let got: Option<(String, String, f64)> = c.bzpopmax("z", 1.0).unwrap();
        assert_eq!(got, Some(("z".into(), "b".into(), 2.5)), "{k}");
        let _: i64 = admin
            .zadd_multiple("z", &[(1.0, "p"), (2.0, "q"), (3.0, "r")])
            .unwrap();
        let got: Option<(String, Vec<(String, f64)>)> = c.bzmpop_max(1.0, "z", 2).unwrap();
        assert_eq!(
            got,
            Some(("z".into(), vec![("r".into(), 3.0), ("q".into(), 2.0)])),
            "{k}"
        );
    }
}

#[cfg(feature = "tokio")]
mod multiplexed {
    use super::*;
    use soquete_client::{pipe, AsyncConnection, Error, Frame, MultiplexedClient};

    async fn wait_blocked_async(c: &MultiplexedClient, n: i64) {
        for _ in 0..10_000 {
            let info: String = c.info(Some("clients")).await.unwrap();
            if blocked_clients(&info) == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("the server never counted {n} blocked clients");
    }

    /// A BLPOP waiting on a dedicated connection does not hold up the shared
    /// one: hundreds of GETs complete on it while the BLPOP is still waiting
    /// (checked by order of events, not by time), and the BLPOP then gets
    /// the element pushed through the shared client.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn gets_on_the_shared_client_complete_while_a_blpop_waits() {
        for s in servers() {
            let k = s.kind();
            let shared = Client::builder(url(&s))
                .read_timeout(Duration::from_millis(50))
                .connect_multiplexed()
                .await
                .unwrap();
            let mut worker = shared.dedicated_connection().await.unwrap();
            let waiter = tokio::spawn(async move {
                let got: Option<(String, String)> = worker.blpop("jobs", 30.0).await?;
                soquete_client::Result::<_>::Ok((got, worker))
            });
            wait_blocked_async(&shared, 1).await;

            let _: () = shared.set("k", "v").await.unwrap();
            let mut tasks = Vec::new();
            for i in 0..200 {
                let c = shared.clone();
                tasks.push(tokio::spawn(async move {
                    let v: String = c.get("k").await?;
                    let n: i64 = c.incr(format!("n{}", i % 4)).await?;
                    soquete_client::Result::<_>::Ok((v, n))
                }));
            }
            for t in tasks {
                let (v, n) = t.await.unwrap().unwrap();
                assert_eq!(v, "v");
                assert!(n >= 1);
            }
            // Every GET is answered, and the BLPOP is still waiting.
            assert!(!waiter.is_finished(), "{k}");
            let info: String = shared.info(Some("clients")).await.unwrap();
            assert_eq!(blocked_clients(&info), 1, "{k}");

            let _: i64 = shared.rpush("jobs", "j1").await.unwrap();
            let (got, mut worker) = waiter.await.unwrap().unwrap();
            assert_eq!(got, Some(("jobs".into(), "j1".into())), "{k}");
            // A timeout far beyond the 50 ms read timeout still ends in None.
            let none: Option<(String, String)> = worker.blpop("jobs", 0.2).await.unwrap();
            assert_eq!(none, None, "{k}");
        }
    }

    #[tokio::test]
    async fn the_shared_client_refuses_what_would_stall_or_change_it() {
        for s in servers() {
            let shared = MultiplexedClient::connect(url(&s)).await.unwrap();
            let refused = |r: soquete_client::Result<Frame>| match r {
                Err(Error::Client(m)) => m,
                r => panic!("not refused: {r:?}"),
            };
            let m = refused(shared.query(("BLPOP", "q", 0)).await);
            assert!(m.contains("dedicated_connection"), "{m}");
            refused(cmd("bzpopmin").arg(("z", 0)).query_async(&shared).await);
            refused(pipe().get("k").blpop("q", 0.0).query_async(&shared).await);
            refused(shared.query(("WATCH", "k")).await);
            refused(shared.query(("MULTI",)).await);
            refused(shared.query(("SUBSCRIBE", "ch")).await);
            // Inside MULTI nothing blocks: an atomic pipeline may hold one.
            let r: (Option<(String, String)>,) = pipe()
                .atomic()
                .blpop("q", 0.0)
                .query_async(&shared)
                .await
                .unwrap();
            assert_eq!(r, (None,));
            assert_eq!(shared.ping::<String>().await.unwrap(), "PONG");
        }
    }

    /// A BLPOP cancelled by the caller closes its connection at once, so the
    /// server stops waiting for it and a later push goes to the next waiter
    /// instead of vanishing into the abandoned one.
    #[tokio::test]
    async fn a_cancelled_blpop_does_not_swallow_a_later_push() {
        for s in servers() {
            let k = s.kind();
            let shared = MultiplexedClient::connect(url(&s)).await.unwrap();
            let mut conn = AsyncConnection::connect(url(&s)).await.unwrap();
            let cancelled = async {
                tokio::select! {
                    r = conn.blpop::<_, Option<(String, String)>>("q", 0.0) => panic!("{k}: served: {r:?}"),
                    () = wait_blocked_async(&shared, 1) => {}
                }
            };
            cancelled.await;
            assert!(!conn.is_connected());
            wait_blocked_async(&shared, 0).await;
            let _: i64 = shared.rpush("q", "kept").await.unwrap();
            let got: Option<(String, String)> = conn.blpop("q", 5.0).await.unwrap();
            assert_eq!(got, Some(("q".into(), "kept".into())), "{k}");
        }
    }

    #[tokio::test]
    async fn async_pops_time_out_with_none_in_both_protocols() {
        for s in servers() {
            for proto in [Protocol::Resp2, Protocol::Resp3] {
                let mut c = Client::builder(url(&s))
                    .protocol(proto)
                    .read_timeout(Duration::from_millis(20))
                    .connect_async()
                    .await
                    .unwrap();
                let k = s.kind();
                let got: Option<(String, String)> = c.brpop("e", 0.1).await.unwrap();
                assert_eq!(got, None, "{k}");
                let got: Option<String> = c.brpoplpush("e", "d", 0.1).await.unwrap();
                assert_eq!(got, None, "{k}");
                let got: Option<(String, Vec<String>)> =
                    c.blmpop(0.1, "e", Direction::Right, 1).await.unwrap();
                assert_eq!(got, None, "{k}");
                let _: i64 = c.rpush("e", "x").await.unwrap();
                let got: Option<String> = c
                    .blmove("e", "d", Direction::Right, Direction::Left, 0.1)
                    .await
                    .unwrap();
                assert_eq!(got.as_deref(), Some("x"), "{k}");
            }
        }
    }
}
