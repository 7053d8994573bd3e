#!/usr/bin/python3
"""e2e.py -- end-to-end tests of stockpipe-producer, run by run.sh.

The producer runs against the fake Yahoo server (fake_yahoo.py) and the
development broker (stockpipe-broker); what reached Kafka is read back with
kcat and compared with values computed here, independently, from the
recorded fixtures.  Each test uses its own topics.  Prints "ok - ..." /
"not ok - ..." lines; waits on conditions with deadlines, never fixed sleeps.
"""
import argparse
import atexit
import datetime
import gzip
import json
import math
import os
import re
import signal
import struct
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal, ROUND_HALF_UP
import zoneinfo

A = None           # parsed arguments
FAILED = 0
SYMBOL_RE = re.compile(r"^[A-Z0-9.\-^=]{1,20}$")
NY = zoneinfo.ZoneInfo("America/New_York")


def check(cond, name, detail=""):
    global FAILED
    if cond:
        print("ok - " + name)
    else:
        FAILED += 1
        print("not ok - " + name)
        for line in str(detail).splitlines()[:30]:
            print("#   " + line)
    sys.stdout.flush()
    return cond


def wait_until(cond, timeout, step=0.05):
    """Polls cond() until true or the deadline passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


# ---------------------------------------------------------------- helpers

def topics(name):
    return ["--live-topic", "t_%s_live" % name, "--daily-topic", "t_%s_daily" % name]


def producer_args(name, *extra, yahoo=None):
    return [A.producer, "--brokers", A.brokers, "--yahoo-url", yahoo or A.yahoo,
            "--stats-interval", "0", "--flush-timeout", "5s"] + topics(name) + list(extra)


def run(args, timeout=30, env=None):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


class Background:
    """A producer running in the background, its stderr going to a file."""

    # every one started, so that a test that fails before its stop() leaves
    # no producer running after the run (killed at exit)
    started = []

    def __init__(self, args, name, prefix=(), env=None):
        self.log = os.path.join(A.tmp, "producer-%s.log" % name)
        self.f = open(self.log, "w")
        self.p = subprocess.Popen(list(prefix) + args, stdout=subprocess.DEVNULL, stderr=self.f,
                                  env=env)
        Background.started.append(self.p)

    @staticmethod
    def kill_all():
        for p in Background.started:
            if p.poll() is None:
                p.kill()
                p.wait()

    def text(self):
        with open(self.log) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.f.close()
        return rc


atexit.register(Background.kill_all)


def kcat(topic):
    """Every message of TOPIC as (key, parsed JSON) in partition order."""
    p = subprocess.run(["kcat", "-C", "-q", "-b", A.brokers, "-t", topic, "-e",
                        "-f", "%k\t%s\n"], capture_output=True, text=True, timeout=30)
    out = []
    for line in p.stdout.splitlines():
        if "\t" in line:
            k, v = line.split("\t", 1)
            out.append((k, json.loads(v)))
    return out


def control(base, path, body=None):
    req = urllib.request.Request(base + path, data=json.dumps(body or {}).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5).read()


def server_stats(base):
    return json.loads(urllib.request.urlopen(base + "/_stats", timeout=5).read())


def reset(base):
    control(base, "/_clear")
    control(base, "/_reset")


def fixture(name):
    with open(os.path.join(A.fixtures, name)) as f:
        return json.load(f)


# ---------------------------------------------- expected values, from the fixtures

LIVE_FILES = {"AAPL": "chart_AAPL_1d_1m.json",
              "WKND": "chart_AAPL_1m_weekend_no_bars.json",
              "MSFT": "chart_MSFT_daily_2021-02-01_to_2022-01-31.json",
              "NVDA": "chart_NVDA_daily_2021-02-01_to_2022-01-31.json",
              "WSU.DE": "chart_WSU.DE_daily_2023-08-04_to_2023-08-09.json"}
DAILY_FILES = {"AAPL": "chart_AAPL_daily_2020-08-31_to_2020-11-06.json",
               "MSFT": "chart_MSFT_daily_2021-02-01_to_2022-01-31.json",
               "NVDA": "chart_NVDA_daily_2021-02-01_to_2022-01-31.json",
               "WSU.DE": "chart_WSU.DE_daily_2023-08-04_to_2023-08-09.json",
               "WKND": "chart_AAPL_1m_weekend_no_bars.json"}


def price_hint(meta):
    """meta.priceHint as the producer reads it: an integer 0..8, else 2."""
    h = meta.get("priceHint")
    if isinstance(h, (int, float)) and not isinstance(h, bool) and 0 <= h <= 8 and h == int(h):
        return int(h)
    return 2


def f32(v):
    return struct.unpack("f", struct.pack("f", v))[0]


def at_tick(v, h):
    """V rounded to H decimals as docs/producer.md says, computed here with Decimal:
    half away from zero on its shortest decimal text -- the float32's (226.85499572753906
    is 226.855) when V is a float32 fine enough there -- else the double's."""
    if v is None:
        return None
    text = repr(float(v))
    if 1.2e-38 < v < 3.4e38 and f32(v) == v and 2.0 ** (math.frexp(v)[1] - 24) <= 10.0 ** -(h + 1):
        text = next(t for t in ("%.*g" % (p, v) for p in range(1, 10)) if f32(float(t)) == v)
    return float(Decimal(text).quantize(Decimal(1).scaleb(-h), rounding=ROUND_HALF_UP))


def decimals(v):
    """Decimals of the shortest text of V (what the producer's encoder writes)."""
    d = Decimal(repr(float(v)))
    return max(0, -d.as_tuple().exponent)


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def expected_quote(symbol):
    r = fixture(LIVE_FILES[symbol])["chart"]["result"][0]
    m = r["meta"]
    h = price_hint(m)
    q = {"symbol": symbol, "ts": rfc3339(m["regularMarketTime"]),
         "price": at_tick(m["regularMarketPrice"], h),
         "volume": m["regularMarketVolume"], "high": at_tick(m["regularMarketDayHigh"], h),
         "low": at_tick(m["regularMarketDayLow"], h),
         "prev_close": at_tick(m.get("previousClose", m.get("chartPreviousClose")), h),
         "currency": m["currency"], "source": "yahoo"}
    # open: first non-null open among the bars of the quote's local day
    off = m.get("gmtoffset", 0)
    day = (m["regularMarketTime"] + off) // 86400
    opens = (r["indicators"]["quote"][0].get("open") or [])
    for t, o in zip(r.get("timestamp", []), opens):
        if (t + off) // 86400 == day and o is not None:
            q["open"] = at_tick(o, h)
            break
    # the exchange's time zone, and the trading period the quote's time is in
    if m.get("exchangeTimezoneName"):
        q["exchange_tz"] = m["exchangeTimezoneName"]
    t = m["regularMarketTime"]
    for name, per in (m.get("currentTradingPeriod") or {}).items():
        if name in ("pre", "regular", "post") and per.get("start", 0) <= t < per.get("end", 0):
            q["session"] = name
    return q


