//! RDB files as Redis 7.0.15 writes and reads them (format version 10).
//!
//! A file is `REDIS0010`, auxiliary fields (`redis-ver`, `redis-bits`,
//! `ctime`, `used-mem`, `aof-base`), the function libraries, then each
//! non-empty database (`SELECTDB`, `RESIZEDB`, its keys, each preceded by
//! its deadline when it has one), `EOF` and the CRC-64 of everything before
//! it (zero when `rdbchecksum no`).
//!
//! Writing goes through [`RdbWriter`], which keeps the running checksum.
//! Reading ([`load`]) streams the file through a window that grows only
//! as far as the largest value needs: a value that straddles the end of
//! the window is parsed again once more bytes are in, so the parser itself
//! works on plain slices and never panics on any input.

use std::io::{self, Read, Write};

use super::value::{decode_body, encode_body, is_empty, value_type, Limits};
use super::{crc64::crc64, write_len, write_string, Bad, RdbStr, Reader, RDB_VERSION};
use crate::db::Entry;
use crate::value::Value;

/// Opcodes that are not value types (`RDB_OPCODE_*`).
pub mod opcode {
    /// A function library (its code), Redis 7.0 GA.
    pub const FUNCTION2: u8 = 245;
    /// A function in the pre-GA 7.0 format.
    pub const FUNCTION_PRE_GA: u8 = 246;
    /// Module auxiliary data.
    pub const MODULE_AUX: u8 = 247;
    /// The next key's LRU idle time, in seconds.
    pub const IDLE: u8 = 248;
    /// The next key's LFU counter.
    pub const FREQ: u8 = 249;
    /// An auxiliary field: two strings.
    pub const AUX: u8 = 250;
    /// The sizes of the database that follows.
    pub const RESIZEDB: u8 = 251;
    /// The next key's deadline, Unix ms (8 bytes LE).
    pub const EXPIRETIME_MS: u8 = 252;
    /// The next key's deadline, Unix seconds (4 bytes LE, old files).
    pub const EXPIRETIME: u8 = 253;
    /// The database the following keys belong to.
    pub const SELECTDB: u8 = 254;
    /// The end of the data; the checksum follows.
    pub const EOF: u8 = 255;
}

/// Writes RDB bytes to `W`, keeping the CRC-64.
pub struct RdbWriter<W: Write> {
    w: W,
    crc: u64,
    checksum: bool,
}

impl<W: Write> RdbWriter<W> {
    /// A writer of a file that starts here; `checksum` is `rdbchecksum`.
    pub fn new(w: W, checksum: bool) -> RdbWriter<W> {
        RdbWriter {
            w,
            crc: 0,
            checksum,
        }
    }

    /// Writes `b`.
    pub fn put(&mut self, b: &[u8]) -> io::Result<()> {
        if self.checksum {
            self.crc = crc64(self.crc, b);
        }
        self.w.write_all(b)
    }

    /// Writes the signature and the auxiliary fields.
    pub fn header(&mut self, aux: &Aux) -> io::Result<()> {
        let mut b = format!("REDIS{RDB_VERSION:04}").into_bytes();
        let mut field = |k: &str, v: &[u8]| {
            b.push(opcode::AUX);
            write_string(&mut b, k.as_bytes(), false);
            write_string(&mut b, v, false);
        };
        field("redis-ver", crate::REDIS_VERSION.as_bytes());
        field("redis-bits", b"64");
        field("ctime", aux.ctime.to_string().as_bytes());
        field("used-mem", aux.used_mem.to_string().as_bytes());
        field("aof-base", if aux.aof_base { b"1" } else { b"0" });
        self.put(&b)
    }

    /// Writes the function libraries (their code, LZF-compressed when
    /// `compress` and it saves space, as Redis's `rdbSaveFunctions`).
    pub fn functions(&mut self, libraries: &[Vec<u8>], compress: bool) -> io::Result<()> {
        let mut b = Vec::new();
        for code in libraries {
            b.clear();
            b.push(opcode::FUNCTION2);
            write_string(&mut b, code, compress);
            self.put(&b)?;
        }
        Ok(())
    }

    /// Starts database `db`, which holds `keys` keys, `volatile` of them
    /// with a deadline.
    pub fn select_db(&mut self, db: usize, keys: u64, volatile: u64) -> io::Result<()> {
        let mut b = vec![opcode::SELECTDB];
        write_len(&mut b, db as u64);
        b.push(opcode::RESIZEDB);
        write_len(&mut b, keys);
        write_len(&mut b, volatile);
        self.put(&b)
    }

