#!/usr/bin/python3
"""bench/producer/bench.py -- stockpipe-producer benchmark (prints figures; not a test).

1. Polling: 200 symbols (--symbols) against a fake Yahoo server with 100 ms
   added latency per request: bench/producer/fast_yahoo (C, single-threaded
   epoll; default) or producer/test/fake_yahoo.py (--server python: Python
   threads, which on a 2-core machine shared with the producer become the
   bottleneck).  Every live request (range=1d&interval=1d) gets the fixture's
   day as one bar (fake_yahoo.day_chart, ~1.5 KB), or with --body minutes the
   recorded day of minutes (36 KB) that the older request (interval=1m) got.
   Reports the live cycle time against one request's latency measured in the
   same run (ratio; target <= 1.2, issue 13) and the producer's CPU time per
   cycle.
2. Sim: the sim source's maximum publish rate to stockpipe-broker (quotes/s,
   counted until every message is acknowledged).

Usage: bench/producer/bench.py [--symbols 200] [--latency-ms 100] [--cycles 10]
                               [--sim-count 200000] [--server fast|python]
                               [--encoding gzip|identity] [--fixture-symbol AAPL|WKND]
                               [--body day|minutes] [--no-sim]
Starts its own broker and fake server on 127.0.0.1 and stops them.
"""
import argparse
import gzip
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PRODUCER = os.path.join(ROOT, "producer", "stockpipe-producer")
FAKE = os.path.join(ROOT, "producer", "test", "fake_yahoo.py")
FAST = os.path.join(HERE, "fast_yahoo")
FAST_FIXTURES = {"AAPL": "chart_AAPL_1d_1m.json",              # as fake_yahoo.py's LIVE table
                 "WKND": "chart_AAPL_1m_weekend_no_bars.json"}
sys.path.insert(0, os.path.dirname(FAKE))
sys.dont_write_bytecode = True     # no __pycache__ in producer/test/
from fake_yahoo import day_chart   # noqa: E402  the live answer, as the tests' server makes it
BROKER = os.environ.get("STOCKPIPE_BROKER", os.path.join(ROOT, "bin", "stockpipe-broker"))
FIXTURES = os.environ.get("STOCKPIPE_FIXTURES",
                          os.path.join(ROOT, "..", "shared", "fixtures", "yahoo"))
TICK = os.sysconf("SC_CLK_TCK")


def wait_file(path, timeout=20):
    deadline = time.monotonic() + timeout
    while not (os.path.exists(path) and os.path.getsize(path) > 0):
        if time.monotonic() > deadline:
            sys.exit("bench: %s did not appear" % path)
        time.sleep(0.05)
    with open(path) as f:
        return f.read().split()[0]


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK   # utime + stime


def cycles_in(log):
    with open(log) as f:
        return [int(m) for m in re.findall(r"live cycle of \d+ request\(s\) in (\d+) ms", f.read())]