def expected_bars(symbol):
    r = fixture(DAILY_FILES[symbol])["chart"]["result"][0]
    off = r["meta"].get("gmtoffset", 0)
    h = price_hint(r["meta"])
    q = r["indicators"]["quote"][0]
    adj = (r["indicators"].get("adjclose") or [{}])[0].get("adjclose")
    bars = []
    for i, t in enumerate(r.get("timestamp", [])):
        if q["close"][i] is None:
            continue
        b = {"symbol": symbol,
             "date": datetime.datetime.fromtimestamp(t + off, datetime.timezone.utc).strftime("%Y-%m-%d")}
        for k in ("open", "high", "low", "close"):
            if q[k][i] is not None:
                b[k] = at_tick(q[k][i], h)
        if adj and adj[i] is not None:
            b["adj_close"] = at_tick(adj[i], h)
        if q["volume"][i] is not None:
            b["volume"] = q["volume"][i]
        bars.append(b)
    return bars


def diff(got, want):
    return "got  %s\nwant %s" % (json.dumps(got, sort_keys=True), json.dumps(want, sort_keys=True))


# ---------------------------------------------------------------- tests

def test_cli():
    rc, out, err = run([A.producer, "--bogus"])
    check(rc == 2 and "Usage:" in err and "unknown option" in err,
          "cli: unknown flag -> exit 2, message and usage on stderr", (rc, err[:300]))
    rc, out, err = run([A.producer, "--symbols", "AAPL", "--interval", "soon"])
    check(rc == 2 and "--interval" in err and "Usage:" in err, "cli: bad value -> exit 2", (rc, err[:300]))
    rc, out, err = run([A.producer])
    check(rc == 2 and "no symbols" in err, "cli: no symbols -> exit 2", (rc, err[:300]))
    rc, out, err = run([A.producer, "--symbols", "AAPL", "-X", "no.such.property=1"])
    check(rc == 2 and "no.such.property" in err and "Usage:" in err,
          "cli: unknown librdkafka property in -X -> exit 2", (rc, err[:300]))
    rc, out, err = run([A.producer, "--help"])
    check(rc == 0 and "Usage:" in out and "--symbols-file" in out, "cli: --help on stdout, exit 0")
    rc, out, err = run([A.producer, "--version"])
    check(rc == 0 and out.startswith("stockpipe-producer "), "cli: --version", out)


def test_once_live_and_daily():
    syms = ["AAPL", "MSFT", "NVDA", "WSU.DE", "WKND"]
    reset(A.yahoo)
    rc, out, err = run(producer_args("once", "--symbols", ",".join(syms), "--once", "--always"))
    check(rc == 0, "once: exit 0", err[-2000:])
    live = kcat("t_once_live")
    check(len(live) == len(syms), "once: one stock_live message per symbol (%d)" % len(live),
          [k for k, _ in live])
    by = {k: v for k, v in live}
    for s in syms:
        check(by.get(s) == expected_quote(s), "once: %s quote equals the fixture's values" % s,
              diff(by.get(s), expected_quote(s)))
    check(all(k == v["symbol"] for k, v in live), "once: message key = symbol")
    daily = kcat("t_once_daily")
    for s in ["AAPL", "MSFT", "NVDA", "WSU.DE"]:
        got = [v for k, v in daily if k == s]
        want = expected_bars(s)
        check(got == want, "once: %s daily bars equal the fixture (%d bars)" % (s, len(want)),
              diff(got[:2], want[:2]) if got != want else "")
    check(not any(k == "WKND" for k, _ in daily), "once: no bars for the weekend response")
    # every price as the exchange printed it: at most priceHint (2) decimals, in the
    # message text itself; the fixtures hold 225.6699981689453-style float32 values
    raws = [v for _, v in live + daily]
    prices = [v[f] for v in raws for f in ("price", "open", "high", "low", "prev_close", "close",
                                           "adj_close") if f in v]
    raw_text = subprocess.run(["kcat", "-C", "-q", "-b", A.brokers, "-t", "t_once_daily", "-e"],
                              capture_output=True, text=True, timeout=30).stdout
    check(len(prices) > 2000 and all(decimals(p) <= 2 for p in prices)
          and re.search(r"\d\.\d{3}", raw_text) is None,
          "once: all %d prices at priceHint precision (<= 2 decimals)" % len(prices),
          [p for p in prices if decimals(p) > 2][:10])
    st = server_stats(A.yahoo)
    check(any("Mozilla/5.0" in ua for ua in st["user_agents"]), "http: browser-like User-Agent",
          st["user_agents"])
    check(any("gzip" in e for e in st["accept_encodings"]), "http: asks for gzip",
          st["accept_encodings"])


def test_dedupe_and_change():
    reset(A.yahoo)
    name = "dedupe"
    bg = Background(producer_args(name, "--symbols", "AAPL,MSFT", "--always", "--no-daily",
                                  "--interval", "100ms", "--stats-interval", "300ms"), name)
    ok = wait_until(lambda: server_stats(A.yahoo)["requests"] >= 10, 15)
    check(ok, "dedupe: producer polls repeatedly (>= 5 cycles)")
    st = server_stats(A.yahoo)
    check(st["connections"] <= 4, "http: keep-alive, %d connections for %d requests"
          % (st["connections"], st["requests"]))
    live = kcat("t_%s_live" % name)
    check(sorted(k for k, _ in live) == ["AAPL", "MSFT"],
          "dedupe: unchanged quotes are not republished", [k for k, _ in live])
    control(A.yahoo, "/_bump", {"symbol": "AAPL"})
    got = wait_until(lambda: [v for k, v in kcat("t_%s_live" % name) if k == "AAPL"][1:], 10)
    want_price = round(expected_quote("AAPL")["price"] + 0.01, 4)
    check(len(got) == 1 and got[0]["price"] == want_price
          and got[0]["ts"] == rfc3339(1727985601 + 60),
          "dedupe: a changed quote is published once", got)
    wait_until(lambda: bg.text().count("stats:") >= 2, 10)
    rc = bg.stop()
    log = bg.text()
    check(rc == 0, "sigterm: exit 0 after a flush", log[-1500:])
    m = re.findall(r"unchanged=(\d+)", log)
    check(m and int(m[-1]) > 0 and log.count("stats:") >= 2,
          "stats: periodic one-line report counts unchanged quotes", log[-800:])
    check(re.search(r"delivered=\d+ delivery_errors=0", log) is not None, "stats: deliveries counted")
    check(re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARN|ERROR|DEBUG) ", log, re.M)
          is not None, "logs: timestamp and level on every line")


