"""``make bench``: run every benchmark once, print one table and write it to ``benchmarks/results.md``.

The parts run one after another, each in its own process (sentry-sdk patches the logging module of the
process it lives in; the storm measures its own process's memory):

- ``caller_cost.py``: the cost of one logging call, every setup interleaved in one process;
- ``storm_cpu.py``: all-thread CPU per storm and per distinct record, and the application throughput lost
  while 1,000 storm records a second are logged, beside the peers;
- ``memory.py``: memory per held record and for a full queue, with 1 KB and 1 MB bodies;
- ``delivery.py``: 2,000 logs to the Inbox over one connection, pacing and summaries off;
- ``storm.py``: 10,000 records of 7 kinds in 10 s at the default limits;
- ``startstop.py``: import time, ``--version``, and a short script's whole life with and without the handler.

``--quick`` runs each part briefly (a smoke test of the harness, not numbers to commit).

A plain script rather than pyperf: pyperf runs one benchmark per worker process and reports means of
whole loops, while the question here is the per-call median and p99 of several setups measured side by
side in the same process, in interleaved rounds, so that one noisy phase of a shared machine hits them all.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CASES = {
    "a": '(a) `log.error("...")`',
    "b": "(b) `log.error(..., extra={request, response})`, ~1 KB",
    "c": "(c) `log.exception(...)` in `except HTTPError`",
}
SETUPS = ("null", "queue_null", "queue", "sendcloud", "logstash", "sentry")
TARGETS = {"a": 1.3, "b": 1.0, "c": 0.3}
BASELINE = "queue_null"  # the caller's side of QueueHandler + QueueListener feeding a NullHandler
STORM_CPU_TARGET = 0.25
THROUGHPUT_TARGET = 0.15
VERSION_TARGET_MS = 150.0
IMPORT_TARGET_MS = 20.0


def run_part(script: str, *args: str) -> dict[str, Any]:
    print(f"== {script} {' '.join(args)}", file=sys.stderr, flush=True)
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(HERE / script), *args], stdout=subprocess.PIPE, check=True, text=True)
    print(f"   {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def machine() -> dict[str, str]:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), model)
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
            memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    versions = []
    for package in ("sendcloud-logging", "requests", "urllib3", "sentry-sdk", "python-logstash-async"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{model}, {os.cpu_count()} CPUs, {memory}, {platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "versions": ", ".join(versions),
    }


def _us(value: float) -> str:
    return f"{value:,.0f} µs" if value >= 100 else f"{value:.1f} µs"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def table(results: dict[str, Any]) -> str:
    caller = results["caller"]
    cases, labels = caller["cases"], caller["labels"]
    rows = ["| measure | setup | median | p99 | ratio | target |", "|---|---|---|---|---|---|"]
    for case, title in CASES.items():
        base = cases[BASELINE if BASELINE in cases else "queue"][case]["median_us"]
        for key in SETUPS:
            if key not in cases:
                continue
            cell = cases[key][case]
            ratio = cell["median_us"] / base
            spread = _round_spread(cell, cases[BASELINE if BASELINE in cases else "queue"][case])
            target = ""
            if key == "sendcloud":
                target = f"≤ {TARGETS[case]}x QueueHandler + NullHandler: {_verdict(ratio <= TARGETS[case])}"
                if case == "c" and "sentry" in cases:
                    cheaper = cases["sentry"]["c"]["median_us"] / cell["median_us"]
                    target += f"; {cheaper:,.0f}x cheaper than sentry-sdk (≥ 20x): {_verdict(cheaper >= 20)}"
            rows.append(f"| {title} | {labels[key]} | {_us(cell['median_us'])} | {_us(cell['p99_us'])} "
                        f"| {ratio:.2f}x{spread} | {target} |")
    rows.extend(storm_rows(results["storm_cpu"]))
    rows.extend(memory_rows(results["memory"]["memory"]))
    for run in results["delivery"]["delivery"]:
        where = "the Inbox" if run["receiver"] == "inbox" else "a minimal HTTP sink (answers at once)"
        target = ""
        rows.append(f"| delivery: {run['logs']:,} logs to {where} | SendcloudHandler, pacing off "
                    f"| {run['logs_per_s']:,.0f} logs/s | {run['seconds']:.2f} s in all | "
                    f"{run['connections']} TCP connection(s), {run['received']:,} received | {target} |")
    ceilings = results["delivery"].get("ceilings")
    if ceilings:
        rows.append(f"| ceiling: `SendcloudClient.create_log` back to back, no handler | requests, one session "
                    f"| Inbox {ceilings['client_inbox']['posts_per_s']:,.0f} POSTs/s | minimal sink "
                    f"{ceilings['client_sink']['posts_per_s']:,.0f} POSTs/s "
                    f"| {ceilings['client_sink']['cpu_ms_per_post']:.2f} ms CPU a POST | |")
        rows.append(f"| ceiling: the Inbox alone | bare `http.client`, one connection "
                    f"| {ceilings['bare_inbox']['posts_per_s']:,.0f} POSTs/s | | | |")
    for storm in results["storm"]["storm"]:
        limited = "" if storm["inbox_rate_limited"] else " (this Inbox has no rate limit)"
        how = "spread evenly" if storm["paced"] else "as fast as one thread can"
        rows.append(
            f"| storm: {storm['records']:,} records of {storm['kinds']} kinds, {how}, "
            f"in {storm['seconds_logging']:.1f} s | SendcloudHandler, defaults "
            f"| RSS +{storm['rss_growth_mib']:.1f} MiB "
            f"| {storm['posts']} POSTs, {storm['status_429']} x 429{limited} | {storm['kinds_delivered']}/"
            f"{storm['kinds']} kinds, {storm['records_accounted']:,} records accounted for "
            f"| RSS growth ≤ 30 MB: {_verdict(storm['rss_growth_mib'] * 1.048576 <= 30)} |"
        )
    start = results["startstop"]["startstop"]
    imports, process = start["imports"], start["process"]
    requests_ms = imports["requests_ms"]
    for key, label in (("import_ms", "`import sendcloud_logging`"),
                       ("handler_ms", "`from sendcloud_logging import SendcloudHandler`")):
        added = imports[key] - requests_ms
        target = f"≤ requests + {IMPORT_TARGET_MS:.0f} ms: {_verdict(added <= IMPORT_TARGET_MS)}" \
            if key == "import_ms" else ""
        rows.append(f"| import time | {label} | {imports[key]:.0f} ms | requests alone {requests_ms:.0f} ms "
                    f"| {added:+.0f} ms | {target} |")
    rows.append(f"| start-up | `sendcloud-logging --version` (whole process) | {imports['version_ms']:.0f} ms | | "
                f"| < {VERSION_TARGET_MS:.0f} ms: {_verdict(imports['version_ms'] < VERSION_TARGET_MS)} |")
    wall, exit_ = process["wall_ms"], process["exit_ms"]
    added = exit_["empty"] - exit_["without"]
    rows.append(f"| script: dictConfig, one `log.error`, exit | without the handler (NullHandler) "
                f"| {wall['without']:.0f} ms | exit {exit_['without']:.0f} ms | 1.00x | |")
    rows.append(f"| same | SendcloudHandler, the record delivered at exit | {wall['pending']:.0f} ms "
                f"| exit {exit_['pending']:.0f} ms | {wall['pending'] / wall['without']:.2f}x | |")
    rows.append(f"| same | SendcloudHandler, queue empty at exit | {wall['empty']:.0f} ms "
                f"| exit {exit_['empty']:.0f} ms | {wall['empty'] / wall['without']:.2f}x "
                f"| exit +{added:.0f} ms (≤ 20 ms): {_verdict(added <= 20)} |")
    rows.append(f"| `close()`, queue empty (what `logging.shutdown()` calls) | SendcloudHandler "
                f"| {start['close']['close_ms']:.1f} ms | | | |")
    return "\n".join(rows)


def _round_spread(cell: dict[str, Any], base: dict[str, Any]) -> str:
    """The ratio's range over the rounds: each round's median against the baseline's of the same round."""
    mine, theirs = cell.get("round_medians_us"), base.get("round_medians_us")
    if not mine or not theirs or mine is theirs:
        return ""
    ratios = [a / b for a, b in zip(mine, theirs) if b]
    return f" ({min(ratios):.2f} to {max(ratios):.2f})" if ratios else ""


