//! Small pure helpers: Redis-exact number parsing and formatting, glob
//! matching, process accounting, random numbers.

pub mod glob;
pub mod ldouble;
pub mod num;
pub mod proc;
pub mod rand;