def test_concurrency():
    reset(A.slow_yahoo)
    syms = ["AAPL", "MSFT", "NVDA", "WSU.DE", "WKND", "AAPL1", "AAPL2", "AAPL3"]
    t0 = time.monotonic()
    rc, out, err = run(producer_args("conc", "--symbols", ",".join(syms[:5]), "--once", "--always",
                                     "--no-daily", "--log-level", "debug", yahoo=A.slow_yahoo))
    elapsed = time.monotonic() - t0
    st = server_stats(A.slow_yahoo)
    m = re.search(r"live cycle of 5 request\(s\) in (\d+) ms", err)
    cycle = int(m.group(1)) if m else 99999
    check(rc == 0 and st["max_inflight"] == 5 and cycle < 450,
          "http: 5 requests with 300 ms latency run concurrently (cycle %d ms, max in flight %d)"
          % (cycle, st["max_inflight"]), err[-1000:])


def test_backoff_429():
    reset(A.yahoo)
    name = "b429"
    control(A.yahoo, "/_fault", {"symbol": "*", "kind": "429", "times": -1})
    bg = Background(producer_args(name, "--symbols", "AAPL", "--always", "--no-daily",
                                  "--interval", "50ms", "--backoff-max", "2s"), name)
    t0 = time.monotonic()
    wait_until(lambda: "backing off" in bg.text(), 10)
    # while throttled for ~4 s: with back-off 0.5-1, 1-2, 1-2 s... at most a handful of tries,
    # where a 50 ms loop would make ~80
    wait_until(lambda: time.monotonic() - t0 > 4, 5)
    n = server_stats(A.yahoo)["requests"]
    check(2 <= n <= 8, "429: exponential back-off, %d requests in 4 s (not a tight loop)" % n)
    check(bg.text().count("backing off") == 1, "429: logged once per state change",
          bg.text()[-1500:])
    control(A.yahoo, "/_clear")
    ok = wait_until(lambda: len(kcat("t_%s_live" % name)) == 1, 10)
    check(ok and "back-off over" in bg.text(), "429: recovers and publishes after the throttling ends",
          bg.text()[-1000:])
    rc = bg.stop()
    check(rc == 0, "429: clean exit")


def test_5xx():
    reset(A.yahoo)
    name = "b500"
    control(A.yahoo, "/_fault", {"symbol": "*", "kind": "500", "times": 2})
    bg = Background(producer_args(name, "--symbols", "AAPL", "--always", "--no-daily",
                                  "--interval", "50ms"), name)
    ok = wait_until(lambda: len(kcat("t_%s_live" % name)) == 1, 15)
    rc = bg.stop()
    log = bg.text()
    check(ok and "HTTP 500" in log and "backing off" in log,
          "500: backs off, then publishes", log[-1000:])
    check(rc == 0, "500: clean exit")


def test_slow_truncated_garbage():
    reset(A.yahoo)
    control(A.yahoo, "/_fault", {"symbol": "AAPL", "kind": "slow", "ms": 3000, "times": 1})
    t0 = time.monotonic()
    rc, out, err = run(producer_args("slow", "--symbols", "AAPL,MSFT", "--once", "--always",
                                     "--no-daily", "--timeout", "500ms"))
    elapsed = time.monotonic() - t0
    live = kcat("t_slow_live")
    check(rc == 0 and [k for k, _ in live] == ["MSFT"] and elapsed < 2.5
          and re.search(r"AAPL: .*(timed out|Timeout)", err),
          "slow response: times out (--timeout) without holding up the others (%.1f s)" % elapsed,
          err[-1000:])

    reset(A.yahoo)
    control(A.yahoo, "/_fault", {"symbol": "AAPL", "kind": "truncate", "times": -1})
    control(A.yahoo, "/_fault", {"symbol": "NVDA", "kind": "garbage", "times": -1})
    name = "trunc"
    bg = Background(producer_args(name, "--symbols", "AAPL,MSFT,NVDA", "--always", "--no-daily",
                                  "--interval", "100ms", "--stats-interval", "200ms"), name)
    wait_until(lambda: server_stats(A.yahoo)["requests"] >= 12, 10)
    rc = bg.stop()
    log = bg.text()
    live = kcat("t_%s_live" % name)
    check([k for k, _ in live] == ["MSFT"], "truncated/garbage JSON: skipped, others published",
          [k for k, _ in live])
    check(log.count("AAPL: invalid JSON") == 1 and "truncated" in log,
          "truncated JSON: logged once", log[-1500:])
    check(log.count("NVDA: invalid JSON") == 1, "garbage body: logged once", log[-1500:])
    m = re.findall(r"bad_responses=(\d+)", log)
    check(m and int(m[-1]) >= 6 and rc == 0, "bad responses counted; clean exit", log[-500:])


def test_unknown_symbols():
    reset(A.yahoo)
    rc, out, err = run(producer_args("unknown", "--symbols", "AAPL,SI,NOPE,BEKE", "--once",
                                     "--always", "--no-daily"))
    live = kcat("t_unknown_live")
    check(rc == 0 and [k for k, _ in live] == ["AAPL"], "unknown symbol: others still published",
          err[-1500:])
    check("SI: unknown symbol (HTTP 404, Not Found: No data found, symbol may be delisted)" in err
          and "NOPE: unknown symbol" in err and "BEKE: unknown symbol (HTTP 400, Bad Request" in err,
          "unknown symbol: reported with Yahoo's reason", err[-1500:])

    name = "unknown2"
    control(A.yahoo, "/_fault", {"symbol": "MSFT", "kind": "notfound", "times": -1})
    bg = Background(producer_args(name, "--symbols", "AAPL,MSFT", "--always", "--no-daily",
                                  "--interval", "100ms"), name)
    wait_until(lambda: server_stats(A.yahoo)["by_symbol"].get("AAPL:live", 0) >= 5, 10)
    st = server_stats(A.yahoo)["by_symbol"]
    rc = bg.stop()
    log = bg.text()
    check(st.get("MSFT:live") == 1 and log.count("MSFT: unknown symbol") == 1,
          "unknown symbol: reported once and dropped from the live set", (st, log[-800:]))

    reset(A.yahoo)
    t0 = time.monotonic()
    rc, out, err = run(producer_args("allbad", "--symbols", "SI,NOPE", "--always", "--no-daily",
                                     "--interval", "100ms"), timeout=20)
    check(rc == 1 and "every symbol is invalid" in err,
          "all symbols unknown: exits 1 with that message", (rc, err[-800:]))


