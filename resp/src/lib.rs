//! soquete-resp: RESP2 + RESP3 codec (work in progress).
