#!/usr/bin/python3
"""Helpers of the chaos test (test/chaos/run.sh); Debian's python3, stdlib only.

  chaos.py plan SEED PROFILE
      The faults of a run, chosen by random.Random(SEED): one line each,
      "GAP KIND ARG1 ARG2", GAP being the seconds to wait after the previous
      fault (or the start), ARG1/ARG2 the kind's parameters.  The same seed
      and profile always give the same lines.

  chaos.py feed SEED RATE OLD_DAY COUNTS_FILE RUN
      Lines "KEY<TAB>PAYLOAD" for `kcat -P -K '\\t'` on stdout, paced at
      about RATE lines a second until SIGTERM: malformed messages of many
      kinds (about half of them), valid quotes dated OLD_DAY (YYYY-MM-DD,
      a past day whose live_stock partition the test drops), some of them
      repeating an earlier (symbol, ts) with other values (the first one
      must win), and valid quotes of now.  On exit, writes its counts to
      COUNTS_FILE ("kind count" lines).  RUN (1, 2, ...) numbers the feeders
      of one test, so that their quotes of OLD_DAY differ.

  chaos.py readback
      Reads `kcat -C -f '%p %o %K %S\\n%k%s\\n'` output (binary safe: the
      key and payload lengths come first) on stdin and writes COPY text
      lines "partition<TAB>offset<TAB>key<TAB>payload" (key and payload as
      bytea hex, \\N for a null key) on stdout.

  chaos.py mails DIR
      One COPY line per *.eml in DIR: file name, the event id of its
      Message-ID (<alert-KEY@...>: RULE-QUOTEUS or eEVENTID, \\N if none), the envelope recipients
      (comma-separated), the To and Subject headers, the file's mtime
      (epoch seconds).
"""
import calendar
import email
import email.policy
import json
import os
import random
import re
import signal
import sys
import time

# Fault kinds, by class: a short run draws from every class.
CLASSES = [
    ["kill_consumer", "kill_scheduler", "kill_mailer", "kill_job"],           # a worker
    ["kill_postmaster", "restart_immediate", "restart_fast", "long_outage"],  # the server
    ["broker_outage", "smtp_outage", "producer_restart"],                     # around it
    ["partition_drop"],                                                       # the data
]
KINDS = [k for c in CLASSES for k in c]

PROFILES = {
    # faults, seconds between faults (min, max)
    "short": (8, (6.0, 14.0)),
    "long": (30, (10.0, 20.0)),
}


def fault_args(rng, kind):
    """The parameters of one fault, drawn in a fixed order."""
    if kind == "kill_consumer":
        return rng.randrange(2), 0
    if kind == "kill_postmaster":
        return round(rng.uniform(1, 8), 1), 0
    if kind in ("restart_immediate", "restart_fast"):
        return round(rng.uniform(0, 5), 1), 0
    if kind == "broker_outage":
        return round(rng.uniform(5, 20), 1), 0
    if kind == "smtp_outage":
        return round(rng.uniform(5, 20), 1), rng.choice(["TERM", "KILL"])
    if kind == "producer_restart":
        return round(rng.uniform(1, 6), 1), rng.choice(["TERM", "KILL"])
    if kind == "long_outage":
        # a due time (one every 10 s at most) more than 60 s before the
        # scheduler is back: recorded missed, or caught up
        return round(rng.uniform(72, 78), 1), rng.choice(["fast", "immediate"])
    return 0, 0


def plan(seed, profile):
    rng = random.Random("%s/%s" % (seed, profile))
    nfaults, (gmin, gmax) = PROFILES[profile]
    if nfaults < 2 * len(KINDS):
        # two kinds of each class (the data class has one), then others,
        # all distinct while there are enough
        kinds = []
        for c in CLASSES:
            kinds += rng.sample(c, min(2, len(c)))
        rest = [k for k in KINDS if k not in kinds]
        while len(kinds) < nfaults:
            kinds.append(rng.choice(rest or KINDS))
            rest = [k for k in rest if k not in kinds]
        kinds = kinds[:nfaults]
    else:
        # every kind twice, the rest drawn (no third long outage: they are slow)
        kinds = KINDS * 2 + rng.choices([k for k in KINDS if k != "long_outage"],
                                        k=nfaults - 2 * len(KINDS))
    rng.shuffle(kinds)
    for kind in kinds:
        gap = round(rng.uniform(gmin, gmax), 1)
        a1, a2 = fault_args(rng, kind)
        print("%s %s %s %s" % (gap, kind, a1, a2))