def test_market_closed():
    reset(A.yahoo)
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=-5)
    hours = "13:00-14:00" if now.hour < 11 or now.hour > 15 else "02:00-03:00"
    # the window excludes "now" in New York whatever DST says (EST/EDT differ by 1 h)
    name = "closed"
    bg = Background(producer_args(name, "--symbols", "AAPL", "--no-daily", "--schedule", "fixed",
                                  "--market-hours", hours), name)
    ok = wait_until(lambda: "market closed; live polling sleeps until" in bg.text(), 10)
    check(ok, "market closed: says so in the log and when it reopens", bg.text()[-500:])
    n = server_stats(A.yahoo)["requests"]
    t0 = time.monotonic()
    rc = bg.stop()
    check(n == 0 and rc == 0 and time.monotonic() - t0 < 3,
          "market closed: no polling; SIGTERM wakes the sleep, exit 0", (n, rc))
    rc, out, err = run(producer_args("closed2", "--symbols", "AAPL", "--no-daily", "--once",
                                     "--schedule", "fixed", "--market-hours", hours))
    check(rc == 0 and "market closed" in err and server_stats(A.yahoo)["requests"] == 0,
          "market closed: --once does nothing, exit 0", err[-500:])


def test_sessions():
    """Each symbol polled by its own exchange's trading periods (Yahoo's
    currentTradingPeriod), the fake server's periods set relative to now:
    passes at any hour of any day."""
    reset(A.yahoo)
    control(A.yahoo, "/_periods", {"symbol": "AAPL", "regular": [-3600, 3600]})    # in session
    control(A.yahoo, "/_periods", {"symbol": "MSFT", "pre": [-9000, -7200],
                                   "regular": [-7200, -3600]})                      # ended 1 h ago
    control(A.yahoo, "/_periods", {"symbol": "WSU.DE", "regular": [6, 3600]})      # opens in 5-6 s
    control(A.yahoo, "/_periods", {"symbol": "NVDA", "none": True})                # none given
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=-5)
    hours = "13:00-14:00" if now.hour < 11 or now.hour > 15 else "02:00-03:00"  # closed now
    name = "sessions"
    t0 = time.monotonic()
    bg = Background(producer_args(name, "--symbols", "AAPL,MSFT,WSU.DE,NVDA", "--no-daily",
                                  "--interval", "100ms", "--idle-interval", "1s",
                                  "--market-hours", hours, "--log-level", "debug"), name)
    by = lambda: server_stats(A.yahoo)["by_symbol"]
    wait_until(lambda: time.monotonic() - t0 > 3.5, 5)
    before = by()
    # the fake server truncates "now" to whole seconds and the controls above
    # take time under load: WSU.DE opens 5-6 s after them, so 1.5 s or more
    # after "before" is taken, and polls at 100 ms for at least 4 s until "after"
    wait_until(lambda: time.monotonic() - t0 > 10, 8)
    after = by()
    rc = bg.stop()
    log = bg.text()
    n = {s: after.get(s + ":live", 0) for s in ("AAPL", "MSFT", "WSU.DE", "NVDA")}
    check(n["AAPL"] >= 40, "sessions: a symbol in its regular session is polled every --interval "
          "(%d requests in ~10 s at 100 ms)" % n["AAPL"], (n, log[-1500:]))
    check(2 <= n["MSFT"] <= 14, "sessions: a symbol whose session ended is polled every "
          "--idle-interval only (%d requests in ~10 s at 1 s; %d at 100 ms)" % (n["MSFT"], n["AAPL"]),
          (n, log[-1500:]))
    w0 = before.get("WSU.DE:live", 0)
    check(w0 <= 6 and n["WSU.DE"] - w0 >= 25,
          "sessions: a symbol whose session starts later is polled every --interval from then on "
          "(%d requests before, %d after)" % (w0, n["WSU.DE"] - w0), (before, after, log[-1500:]))
    check(2 <= n["NVDA"] <= 14, "sessions: a symbol without periods follows the built-in hours "
          "(closed now), polled every --idle-interval to learn them (%d)" % n["NVDA"], n)
    check(re.search(r"schedule: 1 symbol\(s\) in session \(AAPL\); 3 outside their trading periods|"
                    r"schedule: 1 symbol\(s\) in session \(AAPL\); 2 outside their trading periods,"
                    r" polled every 1000 ms \(MSFT, WSU\.DE\); 1 with unknown periods on the built-in"
                    r" market hours \(closed\) \(NVDA\)", log) is not None
          and "schedule: 2 symbol(s) in session (AAPL, WSU.DE); 1 outside their trading periods, "
          "polled every 1000 ms (MSFT)" in log,
          "sessions: the log says which symbols are in session, and when that changes", log[-2000:])
    check("WSU.DE: in session (regular " in log and "MSFT: outside its trading periods (latest: "
          "regular " in log and "NVDA: trading periods unknown; built-in market hours, closed" in log,
          "sessions: each symbol's change logged at debug level, with its periods", log[-2000:])
    check(rc == 0, "sessions: clean exit")

    # daily bars 45 min after each symbol's own close: AAPL's falls 3 s from now
    reset(A.yahoo)
    control(A.yahoo, "/_periods", {"symbol": "AAPL", "regular": [-2697 - 23400, -2697]})
    control(A.yahoo, "/_periods", {"symbol": "MSFT", "regular": [-3600, 3600]})
    name = "sessions_daily"
    bg = Background(producer_args(name, "--symbols", "AAPL,MSFT", "--interval", "200ms",
                                  "--idle-interval", "1s"), name)
    ok = wait_until(lambda: server_stats(A.yahoo)["by_symbol"].get("AAPL:daily", 0) >= 2, 15)
    wait_until(lambda: False, 1)
    st = server_stats(A.yahoo)["by_symbol"]
    rc = bg.stop()
    log = bg.text()
    check(ok and st.get("AAPL:daily") == 2 and st.get("MSFT:daily") == 1 and rc == 0,
          "sessions: daily bars at start-up, then 45 min after the symbol's own close (AAPL: "
          "%s fetches), not before it (MSFT, in session: %s)" % (st.get("AAPL:daily"), st.get("MSFT:daily")),
          (st, log[-1500:]))
    check(len([v for k, v in kcat("t_%s_daily" % name) if k == "AAPL"]) == 2 * len(expected_bars("AAPL")),
          "sessions: both AAPL daily fetches published")

    # --once with the yahoo schedule: every symbol polled once, whatever its session
    reset(A.yahoo)
    control(A.yahoo, "/_periods", {"symbol": "MSFT", "regular": [-7200, -3600]})
    rc, out, err = run(producer_args("sessions_once", "--symbols", "AAPL,MSFT", "--once", "--no-daily"))
    check(rc == 0 and sorted(k for k, _ in kcat("t_sessions_once_live")) == ["AAPL", "MSFT"],
          "sessions: --once polls every symbol once, in session or not", err[-800:])


