//! CLIENT PAUSE: the server-wide pause every event loop reads.
//!
//! The dispatch path reads one relaxed atomic ([`Pause::active`]) per
//! command; only while a pause is set does it look further (the kind, the
//! end time, the command's flags). A held command stays in its client's
//! input and runs again when the pause ends: each loop keeps its held
//! clients and wakes them on CLIENT UNPAUSE (a message to every loop) or
//! at the pause's end time.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;

/// What a pause holds, least restrictive first (Redis's `pause_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum PauseKind {
    /// No pause.
    Off = 0,
    /// Commands that write or may replicate (PUBLISH, EVAL...) wait.
    Write = 1,
    /// Every command of a normal client waits.
    All = 2,
}

impl PauseKind {
    fn from_u8(v: u8) -> PauseKind {
        match v {
            0 => PauseKind::Off,
            1 => PauseKind::Write,
            _ => PauseKind::All,
        }
    }
}

/// The server's pause state: a kind and an end time (Unix ms; the pause
/// holds while the clock is at or before it, as Redis's `end < mstime`).
#[derive(Debug, Default)]
pub struct Pause {
    kind: AtomicU8,
    end: AtomicU64,
    /// Serialises the writers (pause, unpause, expiry), which read and
    /// write both fields.
    write: Mutex<()>,
}

impl Pause {
    /// True when a pause may be in force (it may also have just expired):
    /// the dispatch path's one cheap test.
    #[inline(always)]
    pub fn active(&self) -> bool {
        self.kind.load(Ordering::Relaxed) != 0
    }

    /// The pause in force at `now_ms`; an expired pause is cleared.
    pub fn current(&self, now_ms: u64) -> PauseKind {
        let kind = PauseKind::from_u8(self.kind.load(Ordering::Acquire));
        if kind == PauseKind::Off || now_ms <= self.end.load(Ordering::Acquire) {
            return kind;
        }
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        if now_ms > self.end.load(Ordering::Acquire) {
            self.kind.store(0, Ordering::Release);
            crate::db::HOLD_EXPIRED.store(false, Ordering::Relaxed);
            return PauseKind::Off;
        }
        PauseKind::from_u8(self.kind.load(Ordering::Acquire))
    }

    /// When the pause in force ends (Unix ms), if one is.
    pub fn end_ms(&self) -> Option<u64> {
        self.active().then(|| self.end.load(Ordering::Acquire))
    }

    /// CLIENT PAUSE: pauses until `end_ms`. A pause already in force
    /// keeps the more restrictive kind and the later end, as Redis's
    /// `pauseClients`.
    pub fn pause(&self, now_ms: u64, end_ms: u64, kind: PauseKind) {
        let current = self.current(now_ms);
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let (kind, end) = if current == PauseKind::Off {
            (kind, end_ms)
        } else {
            (
                kind.max(PauseKind::from_u8(self.kind.load(Ordering::Acquire))),
                end_ms.max(self.end.load(Ordering::Acquire)),
            )
        };
        self.end.store(end, Ordering::Release);
        self.kind.store(kind as u8, Ordering::Release);
        crate::db::HOLD_EXPIRED.store(true, Ordering::Relaxed);
    }

    /// CLIENT UNPAUSE. True when a pause was in force.
    pub fn unpause(&self) -> bool {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        crate::db::HOLD_EXPIRED.store(false, Ordering::Relaxed);
        self.kind.swap(0, Ordering::Release) != 0
    }

    /// Whether a command must wait now: every command under `All`; under
    /// `Write`, those that write or may replicate.
    pub fn holds(&self, now_ms: u64, may_replicate: impl FnOnce() -> bool) -> bool {
        match self.current(now_ms) {
            PauseKind::Off => false,
            PauseKind::All => true,
            PauseKind::Write => may_replicate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_keeps_the_stricter_kind_and_the_later_end() {
        let p = Pause::default();
        assert!(!p.active());
        p.pause(1000, 5000, PauseKind::All);
        p.pause(1000, 2000, PauseKind::Write);
        assert_eq!(p.current(4000), PauseKind::All);
        assert_eq!(p.end_ms(), Some(5000));
        p.pause(1000, 9000, PauseKind::Write);
        assert_eq!(p.current(8000), PauseKind::All);
    }

    #[test]
    fn a_pause_ends_after_its_end_time_and_with_unpause() {
        let p = Pause::default();
        p.pause(0, 100, PauseKind::Write);
        assert!(p.holds(100, || true));
        assert!(!p.holds(100, || false));
        assert!(!p.holds(101, || true));
        assert!(!p.active(), "an expired pause is cleared");
        p.pause(0, 100, PauseKind::All);
        assert!(p.unpause());
        assert!(!p.unpause());
        assert_eq!(p.current(50), PauseKind::Off);
    }

    #[test]
    fn an_expired_pause_does_not_carry_into_a_new_one() {
        let p = Pause::default();
        p.pause(0, 100, PauseKind::All);
        p.pause(200, 300, PauseKind::Write);
        assert_eq!(p.current(250), PauseKind::Write);
        assert_eq!(p.end_ms(), Some(300));
    }
}
