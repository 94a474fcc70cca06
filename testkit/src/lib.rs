//! Test support for soquete (work in progress).