def test_broker_outage():
    name = "outage"
    bg = Background(producer_args(name, "--source", "sim", "--symbols", "S1,S2,S3", "--rate", "100",
                                  "--stats-interval", "500ms"), name)
    wait_until(lambda: len(kcat("t_%s_live" % name)) >= 20, 15)
    os.kill(A.broker_pid, signal.SIGUSR1)   # brokers down: connections refused
    wait_until(lambda: "kafka:" in bg.text(), 10)
    t_down = time.monotonic()
    wait_until(lambda: time.monotonic() - t_down > 1.5, 3)
    os.kill(A.broker_pid, signal.SIGUSR2)   # back up, data intact
    # librdkafka's reconnect back-off has grown during the outage (up to
    # reconnect.backoff.max.ms): wait until deliveries have resumed, with a
    # deadline, rather than for a fixed time
    def delivered_now():
        d = re.findall(r"delivered=(\d+)", bg.text())
        return int(d[-1]) if d else 0
    at_return = delivered_now()
    wait_until(lambda: delivered_now() > at_return, 20)
    rc = bg.stop()
    log = bg.text()
    produced = re.findall(r"published=(\d+)", log)
    delivered = re.findall(r"delivered=(\d+) delivery_errors=(\d+)", log)
    got = kcat("t_%s_live" % name)
    n = int(produced[-1]) if produced else -1
    check(rc == 0 and delivered and int(delivered[-1][0]) == n and int(delivered[-1][1]) == 0,
          "broker outage: every message delivered after the broker returns (%d)" % n, log[-1500:])
    keys = [(v["symbol"], v["ts"]) for _, v in got]
    check(len(got) == n and len(set(keys)) == n,
          "broker outage: Kafka holds each message exactly once (%d read back)" % len(got))

    os.kill(A.broker_pid, signal.SIGUSR1)
    try:
        rc, out, err = run(producer_args("undeliv", "--source", "sim", "--symbols", "S1",
                                         "--count", "5", "--rate", "0", "--flush-timeout", "1s"))
    finally:
        os.kill(A.broker_pid, signal.SIGUSR2)
    check(rc == 1 and "could not be delivered" in err,
          "undeliverable at shutdown: logged, exit 1", (rc, err[-800:]))
    wait_until(lambda: subprocess.run(["kcat", "-L", "-b", A.brokers, "-m", "2"],
                                      capture_output=True).returncode == 0, 10)


def test_sigint():
    name = "sigint"
    bg = Background(producer_args(name, "--source", "sim", "--symbols", "S1", "--rate", "20"), name)
    wait_until(lambda: len(kcat("t_%s_live" % name)) >= 3, 10)
    rc = bg.stop(signal.SIGINT)
    check(rc == 0 and "stop requested" in bg.text(), "SIGINT: flush and exit 0")


def test_sim():
    t0 = time.monotonic()
    rc, out, err = run(producer_args("sim", "--source", "sim", "--symbols", "AAPL,MSFT", "--rate", "20",
                                     "--count", "30", "--seed", "1"))
    elapsed = time.monotonic() - t0
    got = kcat("t_sim_live")
    valid = all(SYMBOL_RE.match(v["symbol"]) and k == v["symbol"] and v["price"] > 0
                and v["source"] == "sim"
                and datetime.datetime.strptime(v["ts"][:19], "%Y-%m-%dT%H:%M:%S")
                for k, v in got)
    check(rc == 0 and len(got) == 30 and valid, "sim: --count quotes in the stock_live format", err[-500:])
    check(1.2 < elapsed < 6, "sim: --rate 20 paces 30 quotes over ~1.5 s (%.2f s)" % elapsed)


def test_replay():
    path = os.path.join(A.tmp, "recording.jsonl")
    with open(path, "w") as f:
        f.write('{"symbol":"AAPL","ts":"2026-11-27T19:30:01Z","price":189.23,"volume":5,"currency":"USD"}\n')
        f.write('{"symbol":"AAPL","date":"2026-11-27","close":189.2}\n')
        f.write('this is not json\n')
        f.write('{"symbol":"AAPL","ts":"2026-11-27T19:30:02Z","price":189.25}\n')
    t0 = time.monotonic()
    rc, out, err = run(producer_args("replay", "--source", "replay:" + path, "--speed", "2"))
    elapsed = time.monotonic() - t0
    live = [v for _, v in kcat("t_replay_live")]
    daily = [v for _, v in kcat("t_replay_daily")]
    check(rc == 0 and [q["price"] for q in live] == [189.23, 189.25]
          and daily == [{"symbol": "AAPL", "date": "2026-11-27", "close": 189.2}],
          "replay JSONL: quotes and bars to their topics", (err[-800:], live, daily))
    check("1 bad line(s) skipped (first: line 3: payload is not valid JSON: " in err,
          "replay JSONL: bad line logged with the decoder's reason", err[-800:])
    check(0.45 < elapsed < 3, "replay: --speed 2 halves a 1 s gap (%.2f s)" % elapsed)

    rc, out, err = run(producer_args("replaychart", "--source",
                                     "replay:" + os.path.join(A.fixtures, "chart_AAPL_1d_1m.json"),
                                     "--speed", "0"))
    live = kcat("t_replaychart_live")
    r = fixture("chart_AAPL_1d_1m.json")["chart"]["result"][0]
    h = price_hint(r["meta"])
    closes = [at_tick(c, h) for c in r["indicators"]["quote"][0]["close"] if c is not None]
    check(rc == 0 and [v["price"] for _, v in live] == closes,
          "replay chart: one quote per non-null minute, prices = closes at the tick (%d)" % len(live))
    rc, out, err = run(producer_args("replaybad", "--source", "replay:/nonexistent"))
    check(rc == 1 and "cannot read" in err, "replay: unreadable file -> exit 1")


# NYSE full-day closures of the years the shifted dates fall in (from the
# exchange's calendars; the producer has its own copy in market.c).
NYSE_HOLIDAYS = {"2025-11-27", "2025-12-25", "2026-01-01", "2026-01-19", "2026-02-16",
                 "2026-04-03", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07",
                 "2026-11-26", "2026-12-25", "2027-01-01", "2027-01-18", "2027-02-15",
                 "2027-03-26", "2027-05-31", "2027-06-18", "2027-07-05", "2027-09-06",
                 "2027-11-25", "2027-12-24", "2028-01-17", "2028-02-21", "2028-04-14",
                 "2028-05-29", "2028-06-19", "2028-07-04", "2028-09-04", "2028-11-23",
                 "2028-12-25"}