def poll_bench(args, tmp, brokers, url):
    common = [PRODUCER, "--brokers", brokers, "--yahoo-url", url, "--always", "--no-daily",
              "--log-level", "debug", "--stats-interval", "0"]
    # one request's latency, as the producer sees it (connection set up, then reused)
    log1 = os.path.join(tmp, "single.log")
    with open(log1, "w") as f:
        p = subprocess.Popen(common + ["--symbols", "B0001", "--interval", "300ms",
                                       "--live-topic", "bench_single"], stderr=f)
    deadline = time.monotonic() + 60
    while len(cycles_in(log1)) < 6 and time.monotonic() < deadline:
        time.sleep(0.1)
    p.send_signal(signal.SIGTERM)
    p.wait()
    single = statistics.median(cycles_in(log1)[1:])

    syms = ",".join("B%04d" % i for i in range(1, args.symbols + 1))
    log = os.path.join(tmp, "poll.log")
    with open(log, "w") as f:
        p = subprocess.Popen(common + ["--symbols", syms, "--interval", "1s",
                                       "--live-topic", "bench_live"], stderr=f)
    deadline = time.monotonic() + 120
    cpu0 = None
    while time.monotonic() < deadline:
        n = len(cycles_in(log))
        if cpu0 is None and n >= 2:        # after the cycle that opens the connections
            cpu0, n0 = cpu_seconds(p.pid), n
        if n >= args.cycles + 2:
            cpu1, n1 = cpu_seconds(p.pid), n
            break
        time.sleep(0.02)
    else:
        p.kill()
        sys.exit("bench: polling did not complete %d cycles" % args.cycles)
    p.send_signal(signal.SIGTERM)
    p.wait()
    times = cycles_in(log)
    steady = times[1:]
    print("polling: %d symbols, fake server latency %d ms per request, %s fixture, %s server%s"
          % (args.symbols, args.latency_ms, args.fixture_symbol, args.server,
             ", %s bodies" % args.encoding if args.server == "fast" else ", gzip bodies"))
    print("  live body                                  : %s" % args.body_text)
    print("  one request (1 symbol, median of %d)       : %d ms" % (len(cycles_in(log1)) - 1, single))
    print("  first cycle (opens %d connections)         : %d ms" % (args.symbols, times[0]))
    q = statistics.quantiles(steady, n=4) if len(steady) >= 2 else [steady[0]] * 3
    print("  cycle time, steady state (n=%d)            : median %d ms, p25 %d, p75 %d, min %d, max %d"
          % (len(steady), statistics.median(steady), q[0], q[2], min(steady), max(steady)))
    print("  ratio cycle / one request                  : %.2f (target <= 1.2)"
          % (statistics.median(steady) / single))
    print("  ratio cycle / added latency (%d ms)        : %.2f"
          % (args.latency_ms, statistics.median(steady) / args.latency_ms))
    print("  producer CPU time per cycle                : %.1f ms (user+sys, %d cycles)"
          % ((cpu1 - cpu0) * 1000 / (n1 - n0), n1 - n0))


def sim_bench(args, tmp, brokers):
    syms = ",".join("S%04d" % i for i in range(1, args.symbols + 1))
    log = os.path.join(tmp, "sim.log")
    t0 = time.monotonic()
    with open(log, "w") as f:
        rc = subprocess.call([PRODUCER, "--brokers", brokers, "--source", "sim", "--symbols", syms,
                              "--rate", "0", "--count", str(args.sim_count), "--seed", "1",
                              "--live-topic", "bench_sim", "--stats-interval", "0",
                              "--flush-timeout", "60s"], stderr=f)
    elapsed = time.monotonic() - t0
    with open(log) as f:
        text = f.read()
    queued = re.search(r"quote\(s\) queued in ([\d.]+) s", text)
    delivered = re.findall(r"delivered=(\d+) delivery_errors=(\d+)", text)
    print("sim: %d quotes, %d symbols, --rate 0 (unlimited), to stockpipe-broker" % (args.sim_count, args.symbols))
    print("  exit status %d; delivered %s, delivery errors %s"
          % (rc, delivered[-1][0] if delivered else "?", delivered[-1][1] if delivered else "?"))
    if queued:
        print("  produce rate (queued)                      : %.0f quotes/s" % (args.sim_count / float(queued.group(1))))
    print("  publish rate (start to all acknowledged)   : %.0f quotes/s (%.2f s wall)"
          % (args.sim_count / elapsed, elapsed))


