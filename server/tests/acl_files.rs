//! Users outside the server, against real Redis 7.0.15: the ACL file
//! (`aclfile` at start-up, ACL LOAD, ACL SAVE), `user` lines in the
//! configuration file and on the command line, and CONFIG REWRITE's `user`
//! lines. Both servers get the same files and commands; their replies,
//! files and start-up failures must say the same thing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use soquete_resp::Frame;
use soquete_testkit::frames::items;
use soquete_testkit::server::{free_port, StartError};
use soquete_testkit::{Conn, ServerKind, ServerProcess};

const KINDS: [ServerKind; 2] = [ServerKind::Redis, ServerKind::Soquete];

fn builder(kind: ServerKind) -> soquete_testkit::server::ServerBuilder {
    let b = ServerProcess::builder(kind);
    if kind == ServerKind::Soquete {
        b.binary(env!("CARGO_BIN_EXE_soquete-server"))
    } else {
        b
    }
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("soquete-aclfile-")
        .tempdir()
        .expect("a temporary directory")
}

/// A server started with `--aclfile acl` (and `extra` arguments).
fn with_aclfile(kind: ServerKind, acl: &Path, extra: &[&str]) -> ServerProcess {
    builder(kind)
        .arg("--aclfile")
        .arg(acl)
        .args(extra.iter().copied())
        .start()
}

/// A reply as comparable text (errors too).
fn show(f: &Frame) -> String {
    match f {
        Frame::Error(e) => format!("-{}", String::from_utf8_lossy(e)),
        Frame::Array(v) => format!("[{}]", v.iter().map(show).collect::<Vec<_>>().join(", ")),
        other => match other.as_bytes() {
            Some(b) => String::from_utf8_lossy(b).into_owned(),
            None => format!("{other:?}"),
        },
    }
}

fn acl_list(conn: &mut Conn) -> Vec<String> {
    items(conn.cmd(&["ACL", "LIST"])).iter().map(show).collect()
}

/// Sends `args` on both connections: the replies must be the same; returns
/// it.
fn same(conns: &mut [Conn; 2], args: &[&str]) -> String {
    let r = show(&conns[0].cmd(args));
    let s = show(&conns[1].cmd(args));
    assert_eq!(s, r, "{args:?}: soquete (left) and redis (right) differ");
    r
}

const USERS: &str = "user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~k* resetchannels -@all +get\n\
user bob on nopass sanitize-payload %R~r:* %W~w:* &news:* -@all +@string -set (~s:* resetchannels -@all +hget)\n\
user default on >secret ~* &* +@all\n\
\n\
user carol off resetchannels -@all\n";

#[test]
fn an_acl_file_is_loaded_at_startup_as_redis_loads_it() {
    let dir = tempdir();
    let acl = dir.path().join("users.acl");
    std::fs::write(&acl, USERS).unwrap();
    let servers = KINDS.map(|k| with_aclfile(k, &acl, &[]));
    let mut conns = [servers[0].connect(), servers[1].connect()];
    // The file's default user has a password: new connections must AUTH.
    same(&mut conns, &["PING"]);
    same(&mut conns, &["AUTH", "secret"]);
    let lists = conns.each_mut().map(acl_list);
    assert_eq!(lists[1], lists[0]);
    assert_eq!(lists[0].len(), 4, "{:?}", lists[0]);
    same(&mut conns, &["CONFIG", "GET", "aclfile"]);
    same(&mut conns, &["AUTH", "alice", "pw"]);
    same(&mut conns, &["GET", "k1"]);
    same(&mut conns, &["SET", "k1", "v"]);
}

