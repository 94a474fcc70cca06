//! Geospatial commands (Redis's `geo.c`): positions stored as sorted-set
//! scores by [`crate::types::geohash`].
//!
//! GEOADD is ZADD with the positions turned into scores, and is logged to
//! the append-only file as that ZADD, as Redis rewrites it. The searches
//! (GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and the `_RO`
//! forms) share [`search_generic`], which follows Redis's
//! `georadiusGeneric` check for check: the order of its errors, its
//! reading of the nine cells around the centre (which decides what COUNT
//! ANY returns), glibc's stable sort for a full sort and Redis's partial
//! quicksort ([`crate::util::pqsort`]) when COUNT cuts the result, which
//! decides the order of equally distant members.

use std::cmp::Ordering;

use super::args::{self, is};
use super::flags::*;
use super::{cat, ks};
use super::{Ctx, Keys, Spec};
use crate::db::Locked;
use crate::error::{CmdError, CmdResult};
use crate::notify::ZSET;
use crate::shared::LoopStats;
use crate::types::geohash::{self, Search, Shape, Within};
use crate::types::zset::{cmp_pair, ZSet};
use crate::value::Value;

fn zset_ref(v: &Value) -> Result<&ZSet, CmdError> {
    match v {
        Value::ZSet(z) => Ok(z),
        _ => Err(CmdError::WrongType),
    }
}

/// `lookupKeyRead` + `checkType`: `Ok(None)` when missing.
macro_rules! read_zset {
    ($c:expr, $key:expr) => {
        match crate::cmd::lookup_read(&mut $c.ks, $c.stats, $key) {
            None => None,
            Some(e) => Some(zset_ref(&e.value)?),
        }
    };
}

// ---------------------------------------------------------------------------
// argument helpers
// ---------------------------------------------------------------------------

/// A longitude and a latitude, within the storable limits (Redis's
/// `extractLongLatOrReply`).
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), CmdError> {
    let lon = args::float(lon)?;
    let lat = args::float(lat)?;
    if !(geohash::LONG_MIN..=geohash::LONG_MAX).contains(&lon)
        || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&lat)
    {
        return Err(CmdError::msg(format!(
            "ERR invalid longitude,latitude pair {lon:.6},{lat:.6}"
        )));
    }
    Ok((lon, lat))
}

/// Meters per unit (`extractUnitOrReply`).
fn unit(u: &[u8]) -> Result<f64, CmdError> {
    match args::lower(u).as_str() {
        "m" => Ok(1.0),
        "km" => Ok(1000.0),
        "ft" => Ok(0.3048),
        "mi" => Ok(1609.34),
        _ => Err(CmdError::msg(
            "ERR unsupported unit provided. please use M, KM, FT, MI",
        )),
    }
}

/// A number with a custom error when it does not parse.
fn number(a: &[u8], err: &'static str) -> Result<f64, CmdError> {
    crate::util::num::parse_f64(a).ok_or(CmdError::msg(err))
}

/// `radius unit` (`extractDistanceOrReply`): the radius and meters per unit.
fn radius(r: &[u8], u: &[u8]) -> Result<(f64, f64), CmdError> {
    let r = number(r, "ERR need numeric radius")?;
    if r < 0.0 {
        return Err(CmdError::msg("ERR radius cannot be negative"));
    }
    Ok((r, unit(u)?))
}

/// `width height unit` (`extractBoxOrReply`).
fn bbox(w: &[u8], h: &[u8], u: &[u8]) -> Result<(f64, f64, f64), CmdError> {
    let w = number(w, "ERR need numeric width")?;
    let h = number(h, "ERR need numeric height")?;
    if h < 0.0 || w < 0.0 {
        return Err(CmdError::msg("ERR height or width cannot be negative"));
    }
    Ok((w, h, unit(u)?))
}

fn member_pos(z: &ZSet, member: &[u8]) -> Result<(f64, f64), CmdError> {
    z.score(member)
        .map(geohash::decode_score)
        .ok_or(CmdError::msg("ERR could not decode requested zset member"))
}

