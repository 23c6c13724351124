#!/usr/bin/env python3
"""http_upstream.py - the HTTP peer behind tests/tools/fault-proxy.py in http.test (stdlib only).

usage: http_upstream.py PORTFILE LOGFILE [--tls CERT KEY]
Binds 127.0.0.1 on a free port and writes the port to PORTFILE once it listens. Every request
it receives is appended to LOGFILE as one line "METHOD PATH len=N auth=yes|no", so the test can
prove that each logical request landed exactly once (faults are answered by the proxy, which
never forwards them). Paths:
  /flaky/KEY/STATUS/TIMES  the first TIMES requests with this KEY get STATUS (no Retry-After),
                           then 200
  /slow?ms=N               answers after N milliseconds
  /big?n=N                 a body of N bytes
  anything else            200 "ok METHOD PATH"
"""
import http.server
import os
import ssl
import sys
import threading
import time
import urllib.parse

PORTFILE, LOGFILE = sys.argv[1], sys.argv[2]
LOCK = threading.Lock()
FLAKY = {}


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        with LOCK:
            with open(LOGFILE, "a") as f:
                f.write("%s %s len=%d auth=%s\n" % (self.command, u.path, len(body),
                                                    "yes" if self.headers.get("Authorization") else "no"))
        parts = u.path.split("/")
        if len(parts) == 5 and parts[1] == "flaky":
            key, status, times = parts[2], int(parts[3]), int(parts[4])
            with LOCK:
                n = FLAKY.get(key, 0)
                FLAKY[key] = n + 1
            if n < times:
                return self._send(status, b"flaky %d of %d" % (n + 1, times))
        if u.path == "/slow":
            time.sleep(int(q.get("ms", ["1000"])[0]) / 1000.0)
        if u.path == "/big":
            return self._send(200, b"x" * int(q.get("n", ["0"])[0]))
        self._send(200, ("ok %s %s" % (self.command, u.path)).encode())

    def _send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
if len(sys.argv) == 6 and sys.argv[3] == "--tls":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(PORTFILE + ".tmp", "w") as f:  # renamed: the file appears whole
    f.write("%d\n" % srv.server_address[1])
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
