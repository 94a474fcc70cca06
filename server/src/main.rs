//! `soquete-server [config-file] [--name value ...]`

use std::process::ExitCode;

use soquete_server::config::Config;

/// jemalloc, the allocator Redis ships with. Measured against mimalloc (the
/// allocator before it) on this server, same machine, A B A B:
/// `redis-benchmark -r 100000 -P 16` SET 1.11x, INCR 1.09x, MSET 1.29x,
/// HSET 1.09x the throughput at 0.8x–0.9x the server CPU per request, and
/// less resident memory: 1M strings 117 MiB instead of 134, 10k hashes of
/// 100 fields 50.7 MiB instead of 54 (both allocators round a 4.3 KB packed
/// hash up to a 5 KiB block, but jemalloc's slabs for that size class hold
/// whole blocks where mimalloc's 64 KiB pages leave 6% unused).
/// Background threads purge freed pages, as Redis's `jemalloc-bg-thread yes`
/// does: after loading 1M strings and FLUSHALL, RSS falls from 122 MiB to
/// 15 MiB within seconds (without them it stays at 122 MiB while idle).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const USAGE: &str = "Usage: soquete-server [/path/to/redis.conf] [options] [-]
       soquete-server - (read config from stdin)
       soquete-server -v or --version
       soquete-server -h or --help

Options are redis-server's: any config file directive as --name value.

Examples:
       soquete-server (listen on 127.0.0.1:6379, no config needed)
       soquete-server --port 7777
       soquete-server --port 0 --unixsocket /tmp/soquete.sock
       soquete-server /etc/redis/6379.conf --loglevel verbose
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("-h" | "--help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("-v" | "--version") => {
            println!(
                "soquete-server v={} (Redis-compatible: {})",
                env!("CARGO_PKG_VERSION"),
                soquete_server::REDIS_VERSION
            );
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let config_file = args
        .first()
        .filter(|a| !a.starts_with("--") && a.as_str() != "-")
        .map(std::path::PathBuf::from);
    if let Ok(version) = tikv_jemalloc_ctl::version::read() {
        // "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c": Redis says
        // jemalloc-5.3.0.
        let version = version.split('-').next().unwrap_or(version);
        soquete_server::shared::set_allocator_name(format!("jemalloc-{version}"));
    }
    let config = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match soquete_server::server::serve(config, config_file) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("soquete-server: {e}");
            ExitCode::FAILURE
        }
    }
}
