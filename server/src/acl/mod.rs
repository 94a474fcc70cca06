//! Access control: users, their rules, and the registry of users.
//!
//! # Layout
//!
//! * [`user`]: `User` and `Selector`, and the rules that change them
//!   (Redis 7.0's `ACL SETUSER` grammar, with Redis's error texts).
//! * [`describe`]: the canonical text of a user's rules (ACL LIST, ACL
//!   GETUSER).
//! * [`check`]: whether a user may run a command with given arguments
//!   (ACL DRYRUN today; the per-command check later).
//! * `index`: one bit per command and subcommand of the table.
//!
//! The registry ([`Acl`], in `Shared::acl`) maps names to users, the
//! `default` user always among them. `requirepass` is the default user's
//! password, as in Redis: setting it makes the default user `resetpass
//! >password`, clearing it makes it `nopass`.
//!
//! Not yet enforced: commands, keys and channels are not checked before a
//! command runs (only AUTH and HELLO AUTH consult the registry).

pub mod check;
pub mod describe;
pub(crate) mod index;
pub mod user;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};

pub use check::Denial;
pub use user::{RuleError, Selector, User};

/// The users, by name (sorted by bytes, as Redis's radix tree lists them).
pub struct Acl {
    users: RwLock<BTreeMap<Vec<u8>, Arc<User>>>,
    /// What `requirepass` was last made the default user's password
    /// (`None` before the first time).
    requirepass: RwLock<Option<Option<Vec<u8>>>>,
    /// New connections must authenticate: the default user is off or has
    /// passwords (Redis's `authRequired`). Read once per new connection.
    auth_required: AtomicBool,
}

impl Default for Acl {
    fn default() -> Acl {
        let acl = Acl {
            users: RwLock::new(BTreeMap::new()),
            requirepass: RwLock::new(None),
            auth_required: AtomicBool::new(false),
        };
        acl.put(User::default_user());
        acl
    }
}

impl Acl {
    /// A registry with only the default user, `requirepass` applied.
    pub fn new(requirepass: Option<&[u8]>) -> Acl {
        let acl = Acl::default();
        acl.sync_requirepass(requirepass);
        acl
    }

    /// The users, read-locked.
    pub fn users(&self) -> RwLockReadGuard<'_, BTreeMap<Vec<u8>, Arc<User>>> {
        self.users.read().unwrap_or_else(|p| p.into_inner())
    }

    /// A user by name.
    pub fn get(&self, name: &[u8]) -> Option<Arc<User>> {
        self.users().get(name).cloned()
    }

    /// Adds or replaces a user.
    pub fn put(&self, user: User) {
        if user.name == b"default" {
            self.auth_required
                .store(!user.nopass || !user.enabled, Ordering::Relaxed);
        }
        let mut users = self.users.write().unwrap_or_else(|p| p.into_inner());
        users.insert(user.name.clone(), Arc::new(user));
    }

    /// Removes a user (never `default`); true when it existed.
    pub fn remove(&self, name: &[u8]) -> bool {
        if name == b"default" {
            return false;
        }
        let mut users = self.users.write().unwrap_or_else(|p| p.into_inner());
        users.remove(name).is_some()
    }

    /// Whether a new connection starts unauthenticated.
    pub fn auth_required(&self) -> bool {
        self.auth_required.load(Ordering::Relaxed)
    }

    /// Whether the default user has no password (AUTH with one argument
    /// is then an error).
    pub fn default_nopass(&self) -> bool {
        self.get(b"default").is_some_and(|u| u.nopass)
    }

    /// The user `name` when `password` lets it in.
    pub fn authenticate(&self, name: &[u8], password: &[u8]) -> Option<Arc<User>> {
        self.get(name).filter(|u| u.accepts(password))
    }

    /// Makes `requirepass` the default user's password if it changed
    /// since the last call (Redis's `ACLUpdateDefaultUserPassword`): other
    /// configuration changes leave what ACL SETUSER did to it alone.
    pub fn sync_requirepass(&self, requirepass: Option<&[u8]>) {
        let mut last = self.requirepass.write().unwrap_or_else(|p| p.into_inner());
        if last.as_ref().is_some_and(|l| l.as_deref() == requirepass) {
            return;
        }
        *last = Some(requirepass.map(<[u8]>::to_vec));
        let mut u = (*self
            .get(b"default")
            .unwrap_or_else(|| Arc::new(User::default_user())))
        .clone();
        let _ = u.apply(b"resetpass", false);
        match requirepass {
            Some(p) => {
                let mut op = b">".to_vec();
                op.extend_from_slice(p);
                let _ = u.apply(&op, false);
            }
            None => {
                let _ = u.apply(b"nopass", false);
            }
        }
        self.put(u);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirepass_becomes_the_default_users_password() {
        let acl = Acl::new(Some(b"secret"));
        assert!(acl.auth_required());
        assert!(acl.authenticate(b"default", b"secret").is_some());
        assert!(acl.authenticate(b"default", b"other").is_none());
        acl.sync_requirepass(None);
        assert!(!acl.auth_required());
        assert!(acl.authenticate(b"default", b"anything").is_some());
    }

    #[test]
    fn unchanged_requirepass_keeps_acl_setuser_changes() {
        let acl = Acl::new(None);
        let u = acl
            .get(b"default")
            .unwrap()
            .with_rules(&[b">pw"], false)
            .unwrap();
        acl.put(u);
        acl.sync_requirepass(None);
        assert!(acl.auth_required());
        assert!(!acl.remove(b"default"));
    }
}
