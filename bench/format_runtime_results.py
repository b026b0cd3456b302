#!/usr/bin/python3
"""Turns the rounds of bench/run_runtime_bench.sh into its table of results.

Each --round directory holds runtime_bench.jsonl (runtime_bench's JSON
lines: ping, get_offers, get_offers_many_rules, get_offers_sticky,
get_offers_half_load, get_offers_fixed_load, get_offers_serial). Ratios are
taken within each round, then their median over the rounds is compared with
the target; the half-load p99 is the median of the rounds' p99. Prints the
tables and writes them (markdown)
with the machine facts and the command to --markdown. With --strict, exits
1 when a target is missed.
"""

import argparse
import json
import os
import statistics
import sys

from report_tables import md_table, text_table

# The targets.
THROUGHPUT_RATIO_TARGET = 0.33   # get_offers / ping, at least
HALF_LOAD_P99_TARGET_US = 2000   # get_offers_half_load p99, at most
RULES_P50_RATIO_TARGET = 1.5     # get_offers_many_rules / get_offers p50, at most

CPUS = os.cpu_count() or 1


def read_round(directory):
    rows = {}
    with open(os.path.join(directory, "runtime_bench.jsonl")) as f:
        for line in f:
            line = line.strip()
            if line:
                row = json.loads(line)
                rows[row["mode"]] = row
    return rows


