//! One async connection shared by many tasks (feature `tokio`): every
//! request waiting at a moment goes out in one write.
//!
//! ```text
//! cargo run -p soquete-client --features tokio --example multiplexed -- redis://127.0.0.1:6379
//! ```

use std::time::Instant;

use soquete_client::{MultiplexedClient, Result};

#[tokio::main]
async fn main() -> Result<()> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let client = MultiplexedClient::connect(url.as_str()).await?;

    let tasks = 1000;
    let per_task = 100;
    let start = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let c = client.clone();
        handles.push(tokio::spawn(async move {
            let key = format!("example:mux:{t}");
            for i in 0..per_task {
                let _: () = c.set(&key, i).await?;
                let back: i64 = c.get(&key).await?;
                assert_eq!(back, i, "every task reads its own reply");
            }
            c.del::<_, i64>(&key).await?;
            Result::<()>::Ok(())
        }));
    }
    for h in handles {
        h.await.expect("task panicked")?;
    }
    let n = tasks * per_task * 2;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{n} requests from {tasks} tasks on one connection in {secs:.2} s ({:.0} req/s)",
        n as f64 / secs
    );
    Ok(())
}
