#!/usr/bin/env python3
# Copied unchanged (but for these two comment lines) from shared/tools/peers/fault-proxy.py, so
# that the repository stands alone; tests/integration/http.test puts it in front of a peer.
"""Tiny fault-injecting reverse proxy (stdlib only) to put in front of moto or prism, so a
C client's retry/backoff paths can be tested on loopback. Neither moto nor prism throttles.
usage: fault-proxy.py LISTEN_PORT UPSTREAM_URL [RULE ...]
  RULE = METHOD:PATH_REGEX:COUNT:KIND   (first COUNT matching requests get the fault)
  KIND = r53-throttle | r53-prior | r53-icb | cf-429 | http-500 | drop
  e.g. fault-proxy.py 5065 http://127.0.0.1:5055 'POST:/rrset$:2:r53-throttle'
Binds 127.0.0.1 only. Logs one line per request to stderr."""
import sys, re, http.server, http.client, urllib.parse

R53 = ('<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
       '<Error><Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message></Error>'
       '<RequestId>fault-proxy</RequestId></ErrorResponse>')
FAULTS = {  # kind -> (status, headers, body)   shapes as documented by AWS / Cloudflare
  "r53-throttle": (400, {"Content-Type": "text/xml"}, R53.format(code="Throttling", msg="Rate exceeded")),
  "r53-prior": (400, {"Content-Type": "text/xml"}, R53.format(code="PriorRequestNotComplete",
                 msg="The request was rejected because Route 53 was still processing a prior request.")),
  "r53-icb": (400, {"Content-Type": "text/xml"}, '<?xml version="1.0"?>\n<InvalidChangeBatch xmlns='
              '"https://route53.amazonaws.com/doc/2013-04-01/"><Messages><Message>Tried to create resource '
              "record set [name='x.example.com.', type='TXT'] but it already exists</Message></Messages>"
              '<RequestId>fault-proxy</RequestId></InvalidChangeBatch>'),
  "cf-429": (429, {"Content-Type": "application/json", "Retry-After": "2",
                   "Ratelimit": '"default";r=0;t=2', "Ratelimit-Policy": '"default";q=1200;w=300'},
             '{"success":false,"errors":[{"code":971,"message":"Please wait and consider throttling your request speed"}],"messages":[],"result":null}'),
  "http-500": (500, {"Content-Type": "text/plain"}, "injected 500"),
}
RULES = []
for r in sys.argv[3:]:
    m, rx, n, kind = r.split(":", 3)
    RULES.append({"method": m, "rx": re.compile(rx), "left": int(n), "kind": kind})
UP = sys.argv[2].rstrip("/")

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def _any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        for r in RULES:
            if r["left"] > 0 and r["method"] in (self.command, "*") and r["rx"].search(self.path.split("?")[0]):
                r["left"] -= 1
                sys.stderr.write(f"FAULT {r['kind']} {self.command} {self.path}\n")
                if r["kind"] == "drop":
                    self.close_connection = True; self.connection.close(); return
                st, hd, bd = FAULTS[r["kind"]]
                return self._send(st, hd, bd.encode())
        u = urllib.parse.urlsplit(UP)   # http.client: forwards headers verbatim (urllib would add a
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)  # default Content-Type)
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items(): conn.putheader(k, v)
        conn.endheaders(body if body else None)
        resp = conn.getresponse()
        st, hd, bd = resp.status, dict(resp.getheaders()), resp.read()
        conn.close()
        sys.stderr.write(f"PASS {st} {self.command} {self.path}\n")
        self._send(st, {k: v for k, v in hd.items() if k.lower() not in ("transfer-encoding", "connection",
                                                                         "content-length")}, bd)
    def _send(self, st, hd, bd):
        self.send_response(st)
        for k, v in hd.items(): self.send_header(k, v)
        self.send_header("Content-Length", str(len(bd))); self.end_headers(); self.wfile.write(bd)
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any
    def log_message(self, *a): pass

http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