fn bulk_distance(c: &mut Ctx<'_>, d: f64) {
    let mut text = Vec::with_capacity(24);
    geohash::fmt_distance(&mut text, d);
    c.out.bulk(&text);
}

// ---------------------------------------------------------------------------
// GEOADD, GEOPOS, GEOHASH, GEODIST
// ---------------------------------------------------------------------------

/// `GEOADD key [NX | XX] [CH] longitude latitude member [...]`
///
/// Runs as `ZADD key [options] score member ...` and is logged that way.
pub fn geoadd(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let (mut nx, mut xx) = (false, false);
    let mut first = 2;
    while first < a.len() {
        match args::lower(a[first]).as_str() {
            "nx" => nx = true,
            "xx" => xx = true,
            "ch" => {}
            _ => break,
        }
        first += 1;
    }
    if (a.len() - first) % 3 != 0 || (nx && xx) {
        return Err(CmdError::Syntax);
    }
    let mut scores = Vec::with_capacity((a.len() - first) / 3);
    for t in a[first..].chunks_exact(3) {
        let (lon, lat) = lon_lat(t[0], t[1])?;
        // Within the limits, so it always encodes.
        let bits = geohash::encode_score(lon, lat).unwrap_or(0);
        scores.push(itoa::Buffer::new().format(bits).as_bytes().to_vec());
    }
    let mut zargv: Vec<&[u8]> = Vec::with_capacity(first + scores.len() * 2);
    zargv.push(b"zadd");
    zargv.extend_from_slice(&a[1..first]);
    for (t, s) in a[first..].chunks_exact(3).zip(&scores) {
        zargv.push(s);
        zargv.push(t[2]);
    }
    c.propagate_as(&zargv);
    super::zset::zadd(c, &zargv)
}

/// `GEOPOS key [member ...]`
pub fn geopos(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let z = read_zset!(c, a[1]);
    c.out.array(a.len() - 2);
    for m in &a[2..] {
        match z.and_then(|z| z.score(m)) {
            None => c.out.null_array(),
            Some(s) => {
                let (lon, lat) = geohash::decode_score(s);
                c.out.array(2);
                c.out.human_double(lon);
                c.out.human_double(lat);
            }
        }
    }
    Ok(())
}

/// `GEOHASH key [member ...]`
pub fn geohash_cmd(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let z = read_zset!(c, a[1]);
    c.out.array(a.len() - 2);
    for m in &a[2..] {
        match z.and_then(|z| z.score(m)) {
            None => c.out.null(),
            Some(s) => c.out.bulk(&geohash::hash_string(s)),
        }
    }
    Ok(())
}

/// `GEODIST key member1 member2 [M | KM | FT | MI]`
pub fn geodist(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let to_meters = match a.len() {
        5 => unit(a[4])?,
        n if n > 5 => return Err(CmdError::Syntax),
        _ => 1.0,
    };
    let Some(z) = read_zset!(c, a[1]) else {
        c.out.null();
        return Ok(());
    };
    let (Some(s1), Some(s2)) = (z.score(a[2]), z.score(a[3])) else {
        c.out.null();
        return Ok(());
    };
    let (lon1, lat1) = geohash::decode_score(s1);
    let (lon2, lat2) = geohash::decode_score(s2);
    bulk_distance(c, geohash::distance(lon1, lat1, lon2, lat2) / to_meters);
    Ok(())
}

// ---------------------------------------------------------------------------
// searches
// ---------------------------------------------------------------------------

/// Which command a search is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// GEORADIUS(_RO): `key longitude latitude radius unit`.
    Coords,
    /// GEORADIUSBYMEMBER(_RO): `key member radius unit`.
    Member,
    /// GEOSEARCH: `key FROM... BY...`.
    Search,
    /// GEOSEARCHSTORE: `destination source FROM... BY...`.
    SearchStore,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// A match: Redis's `geoPoint`, with the member borrowed from the set.
struct Point<'z> {
    lon: f64,
    lat: f64,
    dist: f64,
    score: f64,
    member: &'z [u8],
}

