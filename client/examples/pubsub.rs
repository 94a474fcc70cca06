//! Publish and subscribe with the blocking client: a subscriber thread
//! prints what a publisher sends.
//!
//! ```text
//! cargo run -p soquete-client --example pubsub -- redis://127.0.0.1:6379
//! ```

use soquete_client::{Client, Result, Subscriber};

fn main() -> Result<()> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());

    let mut sub = Subscriber::connect(url.as_str())?;
    sub.subscribe("example:news")?;
    sub.psubscribe("example:alerts.*")?;
    // Subscribed (confirmed by the server) before anything is published.
    let reader = std::thread::spawn(move || -> Result<()> {
        for msg in sub.messages().take(3) {
            let msg = msg?;
            match &msg.pattern {
                Some(p) => println!(
                    "[{} via {}] {}",
                    msg.channel_str(),
                    String::from_utf8_lossy(p),
                    msg.payload::<String>()?
                ),
                None => println!("[{}] {}", msg.channel_str(), msg.payload::<String>()?),
            }
        }
        Ok(())
    });

    let mut publisher = Client::connect(url.as_str())?;
    let _: i64 = publisher.publish("example:news", "first")?;
    let _: i64 = publisher.publish("example:alerts.disk", "disk 91% full")?;
    let _: i64 = publisher.publish("example:news", "second")?;
    reader.join().expect("subscriber thread panicked")
}
