//! The manifest of Redis 7.0's multi-part append-only file: which base
//! file, which incremental files (in order) and which history files make
//! up the log, one `file <name> seq <n> type <b|i|h>` line each.

/// One file of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// Its name inside the append-only directory.
    pub name: String,
    /// Its sequence number.
    pub seq: u64,
    /// `b` (base), `i` (incremental) or `h` (history).
    pub kind: u8,
}

/// The files of the log, as Redis's `aofManifest`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file (a snapshot the increments apply to).
    pub base: Option<FileInfo>,
    /// Files a rewrite replaced, to delete.
    pub history: Vec<FileInfo>,
    /// The incremental files, oldest first; the last one is written.
    pub incr: Vec<FileInfo>,
    /// The highest base sequence number used.
    pub base_seq: u64,
    /// The highest incremental sequence number used.
    pub incr_seq: u64,
}

impl Manifest {
    /// Parses a manifest file's text, as Redis's
    /// `aofLoadManifestFromFile` accepts it.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = crate::config::split_args(line)
                .ok_or_else(|| "Invalid AOF manifest file format".to_string())?;
            if words.len() % 2 != 0 {
                return Err("Invalid AOF manifest file format".into());
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for pair in words.chunks_exact(2) {
                match pair[0].as_str() {
                    "file" => name = Some(pair[1].clone()),
                    "seq" => seq = pair[1].parse::<u64>().ok(),
                    "type" => kind = pair[1].bytes().next(),
                    _ => {}
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err("Invalid AOF manifest file format".into());
            };
            let info = FileInfo { name, seq, kind };
            match kind {
                b'b' => {
                    if m.base.is_some() {
                        return Err("Found duplicate base file information".into());
                    }
                    m.base_seq = seq;
                    m.base = Some(info);
                }
                b'h' => m.history.push(info),
                b'i' => {
                    if seq <= m.incr_seq {
                        return Err("Found a non-monotonic sequence number".into());
                    }
                    m.incr_seq = seq;
                    m.incr.push(info);
                }
                _ => return Err("Unknown AOF file type".into()),
            }
        }
        Ok(m)
    }

    /// The manifest's text: base, history, then the increments.
    pub fn format(&self) -> String {
        let mut out = String::new();
        let all = self.base.iter().chain(&self.history).chain(&self.incr);
        for f in all {
            let name = if needs_quotes(&f.name) {
                crate::config::rewrite::repr(&f.name)
            } else {
                f.name.clone()
            };
            out.push_str(&format!(
                "file {name} seq {} type {}\n",
                f.seq, f.kind as char
            ));
        }
        out
    }

    /// Names a new base file (`<filename>.<seq>.base.rdb`, or `.aof`
    /// without the RDB preamble); the old base becomes history.
    pub fn new_base(&mut self, filename: &str, rdb: bool) -> String {
        if let Some(mut old) = self.base.take() {
            old.kind = b'h';
            self.history.insert(0, old);
        }
        self.base_seq += 1;
        let name = format!(
            "{filename}.{}.base.{}",
            self.base_seq,
            if rdb { "rdb" } else { "aof" }
        );
        self.base = Some(FileInfo {
            name: name.clone(),
            seq: self.base_seq,
            kind: b'b',
        });
        name
    }

    /// Names a new incremental file, the one written from now on.
    pub fn new_incr(&mut self, filename: &str) -> String {
        self.incr_seq += 1;
        let name = format!("{filename}.{}.incr.aof", self.incr_seq);
        self.incr.push(FileInfo {
            name: name.clone(),
            seq: self.incr_seq,
            kind: b'i',
        });
        name
    }

    /// The incremental file being written, a new one if there is none.
    pub fn last_incr(&mut self, filename: &str) -> String {
        match self.incr.last() {
            Some(f) => f.name.clone(),
            None => self.new_incr(filename),
        }
    }

    /// After a rewrite: every incremental file but the last (the one
    /// written since the rewrite began) becomes history.
    pub fn retire_rewritten(&mut self) {
        let keep = self.incr.pop();
        for mut f in self.incr.drain(..).rev() {
            f.kind = b'h';
            self.history.insert(0, f);
        }
        self.incr.extend(keep);
    }
}

fn needs_quotes(s: &str) -> bool {
    s.bytes()
        .any(|b| b == b' ' || b == b'"' || b == b'\'' || b == b'\\' || !(0x21..0x7f).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_manifest_round_trips() {
        // As redis-server 7.0.15 writes it after one rewrite.
        let text = "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base_seq, 2);
        assert_eq!(m.incr_seq, 2);
        assert_eq!(m.format(), text);
    }

    #[test]
    fn a_rewrite_retires_the_old_base_and_increments() {
        let mut m = Manifest::default();
        assert_eq!(
            m.new_base("appendonly.aof", true),
            "appendonly.aof.1.base.rdb"
        );
        assert_eq!(m.last_incr("appendonly.aof"), "appendonly.aof.1.incr.aof");
        m.new_incr("appendonly.aof");
        m.new_base("appendonly.aof", true);
        m.retire_rewritten();
        assert_eq!(
            m.format(),
            // Each file is put at the head of the history as Redis does:
            // the old base first, then the increments.
            "file appendonly.aof.2.base.rdb seq 2 type b\n\
             file appendonly.aof.1.incr.aof seq 1 type h\n\
             file appendonly.aof.1.base.rdb seq 1 type h\n\
             file appendonly.aof.2.incr.aof seq 2 type i\n"
        );
        m.history.clear();
        assert_eq!(Manifest::parse(&m.format()).unwrap(), m);
    }

    #[test]
    fn bad_manifests_are_refused() {
        for bad in [
            "file a seq 1\n",
            "file a seq x type b\n",
            "file a seq 1 type b\nfile b seq 2 type b\n",
            "file a seq 2 type i\nfile b seq 1 type i\n",
            "file a seq 1 type z\n",
        ] {
            assert!(Manifest::parse(bad).is_err(), "{bad}");
        }
        let q = Manifest {
            base: Some(FileInfo {
                name: "has space".into(),
                seq: 1,
                kind: b'b',
            }),
            ..Manifest::default()
        };
        assert_eq!(q.format(), "file \"has space\" seq 1 type b\n");
        assert_eq!(Manifest::parse(&q.format()).unwrap().base, q.base);
    }
}