/// What a search found, before it is replied or stored.
enum Found<'z> {
    /// The source key does not exist.
    NoKey,
    /// The matches, sorted and cut to the count.
    Points(Vec<Point<'z>>),
}

/// Options of a search.
struct Opts<'a> {
    store: Option<&'a [u8]>,
    storedist: bool,
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    to_meters: f64,
}

/// Reads the members of one cell that are inside the search (Redis's
/// `geoGetPointsInRange`): one seek to the cell's first score, then a
/// forward walk that decodes each score and reads the member only of the
/// points inside, stopping once `limit` (0: none) points are gathered.
fn points_in_cell<'z>(
    z: &'z ZSet,
    cell: geohash::Cell,
    within: &Within,
    out: &mut Vec<Point<'z>>,
    limit: usize,
) {
    let (min, max) = cell.score_range();
    for (s, m) in z.score_range(min as f64, max as f64) {
        let (lon, lat) = geohash::decode_score(s);
        if let Some(dist) = within.distance_if_within(lon, lat) {
            out.push(Point {
                lon,
                lat,
                dist,
                score: s,
                member: m.bytes(),
            });
            if limit > 0 && out.len() >= limit {
                break;
            }
        }
    }
}

/// The members inside a search, in the order Redis gathers them
/// (`membersOfAllNeighbors`).
fn points_in_search<'z>(z: &'z ZSet, search: &Search, limit: usize) -> Vec<Point<'z>> {
    let cells = search.cells().cells;
    let within = search.within();
    let mut out = Vec::new();
    let mut last = 0;
    for (i, &cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        // Huge searches can make adjacent neighbours the same cell. As in
        // Redis, the centre cell (index 0) is never compared.
        if last != 0 && cell == cells[last] {
            continue;
        }
        if limit > 0 && out.len() >= limit {
            break;
        }
        points_in_cell(z, cell, &within, &mut out, limit);
        last = i;
    }
    out
}

fn by_distance(a: &Point, b: &Point) -> Ordering {
    if a.dist > b.dist {
        Ordering::Greater
    } else if a.dist == b.dist {
        Ordering::Equal
    } else {
        Ordering::Less
    }
}

