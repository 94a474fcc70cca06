#!/usr/bin/env bash
# Runs every check soquete has, on a fresh machine: installs what they need
# when it is missing (redis-server, redis-tools and nc from Debian; rustfmt and
# clippy, and the MSRV toolchain, with rustup; cargo-fuzz from crates.io), then
# checks formatting, runs clippy with warnings as errors and the workspace
# tests, builds the published crates with the MSRV, and runs a short smoke of
# every fuzz target. A check that cannot run fails the script: nothing is
# skipped for want of a tool. `.ci/run` runs exactly this.
#
#   FUZZ_SECONDS=20   seconds per fuzz target (0 skips the fuzz smoke)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null || ! command -v redis-benchmark >/dev/null || ! command -v nc >/dev/null; then
    log "installing redis-server, redis-tools and netcat-openbsd (Debian)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools netcat-openbsd >/dev/null
fi
# The Debian package starts a system redis on 6379 where systemd runs; tests never use it
# (every test starts its own servers on ephemeral loopback ports).

# Installs rustup component $2 when `cargo $1` is missing; fails if it still is.
need_component() {
    if ! cargo "$1" --version >/dev/null 2>&1; then
        log "installing $2 (rustup component add $2)"
        rustup component add "$2" || true
    fi
    if ! cargo "$1" --version >/dev/null 2>&1; then
        log "cargo $1 is missing and could not be installed: install the rustup component $2"
        exit 1
    fi
}

need_component fmt rustfmt
log "cargo fmt --check"
cargo fmt --all -- --check
(cd fuzz && cargo fmt -- --check)

need_component clippy clippy
log "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "cargo test --workspace"
cargo test --workspace --all-targets --no-fail-fast
cargo test --workspace --doc
# The client's TLS tests and code need its `tls` feature, which no workspace
# member turns on.
log "soquete-client with all features (TLS)"
cargo clippy -p soquete-client --all-targets --all-features --locked -- -D warnings
cargo test -p soquete-client --all-features --lib --test tls
cargo test -p soquete-client --all-features --doc

# The MSRV (`rust-version` in Cargo.toml) holds for what users build: the
# published crates' libraries and binary, all features, with the locked
# dependencies. Their tests and benches use dev-dependencies that need a newer
# Rust and are built with the default toolchain above.
msrv=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml)
if ! rustup run "$msrv" cargo --version >/dev/null 2>&1; then
    log "installing Rust $msrv (the MSRV) with rustup"
    rustup toolchain install "$msrv" --profile minimal
fi
log "cargo +$msrv check (MSRV)"
cargo +"$msrv" check --locked -p soquete-resp -p soquete-server -p soquete-client --all-features

FUZZ_SECONDS=${FUZZ_SECONDS:-20}

# The seed directories of fuzz target $1, as absolute paths. The codec targets
# start from the golden vectors in resp/testdata (never copies of them): decode
# reads its input as a stream; decode_split and request first read a header (a
# count of chunk sizes, then the sizes), so they get the same files behind the
# header 03 05 01 07 (three chunks: 5, 1 and 7 bytes), written to $2. Then what
# fuzz/seeds/$1 holds that testdata does not: command lines for the command
# target, inputs of crashes the fuzzers found.
fuzz_seeds() {
    local target=$1 scratch=$2 dirs=() dir f
    case $target in
        decode) dirs=(frames malformed) ;;
        decode_split) dirs=(frames) ;;
        request) dirs=(requests malformed) ;;
    esac
    for dir in "${dirs[@]}"; do
        if [ "$target" = decode ]; then
            echo "$PWD/resp/testdata/$dir"
        else
            mkdir -p "$scratch/$target/$dir"
            for f in resp/testdata/"$dir"/*.resp; do
                { printf '\003\005\001\007'; cat "$f"; } >"$scratch/$target/$dir/${f##*/}"
            done
            echo "$scratch/$target/$dir"
        fi
    done
    if [ -d "fuzz/seeds/$target" ]; then echo "$PWD/fuzz/seeds/$target"; fi
}

if [ "$FUZZ_SECONDS" != 0 ] && [ -d fuzz/fuzz_targets ]; then
    if ! cargo fuzz --version >/dev/null 2>&1; then
        log "installing cargo-fuzz"
        cargo install cargo-fuzz --locked
    fi
    export RUSTC_BOOTSTRAP=1
    log "building fuzz targets"
    (cd fuzz && cargo fuzz build -O)
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    for target in $(cd fuzz && cargo fuzz list); do
        log "fuzz smoke: $target (${FUZZ_SECONDS}s)"
        mkdir -p "fuzz/corpus/$target"
        mapfile -t seeds < <(fuzz_seeds "$target" "$scratch")
        out="$scratch/$target.log"
        if ! (cd fuzz && cargo fuzz run -O "$target" "corpus/$target" "${seeds[@]}" -- \
            -max_total_time="$FUZZ_SECONDS" -print_final_stats=1) >"$out" 2>&1; then
            cat "$out"
            log "fuzz target $target FAILED"
            exit 1
        fi
        grep -E '^(stat::number_of_executed_units|Done|INFO: seed corpus)' "$out" || tail -n 3 "$out"
    done
fi
log "all tests passed"