def main():
    ap = argparse.ArgumentParser(description="stockpipe-producer benchmark")
    ap.add_argument("--symbols", type=int, default=200)
    ap.add_argument("--latency-ms", type=int, default=100)
    ap.add_argument("--cycles", type=int, default=10)
    ap.add_argument("--sim-count", type=int, default=200000)
    ap.add_argument("--fixture-symbol", default="AAPL",
                    help="fixture served for every symbol: AAPL = a full day of 1-minute bars "
                         "(36 KB), WKND = meta only (1 KB), to separate decoding from I/O")
    ap.add_argument("--server", choices=("fast", "python"), default="fast",
                    help="fake Yahoo server: fast = bench/producer/fast_yahoo (C, epoll), "
                         "python = producer/test/fake_yahoo.py (default fast)")
    ap.add_argument("--body", choices=("day", "minutes"), default="day",
                    help="fast server: what a live request gets: day = the fixture's day as one "
                         "bar (what range=1d&interval=1d returns; default), minutes = the recorded "
                         "fixture as it is (what the older interval=1m request returned)")
    ap.add_argument("--no-sim", action="store_true", help="leave out the sim benchmark")
    ap.add_argument("--encoding", choices=("gzip", "identity"), default="gzip",
                    help="fast server: gzip bodies when asked, like Yahoo and fake_yahoo.py "
                         "(default), or always identity")
    args = ap.parse_args()
    if args.server == "fast" and args.fixture_symbol not in FAST_FIXTURES:
        sys.exit("bench: --server fast serves only --fixture-symbol %s" % "|".join(FAST_FIXTURES))
    if subprocess.call(["make", "-s", "-C", os.path.join(ROOT, "producer")]) != 0:
        sys.exit("bench: build failed")
    if args.server == "fast" and subprocess.call(["make", "-s", "-C", HERE]) != 0:
        sys.exit("bench: build of fast_yahoo failed")
    if not os.access(BROKER, os.X_OK):
        sys.exit("bench: %s not found (make -C %s bin/stockpipe-broker)" % (BROKER, ROOT))
    tmp = tempfile.mkdtemp(prefix="stockpipe-bench.")
    procs = []
    try:
        procs.append(subprocess.Popen([BROKER, "--partitions", "4", "--address-file",
                                       os.path.join(tmp, "addr")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        if args.server == "fast":
            body = os.path.join(FIXTURES, FAST_FIXTURES[args.fixture_symbol])
            with open(body, "rb") as f:
                data = f.read()
            if args.body == "day":
                data = day_chart(data)
                body = os.path.join(tmp, "day.json")
                with open(body, "wb") as f:
                    f.write(data)
            args.body_text = "%s, %d bytes (%d gzipped)" % (
                "the day as one bar" if args.body == "day" else "the recorded response",
                len(data), len(gzip.compress(data, 6)))
            cmd = [FAST, "--body", body, "--port-file", os.path.join(tmp, "port"),
                   "--latency-ms", str(args.latency_ms)]
            if args.encoding == "gzip":     # compressed once, level 6 as fake_yahoo.py
                with open(body, "rb") as f, open(os.path.join(tmp, "body.gz"), "wb") as g:
                    g.write(gzip.compress(f.read(), 6))
                cmd += ["--gzip-body", os.path.join(tmp, "body.gz")]
            server_log = open(os.path.join(tmp, "server.log"), "w")
            procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=server_log))
            server_log.close()
        else:
            args.body_text = "fake_yahoo.py's answer to range=1d&interval=1d"
            procs.append(subprocess.Popen(["/usr/bin/python3", FAKE, "--fixtures", FIXTURES,
                                           "--port-file", os.path.join(tmp, "port"),
                                           "--latency-ms", str(args.latency_ms),
                                           "--default-symbol", args.fixture_symbol],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        brokers = wait_file(os.path.join(tmp, "addr"))
        url = "http://127.0.0.1:" + wait_file(os.path.join(tmp, "port"))
        print("machine: %d CPUs; %s" % (os.cpu_count(),
              subprocess.run([PRODUCER, "--version"], capture_output=True, text=True).stdout.strip()))
        poll_bench(args, tmp, brokers, url)
        if not args.no_sim:
            sim_bench(args, tmp, brokers)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        if args.server == "fast" and os.path.exists(os.path.join(tmp, "server.log")):
            with open(os.path.join(tmp, "server.log")) as f:
                last = f.read().strip().splitlines()
            if last:
                print("server: " + last[-1])


if __name__ == "__main__":
    main()
