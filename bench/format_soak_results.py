#!/usr/bin/python3
"""Turns the samples of bench/run_soak.sh into its report.

Reads soak_driver's CSV (one row per sample: calls, failures, the
interval's p50/p99, each process's RSS and CPU use, a few metrics) and its
JSON summary (the measured time per call kind). The verdict per server
process: RSS growth after warm-up below 5%, measured as (RSS at the end -
RSS at the end of the warm-up) / RSS at the end of the warm-up; for a process
whose RSS saw-tooths (it dropped by more than 10% from its highest value
after the warm-up, as a cache node's does when RocksDB flushes a memtable),
where end and warm-up values land at arbitrary points of the cycle, as the
growth of the highest RSS of the second half of the measured time over that
of the first half. Prints the verdict and
writes the report (markdown: the machine, the command, the figures, a table
over time with a row every --md_every seconds, the verdict) to --markdown.
With --strict, exits 1 when the target is missed or any call failed.
"""

import argparse
import csv
import json
import statistics
import sys

from report_tables import md_table, text_table

RSS_GROWTH_TARGET = 0.05  # after warm-up, at most (exclusive)
# Samples with the machine at least this busy (% of all cores, all
# processes) count as contended in the latency summary.
BUSY_PCT = 60
SERVERS = ("coordinator", "node1", "node2", "node3", "runtime1", "runtime2")


def number(text):
    return float(text) if text not in ("", None) else None


