//! Log lines in redis-server's format: `pid:M 25 Nov 2026 16:50:49.123 * text`.

use std::io::Write;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::LogLevel;

struct Sink {
    level: LogLevel,
    file: Option<std::fs::File>,
}

static SINK: Mutex<Sink> = Mutex::new(Sink {
    level: LogLevel::Notice,
    file: None,
});

/// Sets the level and destination (empty path = standard output).
pub fn init(level: LogLevel, path: &str) -> std::io::Result<()> {
    let file = if path.is_empty() {
        None
    } else {
        Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        )
    };
    let mut s = SINK.lock().unwrap_or_else(|p| p.into_inner());
    s.level = level;
    s.file = file;
    Ok(())
}

/// Changes the level at runtime (CONFIG SET loglevel).
pub fn set_level(level: LogLevel) {
    SINK.lock().unwrap_or_else(|p| p.into_inner()).level = level;
}

/// Writes one line at `level`.
pub fn log(level: LogLevel, msg: &str) {
    let mut s = SINK.lock().unwrap_or_else(|p| p.into_inner());
    if level < s.level {
        return;
    }
    let mark = match level {
        LogLevel::Debug => '.',
        LogLevel::Verbose => '-',
        LogLevel::Notice => '*',
        LogLevel::Warning => '#',
    };
    let line = format!("{}:M {} {mark} {msg}\n", std::process::id(), timestamp());
    let _ = match &mut s.file {
        Some(f) => f.write_all(line.as_bytes()),
        None => std::io::stdout().lock().write_all(line.as_bytes()),
    };
}

/// `25 Nov 2026 16:50:49.123` in UTC.
fn timestamp() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, m, day) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{day:02} {} {y} {:02}:{:02}:{:02}.{:03}",
        MONTHS[(m - 1) as usize],
        t / 3600,
        t / 60 % 60,
        t % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + (m <= 2) as i64;
    (y, m, d)
}

/// Logs at notice level.
#[macro_export]
macro_rules! notice {
    ($($t:tt)*) => { $crate::log::log($crate::config::LogLevel::Notice, &format!($($t)*)) };
}

/// Logs at warning level.
#[macro_export]
macro_rules! warning {
    ($($t:tt)*) => { $crate::log::log($crate::config::LogLevel::Warning, &format!($($t)*)) };
}

/// Logs at verbose level.
#[macro_export]
macro_rules! verbose {
    ($($t:tt)*) => { $crate::log::log($crate::config::LogLevel::Verbose, &format!($($t)*)) };
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_417), (2025, 11, 25));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
