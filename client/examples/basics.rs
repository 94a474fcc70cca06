//! The blocking client: typed helpers, any command, pipelines, transactions,
//! a waiting pop (BLPOP).
//!
//! Run against a server (soquete-server or Redis) on the default port, or
//! give a URL:
//!
//! ```text
//! cargo run -p soquete-client --example basics -- redis://127.0.0.1:6379/0
//! ```

use std::collections::HashMap;

use soquete_client::{cmd, pipe, Client, Result};

fn main() -> Result<()> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let mut c = Client::connect(url.as_str())?;
    println!("connected to {url} ({:?})", c.protocol());

    // Typed helpers: the reply type is whatever you ask for.
    let _: () = c.set("example:greeting", "hello")?;
    let greeting: String = c.get("example:greeting")?;
    let missing: Option<String> = c.get("example:nothing-here")?;
    println!("greeting = {greeting:?}, missing = {missing:?}");

    let visits: i64 = c.incr("example:visits")?;
    println!("visits = {visits}");

    // Any command, with `cmd`.
    let len: i64 = cmd("STRLEN").arg("example:greeting").query(&mut c)?;
    println!("STRLEN = {len}");

    // A pipeline: one write, one read; `.ignore()` drops a reply.
    let (a, b): (i64, i64) = pipe()
        .set("example:x", 1)
        .ignore()
        .incr_by("example:x", 10)
        .incr_by("example:x", 100)
        .query(&mut c)?;
    println!("pipeline: {a} {b}");

    // Each command's error is its own.
    let r: Vec<Result<i64>> = pipe()
        .incr("example:x")
        .incr("example:greeting") // not a number
        .query(&mut c)?;
    for (i, x) in r.iter().enumerate() {
        match x {
            Ok(n) => println!("  command {i}: {n}"),
            Err(e) => println!("  command {i}: error {} ({e})", e.code().unwrap_or("?")),
        }
    }

    // MULTI/EXEC.
    let (x, y): (i64, i64) = pipe()
        .atomic()
        .incr("example:tx")
        .incr("example:tx")
        .query(&mut c)?;
    println!("transaction: {x} {y}");

    // WATCH/MULTI/EXEC with retries: double a value that others may change.
    let _: () = c.set("example:balance", 21)?;
    let (doubled,): (i64,) = c.transaction("example:balance", |con, pipe| {
        let n: i64 = con.get("example:balance")?;
        // `None` when example:balance changed since WATCH: the helper retries.
        pipe.set("example:balance", n * 2)
            .ignore()
            .get("example:balance")
            .query(con)
    })?;
    println!("optimistic transaction: {doubled}");

    // A waiting pop: here the list has an element, so it returns at once;
    // on an empty list it would wait up to 1 s and give None.
    let _: i64 = c.rpush("example:queue", "job-1")?;
    let job: Option<(String, String)> = c.blpop("example:queue", 1.0)?;
    println!("blpop: {job:?}");

    // Maps and lists, from RESP2 or RESP3 alike.
    let fields: HashMap<String, String> = c.hgetall("example:no-such-hash")?;
    println!("empty hash has {} fields", fields.len());

    let _: i64 = c.del((
        "example:greeting",
        "example:visits",
        "example:x",
        "example:tx",
        "example:balance",
    ))?;
    Ok(())
}