    /// Writes `EOF` and the checksum, flushes, and gives the inner writer
    /// back.
    pub fn finish(mut self) -> io::Result<W> {
        self.put(&[opcode::EOF])?;
        let crc = if self.checksum { self.crc } else { 0 };
        self.w.write_all(&crc.to_le_bytes())?;
        self.w.flush()?;
        Ok(self.w)
    }
}

/// Appends one key as Redis's `rdbSaveKeyValuePair` at `now` (Unix ms):
/// its deadline when it has one, its idle seconds (LRU policies) or LFU
/// counter (LFU policies), the value's type, the key, the value.
pub fn encode_key(out: &mut Vec<u8>, key: &[u8], entry: &Entry, compress: bool, now: u64) {
    let at = entry.expire_at();
    if at != 0 {
        out.push(opcode::EXPIRETIME_MS);
        out.extend_from_slice(&at.to_le_bytes());
    }
    match crate::evict::saved(entry, now) {
        (Some(idle), _) => {
            out.push(opcode::IDLE);
            super::write_len(out, idle);
        }
        (_, Some(freq)) => out.extend_from_slice(&[opcode::FREQ, freq]),
        _ => {}
    }
    out.push(value_type(&entry.value));
    write_string(out, key, compress);
    encode_body(out, &entry.value, compress);
}

/// The auxiliary fields soquete writes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Aux {
    /// When the file was made, Unix seconds.
    pub ctime: u64,
    /// The memory in use then.
    pub used_mem: u64,
    /// True for the base file of an append-only log.
    pub aof_base: bool,
}

/// How to load a file.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// The encoding limits containers are rebuilt under.
    pub limits: Limits,
    /// The loading time, Unix ms.
    pub now: u64,
    /// Drop keys whose deadline is already past (a master loading a
    /// snapshot does; an AOF's base keeps them, the log that follows
    /// expects them).
    pub drop_expired: bool,
    /// Check the CRC-64 (`rdbchecksum`).
    pub verify_checksum: bool,
    /// How many databases the server has.
    pub databases: usize,
}

/// What loading a file found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Keys added.
    pub keys_loaded: u64,
    /// Keys skipped because they had expired.
    pub keys_expired: u64,
    /// Empty containers skipped (Redis skips them too).
    pub empty_skipped: u64,
    /// The function libraries' code.
    pub functions: Vec<Vec<u8>>,
    /// The `redis-ver` field.
    pub redis_ver: Option<String>,
    /// True when the file says it is an AOF base.
    pub aof_base: bool,
    /// The file's size in bytes.
    pub bytes: u64,
}

/// Why a file could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// Reading failed.
    Io(io::Error),
    /// The bytes are not a valid RDB file; Redis's words where it has
    /// some.
    Format(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Io(e) => write!(f, "{e}"),
            LoadError::Format(m) => f.write_str(m),
        }
    }
}

impl From<io::Error> for LoadError {
    fn from(e: io::Error) -> LoadError {
        LoadError::Io(e)
    }
}

/// How much a read adds to the window at least.
const CHUNK: usize = 1 << 20;

/// A window over the file: parse at `start`, read more when a parse ran
/// out of bytes.
struct Window<R: Read> {
    r: R,
    buf: Vec<u8>,
    start: usize,
    eof: bool,
    crc: u64,
    /// Bytes consumed before `buf[0]`.
    offset: u64,
}

