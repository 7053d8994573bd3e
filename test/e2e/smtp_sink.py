#!/usr/bin/python3
"""A real SMTP server for the end-to-end tests (Debian's python3-aiosmtpd).

Listens on 127.0.0.1:PORT and stores each message it accepts in DIR as one
file, NNNN.eml, holding exactly the bytes received after DATA (headers and
body, CRLF line endings), with NNNN.envelope beside it ("MAIL FROM:<...>" and
one "RCPT TO:<...>" line per recipient).  Files appear atomically (written
under a temporary name, then renamed), so a test can count *.eml at any time.
Numbering continues from the files already in DIR, so the server can be
stopped and started again on the same port and folder to simulate an outage.

Recipients given with --reject get a permanent "550 5.1.1" at RCPT.

Writes "listening on 127.0.0.1:PORT" to stdout (and creates --ready-file)
once it accepts connections; stops on SIGTERM or SIGINT.

usage: smtp_sink.py --port PORT --dir DIR [--ready-file FILE] [--reject ADDR]...
"""
import argparse
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder, reject):
        self.folder = folder
        self.reject = {a.lower() for a in reject}
        self.lock = threading.Lock()
        names = [f for f in os.listdir(folder) if f.endswith(".eml")]
        self.count = max([int(f[:-4]) for f in names if f[:-4].isdigit()] or [0])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            base = os.path.join(self.folder, "%04d" % self.count)
        with open(base + ".envelope", "w") as f:
            f.write("MAIL FROM:<%s>\n" % envelope.mail_from)
            for rcpt in envelope.rcpt_tos:
                f.write("RCPT TO:<%s>\n" % rcpt)
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 OK: queued as %04d" % self.count


def main():
    parser = argparse.ArgumentParser(description="SMTP server storing messages as files")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--ready-file")
    parser.add_argument("--reject", action="append", default=[])
    args = parser.parse_args()
    if args.port <= 0 or args.port > 65535:
        parser.error("--port must be 1-65535")
    os.makedirs(args.dir, exist_ok=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())

    controller = Controller(Sink(args.dir, args.reject), hostname="127.0.0.1",
                            port=args.port, server_hostname="sink.stockpipe.test")
    controller.start()
    print("listening on 127.0.0.1:%d" % args.port, flush=True)
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write("%d\n" % args.port)
    while not stop.wait(0.2):
        pass
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
