//! Reads criterion's results (`<target>/criterion/**/new/{benchmark,estimates}.json`)
//! so the summary can quote the client and codec benches beside the server's.

use std::fs;
use std::path::Path;

use serde::Deserialize;

/// One criterion benchmark's identity and median time.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// `benchmark_group` name, e.g. `client_blocking`.
    pub group: String,
    /// Function id, e.g. `get/depth-16` or `soquete RequestDecoder`.
    pub function: String,
    /// Parameter, e.g. `soquete` / `redis-rs`; `None` without one.
    pub value: Option<String>,
    /// Median time per iteration in nanoseconds (criterion's point estimate).
    pub median_ns: f64,
}

#[derive(Deserialize)]
struct Benchmark {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
}

#[derive(Deserialize)]
struct Estimates {
    median: Estimate,
}

/// Every benchmark under `dir` (criterion's output directory), sorted by id.
/// Missing or unreadable entries are skipped: a partial run still summarises.
pub fn read_all(dir: &Path) -> Vec<Entry> {
    let mut out = Vec::new();
    walk(dir, 0, &mut out);
    out.sort_by(|a, b| (&a.group, &a.function, &a.value).cmp(&(&b.group, &b.function, &b.value)));
    out
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<Entry>) {
    if depth > 6 {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            if let Some(entry) = read_entry(&path) {
                out.push(entry);
            }
        } else if path
            .file_name()
            .is_some_and(|n| n != "report" && n != "base")
        {
            walk(&path, depth + 1, out);
        }
    }
}

fn read_entry(new_dir: &Path) -> Option<Entry> {
    let b: Benchmark =
        serde_json::from_str(&fs::read_to_string(new_dir.join("benchmark.json")).ok()?).ok()?;
    let e: Estimates =
        serde_json::from_str(&fs::read_to_string(new_dir.join("estimates.json")).ok()?).ok()?;
    Some(Entry {
        group: b.group_id,
        function: b.function_id.unwrap_or_default(),
        value: b.value_str,
        median_ns: e.median.point_estimate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, group: &str, function: &str, value: Option<&str>, ns: f64) {
        let d = dir.join(rel).join("new");
        fs::create_dir_all(&d).unwrap();
        let value = value.map_or("null".to_owned(), |v| format!("{v:?}"));
        fs::write(
            d.join("benchmark.json"),
            format!(
                r#"{{"group_id":{group:?},"function_id":{function:?},"value_str":{value},"throughput":null,"full_id":"x","directory_name":"x","title":"x"}}"#
            ),
        )
        .unwrap();
        fs::write(
            d.join("estimates.json"),
            format!(
                r#"{{"mean":{{"point_estimate":1.0}},"median":{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0}},"point_estimate":{ns},"standard_error":0.1}}}}"#
            ),
        )
        .unwrap();
    }

    #[test]
    fn reads_nested_entries_and_ignores_reports() {
        let tmp = std::env::temp_dir().join(format!("soquete-crit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        write(
            &tmp,
            "client_blocking/get_depth-1/soquete",
            "client_blocking",
            "get/depth-1",
            Some("soquete"),
            10.0,
        );
        write(
            &tmp,
            "request_pipeline_decode/memchr_crlf",
            "request_pipeline/decode",
            "memchr_crlf",
            None,
            5.5,
        );
        fs::create_dir_all(tmp.join("report")).unwrap();
        let all = read_all(&tmp);
        fs::remove_dir_all(&tmp).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].group, "client_blocking");
        assert_eq!(all[0].value.as_deref(), Some("soquete"));
        assert_eq!(all[1].function, "memchr_crlf");
        assert_eq!(all[1].median_ns, 5.5);
        assert_eq!(read_all(Path::new("/nonexistent/criterion")), vec![]);
    }
}
