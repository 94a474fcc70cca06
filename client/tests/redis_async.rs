//! The async multiplexed client and subscribers against real `redis-server`.

use std::time::Duration;

use futures_core::Stream;
use soquete_client::{cmd, pipe, Client, MessageKind, MultiplexedClient, Protocol, Result};
use soquete_testkit::ServerProcess;

fn url(s: &ServerProcess) -> String {
    format!("redis://{}", s.addr())
}

/// Thousands of tasks on one connection; every reply is checked against the
/// request that asked for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_tasks_get_their_own_replies() {
    let s = ServerProcess::redis();
    for proto in [Protocol::Resp2, Protocol::Resp3] {
        let c = Client::builder(url(&s))
            .protocol(proto)
            .connect_multiplexed()
            .await
            .unwrap();
        assert_eq!(c.protocol(), proto);
        let mut tasks = Vec::new();
        for i in 0..4000u32 {
            let c = c.clone();
            tasks.push(tokio::spawn(async move {
                let key = format!("{proto:?}:key:{i}");
                let val = format!("value-{i}-{}", "x".repeat((i % 50) as usize));
                let _: () = c.set(&key, &val).await?;
                let got: String = c.get(&key).await?;
                assert_eq!(got, val, "task {i}");
                let n: i64 = c.incr(format!("{proto:?}:ctr:{}", i % 7)).await?;
                assert!(n >= 1);
                let (a, b): (String, i64) = pipe().get(&key).strlen(&key).query_async(&c).await?;
                assert_eq!(
                    (a.as_str(), b),
                    (val.as_str(), val.len() as i64),
                    "task {i}"
                );
                Result::<()>::Ok(())
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let mut total = 0;
        for k in 0..7 {
            total += c.get::<_, i64>(format!("{proto:?}:ctr:{k}")).await.unwrap();
        }
        assert_eq!(total, 4000);
    }
}

#[tokio::test]
async fn errors_and_transactions_on_a_multiplexed_client() {
    let s = ServerProcess::redis();
    let c = MultiplexedClient::connect(url(&s)).await.unwrap();
    let _: () = c.lpush("l", 1).await.unwrap();
    let e = c.get::<_, String>("l").await.unwrap_err();
    assert_eq!(e.code(), Some("WRONGTYPE"));
    let r: Vec<Result<i64>> = pipe()
        .atomic()
        .incr("n")
        .incr("l")
        .incr("n")
        .query_async(&c)
        .await
        .unwrap();
    assert_eq!(*r[0].as_ref().unwrap(), 1);
    assert_eq!(r[1].as_ref().unwrap_err().code(), Some("WRONGTYPE"));
    assert_eq!(*r[2].as_ref().unwrap(), 2);
    let v: String = cmd("ECHO").arg("hi").query_async(&c).await.unwrap();
    assert_eq!(v, "hi");
}

#[tokio::test]
async fn multiplexed_client_survives_a_killed_connection() {
    let s = ServerProcess::redis();
    let c = Client::builder(url(&s))
        .client_name("mux")
        .backoff(Duration::from_millis(1), Duration::from_millis(20))
        .connect_multiplexed()
        .await
        .unwrap();
    let _: () = c.set("k", "v").await.unwrap();
    let mut admin = Client::connect(url(&s)).unwrap();
    let killed: i64 = cmd("CLIENT")
        .arg(("KILL", "SKIPME", "yes", "USER", "default"))
        .query(&mut admin)
        .unwrap();
    assert_eq!(killed, 1);
    // GET is safe to resend: it succeeds whether or not it raced with the kill.
    assert_eq!(c.get::<_, String>("k").await.unwrap(), "v");
    let name: String = cmd("CLIENT").arg("GETNAME").query_async(&c).await.unwrap();
    assert_eq!(name, "mux");
}

async fn next<S: Stream + Unpin>(s: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *s).poll_next(cx)).await
}

#[tokio::test]
async fn async_subscriber_in_resp2_and_resp3() {
    let s = ServerProcess::redis();
    let publisher = MultiplexedClient::connect(url(&s)).await.unwrap();
    for proto in [Protocol::Resp2, Protocol::Resp3] {
        let mut sub = Client::builder(url(&s))
            .protocol(proto)
            .async_subscriber()
            .await
            .unwrap();
        sub.subscribe(("news", "sport")).await.unwrap();
        sub.psubscribe("alerts.*").await.unwrap();
        sub.ssubscribe("shard").await.unwrap();
        let n: i64 = publisher.publish("news", "n1").await.unwrap();
        assert_eq!(n, 1);
        let _: i64 = publisher.publish("alerts.fire", "a1").await.unwrap();
        let _: i64 = publisher.spublish("shard", "s1").await.unwrap();
        let m = sub.next_message().await.unwrap();
        assert_eq!(
            (
                m.kind,
                m.channel_str().as_ref(),
                m.payload::<String>().unwrap().as_str()
            ),
            (MessageKind::Message, "news", "n1")
        );
        let m = next(&mut sub).await.unwrap().unwrap();
        assert_eq!(m.kind, MessageKind::PMessage);
        assert_eq!(m.pattern.as_deref(), Some(&b"alerts.*"[..]));
        assert_eq!(&m.channel[..], b"alerts.fire");
        let m = next(&mut sub).await.unwrap().unwrap();
        assert_eq!(
            (m.kind, &m.payload[..]),
            (MessageKind::SMessage, &b"s1"[..])
        );
        sub.unsubscribe(()).await.unwrap();
        let n: i64 = publisher.publish("news", "n2").await.unwrap();
        assert_eq!(n, 0);
    }
}

#[cfg(unix)]
#[tokio::test]
async fn multiplexed_client_and_subscriber_over_a_unix_socket() {
    use soquete_testkit::ServerKind;
    let path = std::env::temp_dir().join(format!("soquete-client-mux-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let s = ServerProcess::builder(ServerKind::Redis)
        .args([
            "--unixsocket",
            path.to_str().unwrap(),
            "--unixsocketperm",
            "700",
        ])
        .start();
    let unix = format!("unix://{}", path.display());
    let c = MultiplexedClient::connect(unix.as_str()).await.unwrap();
    let mut sub = soquete_client::AsyncSubscriber::connect(unix.as_str())
        .await
        .unwrap();
    sub.subscribe("u").await.unwrap();
    let _: () = c.set("via", "unix").await.unwrap();
    assert_eq!(c.get::<_, String>("via").await.unwrap(), "unix");
    assert_eq!(c.publish::<_, _, i64>("u", "m").await.unwrap(), 1);
    assert_eq!(&sub.next_message().await.unwrap().payload[..], b"m");
    drop(s);
    let _ = std::fs::remove_file(&path);
}

/// A connection pool's handle, as bb8 or deadpool lend one: it passes every
/// request on to the connection it holds.
struct Pooled {
    conn: soquete_client::AsyncConnection,
    lent: u32,
}

impl soquete_client::AsyncTarget for &mut Pooled {
    fn send_command(
        self,
        cmd: &soquete_client::Cmd,
    ) -> impl std::future::Future<Output = Result<soquete_client::Frame>> + Send {
        self.lent += 1;
        self.conn.send_command(cmd)
    }
    fn send_pipeline(
        self,
        p: &soquete_client::Pipeline,
    ) -> impl std::future::Future<Output = Result<Vec<soquete_client::Frame>>> + Send {
        self.lent += 1;
        self.conn.send_pipeline(p)
    }
}

/// Code written once against the trait, for any connection.
async fn incr_and_read<C>(con: &mut C, key: &str) -> Result<(i64, i64)>
where
    for<'a> &'a mut C: soquete_client::AsyncTarget,
{
    let n: i64 = cmd("INCR").arg(key).query_async(&mut *con).await?;
    let (again, read): (i64, i64) = pipe().incr(key).get(key).query_async(con).await?;
    assert_eq!(again, read);
    Ok((n, read))
}

#[tokio::test]
async fn code_generic_over_async_target_runs_on_every_client_and_a_pool_handle() {
    let s = ServerProcess::redis();
    let mut shared = MultiplexedClient::connect(url(&s)).await.unwrap();
    let mut own = shared.dedicated_connection().await.unwrap();
    let mut pooled = Pooled {
        conn: shared.dedicated_connection().await.unwrap(),
        lent: 0,
    };
    assert_eq!(incr_and_read(&mut shared, "g").await.unwrap(), (1, 2));
    assert_eq!(incr_and_read(&mut own, "g").await.unwrap(), (3, 4));
    assert_eq!(incr_and_read(&mut pooled, "g").await.unwrap(), (5, 6));
    assert_eq!(pooled.lent, 2);
    // Typed helpers stay on the clients; raw commands reach the pool's handle.
    let v: i64 = cmd("GET").arg("g").query_async(&mut pooled).await.unwrap();
    assert_eq!(v, 6);
}
