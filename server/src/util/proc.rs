//! Process accounting from `/proc` (Linux), for INFO.

/// Resident set size in bytes, 0 where unknown.
pub fn rss_bytes() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    s.split_whitespace()
        .nth(1)
        .and_then(|p| p.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// (user, system) CPU seconds used by this process.
pub fn cpu_seconds() -> (f64, f64) {
    stat_cpu_seconds(std::path::Path::new("/proc/self/stat"))
}

/// The `stat` file of the calling thread (`/proc/<pid>/task/<tid>/stat`),
/// to read its CPU time later from any thread with
/// [`stat_cpu_seconds`]; `None` where `/proc/thread-self` is missing.
pub fn thread_stat_path() -> Option<std::path::PathBuf> {
    let task = std::fs::read_link("/proc/thread-self").ok()?;
    Some(std::path::Path::new("/proc").join(task).join("stat"))
}

/// (user, system) CPU seconds from a process's or thread's `stat` file,
/// (0, 0) where it cannot be read. The kernel counts in clock ticks.
pub fn stat_cpu_seconds(path: &std::path::Path) -> (f64, f64) {
    let Ok(s) = std::fs::read_to_string(path) else {
        return (0.0, 0.0);
    };
    // Fields after the command name (which may hold spaces) start at ") ".
    let Some(rest) = s.rfind(')').and_then(|i| s.get(i + 2..)) else {
        return (0.0, 0.0);
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = 100.0; // USER_HZ is 100 on every Linux ABI we run on
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / tick;
    // utime and stime are fields 14 and 15 of stat; 12 and 13 after ") ".
    (get(11), get(12))
}

/// `os:` as INFO shows it, e.g. `Linux 6.1.0 x86_64`.
pub fn os_name() -> String {
    let read = |p: &str| std::fs::read_to_string(p).map(|s| s.trim().to_string());
    let kind = read("/proc/sys/kernel/ostype").unwrap_or_else(|_| std::env::consts::OS.into());
    let rel = read("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{kind} {rel} {}", std::env::consts::ARCH)
}

/// Physical memory of the machine in bytes (`MemTotal`), 0 where unknown.
pub fn total_memory() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/meminfo") else {
        return 0;
    };
    s.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn stat_cpu_fields_are_read_after_a_command_name_with_spaces() {
        let dir = std::env::temp_dir().join(format!("soquete-stat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("stat");
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
        // majflt cmajflt utime stime ...
        std::fs::write(&path, "42 (a b) c) R 1 2 3 4 5 6 7 8 9 10 250 75 0 0\n").unwrap();
        assert_eq!(stat_cpu_seconds(&path), (2.5, 0.75));
        std::fs::write(&path, "42 (truncated").unwrap();
        assert_eq!(stat_cpu_seconds(&path), (0.0, 0.0));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(stat_cpu_seconds(&path), (0.0, 0.0));
    }

    #[test]
    fn a_threads_stat_counts_that_threads_cpu_time() {
        // A thread that spins reads its own CPU time growing through the
        // path it took, which another thread can read too.
        let path = std::thread::spawn(|| {
            let path = thread_stat_path().expect("/proc/thread-self");
            let start = Instant::now();
            let mut x = 0u64;
            loop {
                for i in 0..100_000u64 {
                    x = x.wrapping_mul(31).wrapping_add(i);
                }
                let (user, sys) = stat_cpu_seconds(&path);
                if user + sys >= 0.05 {
                    break;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "no CPU time seen"
                );
            }
            std::hint::black_box(x);
            path
        })
        .join()
        .unwrap();
        let mine = thread_stat_path().expect("/proc/thread-self");
        assert_ne!(path, mine);
        assert!(path.ends_with("stat"));
    }
}
