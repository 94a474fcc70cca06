//! Users kept outside the server: the ACL file (`aclfile`, ACL LOAD, ACL
//! SAVE) and the `user` lines of the configuration file, as Redis 7.0.15
//! reads and writes them (`ACLLoadFromFile`, `ACLSaveToFile`,
//! `ACLAppendUserForLoading`, `ACLLoadConfiguredUsers`), with its texts.
//!
//! # Format
//!
//! One user a line, `user <name> <rule> ...`, as ACL LIST shows it. In the
//! ACL file the words are split on single spaces (no quoting), `user` is
//! lower case, blank lines are skipped and anything else (comments too) is
//! an error. Every error of the file is collected in one line; when there
//! is one, nothing is loaded. A file that does not define `default` gets
//! a fresh one (`on nopass ~* &* +@all`), whatever `requirepass` says.
//!
//! In the configuration file, `user` lines are split as every other line
//! (quotes work) and checked when read (a bad rule stops the server with
//! the usual "FATAL CONFIG FILE ERROR"), except unknown commands, which
//! are found when the users are made, after the whole file is read.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use super::describe;
use super::user::{has_spaces, merge_selectors, RuleError, User};

/// The text ACL LIST shows for a user: `user <name> <rules>`.
pub fn user_line(u: &User) -> Vec<u8> {
    let mut line = b"user ".to_vec();
    line.extend_from_slice(&u.name);
    line.push(b' ');
    line.extend_from_slice(&describe::user(u));
    line
}

/// The text ACL SAVE writes: every user's line, each ended by `\n`.
pub fn file_text<'a>(users: impl IntoIterator<Item = &'a User>) -> Vec<u8> {
    let mut text = Vec::new();
    for u in users {
        text.extend_from_slice(&user_line(u));
        text.push(b'\n');
    }
    text
}

/// What Redis keeps of a file it reads with `fgets` into C strings: each
/// chunk (a line, or 1023 bytes of a longer one) up to its first NUL.
fn as_c_reads(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while !rest.is_empty() {
        let line_end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let take = line_end.min(1023);
        let chunk = &rest[..take];
        out.extend_from_slice(chunk.split(|&b| b == 0).next().unwrap_or_default());
        rest = &rest[take..];
    }
    out
}

fn trim<'a>(s: &'a [u8], set: &[u8]) -> &'a [u8] {
    let start = s.iter().position(|b| !set.contains(b)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !set.contains(b))
        .map_or(start, |i| i + 1);
    &s[start..end]
}

/// Reads the users of an ACL file's text (`filename` is how errors name
/// the file). The error is Redis's one line listing every problem.
pub fn parse(
    bytes: &[u8],
    filename: &str,
    pubsub_all: bool,
) -> Result<BTreeMap<Vec<u8>, User>, Vec<u8>> {
    let text = as_c_reads(bytes);
    let mut users: BTreeMap<Vec<u8>, User> = BTreeMap::new();
    let mut errors: Vec<u8> = Vec::new();
    let lines: Vec<&[u8]> = if text.is_empty() {
        Vec::new()
    } else {
        text.split(|&b| b == b'\n').collect()
    };
    for (i, line) in lines.into_iter().enumerate() {
        let linenum = i + 1;
        let line = trim(line, b" \t\r\n");
        if line.is_empty() {
            continue;
        }
        let argv: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        if argv[0] != b"user" || argv.len() < 2 {
            errors.extend_from_slice(
                format!("{filename}:{linenum} should start with user keyword followed by the username. ")
                    .as_bytes(),
            );
            continue;
        }
        let name = argv[1];
        if has_spaces(name) {
            errors.extend_from_slice(format!("'{filename}:{linenum}: username '").as_bytes());
            errors.extend_from_slice(name);
            errors.extend_from_slice(b"' contains invalid characters. ");
            continue;
        }
        if users.contains_key(name) {
            errors.extend_from_slice(b"WARNING: Duplicate user '");
            errors.extend_from_slice(name);
            errors.extend_from_slice(format!("' found on line {linenum}. ").as_bytes());
            continue;
        }
        // The user exists from here on, whatever its rules say (a later
        // line with the same name is a duplicate).
        let mut user = User::new(name, pubsub_all);
        let merged = match merge_selectors(&argv[2..]) {
            Ok(m) => m,
            Err(_) => {
                errors.extend_from_slice(
                    format!("{filename}:{linenum}: Unmatched parenthesis in selector definition.")
                        .as_bytes(),
                );
                Vec::new()
            }
        };
        let mut syntax_error = false;
        for op in &merged {
            let op = trim(op, b"\t\r\n");
            match user.apply(op, pubsub_all) {
                Ok(()) => {}
                Err(RuleError::UnknownCommand) => {
                    errors.extend_from_slice(
                        format!("{filename}:{linenum}: Error in applying operation '").as_bytes(),
                    );
                    errors.extend_from_slice(op);
                    errors.extend_from_slice(b"': ");
                    errors.extend_from_slice(RuleError::UnknownCommand.text().as_bytes());
                    errors.extend_from_slice(b". ");
                }
                Err(e) if !syntax_error => {
                    errors.extend_from_slice(
                        format!("{filename}:{linenum}: {}. ", e.text()).as_bytes(),
                    );
                    syntax_error = true;
                }
                Err(_) => {}
            }
        }
        users.insert(name.to_vec(), user);
    }
    if errors.is_empty() {
        users
            .entry(b"default".to_vec())
            .or_insert_with(User::default_user);
        Ok(users)
    } else {
        errors.extend_from_slice(
            b"WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
        );
        Err(errors)
    }
}

