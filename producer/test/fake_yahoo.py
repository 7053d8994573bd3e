#!/usr/bin/python3
"""fake_yahoo.py -- a local stand-in for Yahoo Finance's v8 chart endpoint.

Serves the recorded responses in the fixtures directory by symbol and
interval, on 127.0.0.1, HTTP/1.1 with keep-alive (and gzip when asked), and
lets a test inject faults through a small control API:

  GET  /v8/finance/chart/SYMBOL?range=1d&interval=1d  live: the live fixture's day (see day_chart)
  GET  /v8/finance/chart/SYMBOL?range=1d&interval=1m  live, the older request: the live fixture
  GET  /v8/finance/chart/SYMBOL?range=R&interval=1d   daily (R longer than 1d): the daily fixture
  POST /_fault  {"symbol":"AAPL"|"*","kind":K,"times":N,"ms":M}
        K = 429 | 500 | slow | truncate | garbage | notfound
            | huge          a 16 MB valid chart (the fixture plus a padding array),
                            Content-Length declared, never compressed
            | huge_chunked  the same, chunked: no Content-Length to check up front
            | gzip_bomb     the same, gzip-compressed (~16 KB on the wire)
            | recorded      a live request gets the recorded fixture as it is, not its
                            day (AAPL: the 36 KB day of minutes, ~8 KB gzipped);
        times -1 = forever
  POST /_clear                                         remove every fault
  POST /_bump   {"symbol":"AAPL"}                      next quotes: new price and time
  POST /_periods {"symbol":"AAPL","regular":[A,B],"pre":[A,B],"post":[A,B]}
        the symbol's meta.currentTradingPeriod from now on (live and daily responses):
        each given period from now+A to now+B seconds, "now" being this request's time;
        {"symbol":"AAPL","none":true} removes currentTradingPeriod.  /_clear drops them
  GET  /_stats                                         counters (requests, connections,
                                                       max in flight, headers seen; by_symbol:
                                                       "SYMBOL:live" and "SYMBOL:daily" requests)
  POST /_reset                                         zero the counters

Test tool only (stdlib): not a model of Yahoo beyond what the fixtures show.
"""
import argparse
import gzip
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LIVE = {  # range=1d (interval=1m as recorded; interval=1d: derived by day_chart)
    "AAPL": "chart_AAPL_1d_1m.json",
    "WKND": "chart_AAPL_1m_weekend_no_bars.json",
    "MSFT": "chart_MSFT_daily_2021-02-01_to_2022-01-31.json",
    "NVDA": "chart_NVDA_daily_2021-02-01_to_2022-01-31.json",
    "WSU.DE": "chart_WSU.DE_daily_2023-08-04_to_2023-08-09.json",
}
DAILY = {  # interval=1d, range longer than 1d
    "AAPL": "chart_AAPL_daily_2020-08-31_to_2020-11-06.json",
    "MSFT": "chart_MSFT_daily_2021-02-01_to_2022-01-31.json",
    "NVDA": "chart_NVDA_daily_2021-02-01_to_2022-01-31.json",
    "WSU.DE": "chart_WSU.DE_daily_2023-08-04_to_2023-08-09.json",
    "WKND": "chart_AAPL_1m_weekend_no_bars.json",
}
ERRORS = {  # any interval: (status, file)
    "SI": (404, "chart_error_not_found_SI.json"),
    "BEKE": (400, "chart_error_bad_request_BEKE.json"),
}
NOT_FOUND = (404, "chart_error_not_found_SI.json")
HUGE_BYTES = 16 * 1000 * 1000   # just under the old 16 MiB limit, which let it through
HUGE_KINDS = ("huge", "huge_chunked", "gzip_bomb")


