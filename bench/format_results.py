#!/usr/bin/python3
"""Turns the rounds of bench/run_cache_bench.sh into its table of results.

Each --round directory holds cache_bench.jsonl (cache_bench's JSON lines)
and redis_get.csv / redis_set.csv (redis-benchmark --csv; Redis 7 prints
rps and latency percentiles in milliseconds). Ratios of throughput are
taken within each round, then their median over the rounds is compared
with the target. Prints the tables and writes them (markdown) with the
machine facts and the commands to --markdown. With --strict, exits 1 when
a target is missed.
"""

import argparse
import csv
import json
import os
import statistics
import sys

from report_tables import md_table, text_table

# (numerator, denominator, target or None, what it shows); the targets are
# the issue's.
RATIOS = [
    ("get_unary_ping_node", "ping", 0.80,
     "unary Get vs unary Ping, both on the same node"),
    ("put_unary_ping_node", "ping", 0.33,
     "unary Put (R=3, W=2) vs unary Ping, both sent to the same node"),
    ("get_unary", "ping", None,
     "reference: unary Get spread over the 3 primaries vs Ping on one node"),
    ("put_unary", "ping", None,
     "reference: unary Put spread over the 3 primaries vs Ping on one node"),
    ("get_pipelined", "redis_get", 0.50, "client library Get vs Redis GET"),
    ("put_pipelined", "redis_set", None,
     "client library Put (R=3, W=2) vs Redis SET (one copy)"),
    ("ping", "redis_get", None,
     "reference: empty unary gRPC call vs Redis GET (issue: ~0.45)"),
    ("ping_pipelined", "redis_get", None,
     "reference: empty operation on the library's streams vs Redis GET"),
    ("get_unary", "ping_spread", None,
     "reference: unary Get vs unary Ping spread over the same 3 nodes"),
    ("put_unary", "ping_spread", None,
     "reference: unary Put vs unary Ping spread over the same 3 nodes"),
    ("get_pipelined", "get_unary", None, "library path vs unary Get"),
    ("put_pipelined", "put_unary", None, "library path vs unary Put"),
]


def read_cache(path):
    rows = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                row = json.loads(line)
                rows[row["mode"]] = row
    return rows


def read_redis(path, name):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"format_results: no result in {path}")
    row = rows[0]
    return {
        "mode": name,
        "ops_per_sec": float(row["rps"]),
        "p50_us": float(row["p50_latency_ms"]) * 1000,
        "p99_us": float(row["p99_latency_ms"]) * 1000,
        "errors": 0,
        "cpu_percent": {},
    }


def read_round(directory):
    rows = read_cache(os.path.join(directory, "cache_bench.jsonl"))
    rows["redis_get"] = read_redis(
        os.path.join(directory, "redis_get.csv"), "redis_get")
    rows["redis_set"] = read_redis(
        os.path.join(directory, "redis_set.csv"), "redis_set")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--round", action="append", required=True,
                        help="directory of one round (repeat per round)")
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--command", required=True)
    parser.add_argument("--bench_command", default="")
    parser.add_argument("--redis_command", default="")
    parser.add_argument("--fact", action="append", default=[])
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()

    rounds = [read_round(d) for d in args.round]
    n = len(rounds)
    modes = list(rounds[0].keys())

    # Figures: median over the rounds of throughput and latencies.
    figure_head = ("mode", "ops/s (median)", "ops/s per round", "p50 us",
                   "p99 us", "errors", "CPU, % of one core (median)")
    figures = []
    for mode in modes:
        runs = [r[mode] for r in rounds if mode in r]
        # This process and the servers together (which node serves a
        # ping_pipelined stream changes from round to round).
        bench = [r["cpu_percent"].get("bench", 0) for r in runs]
        servers = [sum(v for k, v in r["cpu_percent"].items() if k != "bench")
                   for r in runs]
        cpu = (f"bench {statistics.median(bench):.0f} + servers "
               f"{statistics.median(servers):.0f}"
               if runs[0]["cpu_percent"] else "")
        figures.append((
            mode,
            f"{statistics.median(r['ops_per_sec'] for r in runs):,.0f}",
            " / ".join(f"{r['ops_per_sec']:,.0f}" for r in runs),
            f"{statistics.median(r['p50_us'] for r in runs):,.0f}",
            f"{statistics.median(r['p99_us'] for r in runs):,.0f}",
            str(sum(r["errors"] for r in runs)),
            cpu or "-"))

    # Ratios: within each round, then the median.
    ratio_head = ("ratio", "median", "per round", "target", "met",
                  "what")
    ratios = []
    missed = 0
    for top, bottom, target, note in RATIOS:
        values = []
        for r in rounds:
            if top in r and bottom in r and r[bottom]["ops_per_sec"] > 0:
                values.append(r[top]["ops_per_sec"] / r[bottom]["ops_per_sec"])
        if not values:
            continue
        median = statistics.median(values)
        if target is None:
            target_text, met = "-", "-"
        else:
            target_text = f">= {target:.2f}"
            hits = sum(v >= target for v in values)
            met = ("yes" if median >= target else "NO") + \
                f" ({hits}/{len(values)} rounds)"
            missed += median < target
        ratios.append((f"{top} / {bottom}", f"{median:.2f}",
                       " / ".join(f"{v:.2f}" for v in values), target_text,
                       met, note))

    print(text_table(figure_head, figures))
    print()
    print(text_table(ratio_head, ratios))

    facts = dict(fact.split("=", 1) for fact in args.fact)
    with open(args.markdown, "w") as out:
        out.write("# Cache tier benchmark: latest run\n\n")
        out.write(f"Command: `{args.command}`\n\n")
        for name, value in facts.items():
            out.write(f"- {name}: {value}\n")
        out.write(f"\n## Figures (median of {n} round(s))\n\n")
        out.write(md_table(figure_head, figures) + "\n\n")
        out.write("## Ratios of throughput (within each round; median)\n\n")
        out.write(md_table(ratio_head, ratios) + "\n\n")
        out.write("## Commands\n\n")
        out.write(f"- `{args.bench_command}`\n")
        out.write(f"- `{args.redis_command}`\n\n")
        out.write("## Raw output\n")
        for i, directory in enumerate(args.round, 1):
            out.write(f"\nRound {i}:\n\n```\n")
            with open(os.path.join(directory, "cache_bench.jsonl")) as f:
                out.write(f.read())
            for name in ("redis_set.csv", "redis_get.csv"):
                with open(os.path.join(directory, name)) as f:
                    out.write(f.read())
            out.write("```\n")
    if args.strict and missed:
        sys.exit(f"format_results: {missed} target(s) missed")


if __name__ == "__main__":
    main()