def read_samples(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for key, value in row.items():
            if key != "phase":
                row[key] = number(value)
    return rows


def mib(kib):
    return "-" if kib is None else f"{kib / 1024:.1f}"


def ms(us):
    return "-" if us is None else f"{us / 1000:.2f}"


def pct(x):
    return "-" if x is None else f"{100 * x:+.1f}%"


def processes(rows):
    """The processes with an RSS column, servers first, the driver last."""
    names = [k[len("rss_kib_"):] for k in rows[0] if k.startswith("rss_kib_")]
    return sorted(names, key=lambda n: (n == "driver", n))


def rss_verdicts(rows, warmup_end):
    """Per process: RSS at the first sample, at the end of the warm-up,
    at the end, the growth after warm-up, the maximum, and the growth of
    the highest RSS of the last third of the measured time over that of
    the middle third (a plateau test that a saw-tooth does not fool)."""
    end_t = rows[-1]["elapsed_s"]
    third = (end_t - warmup_end) / 3
    out = []
    for name in processes(rows):
        key = "rss_kib_" + name
        series = [(r["elapsed_s"], r[key]) for r in rows if r[key] is not None]
        if not series:
            out.append({"name": name, "missing": True})
            continue
        at_warmup = next((v for t, v in series if t >= warmup_end), None)
        middle = [v for t, v in series
                  if warmup_end + third < t <= warmup_end + 2 * third]
        late = [v for t, v in series if t > warmup_end + 2 * third]
        peak_middle = max(middle) if middle else None
        peak_late = max(late) if late else None
        after = [(t, v) for t, v in series if t >= warmup_end]
        peak_t, peak = max(series, key=lambda tv: tv[1])
        peak_after = max(v for _, v in after) if after else None
        last_t, last = series[-1]
        growth = (last - at_warmup) / at_warmup if at_warmup else None
        # Saw-tooth: RSS fell by more than 10% from its highest value so far
        # after the warm-up.
        sawtooth, highest = False, 0
        for _, v in after:
            highest = max(highest, v)
            sawtooth = sawtooth or v < 0.9 * highest
        half = warmup_end + (end_t - warmup_end) / 2
        first_half = [v for t, v in after if t <= half]
        second_half = [v for t, v in after if t > half]
        halves = ((max(second_half) - max(first_half)) / max(first_half)
                  if first_half and second_half else None)
        judged_growth = halves if sawtooth else growth
        out.append({
            "name": name,
            "missing": False,
            "first": series[0][1],
            "warmup": at_warmup,
            "end": last,
            "end_t": last_t,
            "growth": growth,
            "last_third": ((peak_late - peak_middle) / peak_middle
                           if peak_middle and peak_late else None),
            "peak": peak,
            "peak_t": peak_t,
            "peak_growth": ((peak_after - at_warmup) / at_warmup
                            if at_warmup and peak_after else None),
            "judged": name in SERVERS,
            "sawtooth": sawtooth,
            "halves": halves,
            "judged_growth": judged_growth,
            "met": (judged_growth is not None
                    and judged_growth < RSS_GROWTH_TARGET),
            "exited": last_t < end_t,
        })
    return out


def gauge_cell(row, prefix, names, digits):
    values = [row.get(f"{prefix}_{n}") for n in names]
    if all(v is None for v in values):
        return "-"
    return " / ".join("-" if v is None else f"{v:.{digits}f}" for v in values)


def over_time(rows, every, warmup_end):
    """Rows of the table over time: one per `every` seconds, aggregating the
    samples since the previous row (calls/s over the window, failures
    summed, p50 the median and p99 the highest of the samples' values), the
    RSS and gauges at the row's time. The end of the warm-up and the end
    always get a row."""
    marks = []
    for row in rows:
        t = row["elapsed_s"]
        if (abs(t % every) < 1e-6 or abs(t - warmup_end) < 1e-6 or
                row is rows[-1]):
            marks.append(t)
    body = []
    previous = 0.0
    names = [n for n in processes(rows) if n != "driver"]
    nodes = [n for n in names if n.startswith("node")]
    runtimes = [n for n in names if n.startswith("runtime")]
    for mark in marks:
        window = [r for r in rows if previous < r["elapsed_s"] <= mark]
        if not window:
            continue
        row = window[-1]
        seconds = mark - previous
        calls = sum(r["calls"] for r in window)
        body.append(
            [f"{mark:.0f}", row["phase"], f"{calls / seconds:.0f}",
             f"{sum(r['failed'] for r in window):.0f}",
             ms(statistics.median(r["p50_us"] for r in window)),
             ms(max(r["p99_us"] for r in window)),
             "-" if row["load1"] is None else f"{row['load1']:.2f}",
             "-" if row["machine_busy_pct"] is None
             else f"{row['machine_busy_pct']:.0f}"]
            + [mib(row.get("rss_kib_" + n)) for n in names]
            + [gauge_cell(row, "memtable_mib", nodes, 1),
               gauge_cell(row, "block_cache_mib", nodes, 1),
               gauge_cell(row, "near_cache_sessions", runtimes, 0),
               gauge_cell(row, "broadcast_head", ["coordinator"], 0)])
        previous = mark
    head = (["t (s)", "phase", "calls/s", "failed", "p50 ms", "p99 ms",
             "load 1 min", "machine busy %"]
            + [f"RSS MiB {n}" for n in names]
            + ["memtable MiB (nodes)", "block cache MiB (nodes)",
               "near-cache sessions (runtimes)", "broadcast head"])
    return head, body


def bounded_buffers(rows, warmup_end, broadcast_history, near_cache):
    """What each process's bounded buffers held at the end of the warm-up,
    at the end and at most, from the sampled metrics."""
    buffers = [
        ("broadcast_head", "broadcast entries kept",
         f"{broadcast_history:,} entries (--broadcast_history)",
         lambda v: min(v, broadcast_history), "{:,.0f}"),
        ("memtable_mib", "RocksDB memtables, MiB",
         "64 MiB write buffer, 2 while one flushes", None, "{:.1f}"),
        ("block_cache_mib", "RocksDB block cache, MiB",
         "64 MiB (--block_cache_mb)", None, "{:.1f}"),
        ("near_cache_sessions", "near-cache sessions",
         f"{near_cache:,} (the group's near_cache_max_entries)", None,
         "{:,.0f}"),
    ]
    body = []
    for name in processes(rows):
        for prefix, what, bound, transform, fmt in buffers:
            key = f"{prefix}_{name}"
            series = [(r["elapsed_s"], r.get(key)) for r in rows
                      if r.get(key) is not None]
            if not series:
                continue
            series = [(t, transform(v) if transform else v)
                      for t, v in series]
            at_warmup = next((v for t, v in series if t >= warmup_end), None)
            body.append([name, what, bound,
                         "-" if at_warmup is None else fmt.format(at_warmup),
                         fmt.format(series[-1][1]),
                         fmt.format(max(v for _, v in series))])
    head = ["process", "buffer", "bound", "at the end of warm-up",
            "at the end", "max"]
    return head, body


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv", required=True)
    parser.add_argument("--summary", required=True)
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--md_every", type=float, default=60)
    parser.add_argument("--command", default="")
    parser.add_argument("--driver_command", default="")
    parser.add_argument("--fact", action="append", default=[],
                        help="name=value for the report's header")
    parser.add_argument("--broadcast_history", type=int, default=100000,
                        help="the coordinator's --broadcast_history")
    parser.add_argument("--near_cache", type=int, default=10000,
                        help="the group's near_cache_max_entries")
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()

    rows = read_samples(args.csv)
    if not rows:
        sys.exit("format_soak_results: no samples in " + args.csv)
    with open(args.summary) as f:
        summary = json.load(f)
    warmup_end = summary["warmup_seconds"]
    measured = [r for r in rows if r["phase"] == "measure"]
    verdicts = rss_verdicts(rows, warmup_end)
    judged = [v for v in verdicts if not v["missing"] and v["judged"]]
    missed = [v["name"] for v in judged if not v["met"]]
    missed += [n for n in SERVERS
               if not any(v["name"] == n for v in judged)]
    exited = [v["name"] for v in verdicts if not v["missing"] and v["exited"]]
    failed = int(summary["failed"])
    rates = [r["calls_per_s"] for r in measured]
    p99s = [r["p99_us"] for r in measured]

    verdict_lines = [
        f"- RSS growth after warm-up below {RSS_GROWTH_TARGET:.0%} for every "
        f"server process: {'yes' if not missed else 'NO (' + ', '.join(missed) + ')'}",
        f"- failed calls: {failed:,} of {int(summary['calls']):,} "
        f"(warm-up included)",
        f"- throughput over the measured {summary['duration_seconds']:.0f} s: "
        f"{summary['measured']['calls_per_s']:,.1f} calls/s on average "
        f"(offered: {summary['rate']:.0f} calls/s); {summary['interval_seconds']:.0f}-s samples from "
        f"{min(rates):,.0f} to {max(rates):,.0f}" if rates else
        "- throughput: no measured samples",
        f"- latency over the measured time: p50 "
        f"{ms(summary['measured']['p50_us'])} ms, p99 "
        f"{ms(summary['measured']['p99_us'])} ms, p99.9 "
        f"{ms(summary['measured']['p999_us'])} ms; the samples' p99: median "
        f"{ms(statistics.median(p99s))} ms, highest {ms(max(p99s))} ms"
        if p99s else "- latency: no measured samples",
        f"- visits: {int(summary['visits_started']):,} started, "
        f"{int(summary['visits_ended']):,} ended, "
        f"{int(summary['visits_abandoned']):,} left without EndSession, "
        f"{int(summary['visits_dropped']):,} dropped after a failed call",
    ]
    # The machine is shared: set the latency of quiet samples apart from
    # that of samples when the machine (all processes) was busy.
    quiet = [r["p99_us"] for r in measured if r["machine_busy_pct"] is not None
             and r["machine_busy_pct"] < BUSY_PCT]
    busy = [r["p99_us"] for r in measured if r["machine_busy_pct"] is not None
            and r["machine_busy_pct"] >= BUSY_PCT]
    if quiet or busy:
        parts = []
        for label, values in ((f"below {BUSY_PCT}%", quiet),
                              (f"at {BUSY_PCT}% or more", busy)):
            if values:
                parts.append(
                    f"{label}: {len(values)} samples, p99 median "
                    f"{ms(statistics.median(values))} ms, highest "
                    f"{ms(max(values))} ms")
        verdict_lines.append(
            "- the samples' p99 by how busy the machine was (all processes, "
            "% of all cores): " + "; ".join(parts))
    if exited:
        verdict_lines.append(f"- exited before the end: {', '.join(exited)}")
    if not summary.get("drained", True):
        verdict_lines.append("- calls were still in flight after the end")
    if summary.get("first_error"):
        verdict_lines.append(f"- first error: `{summary['first_error']}`")

    kind_head = ["call", "calls", "failed", "p50 ms", "p99 ms", "p99.9 ms"]
    kind_body = [[k["call"], f"{int(k['calls']):,}", f"{int(k['failed']):,}",
                  ms(k["p50_us"]), ms(k["p99_us"]), ms(k["p999_us"])]
                 for k in summary["calls_by_kind"]]
    m = summary["measured"]
    kind_body.append(["all", f"{int(m['calls']):,}", f"{int(m['failed']):,}",
                      ms(m["p50_us"]), ms(m["p99_us"]), ms(m["p999_us"])])

    rss_head = ["process", "RSS MiB at start", f"at {warmup_end:.0f} s (end of warm-up)",
                "at the end", "growth after warm-up", "peak, 2nd vs 1st half",
                "peak, last vs middle third", "max MiB (at s)",
                "judged by", f"< {RSS_GROWTH_TARGET:.0%}"]
    rss_body = []
    for v in verdicts:
        if v["missing"]:
            rss_body.append([v["name"]] + ["-"] * (len(rss_head) - 1))
            continue
        rss_body.append([
            v["name"] + ("" if v["judged"] else " (reference)"),
            mib(v["first"]), mib(v["warmup"]), mib(v["end"]),
            pct(v["growth"]), pct(v["halves"]), pct(v["last_third"]),
            f"{mib(v['peak'])} ({v['peak_t']:.0f})",
            "peaks (saw-tooth)" if v["sawtooth"] else "end vs warm-up",
            ("yes" if v["met"] else "NO") if v["judged"] else "-"])

    time_head, time_body = over_time(rows, args.md_every, warmup_end)
    buffer_head, buffer_body = bounded_buffers(
        rows, warmup_end, args.broadcast_history, args.near_cache)

    print("\n".join(verdict_lines))
    print()
    print(text_table(rss_head, rss_body))

    facts = dict(fact.split("=", 1) for fact in args.fact)
    shown_csv = args.csv
    if "/bench/results/" in shown_csv:
        shown_csv = shown_csv[shown_csv.index("/bench/results/") + 1:]
    with open(args.markdown, "w") as out:
        out.write("# Soak run: latest\n\n")
        out.write(f"Command: `{args.command}`\n\n")
        for name, value in facts.items():
            out.write(f"- {name}: {value}\n")
        out.write(
            f"- run: {warmup_end:.0f} s warm-up + "
            f"{summary['duration_seconds']:.0f} s measured, a sample every "
            f"{summary['interval_seconds']:.0f} s "
            f"(all samples: {shown_csv})\n")
        out.write("\n## Verdict\n\n")
        out.write("\n".join(verdict_lines) + "\n\n")
        out.write("## RSS per process\n\n")
        out.write(
            "Growth after warm-up = (RSS at the end - RSS at the end of the "
            "warm-up) / RSS at the end of the warm-up; the target applies to "
            "the server processes (the driver is a reference). A process "
            "whose RSS saw-tooths (it fell by more than 10% from its highest "
            "value after the warm-up, as a cache node's does when RocksDB "
            "flushes a memtable) is judged by \"peak, 2nd vs 1st half\": the "
            "highest RSS of the second half of the measured time over that "
            "of the first half, since its end and warm-up values land at "
            "arbitrary points of the cycle. \"Peak, last vs middle third\" "
            "is the same over thirds.\n\n")
        out.write(md_table(rss_head, rss_body) + "\n\n")
        if buffer_body:
            out.write("## Bounded buffers\n\n")
            out.write(
                "Memory the servers may fill up to a bound, from their "
                "metrics: RSS grows while these fill and levels off once "
                "they are full (a cache node's memtable empties when it is "
                "flushed, so its RSS saw-tooths; freed memory stays with the "
                "allocator for the next memtable).\n\n")
            out.write(md_table(buffer_head, buffer_body) + "\n\n")
        out.write("## Calls over the measured time\n\n")
        out.write(md_table(kind_head, kind_body) + "\n\n")
        out.write(f"## Over time (a row every {args.md_every:.0f} s)\n\n")
        out.write(
            "calls/s over the row's window; failed summed over it; p50 the "
            "median and p99 the highest of its samples' values; RSS and "
            "the metrics (per node: node1 / node2 / node3; per runtime "
            "server: runtime1 / runtime2) at the row's time; machine busy: "
            "all processes, % of all cores.\n\n")
        out.write(md_table(time_head, time_body) + "\n\n")
        if args.driver_command:
            out.write("## Command of the driver\n\n")
            out.write(f"- `{args.driver_command}`\n")
    if args.strict and (missed or failed or exited or
                        not summary.get("drained", True)):
        sys.exit("format_soak_results: target missed or calls failed")


if __name__ == "__main__":
    main()
