//! Shared helpers for the soquete benches.
