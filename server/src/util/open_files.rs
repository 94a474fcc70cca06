//! The open-file limit, fitted to `maxclients` as Redis fits it: every
//! client takes a descriptor, and [`RESERVED`] more are kept for listeners,
//! event loops, logs and files. When the soft limit is too low it is raised
//! as far as the system allows; when that is not far enough, `maxclients`
//! is lowered to what the limit leaves, so that a client past it gets
//! `-ERR max number of clients reached` instead of a connection nobody
//! accepts.

use std::io;

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Descriptors kept for everything but clients (Redis's
/// `CONFIG_MIN_RESERVED_FDS`).
pub const RESERVED: u64 = 32;

/// What fitting the limit to a `maxclients` came to.
#[derive(Debug)]
pub enum Fit {
    /// The limit allows `maxclients` clients: it already did, or it was
    /// raised from `raised_from` to `limit`.
    Fits {
        /// The soft limit before, when it had to be raised.
        raised_from: Option<u64>,
        /// The soft limit now.
        limit: u64,
    },
    /// The limit could only be raised to `limit`: `maxclients` must come
    /// down to `maxclients`.
    Reduced {
        /// The `maxclients` the limit leaves room for.
        maxclients: usize,
        /// The soft limit now.
        limit: u64,
        /// Why it could not be raised further.
        error: io::Error,
    },
    /// Not even the reserved descriptors fit: the server cannot run.
    TooFew {
        /// The soft limit.
        limit: u64,
    },
}

/// Descriptors `maxclients` clients need.
pub fn needed(maxclients: usize) -> u64 {
    maxclients as u64 + RESERVED
}

/// Fits this process's open-file limit to `maxclients` (raising it when it
/// can).
pub fn fit(maxclients: usize) -> Fit {
    let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
    // `None` is "unlimited".
    let soft = current.unwrap_or(u64::MAX);
    let hard = maximum.unwrap_or(u64::MAX);
    fit_with(maxclients, soft, |limit| {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(limit),
                maximum: Some(hard.max(limit)),
            },
        )
        .map_err(io::Error::from)
    })
}

/// [`fit`] over a soft limit `soft` and a way to set it: the highest value
/// `set` accepts between `soft` and what `maxclients` needs, found with a
/// few tries (a raise up to the hard limit always succeeds, one past it
/// only with privilege and below the system's ceiling).
fn fit_with(maxclients: usize, soft: u64, mut set: impl FnMut(u64) -> io::Result<()>) -> Fit {
    let needed = needed(maxclients);
    if soft >= needed {
        return Fit::Fits {
            raised_from: None,
            limit: soft,
        };
    }
    let error = match set(needed) {
        Ok(()) => {
            return Fit::Fits {
                raised_from: Some(soft),
                limit: needed,
            }
        }
        Err(e) => e,
    };
    // `lo` is in force (or the original limit), `hi` was refused. Every
    // success raises `lo`, so the last one set is the limit in force.
    let (mut lo, mut hi) = (soft, needed);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if set(mid).is_ok() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    if lo <= RESERVED {
        return Fit::TooFew { limit: lo };
    }
    Fit::Reduced {
        maxclients: (lo - RESERVED) as usize,
        limit: lo,
        error,
    }
}

/// An OS error as `strerror` words it, without Rust's `(os error N)`.
pub fn describe(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process whose limit may be set up to `ceiling`; counts the tries.
    fn system(ceiling: u64, tries: &mut u32) -> impl FnMut(u64) -> io::Result<()> + '_ {
        move |limit| {
            *tries += 1;
            if limit <= ceiling {
                Ok(())
            } else {
                Err(io::Error::from_raw_os_error(1))
            }
        }
    }

    #[test]
    fn a_limit_that_suffices_is_left_alone() {
        let mut tries = 0;
        let fit = fit_with(10_000, 10_032, system(0, &mut tries));
        assert!(matches!(
            fit,
            Fit::Fits {
                raised_from: None,
                limit: 10_032
            }
        ));
        assert_eq!(tries, 0);
    }

    #[test]
    fn a_low_soft_limit_is_raised_to_what_maxclients_needs() {
        let mut tries = 0;
        let fit = fit_with(10_000, 1024, system(1 << 20, &mut tries));
        assert!(matches!(
            fit,
            Fit::Fits {
                raised_from: Some(1024),
                limit: 10_032
            }
        ));
        assert_eq!(tries, 1);
    }

    #[test]
    fn maxclients_comes_down_to_what_the_ceiling_leaves() {
        // `ulimit -n 256` without the privilege to raise it: Redis's 224.
        let mut tries = 0;
        match fit_with(10_000, 256, system(256, &mut tries)) {
            Fit::Reduced {
                maxclients,
                limit,
                error,
            } => {
                assert_eq!((maxclients, limit), (224, 256));
                assert_eq!(describe(&error), "Operation not permitted");
            }
            other => panic!("{other:?}"),
        }
        assert!(tries < 20, "{tries} tries");
        // A ceiling above the soft limit (the hard one) is reached exactly.
        let mut tries = 0;
        match fit_with(10_000, 256, system(4096, &mut tries)) {
            Fit::Reduced {
                maxclients, limit, ..
            } => assert_eq!((maxclients, limit), (4064, 4096)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn too_few_descriptors_for_the_reserved_ones_cannot_run() {
        let mut tries = 0;
        assert!(matches!(
            fit_with(10_000, 20, system(20, &mut tries)),
            Fit::TooFew { limit: 20 }
        ));
    }
}