def _spread(cell: dict[str, float], scale: float = 1.0, unit: str = "µs") -> str:
    lo, hi = cell["min"] * scale, cell["max"] * scale
    return f"{lo:,.1f} to {hi:,.1f} {unit}" if hi < 100 else f"{lo:,.0f} to {hi:,.0f} {unit}"


def storm_rows(part: dict[str, Any]) -> list[str]:
    rows = []
    cpu = part["cpu"]
    base = cpu["cpu_us"]["queue_null"]["median"]
    for key, label in cpu["labels"].items():
        cell = cpu["cpu_us"][key]
        ratio = cell["median"] / base
        target = ""
        if key == "sendcloud_storm":
            target = f"≤ {STORM_CPU_TARGET}x QueueHandler + NullHandler: {_verdict(ratio <= STORM_CPU_TARGET)}"
        rows.append(f"| all-thread CPU per record, `log.exception` + ~1 KB extras ({cpu['records'][key]:,} a round) "
                    f"| {label} | {_us(cell['median'])} | {_spread(cell)} over {cpu['rounds']} rounds "
                    f"| {ratio:.2f}x | {target} |")
    during = cpu["distinct_during_storm_ms"]
    rows.append(f"| a distinct record logged during a storm, until delivered | SendcloudHandler (defaults) "
                f"| {during['median']:.0f} ms | max {during['max']:.0f} ms | | goes out at once: "
                f"{_verdict(during['max'] < 1000)} |")
    app = part["throughput"]
    for key, label in app["labels"].items():
        cell = app["lost"][key]
        target = ""
        if key == "sendcloud":
            target = f"≤ {THROUGHPUT_TARGET:.0%}: {_verdict(cell['median'] <= THROUGHPUT_TARGET)}"
        rate = app["records_per_s"][key]
        rows.append(f"| application throughput lost, 1,000 storm records/s ({rate:,.0f} logged/s) "
                    f"| {label} | {cell['median']:.1%} | {cell['min']:.1%} to {cell['max']:.1%} "
                    f"over {app['rounds']} rounds | | {target} |")
    return rows