def cpu_summary(runs):
    """Median CPU use (% of one core) of the bench and each server kind."""
    kinds = [("bench", lambda k: k == "bench"),
             ("runtimes", lambda k: k.startswith("runtime")),
             ("cache nodes", lambda k: k.startswith("node")),
             ("coordinator", lambda k: k == "coordinator"),
             # The machine's busy time beyond these: other processes.
             ("others", None)]
    parts = []
    for label, match in kinds:
        values = []
        for r in runs:
            cpu = r.get("cpu_percent") or {}
            if match is not None:
                values.append(sum(v for k, v in cpu.items() if match(k)))
            elif "machine" in cpu:
                values.append(max(0.0, cpu["machine"] - sum(
                    v for k, v in cpu.items() if k != "machine")))
        if values:
            parts.append(f"{label} {statistics.median(values):.0f}")
    return ", ".join(parts) or "-"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--round", action="append", required=True,
                        help="directory of one round (repeat per round)")
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--bench_command", default="")
    parser.add_argument("--fact", action="append", default=[])
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()

    rounds = [read_round(d) for d in args.round]
    n = len(rounds)
    modes = []
    for r in rounds:
        modes += [m for m in r if m not in modes]

    figure_head = ("mode", "what", "ops/s (median)", "ops/s per round",
                   "p50 us", "p99 us", "p99.9 us", "errors",
                   "CPU, % of one core (median)")
    figures = []
    for mode in modes:
        runs = [r[mode] for r in rounds if mode in r]
        first = runs[0]
        if mode == "ping":
            what = "cache node unary Ping"
        else:
            what = (f"{first.get('rules', '?')} rules, {first['target']}, "
                    f"{first['concurrency']} in flight")
            if first.get("load") == "open loop":
                offered = statistics.median(r["offered_ops_per_sec"]
                                            for r in runs)
                what += f" at most, open loop at {offered:,.0f} ops/s offered"
        figures.append((
            mode, what,
            f"{statistics.median(r['ops_per_sec'] for r in runs):,.0f}",
            " / ".join(f"{r['ops_per_sec']:,.0f}" for r in runs),
            f"{statistics.median(r['p50_us'] for r in runs):,.0f}",
            f"{statistics.median(r['p99_us'] for r in runs):,.0f}",
            f"{statistics.median(r['p999_us'] for r in runs):,.0f}",
            str(sum(r["errors"] for r in runs)),
            cpu_summary(runs)))

    # CPU per operation: what each kind of process spent on one call, the
    # ratio of throughputs when the machine's cores are the limit.
    cost_head = ("mode", "bench", "runtimes", "cache nodes", "coordinator",
                 "total", "machine busy, % of all cores")
    costs = []
    for mode in modes:
        runs = [r[mode] for r in rounds if mode in r and
                r[mode]["ops_per_sec"] > 0 and r[mode].get("cpu_percent")]
        if not runs:
            continue
        row = [mode]
        kinds = [lambda k: k == "bench", lambda k: k.startswith("runtime"),
                 lambda k: k.startswith("node"), lambda k: k == "coordinator",
                 lambda k: k != "machine"]
        for match in kinds:
            micros = [sum(v for k, v in r["cpu_percent"].items() if match(k))
                      / 100 / r["ops_per_sec"] * 1e6 for r in runs]
            row.append(f"{statistics.median(micros):,.0f} us")
        busy = [r["cpu_percent"]["machine"] / (100 * CPUS) * 100
                for r in runs if "machine" in r["cpu_percent"]]
        row.append(f"{statistics.median(busy):.0f}%" if busy else "-")
        costs.append(tuple(row))

    target_head = ("figure", "median", "per round", "target", "met", "what")
    targets = []
    missed = 0

    def add(name, values, target, at_least, fmt, note):
        nonlocal missed
        if not values:
            return
        median = statistics.median(values)
        if target is None:
            target_text, met = "-", "-"
        else:
            ok = (lambda v: v >= target) if at_least else \
                (lambda v: v <= target)
            target_text = (">= " if at_least else "<= ") + fmt(target)
            hits = sum(ok(v) for v in values)
            met = ("yes" if ok(median) else "NO") + \
                f" ({hits}/{len(values)} rounds)"
            missed += not ok(median)
        targets.append((name, fmt(median),
                        " / ".join(fmt(v) for v in values), target_text, met,
                        note))

    def each_round(mode, field):
        return [r[mode][field] for r in rounds if mode in r]

    def ratio(top, bottom, field):
        return [r[top][field] / r[bottom][field] for r in rounds
                if top in r and bottom in r and r[bottom][field] > 0]

    def two(v):
        return f"{v:.2f}"

    def micros(v):
        return f"{v:,.0f} us"

    add("get_offers / ping, throughput",
        ratio("get_offers", "ping", "ops_per_sec"),
        THROUGHPUT_RATIO_TARGET, True, two,
        "GetOffers (session write, R=3 W=2, invalidation) vs an empty "
        "cache-tier call")
    add("get_offers_half_load p99",
        each_round("get_offers_half_load", "p99_us"),
        HALF_LOAD_P99_TARGET_US, False, micros,
        "open loop at half of get_offers' throughput; latency from when "
        "each call was due")
    add("get_offers_many_rules / get_offers, p50",
        ratio("get_offers_many_rules", "get_offers", "p50_us"),
        RULES_P50_RATIO_TARGET, False, two,
        "both at the same concurrency, closed loop; only the rule count "
        "differs")
    add("get_offers p99 (full load)",
        each_round("get_offers", "p99_us"),
        None, False, micros, "reference: closed loop at the concurrency")
    add("get_offers_half_load p50",
        each_round("get_offers_half_load", "p50_us"),
        None, False, micros, "reference")
    add("get_offers_fixed_load p99",
        each_round("get_offers_fixed_load", "p99_us"),
        None, False, micros,
        "reference: open loop at a fixed offered load (the same in every "
        "run), latency from when each call was due")
    add("get_offers_serial p50",
        each_round("get_offers_serial", "p50_us"),
        None, False, micros, "reference: one call in flight (no queueing)")
    add("get_offers_serial p99",
        each_round("get_offers_serial", "p99_us"),
        None, False, micros, "reference: one call in flight (no queueing)")
    add("get_offers_half_load achieved / offered",
        [r["get_offers_half_load"]["ops_per_sec"] /
         r["get_offers_half_load"]["offered_ops_per_sec"] for r in rounds
         if "get_offers_half_load" in r and
         r["get_offers_half_load"]["offered_ops_per_sec"] > 0],
        None, False, two, "reference: 1.00 when the servers kept up")
    add("get_offers_many_rules / get_offers, throughput",
        ratio("get_offers_many_rules", "get_offers", "ops_per_sec"),
        None, False, two, "reference")
    add("get_offers_sticky / get_offers, throughput",
        ratio("get_offers_sticky", "get_offers", "ops_per_sec"),
        None, False, two,
        "reference: every call on the session's own server (near-cache "
        "hits) vs a random server")

    print(text_table(figure_head, figures))
    print()
    print(text_table(cost_head, costs))
    print()
    print(text_table(target_head, targets))

    facts = dict(fact.split("=", 1) for fact in args.fact)
    with open(args.markdown, "w") as out:
        out.write("# Runtime GetOffers benchmark: latest run\n\n")
        out.write(f"Command: `{args.command}`\n\n")
        for name, value in facts.items():
            out.write(f"- {name}: {value}\n")
        out.write(f"\n## Figures (median of {n} round(s))\n\n")
        out.write(md_table(figure_head, figures) + "\n\n")
        out.write("## CPU per operation (median over the rounds)\n\n")
        out.write(md_table(cost_head, costs) + "\n\n")
        out.write("## Targets (ratios within each round; median)\n\n")
        out.write(md_table(target_head, targets) + "\n\n")
        if args.bench_command:
            out.write("## Command of the benchmark\n\n")
            out.write(f"- `{args.bench_command}`\n\n")
        out.write("## Raw output\n")
        for i, directory in enumerate(args.round, 1):
            out.write(f"\nRound {i}:\n\n```\n")
            with open(os.path.join(directory, "runtime_bench.jsonl")) as f:
                out.write(f.read())
            out.write("```\n")
    if args.strict and missed:
        sys.exit(f"format_runtime_results: {missed} target(s) missed")


if __name__ == "__main__":
    main()
