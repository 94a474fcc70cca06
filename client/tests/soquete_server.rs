//! The client against `soquete-server` (started by the test on an ephemeral
//! loopback port, built by testkit when needed): the commands the server
//! implements, blocking, pipelined and multiplexed.

use soquete_client::{cmd, pipe, Client, Protocol, Result};
use soquete_testkit::ServerProcess;

fn url(s: &ServerProcess) -> String {
    format!("redis://{}", s.addr())
}

#[test]
fn strings_keys_and_pipelines() {
    let s = ServerProcess::soquete();
    let mut c = Client::connect(url(&s)).unwrap();
    assert_eq!(c.ping::<String>().unwrap(), "PONG");
    let _: () = c.set("k", "v").unwrap();
    assert_eq!(c.get::<_, String>("k").unwrap(), "v");
    assert_eq!(c.get::<_, Option<String>>("missing").unwrap(), None);
    assert_eq!(c.incr::<_, i64>("n").unwrap(), 1);
    assert_eq!(c.incr_by::<_, i64>("n", 9).unwrap(), 10);
    let _: () = c.mset(&[("a", 1), ("b", 2)]).unwrap();
    let v: Vec<Option<i64>> = c.mget(("a", "b", "zz")).unwrap();
    assert_eq!(v, [Some(1), Some(2), None]);
    assert_eq!(c.exists::<_, i64>(("a", "b", "zz")).unwrap(), 2);
    assert!(c.expire::<_, bool>("a", 100).unwrap());
    let ttl: i64 = c.ttl("a").unwrap();
    assert!((1..=100).contains(&ttl), "{ttl}");
    assert_eq!(c.del::<_, i64>(("a", "b")).unwrap(), 2);
    let e = c.incr::<_, i64>("k").unwrap_err();
    assert_eq!(e.to_string(), "ERR value is not an integer or out of range");
    let r: Vec<Result<i64>> = pipe().incr("n").incr("k").incr("n").query(&mut c).unwrap();
    assert_eq!(*r[0].as_ref().unwrap(), 11);
    assert_eq!(r[1].as_ref().unwrap_err().code(), Some("ERR"));
    assert_eq!(*r[2].as_ref().unwrap(), 12);
    let mut p = pipe();
    for i in 0..500 {
        p.set(format!("p{i}"), i).ignore();
    }
    for i in 0..500 {
        p.get(format!("p{i}"));
    }
    let got: Vec<i64> = p.query(&mut c).unwrap();
    assert_eq!(got, (0..500).collect::<Vec<i64>>());
    let e = cmd("NOSUCHCOMMAND").query::<()>(&mut c).unwrap_err();
    assert_eq!(e.code(), Some("ERR"));
}

#[test]
fn resp3_negotiation_either_way() {
    let s = ServerProcess::soquete();
    // RESP3 if the server speaks it, RESP2 after the fallback otherwise: both work.
    let mut c = Client::builder(url(&s))
        .protocol(Protocol::Resp3)
        .connect()
        .unwrap();
    let _: () = c.set("k", 5).unwrap();
    assert_eq!(c.get::<_, i64>("k").unwrap(), 5);
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_on_one_multiplexed_connection() {
    let s = ServerProcess::soquete();
    let c = soquete_client::MultiplexedClient::connect(url(&s))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..2000u32 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("t:{i}");
            let _: () = c.set(&key, i).await?;
            let got: u32 = c.get(&key).await?;
            assert_eq!(got, i);
            Result::<()>::Ok(())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
}