DEMO_FILES = ["chart_AAPL_1d_1m.json", "chart_AAPL_daily_2020-08-31_to_2020-11-06.json",
              "chart_MSFT_daily_2021-02-01_to_2022-01-31.json",
              "chart_NVDA_daily_2021-02-01_to_2022-01-31.json",
              "chart_WSU.DE_daily_2023-08-04_to_2023-08-09.json"]


def trading_day(d):
    return d.weekday() < 5 and d.isoformat() not in NYSE_HOLIDAYS


def prev_trading_day(d):
    d -= datetime.timedelta(days=1)
    while not trading_day(d):
        d -= datetime.timedelta(days=1)
    return d


def session_day(now, open_hm=(9, 30)):
    """The session a recorded one is replayed as at NOW (aware datetime)."""
    local = now.astimezone(NY)
    if trading_day(local.date()) and (local.hour, local.minute) >= open_hm:
        return local.date()
    return prev_trading_day(local.date())


def recorded_session():
    """AAPL's recorded 2024-10-02 minutes: (local time, close), and its hint and previous close."""
    r = fixture("chart_AAPL_1d_1m.json")["chart"]["result"][0]
    q = r["indicators"]["quote"][0]
    out = []
    for t, c in zip(r["timestamp"], q["close"]):
        local = datetime.datetime.fromtimestamp(t, NY)
        if c is not None and local.date() == datetime.date(2024, 10, 2):
            out.append((local.time(), c))
    return out, r["meta"].get("priceHint", 2), r["meta"]["chartPreviousClose"]


