//! `soquete-server [config-file] [--name value ...]`

use std::process::ExitCode;

use soquete_server::config::Config;

/// mimalloc: no per-allocation header and fine size classes (a key's table
/// node is one 80-byte allocation, not a 96-byte glibc chunk), and much
/// cheaper frees across threads than glibc malloc — both measured on the
/// SET/MSET path, where glibc's free was 8% of the server's CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
