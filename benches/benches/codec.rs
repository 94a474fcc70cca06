//! soquete-resp against the `redis-protocol` crate and a bare `memchr` CRLF
//! scan of the same bytes, in the same run.
//!
//! ```sh
//! cargo bench -p soquete-benches --bench codec
//! ```
//!
//! Cases (each reports bytes/s, so ratios read directly):
//!
//! * `request_pipeline`: 1,000 `SET key:NNNN <32-byte value>` requests as
//!   clients send them. Ours: `RequestDecoder` (arguments as slices).
//!   redis-protocol: its RESP2 `decode_range` (ranges into the buffer, its
//!   cheapest path) and `decode_bytes` (zero-copy `Bytes` frames), and its
//!   RESP3 `decode_range`.
//! * `bulk_1mib`: a 1 MiB bulk string reply. Ours: `Decoder` (zero-copy).
//!   redis-protocol: RESP2 and RESP3 `decode_bytes_mut` (zero-copy) and
//!   `decode_range`.
//! * `nested_resp3`: a RESP3 array of 1,000 maps, each with a bulk, a double
//!   and an array of three bulks: 10,000 values. Ours: `Decoder`;
//!   redis-protocol: RESP3 `decode_bytes_mut` and `decode_range`.
//! * `memchr_crlf` in every group: find every `\r` with `memchr` and check
//!   the `\n` after it, nothing else: the speed of light of a line scanner.
//!
//! The `encode` groups write the same values: ours with `encode::command` /
//! `encode::frame`, redis-protocol with `extend_encode` of the frames its
//! decoder produced.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use redis_protocol::{resp2, resp3};
use soquete_resp::{encode, Decoder, Frame, RequestDecoder};

fn set_pipeline() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..1000 {
        let key = format!("key:{i:04}");
        let value = format!("{:032}", i * 7919);
        encode::command(&mut out, [&b"SET"[..], key.as_bytes(), value.as_bytes()]);
    }
    out
}

fn bulk_1mib() -> Vec<u8> {
    let payload: Vec<u8> = (0..1 << 20).map(|i| b'a' + (i % 26) as u8).collect();
    let mut out = Vec::new();
    encode::bulk(&mut out, &payload);
    out
}

fn nested_resp3() -> Frame {
    let maps = (0..1000)
        .map(|i| {
            Frame::Map(vec![
                (
                    Frame::Bulk(Bytes::from_static(b"name")),
                    Frame::Bulk(Bytes::from(format!("user:{i}"))),
                ),
                (
                    Frame::Bulk(Bytes::from_static(b"score")),
                    Frame::Double(i as f64 * 1.5),
                ),
                (
                    Frame::Bulk(Bytes::from_static(b"tags")),
                    Frame::Array(vec![
                        Frame::Bulk(Bytes::from_static(b"red")),
                        Frame::Bulk(Bytes::from_static(b"green")),
                        Frame::Integer(i),
                    ]),
                ),
            ])
        })
        .collect();
    Frame::Array(maps)
}

/// The speed of light: every CR found with memchr, its LF checked.
fn memchr_crlf(buf: &[u8]) -> usize {
    let mut lines = 0;
    let mut pos = 0;
    while let Some(i) = memchr::memchr(b'\r', &buf[pos..]) {
        let cr = pos + i;
        if buf.get(cr + 1) == Some(&b'\n') {
            lines += 1;
        }
        pos = cr + 1;
    }
    lines
}

fn ours_requests(dec: &mut RequestDecoder, buf: &[u8]) -> usize {
    let mut used = 0;
    let mut args = 0;
    while let Some(req) = dec.decode(&buf[used..]).unwrap() {
        used += req.consumed();
        args += req.len();
        black_box(req.arg(0));
    }
    assert_eq!(used, buf.len());
    args
}

