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
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    // Fields after the command name (which may hold spaces) start at ") ".
    let Some(rest) = s.rfind(')').map(|i| &s[i + 2..]) else {
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
