//! LATENCY LATEST, HISTORY, RESET, GRAPH, DOCTOR, HISTOGRAM, HELP over the
//! latency monitor ([`crate::latency`]).

use crate::cmd::flags::*;
use crate::cmd::Ctx;
use crate::cmd::Spec;
use crate::error::{CmdError, CmdResult};
use crate::latency::{self, CommandHistograms};
use crate::shared::unix_ms;

/// LATENCY LATEST: `[event, time, latest ms, all-time max ms]` per event.
pub fn latency_latest(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let events = c.shared.latency.events();
    c.out.array(events.len());
    for (name, ts) in &events {
        let last = ts.latest();
        c.out.array(4);
        c.out.bulk(name.as_bytes());
        c.out.int(last.time as i64);
        c.out.int(last.latency as i64);
        c.out.int(ts.max as i64);
    }
    Ok(())
}

/// LATENCY HISTORY event: `[time, ms]` per sample, oldest first.
pub fn latency_history(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let Some((_, ts)) = c.shared.latency.event(a[2]) else {
        c.out.array(0);
        return Ok(());
    };
    let samples: Vec<_> = ts.samples().collect();
    c.out.array(samples.len());
    for s in samples {
        c.out.array(2);
        c.out.int(s.time as i64);
        c.out.int(s.latency as i64);
    }
    Ok(())
}

/// LATENCY RESET [event ...]: how many events were forgotten.
pub fn latency_reset(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let n = if a.len() == 2 {
        c.shared.latency.reset(None)
    } else {
        a[2..].iter().map(|e| c.shared.latency.reset(Some(e))).sum()
    };
    c.out.int(n as i64);
    Ok(())
}

/// LATENCY GRAPH event: an ASCII graph (verbatim text).
pub fn latency_graph(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let Some((name, ts)) = c.shared.latency.event(a[2]) else {
        return Err(CmdError::quoting(
            "ERR No samples available for event '",
            a[2],
            "'",
        ));
    };
    let g = latency::graph(&name, &ts, unix_ms() / 1000);
    c.out.verbatim(g.as_bytes());
    Ok(())
}

/// LATENCY DOCTOR: the report (verbatim text).
pub fn latency_doctor(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    let (slowlog_slower_than, hz) = {
        let cfg = c.shared.config();
        (cfg.slowlog_log_slower_than, cfg.hz)
    };
    let input = latency::DoctorInput {
        threshold: c.shared.latency.threshold(),
        slowlog_slower_than,
        hz: hz as u64,
        anon_huge_pages: latency::anon_huge_pages(),
        now: unix_ms() / 1000,
    };
    let report = latency::doctor(&c.shared.latency.events(), &input);
    c.out.verbatim(report.as_bytes());
    Ok(())
}

/// LATENCY HISTOGRAM [command ...]: per-command latency distributions.
/// The histograms INFO latencystats keeps, summed over the event loops,
/// in Redis 7.0's layout (see [`latency::LoopHistograms`]).
pub fn latency_histogram(c: &mut Ctx<'_>, a: &[&[u8]]) -> CmdResult {
    let names = (a.len() > 2).then(|| &a[2..]);
    let hists = latency::LoopHistograms(&c.shared.loop_stats).histograms(names);
    latency::write_histograms(c.out, &hists);
    Ok(())
}

const LATENCY_HELP: &[&str] = &[
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
];

/// LATENCY HELP
pub fn latency_help(c: &mut Ctx<'_>, _a: &[&[u8]]) -> CmdResult {
    c.out.help(LATENCY_HELP);
    Ok(())
}

/// The tips of the LATENCY subcommands that report (Redis 7.0.15's).
const REPORT_TIPS: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_nodes",
    "response_policy:special",
];

const ADMIN_FLAGS: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

pub(super) static LATENCY_SUBCOMMANDS: &[Spec] = &[
    Spec::keyless_server("doctor", 2, ADMIN_FLAGS, latency_doctor, REPORT_TIPS),
    Spec::keyless_server("graph", 3, ADMIN_FLAGS, latency_graph, REPORT_TIPS),
    Spec::keyless_server("histogram", -2, ADMIN_FLAGS, latency_histogram, REPORT_TIPS),
    Spec::keyless_server("history", 3, ADMIN_FLAGS, latency_history, REPORT_TIPS),
    Spec::keyless_server("latest", 2, ADMIN_FLAGS, latency_latest, REPORT_TIPS),
    Spec::keyless_server(
        "reset",
        -2,
        ADMIN_FLAGS,
        latency_reset,
        &["request_policy:all_nodes", "response_policy:all_succeeded"],
    ),
    Spec::keyless_server("help", 2, LOADING | STALE, latency_help, &[]),
];