impl<R: Read> Window<R> {
    /// Parses one item with `f`; on success the bytes it read are
    /// consumed (and checksummed).
    fn parse<T>(&mut self, f: impl Fn(&mut Reader<'_>) -> Result<T, Bad>) -> Result<T, LoadError> {
        loop {
            let mut r = Reader::new(&self.buf[self.start..]);
            match f(&mut r) {
                Ok(v) => {
                    let n = r.position();
                    self.consume(n);
                    return Ok(v);
                }
                Err(Bad) if !self.eof => self.fill()?,
                Err(Bad) => {
                    return Err(LoadError::Format(format!(
                        "Bad file format reading the RDB at offset {} (corrupt or truncated)",
                        self.offset + self.start as u64
                    )))
                }
            }
        }
    }

    fn consume(&mut self, n: usize) {
        self.crc = crc64(self.crc, &self.buf[self.start..self.start + n]);
        self.start += n;
    }

    /// Reads at least as much again as the window holds (at least a
    /// chunk), or to the end of the file.
    fn fill(&mut self) -> Result<(), LoadError> {
        self.buf.drain(..self.start);
        self.offset += self.start as u64;
        self.start = 0;
        let want = self.buf.len().max(CHUNK);
        let mut got = 0;
        let base = self.buf.len();
        self.buf.resize(base + want, 0);
        while got < want {
            match self.r.read(&mut self.buf[base + got..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.buf.truncate(base + got);
        Ok(())
    }
}

/// Reads an RDB file from `r`, handing each key to `insert(db, key, value,
/// deadline_ms, access_secs)`, which returns false when the key was
/// already there (the file is then refused, as Redis refuses it).
pub fn load<R: Read>(
    r: R,
    opts: &LoadOptions,
    mut insert: impl FnMut(usize, &[u8], Value, u64, u32) -> bool,
) -> Result<Loaded, LoadError> {
    let mut w = Window {
        r,
        buf: Vec::new(),
        start: 0,
        eof: false,
        crc: 0,
        offset: 0,
    };
    let mut out = Loaded::default();
    let magic = w.parse(|r| r.take(9).map(<[u8]>::to_vec)).map_err(|_| {
        LoadError::Format("Short read or OOM loading DB. Unrecoverable error, aborting now.".into())
    })?;
    if &magic[..5] != b"REDIS" {
        return Err(LoadError::Format(
            "Wrong signature trying to load DB from file".into(),
        ));
    }
    let version = std::str::from_utf8(&magic[5..])
        .ok()
        .and_then(|v| v.parse::<u16>().ok())
        .unwrap_or(0);
    if !(1..=RDB_VERSION).contains(&version) {
        return Err(LoadError::Format(format!(
            "Can't handle RDB format version {version}"
        )));
    }
    let mut db = 0usize;
    let mut expire_at = 0u64;
    let mut idle: Option<u64> = None;
    let mut freq: Option<u8> = None;
    loop {
        let t = w.parse(|r| r.byte())?;
        match t {
            opcode::EXPIRETIME_MS => {
                expire_at =
                    w.parse(|r| Ok(u64::from_le_bytes(r.take(8)?.try_into().map_err(|_| Bad)?)))?;
                // A deadline of 0 would read as "none": Redis keeps it as
                // long past.
                expire_at = expire_at.max(1);
                continue;
            }
            opcode::EXPIRETIME => {
                let secs =
                    w.parse(|r| Ok(u32::from_le_bytes(r.take(4)?.try_into().map_err(|_| Bad)?)))?;
                expire_at = (secs as u64 * 1000).max(1);
                continue;
            }
            opcode::FREQ => {
                freq = Some(w.parse(|r| r.byte())?);
                continue;
            }
            opcode::IDLE => {
                idle = Some(w.parse(|r| r.length())?);
                continue;
            }
            opcode::EOF => break,
            opcode::SELECTDB => {
                let d = w.parse(|r| r.length())?;
                if d >= opts.databases as u64 {
                    return Err(LoadError::Format(format!(
                        "FATAL: Data file was created with a Redis server configured to handle more than {} databases. Exiting",
                        opts.databases
                    )));
                }
                db = d as usize;
                continue;
            }
            opcode::RESIZEDB => {
                w.parse(|r| Ok((r.length()?, r.length()?)))?;
                continue;
            }
            opcode::AUX => {
                let (k, v) = w.parse(|r| Ok((r.bytes()?, r.bytes()?)))?;
                match &k[..] {
                    b"redis-ver" => out.redis_ver = Some(String::from_utf8_lossy(&v).into_owned()),
                    b"aof-base" => out.aof_base = v == b"1",
                    _ => {}
                }
                continue;
            }
            opcode::FUNCTION2 => {
                out.functions.push(w.parse(|r| r.bytes())?);
                continue;
            }
            opcode::FUNCTION_PRE_GA => {
                // 7.0 rc1/rc2: name, engine, an optional description and
                // the code, which Redis turns into a shebang and code.
                out.functions.push(w.parse(|r| {
                    let name = r.bytes()?;
                    let engine = r.bytes()?;
                    if r.length()? != 0 {
                        r.bytes()?;
                    }
                    let blob = r.bytes()?;
                    let mut code = b"#!".to_vec();
                    code.extend_from_slice(&engine);
                    code.extend_from_slice(b" name=");
                    code.extend_from_slice(&name);
                    code.push(b'\n');
                    code.extend_from_slice(&blob);
                    Ok(code)
                })?);
                continue;
            }
            opcode::MODULE_AUX => {
                return Err(LoadError::Format(
                    "The RDB file contains AUX module data I can't load: no matching module".into(),
                ))
            }
            _ => {}
        }
        let limits = opts.limits;
        if !is_known_type(t) {
            return Err(LoadError::Format(format!("Unknown RDB encoding type {t}")));
        }
        let (key, value) = w.parse(|r| {
            let key = match r.string()? {
                RdbStr::Bytes(b) => b,
                s => s.into_bytes(),
            };
            let value = decode_body(r, t, limits)?;
            Ok((key, value))
        })?;
        let at = std::mem::take(&mut expire_at);
        let access = crate::evict::loaded(opts.now, idle.take(), freq.take());
        if is_empty(&value) {
            out.empty_skipped += 1;
        } else if opts.drop_expired && at != 0 && at < opts.now {
            out.keys_expired += 1;
        } else if insert(db, &key, value, at, access) {
            out.keys_loaded += 1;
        } else {
            return Err(LoadError::Format(format!(
                "RDB has duplicated key '{}' in DB {db}",
                String::from_utf8_lossy(&key)
            )));
        }
    }
    if version >= 5 {
        let expected = w.crc;
        let sum = w.parse(|r| Ok(u64::from_le_bytes(r.take(8)?.try_into().map_err(|_| Bad)?)))?;
        if opts.verify_checksum && sum != 0 && sum != expected {
            return Err(LoadError::Format(format!(
                "Wrong RDB checksum expected: ({expected:x}) but got ({sum:x}). Aborting now."
            )));
        }
    }
    out.bytes = w.offset + w.start as u64;
    Ok(out)
}

/// True for the value types this server reads.
fn is_known_type(t: u8) -> bool {
    use super::types::*;
    matches!(
        t,
        STRING
            | LIST
            | SET
            | ZSET
            | HASH
            | ZSET_2
            | SET_INTSET
            | HASH_LISTPACK
            | ZSET_LISTPACK
            | LIST_QUICKLIST_2
            | STREAM_LISTPACKS
            | STREAM_LISTPACKS_2
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::list::{End, List};

    fn opts() -> LoadOptions {
        LoadOptions {
            limits: Limits::default(),
            now: 1_700_000_000_000,
            drop_expired: true,
            verify_checksum: true,
            databases: 16,
        }
    }

    type Row = (usize, Vec<u8>, Value, u64);

    fn sample_file(entries: &[(usize, &[u8], Value, u64)]) -> Vec<u8> {
        let mut w = RdbWriter::new(Vec::new(), true);
        w.header(&Aux::default()).unwrap();
        w.functions(
            &[b"#!lua name=lib\nredis.register_function('f', function() return 1 end)".to_vec()],
            false,
        )
        .unwrap();
        let mut dbs: Vec<usize> = entries.iter().map(|e| e.0).collect();
        dbs.dedup();
        for d in dbs {
            let rows: Vec<_> = entries.iter().filter(|e| e.0 == d).collect();
            let vol = rows.iter().filter(|e| e.3 != 0).count() as u64;
            w.select_db(d, rows.len() as u64, vol).unwrap();
            for (_, k, v, at) in rows {
                let mut e = Entry::new(v.clone());
                if *at != 0 {
                    e = entry_with_deadline(v.clone(), *at);
                }
                let mut b = Vec::new();
                encode_key(&mut b, k, &e, true, 0);
                w.put(&b).unwrap();
            }
        }
        w.finish().unwrap()
    }

    fn entry_with_deadline(v: Value, at: u64) -> Entry {
        let mut shard = crate::db::Shard::default();
        let h = crate::util::hash::hash_key(b"x");
        shard.insert_loaded(h, b"x", v, at, 0);
        shard.remove(h, b"x").unwrap()
    }

    fn load_all(bytes: &[u8], o: &LoadOptions) -> Result<(Loaded, Vec<Row>), LoadError> {
        let mut rows = Vec::new();
        let l = load(bytes, o, |db, k, v, at, _| {
            rows.push((db, k.to_vec(), v, at));
            true
        })?;
        Ok((l, rows))
    }

    #[test]
    fn a_written_file_loads_back_with_databases_and_deadlines() {
        let mut list = List::new();
        for i in 0..5 {
            list.push(End::Back, format!("e{i}").as_bytes(), Default::default());
        }
        let future = opts().now + 60_000;
        let past = opts().now - 1;
        let file = sample_file(&[
            (0, b"a", Value::string(b"hello"), 0),
            (0, b"n", Value::Int(12345), future),
            (0, b"gone", Value::Int(1), past),
            (3, b"l", Value::List(Box::new(list.clone())), 0),
        ]);
        assert_eq!(&file[..9], b"REDIS0010");
        let (l, rows) = load_all(&file, &opts()).unwrap();
        assert_eq!(l.keys_loaded, 3);
        assert_eq!(l.keys_expired, 1);
        assert_eq!(l.functions.len(), 1);
        assert_eq!(l.redis_ver.as_deref(), Some(crate::REDIS_VERSION));
        assert_eq!(l.bytes, file.len() as u64);
        assert_eq!(rows[0], (0, b"a".to_vec(), Value::string(b"hello"), 0));
        assert_eq!(rows[1], (0, b"n".to_vec(), Value::Int(12345), future));
        assert_eq!(rows[2], (3, b"l".to_vec(), Value::List(Box::new(list)), 0));
    }

    #[test]
    fn a_pre_ga_function_becomes_a_library_with_a_shebang() {
        let mut w = RdbWriter::new(Vec::new(), true);
        w.header(&Aux::default()).unwrap();
        let mut b = vec![opcode::FUNCTION_PRE_GA];
        for s in [&b"lib"[..], b"LUA"] {
            write_string(&mut b, s, false);
        }
        write_len(&mut b, 1);
        write_string(&mut b, b"a description", false);
        write_string(
            &mut b,
            b"redis.register_function('f', function() end)",
            false,
        );
        w.put(&b).unwrap();
        let file = w.finish().unwrap();
        let (l, _) = load_all(&file, &opts()).unwrap();
        assert_eq!(
            l.functions,
            [b"#!LUA name=lib\nredis.register_function('f', function() end)".to_vec()]
        );
    }

    #[test]
    fn values_larger_than_a_read_chunk_load() {
        let big = vec![b'x'; CHUNK * 3 + 17];
        let mut noise = Vec::new();
        for i in 0..(CHUNK * 2 + 5) {
            noise.push((i * 31 % 251) as u8);
        }
        let file = sample_file(&[
            (0, b"big", Value::string(&big), 0),
            (0, b"noise", Value::string(&noise), 0),
        ]);
        let (l, rows) = load_all(&file, &opts()).unwrap();
        assert_eq!(l.keys_loaded, 2);
        assert_eq!(rows[0].2, Value::string(&big));
        assert_eq!(rows[1].2, Value::string(&noise));
    }

    #[test]
    fn corruption_truncation_and_bad_checksums_are_errors() {
        let file = sample_file(&[(0, b"a", Value::string(b"hello world"), 0)]);
        for cut in 0..file.len() {
            assert!(load_all(&file[..cut], &opts()).is_err(), "cut at {cut}");
        }
        let mut flipped = file.clone();
        let at = file.len() - 12;
        flipped[at] ^= 0x01;
        let e = load_all(&flipped, &opts()).unwrap_err().to_string();
        assert!(
            e.contains("checksum") || e.contains("Bad file format"),
            "{e}"
        );
        let mut no_check = opts();
        no_check.verify_checksum = false;
        let mut zero_sum = file.clone();
        let n = zero_sum.len();
        zero_sum[n - 8..].fill(0);
        assert!(
            load_all(&zero_sum, &opts()).is_ok(),
            "a zero checksum is not checked"
        );
        let mut wrong = file.clone();
        wrong[n - 1] ^= 0xff;
        assert!(load_all(&wrong, &opts()).is_err());
        assert!(load_all(&wrong, &no_check).is_ok());
        assert!(load_all(b"REDIS0011", &opts())
            .unwrap_err()
            .to_string()
            .contains("Can't handle RDB format version 11"));
        assert!(load_all(b"NOTREDIS0", &opts())
            .unwrap_err()
            .to_string()
            .contains("Wrong signature"));
    }

    #[test]
    fn duplicate_keys_and_databases_out_of_range_are_refused() {
        let file = sample_file(&[(0, b"a", Value::Int(1), 0), (0, b"a", Value::Int(2), 0)]);
        let mut seen = std::collections::HashSet::new();
        let r = load(&file[..], &opts(), |_, k, _, _, _| seen.insert(k.to_vec()));
        assert!(r.unwrap_err().to_string().contains("duplicated key"));
        let file = sample_file(&[(20, b"a", Value::Int(1), 0)]);
        assert!(load_all(&file, &opts()).is_err());
    }

    proptest::proptest! {
        #[test]
        fn loading_mutated_files_never_panics(i in proptest::prelude::any::<proptest::sample::Index>(), x in proptest::prelude::any::<u8>()) {
            let mut file = sample_file(&[
                (0, b"a", Value::string(&[b'q'; 50]), 0),
                (1, b"b", Value::Int(7), opts().now + 5),
            ]);
            let at = i.index(file.len());
            file[at] = x;
            let _ = load_all(&file, &opts());
        }
    }
}
