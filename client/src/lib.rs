//! soquete-client (work in progress).
