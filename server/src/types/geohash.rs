//! Redis's geohash: positions as 52-bit interleaved scores of a sorted set.
//!
//! A position (longitude, latitude) becomes a sorted-set score by cutting
//! each axis into 2^26 slices (longitude over -180..180, latitude over
//! Web Mercator's -85.05112878..85.05112878) and interleaving the two slice
//! numbers bit by bit, latitude in the even bits and longitude in the odd
//! ones. Points close on the map then have close scores, so the members of
//! one geohash cell are one score range of the set, and a radius or box
//! search reads the cell around the centre and its eight neighbours, each
//! at a precision (`step`, bits per axis) chosen for the search's size.
//!
//! Everything here follows Redis 7.0.15's `geohash.c` and
//! `geohash_helper.c` operation for operation, in the same floating-point
//! order, because the digits users see depend on it: decoded coordinates
//! are cell centres, distances are haversine over Redis's earth radius,
//! and which cells a search reads decides which members COUNT ANY finds
//! first. The trigonometry calls the platform's libm, as Redis does.
//!
//! # Example
//!
//! ```
//! use soquete_server::types::geohash;
//! let score = geohash::encode_score(13.361389, 38.115556).unwrap();
//! assert_eq!(score, 3479099956230698);
//! assert_eq!(geohash::hash_string(score as f64), *b"sqc8b49rny0");
//! ```

/// Bits per axis of a stored position (26 + 26 = 52 bits).
pub const STEP_MAX: u8 = 26;
/// Southernmost latitude that can be stored.
pub const LAT_MIN: f64 = -85.05112878;
/// Northernmost latitude that can be stored.
pub const LAT_MAX: f64 = 85.05112878;
/// Westernmost longitude.
pub const LONG_MIN: f64 = -180.0;
/// Easternmost longitude.
pub const LONG_MAX: f64 = 180.0;
/// Redis's earth radius in meters (`EARTH_RADIUS_IN_METERS`).
pub const EARTH_RADIUS: f64 = 6372797.560856;
/// Half the Mercator world's width in meters (`MERCATOR_MAX`).
const MERCATOR_MAX: f64 = 20037726.37;
/// Degrees to radians, as Redis's `D_R` (`M_PI / 180.0`).
const D_R: f64 = std::f64::consts::PI / 180.0;

/// A cell: `step` bits per axis, interleaved in the low `2 * step` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Cell {
    /// The interleaved bits.
    pub bits: u64,
    /// Bits per axis (0 with `bits` 0 marks a cell left out of a search).
    pub step: u8,
}

impl Cell {
    /// True for a cell left out of a search (Redis's `HASHISZERO`).
    pub fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The scores `[min, max)` of the stored positions inside the cell:
    /// its bits, and the next cell's, aligned to 52 bits.
    pub fn score_range(self) -> (u64, u64) {
        let shift = 52 - u32::from(self.step) * 2;
        (self.bits << shift, (self.bits.wrapping_add(1)) << shift)
    }
}

/// A range of one axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// Lower bound.
    pub min: f64,
    /// Upper bound.
    pub max: f64,
}

/// The axes a stored score covers (Redis's `geohashGetCoordRange`).
pub const STORE_RANGES: (Range, Range) = (
    Range {
        min: LONG_MIN,
        max: LONG_MAX,
    },
    Range {
        min: LAT_MIN,
        max: LAT_MAX,
    },
);

/// The axes of a standard geohash string (latitude over -90..90).
pub const STANDARD_RANGES: (Range, Range) = (
    Range {
        min: -180.0,
        max: 180.0,
    },
    Range {
        min: -90.0,
        max: 90.0,
    },
);

/// A decoded cell: its bounds on both axes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Area {
    /// Longitude bounds.
    pub lon: Range,
    /// Latitude bounds.
    pub lat: Range,
}

/// Spreads the low 32 bits of `v` to the even bits of the result.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Gathers the even bits of `v` into the low 32 bits.
fn squash(v: u64) -> u64 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF
}

/// Interleaves `lat` (even bits) and `lon` (odd bits).
fn interleave(lat: u32, lon: u32) -> u64 {
    spread(lat) | (spread(lon) << 1)
}