def check_shifted(name, t, live, daily, err):
    """What --replay-shift must have published, the session replayed as day T."""
    minutes, hint, prev = recorded_session()
    tol = 10 ** -hint     # the recorded precision: rounded to the tick or not, both pass
    p = prev_trading_day(t)
    local = [datetime.datetime.strptime(v["ts"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).astimezone(NY) for v in live]
    check(len(live) == len(minutes) == 389, "%s: AAPL's 389 recorded minutes replayed (%d)"
          % (name, len(live)))
    check(all(x.date() == t for x in local), "%s: every quote on %s, market time" % (name, t),
          sorted({str(x.date()) for x in local}))
    check([x.time() for x in local] == [m for m, _ in minutes],
          "%s: at the recorded market times (09:30 stays 09:30)" % name)
    check(all(abs(v["price"] - c) < tol for v, (_, c) in zip(live, minutes)),
          "%s: prices = the recorded closes (within 10^-%d)" % (name, hint))
    check(all(v["source"] == "replay" and v["symbol"] == "AAPL" for v in live),
          "%s: source replay" % name)
    bars = {}
    for v in daily:
        bars.setdefault(v["symbol"], []).append(v)
    for sym, n in (("MSFT", 252), ("NVDA", 252), ("WSU.DE", 3)):
        got = bars.get(sym, [])
        days = [datetime.date.fromisoformat(b["date"]) for b in got]
        want = expected_bars(sym)
        check(len(got) == n and days[-1] == p,
              "%s: %s's %d bars, the last on the trading day before the session, %s"
              % (name, sym, n, p), [b["date"] for b in got[-3:]])
        check(all(prev_trading_day(b) == a for a, b in zip(days, days[1:])),
              "%s: %s's bars on consecutive trading days (weekends, holidays skipped)" % (name, sym))
        check(len(got) == len(want) and all(abs(g["close"] - w["close"]) < tol and
                                            g.get("volume") == w.get("volume")
                                            for g, w in zip(got, want)),
              "%s: %s's closes and volumes as recorded, in order" % (name, sym))
    aapl = bars.get("AAPL", [])
    check(len(aapl) >= 1 and aapl[0]["date"] == p.isoformat() and abs(aapl[0]["close"] - prev) < tol,
          "%s: AAPL's last bar before the session is %s, close %s (recorded with the session)"
          % (name, p, prev), aapl)
    check(all(abs(v["prev_close"] - aapl[0]["close"]) < 1e-9 for v in live) if aapl else False,
          "%s: prev_close = that bar's close" % name)
    check("replay of recorded data from 2021-02-01..2024-10-02, shifted to " in err and
          t.isoformat() in err, "%s: the log says what was shifted where" % name, err[-1500:])


def test_replay_shift():
    files = ",".join(os.path.join(A.fixtures, f) for f in DEMO_FILES)
    # onto a chosen day: the Friday after Thanksgiving, bars up to Wednesday
    rc, out, err = run(producer_args("shiftday", "--source", "replay:" + files, "--speed", "0",
                                     "--replay-shift", "2026-11-27"))
    live = [v for _, v in kcat("t_shiftday_live")]
    daily = [v for _, v in kcat("t_shiftday_daily")]
    check(rc == 0, "replay shift onto 2026-11-27: exit 0", err[-800:])
    check_shifted("shift onto 2026-11-27", datetime.date(2026, 11, 27), live, daily, err)
    own = [b for b in daily if b["symbol"] == "AAPL" and b["date"] == "2026-11-27"]
    check(len(own) == 1 and abs(own[0]["open"] - 225.89) < 0.01 and abs(own[0]["high"] - 227.37) < 0.01,
          "shift onto 2026-11-27: the session's own bar, after its quotes", own)

    # auto: the current or latest session, whatever the hour (either side of a boundary passes)
    before = session_day(datetime.datetime.now(datetime.timezone.utc))
    rc, out, err = run(producer_args("shiftauto", "--source", "replay:" + files, "--speed", "0",
                                     "--replay-shift", "auto"))
    after = session_day(datetime.datetime.now(datetime.timezone.utc))
    live = [v for _, v in kcat("t_shiftauto_live")]
    daily = [v for _, v in kcat("t_shiftauto_daily")]
    t = datetime.datetime.strptime(live[0]["ts"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).astimezone(NY).date() if live else None
    check(rc == 0 and t in (before, after),
          "replay shift auto: onto the current or latest session (%s; expected %s)" % (t, after), err[-800:])
    if t is not None:
        check_shifted("shift auto", t, live, daily, err)


def proc_status(pid, field):
    """A kB figure from /proc/PID/status (VmHWM: peak resident set), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def test_response_cap():
    rc, out, err = run([A.producer, "--symbols", "AAPL", "--max-response-bytes", "1000"])
    check(rc == 2 and "--max-response-bytes: expected a whole number of bytes from 4096 to "
          "268435456" in err and "Usage:" in err,
          "response cap: --max-response-bytes below 4096 -> exit 2 with usage", (rc, err[:300]))
    rc, out, err = run([A.producer, "--symbols", "AAPL", "--max-response-bytes", "300000000"])
    check(rc == 2 and "from 4096 to 268435456, not \"300000000\"" in err,
          "response cap: above 256 MiB -> exit 2", (rc, err[:300]))

    # 16 MB bodies three ways; MSFT is healthy.  Daily bars are on: the start-up
    # daily fetch meets the same faults (the full-parse path that once took 0.9 GB).
    reset(A.yahoo)
    bad = {"AAPL": "huge", "NVDA": "gzip_bomb", "WSU.DE": "huge_chunked"}
    for sym, kind in bad.items():
        control(A.yahoo, "/_fault", {"symbol": sym, "kind": kind, "times": -1})
    name = "cap"
    bg = Background(producer_args(name, "--symbols", "AAPL,MSFT,NVDA,WSU.DE", "--always",
                                  "--interval", "100ms", "--stats-interval", "300ms"), name)
    by = lambda: server_stats(A.yahoo)["by_symbol"]
    ok = wait_until(lambda: all(by().get(s + ":live", 0) >= 5 for s in bad), 30)
    alive = bg.p.poll() is None
    hwm = proc_status(bg.p.pid, "VmHWM")
    check(ok and alive, "response cap: producer keeps polling through 16 MB responses (%s)"
          % {s: by().get(s + ":live", 0) for s in bad}, bg.text()[-1500:])
    check(hwm is not None and hwm < 64 * 1024,
          "response cap: peak RSS (VmHWM) %s kB stays under 64 MB" % hwm)
    control(A.yahoo, "/_bump", {"symbol": "MSFT"})
    got = wait_until(lambda: [k for k, _ in kcat("t_%s_live" % name)].count("MSFT") >= 2, 10)
    live = kcat("t_%s_live" % name)
    daily = kcat("t_%s_daily" % name)
    check(got and {k for k, _ in live} == {"MSFT"},
          "response cap: other symbols still published, live (a bumped quote too)",
          [k for k, _ in live])
    check({k for k, _ in daily} == {"MSFT"} and len(daily) == len(expected_bars("MSFT")),
          "response cap: other symbols' daily bars published, none from the oversized ones",
          sorted({k for k, _ in daily}))
    rc = bg.stop()
    log = bg.text()
    for sym, kind in bad.items():
        n = log.count("%s: response larger than 2097152 bytes" % sym)
        check(n == 1, "response cap: %s (%s) logged once, with the symbol and the limit (%d)"
              % (sym, kind, n), log[-1500:])
    m = re.findall(r"bad_responses=(\d+)", log)
    check(m and int(m[-1]) >= 15 and "backing off" not in log,
          "response cap: counted as bad responses, no back-off for everyone", log[-800:])
    check(rc == 0, "response cap: clean exit", log[-800:])

    # decompressed bytes count: AAPL's real 36 KB chart is ~8 KB gzipped on the wire
    # (the live request's answer, the day as one bar, is smaller than the least limit)
    reset(A.yahoo)
    control(A.yahoo, "/_fault", {"symbol": "AAPL", "kind": "recorded"})
    with open(os.path.join(A.fixtures, LIVE_FILES["AAPL"]), "rb") as f:
        raw = f.read()
    rc, out, err = run(producer_args("cap16k", "--symbols", "AAPL,WKND", "--once", "--always",
                                     "--no-daily", "--max-response-bytes", "16384"))
    live = kcat("t_cap16k_live")
    check(rc == 0 and [k for k, _ in live] == ["WKND"]
          and "AAPL: response larger than 16384 bytes" in err
          and len(gzip.compress(raw, 6)) < 16384 < len(raw)
          and any("gzip" in e for e in server_stats(A.yahoo)["accept_encodings"]),
          "response cap: the limit counts decompressed bytes (%d on the wire, %d inflated)"
          % (len(gzip.compress(raw, 6)), len(raw)), err[-1000:])


def kafka_env(**props):
    """The environment without any STOCKPIPE_KAFKA_*, plus PROPS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKPIPE_KAFKA_")}
    env.update(props)
    return env


def write_props(name, text, mode=0o600):
    path = os.path.join(A.tmp, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def test_kafka_secrets():
    dead = "127.0.0.1:1"   # nothing listens there: delivery proves an override won
    file_secret = "file-secret-%d" % os.getpid()
    env_secret = "env-secret-%d" % os.getpid()
    path = write_props("kafka.properties",
                       "# e2e: Kafka settings from a file\n"
                       "\n"
                       "  bootstrap.servers = %s\n"
                       "client.id = stockpipe-e2e-file\n"
                       "sasl.password=%s\n" % (dead, file_secret))
    env = kafka_env(STOCKPIPE_KAFKA_BOOTSTRAP_SERVERS=A.brokers,
                    STOCKPIPE_KAFKA_SASL_PASSWORD=env_secret)
    name = "secrets"
    args = [A.producer, "--brokers", dead, "--source", "sim", "--symbols", "S1,S2", "--rate", "50",
            "--stats-interval", "0", "--flush-timeout", "5s", "--kafka-config", path] + topics(name)
    bg = Background(args, name, env=env)
    ok = wait_until(lambda: len(kcat("t_%s_live" % name)) >= 10, 15)
    try:
        with open("/proc/%d/cmdline" % bg.p.pid, "rb") as f:
            cmdline = f.read().decode()
    except OSError as e:
        cmdline = "unreadable: %s" % e
    rc = bg.stop()
    log = bg.text()
    check(ok and rc == 0, "kafka secrets: brokers and password from file and environment only; "
          "publishes, exit 0 (environment beats file)", log[-1000:])
    check(path in cmdline and file_secret not in cmdline and env_secret not in cmdline
          and "sasl" not in cmdline,
          "kafka secrets: no secret value in /proc/PID/cmdline", cmdline.replace("\0", " "))
    check(file_secret not in log and env_secret not in log
          and "sasl.password=(hidden) (from environment STOCKPIPE_KAFKA_SASL_PASSWORD)" in log,
          "kafka secrets: no secret value in the log; sasl.password shown as (hidden)", log[-1500:])
    check("client.id=stockpipe-e2e-file (from %s:4)" % path in log
          and "bootstrap.servers=%s (from environment STOCKPIPE_KAFKA_BOOTSTRAP_SERVERS)"
          % A.brokers in log and "brokers %s," % A.brokers in log,
          "kafka secrets: the log names each property's origin and the brokers in effect",
          log[-1500:])
    check("chmod 600" not in log, "kafka secrets: mode 600 file, no permission warning")

    rc, out, err = run([A.producer, "--help"], env=env)
    check(rc == 0 and env_secret not in out + err and "--kafka-config" in out
          and "STOCKPIPE_KAFKA_" in out, "kafka secrets: --help documents them, shows no secret")

    rc, out, err = run(producer_args("kprec", "--source", "sim", "--symbols", "S1", "--count", "5",
                                     "--rate", "0", "-X", "bootstrap.servers=" + A.brokers),
                       env=kafka_env(STOCKPIPE_KAFKA_BOOTSTRAP_SERVERS=dead))
    check(rc == 0 and len(kcat("t_kprec_live")) == 5, "kafka precedence: -X beats the environment",
          err[-800:])

    open_path = write_props("kafka-open.properties", "bootstrap.servers=%s\n" % A.brokers, 0o644)
    rc, out, err = run([A.producer, "--brokers", dead, "--source", "sim", "--symbols", "S1",
                        "--count", "5", "--rate", "0", "--stats-interval", "0",
                        "--flush-timeout", "5s"] + topics("kenvfile"),
                       env=kafka_env(STOCKPIPE_KAFKA_CONFIG=open_path))
    check(rc == 0 and len(kcat("t_kenvfile_live")) == 5 and "mode 644" in err
          and "chmod 600" in err,
          "kafka config: STOCKPIPE_KAFKA_CONFIG names the file; group-readable file warned about",
          err[-800:])

    bad_path = write_props("kafka-bad.properties", "client.id=x\n%s\n" % file_secret)
    rc, out, err = run([A.producer, "--symbols", "AAPL", "--kafka-config", bad_path],
                       env=kafka_env())
    check(rc == 2 and "%s:2: expected key=value" % bad_path in err and "Usage:" in err
          and file_secret not in err,
          "kafka config: bad line -> exit 2 naming file and line, the line not echoed", err[:400])
    rc, out, err = run([A.producer, "--symbols", "AAPL"],
                       env=kafka_env(STOCKPIPE_KAFKA_NO_SUCH_PROPERTY="1"))
    check(rc == 2 and "STOCKPIPE_KAFKA_NO_SUCH_PROPERTY" in err and "Usage:" in err,
          "kafka config: unknown property from the environment -> exit 2 naming the variable",
          err[:400])


def valgrind_log_ok(path):
    with open(path) as f:
        v = f.read()
    ok = (re.search(r"ERROR SUMMARY: 0 errors", v) is not None
          and re.search(r"definitely lost: [1-9]", v) is None
          and re.search(r"indirectly lost: [1-9]", v) is None)
    summary = "; ".join(re.findall(r"(?:definitely|indirectly|possibly) lost: [\d,]+ bytes", v)
                        + re.findall(r"ERROR SUMMARY: \d+ errors", v)) or "no leaks found (all freed)"
    return ok, summary, v


def test_valgrind():
    if A.skip_valgrind:
        print("ok - valgrind # SKIP SKIP_VALGRIND set")
        return
    reset(A.yahoo)
    control(A.yahoo, "/_fault", {"symbol": "MSFT", "kind": "truncate", "times": 2})
    control(A.yahoo, "/_fault", {"symbol": "NVDA", "kind": "429", "times": 1})
    control(A.yahoo, "/_fault", {"symbol": "WSU.DE", "kind": "gzip_bomb", "times": 3})
    vlog = os.path.join(A.tmp, "valgrind-yahoo.log")
    vg = ["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect",
          "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
          "--log-file=" + vlog]
    name = "valgrind"
    bg = Background(producer_args(name, "--symbols", "AAPL,MSFT,NVDA,SI,WSU.DE", "--always",
                                  "--interval", "200ms", "--stats-interval", "1s"), name, prefix=vg)
    ok = wait_until(lambda: server_stats(A.yahoo)["by_symbol"].get("AAPL:live", 0) >= 5, 90, 0.2)
    control(A.yahoo, "/_bump", {"symbol": "AAPL"})
    wait_until(lambda: server_stats(A.yahoo)["by_symbol"].get("AAPL:live", 0) >= 8, 60, 0.2)
    rc = bg.stop(timeout=60)
    good, summary, text = valgrind_log_ok(vlog)
    live = kcat("t_%s_live" % name)
    check(ok and rc == 0 and good and len(live) >= 3 and "WSU.DE: response larger" in bg.text(),
          "valgrind (yahoo, several cycles, an oversized gzip body, SIGTERM): no leaks, "
          "no invalid accesses [%s]" % summary,
          (rc, text[-2500:], bg.text()[-1000:]))

    vlog2 = os.path.join(A.tmp, "valgrind-sim.log")
    props = write_props("valgrind.properties", "# valgrind\nclient.id=vg\nsasl.password=pw\n")
    rc, out, err = run(vg[:-1] + ["--log-file=" + vlog2] +
                       producer_args("valgrind2", "--source", "sim", "--symbols", "A,B", "--rate", "0",
                                     "--count", "500", "--kafka-config", props),
                       timeout=120, env=kafka_env(STOCKPIPE_KAFKA_LINGER_MS="10"))
    good, summary, text = valgrind_log_ok(vlog2)
    check(rc == 0 and good and "linger.ms=10 (from environment" in err,
          "valgrind (sim, Kafka properties from a file and the environment): no leaks, "
          "no invalid accesses [%s]" % summary, text[-2000:] + err[-500:])

    # the JSON Lines recording and the demo's charts, shifted onto the present
    path = ",".join([os.path.join(A.tmp, "recording.jsonl")] +
                    [os.path.join(A.fixtures, f) for f in DEMO_FILES])
    vlog3 = os.path.join(A.tmp, "valgrind-replay.log")
    rc, out, err = run(vg[:-1] + ["--log-file=" + vlog3] +
                       producer_args("valgrind3", "--source", "replay:" + path, "--speed", "0",
                                     "--replay-shift", "auto"),
                       timeout=120)
    good, summary, text = valgrind_log_ok(vlog3)
    check(rc == 0 and good, "valgrind (replay): no leaks, no invalid accesses [%s]" % summary,
          text[-2000:])


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("--producer", required=True)
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--broker-pid", type=int, required=True)
    ap.add_argument("--yahoo", required=True)
    ap.add_argument("--slow-yahoo", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--skip-valgrind", action="store_true")
    ap.add_argument("--only", help="run only the tests whose name contains this")
    A = ap.parse_args()
    tests = [test_cli, test_once_live_and_daily, test_dedupe_and_change, test_concurrency,
             test_backoff_429, test_5xx, test_slow_truncated_garbage, test_unknown_symbols,
             test_market_closed, test_sessions, test_broker_outage, test_sigint, test_sim, test_replay,
             test_replay_shift,
             test_response_cap, test_kafka_secrets, test_valgrind]
    for t in tests:
        if A.only and A.only not in t.__name__:
            continue
        print("# " + t.__name__)
        try:
            t()
        except Exception as e:  # a crashed test is a failed test, the rest still run
            check(False, "%s raised %s: %s" % (t.__name__, type(e).__name__, e))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
