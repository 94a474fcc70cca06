//! Regression tests for bugs the integration tests found (HELLO's NOAUTH
//! wording, a refused EXEC ending the transaction, memory committed by a
//! bulk header alone) and guards for behaviour an optimisation could break
//! (SLOWLOG timing per command), INFO fields clients depend on, and Redis's
//! wording for extra arguments. Each runs the same bytes against
//! redis-server first, to show the expectation is Redis's.

use std::net::SocketAddr;

use soquete_resp::Frame;
use soquete_testkit::conn::connect;
use soquete_testkit::diff::Side;
use soquete_testkit::frames::info_field;
use soquete_testkit::render::show;
use soquete_testkit::transcript::{assert_same, Transcript};
use soquete_testkit::wait::{eventually, DEADLINE};
use soquete_testkit::{ServerKind, ServerProcess};

/// The binary under test, built by cargo for this test run.
const BIN: &str = env!("CARGO_BIN_EXE_soquete-server");

/// The binary on `127.0.0.1:<ephemeral>` with `args`.
fn soquete(args: &[&str]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Soquete)
        .binary(BIN)
        .args(args)
        .start()
}

/// Real `redis-server` on `127.0.0.1:<ephemeral>` with `args` (persistence off).
fn redis(args: &[&str]) -> ServerProcess {
    ServerProcess::builder(ServerKind::Redis).args(args).start()
}

fn both(args: &[&str]) -> [ServerProcess; 2] {
    [redis(args), soquete(args)]
}

#[test]
fn hello_before_auth_is_refused_with_redis_7_0_wording() {
    let want: &[u8] = b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n";
    for server in both(&["--requirepass", "pw"]) {
        let mut c = server.connect();
        for req in [&b"HELLO\r\n"[..], b"HELLO 3\r\n", b"HELLO 2\r\n"] {
            c.send(req);
            assert_eq!(
                show(&c.read_raw_reply()),
                show(want),
                "{}: {}",
                server.kind(),
                show(req)
            );
        }
    }
}

#[test]
fn exec_refused_before_running_aborts_the_transaction() {
    for server in both(&[]) {
        let kind = server.kind();
        let mut c = server.connect();
        c.send(b"EXEC x\r\n");
        assert_eq!(
            show(&c.read_raw_reply()),
            show(b"-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n"),
            "{kind}: EXEC x outside MULTI"
        );
        c.send(b"MULTI\r\nSET k v\r\nEXEC x\r\nEXEC\r\nGET k\r\n");
        assert_eq!(c.read_raw_reply(), b"+OK\r\n", "{kind}");
        assert_eq!(c.read_raw_reply(), b"+QUEUED\r\n", "{kind}");
        assert_eq!(
            show(&c.read_raw_reply()),
            show(b"-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n"),
            "{kind}: EXEC x inside MULTI"
        );
        assert_eq!(
            show(&c.read_raw_reply()),
            show(b"-ERR EXEC without MULTI\r\n"),
            "{kind}: the transaction is gone"
        );
        assert_eq!(c.read_raw_reply(), b"$-1\r\n", "{kind}: SET k v never ran");
    }
    for server in both(&["--requirepass", "pw"]) {
        let mut c = server.connect();
        c.send(b"EXEC\r\n");
        assert_eq!(
            show(&c.read_raw_reply()),
            show(
                b"-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n"
            ),
            "{}: EXEC before AUTH",
            server.kind()
        );
    }
}