/// Encodes a position at `step` bits per axis over `ranges` (Redis's
/// `geohashEncode`); `None` outside the storable limits or the ranges.
pub fn encode(ranges: (Range, Range), lon: f64, lat: f64, step: u8) -> Option<Cell> {
    let (lon_r, lat_r) = ranges;
    if step == 0 || step > 32 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (lat - lat_r.min) / (lat_r.max - lat_r.min) * scale;
    let lon_offset = (lon - lon_r.min) / (lon_r.max - lon_r.min) * scale;
    // Both offsets are in 0..=2^step: the conversion truncates, as C's does.
    Some(Cell {
        bits: interleave(lat_offset as u32, lon_offset as u32),
        step,
    })
}

/// The score GEOADD stores for a position (26 bits per axis), or `None`
/// when the position is outside the storable limits.
pub fn encode_score(lon: f64, lat: f64) -> Option<u64> {
    encode(STORE_RANGES, lon, lat, STEP_MAX).map(|c| c.bits)
}

/// The bounds of a cell over `ranges` (Redis's `geohashDecode`).
pub fn decode(ranges: (Range, Range), cell: Cell) -> Area {
    let (lon_r, lat_r) = ranges;
    let lat_scale = lat_r.max - lat_r.min;
    let lon_scale = lon_r.max - lon_r.min;
    let ilat = squash(cell.bits) as u32;
    let ilon = squash(cell.bits >> 1) as u32;
    let div = (1u64 << cell.step) as f64;
    Area {
        lat: Range {
            min: lat_r.min + (f64::from(ilat) / div) * lat_scale,
            // `ilato + 1` is 32-bit arithmetic in Redis: it wraps.
            max: lat_r.min + (f64::from(ilat.wrapping_add(1)) / div) * lat_scale,
        },
        lon: Range {
            min: lon_r.min + (f64::from(ilon) / div) * lon_scale,
            max: lon_r.min + (f64::from(ilon.wrapping_add(1)) / div) * lon_scale,
        },
    }
}

/// The centre of an area, clamped to the storable limits (Redis's
/// `geohashDecodeAreaToLongLat`).
pub fn center(area: Area) -> (f64, f64) {
    let lon = ((area.lon.min + area.lon.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.lat.min + area.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

/// What x86-64 C code gets from `(uint64_t)d`: truncation, with the
/// processor's "indefinite" answers out of range (Redis's `decodeGeohash`
/// casts any sorted-set score this way, so GEOPOS of a member added with
/// ZADD decodes what Redis decodes).
pub fn score_bits(d: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if d >= TWO63 {
        (cvtt_i64(d - TWO63) as u64) ^ (1 << 63)
    } else {
        cvtt_i64(d) as u64
    }
}

/// `cvttsd2si`: truncation to i64, `i64::MIN` for NaN and out of range.
/// Also what C's `(long long)d` gives (WITHHASH).
pub fn cvtt_i64(d: f64) -> i64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if !(-TWO63..TWO63).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// The position a score stands for: the centre of its cell (Redis's
/// `decodeGeohash`, which never fails for a 26-step cell).
pub fn decode_score(score: f64) -> (f64, f64) {
    let cell = Cell {
        bits: score_bits(score),
        step: STEP_MAX,
    };
    center(decode(STORE_RANGES, cell))
}

/// The 11-character base32 geohash of a score (GEOHASH): the position
/// re-encoded over the standard -90..90 latitude range, the last character
/// always `0` (52 bits fill only ten).
pub fn hash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = decode_score(score);
    // A decoded position is always within the standard ranges.
    let bits = encode(STANDARD_RANGES, lon, lat, STEP_MAX).map_or(0, |c| c.bits);
    let mut out = [b'0'; 11];
    for (i, ch) in out.iter_mut().take(10).enumerate() {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *ch = ALPHABET[idx as usize];
    }
    out
}

/// Moves a cell one step east (`d > 0`) or west (Redis's `geohash_move_x`).
fn move_x(cell: &mut Cell, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = cell.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = cell.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64 >> (64 - u32::from(cell.step) * 2);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64 >> (64 - u32::from(cell.step) * 2);
    cell.bits = x | y;
}

/// Moves a cell one step north (`d > 0`) or south (`geohash_move_y`).
fn move_y(cell: &mut Cell, d: i8) {
    if d == 0 {
        return;
    }
    let x = cell.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = cell.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> (64 - u32::from(cell.step) * 2);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555_5555_5555_5555u64 >> (64 - u32::from(cell.step) * 2);
    cell.bits = x | y;
}

fn moved(cell: Cell, dx: i8, dy: i8) -> Cell {
    let mut c = cell;
    move_x(&mut c, dx);
    move_y(&mut c, dy);
    c
}

/// The cells a search reads, in Redis's order: the centre, then north,
/// south, east, west, north-east, north-west, south-east, south-west
/// (neighbours left out are zero cells).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SearchCells {
    /// The nine cells.
    pub cells: [Cell; 9],
}

/// A search's shape, in the unit of its arguments (`to_meters` converts).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    /// BYRADIUS / GEORADIUS: a radius.
    Radius(f64),
    /// BYBOX: width and height.
    Box(f64, f64),
}

