//! soquete-server (work in progress).