/// Everything up to the reply: arguments, the source set, the matches
/// (which borrow the set's members from `ks`).
fn search_find<'a, 'k>(
    ks: &'k mut Locked<'_>,
    stats: &LoopStats,
    a: &[&'a [u8]],
    src: usize,
    kind: Kind,
    nostore: bool,
) -> Result<(Found<'k>, Opts<'a>), CmdError> {
    let z: Option<&'k ZSet> = match crate::cmd::lookup_read(ks, stats, a[src]) {
        None => None,
        Some(e) => Some(zset_ref(&e.value)?),
    };
    let geosearch = matches!(kind, Kind::Search | Kind::SearchStore);
    let mut o = Opts {
        store: None,
        storedist: false,
        withdist: false,
        withhash: false,
        withcoord: false,
        to_meters: 0.0,
    };
    let mut center = (0.0, 0.0);
    let mut shape = Shape::Radius(0.0);
    let base = match kind {
        Kind::Coords => {
            center = lon_lat(a[2], a[3])?;
            let (r, u) = radius(a[4], a[5])?;
            (shape, o.to_meters) = (Shape::Radius(r), u);
            6
        }
        Kind::Member => {
            if let Some(z) = z {
                center = member_pos(z, a[2])?;
                let (r, u) = radius(a[3], a[4])?;
                (shape, o.to_meters) = (Shape::Radius(r), u);
            }
            5
        }
        Kind::Search => 2,
        Kind::SearchStore => {
            o.store = Some(a[1]);
            3
        }
    };
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut any = false;
    let mut count: i64 = 0;
    let remaining = a.len().saturating_sub(base);
    let mut i = 0;
    while i < remaining {
        let at = |k: usize| a[base + i + k];
        let arg = at(0);
        if is(arg, "WITHDIST") {
            o.withdist = true;
        } else if is(arg, "WITHHASH") {
            o.withhash = true;
        } else if is(arg, "WITHCOORD") {
            o.withcoord = true;
        } else if is(arg, "ANY") {
            any = true;
        } else if is(arg, "ASC") {
            sort = Sort::Asc;
        } else if is(arg, "DESC") {
            sort = Sort::Desc;
        } else if is(arg, "COUNT") && i + 1 < remaining {
            count = args::int(at(1))?;
            if count <= 0 {
                return Err(CmdError::msg("ERR COUNT must be > 0"));
            }
            i += 1;
        } else if is(arg, "STORE") && i + 1 < remaining && !nostore && !geosearch {
            o.store = Some(at(1));
            o.storedist = false;
            i += 1;
        } else if is(arg, "STOREDIST") && i + 1 < remaining && !nostore && !geosearch {
            o.store = Some(at(1));
            o.storedist = true;
            i += 1;
        } else if is(arg, "STOREDIST") && kind == Kind::SearchStore {
            o.storedist = true;
        } else if is(arg, "FROMMEMBER") && i + 1 < remaining && geosearch && !fromloc {
            if let Some(z) = z {
                center = member_pos(z, at(1))?;
            }
            frommember = true;
            i += 1;
        } else if is(arg, "FROMLONLAT") && i + 2 < remaining && geosearch && !frommember {
            center = lon_lat(at(1), at(2))?;
            fromloc = true;
            i += 2;
        } else if is(arg, "BYRADIUS") && i + 2 < remaining && geosearch && !bybox {
            let (r, u) = radius(at(1), at(2))?;
            (shape, o.to_meters) = (Shape::Radius(r), u);
            byradius = true;
            i += 2;
        } else if is(arg, "BYBOX") && i + 3 < remaining && geosearch && !byradius {
            let (w, h, u) = bbox(at(1), at(2), at(3))?;
            (shape, o.to_meters) = (Shape::Box(w, h), u);
            bybox = true;
            i += 3;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if o.store.is_some() && (o.withdist || o.withhash || o.withcoord) {
        return Err(CmdError::msg(format!(
            "ERR {} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if kind == Kind::SearchStore {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            }
        )));
    }
    if geosearch && !(frommember || fromloc) {
        return Err(CmdError::quoting(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ",
            a[0],
            "",
        ));
    }
    if geosearch && !(byradius || bybox) {
        return Err(CmdError::quoting(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for ",
            a[0],
            "",
        ));
    }
    if any && count == 0 {
        return Err(CmdError::msg(
            "ERR the ANY argument requires COUNT argument",
        ));
    }
    let Some(z) = z else {
        return Ok((Found::NoKey, o));
    };
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let search = Search {
        lon: center.0,
        lat: center.1,
        to_meters: o.to_meters,
        shape,
    };
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let mut points = points_in_search(z, &search, if any { count } else { 0 });
    let len = points.len();
    let returned = if count == 0 || len < count {
        len
    } else {
        count
    };
    if sort != Sort::None && returned > 0 {
        let desc = |p: &Point, q: &Point| by_distance(p, q).reverse();
        if returned == len {
            // glibc's qsort is a stable merge sort.
            match sort {
                Sort::Desc => points.sort_by(desc),
                _ => points.sort_by(by_distance),
            }
        } else {
            let cmp: &dyn Fn(&Point, &Point) -> Ordering = match sort {
                Sort::Desc => &desc,
                _ => &by_distance,
            };
            crate::util::pqsort::pqsort(&mut points, cmp, 0, returned - 1);
        }
    }
    points.truncate(returned);
    Ok((Found::Points(points), o))
}

/// Redis's `georadiusGeneric`: every search command.
fn search_generic(
    c: &mut Ctx<'_>,
    a: &[&[u8]],
    src: usize,
    kind: Kind,
    nostore: bool,
) -> CmdResult {
    let (found, o) = search_find(&mut c.ks, c.stats, a, src, kind, nostore)?;
    let points = match found {
        Found::NoKey => {
            match o.store {
                Some(dst) => {
                    c.delete(dst);
                    c.out.int(0);
                }
                None => c.out.array(0),
            }
            return Ok(());
        }
        Found::Points(p) => p,
    };
    let Some(dst) = o.store else {
        let options = usize::from(o.withdist) + usize::from(o.withhash) + usize::from(o.withcoord);
        let mut text = Vec::with_capacity(24);
        c.out.array(points.len());
        for p in &points {
            if options > 0 {
                c.out.array(options + 1);
            }
            c.out.bulk(p.member);
            if o.withdist {
                text.clear();
                geohash::fmt_distance(&mut text, p.dist / o.to_meters);
                c.out.bulk(&text);
            }
            if o.withhash {
                c.out.int(geohash::cvtt_i64(p.score));
            }
            if o.withcoord {
                c.out.array(2);
                c.out.human_double(p.lon);
                c.out.human_double(p.lat);
            }
        }
        return Ok(());
    };
    let n = points.len();
    if n == 0 {
        c.delete(dst);
        c.out.int(0);
        return Ok(());
    }
    let mut items: Vec<(Vec<u8>, f64)> = points
        .into_iter()
        .map(|p| {
            let score = if o.storedist {
                p.dist / o.to_meters
            } else {
                p.score
            };
            (p.member.to_vec(), score)
        })
        .collect();
    items.sort_by(|x, y| cmp_pair(x.1, &x.0, y.1, &y.0));
    items.dedup_by(|x, y| x.0 == y.0);
    let z = ZSet::from_sorted(items, super::zset::limits(c));
    c.ks.set(dst, Value::ZSet(Box::new(z)), false);
    let event = if kind == Kind::SearchStore {
        "geosearchstore"
    } else {
        "georadiusstore"
    };
    c.notify(ZSET, event, dst);
    // Redis counts every stored member as a change.
    crate::stats::bump(&c.stats.dirty, n as u64 - 1);
    c.out.int(n as i64);
    Ok(())
}

/// `GEORADIUS key longitude latitude radius unit [options] [STORE key | STOREDIST key]`
pub fn georadius(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    search_generic(c, a, 1, Kind::Coords, false)
}

/// `GEORADIUSBYMEMBER key member radius unit [options] [STORE key | STOREDIST key]`
pub fn georadiusbymember(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    search_generic(c, a, 1, Kind::Member, false)
}

/// `GEORADIUS_RO key longitude latitude radius unit [options]`
pub fn georadius_ro(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    search_generic(c, a, 1, Kind::Coords, true)
}

/// `GEORADIUSBYMEMBER_RO key member radius unit [options]`
pub fn georadiusbymember_ro(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    search_generic(c, a, 1, Kind::Member, true)
}

/// `GEOSEARCH key FROMMEMBER member | FROMLONLAT lon lat BYRADIUS r unit |
/// BYBOX w h unit [ASC | DESC] [COUNT n [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]`
pub fn geosearch(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    search_generic(c, a, 1, Kind::Search, false)
}

/// `GEOSEARCHSTORE destination source FROM... BY... [ASC | DESC] [COUNT n [ANY]] [STOREDIST]`
pub fn geosearchstore(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    search_generic(c, a, 2, Kind::SearchStore, false)
}

// ---------------------------------------------------------------------------
// key finders and command table rows
// ---------------------------------------------------------------------------

/// Keys of GEORADIUS and GEORADIUSBYMEMBER: the source, and the key after
/// every STORE or STOREDIST from argument 5 on (Redis's `georadiusGetKeys`
/// keeps the last one, which is the one the command writes; locking them
/// all is a superset).
pub fn georadius_keys<'x>(a: &[&'x [u8]], db: usize, out: &mut Vec<(usize, &'x [u8])>) {
    if let Some(&k) = a.get(1) {
        out.push((db, k));
    }
    let mut i = 5;
    while i + 1 < a.len() {
        if is(a[i], "STORE") || is(a[i], "STOREDIST") {
            out.push((db, a[i + 1]));
            i += 1;
        }
        i += 1;
    }
}

const STORE_SPECS_6: &[ks::KeySpec] = &[
    ks::key(ks::RO | ks::ACCESS, 1),
    ks::spec(
        ks::OW | ks::UPDATE,
        ks::Keyword("STORE", 6),
        ks::Range(0, 1, 0),
    ),
    ks::spec(
        ks::OW | ks::UPDATE,
        ks::Keyword("STOREDIST", 6),
        ks::Range(0, 1, 0),
    ),
];

const STORE_SPECS_5: &[ks::KeySpec] = &[
    ks::key(ks::RO | ks::ACCESS, 1),
    ks::spec(
        ks::OW | ks::UPDATE,
        ks::Keyword("STORE", 5),
        ks::Range(0, 1, 0),
    ),
    ks::spec(
        ks::OW | ks::UPDATE,
        ks::Keyword("STOREDIST", 5),
        ks::Range(0, 1, 0),
    ),
];

/// This group's rows of the command table.
#[rustfmt::skip]
pub static COMMANDS: &[Spec] = &[
    Spec { name: "geoadd", arity: -5, flags: WRITE | DENYOOM, keys: Keys::Range(1, 1, 1), group: "geo", handler: geoadd, acl: cat::GEO, key_specs: &[ks::key(ks::RW | ks::UPDATE, 1)], tips: &[], subcommands: &[] },
    Spec { name: "geodist", arity: -4, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "geo", handler: geodist, acl: cat::GEO, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "geohash", arity: -2, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "geo", handler: geohash_cmd, acl: cat::GEO, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "geopos", arity: -2, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "geo", handler: geopos, acl: cat::GEO, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "geosearch", arity: -7, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "geo", handler: geosearch, acl: cat::GEO, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "geosearchstore", arity: -8, flags: WRITE | DENYOOM, keys: Keys::Range(1, 2, 1), group: "geo", handler: geosearchstore, acl: cat::GEO, key_specs: &[ks::key(ks::OW | ks::UPDATE, 1), ks::key(ks::RO | ks::ACCESS, 2)], tips: &[], subcommands: &[] },
    Spec { name: "georadius", arity: -6, flags: WRITE | DENYOOM | MOVABLE_KEYS, keys: Keys::Custom(georadius_keys), group: "geo", handler: georadius, acl: cat::GEO, key_specs: STORE_SPECS_6, tips: &[], subcommands: &[] },
    Spec { name: "georadiusbymember", arity: -5, flags: WRITE | DENYOOM | MOVABLE_KEYS, keys: Keys::Custom(georadius_keys), group: "geo", handler: georadiusbymember, acl: cat::GEO, key_specs: STORE_SPECS_5, tips: &[], subcommands: &[] },
    Spec { name: "georadius_ro", arity: -6, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "geo", handler: georadius_ro, acl: cat::GEO, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
    Spec { name: "georadiusbymember_ro", arity: -5, flags: READONLY, keys: Keys::Range(1, 1, 1), group: "geo", handler: georadiusbymember_ro, acl: cat::GEO, key_specs: &[ks::key(ks::RO | ks::ACCESS, 1)], tips: &[], subcommands: &[] },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn georadius_locks_the_store_key() {
        let a: Vec<&[u8]> = vec![
            b"georadius",
            b"src",
            b"0",
            b"0",
            b"1",
            b"m",
            b"STORE",
            b"dst",
        ];
        let mut out = Vec::new();
        georadius_keys(&a, 0, &mut out);
        assert_eq!(out, vec![(0, &b"src"[..]), (0, b"dst")]);
        let a: Vec<&[u8]> = vec![
            b"georadiusbymember",
            b"src",
            b"m",
            b"1",
            b"km",
            b"storedist",
        ];
        out.clear();
        georadius_keys(&a, 0, &mut out);
        assert_eq!(out, vec![(0, &b"src"[..])]);
    }

    #[test]
    fn units_convert_to_meters() {
        assert_eq!(unit(b"KM").unwrap(), 1000.0);
        assert_eq!(unit(b"mi").unwrap(), 1609.34);
        assert!(unit(b"yd").is_err());
    }

    #[test]
    fn invalid_positions_print_as_redis_prints_them() {
        let e = lon_lat(b"200", b"10").unwrap_err();
        assert_eq!(
            e,
            CmdError::msg("ERR invalid longitude,latitude pair 200.000000,10.000000")
        );
    }
}
