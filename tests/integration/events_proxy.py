#!/usr/bin/env python3
"""events_proxy.py - a plain-HTTP reverse proxy on 127.0.0.1 in front of a kube-apiserver
that hides the events.k8s.io API group (as on a cluster without it), so that
tests/integration/lease.test can show the event recorder falling back to core/v1 Events
against the real API server. Stdlib only.

usage: events_proxy.py PORT_FILE UPSTREAM_URL CA_FILE
  Listens on a free port of 127.0.0.1 and writes it to PORT_FILE. Every request under
  /apis/events.k8s.io gets a 404 with a metav1.Status body (what the API server answers
  for a group it does not serve); everything else is forwarded to UPSTREAM_URL (https,
  verified with CA_FILE) with its method, headers (Authorization included) and body.
  One line per request on stderr: "METHOD PATH STATUS".
"""
import http.client
import http.server
import json
import os
import ssl
import sys
import urllib.parse

PORT_FILE, UPSTREAM, CA = sys.argv[1], urllib.parse.urlparse(sys.argv[2]), sys.argv[3]
CTX = ssl.create_default_context(cafile=CA)
HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        sys.stderr.write("%s %s %d\n" % (self.command, self.path, status))
        sys.stderr.flush()

    def _any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?")[0]
        if path == "/apis/events.k8s.io" or path.startswith("/apis/events.k8s.io/"):
            st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": "the server could not find the requested resource", "reason": "NotFound",
                  "details": {}, "code": 404}
            self._send(404, [("Content-Type", "application/json")], json.dumps(st).encode())
            return
        c = http.client.HTTPSConnection(UPSTREAM.hostname, UPSTREAM.port, context=CTX, timeout=30)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        c.request(self.command, self.path, body=body if body else None, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        self._send(r.status, r.getheaders(), data)
        c.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
srv.serve_forever()