#[test]
fn announcing_a_huge_bulk_commits_no_memory() {
    // Redis reserves room for a big argument without touching it; the
    // memory is used only as the bytes arrive.
    for server in [redis(&[]), soquete(&["--threads", "1"])] {
        let kind = server.kind();
        let before = server.rss_bytes().expect("RSS");
        let mut b = server.connect();
        b.set_timeout(std::time::Duration::from_secs(60))
            .expect("timeout");
        let mut net_in = || -> u64 {
            b.send(b"INFO stats\r\n");
            let info = b.read_reply();
            info_field(
                info.frame.as_bytes().expect("bulk"),
                "total_net_input_bytes",
            )
            .and_then(|v| v.parse().ok())
            .expect("total_net_input_bytes")
        };
        let base = net_in();
        let mut a = server.connect();
        let header = b"*2\r\n$4\r\nECHO\r\n$536870912\r\n";
        a.send(header);
        // Once the server has counted A's bytes, it has finished with that
        // read (one loop: B's INFO runs after A's read returns).
        let mut polls = 0u64;
        eventually("the server to read the header", DEADLINE, || {
            polls += 1;
            let want = base + header.len() as u64 + 12 * polls;
            (net_in() >= want).then_some(())
        });
        b.send(b"PING\r\n");
        assert_eq!(b.read_raw_reply(), b"+PONG\r\n");
        let after = server.rss_bytes().expect("RSS");
        assert!(
            after < before + (64 << 20),
            "{kind}: RSS grew from {} MB to {} MB on a 512 MB bulk header alone",
            before >> 20,
            after >> 20
        );
    }
}

/// SLOWLOG times each command of a pipeline on its own (soquete reads the
/// clock once per command, the end of one being the start of the next): the
/// slow command in the middle of a batch is logged with its duration and its
/// arguments, the fast ones around it are not.
#[test]
fn slowlog_times_the_slow_command_of_a_pipeline_alone() {
    use soquete_testkit::conn::command_bytes;
    for server in both(&["--enable-debug-command", "local"]) {
        let kind = server.kind();
        let mut c = server.connect();
        c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "100000"]);
        c.cmd(&["SLOWLOG", "RESET"]);
        let mut batch = command_bytes(&["PING"]);
        batch.extend(command_bytes(&["DEBUG", "SLEEP", "0.2"]));
        batch.extend(command_bytes(&["ECHO", "after"]));
        c.send(&batch);
        for want in ["+PONG\r\n", "+OK\r\n", "$5\r\nafter\r\n"] {
            assert_eq!(show(&c.read_raw_reply()), show(want.as_bytes()), "{kind}");
        }
        let Frame::Array(entries) = c.cmd(&["SLOWLOG", "GET"]) else {
            panic!("{kind}: SLOWLOG GET is not an array");
        };
        assert_eq!(entries.len(), 1, "{kind}: {entries:?}");
        let Frame::Array(entry) = &entries[0] else {
            panic!("{kind}: an entry is not an array");
        };
        let Frame::Integer(micros) = entry[2] else {
            panic!("{kind}: no duration in {entry:?}");
        };
        assert!(
            (200_000..2_000_000).contains(&micros),
            "{kind}: DEBUG SLEEP 0.2 took {micros} µs"
        );
        let args: Vec<Frame> = ["DEBUG", "SLEEP", "0.2"]
            .iter()
            .map(|a| Frame::Bulk(a.as_bytes().to_vec().into()))
            .collect();
        assert_eq!(entry[3], Frame::Array(args), "{kind}");
    }
}

#[test]
fn plain_info_says_cluster_mode_is_off_and_names_the_allocator_as_redis_does() {
    // Clients decide how to talk to a server by `cluster_enabled` in plain
    // INFO; some fail outright without it.
    let [r, s] = both(&[]);
    let fields = |server: &ServerProcess| {
        let mut c = server.connect();
        let info = c.cmd(&["INFO"]);
        let info = info.as_bytes().expect("INFO is a bulk string").to_vec();
        let text = String::from_utf8_lossy(&info).into_owned();
        assert!(
            text.contains("\r\n# Cluster\r\ncluster_enabled:0\r\n"),
            "{}: {text}",
            server.kind()
        );
        (
            info_field(&info, "cluster_enabled"),
            info_field(&info, "mem_allocator"),
        )
    };
    assert_eq!(fields(&s), fields(&r));
}

