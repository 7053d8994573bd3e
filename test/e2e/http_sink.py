#!/usr/bin/python3
"""A real HTTP server for the end-to-end tests of alert webhooks (stdlib only).

Listens on 127.0.0.1:PORT (HTTP/1.1, keep-alive) and stores every request it
receives in DIR as one file, NNNN.json, written under a temporary name and
renamed, so a test can count *.json at any time:

    {"method": "POST", "path": "/hook/...", "headers": {"Content-Type": ...},
     "body": "...", "status": 200}

("body" is the request body decoded as UTF-8, with replacement characters
for invalid bytes; "status" the status the sink answered.)  Numbering
continues from the files already in DIR, so the server can be stopped and
started again on the same port and folder to simulate an outage.

Every request is answered 200 "ok", except those whose path starts with a
prefix given as --status PREFIX=CODE, answered CODE with the body
"stockpipe-test: CODE for PREFIX" followed by 300 bytes of "x" (so that a
client keeping only the start of a refusal can be checked).

Writes "listening on 127.0.0.1:PORT" to stdout (and creates --ready-file)
once it accepts connections; stops on SIGTERM or SIGINT.

usage: http_sink.py --port PORT --dir DIR [--ready-file FILE] [--status PREFIX=CODE]...
"""
import argparse
import http.server
import json
import os
import signal
import sys
import threading


class Sink:
    def __init__(self, folder, statuses):
        self.folder = folder
        self.statuses = statuses
        self.lock = threading.Lock()
        names = [f for f in os.listdir(folder) if f.endswith(".json")]
        self.count = max([int(f[:-5]) for f in names if f[:-5].isdigit()] or [0])

    def record(self, entry):
        with self.lock:
            self.count += 1
            base = os.path.join(self.folder, "%04d" % self.count)
        with open(base + ".tmp", "w") as f:
            json.dump(entry, f)
        os.rename(base + ".tmp", base + ".json")

    def status_of(self, path):
        for prefix, code in self.statuses:
            if path.startswith(prefix):
                return code, prefix
        return 200, None


def make_handler(sink):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            code, prefix = sink.status_of(self.path)
            sink.record({
                "method": self.command,
                "path": self.path,
                "headers": {k: v for k, v in self.headers.items()},
                "body": body.decode("utf-8", errors="replace"),
                "status": code,
            })
            if code == 200:
                answer = b"ok"
            else:
                answer = ("stockpipe-test: %d for %s " % (code, prefix)).encode() + b"x" * 300
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST
        do_PUT = do_POST

        def log_message(self, fmt, *args):
            sys.stderr.write("http_sink: %s\n" % (fmt % args))

    return Handler


def main():
    parser = argparse.ArgumentParser(description="HTTP server storing requests as files")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--ready-file")
    parser.add_argument("--status", action="append", default=[])
    args = parser.parse_args()
    if args.port <= 0 or args.port > 65535:
        parser.error("--port must be 1-65535")
    statuses = []
    for s in args.status:
        prefix, _, code = s.rpartition("=")
        if not prefix.startswith("/") or not code.isdigit() or not 100 <= int(code) <= 599:
            parser.error("--status takes /PREFIX=CODE")
        statuses.append((prefix, int(code)))
    os.makedirs(args.dir, exist_ok=True)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port),
                                             make_handler(Sink(args.dir, statuses)))
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda signum, frame: threading.Thread(target=server.shutdown).start())
    signal.signal(signal.SIGINT, lambda signum, frame: threading.Thread(target=server.shutdown).start())
    print("listening on 127.0.0.1:%d" % args.port, flush=True)
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write("%d\n" % args.port)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
