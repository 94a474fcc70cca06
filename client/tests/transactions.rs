//! The WATCH/MULTI/EXEC helpers against real `redis-server` and
//! `soquete-server` (each test starts both on ephemeral loopback ports).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use soquete_client::{cmd, pipe, Client, Error, Result, TxPolicy, TxRetry};
use soquete_testkit::ServerProcess;

fn url(s: &ServerProcess) -> String {
    format!("redis://{}", s.addr())
}

fn servers() -> [ServerProcess; 2] {
    [ServerProcess::redis(), ServerProcess::soquete()]
}

/// A policy that allows many attempts and counts the retries it granted.
fn counting(retries: &Arc<AtomicU32>) -> impl TxPolicy {
    let retries = retries.clone();
    let mut inner =
        TxRetry::attempts(10_000).backoff(Duration::from_micros(100), Duration::from_millis(5));
    move |attempt: u32| {
        let r = inner.retry_after(attempt);
        if r.is_some() {
            retries.fetch_add(1, Ordering::Relaxed);
        }
        r
    }
}

const THREADS: u32 = 6;
const INCREMENTS: u32 = 50;

/// Many threads increment one watched counter with GET then SET (not INCR):
/// only the retry on a refused EXEC keeps every increment.
#[test]
fn watched_counter_is_exact_under_contention() {
    for s in servers() {
        let retries = Arc::new(AtomicU32::new(0));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (u, retries) = (url(&s), retries.clone());
                std::thread::spawn(move || -> Result<()> {
                    let mut c = Client::connect(u)?;
                    for _ in 0..INCREMENTS {
                        let (_n,): (i64,) =
                            c.transaction_with("counter", counting(&retries), |con, pipe| {
                                let n: i64 = con.get::<_, Option<i64>>("counter")?.unwrap_or(0);
                                pipe.set("counter", n + 1)
                                    .ignore()
                                    .get("counter")
                                    .query(con)
                            })?;
                    }
                    Ok(())
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        let mut c = Client::connect(url(&s)).unwrap();
        assert_eq!(
            c.get::<_, i64>("counter").unwrap(),
            i64::from(THREADS * INCREMENTS),
            "{}",
            s.kind()
        );
        eprintln!(
            "{}: {} increments, {} retries after refused EXECs",
            s.kind(),
            THREADS * INCREMENTS,
            retries.load(Ordering::Relaxed)
        );
    }
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_watched_counter_is_exact_under_contention() {
    for s in servers() {
        let shared = soquete_client::MultiplexedClient::connect(url(&s))
            .await
            .unwrap();
        let retries = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..THREADS {
            let mut con = shared.dedicated_connection().await.unwrap();
            let retries = retries.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..INCREMENTS {
                    let (_n,): (i64,) = con
                        .transaction_with("counter", counting(&retries), async move |con, pipe| {
                            let n: i64 = con.get::<_, Option<i64>>("counter").await?.unwrap_or(0);
                            pipe.set("counter", n + 1)
                                .ignore()
                                .get("counter")
                                .query_async(con)
                                .await
                        })
                        .await?;
                }
                Result::<()>::Ok(())
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(
            shared.get::<_, i64>("counter").await.unwrap(),
            i64::from(THREADS * INCREMENTS),
            "{}",
            s.kind()
        );
        eprintln!(
            "{} async: {} retries",
            s.kind(),
            retries.load(Ordering::Relaxed)
        );
    }
}

/// Each attempt sees its watched key changed by another client before EXEC:
/// the policy's bound ends it, and nothing of it was applied.
#[test]
fn a_key_changed_every_time_exhausts_the_policy() {
    for s in servers() {
        let mut c = Client::connect(url(&s)).unwrap();
        let mut other = Client::connect(url(&s)).unwrap();
        let mut runs = 0;
        let e = c
            .transaction_with("k", TxRetry::attempts(3), |con, pipe| {
                runs += 1;
                let _: i64 = other.incr("k")?;
                pipe.set("k", "mine").ignore().incr("applied").query(con)
            })
            .map(|(n,): (i64,)| n)
            .unwrap_err();
        assert!(matches!(e, Error::WatchConflict { attempts: 3 }), "{e}");
        assert_eq!(runs, 3);
        assert_eq!(c.get::<_, i64>("k").unwrap(), 3, "{}", s.kind());
        assert_eq!(c.get::<_, Option<i64>>("applied").unwrap(), None);
    }
}

/// An attempt that ends before EXEC (early return or error) unwatches: a
/// later atomic pipeline on the same connection is not refused by a stale
/// watch.
#[test]
fn an_early_exit_leaves_no_watch_behind() {
    for s in servers() {
        let mut c = Client::connect(url(&s)).unwrap();
        let mut other = Client::connect(url(&s)).unwrap();
        let skipped: &str = c.transaction("w", |_, _| Ok(Some("skip"))).unwrap();
        assert_eq!(skipped, "skip");
        let _: () = other.set("w", 1).unwrap();
        let r: Option<(i64,)> = pipe().atomic().incr("x").query(&mut c).unwrap();
        assert_eq!(r, Some((1,)), "{}", s.kind());

        let _: () = other.set("str", "text").unwrap();
        let e = c
            .transaction(("w", "str"), |con, _| {
                let n: i64 = con.get("str")?;
                Ok(Some(n))
            })
            .unwrap_err();
        assert!(matches!(e, Error::Conversion(_)), "{e}");
        let _: () = other.set("str", "changed").unwrap();
        let r: Option<(i64,)> = pipe().atomic().incr("x").query(&mut c).unwrap();
        assert_eq!(r, Some((2,)), "{}", s.kind());
    }
}

/// The connection holding the watch is killed in the middle of an attempt:
/// the helper does not carry on over a new connection (where nothing is
/// watched), and nothing is applied.
#[test]
fn a_killed_connection_mid_transaction_applies_nothing() {
    for s in servers() {
        let mut c = Client::builder(url(&s))
            .backoff(Duration::from_millis(1), Duration::from_millis(10))
            .connect()
            .unwrap();
        let mut admin = Client::connect(url(&s)).unwrap();
        let _: () = admin.set("k", 10).unwrap();
        let e = c
            .transaction("k", |con, pipe| {
                let id: i64 = cmd("CLIENT").arg("ID").query(con)?;
                let n: i64 = con.get("k")?;
                let killed: i64 = cmd("CLIENT").arg(("KILL", "ID", id)).query(&mut admin)?;
                assert_eq!(killed, 1);
                // A read, safe to resend in general; not here.
                let again: i64 = con.get("k")?;
                pipe.set("k", n + again).ignore().get("k").query(con)
            })
            .map(|(v,): (i64,)| v)
            .unwrap_err();
        assert!(matches!(e, Error::ConnectionLost), "{}: {e}", s.kind());
        assert_eq!(admin.get::<_, i64>("k").unwrap(), 10);
        // The client carries on, on a new connection.
        let (v,): (i64,) = c
            .transaction("k", |con, pipe| {
                let n: i64 = con.get("k")?;
                pipe.set("k", n + 1).ignore().get("k").query(con)
            })
            .unwrap();
        assert_eq!(v, 11, "{}", s.kind());
    }
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn async_transaction_gives_up_and_unwatches_like_the_blocking_one() {
    for s in servers() {
        let mut con = Client::builder(url(&s)).connect_async().await.unwrap();
        let mut other = Client::connect(url(&s)).unwrap();
        let mut runs = 0;
        let e = con
            .transaction_with("k", TxRetry::attempts(2), async |con, pipe| {
                runs += 1;
                let _: i64 = other.incr("k")?;
                pipe.incr("applied")
                    .query_async::<Option<(i64,)>>(con)
                    .await
            })
            .await
            .unwrap_err();
        assert!(matches!(e, Error::WatchConflict { attempts: 2 }), "{e}");
        assert_eq!(runs, 2);
        let early: i64 = con
            .transaction("k", async |_, _| Ok(Some(5)))
            .await
            .unwrap();
        assert_eq!(early, 5);
        let _: i64 = other.incr("k").unwrap();
        let r: Option<(i64,)> = pipe()
            .atomic()
            .incr("applied")
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(r, Some((1,)), "{}", s.kind());
    }
}
