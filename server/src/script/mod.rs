//! Lua scripting: EVAL and its cache, FUNCTION libraries, and the
//! libraries Redis gives scripts.

pub mod lualib;