fn decode_requests(c: &mut Criterion) {
    let input = set_pipeline();
    let bytes = Bytes::from(input.clone());
    let mut g = c.benchmark_group("request_pipeline/decode");
    g.throughput(Throughput::Bytes(input.len() as u64));
    let mut dec = RequestDecoder::new();
    g.bench_function("soquete RequestDecoder", |b| {
        b.iter(|| ours_requests(&mut dec, black_box(&input)))
    });
    g.bench_function("redis-protocol resp2 decode_range", |b| {
        b.iter(|| {
            let mut used = 0;
            while let Some((f, n)) = resp2::decode::decode_range(black_box(&input[used..])).unwrap()
            {
                used += n;
                black_box(f);
            }
            used
        })
    });
    g.bench_function("redis-protocol resp2 decode_bytes", |b| {
        b.iter(|| {
            let mut used = 0;
            while used < bytes.len() {
                let (f, n) = resp2::decode::decode_bytes(&bytes.slice(used..))
                    .unwrap()
                    .unwrap();
                used += n;
                black_box(f);
            }
            used
        })
    });
    g.bench_function("redis-protocol resp3 decode_range", |b| {
        b.iter(|| {
            let mut used = 0;
            while let Some((f, n)) =
                resp3::decode::complete::decode_range(black_box(&input[used..])).unwrap()
            {
                used += n;
                black_box(f);
            }
            used
        })
    });
    g.bench_function("memchr_crlf", |b| b.iter(|| memchr_crlf(black_box(&input))));
    g.finish();
}

fn encode_requests(c: &mut Criterion) {
    let input = set_pipeline();
    let args: Vec<[Vec<u8>; 3]> = (0..1000)
        .map(|i| {
            [
                b"SET".to_vec(),
                format!("key:{i:04}").into_bytes(),
                format!("{:032}", i * 7919).into_bytes(),
            ]
        })
        .collect();
    let frames: Vec<resp2::types::BytesFrame> = args
        .iter()
        .map(|a| {
            resp2::types::BytesFrame::Array(
                a.iter()
                    .map(|x| resp2::types::BytesFrame::BulkString(Bytes::from(x.clone())))
                    .collect(),
            )
        })
        .collect();
    let mut g = c.benchmark_group("request_pipeline/encode");
    g.throughput(Throughput::Bytes(input.len() as u64));
    let mut out = Vec::with_capacity(input.len());
    g.bench_function("soquete encode::command", |b| {
        b.iter(|| {
            out.clear();
            for a in &args {
                encode::command(&mut out, a);
            }
            assert_eq!(out.len(), input.len());
        })
    });
    let mut out = BytesMut::with_capacity(input.len());
    g.bench_function("redis-protocol resp2 extend_encode", |b| {
        b.iter(|| {
            out.clear();
            for f in &frames {
                resp2::encode::extend_encode(&mut out, f, false).unwrap();
            }
            assert_eq!(out.len(), input.len());
        })
    });
    g.finish();
}

/// Benches a zero-copy decoder that consumes a `BytesMut` holding `input`.
///
/// Each measured batch decodes `BATCH` buffers filled beforehand (the fill,
/// the allocation and dropping the frames are not measured), with the first
/// and last bytes of each in cache, so every decoder starts from the same,
/// just-received buffers.
fn bench_bytes_mut<O>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    input: &[u8],
    mut f: impl FnMut(&mut BytesMut) -> O,
) {
    const BATCH: usize = 8;
    g.bench_function(name, |b| {
        // Read buffers reused across batches, as a connection reuses its
        // buffer: once the frames are dropped, `reserve` reclaims the memory.
        let mut bufs: Vec<BytesMut> = (0..BATCH)
            .map(|_| BytesMut::with_capacity(input.len()))
            .collect();
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters as usize;
            let mut outputs = Vec::with_capacity(BATCH);
            while left > 0 {
                let n = left.min(BATCH);
                left -= n;
                for buf in &mut bufs[..n] {
                    buf.clear();
                    buf.reserve(input.len());
                    buf.extend_from_slice(input);
                }
                // Bring both ends of every buffer back into cache, as for a
                // reply that was just read.
                for buf in &bufs[..n] {
                    black_box((buf[0], buf[buf.len() - 1]));
                }
                let start = Instant::now();
                for buf in &mut bufs[..n] {
                    outputs.push(f(black_box(buf)));
                }
                total += start.elapsed();
                outputs.clear();
            }
            total
        })
    });
}

