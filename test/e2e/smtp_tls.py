#!/usr/bin/python3
"""An SMTP server with TLS and AUTH for the end-to-end tests (Debian's
python3-aiosmtpd), storing messages like smtp_sink.py.

Modes (--mode):
  plain     no TLS at all; AUTH is offered and accepted in clear text
            (what a careless or hostile server does)
  starttls  offers STARTTLS and requires it before anything but EHLO, NOOP
            and QUIT; AUTH only after STARTTLS
  smtps     implicit TLS from the first byte (the smtps:// port)

With --user and --password-file, every mode requires AUTH before MAIL
(PLAIN or LOGIN) and accepts exactly that user and password; the password
file's first line is the password, so that it never appears on a command
line.  --cert and --key (PEM) are the server's certificate for starttls and
smtps.

Messages go to DIR as NNNN.eml and NNNN.envelope (see smtp_sink.py).  With
--transcript FILE, one line per command received is appended to FILE:
"PEER tls|plain VERB" (the verb only: never the arguments, since AUTH's
carry the credentials), and after each AUTH "PEER tls|plain auth-ok USER"
or "PEER tls|plain auth-failed".  Commands refused because STARTTLS has not
happened yet are recorded too, so the transcript is everything the server
saw.

Writes "listening on 127.0.0.1:PORT" to stdout (and creates --ready-file)
once it accepts connections; stops on SIGTERM or SIGINT.

usage: smtp_tls.py --port PORT --dir DIR --mode MODE [--cert PEM --key PEM]
                   [--user USER --password-file FILE] [--transcript FILE]
                   [--ready-file FILE]
"""
import argparse
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult

from smtp_sink import Sink

# What a client may send before STARTTLS (RFC 3207, as aiosmtpd has it).
BEFORE_STARTTLS = {"EHLO", "HELO", "NOOP", "QUIT", "STARTTLS"}


class Transcript:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def write(self, line):
        if not self.path:
            return
        with self.lock, open(self.path, "a") as f:
            f.write(line + "\n")


def peer_of(server):
    peer = server.session.peer if server.session else None
    return "%s:%s" % peer[:2] if peer else "?"


def uses_tls(server):
    transport = server.transport
    return transport is not None and transport.get_extra_info("ssl_object") is not None


class RecordingSMTP(SMTP):
    """SMTP that records each command and enforces STARTTLS itself, so that
    a command refused for want of TLS still shows in the transcript."""

    def __init__(self, handler, transcript, starttls_first, **kwargs):
        super().__init__(handler, **kwargs)
        self.transcript = transcript
        self.starttls_first = starttls_first
        for verb, method in list(self._smtp_methods.items()):
            self._smtp_methods[verb] = self._recorded(verb, method)

    def _recorded(self, verb, method):
        async def run(arg):
            tls = uses_tls(self)
            self.transcript.write("%s %s %s" % (peer_of(self), "tls" if tls else "plain", verb))
            if self.starttls_first and not tls and verb not in BEFORE_STARTTLS:
                await self.push("530 5.7.0 Must issue a STARTTLS command first")
                return
            await method(arg)
        return run


class RecordingController(Controller):
    def __init__(self, handler, transcript, starttls_first, **kwargs):
        self.transcript = transcript
        self.starttls_first = starttls_first
        super().__init__(handler, **kwargs)

    def factory(self):
        return RecordingSMTP(self.handler, self.transcript, self.starttls_first,
                             **self.SMTP_kwargs)


def make_authenticator(user, password, transcript):
    def authenticate(server, session, envelope, mechanism, auth_data):
        tls = "tls" if uses_tls(server) else "plain"
        ok = (auth_data is not None and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        if ok:
            transcript.write("%s %s auth-ok %s" % (peer_of(server), tls, user))
        else:
            transcript.write("%s %s auth-failed" % (peer_of(server), tls))
        return AuthResult(success=ok, handled=False)
    return authenticate


def main():
    parser = argparse.ArgumentParser(description="SMTP server with TLS and AUTH storing messages as files")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--mode", choices=["plain", "starttls", "smtps"], required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user")
    parser.add_argument("--password-file")
    parser.add_argument("--transcript")
    parser.add_argument("--ready-file")
    args = parser.parse_args()
    if args.port <= 0 or args.port > 65535:
        parser.error("--port must be 1-65535")
    if args.mode != "plain" and not (args.cert and args.key):
        parser.error("--mode %s needs --cert and --key" % args.mode)
    if bool(args.user) != bool(args.password_file):
        parser.error("--user and --password-file go together")
    os.makedirs(args.dir, exist_ok=True)

    transcript = Transcript(args.transcript)
    kwargs = {"hostname": "127.0.0.1", "port": args.port,
              "server_hostname": "tls.stockpipe.test"}
    tls_context = None
    if args.mode != "plain":
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.cert, args.key)
    if args.mode == "starttls":
        kwargs["tls_context"] = tls_context
    elif args.mode == "smtps":
        kwargs["ssl_context"] = tls_context
    if args.user:
        with open(args.password_file) as f:
            password = f.readline().rstrip("\r\n")
        kwargs["authenticator"] = make_authenticator(args.user, password, transcript)
        kwargs["auth_required"] = True
        # aiosmtpd counts only STARTTLS as TLS: with implicit TLS it would
        # never offer AUTH; in plain mode, offering it in clear is the point.
        kwargs["auth_require_tls"] = args.mode == "starttls"

    controller = RecordingController(Sink(args.dir, []), transcript,
                                     args.mode == "starttls", **kwargs)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
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