def padded(body, size):
    """BODY (a chart) grown to SIZE bytes with a numeric padding array: valid JSON
    that a full parse turns into millions of nodes."""
    doc = json.loads(body)
    doc["chart"]["result"][0]["padding"] = "@PAD@"
    head, tail = json.dumps(doc, separators=(",", ":")).encode().split(b'"@PAD@"')
    n = max(1, (size - len(head) - len(tail) - 1) // 2)
    return head + b"[" + b"0," * (n - 1) + b"0]" + tail


class State:
    def __init__(self, fixtures, latency_ms, default_symbol):
        self.lock = threading.Lock()
        self.fixtures = fixtures
        self.latency = latency_ms / 1000.0
        self.default_symbol = default_symbol
        self.cache = {}
        self.gz_cache = {}
        self.huge_cache = {}  # fixture name -> (plain, gzipped)
        self.day_cache = {}   # fixture name -> day_chart() of it
        self.faults = {}      # symbol or "*" -> dict(kind, times, ms)
        self.bumps = {}       # symbol -> count
        self.periods = {}     # symbol -> currentTradingPeriod to serve, or None for none
        self.reset()

    def reset(self):
        self.requests = 0
        self.connections = 0
        self.inflight = 0
        self.max_inflight = 0
        self.by_symbol = {}
        self.user_agents = set()
        self.accept_encodings = set()
        self.faults_served = 0

    def read(self, name):
        with self.lock:
            if name not in self.cache:
                with open(os.path.join(self.fixtures, name), "rb") as f:
                    self.cache[name] = f.read()
            return self.cache[name]

    def day(self, name):
        """day_chart() of the fixture NAME, built once."""
        with self.lock:
            got = self.day_cache.get(name)
        if got is None:
            got = day_chart(self.read(name))
            with self.lock:
                self.day_cache[name] = got
        return got

    def compressed(self, body):
        """gzip, cached: compressing per request would make this server the bottleneck."""
        with self.lock:
            z = self.gz_cache.get(body)
        if z is None:
            z = gzip.compress(body, 6)
            with self.lock:
                if len(self.gz_cache) > 64:
                    self.gz_cache.clear()
                self.gz_cache[body] = z
        return z

    def huge(self, name):
        """The fixture NAME padded to HUGE_BYTES, plain and gzipped; built once."""
        with self.lock:
            got = self.huge_cache.get(name)
        if got is None:
            plain = padded(self.read(name), HUGE_BYTES)
            got = (plain, gzip.compress(plain, 9))
            with self.lock:
                self.huge_cache[name] = got
        return got

    def take_fault(self, symbol):
        with self.lock:
            for key in (symbol, "*"):
                f = self.faults.get(key)
                if f and f["times"] != 0:
                    if f["times"] > 0:
                        f["times"] -= 1
                    self.faults_served += 1
                    return dict(f)
        return None


def rewritten(body, n, periods):
    """The same response with a quote that moved n times (n > 0) and, unless
    PERIODS is False, the given currentTradingPeriod (None: without one)."""
    doc = json.loads(body)
    meta = doc["chart"]["result"][0]["meta"]
    if n:
        meta["regularMarketPrice"] = round(meta["regularMarketPrice"] + 0.01 * n, 4)
        meta["regularMarketTime"] = meta["regularMarketTime"] + 60 * n
    if periods is None:
        meta.pop("currentTradingPeriod", None)
    elif periods is not False:
        meta["currentTradingPeriod"] = periods
    return json.dumps(doc, separators=(",", ":")).encode()


def day_chart(body):
    """The response to range=1d&interval=1d derived from a recorded chart BODY (the
    live fixtures are 1-minute or daily charts; Yahoo's answer to that request was
    never recorded): the same meta (dataGranularity and range saying 1d), and one
    bar for the latest exchange-local day that has bars (no events) -- its first time, first
    open, highest high, lowest low, last close (also adjclose) and summed volume
    (null where that day has none), as a daily bar is made of its minutes.  A chart
    without bars stays without.  The producer's quote from it equals the one from
    BODY: meta gives price, time, volume, high and low, the day's first open is
    the same number (the unit tests and e2e check both)."""
    doc = json.loads(body)
    r = doc["chart"]["result"][0]
    r["meta"]["dataGranularity"] = "1d"
    r["meta"]["range"] = "1d"
    r.pop("events", None)           # dividends and splits of other days
    times = r.get("timestamp") or []
    quote = ((r.get("indicators") or {}).get("quote") or [{}])[0]
    if not times:
        return json.dumps(doc, separators=(",", ":")).encode()
    off = r["meta"].get("gmtoffset") or 0
    last = (times[-1] + off) // 86400
    idx = [i for i, t in enumerate(times) if (t + off) // 86400 == last]

    def col(k):
        vals = quote.get(k) or []
        return [vals[i] for i in idx if i < len(vals) and vals[i] is not None]
    opens = [v for v in col("open") if v > 0]
    close = col("close")
    volumes = col("volume")
    bar = {"open": opens[0] if opens else None,
           "high": max(col("high"), default=None), "low": min(col("low"), default=None),
           "close": close[-1] if close else None,
           "volume": sum(volumes) if volumes else None}
    r["timestamp"] = [times[idx[0]]]
    r["indicators"] = {"quote": [{k: [v] for k, v in bar.items()}],
                       "adjclose": [{"adjclose": [bar["close"]]}]}
    return json.dumps(doc, separators=(",", ":")).encode()


def trading_periods(req, gmtoffset):
    """currentTradingPeriod from a /_periods request: offsets from now, in seconds."""
    now = int(time.time())
    return {k: {"timezone": "EST", "start": now + int(req[k][0]), "end": now + int(req[k][1]),
                "gmtoffset": gmtoffset}
            for k in ("pre", "regular", "post") if k in req}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-yahoo/1.0"

    def setup(self):
        super().setup()
        self.counted = False

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            sys.stderr.write("fake_yahoo: " + (fmt % args) + "\n")

    def send(self, status, body, ctype="application/json;charset=utf-8", length=None):
        gz = "gzip" in (self.headers.get("Accept-Encoding") or "")
        if gz and status == 200 and length is None:
            body = self.server.state.compressed(body)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if gz and status == 200 and length is None:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def send_huge(self, kind, name):
        """A 16 MB 200 response (see HUGE_KINDS).  The client is expected to hang
        up early: a broken connection is the normal end here, not an error."""
        plain, zipped = self.server.state.huge(name)
        body = zipped if kind == "gzip_bomb" else plain
        self.close_connection = True
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Connection", "close")
            if kind == "gzip_bomb":
                self.send_header("Content-Encoding", "gzip")
            if kind == "huge_chunked":
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            step = 64 * 1024
            for i in range(0, len(body), step):
                part = body[i:i + step]
                if kind == "huge_chunked":
                    part = b"%x\r\n%s\r\n" % (len(part), part)
                self.wfile.write(part)
            if kind == "huge_chunked":
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def body_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def do_POST(self):
        st = self.server.state
        path = urllib.parse.urlsplit(self.path).path
        req = self.body_json()
        with st.lock:
            if path == "/_fault":
                st.faults[req.get("symbol", "*")] = {
                    "kind": str(req["kind"]), "times": int(req.get("times", -1)),
                    "ms": int(req.get("ms", 0))}
            elif path == "/_clear":
                st.faults.clear()
                st.periods.clear()
            elif path == "/_periods":
                st.periods[req["symbol"]] = None if req.get("none") else trading_periods(req, -18000)
            elif path == "/_bump":
                sym = req["symbol"]
                st.bumps[sym] = st.bumps.get(sym, 0) + 1
            elif path == "/_reset":
                st.reset()
            else:
                self.send(404, b'{"error":"no such control"}')
                return
        self.send(200, b'{"ok":true}')

    def do_GET(self):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_stats":
            with st.lock:
                out = {"requests": st.requests, "connections": st.connections,
                       "max_inflight": st.max_inflight, "by_symbol": st.by_symbol,
                       "user_agents": sorted(st.user_agents),
                       "accept_encodings": sorted(st.accept_encodings),
                       "faults_served": st.faults_served}
            self.send(200, json.dumps(out).encode())
            return
        m = re.fullmatch(r"/v8/finance/chart/([^/]+)", url.path)
        if not m:
            self.send(404, b"Not Found", "text/plain")
            return
        symbol = urllib.parse.unquote(m.group(1))
        query = urllib.parse.parse_qs(url.query)
        interval = (query.get("interval") or ["1m"])[0]
        rng = (query.get("range") or ["1d"])[0]
        what = "daily" if interval == "1d" and rng != "1d" else "live"
        with st.lock:
            if not self.counted:          # connections that carried chart requests
                st.connections += 1
                self.counted = True
            st.requests += 1
            st.inflight += 1
            st.max_inflight = max(st.max_inflight, st.inflight)
            key = symbol + ":" + what
            st.by_symbol[key] = st.by_symbol.get(key, 0) + 1
            st.user_agents.add(self.headers.get("User-Agent") or "")
            st.accept_encodings.add(self.headers.get("Accept-Encoding") or "")
        try:
            if st.latency:
                time.sleep(st.latency)
            self.answer(st, symbol, what, interval)
        finally:
            with st.lock:
                st.inflight -= 1

    def answer(self, st, symbol, what, interval):
        fault = st.take_fault(symbol)
        kind = fault["kind"] if fault else None
        if kind == "slow":
            time.sleep(fault["ms"] / 1000.0)
        elif kind == "429":
            self.send(429, b"Too Many Requests", "text/plain")
            return
        elif kind == "500":
            self.send(500, b"<html><body>Internal Server Error</body></html>", "text/html")
            return
        elif kind == "garbage":
            self.send(200, b"<html><body>Oops, we are down</body></html>", "text/html", length=None)
            return
        elif kind == "notfound":
            status, name = NOT_FOUND
            self.send(status, st.read(name))
            return

        if symbol in ERRORS:
            status, name = ERRORS[symbol]
            self.send(status, st.read(name))
            return
        table = DAILY if what == "daily" else LIVE
        name = table.get(symbol) or (table.get(st.default_symbol) if st.default_symbol else None)
        if name is None:
            status, name = NOT_FOUND
            self.send(status, st.read(name))
            return
        if kind in HUGE_KINDS:
            self.send_huge(kind, name)
            return
        body = st.read(name)
        if what == "live" and interval == "1d" and kind != "recorded":
            body = st.day(name)
        with st.lock:
            n = st.bumps.get(symbol, 0) if what == "live" else 0
            periods = st.periods.get(symbol, False)
        if n or periods is not False:
            body = rewritten(body, n, periods)
        if kind == "truncate":
            body = body[: len(body) // 2]
        self.send(200, body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--fixtures", default=os.path.join(here, "../../../shared/fixtures/yahoo"))
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the chosen port here once listening")
    ap.add_argument("--latency-ms", type=int, default=0, help="added to every chart request")
    ap.add_argument("--default-symbol", help="serve this symbol's fixture for unknown symbols")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    ThreadingHTTPServer.request_queue_size = 1024   # 200 concurrent connects
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.state = State(args.fixtures, args.latency_ms, args.default_symbol)
    srv.verbose = args.verbose
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)
    print("fake_yahoo: listening on 127.0.0.1:%d" % port, file=sys.stderr, flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


def on_term(signo, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, on_term)
    main()
