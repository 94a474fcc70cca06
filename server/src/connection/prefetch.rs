//! Prefetching a pipelined batch's keys: before the first request of a
//! window runs, the keys of the next ones are found in the input and their
//! hash-table slots, chain nodes and values are loaded, so that the batch's
//! cache misses overlap instead of following one another.

use soquete_resp::RequestDecoder;

use super::recycle;
use crate::cmd;

/// Requests of a pipelined batch whose keys are prefetched at a time.
const PREFETCH_WINDOW: usize = 32;

/// At most this many keys are prefetched at a time.
const PREFETCH_KEYS: usize = 64;

/// Input shorter than this holds one small request at most: not worth a look.
const PREFETCH_MIN_INPUT: usize = 96;

/// The prefetcher reads at most this much of the input: its work stays a
/// small constant per window, even while a huge request arrives piecemeal
/// (which it would otherwise re-parse from the start on every read).
const PREFETCH_SCAN_MAX: usize = 4096;

/// Finds the keys of the next requests in a connection's input and starts
/// loading their hash-table entries before the first one runs, so that a
/// pipelined batch's cache misses overlap instead of following one another
/// (otherwise they are most of a GET's or SET's time).
#[derive(Default)]
pub(crate) struct Prefetcher {
    decoder: RequestDecoder,
    /// Per key found: its hash and where it lies in the input (an empty
    /// range for an inline request's unescaped key).
    keys: Vec<(u64, usize, usize)>,
    argv: Vec<&'static [u8]>,
    found: Vec<(usize, &'static [u8])>,
}

impl Prefetcher {
    /// Prefetches for the requests at the start of `input`, up to
    /// [`PREFETCH_WINDOW`] requests and [`PREFETCH_KEYS`] keys within its
    /// first [`PREFETCH_SCAN_MAX`] bytes. A request of up to three arguments
    /// is taken to have its key first (GET, SET, INCR, LPUSH...; anything
    /// else costs a wasted prefetch, nothing more); a longer one gets its
    /// keys from the command table when its key positions are a plain range
    /// (MSET, MGET, DEL...). Three rounds, each issued for all the keys
    /// before the next: bucket slots, first nodes of their chains, then the
    /// values of the keys present. Does nothing for a lone key, which would
    /// only wait for its own loads sooner.
    ///
    /// Returns how many requests it looked at: the caller runs that many
    /// before asking again (all of the input, when it is too short to
    /// bother).
    pub(crate) fn run(&mut self, ks: &crate::db::Keyspace, db: usize, input: &[u8]) -> usize {
        self.keys.clear();
        if input.len() < PREFETCH_MIN_INPUT {
            return PREFETCH_WINDOW;
        }
        let input = &input[..input.len().min(PREFETCH_SCAN_MAX)];
        self.decoder.reset();
        let mut at = 0;
        let mut seen = 0;
        while seen < PREFETCH_WINDOW && self.keys.len() < PREFETCH_KEYS {
            let req = match self.decoder.decode(&input[at..]) {
                Ok(Some(req)) => req,
                _ => break,
            };
            seen += 1;
            at += req.consumed();
            if req.len() <= 3 {
                if let Some(key) = req.get(1) {
                    note_key(&mut self.keys, input, key);
                }
                continue;
            }
            let Some(spec) = cmd::lookup(req.arg(0)) else {
                continue;
            };
            if !matches!(spec.keys, cmd::Keys::Range(..)) {
                continue;
            }
            let mut argv = recycle(std::mem::take(&mut self.argv));
            let mut found = recycle_keys(std::mem::take(&mut self.found));
            argv.extend(req.args());
            spec.keys_of(&argv, db, &mut found);
            for &(_, key) in found.iter().take(PREFETCH_KEYS - self.keys.len()) {
                note_key(&mut self.keys, input, key);
            }
            self.argv = recycle(argv);
            self.found = recycle_keys(found);
        }
        if self.keys.len() < 2 {
            return seen;
        }
        for &(h, ..) in &self.keys {
            ks.prefetch_slot(db, h);
        }
        for &(h, ..) in &self.keys {
            ks.prefetch_node(db, h);
        }
        for &(h, from, to) in &self.keys {
            if to > from {
                ks.prefetch_value(db, h, &input[from..to]);
            }
        }
        seen
    }
}

/// Records a key's hash and its place in `input` for [`Prefetcher`].
fn note_key(keys: &mut Vec<(u64, usize, usize)>, input: &[u8], key: &[u8]) {
    let from = (key.as_ptr() as usize).wrapping_sub(input.as_ptr() as usize);
    let span = if from <= input.len() && key.len() <= input.len() - from {
        (from, from + key.len())
    } else {
        (0, 0)
    };
    keys.push((crate::util::hash::hash_key(key), span.0, span.1));
}

/// [`recycle`] for `(db, key)` lists.
fn recycle_keys<'a, 'b>(mut v: Vec<(usize, &'a [u8])>) -> Vec<(usize, &'b [u8])> {
    v.clear();
    v.into_iter()
        .map(|_| -> (usize, &'b [u8]) { (0, &[]) })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Prefetcher, PREFETCH_KEYS, PREFETCH_SCAN_MAX, PREFETCH_WINDOW};
    use crate::db::Keyspace;
    use crate::util::hash::hash_key;

    fn get(key: &str) -> Vec<u8> {
        format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()).into_bytes()
    }

    fn prefetched(input: &[u8]) -> Vec<u64> {
        prefetched_counted(input).0
    }

    /// The hashes the prefetcher took, and how many requests it covered.
    fn prefetched_counted(input: &[u8]) -> (Vec<u64>, usize) {
        let ks = Keyspace::new(1);
        let mut p = Prefetcher::default();
        let seen = p.run(&ks, 0, input);
        for &(h, from, to) in &p.keys {
            if to > from {
                assert_eq!(hash_key(&input[from..to]), h, "the span is the key's");
            }
        }
        (p.keys.iter().map(|k| k.0).collect(), seen)
    }

    #[test]
    fn prefetcher_finds_the_keys_of_complete_requests() {
        let keys = ["key:000000000001", "key:000000000002", "key:000000000003"];
        let mut input: Vec<u8> = keys.iter().flat_map(|k| get(k)).collect();
        input.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$16\r\nkey:0000"); // still arriving
        let want: Vec<u64> = keys.iter().map(|k| hash_key(k.as_bytes())).collect();
        assert_eq!(prefetched(&input), want);
        // Inline commands and keyless ones (PING) count as requests too.
        let mut input = b"PING\r\nGET \"a b\"\r\n".to_vec();
        input.extend(get("key:000000000001"));
        input.extend(get("key:000000000002"));
        input.extend(get("key:000000000003"));
        assert_eq!(
            prefetched(&input),
            vec![
                hash_key(b"a b"),
                hash_key(b"key:000000000001"),
                hash_key(b"key:000000000002"),
                hash_key(b"key:000000000003")
            ]
        );
    }

    fn command(args: &[&str]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend(format!("${}\r\n{a}\r\n", a.len()).into_bytes());
        }
        out
    }

    #[test]
    fn prefetcher_takes_multi_key_commands_keys_from_the_table() {
        let mut input = command(&["MSET", "k1", "v1", "k2", "v2", "k3", "v3"]);
        input.extend(command(&["MGET", "k4", "k5", "k6", "k7"]));
        // Odd arity and unknown commands: nothing, and no panic.
        input.extend(command(&["MSET", "k8", "v8", "k9"]));
        input.extend(command(&["NOSUCH", "a", "b", "c"]));
        input.extend(command(&["SET", "k10", "v", "EX", "100"]));
        let want: Vec<u64> = ["k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10"]
            .iter()
            .map(|k| hash_key(k.as_bytes()))
            .collect();
        assert_eq!(prefetched(&input), want);
        // A huge MGET stops at the key limit.
        let keys: Vec<String> = (0..200).map(|i| format!("k{i}")).collect();
        let mut args = vec!["MGET"];
        args.extend(keys.iter().map(String::as_str));
        assert_eq!(prefetched(&command(&args)).len(), PREFETCH_KEYS);
        // A window of MSETs ends where the key limit does, and says so: the
        // loop asks again after those requests.
        let input: Vec<u8> = (0..20)
            .flat_map(|i| {
                let k: Vec<String> = (0..10).map(|j| format!("k{i}-{j}")).collect();
                let mut args = vec!["MSET"];
                for k in &k {
                    args.extend([k.as_str(), "v"]);
                }
                command(&args)
            })
            .collect();
        let (keys, seen) = prefetched_counted(&input);
        assert_eq!(
            (keys.len(), seen),
            (PREFETCH_KEYS, PREFETCH_KEYS.div_ceil(10))
        );
    }

    #[test]
    fn prefetcher_work_is_bounded() {
        // At most a window of requests.
        let input: Vec<u8> = (0..PREFETCH_WINDOW + 10)
            .flat_map(|i| get(&format!("key:{i:012}")))
            .collect();
        assert_eq!(prefetched(&input).len(), PREFETCH_WINDOW);
        // Nothing for a lone small request, and no second look at it.
        assert_eq!(
            prefetched_counted(&get("key:000000000001")),
            (vec![], PREFETCH_WINDOW)
        );
        // A request larger than the scan limit is not parsed to its end.
        let big = format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", PREFETCH_SCAN_MAX);
        let mut input = big.into_bytes();
        input.resize(input.len() + PREFETCH_SCAN_MAX + 2, b'x');
        assert!(prefetched(&input).is_empty());
        // Garbage stops it quietly.
        assert!(prefetched(&[b'*'; 200]).is_empty());
        assert!(prefetched(&[0u8; 200]).is_empty());
    }
}
