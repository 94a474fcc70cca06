//! A job queue (feature `tokio`): a producer on the shared
//! `MultiplexedClient`, workers that wait with `BLMOVE` on dedicated
//! connections (a waiting pop must not hold the shared one), and an
//! optimistic transaction that records each finished job.
//!
//! ```text
//! cargo run -p soquete-client --features tokio --example jobs -- redis://127.0.0.1:6379
//! ```

use soquete_client::{Direction, MultiplexedClient, Result};

const JOBS: usize = 20;
const WORKERS: usize = 3;

#[tokio::main]
async fn main() -> Result<()> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let shared = MultiplexedClient::connect(url.as_str()).await?;
    let _: i64 = shared
        .del(("example:jobs", "example:doing", "example:done"))
        .await?;

    let mut workers = Vec::new();
    for w in 0..WORKERS {
        // Each worker blocks on a connection of its own.
        let mut conn = shared.dedicated_connection().await?;
        workers.push(tokio::spawn(async move {
            let mut done = 0;
            loop {
                // Take the oldest job into the processing list; None after 1 s idle.
                let job: Option<String> = conn
                    .blmove(
                        "example:jobs",
                        "example:doing",
                        Direction::Right,
                        Direction::Left,
                        1.0,
                    )
                    .await?;
                let Some(job) = job else { break };
                // Finish it atomically: off the processing list, +1 on the
                // tally, unless someone touched the tally in between (retried).
                let _: (i64, i64) = conn
                    .transaction("example:done", async move |con, pipe| {
                        let _: Option<i64> = con.get("example:done").await?;
                        pipe.lrem("example:doing", 1, &job)
                            .incr("example:done")
                            .query_async(con)
                            .await
                    })
                    .await?;
                done += 1;
            }
            println!("worker {w}: {done} jobs");
            Result::<usize>::Ok(done)
        }));
    }

    // Meanwhile the shared client keeps serving everyone at once.
    for i in 0..JOBS {
        let _: i64 = shared.lpush("example:jobs", format!("job-{i}")).await?;
    }
    let mut total = 0;
    for w in workers {
        total += w.await.expect("worker panicked")?;
    }
    let tally: i64 = shared.get("example:done").await?;
    println!("{total} jobs done, tally {tally}");
    let _: i64 = shared.del("example:done").await?;
    Ok(())
}
