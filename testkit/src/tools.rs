//! External tools (`redis-cli`, `redis-benchmark`, `nc`, the server binary
//! itself) run to completion with a deadline, so that a tool that hangs
//! fails the test instead of hanging it.

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd` with `stdin` fed to it and collects its output.
///
/// # Panics
///
/// When `cmd` cannot be started (the message names it: install the tool),
/// or when it runs longer than `timeout` (it is killed first).
///
/// ```
/// use std::process::Command;
/// use std::time::Duration;
/// let out = soquete_testkit::tools::run_with_timeout(Command::new("cat"), b"hi", Duration::from_secs(10));
/// assert_eq!(out.stdout, b"hi");
/// ```
pub fn run_with_timeout(mut cmd: Command, stdin: &[u8], timeout: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut input = child.stdin.take().expect("piped stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The tool may exit before reading everything (an error): not ours to judge.
        let _ = input.write_all(&data);
    });
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}
