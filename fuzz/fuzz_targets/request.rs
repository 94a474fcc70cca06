//! The request decoder never panics on arbitrary bytes, and the same bytes
//! fed in arbitrary chunks give the same requests and the same error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soquete_resp::{Error, Limits, RequestDecoder};

type Requests = Vec<(Vec<Vec<u8>>, bool)>;

fn run(data: &[u8], chunks: &[u8], limits: Limits) -> (Requests, Option<Error>) {
    let mut dec = RequestDecoder::with_limits(limits);
    let mut buf = Vec::new();
    let mut out = Vec::new();
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
        let mut used = 0;
        loop {
            match dec.decode(&buf[used..]) {
                Ok(Some(req)) => {
                    assert!(req.consumed() > 0 && used + req.consumed() <= buf.len());
                    assert_eq!(req.args().len(), req.len());
                    used += req.consumed();
                    out.push((req.args().map(<[u8]>::to_vec).collect(), req.is_inline()));
                }
                Ok(None) => {
                    assert!(dec.wants() > buf.len() - used);
                    break;
                }
                Err(e) => return (out, Some(e)),
            }
        }
        buf.drain(..used);
    }
    (out, None)
}

fuzz_target!(|input: &[u8]| {
    let Some((&k, rest)) = input.split_first() else {
        return;
    };
    // Small limits too, so that the limit paths are reached.
    let limits = if k & 0x80 != 0 {
        Limits {
            max_inline_len: 64,
            max_bulk_len: 100,
            max_multibulk_len: 20,
            unauthenticated: k & 0x40 != 0,
            ..Limits::default()
        }
    } else {
        Limits::default()
    };
    let k = usize::from(k % 16).min(rest.len());
    let (chunks, data) = rest.split_at(k);
    let whole = run(data, &[], limits);
    assert_eq!(whole, run(data, chunks, limits));
    assert_eq!(whole, run(data, &[1], limits));
});
