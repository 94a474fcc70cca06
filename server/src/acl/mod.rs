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
//! * [`log`]: the ACL LOG.
//! * [`file`]: the ACL file (`aclfile`, ACL LOAD / SAVE) and the
//!   configuration file's `user` lines.
//!
//! The registry ([`Acl`], in `Shared::acl`) maps names to users, the
//! `default` user always among them. `requirepass` is the default user's
//! password, as in Redis: setting it makes the default user `resetpass
//! >password`, clearing it makes it `nopass`.
//!
//! # Enforcement
//!
//! Every command a client sends is checked against its user's rules
//! before it runs (`cmd::dispatch`), again when EXEC runs it, and when a
//! script calls it. A client keeps its user in a [`ClientAcl`]: the rules
//! as they were when it last looked, and the registry's version then. Any
//! change to any user bumps the version, and a client whose version is old
//! looks its user up again before its next command, so ACL SETUSER takes
//! effect at once on every connection, as Redis's in-place edit does. The
//! common case costs one atomic load and two tests: the version did not
//! move and the user may run everything (the default user, `+@all ~* &*`),
//! so the arguments are never looked at.

pub mod check;
pub mod describe;
pub mod file;
pub(crate) mod index;
pub mod log;
pub mod user;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

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
    /// Bumped by every change to the users (never 0, which a
    /// [`ClientAcl`] uses for "look again").
    version: AtomicU64,
    /// The ACL LOG.
    log: Mutex<log::Log>,
}

impl Default for Acl {
    fn default() -> Acl {
        let acl = Acl {
            users: RwLock::new(BTreeMap::new()),
            requirepass: RwLock::new(None),
            auth_required: AtomicBool::new(false),
            version: AtomicU64::new(1),
            log: Mutex::new(log::Log::default()),
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
        self.version.fetch_add(1, Ordering::Release);
    }

    /// Removes a user (never `default`); true when it existed.
    pub fn remove(&self, name: &[u8]) -> bool {
        if name == b"default" {
            return false;
        }
        let mut users = self.users.write().unwrap_or_else(|p| p.into_inner());
        let removed = users.remove(name).is_some();
        self.version.fetch_add(1, Ordering::Release);
        removed
    }

    /// Replaces every user with `users` (ACL LOAD), which must hold
    /// `default`; one without it keeps the current default user.
    pub fn replace_all(&self, mut users: BTreeMap<Vec<u8>, User>) {
        let default = users.remove(&b"default"[..]).unwrap_or_else(|| {
            (*self
                .get(b"default")
                .unwrap_or_else(|| Arc::new(User::default_user())))
            .clone()
        });
        self.auth_required
            .store(!default.nopass || !default.enabled, Ordering::Relaxed);
        let mut all: BTreeMap<Vec<u8>, Arc<User>> =
            users.into_iter().map(|(k, u)| (k, Arc::new(u))).collect();
        all.insert(b"default".to_vec(), Arc::new(default));
        *self.users.write().unwrap_or_else(|p| p.into_inner()) = all;
        self.version.fetch_add(1, Ordering::Release);
    }

    /// The registry's version: it moves whenever a user changes.
    #[inline]
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// The ACL LOG, locked.
    pub fn log(&self) -> MutexGuard<'_, log::Log> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
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

/// The user a client runs its commands as (see the module docs).
#[derive(Debug, Default)]
pub struct ClientAcl {
    /// The user's rules; `None` once the user is gone (its clients are
    /// being closed) or before the first look.
    user: Option<Arc<User>>,
    /// The registry's version when `user` was read; 0: read again.
    version: u64,
    /// The user may run everything: nothing to check.
    open: bool,
    /// Never checked: the client that replays the append-only log (Redis's
    /// AOF client has no user).
    exempt: bool,
}

impl ClientAcl {
    /// A client never checked (the append-only log's replayer).
    pub fn exempt() -> ClientAcl {
        ClientAcl {
            exempt: true,
            ..ClientAcl::default()
        }
    }

    /// Forgets the cached user: AUTH, HELLO AUTH and RESET changed it.
    pub fn reload(&mut self) {
        self.version = 0;
    }

    /// Whether the client's user (named by `name`, asked only when the
    /// registry changed) may run `spec` (command id `id`) with `argv`.
    #[inline]
    pub fn check(
        &mut self,
        acl: &Acl,
        name: impl FnOnce() -> Vec<u8>,
        spec: &crate::cmd::Spec,
        id: u16,
        argv: &[&[u8]],
    ) -> Result<(), Denial> {
        let version = acl.version();
        if version != self.version {
            self.refresh(acl, &name(), version);
        }
        if self.open || self.exempt {
            return Ok(());
        }
        match &self.user {
            Some(u) => u.check(spec, id, argv),
            None => Err(Denial::Command),
        }
    }

    /// True when nothing this client runs is checked (its user may run
    /// everything, or it is exempt), as of the last [`Self::check`].
    pub fn unrestricted(&self) -> bool {
        self.open || self.exempt
    }

    /// Whether the user may read any key with `argv` (SORT's BY and GET
    /// patterns; see [`User::reads_any_key`]). Asked after [`Self::check`]
    /// let the command run.
    pub fn reads_any_key(&self, spec: &crate::cmd::Spec, id: u16, argv: &[&[u8]]) -> bool {
        self.open
            || self.exempt
            || self
                .user
                .as_ref()
                .is_some_and(|u| u.reads_any_key(spec, id, argv))
    }

    #[cold]
    fn refresh(&mut self, acl: &Acl, name: &[u8], version: u64) {
        self.user = acl.get(name);
        self.open = self.user.as_ref().is_some_and(|u| u.allows_everything());
        self.version = version;
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

    fn spec(name: &str) -> (&'static crate::cmd::Spec, u16) {
        let i = crate::cmd::lookup_index(name.as_bytes()).unwrap();
        (
            crate::cmd::table::commands()[i],
            crate::cmd::table::command_id(i, None),
        )
    }

    #[test]
    fn a_client_sees_its_users_new_rules_at_its_next_command() {
        let acl = Acl::new(None);
        acl.put(
            User::new(b"app", false)
                .with_rules(&[&b"on"[..], b"nopass", b"~app:*", b"+get"], false)
                .unwrap(),
        );
        let mut client = ClientAcl::default();
        let name = || b"app".to_vec();
        let (get, get_id) = spec("get");
        let (set, set_id) = spec("set");
        let get_k = [&b"get"[..], b"app:1"];
        let set_k = [&b"set"[..], b"app:1", b"v"];
        assert_eq!(client.check(&acl, name, get, get_id, &get_k), Ok(()));
        assert!(!client.unrestricted());
        assert_eq!(
            client.check(&acl, name, set, set_id, &set_k),
            Err(Denial::Command)
        );
        assert_eq!(
            client.check(&acl, name, get, get_id, &[b"get", b"other"]),
            Err(Denial::Key(1))
        );
        let widened = acl
            .get(b"app")
            .unwrap()
            .with_rules(&[b"+@all", b"allkeys", b"allchannels"], false);
        acl.put(widened.unwrap());
        assert_eq!(client.check(&acl, name, set, set_id, &set_k), Ok(()));
        assert!(client.unrestricted());
        // A deleted user's client may run nothing while it is closed.
        assert!(acl.remove(b"app"));
        assert_eq!(
            client.check(&acl, name, get, get_id, &get_k),
            Err(Denial::Command)
        );
        let mut replayer = ClientAcl::exempt();
        assert_eq!(replayer.check(&acl, name, get, get_id, &get_k), Ok(()));
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
