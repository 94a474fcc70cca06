//! Process accounting read from `/proc` (Linux): CPU time, resident memory, and
//! which TCP ports a process listens on.

use std::fs;
use std::io;
use std::time::Duration;

/// CPU time and resident memory of one process at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// User plus system CPU time consumed so far (`utime + stime` of `/proc/<pid>/stat`).
    pub cpu: Duration,
    /// Resident set size in bytes (`VmRSS` of `/proc/<pid>/status`).
    pub rss_bytes: u64,
}

/// Reads [`Usage`] for `pid`.
pub fn usage(pid: u32) -> io::Result<Usage> {
    Ok(Usage {
        cpu: cpu_time(pid)?,
        rss_bytes: rss_bytes(pid)?,
    })
}

/// User plus system CPU time that `pid` has consumed (`utime + stime` of `/proc/<pid>/stat`).
///
/// The resolution is one clock tick (usually 10 ms), so measure over runs that take far longer.
pub fn cpu_time(pid: u32) -> io::Result<Duration> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let ticks = parse_stat_cpu_ticks(&stat)
        .ok_or_else(|| bad_data(format!("cannot parse /proc/{pid}/stat: {stat:?}")))?;
    Ok(ticks_to_duration(ticks, clock_ticks_per_second()))
}

/// Resident set size of `pid` in bytes (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_bytes(pid: u32) -> io::Result<u64> {
    status_bytes(pid, "VmRSS")
}

/// The largest resident set size `pid` has had (`VmHWM` of
/// `/proc/<pid>/status`), since it started or since [`reset_peak_rss`].
pub fn peak_rss_bytes(pid: u32) -> io::Result<u64> {
    status_bytes(pid, "VmHWM")
}

/// Restarts `pid`'s peak resident set size from its current one (writes 5
/// to `/proc/<pid>/clear_refs`), so that [`peak_rss_bytes`] measures what
/// comes next.
pub fn reset_peak_rss(pid: u32) -> io::Result<()> {
    fs::write(format!("/proc/{pid}/clear_refs"), "5")
}

/// A size field of `/proc/<pid>/status`, in bytes.
fn status_bytes(pid: u32, field: &str) -> io::Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_status_field(&status, field)
        .ok_or_else(|| bad_data(format!("no {field} line in /proc/{pid}/status")))
}

/// True when `pid` holds a socket listening on TCP `port` (IPv4 or IPv6).
///
/// Matches the inodes of listening sockets in `/proc/net/tcp{,6}` against the
/// process's open file descriptors, so a server that failed to bind cannot be
/// mistaken for the one that holds the port.
pub fn listens_on(pid: u32, port: u16) -> bool {
    tcp_listen_ports(pid).contains(&port)
}

/// The TCP ports on which `pid` holds a listening socket (IPv4 or IPv6; a
/// port on both appears twice), from `/proc/<pid>/net/tcp{,6}` matched
/// against the process's open file descriptors.
pub fn tcp_listen_ports(pid: u32) -> Vec<u16> {
    let mut listening = Vec::new();
    for table in ["tcp", "tcp6"] {
        if let Ok(text) = fs::read_to_string(format!("/proc/{pid}/net/{table}")) {
            listening.extend(listening_sockets(&text));
        }
    }
    if listening.is_empty() {
        return Vec::new();
    }
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    let owned: Vec<u64> = fds
        .flatten()
        .filter_map(|fd| {
            let target = fs::read_link(fd.path()).ok()?;
            let target = target.to_string_lossy().into_owned();
            let inode = target.strip_prefix("socket:[")?.strip_suffix(']')?;
            inode.parse().ok()
        })
        .collect();
    listening
        .into_iter()
        .filter(|(_, inode)| owned.contains(inode))
        .map(|(port, _)| port)
        .collect()
}

fn bad_data(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf has no preconditions; it only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as u64
    } else {
        100
    }
}

fn ticks_to_duration(ticks: u64, hz: u64) -> Duration {
    Duration::from_secs(ticks / hz) + Duration::from_nanos((ticks % hz) * 1_000_000_000 / hz)
}

/// `utime + stime` in clock ticks. The command name (field 2) may hold spaces and
/// parentheses, so fields are counted from after its last `)`.
fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name: field 3 (state) is index 0, so utime (14) is index 11, stime (15) index 12.
    let mut fields = rest.split_ascii_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn parse_status_field(status: &str, field: &str) -> Option<u64> {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?;
    let mut parts = line.split_ascii_whitespace();
    let value: u64 = parts.next()?.parse().ok()?;
    let scale = match parts.next() {
        Some("kB") | None => 1024,
        Some("mB") => 1024 * 1024,
        Some(_) => return None,
    };
    Some(value * scale)
}

/// `(port, inode)` of every socket in LISTEN state (`0A`) in a `/proc/net/tcp`
/// style table.
fn listening_sockets(table: &str) -> Vec<(u16, u64)> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_ascii_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let (_, port) = f.get(1)?.rsplit_once(':')?;
            if *f.get(3)? != "0A" {
                return None;
            }
            Some((u16::from_str_radix(port, 16).ok()?, f.get(9)?.parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_cpu_ticks_skip_a_name_with_spaces_and_parens() {
        let stat =
            "4242 (redis (x) y) S 1 4242 4242 0 -1 4194560 300 0 0 0 17 5 0 0 20 0 5 0 1 2 3";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(22));
    }

    #[test]
    fn stat_cpu_ticks_reject_truncated_lines() {
        assert_eq!(parse_stat_cpu_ticks("1 (x) S 1 2 3"), None);
        assert_eq!(parse_stat_cpu_ticks("no paren"), None);
    }

    #[test]
    fn status_sizes_are_in_bytes() {
        let status =
            "Name:\tredis\nVmPeak:\t  1 kB\nVmHWM:\t    9000 kB\nVmRSS:\t    8312 kB\nThreads: 5\n";
        assert_eq!(parse_status_field(status, "VmRSS"), Some(8312 * 1024));
        assert_eq!(parse_status_field(status, "VmHWM"), Some(9000 * 1024));
        assert_eq!(parse_status_field("Name: x\n", "VmRSS"), None);
    }

    #[test]
    fn ticks_convert_exactly() {
        assert_eq!(ticks_to_duration(250, 100), Duration::from_millis(2500));
        assert_eq!(ticks_to_duration(1, 3), Duration::from_nanos(333_333_333));
    }

    #[test]
    fn listening_sockets_are_those_in_listen_state() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0 100 0 0 10 0\n\
   1: 0100007F:1F90 0100007F:C000 01 00000000:00000000 00:00000000 00000000  1000        0 222 1 0 100 0 0 10 0\n\
   2: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 333 1 0 100 0 0 10 0\n";
        assert_eq!(listening_sockets(table), vec![(0x1F90, 111), (0x1F91, 333)]);
    }

    #[test]
    fn own_process_reports_cpu_and_rss() {
        let u = usage(std::process::id()).unwrap();
        assert!(u.rss_bytes > 0);
        // Burn a little CPU so the counter is not trivially zero on a fresh process.
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        assert!(cpu_time(std::process::id()).unwrap() > Duration::ZERO);
    }

    #[test]
    fn own_listener_is_recognised() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(listens_on(std::process::id(), port));
        assert!(tcp_listen_ports(std::process::id()).contains(&port));
        drop(l);
        assert!(!listens_on(std::process::id(), port));
    }
}