# --- feed -------------------------------------------------------------------

def bad_message(rng, now):
    """(kind, key, payload bytes): one malformed message of a kind drawn by rng."""
    ts = int(now)
    sym = "BAD%d" % rng.randrange(10)
    kind = rng.choice(BAD_KINDS)
    if kind == "oversized" and rng.random() < 0.8:
        kind = "not_json"               # keep the 70 kB ones rare
    return kind, sym, bad_payload(kind, sym, ts)


BAD_KINDS = ["not_json", "truncated", "array", "no_symbol", "lower_symbol", "no_ts",
             "bad_ts", "negative_price", "string_price", "infinite_price",
             "invalid_utf8", "fraction_volume", "too_old", "too_far_ahead",
             "repeated_field", "nul_escape", "bad_escape", "leading_zero", "empty",
             "oversized"]


def bad_payload(kind, sym, ts):
    good = '{"symbol":"%s","ts":%d,"price":1.5,"volume":10}' % (sym, ts)
    return dict(
        not_json=lambda: b"not json at all",
        truncated=lambda: good[:25].encode(),
        array=lambda: b"[1,2,3]",
        no_symbol=lambda: ('{"ts":%d,"price":1}' % ts).encode(),
        lower_symbol=lambda: ('{"symbol":"bad","ts":%d,"price":1}' % ts).encode(),
        no_ts=lambda: ('{"symbol":"%s","price":1}' % sym).encode(),
        bad_ts=lambda: ('{"symbol":"%s","ts":"yesterday","price":1}' % sym).encode(),
        negative_price=lambda: ('{"symbol":"%s","ts":%d,"price":-5}' % (sym, ts)).encode(),
        string_price=lambda: ('{"symbol":"%s","ts":%d,"price":"5"}' % (sym, ts)).encode(),
        infinite_price=lambda: ('{"symbol":"%s","ts":%d,"price":1e999}' % (sym, ts)).encode(),
        invalid_utf8=lambda: b'{"symbol":"' + sym.encode() + b'\xff","ts":%d,"price":1}' % ts,
        fraction_volume=lambda: ('{"symbol":"%s","ts":%d,"price":1,"volume":1.5}' % (sym, ts)).encode(),
        too_old=lambda: ('{"symbol":"%s","ts":%d,"price":1}' % (sym, ts - 200 * 86400)).encode(),
        too_far_ahead=lambda: ('{"symbol":"%s","ts":%d,"price":1}' % (sym, ts + 3 * 86400)).encode(),
        repeated_field=lambda: ('{"symbol":"%s","symbol":"X","ts":%d,"price":1}' % (sym, ts)).encode(),
        nul_escape=lambda: ('{"symbol":"%s","ts":%d,"price":1,"currency":"U\\u0000SD"}' % (sym, ts)).encode(),
        bad_escape=lambda: ('{"symbol":"%s\\uZZZZ","ts":%d,"price":1}' % (sym, ts)).encode(),
        leading_zero=lambda: ('{"symbol":"%s","ts":%d,"price":01}' % (sym, ts)).encode(),
        empty=lambda: b"",
        oversized=lambda: ('{"symbol":"%s","ts":%d,"price":1,"pad":"%s"}' % (sym, ts, " " * 70000)).encode(),
    )[kind]()


