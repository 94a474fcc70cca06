//! Typed helpers: one definition per command gives a constructor on [`Cmd`],
//! a method on [`Client`], a builder method on [`Pipeline`] and (with the
//! `tokio` feature) async methods on `MultiplexedClient` and
//! `AsyncConnection`. The waiting pops (`BLPOP`...) are defined apart, in
//! `waiting_pops`: they are not offered on `MultiplexedClient`.
//!
//! Names follow redis-rs. Arguments are anything [`ToArgs`]; the reply type
//! is whatever [`FromValue`] the caller asks for:
//!
//! ```no_run
//! # let mut c = soquete_client::Client::connect("redis://127.0.0.1")?;
//! let _: () = c.set("k", 41)?;
//! let n: i64 = c.incr("k")?;
//! let v: Option<String> = c.get("missing")?;
//! # Ok::<(), soquete_client::Error>(())
//! ```

use crate::args::ToArgs;
use crate::cmd::Cmd;
use crate::error::Result;
use crate::pipeline::Pipeline;
use crate::sync::Client;
use crate::value::FromValue;

macro_rules! commands {
    ($(
        $(#[$attr:meta])*
        fn $name:ident<$($tp:ident: $bound:ident),*>($($arg:ident: $argty:ty),*) => $args:expr;
    )*) => {
        /// Constructors for the typed commands.
        impl Cmd {$(
            $(#[$attr])*
            #[allow(clippy::new_ret_no_self)]
            pub fn $name<$($tp: $bound),*>($($arg: $argty),*) -> Cmd {
                Cmd::from_args($args)
            }
        )*}

        /// Typed helpers: send the command, convert the reply to `RV`.
        impl Client {$(
            $(#[$attr])*
            pub fn $name<$($tp: $bound,)* RV: FromValue>(&mut self, $($arg: $argty),*) -> Result<RV> {
                self.query($args)
            }
        )*}

        /// Typed helpers: add the command to the batch.
        impl Pipeline {$(
            $(#[$attr])*
            pub fn $name<$($tp: $bound),*>(&mut self, $($arg: $argty),*) -> &mut Self {
                self.push_args($args)
            }
        )*}

        /// Typed helpers: send the command, convert the reply to `RV`.
        #[cfg(feature = "tokio")]
        impl crate::MultiplexedClient {$(
            $(#[$attr])*
            pub async fn $name<$($tp: $bound,)* RV: FromValue>(&self, $($arg: $argty),*) -> Result<RV> {
                self.query($args).await
            }
        )*}

        /// Typed helpers: send the command, convert the reply to `RV`.
        #[cfg(feature = "tokio")]
        impl crate::AsyncConnection {$(
            $(#[$attr])*
            pub async fn $name<$($tp: $bound,)* RV: FromValue>(&mut self, $($arg: $argty),*) -> Result<RV> {
                self.query($args).await
            }
        )*}
    };
}

commands! {
    // ---- strings
    /// `GET key`: the value, or null.
    fn get<K: ToArgs>(key: K) => ("GET", key);
    /// `MGET key [key ...]`: the values, null for missing keys.
    fn mget<K: ToArgs>(keys: K) => ("MGET", keys);
    /// `SET key value`.
    fn set<K: ToArgs, V: ToArgs>(key: K, value: V) => ("SET", key, value);
    /// `SET key value EX seconds`.
    fn set_ex<K: ToArgs, V: ToArgs>(key: K, value: V, seconds: u64) => ("SET", key, value, "EX", seconds);
    /// `SET key value PX milliseconds`.
    fn pset_ex<K: ToArgs, V: ToArgs>(key: K, value: V, milliseconds: u64) => ("SET", key, value, "PX", milliseconds);
    /// `SETNX key value`: 1 if set, 0 if the key existed.
    fn set_nx<K: ToArgs, V: ToArgs>(key: K, value: V) => ("SETNX", key, value);
    /// `MSET key value [key value ...]` from pairs.
    fn mset<K: ToArgs, V: ToArgs>(items: &[(K, V)]) => ("MSET", items);
    /// `MSETNX key value [key value ...]`: 1 if all were set, 0 if none was.
    fn mset_nx<K: ToArgs, V: ToArgs>(items: &[(K, V)]) => ("MSETNX", items);
    /// `GETSET key value`: the old value.
    fn getset<K: ToArgs, V: ToArgs>(key: K, value: V) => ("GETSET", key, value);
    /// `GETDEL key`: the value, deleting the key.
    fn get_del<K: ToArgs>(key: K) => ("GETDEL", key);
    /// `GETRANGE key start end`.
    fn getrange<K: ToArgs>(key: K, start: isize, end: isize) => ("GETRANGE", key, start, end);
    /// `SETRANGE key offset value`: the new length.
    fn setrange<K: ToArgs, V: ToArgs>(key: K, offset: usize, value: V) => ("SETRANGE", key, offset, value);
    /// `APPEND key value`: the new length.
    fn append<K: ToArgs, V: ToArgs>(key: K, value: V) => ("APPEND", key, value);
    /// `STRLEN key`.
    fn strlen<K: ToArgs>(key: K) => ("STRLEN", key);
    /// `INCR key`: the new value.
    fn incr<K: ToArgs>(key: K) => ("INCR", key);
    /// `INCRBY key delta`: the new value.
    fn incr_by<K: ToArgs>(key: K, delta: i64) => ("INCRBY", key, delta);
    /// `INCRBYFLOAT key delta`: the new value.
    fn incr_by_float<K: ToArgs>(key: K, delta: f64) => ("INCRBYFLOAT", key, delta);
    /// `DECR key`: the new value.
    fn decr<K: ToArgs>(key: K) => ("DECR", key);
    /// `DECRBY key delta`: the new value.
    fn decr_by<K: ToArgs>(key: K, delta: i64) => ("DECRBY", key, delta);

    // ---- keys
    /// `DEL key [key ...]`: how many were removed.
    fn del<K: ToArgs>(keys: K) => ("DEL", keys);
    /// `UNLINK key [key ...]`: how many were removed.
    fn unlink<K: ToArgs>(keys: K) => ("UNLINK", keys);
    /// `EXISTS key [key ...]`: how many exist (as `bool` for one key).
    fn exists<K: ToArgs>(keys: K) => ("EXISTS", keys);
    /// `EXPIRE key seconds`: true if the timeout was set.
    fn expire<K: ToArgs>(key: K, seconds: i64) => ("EXPIRE", key, seconds);
    /// `PEXPIRE key milliseconds`.
    fn pexpire<K: ToArgs>(key: K, milliseconds: i64) => ("PEXPIRE", key, milliseconds);
    /// `EXPIREAT key unix-seconds`.
    fn expire_at<K: ToArgs>(key: K, unix_seconds: i64) => ("EXPIREAT", key, unix_seconds);
    /// `PEXPIREAT key unix-milliseconds`.
    fn pexpire_at<K: ToArgs>(key: K, unix_milliseconds: i64) => ("PEXPIREAT", key, unix_milliseconds);
    /// `PERSIST key`: true if a timeout was removed.
    fn persist<K: ToArgs>(key: K) => ("PERSIST", key);
    /// `TTL key`: seconds left, -1 without expiry, -2 when missing.
    fn ttl<K: ToArgs>(key: K) => ("TTL", key);
    /// `PTTL key`: milliseconds left, -1 without expiry, -2 when missing.
    fn pttl<K: ToArgs>(key: K) => ("PTTL", key);
    /// `RENAME key newkey`.
    fn rename<K: ToArgs, N: ToArgs>(key: K, new_key: N) => ("RENAME", key, new_key);
    /// `RENAMENX key newkey`: true if renamed.
    fn rename_nx<K: ToArgs, N: ToArgs>(key: K, new_key: N) => ("RENAMENX", key, new_key);
    /// `TYPE key`: `string`, `list`, `set`, `zset`, `hash`, `stream` or `none`.
    fn key_type<K: ToArgs>(key: K) => ("TYPE", key);
    /// `KEYS pattern`.
    fn keys<K: ToArgs>(pattern: K) => ("KEYS", pattern);
    /// `SCAN cursor [MATCH pattern] [COUNT count]`: `(next_cursor, keys)`.
    fn scan_page<P: ToArgs>(cursor: u64, pattern: Option<P>, count: Option<usize>) =>
        ("SCAN", cursor, pattern.map(|p| ("MATCH", p)), count.map(|c| ("COUNT", c)));

    // ---- server
    /// `PING`: `PONG`.
    fn ping<>() => ("PING",);
    /// `ECHO message`.
    fn echo<M: ToArgs>(message: M) => ("ECHO", message);
    /// `DBSIZE`: how many keys.
    fn dbsize<>() => ("DBSIZE",);
    /// `FLUSHDB`.
    fn flushdb<>() => ("FLUSHDB",);
    /// `FLUSHALL`.
    fn flushall<>() => ("FLUSHALL",);
    /// `INFO [section]`.
    fn info<S: ToArgs>(section: Option<S>) => ("INFO", section);
    /// `TIME`: `(seconds, microseconds)`.
    fn time<>() => ("TIME",);

    // ---- hashes
    /// `HGET key field`.
    fn hget<K: ToArgs, F: ToArgs>(key: K, field: F) => ("HGET", key, field);
    /// `HMGET key field [field ...]`.
    fn hmget<K: ToArgs, F: ToArgs>(key: K, fields: F) => ("HMGET", key, fields);
    /// `HSET key field value`: how many fields were added.
    fn hset<K: ToArgs, F: ToArgs, V: ToArgs>(key: K, field: F, value: V) => ("HSET", key, field, value);
    /// `HSET key field value [field value ...]` from pairs.
    fn hset_multiple<K: ToArgs, F: ToArgs, V: ToArgs>(key: K, items: &[(F, V)]) => ("HSET", key, items);
    /// `HSETNX key field value`: true if set.
    fn hset_nx<K: ToArgs, F: ToArgs, V: ToArgs>(key: K, field: F, value: V) => ("HSETNX", key, field, value);
    /// `HDEL key field [field ...]`: how many were removed.
    fn hdel<K: ToArgs, F: ToArgs>(key: K, fields: F) => ("HDEL", key, fields);
    /// `HEXISTS key field`.
    fn hexists<K: ToArgs, F: ToArgs>(key: K, field: F) => ("HEXISTS", key, field);
    /// `HGETALL key`: as a map, or pairs.
    fn hgetall<K: ToArgs>(key: K) => ("HGETALL", key);
    /// `HKEYS key`.
    fn hkeys<K: ToArgs>(key: K) => ("HKEYS", key);
    /// `HVALS key`.
    fn hvals<K: ToArgs>(key: K) => ("HVALS", key);
    /// `HLEN key`.
    fn hlen<K: ToArgs>(key: K) => ("HLEN", key);
    /// `HSTRLEN key field`.
    fn hstrlen<K: ToArgs, F: ToArgs>(key: K, field: F) => ("HSTRLEN", key, field);
    /// `HINCRBY key field delta`: the new value.
    fn hincr<K: ToArgs, F: ToArgs>(key: K, field: F, delta: i64) => ("HINCRBY", key, field, delta);
    /// `HINCRBYFLOAT key field delta`: the new value.
    fn hincr_by_float<K: ToArgs, F: ToArgs>(key: K, field: F, delta: f64) => ("HINCRBYFLOAT", key, field, delta);

    // ---- lists
    /// `LPUSH key value [value ...]`: the new length.
    fn lpush<K: ToArgs, V: ToArgs>(key: K, values: V) => ("LPUSH", key, values);
    /// `RPUSH key value [value ...]`: the new length.
    fn rpush<K: ToArgs, V: ToArgs>(key: K, values: V) => ("RPUSH", key, values);
    /// `LPUSHX key value [value ...]`: push only if the list exists.
    fn lpush_exists<K: ToArgs, V: ToArgs>(key: K, values: V) => ("LPUSHX", key, values);
    /// `RPUSHX key value [value ...]`: push only if the list exists.
    fn rpush_exists<K: ToArgs, V: ToArgs>(key: K, values: V) => ("RPUSHX", key, values);
    /// `LPOP key [count]`: one value (or null), or with a count an array.
    fn lpop<K: ToArgs>(key: K, count: Option<usize>) => ("LPOP", key, count);
    /// `RPOP key [count]`.
    fn rpop<K: ToArgs>(key: K, count: Option<usize>) => ("RPOP", key, count);
    /// `LLEN key`.
    fn llen<K: ToArgs>(key: K) => ("LLEN", key);
    /// `LRANGE key start stop`.
    fn lrange<K: ToArgs>(key: K, start: isize, stop: isize) => ("LRANGE", key, start, stop);
    /// `LINDEX key index`.
    fn lindex<K: ToArgs>(key: K, index: isize) => ("LINDEX", key, index);
    /// `LSET key index value`.
    fn lset<K: ToArgs, V: ToArgs>(key: K, index: isize, value: V) => ("LSET", key, index, value);
    /// `LREM key count value`: how many were removed.
    fn lrem<K: ToArgs, V: ToArgs>(key: K, count: isize, value: V) => ("LREM", key, count, value);
    /// `LTRIM key start stop`.
    fn ltrim<K: ToArgs>(key: K, start: isize, stop: isize) => ("LTRIM", key, start, stop);
    /// `LINSERT key BEFORE pivot value`: the new length, -1 without the pivot.
    fn linsert_before<K: ToArgs, P: ToArgs, V: ToArgs>(key: K, pivot: P, value: V) => ("LINSERT", key, "BEFORE", pivot, value);
    /// `LINSERT key AFTER pivot value`.
    fn linsert_after<K: ToArgs, P: ToArgs, V: ToArgs>(key: K, pivot: P, value: V) => ("LINSERT", key, "AFTER", pivot, value);
    /// `RPOPLPUSH source destination`.
    fn rpoplpush<K: ToArgs, D: ToArgs>(key: K, destination: D) => ("RPOPLPUSH", key, destination);
    /// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`: the element moved, or null.
    fn lmove<S: ToArgs, D: ToArgs>(source: S, destination: D, from: crate::Direction, to: crate::Direction) => ("LMOVE", source, destination, from, to);

    // ---- sets
    /// `SADD key member [member ...]`: how many were added.
    fn sadd<K: ToArgs, M: ToArgs>(key: K, members: M) => ("SADD", key, members);
    /// `SREM key member [member ...]`: how many were removed.
    fn srem<K: ToArgs, M: ToArgs>(key: K, members: M) => ("SREM", key, members);
    /// `SMEMBERS key`.
    fn smembers<K: ToArgs>(key: K) => ("SMEMBERS", key);
    /// `SISMEMBER key member`.
    fn sismember<K: ToArgs, M: ToArgs>(key: K, member: M) => ("SISMEMBER", key, member);
    /// `SMISMEMBER key member [member ...]`.
    fn smismember<K: ToArgs, M: ToArgs>(key: K, members: M) => ("SMISMEMBER", key, members);
    /// `SCARD key`.
    fn scard<K: ToArgs>(key: K) => ("SCARD", key);
    /// `SPOP key`.
    fn spop<K: ToArgs>(key: K) => ("SPOP", key);
    /// `SRANDMEMBER key`.
    fn srandmember<K: ToArgs>(key: K) => ("SRANDMEMBER", key);
    /// `SMOVE source destination member`.
    fn smove<S: ToArgs, D: ToArgs, M: ToArgs>(source: S, destination: D, member: M) => ("SMOVE", source, destination, member);
    /// `SINTER key [key ...]`.
    fn sinter<K: ToArgs>(keys: K) => ("SINTER", keys);
    /// `SUNION key [key ...]`.
    fn sunion<K: ToArgs>(keys: K) => ("SUNION", keys);
    /// `SDIFF key [key ...]`.
    fn sdiff<K: ToArgs>(keys: K) => ("SDIFF", keys);

    // ---- sorted sets
    /// `ZADD key score member`: how many were added.
    fn zadd<K: ToArgs, M: ToArgs, S: ToArgs>(key: K, member: M, score: S) => ("ZADD", key, score, member);
    /// `ZADD key score member [score member ...]` from `(score, member)` pairs.
    fn zadd_multiple<K: ToArgs, S: ToArgs, M: ToArgs>(key: K, items: &[(S, M)]) => ("ZADD", key, items);
    /// `ZREM key member [member ...]`.
    fn zrem<K: ToArgs, M: ToArgs>(key: K, members: M) => ("ZREM", key, members);
    /// `ZSCORE key member`: the score or null.
    fn zscore<K: ToArgs, M: ToArgs>(key: K, member: M) => ("ZSCORE", key, member);
    /// `ZINCRBY key delta member`: the new score.
    fn zincr<K: ToArgs, M: ToArgs, D: ToArgs>(key: K, member: M, delta: D) => ("ZINCRBY", key, delta, member);
    /// `ZCARD key`.
    fn zcard<K: ToArgs>(key: K) => ("ZCARD", key);
    /// `ZCOUNT key min max`.
    fn zcount<K: ToArgs, A: ToArgs, B: ToArgs>(key: K, min: A, max: B) => ("ZCOUNT", key, min, max);
    /// `ZRANK key member`.
    fn zrank<K: ToArgs, M: ToArgs>(key: K, member: M) => ("ZRANK", key, member);
    /// `ZREVRANK key member`.
    fn zrevrank<K: ToArgs, M: ToArgs>(key: K, member: M) => ("ZREVRANK", key, member);
    /// `ZRANGE key start stop`.
    fn zrange<K: ToArgs>(key: K, start: isize, stop: isize) => ("ZRANGE", key, start, stop);
    /// `ZRANGE key start stop WITHSCORES`: as `Vec<(member, score)>`.
    fn zrange_withscores<K: ToArgs>(key: K, start: isize, stop: isize) => ("ZRANGE", key, start, stop, "WITHSCORES");
    /// `ZREVRANGE key start stop`.
    fn zrevrange<K: ToArgs>(key: K, start: isize, stop: isize) => ("ZREVRANGE", key, start, stop);
    /// `ZREVRANGE key start stop WITHSCORES`.
    fn zrevrange_withscores<K: ToArgs>(key: K, start: isize, stop: isize) => ("ZREVRANGE", key, start, stop, "WITHSCORES");
    /// `ZRANGEBYSCORE key min max`.
    fn zrangebyscore<K: ToArgs, A: ToArgs, B: ToArgs>(key: K, min: A, max: B) => ("ZRANGEBYSCORE", key, min, max);
    /// `ZRANGEBYSCORE key min max WITHSCORES`.
    fn zrangebyscore_withscores<K: ToArgs, A: ToArgs, B: ToArgs>(key: K, min: A, max: B) => ("ZRANGEBYSCORE", key, min, max, "WITHSCORES");
    /// `ZPOPMIN key [count]`.
    fn zpopmin<K: ToArgs>(key: K, count: Option<usize>) => ("ZPOPMIN", key, count);
    /// `ZPOPMAX key [count]`.
    fn zpopmax<K: ToArgs>(key: K, count: Option<usize>) => ("ZPOPMAX", key, count);

    // ---- pub/sub
    /// `PUBLISH channel message`: how many subscribers got it.
    fn publish<C: ToArgs, M: ToArgs>(channel: C, message: M) => ("PUBLISH", channel, message);
    /// `SPUBLISH shardchannel message`.
    fn spublish<C: ToArgs, M: ToArgs>(channel: C, message: M) => ("SPUBLISH", channel, message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_build_the_documented_commands() {
        let args = |c: Cmd| -> Vec<String> {
            c.args()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        };
        assert_eq!(
            args(Cmd::set_ex("k", "v", 10)),
            ["SET", "k", "v", "EX", "10"]
        );
        assert_eq!(
            args(Cmd::mset(&[("a", 1), ("b", 2)])),
            ["MSET", "a", "1", "b", "2"]
        );
        assert_eq!(args(Cmd::lpop("l", None)), ["LPOP", "l"]);
        assert_eq!(args(Cmd::lpop("l", Some(2))), ["LPOP", "l", "2"]);
        assert_eq!(args(Cmd::zadd("z", "m", 1.5)), ["ZADD", "z", "1.5", "m"]);
        assert_eq!(args(Cmd::del(["a", "b"])), ["DEL", "a", "b"]);
        assert_eq!(
            args(Cmd::scan_page(0, Some("u:*"), Some(10))),
            ["SCAN", "0", "MATCH", "u:*", "COUNT", "10"]
        );
        assert_eq!(args(Cmd::ping()), ["PING"]);
    }

    #[test]
    fn pipeline_helpers_queue_commands() {
        let mut p = Pipeline::new();
        p.set("a", 1).ignore().get("a").hgetall("h");
        assert_eq!(p.len(), 3);
    }
}