/// Reads the ACL file at `path` (named `filename` in errors): the users,
/// or Redis's error line.
pub fn load(
    path: &Path,
    filename: &str,
    pubsub_all: bool,
) -> Result<BTreeMap<Vec<u8>, User>, Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => parse(&bytes, filename, pubsub_all),
        Err(e) => Err(format!(
            "Error loading ACLs, opening file '{filename}': {}",
            crate::util::open_files::describe(&e)
        )
        .into_bytes()),
    }
}

/// Writes `text` to `path` as ACL SAVE does: a temporary file beside it
/// (`<path>.tmp-<pid>-<ms>`), renamed over it. A failure is logged with
/// Redis's words and the temporary file removed.
pub fn save(path: &Path, text: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        crate::shared::unix_ms()
    ));
    let tmp = std::path::PathBuf::from(tmp);
    let result = (|| {
        let mut f = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o644)
                .open(&tmp)
                .map_err(|e| ("Opening temp ACL file for ACL SAVE", e))?
        };
        f.write_all(text)
            .map_err(|e| ("Writing ACL file for ACL SAVE", e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| ("Renaming ACL file for ACL SAVE", e))
    })();
    match result {
        Ok(()) => Ok(()),
        Err((what, e)) => {
            crate::warning!("{what}: {}", crate::util::open_files::describe(&e));
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// A `user` line of the configuration file, checked: the name and its
/// rules (selectors given in several words joined into one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The user's name.
    pub name: String,
    /// Its rules, in order.
    pub rules: Vec<String>,
}

/// Checks a configuration `user` line (`argv[0]` is `user`, with at least
/// a name) against the ones before it, as Redis's
/// `ACLAppendUserForLoading`: the error is Redis's `Error in user
/// declaration '...': ...`, which names the word at the failing rule's
/// position counted from the line's start (Redis's own off-by-two).
pub fn declare(argv: &[String], before: &[Declared], pubsub_all: bool) -> Result<Declared, String> {
    let fail = |at: usize, why: &str| {
        let word = argv.get(at).map_or("", String::as_str);
        format!("Error in user declaration '{word}': {why}")
    };
    if before.iter().any(|d| d.name == argv[1]) {
        return Err(fail(
            1,
            "Duplicate user found. A user can only be defined once in config files",
        ));
    }
    let words: Vec<&[u8]> = argv[2..].iter().map(|a| a.as_bytes()).collect();
    // Redis reports a stale errno here; ENOENT is what it shows.
    let merged =
        merge_selectors(&words).map_err(|start| fail(start, RuleError::UnknownCommand.text()))?;
    let mut probe = User::new(b"probe", pubsub_all);
    for (j, op) in merged.iter().enumerate() {
        match probe.apply(op, pubsub_all) {
            Ok(()) | Err(RuleError::UnknownCommand) => {}
            Err(e) => return Err(fail(j, e.text())),
        }
    }
    Ok(Declared {
        name: argv[1].clone(),
        rules: merged
            .iter()
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .collect(),
    })
}

/// Makes the configuration's users in `acl` (Redis's
/// `ACLLoadConfiguredUsers`): a `default` line starts from `reset`. The
/// error is the lines Redis logs before it exits.
pub fn apply_declared(
    acl: &super::Acl,
    declared: &[Declared],
    pubsub_all: bool,
) -> Result<(), Vec<String>> {
    for d in declared {
        if has_spaces(d.name.as_bytes()) {
            return Err(vec!["Spaces not allowed in ACL usernames".into()]);
        }
        let mut u = match acl.get(d.name.as_bytes()) {
            Some(old) => {
                let mut u = (*old).clone();
                let _ = u.apply(b"reset", pubsub_all);
                u
            }
            None => User::new(d.name.as_bytes(), pubsub_all),
        };
        for rule in &d.rules {
            if let Err(e) = u.apply(rule.as_bytes(), pubsub_all) {
                return Err(vec![format!(
                    "Error loading ACL rule '{rule}' for the user named '{}': {}",
                    d.name,
                    e.text()
                )]);
            }
        }
        if !u.enabled {
            crate::notice!(
                "The user '{}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.",
                d.name
            );
        }
        acl.put(u);
    }
    Ok(())
}

/// Loads the users at start-up, as Redis's `ACLLoadUsersAtStartup`: the
/// configuration's `user` lines, or the ACL file (not both). The error
/// is what Redis logs before it exits (already logged).
pub fn load_at_startup(shared: &crate::shared::Shared) -> Result<(), String> {
    let (declared, aclfile, pubsub_all, path) = {
        let c = shared.config();
        (
            c.users.clone(),
            c.aclfile.clone(),
            c.acl_pubsub_all,
            c.aclfile_path(),
        )
    };
    let fail = |line: String| {
        crate::warning!("{line}");
        Err(line)
    };
    if !aclfile.is_empty() && !declared.is_empty() {
        return fail("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
    }
    if let Err(lines) = apply_declared(&shared.acl, &declared, pubsub_all) {
        for l in lines {
            crate::warning!("{l}");
        }
        return fail("Critical error while loading ACLs. Exiting.".into());
    }
    if let Some(path) = path {
        match load(&path, &aclfile, pubsub_all) {
            Ok(users) => {
                shared.acl.replace_all(users);
            }
            Err(e) => {
                return fail(format!(
                    "Aborting Redis startup because of ACL errors: {}",
                    String::from_utf8_lossy(&e)
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        String::from_utf8(parse(text.as_bytes(), "/f.acl", false).unwrap_err()).unwrap()
    }

    #[test]
    fn a_file_without_default_gets_a_fresh_default_user() {
        let users = parse(b"user alice on >pw ~k* +get\n\n", "/f.acl", false).unwrap();
        assert_eq!(users.len(), 2);
        assert!(users[&b"default"[..]].allows_everything());
        assert!(users[&b"alice"[..]].accepts(b"pw"));
    }

    #[test]
    fn every_bad_line_is_reported_and_nothing_loaded() {
        assert_eq!(
            err("# comment\nuser alice on +nosuch +nope\nuser alice on\nuser bob bogus ~* ~x\n"),
            "/f.acl:1 should start with user keyword followed by the username. \
             /f.acl:2: Error in applying operation '+nosuch': Unknown command or category name in ACL. \
             /f.acl:2: Error in applying operation '+nope': Unknown command or category name in ACL. \
             WARNING: Duplicate user 'alice' found on line 3. \
             /f.acl:4: Syntax error. \
             WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
        );
        assert!(err("user a on (~x +get\n")
            .starts_with("/f.acl:1: Unmatched parenthesis in selector definition.WARNING"));
        assert!(err("USER a on\n").starts_with("/f.acl:1 should start"));
        assert!(err("user a\x0bb on\n").starts_with("'/f.acl:1: username 'a\x0bb' contains"));
    }

    #[test]
    fn a_nul_hides_the_rest_of_its_line_and_its_newline_as_in_c() {
        // Redis reads "user a on" then "user b on": one line.
        let e = err("user a on\0 bogus\nuser b on\n");
        assert!(e.starts_with("/f.acl:1: Syntax error. WARNING"), "{e}");
        let users = parse(b"user a on\0 bogus\n\nuser b on\n", "/f.acl", false).unwrap();
        assert!(users[&b"a"[..]].enabled && users[&b"b"[..]].enabled);
    }

    #[test]
    fn config_user_errors_name_the_word_redis_names() {
        let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            declare(&argv("user alice on bogus"), &[], false).unwrap_err(),
            "Error in user declaration 'alice': Syntax error"
        );
        let alice = declare(&argv("user alice on +nosuch"), &[], false).unwrap();
        assert_eq!(
            declare(&argv("user alice off"), &[alice], false).unwrap_err(),
            "Error in user declaration 'alice': Duplicate user found. A user can only be defined once in config files"
        );
        let d = declare(&argv("user bob on (~x +get) ~y"), &[], false).unwrap();
        assert_eq!(d.rules, ["on", "(~x +get)", "~y"]);
    }
}