def fmt_ts(epoch_ms):
    t = time.gmtime(epoch_ms // 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % (epoch_ms % 1000)


def feed(seed, rate, old_day, counts_file, run):
    rng = random.Random("feed/%s" % seed)
    stop = []
    signal.signal(signal.SIGTERM, lambda s, f: stop.append(1))
    signal.signal(signal.SIGINT, lambda s, f: stop.append(1))
    day0 = calendar.timegm(time.strptime(old_day, "%Y-%m-%d"))    # OLD_DAY 00:00 UTC
    counts = {}
    old_sent = []           # (symbol, ts) of old-day quotes already sent
    old_next = 0            # next old-day quote (one second apart, 10 symbols in turn)
    first_second = 3600 + 7200 * (run - 1)
    out = sys.stdout.buffer
    period = 1.0 / rate
    start = time.monotonic()
    n = 0

    def emit(kind, key, payload):
        out.write(key.encode() + b"\t" + payload + b"\n")
        counts[kind] = counts.get(kind, 0) + 1

    try:
        while not stop:
            due = start + n * period
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if stop:
                break
            n += 1
            r = rng.random()
            now = time.time()
            if r < 0.5:
                kind, key, payload = bad_message(rng, now)
                emit("malformed", key, payload)
            elif r < 0.85:
                # a valid quote of OLD_DAY, ten symbols, one second apart
                sym = "OLD%d" % (old_next % 10)
                ts = day0 + first_second + old_next // 10
                old_next += 1
                old_sent.append((sym, ts))
                price = round(50 + rng.random() * 50, 2)
                emit("old_day", sym, ('{"symbol":"%s","ts":%d,"price":%s,"volume":%d,"source":"chaos"}'
                                      % (sym, ts, price, rng.randrange(1000000))).encode())
            elif r < 0.9 and old_sent:
                # the same (symbol, ts) again with other values: the first one stays
                sym, ts = rng.choice(old_sent)
                emit("repeat", sym, ('{"symbol":"%s","ts":%d,"price":%s,"volume":1,"source":"repeat"}'
                                     % (sym, ts, round(1 + rng.random(), 2))).encode())
            else:
                sym = "NOW%d" % rng.randrange(5)
                emit("now", sym, ('{"symbol":"%s","ts":"%s","price":%s,"currency":"EUR"}'
                                  % (sym, fmt_ts(int(now * 1000)), round(10 + rng.random(), 4))).encode())
            out.flush()
    except BrokenPipeError:
        pass
    finally:
        if counts_file:
            with open(counts_file, "w") as f:
                for k in sorted(counts):
                    f.write("%s %d\n" % (k, counts[k]))


# --- readback ----------------------------------------------------------------

def readback():
    inp = sys.stdin.buffer
    out = sys.stdout
    n = 0
    while True:
        head = inp.readline()
        if not head:
            break
        p, o, klen, plen = head.split()
        klen, plen = int(klen), int(plen)
        key = inp.read(klen) if klen > 0 else (b"" if klen == 0 else None)
        payload = inp.read(plen) if plen > 0 else b""
        if plen < 0:
            payload = None
        nl = inp.read(1)
        if nl != b"\n":
            sys.exit("readback: bad framing after partition %s offset %s" % (p.decode(), o.decode()))
        out.write("%s\t%s\t%s\t%s\n" % (
            p.decode(), o.decode(),
            "\\\\x" + key.hex() if key is not None else "\\N",
            "\\\\x" + payload.hex() if payload is not None else "\\N"))
        n += 1
    sys.stderr.write("readback: %d messages\n" % n)


# --- mails -------------------------------------------------------------------

def clean(s):
    return (s or "").replace("\\", "\\\\").replace("\t", " ").replace("\r", " ").replace("\n", " ")


def mails(folder):
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".eml"):
            continue
        path = os.path.join(folder, name)
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.compat32)
        mid = msg.get("Message-ID", "")
        m = re.fullmatch(r"\s*<alert-(\d+-\d+|e\d+)@[^>]+>\s*", mid)
        rcpts = []
        env = path[:-4] + ".envelope"
        if os.path.exists(env):
            with open(env) as f:
                rcpts = [l[len("RCPT TO:<"):-1].strip().rstrip(">") for l in f.read().splitlines()
                         if l.startswith("RCPT TO:<")]
        print("\t".join([name, m.group(1) if m else "\\N", clean(",".join(rcpts)),
                         clean(msg.get("To")), clean(msg.get("Subject")),
                         "%.3f" % os.stat(path).st_mtime]))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd = sys.argv[1]
    if cmd == "plan" and len(sys.argv) == 4 and sys.argv[3] in PROFILES:
        plan(sys.argv[2], sys.argv[3])
    elif cmd == "feed" and len(sys.argv) == 7:
        feed(sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6]))
    elif cmd == "readback" and len(sys.argv) == 2:
        readback()
    elif cmd == "mails" and len(sys.argv) == 3:
        mails(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