#[test]
fn acl_load_errors_are_redis_texts_and_change_nothing() {
    let dir = tempdir();
    let acl = dir.path().join("users.acl");
    std::fs::write(&acl, "user alice on nopass +@all ~*\n").unwrap();
    let servers = KINDS.map(|k| with_aclfile(k, &acl, &[]));
    let mut conns = [servers[0].connect(), servers[1].connect()];
    let before = acl_list(&mut conns[0]);
    let bad: &[&[u8]] = &[
        b"# a comment\nuser alice on\n",
        b"user alice on +nosuch +nope -@bogus\nUSER bob on\nuser\n",
        b"user alice on\nuser alice off\nuser bob on bogus ~* ~x <nopw\n",
        b"user a\tb on\nuser d on \"quoted\"\n",
        b"user e on ~* ~x\nuser f on &* &x\nuser g on #abc\nuser h on +config|get|x\n",
        b"user i on (~x on)\nuser j on %X~k\nuser k on +select|\n",
        b"user l on\0 bogus\nuser m on\n",
        b"   \n\t\nuser n   on\nnot a user\n",
    ];
    for text in bad {
        std::fs::write(&acl, text).unwrap();
        let reply = same(&mut conns, &["ACL", "LOAD"]);
        assert!(reply.starts_with("-ERR "), "{reply}");
        assert!(reply.ends_with("no change to the previously active ACL rules was performed"));
        assert_eq!(acl_list(&mut conns[0]), before);
        assert_eq!(acl_list(&mut conns[1]), before);
    }
    // Redis 7.0.15 crashes on an unclosed selector in the file; soquete
    // reports it with the text Redis meant to.
    std::fs::write(&acl, "user c on (~x +get\n").unwrap();
    assert_eq!(
        show(&conns[1].cmd(&["ACL", "LOAD"])),
        format!(
            "-ERR {}:1: Unmatched parenthesis in selector definition.\
             WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
            acl.display()
        )
    );
    assert_eq!(acl_list(&mut conns[1]), before);
    std::fs::remove_file(&acl).unwrap();
    let reply = same(&mut conns, &["ACL", "LOAD"]);
    assert!(reply.contains("No such file or directory"), "{reply}");
    // A good file replaces every user; `default` comes back fresh.
    std::fs::write(&acl, "user zed on >pw ~z* +@read\n").unwrap();
    same(&mut conns, &["ACL", "SETUSER", "default", ">pass"]);
    same(&mut conns, &["ACL", "LOAD"]);
    let lists = conns.each_mut().map(acl_list);
    assert_eq!(lists[1], lists[0]);
    assert_eq!(lists[0].len(), 2, "{:?}", lists[0]);
    same(&mut conns, &["ACL", "USERS"]);
}

#[test]
fn acl_save_writes_the_bytes_redis_writes() {
    let dir = tempdir();
    let files = KINDS.map(|k| dir.path().join(format!("{}.acl", k.name())));
    for f in &files {
        std::fs::write(f, "").unwrap();
    }
    let servers = [
        with_aclfile(ServerKind::Redis, &files[0], &[]),
        with_aclfile(ServerKind::Soquete, &files[1], &[]),
    ];
    let mut conns = [servers[0].connect(), servers[1].connect()];
    for setuser in [
        &[
            "ACL", "SETUSER", "writer", "on", ">w1", ">w2", "~app:*", "+@write", "-del",
        ][..],
        &[
            "ACL",
            "SETUSER",
            "reader",
            "on",
            "nopass",
            "%R~*",
            "&chan",
            "+@read",
            "+client|id",
        ],
        &[
            "ACL",
            "SETUSER",
            "sel",
            "(~a* +get)",
            "(%W~b* +set)",
            "+select|1",
        ],
        &["ACL", "SETUSER", "off-user", "skip-sanitize-payload"],
        &["ACL", "SETUSER", "default", "resetpass", ">topsecret"],
    ] {
        same(&mut conns, setuser);
    }
    same(&mut conns, &["AUTH", "topsecret"]);
    same(&mut conns, &["ACL", "SAVE"]);
    let saved = files.each_ref().map(|f| std::fs::read(f).unwrap());
    assert_eq!(
        String::from_utf8_lossy(&saved[1]),
        String::from_utf8_lossy(&saved[0])
    );
    // What was saved loads back as it was.
    let before = acl_list(&mut conns[1]);
    same(&mut conns, &["ACL", "LOAD"]);
    assert_eq!(acl_list(&mut conns[1]), before);
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn acl_save_and_load_fail_as_redis_when_the_file_is_unreachable() {
    let dir = tempdir();
    let files = KINDS.map(|k| {
        let sub = dir.path().join(k.name());
        std::fs::create_dir(&sub).unwrap();
        let f = sub.join("users.acl");
        std::fs::write(&f, "user default on nopass ~* &* +@all\n").unwrap();
        f
    });
    let servers = [
        with_aclfile(ServerKind::Redis, &files[0], &[]),
        with_aclfile(ServerKind::Soquete, &files[1], &[]),
    ];
    let mut conns = [servers[0].connect(), servers[1].connect()];
    for f in &files {
        std::fs::remove_dir_all(f.parent().unwrap()).unwrap();
    }
    same(&mut conns, &["ACL", "SAVE"]);
    let replies = conns.each_mut().map(|c| show(&c.cmd(&["ACL", "LOAD"])));
    let name = |i: usize| files[i].display().to_string();
    assert_eq!(
        replies[1].replace(&name(1), "<file>"),
        replies[0].replace(&name(0), "<file>")
    );
}

#[test]
fn acl_load_closes_the_clients_of_every_user_but_default() {
    let dir = tempdir();
    let acl = dir.path().join("users.acl");
    let users = "user alice on >pa ~* &* +@all\nuser bob on >pb ~* &* +@all\nuser carol on >pc ~* &* +@all\n";
    for kind in KINDS {
        std::fs::write(&acl, users).unwrap();
        let server = with_aclfile(kind, &acl, &[]);
        let login = |name: &str, pw: &str| {
            let mut c = server.connect();
            c.set_timeout(Duration::from_secs(10)).unwrap();
            assert_eq!(show(&c.cmd(&["AUTH", name, pw])), "OK");
            c
        };
        let mut alice = login("alice", "pa");
        let mut bob = login("bob", "pb");
        let mut carol = login("carol", "pc");
        let mut plain = server.connect();
        // bob is gone from the file; alice and carol are unchanged.
        std::fs::write(
            &acl,
            "user alice on >pa ~* &* +@all\nuser carol on >pc ~* &* +@all\n",
        )
        .unwrap();
        assert_eq!(show(&carol.cmd(&["ACL", "LOAD"])), "OK", "{kind}");
        carol
            .expect_closed()
            .unwrap_or_else(|e| panic!("{kind}: carol: {e}"));
        alice
            .expect_closed()
            .unwrap_or_else(|e| panic!("{kind}: alice: {e}"));
        bob.expect_closed()
            .unwrap_or_else(|e| panic!("{kind}: bob: {e}"));
        assert_eq!(show(&plain.cmd(&["PING"])), "PONG", "{kind}");
        let mut again = server.connect();
        assert_eq!(show(&again.cmd(&["AUTH", "alice", "pa"])), "OK", "{kind}");
        assert!(
            show(&again.cmd(&["AUTH", "bob", "pb"])).starts_with("-WRONGPASS"),
            "{kind}"
        );
    }
}

/// A config file with `text` and a free port.
fn config_file(dir: &Path, name: &str, text: &str) -> (PathBuf, u16) {
    let port = free_port().expect("a free port");
    let file = dir.join(format!("{name}.conf"));
    std::fs::write(
        &file,
        format!("port {port}\nbind 127.0.0.1\nsave \"\"\n{text}"),
    )
    .unwrap();
    (file, port)
}

fn user_lines(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("user "))
        .map(String::from)
        .collect()
}

