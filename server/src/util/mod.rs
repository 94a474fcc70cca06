//! Small helpers every layer may use: the key hash, varints,
//! Redis-exact number parsing and formatting, glob matching, process
//! accounting, the open-file limit, random numbers, `sdssplitargs`.

pub mod bits;
pub mod glob;
pub mod hash;
pub mod ldouble;
pub mod num;
pub mod open_files;
pub mod pqsort;
pub mod proc;
pub mod rand;
pub mod split_args;
pub mod varint;
