//! The same bytes fed to `Decoder` in arbitrary chunks give the same frames
//! (and the same error) as when fed whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soquete_resp::{BytesMut, Decoder, Error, Frame};

/// All frames from `data` fed in chunks of the given sizes (cycled), and
/// the error that stopped decoding, if any.
fn run(data: &[u8], chunks: &[u8]) -> (Vec<Frame>, Option<Error>) {
    let mut dec = Decoder::new();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut fed = 0;
    let mut i = 0;
    while fed < data.len() {
        let n = match chunks.len() {
            0 => data.len(),
            len => usize::from(chunks[i % len]),
        }
        .clamp(1, data.len() - fed);
        i += 1;
        buf.extend_from_slice(&data[fed..fed + n]);
        fed += n;
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
    }
    (frames, None)
}

fuzz_target!(|input: &[u8]| {
    // The first byte says how many chunk sizes follow; the rest is the stream.
    let Some((&k, rest)) = input.split_first() else {
        return;
    };
    let k = usize::from(k % 16).min(rest.len());
    let (chunks, data) = rest.split_at(k);
    let whole = run(data, &[]);
    let split = run(data, chunks);
    let ones = run(data, &[1]);
    assert_eq!(whole, split);
    assert_eq!(whole, ones);
});