def memory_rows(part: dict[str, Any]) -> list[str]:
    rows = []
    bound = part["max_memory_bytes"] / 1024 / 1024
    for held, full in zip(part["held"], part["full"]):
        size = "1 KB" if held["body_bytes"] < 100_000 else "1 MB"
        rows.append(f"| memory per held record, {size} request and response bodies ({held['records']} records) "
                    f"| SendcloudHandler, API unreachable | {held['per_record_bytes'] / 1024:,.1f} KiB | | | |")
        dropped = ", ".join(f"{n:,} {reason}" for reason, n in sorted(full["dropped"].items())) or "none dropped"
        mib = full["held_bytes"] / 1024 / 1024
        rows.append(f"| memory of a full queue, {size} bodies ({full['records']:,} records logged at once) "
                    f"| SendcloudHandler, defaults, API unreachable | {mib:,.1f} MiB | {full['kept']:,} kept; "
                    f"{dropped} | | ≤ max_memory_bytes ({bound:.0f} MiB): {_verdict(mib <= bound)} |")
    return rows


def render(results: dict[str, Any], info: dict[str, str], seconds: float) -> str:
    caller = results["caller"]
    return f"""# Benchmarks

`make bench` ({seconds:.0f} s), {info['date']}.
Machine: {info['machine']}. Python: {info['python']}.
Versions: {info['versions']}.

{table(results)}

How to read it:

- Caller cost: one logging call, timed alone with `perf_counter_ns` ({caller['rounds']} interleaved rounds of
  {caller['calls']} calls per setup and case, sentry-sdk {max(10, caller['calls'] // 5)}; timer overhead
  {caller['timer_overhead_ns']:.0f} ns, included everywhere), after warm-up records. Ratios are medians
  against QueueHandler + QueueListener feeding a NullHandler: the caller's side of the stdlib queue alone; in
  brackets the range of the ratio over the rounds (each round's median against the baseline's in that round).
- CPU per record: process time of all threads from the first call until the setup's background work is done,
  per record, setups interleaved over rounds (median, and the range over the rounds). Storm records are one
  failure logged again and again; distinct records each carry a message of their own.
- Application throughput: a CPU-bound thread's loop iterations, alone and while another thread logs 1,000
  storm records a second, in alternating halves; each (setup, round) in its own process.
- Memory: Python allocations (tracemalloc) the handler holds while the API is unreachable.
- The logged request and response are a real failed POST ({caller['http_bytes']} bytes of headers and bodies). The peers run with their defaults:
  sentry-sdk `init(dsn=...)` to a local HTTP sink, python-logstash-async TCP to a local sink.
- Delivery: from the first `log.error` until the receiver has them all; the receivers run in their own process.
- Storm: peak RSS of the logging process over its start, measured as {results['storm']['storm'][0]['rss_peak_source']};
  the handler is closed at the end, which sends the open summaries, as at process exit.
- Start and stop: medians of {results['startstop']['startstop']['process']['runs']} runs of each script,
  interleaved; "exit" is the time from the script's last line until the process is gone.

Reproduce: `make bench` (creates `benchmarks/.venv` with the peers from `benchmarks/requirements.txt`).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and runs: a smoke test, not numbers")
    parser.add_argument("--output", default=str(HERE / "results.md"))
    args = parser.parse_args()
    started = time.monotonic()
    quick = args.quick
    results = {
        "caller": run_part("caller_cost.py", *(["--rounds", "3"] if quick else [])),
        "storm_cpu": run_part("storm_cpu.py", *(["--rounds", "3", "--seconds", "1", "--storm-records", "500",
                                                 "--distinct-records", "50"] if quick else [])),
        "memory": run_part("memory.py", *(["--records", "50", "--full", "1500"] if quick else [])),
        "delivery": run_part("delivery.py", *(["--logs", "300"] if quick else [])),
        "storm": run_part("storm.py", *(["--records", "1000", "--seconds", "2"] if quick else [])),
        "startstop": run_part("startstop.py", *(["--runs", "3"] if quick else [])),
    }
    text = render(results, machine(), time.monotonic() - started)
    sys.stdout.write(text)
    Path(args.output).write_text(text, encoding="utf-8")
    Path(args.output).with_suffix(".json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"\nwritten to {_relative(Path(args.output))}", file=sys.stderr)


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    main()