/// Argument errors Redis words its own way (soquete once answered `:0` and
/// `-ERR wrong number of arguments for 'pubsub|channels' command`):
/// * `CLIENT UNBLOCK 1 TIMEOUT x` (too many arguments):
///   `-ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.`;
/// * `PUBSUB CHANNELS a b` / `PUBSUB SHARDCHANNELS a b`:
///   `-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.`
///   (and `'SHARDCHANNELS'`).
fn argument_errors(addr: SocketAddr, t: &mut Transcript) {
    let mut c = connect(addr);
    for cmd in [
        &["CLIENT", "UNBLOCK", "1", "TIMEOUT", "x"][..],
        &["PUBSUB", "CHANNELS", "a", "b"],
        &["PUBSUB", "SHARDCHANNELS", "a", "b"],
    ] {
        c.send_cmd(cmd);
        t.note(&cmd.join(" "), &mut c);
    }
}

#[test]
fn extra_arguments_are_refused_as_redis_words_it() {
    let (redis, ours) = (redis(&[]), soquete(&["--threads", "2"]));
    assert_same(&Side::of(&redis), &Side::of(&ours), argument_errors);
}

#[test]
fn replicaof_a_master_is_refused_and_the_server_stays_a_master() {
    let server = soquete(&[]);
    let mut c = server.connect();
    c.send(b"REPLICAOF 127.0.0.1 6379\r\nSLAVEOF localhost 0\r\nROLE\r\n");
    for what in ["REPLICAOF", "SLAVEOF"] {
        let reply = String::from_utf8_lossy(&c.read_raw_reply()).into_owned();
        assert!(
            reply.starts_with("-ERR REPLICAOF is not supported: soquete has no replication"),
            "{what}: {reply}"
        );
    }
    assert_eq!(
        show(&c.read_raw_reply()),
        show(b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n")
    );
}

#[test]
fn wait_for_replicas_blocks_until_its_timeout_or_client_unblock_as_in_redis() {
    for server in both(&[]) {
        let kind = server.kind();
        let mut c = server.connect();
        let mut admin = server.connect();
        // Nothing to wait for, or inside a transaction: 0 at once.
        c.send(b"WAIT 0 0\r\nMULTI\r\nWAIT 1 0\r\nEXEC\r\n");
        for want in [&b":0\r\n"[..], b"+OK\r\n", b"+QUEUED\r\n", b"*1\r\n:0\r\n"] {
            assert_eq!(show(&c.read_raw_reply()), show(want), "{kind:?}");
        }
        // A replica asked for, none there: 0 once the timeout has passed.
        c.send(b"WAIT 1 30\r\nPING\r\n");
        assert_eq!(show(&c.read_raw_reply()), show(b":0\r\n"), "{kind:?}");
        assert_eq!(c.read_raw_reply(), b"+PONG\r\n", "{kind:?}");
        // Timeout 0 waits for ever: blocked (as INFO counts it) until
        // CLIENT UNBLOCK, which answers it as a timeout would.
        let Frame::Integer(id) = c.cmd(&["CLIENT", "ID"]) else {
            panic!("{kind:?}: CLIENT ID is an integer");
        };
        c.send(b"WAIT 1 0\r\n");
        eventually("WAIT to block", DEADLINE, || {
            let Frame::Bulk(info) = admin.cmd(&["INFO", "clients"]) else {
                return None;
            };
            (info_field(&info, "blocked_clients").as_deref() == Some("1")).then_some(())
        });
        assert_eq!(
            show(
                &admin
                    .try_cmd(&["CLIENT", "UNBLOCK", &id.to_string()])
                    .unwrap()
                    .raw
            ),
            show(b":1\r\n"),
            "{kind:?}"
        );
        assert_eq!(show(&c.read_raw_reply()), show(b":0\r\n"), "{kind:?}");
    }
}