fn decode_replies(c: &mut Criterion) {
    let bulk = bulk_1mib();
    let mut nested = Vec::new();
    encode::frame(&mut nested, &nested_resp3());
    for (name, input, resp2_too) in [
        ("bulk_1mib/decode", &bulk, true),
        ("nested_resp3/decode", &nested, false),
    ] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(input.len() as u64));
        let mut dec = Decoder::new();
        bench_bytes_mut(&mut g, "soquete Decoder", input, |buf| {
            dec.decode(buf).unwrap().unwrap()
        });
        // The floor of any zero-copy decoder: split the frame's bytes off the
        // buffer and freeze them, with no parsing at all.
        bench_bytes_mut(&mut g, "floor split_to+freeze", input, |buf| {
            buf.split_to(buf.len()).freeze()
        });
        bench_bytes_mut(&mut g, "floor read ends+split_to+freeze", input, |buf| {
            let ends = (buf[1], buf[buf.len() - 2]);
            (ends, buf.split_to(buf.len()).freeze())
        });
        if resp2_too {
            bench_bytes_mut(
                &mut g,
                "redis-protocol resp2 decode_bytes_mut",
                input,
                |buf| resp2::decode::decode_bytes_mut(buf).unwrap().unwrap(),
            );
            g.bench_function("redis-protocol resp2 decode_range", |b| {
                b.iter(|| {
                    resp2::decode::decode_range(black_box(input))
                        .unwrap()
                        .unwrap()
                })
            });
        }
        bench_bytes_mut(
            &mut g,
            "redis-protocol resp3 decode_bytes_mut",
            input,
            |buf| {
                resp3::decode::complete::decode_bytes_mut(buf)
                    .unwrap()
                    .unwrap()
            },
        );
        g.bench_function("redis-protocol resp3 decode_range", |b| {
            b.iter(|| {
                resp3::decode::complete::decode_range(black_box(input))
                    .unwrap()
                    .unwrap()
            })
        });
        g.bench_function("memchr_crlf", |b| b.iter(|| memchr_crlf(black_box(input))));
        g.finish();
    }
}

fn encode_replies(c: &mut Criterion) {
    let bulk = bulk_1mib();
    let tree = nested_resp3();
    let mut nested = Vec::new();
    encode::frame(&mut nested, &tree);
    let bulk_frame = soquete_resp::decode_slice(&bulk).unwrap().unwrap().0;
    for (name, input, ours) in [
        ("bulk_1mib/encode", &bulk, &bulk_frame),
        ("nested_resp3/encode", &nested, &tree),
    ] {
        let (theirs, _, _) =
            resp3::decode::complete::decode_bytes_mut(&mut BytesMut::from(&input[..]))
                .unwrap()
                .unwrap();
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(input.len() as u64));
        let mut out = Vec::with_capacity(input.len());
        g.bench_function("soquete encode::frame", |b| {
            b.iter(|| {
                out.clear();
                encode::frame(&mut out, ours);
                assert_eq!(out.len(), input.len());
            })
        });
        let mut out = BytesMut::with_capacity(input.len());
        g.bench_function("redis-protocol resp3 extend_encode", |b| {
            b.iter(|| {
                out.clear();
                resp3::encode::complete::extend_encode(&mut out, &theirs, false).unwrap();
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = decode_requests, encode_requests, decode_replies, encode_replies
}
criterion_main!(benches);
