//! GEOSEARCH, GEOSEARCHSTORE and GEORADIUS on random points and random
//! queries: redis-server 7.0.15 and soquete must give the same reply, byte
//! for byte, in RESP2 and RESP3.
//!
//! The points cluster around a few centres (some on the poles' limits and
//! the antimeridian) with repeated positions, so searches find many
//! members, equal distances and cells that wrap around the world. Queries
//! span a metre to beyond the earth's size, in every unit, with and
//! without sorting, COUNT and ANY, which exercises the choice of cells,
//! the distance and box checks, and the sorts that order ties.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use soquete_resp::Frame;
use soquete_testkit::{Conn, ServerKind, ServerProcess};

fn soquete() -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(env!("CARGO_BIN_EXE_soquete-server"))
        .start()
}

#[derive(Clone, Debug)]
struct Point {
    lon: f64,
    lat: f64,
}

/// Centres: ordinary places, the antimeridian, the latitude limits.
const CENTRES: &[(f64, f64)] = &[
    (2.35, 48.85),
    (-74.0, 40.7),
    (179.9, -17.0),
    (-179.95, 10.0),
    (0.0, 85.0),
    (120.0, -84.9),
    (0.0, 0.0),
];

fn point() -> impl Strategy<Value = Point> {
    prop_oneof![
        // Anywhere.
        (-180.0..=180.0f64, -85.05112878..=85.05112878f64),
        // Near a centre, at several scales.
        (
            0..CENTRES.len(),
            prop_oneof![Just(0.001), Just(0.1), Just(3.0)],
            -1.0..1.0f64,
            -1.0..1.0f64
        )
            .prop_map(|(c, scale, dx, dy)| {
                let (lon, lat) = CENTRES[c];
                (
                    (lon + dx * scale).clamp(-180.0, 180.0),
                    (lat + dy * scale).clamp(-85.05112878, 85.05112878),
                )
            }),
    ]
    .prop_map(|(lon, lat)| Point { lon, lat })
}

#[derive(Clone, Debug)]
struct Query {
    from: Result<usize, Point>,
    by: Vec<String>,
    options: Vec<String>,
}

fn size() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(0.0),
        0.0..10.0f64,
        0.0..1000.0f64,
        0.0..20_000.0f64,
        Just(1e9),
    ]
    .prop_map(|s| format!("{s}"))
}

fn unit() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["m", "km", "mi", "ft", "KM"]).prop_map(str::to_string)
}

fn query() -> impl Strategy<Value = Query> {
    let from = prop_oneof![(0..1000usize).prop_map(Ok), point().prop_map(Err),];
    let by = prop_oneof![
        (size(), unit()).prop_map(|(r, u)| vec!["BYRADIUS".into(), r, u]),
        (size(), size(), unit()).prop_map(|(w, h, u)| vec!["BYBOX".into(), w, h, u]),
    ];
    let options = (
        prop::sample::select(vec!["", "ASC", "DESC"]),
        prop_oneof![Just(0u32), 1..5u32, 1..200u32],
        any::<bool>(),
        any::<[bool; 3]>(),
    )
        .prop_map(|(sort, count, anyflag, with)| {
            let mut o: Vec<String> = Vec::new();
            if !sort.is_empty() {
                o.push(sort.into());
            }
            if count > 0 {
                o.push("COUNT".into());
                o.push(count.to_string());
                if anyflag {
                    o.push("ANY".into());
                }
            }
            for (on, name) in with.iter().zip(["WITHDIST", "WITHCOORD", "WITHHASH"]) {
                if *on {
                    o.push(name.into());
                }
            }
            o
        });
    (from, by, options).prop_map(|(from, by, options)| Query { from, by, options })
}

fn same(r: &mut Conn, s: &mut Conn, args: &[String]) -> Result<(), TestCaseError> {
    let (a, b) = (r.cmd(args), s.cmd(args));
    prop_assert_eq!(&a, &b, "{:?}", args);
    if let Frame::Error(e) = &a {
        // Every generated query is valid: an error means a bad generator.
        prop_assert!(false, "both servers refused {:?}: {:?}", args, e);
    }
    Ok(())
}

#[test]
fn random_searches_match_redis() {
    let redis = ServerProcess::redis();
    let soq = soquete();
    let mut conns = [
        (redis.connect(), soq.connect()),
        (redis.connect(), soq.connect()),
    ];
    for c in [&mut conns[1].0, &mut conns[1].1] {
        assert!(!matches!(c.cmd(&["HELLO", "3"]), Frame::Error(_)));
    }
    // The runner takes a `Fn`: the connections live in a cell.
    let conns = std::cell::RefCell::new(conns);
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    let case = (
        prop::collection::vec((point(), 1..5usize), 1..150),
        prop::collection::vec(query(), 1..12),
        any::<bool>(),
    );
    runner
        .run(&case, |(places, queries, resp3)| {
            // Each place holds one to four members: equal distances.
            let points: Vec<Point> = places
                .iter()
                .flat_map(|(p, n)| std::iter::repeat_n(p.clone(), *n))
                .collect();
            let mut conns = conns.borrow_mut();
            let (r, s) = &mut conns[usize::from(resp3)];
            let mut add = vec!["GEOADD".to_string(), "g".to_string()];
            for (i, p) in points.iter().enumerate() {
                add.extend([p.lon.to_string(), p.lat.to_string(), format!("m{i}")]);
            }
            for c in [&mut *r, &mut *s] {
                c.cmd(&["FLUSHALL"]);
            }
            same(r, s, &add)?;
            for q in &queries {
                let from = match &q.from {
                    Ok(i) => vec!["FROMMEMBER".to_string(), format!("m{}", i % points.len())],
                    Err(p) => vec!["FROMLONLAT".into(), p.lon.to_string(), p.lat.to_string()],
                };
                let mut search = vec!["GEOSEARCH".to_string(), "g".into()];
                search.extend(from.iter().cloned());
                search.extend(q.by.iter().cloned());
                search.extend(q.options.iter().cloned());
                same(r, s, &search)?;
                // The STORE forms take no WITH options.
                let plain: Vec<String> = q
                    .options
                    .iter()
                    .filter(|o| !o.starts_with("WITH"))
                    .cloned()
                    .collect();
                let mut store = vec!["GEOSEARCHSTORE".to_string(), "d".into(), "g".into()];
                store.extend(from.iter().cloned());
                store.extend(q.by.iter().cloned());
                store.extend(plain.iter().cloned());
                store.push("STOREDIST".into());
                same(r, s, &store)?;
                same(
                    r,
                    s,
                    &[
                        "ZRANGE".into(),
                        "d".into(),
                        "0".into(),
                        "-1".into(),
                        "WITHSCORES".into(),
                    ],
                )?;
                if q.by[0] == "BYRADIUS" {
                    let mut radius: Vec<String> = match &q.from {
                        Ok(_) => vec!["GEORADIUSBYMEMBER_RO".into(), "g".into(), from[1].clone()],
                        Err(_) => vec![
                            "GEORADIUS_RO".into(),
                            "g".into(),
                            from[1].clone(),
                            from[2].clone(),
                        ],
                    };
                    radius.extend(q.by[1..].iter().cloned());
                    radius.extend(q.options.iter().cloned());
                    same(r, s, &radius)?;
                }
            }
            let mut pos = vec!["GEOPOS".to_string(), "g".into()];
            pos.extend((0..points.len()).map(|i| format!("m{i}")));
            same(r, s, &pos)?;
            pos[0] = "GEOHASH".into();
            same(r, s, &pos)?;
            Ok(())
        })
        .unwrap();
}