#[test]
fn config_user_lines_are_made_at_startup_and_rewritten_as_redis() {
    let dir = tempdir();
    let text =
        "user alice on >pw ~k* +get\nappendonly no\nuser default on nopass ~* &* +@all -debug\n";
    let mut files = Vec::new();
    let mut conns = Vec::new();
    let mut servers = Vec::new();
    for kind in KINDS {
        let (file, port) = config_file(dir.path(), kind.name(), text);
        servers.push(builder(kind).exact_args().arg(&file).start());
        conns.push(Conn::connect(([127, 0, 0, 1], port).into()).unwrap());
        files.push(file);
    }
    let mut conns: [Conn; 2] = conns.try_into().ok().unwrap();
    let lists = conns.each_mut().map(acl_list);
    assert_eq!(lists[1], lists[0]);
    same(
        &mut conns,
        &["ACL", "SETUSER", "bob", "on", "nopass", "(~x +set)"],
    );
    same(&mut conns, &["ACL", "SETUSER", "aaron", "off"]);
    same(&mut conns, &["CONFIG", "REWRITE"]);
    assert_eq!(user_lines(&files[1]), user_lines(&files[0]));
    assert_eq!(user_lines(&files[0]).len(), 4);
    // The rewritten users come back.
    drop(servers);
}

#[test]
fn config_rewrite_drops_user_lines_when_an_acl_file_keeps_the_users() {
    let dir = tempdir();
    let acl = dir.path().join("users.acl");
    std::fs::write(&acl, "user alice on nopass ~* +@all\n").unwrap();
    for kind in KINDS {
        let (file, port) = config_file(
            dir.path(),
            kind.name(),
            &format!("aclfile {}\n", acl.display()),
        );
        let _server = builder(kind).exact_args().arg(&file).start();
        let mut c = Conn::connect(([127, 0, 0, 1], port).into()).unwrap();
        assert_eq!(show(&c.cmd(&["CONFIG", "REWRITE"])), "OK");
        assert!(user_lines(&file).is_empty(), "{kind}");
        let written = std::fs::read_to_string(&file).unwrap();
        assert!(
            written.contains(&format!("aclfile \"{}\"", acl.display())),
            "{kind}: {written}"
        );
    }
}