/// A search: centre, shape and unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Search {
    /// Centre longitude.
    pub lon: f64,
    /// Centre latitude.
    pub lat: f64,
    /// Meters per unit of the shape (1, 1000, 0.3048, 1609.34).
    pub to_meters: f64,
    /// Radius or box.
    pub shape: Shape,
}

/// The precision of the cells of a search of `range_meters` around
/// latitude `lat` (Redis's `geohashEstimateStepsByRadius`).
pub fn estimate_step(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

fn deg_rad(a: f64) -> f64 {
    a * D_R
}

fn rad_deg(a: f64) -> f64 {
    a / D_R
}

impl Search {
    /// `[min_lon, min_lat, max_lon, max_lat]` around the centre (Redis's
    /// `geohashBoundingBox`).
    pub fn bounds(&self) -> [f64; 4] {
        let (h, w) = match self.shape {
            Shape::Radius(r) => (r, r),
            Shape::Box(w, h) => (h / 2.0, w / 2.0),
        };
        let height = self.to_meters * h;
        let width = self.to_meters * w;
        let lat_delta = rad_deg(height / EARTH_RADIUS);
        let long_delta_top = rad_deg(width / EARTH_RADIUS / deg_rad(self.lat + lat_delta).cos());
        let long_delta_bottom = rad_deg(width / EARTH_RADIUS / deg_rad(self.lat - lat_delta).cos());
        let south = self.lat < 0.0;
        let delta = if south {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [
            self.lon - delta,
            self.lat - lat_delta,
            self.lon + delta,
            self.lat + lat_delta,
        ]
    }

    /// The nine cells that cover the search (Redis's
    /// `geohashCalculateAreasByShapeWGS84`).
    pub fn cells(&self) -> SearchCells {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounds();
        let radius = match self.shape {
            Shape::Radius(r) => r,
            Shape::Box(w, h) => ((w / 2.0) * (w / 2.0) + (h / 2.0) * (h / 2.0)).sqrt(),
        } * self.to_meters;
        let mut step = estimate_step(radius, self.lat);
        let around = |step: u8| {
            // The centre is within the storable limits (checked, or decoded).
            let hash =
                encode(STORE_RANGES, self.lon, self.lat, step).unwrap_or(Cell { bits: 0, step });
            let n = [
                hash,
                moved(hash, 0, 1),
                moved(hash, 0, -1),
                moved(hash, 1, 0),
                moved(hash, -1, 0),
                moved(hash, 1, 1),
                moved(hash, -1, 1),
                moved(hash, 1, -1),
                moved(hash, -1, -1),
            ];
            (n, decode(STORE_RANGES, hash))
        };
        let (mut n, mut area) = around(step);
        let north = decode(STORE_RANGES, n[1]);
        let south = decode(STORE_RANGES, n[2]);
        let east = decode(STORE_RANGES, n[3]);
        let west = decode(STORE_RANGES, n[4]);
        let decrease = north.lat.max < max_lat
            || south.lat.min > min_lat
            || east.lon.max < max_lon
            || west.lon.min > min_lon;
        if step > 1 && decrease {
            step -= 1;
            (n, area) = around(step);
        }
        if step >= 2 {
            let zero = Cell::default();
            // Indices: 1 N, 2 S, 3 E, 4 W, 5 NE, 6 NW, 7 SE, 8 SW.
            if area.lat.min < min_lat {
                for i in [2, 8, 7] {
                    n[i] = zero;
                }
            }
            if area.lat.max > max_lat {
                for i in [1, 5, 6] {
                    n[i] = zero;
                }
            }
            if area.lon.min < min_lon {
                for i in [4, 8, 6] {
                    n[i] = zero;
                }
            }
            if area.lon.max > max_lon {
                for i in [3, 7, 5] {
                    n[i] = zero;
                }
            }
        }
        SearchCells { cells: n }
    }

    /// The distance in meters from the centre to a point, when the point is
    /// inside the shape (Redis's `geoWithinShape`).
    pub fn distance_if_within(&self, lon: f64, lat: f64) -> Option<f64> {
        self.within().distance_if_within(lon, lat)
    }

    /// The search prepared for testing many points ([`Within`]).
    pub fn within(&self) -> Within {
        let (limit, half_width, half_height) = match self.shape {
            Shape::Radius(r) => (r * self.to_meters, 0.0, 0.0),
            Shape::Box(w, h) => (0.0, (w * self.to_meters) / 2.0, (h * self.to_meters) / 2.0),
        };
        let lat_r = deg_rad(self.lat);
        Within {
            lon: self.lon,
            lat: self.lat,
            lon_r: deg_rad(self.lon),
            lat_r,
            cos_lat: lat_r.cos(),
            is_box: matches!(self.shape, Shape::Box(..)),
            limit,
            half_width,
            half_height,
        }
    }
}

/// A [`Search`] with what every point's test shares computed once: the
/// centre in radians, the cosine of its latitude, the shape in meters.
/// Each test performs the very floating-point operations of Redis's
/// `geoWithinShape` on the same values, so it gives the same bits.
#[derive(Clone, Copy, Debug)]
pub struct Within {
    lon: f64,
    lat: f64,
    lon_r: f64,
    lat_r: f64,
    cos_lat: f64,
    is_box: bool,
    /// The radius in meters.
    limit: f64,
    half_width: f64,
    half_height: f64,
}

impl Within {
    /// The haversine distance from the centre (Redis's
    /// `geohashGetDistance(centre, point)`).
    #[inline]
    fn distance_to(&self, lon: f64, lat: f64) -> f64 {
        let v = ((deg_rad(lon) - self.lon_r) / 2.0).sin();
        if v == 0.0 {
            return lat_distance(self.lat, lat);
        }
        let lat2r = deg_rad(lat);
        let u = ((lat2r - self.lat_r) / 2.0).sin();
        let a = u * u + self.cos_lat * lat2r.cos() * v * v;
        2.0 * EARTH_RADIUS * a.sqrt().asin()
    }

    /// The distance in meters from the centre to a point, when the point
    /// is inside the shape (Redis's `geoWithinShape`).
    #[inline]
    pub fn distance_if_within(&self, lon: f64, lat: f64) -> Option<f64> {
        if !self.is_box {
            let d = self.distance_to(lon, lat);
            return (d <= self.limit).then_some(d);
        }
        if lat_distance(lat, self.lat) > self.half_height {
            return None;
        }
        if distance(lon, lat, self.lon, lat) > self.half_width {
            return None;
        }
        Some(self.distance_to(lon, lat))
    }
}

/// The distance in meters between two latitudes on one meridian.
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// The haversine distance in meters between two positions (Redis's
/// `geohashGetDistance`).
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS * a.sqrt().asin()
}

/// Appends a distance as Redis prints one (`fixedpoint_d2string` with 4
/// decimals): `1234.5678`, `0.0000`.
pub fn fmt_distance(out: &mut Vec<u8>, d: f64) {
    if d == 0.0 {
        out.extend_from_slice(b"0.0000");
        return;
    }
    // llrint: round half to even; out of range is LLONG_MIN.
    let scaled = (d * 10000.0).round_ties_even();
    let v = cvtt_i64(scaled);
    let mut value = v.unsigned_abs();
    if v < 0 {
        out.push(b'-');
    }
    let mut buf = itoa::Buffer::new();
    let int = value / 10000;
    value %= 10000;
    out.extend_from_slice(buf.format(int).as_bytes());
    out.push(b'.');
    let frac = buf.format(value);
    out.extend(std::iter::repeat_n(b'0', 4 - frac.len()));
    out.extend_from_slice(frac.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_palermo_as_redis_does() {
        // GEOADD Sicily 13.361389 38.115556 "Palermo" stores this score.
        assert_eq!(encode_score(13.361389, 38.115556), Some(3479099956230698));
        assert_eq!(encode_score(15.087269, 37.502669), Some(3479447370796909));
    }

    #[test]
    fn rejects_positions_outside_the_limits() {
        assert_eq!(encode_score(180.0001, 0.0), None);
        assert_eq!(encode_score(0.0, 85.06), None);
        assert_eq!(encode_score(0.0, -85.06), None);
        assert!(encode_score(180.0, 85.05112878).is_some());
    }

    #[test]
    fn decodes_to_the_cell_centre() {
        let (lon, lat) = decode_score(3479099956230698.0);
        assert!((lon - 13.361389).abs() < 1e-5, "{lon}");
        assert!((lat - 38.115556).abs() < 1e-5, "{lat}");
        // A score out of any cell still decodes, clamped as Redis clamps.
        let (lon, lat) = decode_score(-1.0);
        assert_eq!((lon, lat), (LONG_MAX, LAT_MAX));
    }

    #[test]
    fn geohash_strings_match_redis() {
        assert_eq!(&hash_string(3479099956230698.0), b"sqc8b49rny0");
        assert_eq!(&hash_string(3479447370796909.0), b"sqdtr74hyu0");
    }

    #[test]
    fn interleave_round_trips() {
        for (a, b) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (0x3ff_ffff, 0x155_5555),
            (u32::MAX, 7),
        ] {
            let v = interleave(a, b);
            assert_eq!(squash(v) as u32, a);
            assert_eq!(squash(v >> 1) as u32, b);
        }
    }

    #[test]
    fn neighbours_are_adjacent_cells() {
        let c = encode(STORE_RANGES, 10.0, 10.0, 10).unwrap();
        let a = decode(STORE_RANGES, c);
        let e = decode(STORE_RANGES, moved(c, 1, 0));
        let n = decode(STORE_RANGES, moved(c, 0, 1));
        assert_eq!(e.lon.min, a.lon.max);
        assert_eq!(e.lat, a.lat);
        assert_eq!(n.lat.min, a.lat.max);
        assert_eq!(n.lon, a.lon);
    }

    #[test]
    fn distance_palermo_catania() {
        let d = distance(13.361389, 38.115556, 15.087269, 37.502669);
        let mut s = Vec::new();
        fmt_distance(&mut s, d);
        // GEODIST Sicily Palermo Catania on the stored (decoded) points is
        // 166274.1516; the raw inputs are a hair different.
        assert!((d - 166274.15).abs() < 1.0, "{d}");
        let (lo1, la1) = decode_score(3479099956230698.0);
        let (lo2, la2) = decode_score(3479447370796909.0);
        s.clear();
        fmt_distance(&mut s, distance(lo1, la1, lo2, la2));
        assert_eq!(s, b"166274.1516");
    }

    #[test]
    fn distances_print_with_four_decimals() {
        let f = |d: f64| {
            let mut s = Vec::new();
            fmt_distance(&mut s, d);
            String::from_utf8(s).unwrap()
        };
        assert_eq!(f(0.0), "0.0000");
        assert_eq!(f(0.00004), "0.0000");
        assert_eq!(f(0.00006), "0.0001");
        assert_eq!(f(0.775), "0.7750");
        assert_eq!(f(12.5), "12.5000");
        assert_eq!(f(123456.78901), "123456.7890");
    }

    #[test]
    fn step_estimates_follow_redis() {
        assert_eq!(estimate_step(0.0, 0.0), 26);
        assert_eq!(estimate_step(1.0, 0.0), 24);
        assert_eq!(estimate_step(1000.0, 0.0), 14);
        assert_eq!(estimate_step(1000.0, 70.0), 13);
        assert_eq!(estimate_step(1000.0, -85.0), 12);
        assert_eq!(estimate_step(5e7, 0.0), 1);
    }

    #[test]
    fn score_casts_match_x86() {
        assert_eq!(score_bits(-1.0), u64::MAX);
        assert_eq!(score_bits(f64::INFINITY), 0);
        assert_eq!(score_bits(f64::NEG_INFINITY), 1 << 63);
        assert_eq!(score_bits(1e19), 10_000_000_000_000_000_000);
        assert_eq!(score_bits(1e30), 0);
        assert_eq!(cvtt_i64(1e30), i64::MIN);
    }
}