#[test]
fn user_options_on_the_command_line_make_users() {
    let servers = KINDS.map(|k| {
        builder(k)
            .args(["--user", "alice", "on", ">pw", "~k*", "+get"])
            .start()
    });
    let mut conns = [servers[0].connect(), servers[1].connect()];
    let lists = conns.each_mut().map(acl_list);
    assert_eq!(lists[1], lists[0]);
    same(&mut conns, &["AUTH", "alice", "pw"]);
}

#[test]
fn acl_pubsub_default_gives_file_and_config_users_their_channels() {
    let dir = tempdir();
    let acl = dir.path().join("users.acl");
    std::fs::write(
        &acl,
        "user x on +get (~k +set)\nuser z on resetchannels &n\n",
    )
    .unwrap();
    let servers = KINDS.map(|k| with_aclfile(k, &acl, &["--acl-pubsub-default", "allchannels"]));
    let mut conns = [servers[0].connect(), servers[1].connect()];
    let lists = conns.each_mut().map(acl_list);
    assert_eq!(lists[1], lists[0]);
    assert_eq!(lists[0][1], "user x on &* -@all +get (~k &* -@all +set)");
    let servers = KINDS.map(|k| {
        builder(k)
            .args([
                "--acl-pubsub-default",
                "allchannels",
                "--user",
                "w",
                "on",
                "(+get)",
            ])
            .start()
    });
    let mut conns = [servers[0].connect(), servers[1].connect()];
    let lists = conns.each_mut().map(acl_list);
    assert_eq!(lists[1], lists[0]);
}

/// What a server that failed to start said: its warning log lines (not
/// the system warnings Redis prints on some machines) and its other
/// lines, the FATAL banner without the server's name.
fn failure(kind: ServerKind, text: &str, dir: &Path) -> Vec<String> {
    let (file, _) = config_file(dir, kind.name(), text);
    let output = match builder(kind)
        .exact_args()
        .arg(&file)
        .ready_timeout(Duration::from_secs(20))
        .try_start()
    {
        Err(StartError::Exited { status, output, .. }) => {
            assert!(!status.success(), "{kind}: {status}");
            output
        }
        Err(e) => panic!("{kind}: {e}"),
        Ok(_) => panic!("{kind} started with {text:?}"),
    };
    let mut lines = Vec::new();
    for line in output.lines() {
        let words: Vec<&str> = line.splitn(7, ' ').collect();
        let is_log = words.len() == 7 && (words[0].contains(":M") || words[0].contains(":C"));
        if is_log {
            let banner = [
                "oO0Oo",
                "Redis version=",
                "Configuration loaded",
                "Server initialized",
            ];
            let text = words[6];
            if words[5] == "#"
                && !text.to_ascii_lowercase().starts_with("warning")
                && !banner.iter().any(|b| text.starts_with(b))
            {
                lines.push(words[6].to_string());
            }
        } else if line.starts_with("*** FATAL CONFIG FILE ERROR") {
            lines.push("*** FATAL CONFIG FILE ERROR ***".into());
        } else if !line.is_empty()
            && !line.starts_with("---")
            && !line.starts_with("soquete-server:")
        {
            lines.push(line.to_string());
        }
    }
    lines
}

#[test]
fn bad_users_stop_startup_with_redis_messages() {
    let dir = tempdir();
    let acl = dir.path().join("users.acl");
    std::fs::write(&acl, "user alice on +nosuch\nuser alice on\nbogus\n").unwrap();
    let missing = dir.path().join("missing.acl");
    let cases = [
        "user alice on bogus\n".to_string(),
        "user alice on ~* ~x\n".into(),
        "user alice on (~x +get\n".into(),
        "user alice on\nuser alice off\n".into(),
        "user alice on +nosuch\n".into(),
        "user \"a b\" on\n".into(),
        // Checked with the default then in force, made with the final one.
        "user y on &a\nacl-pubsub-default allchannels\n".into(),
        format!("user alice on\naclfile {}\n", acl.display()),
        format!("aclfile {}\n", acl.display()),
        format!("aclfile {}\n", missing.display()),
    ];
    for text in &cases {
        let got = KINDS.map(|k| failure(k, text, dir.path()));
        assert!(!got[0].is_empty(), "{text:?}");
        assert_eq!(got[1], got[0], "{text:?}: soquete (left), redis (right)");
    }
}
