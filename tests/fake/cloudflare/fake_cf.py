#!/usr/bin/env python3
"""fake_cf.py - a stateful fake of Cloudflare API v4 (zones, DNS records, batch) for the
tests, in Flask. Binds 127.0.0.1 only.

usage: fake_cf.py CONFIG.json SCHEMA.json PORT_FILE

CONFIG: {"token": "...", "readonly_token": "..." (optional), "tsig": "alg:name:secret",
         "max_per_page": 100,
         "zones": [{"name": "example.test", "status": "active",
                    "name_servers": ["ada.ns.cf.test", ...], "knot": "127.x.y.z"}]}
        (name_servers: what the fake assigns; ada and bob.ns.cf.test when not given)

What it does:
  - keeps zones and records in memory; at start each active zone's records are imported
    from its Knot server by AXFR (SOA and apex NS left out, as Cloudflare lists them);
  - serves GET /zones?name=, GET /zones/{id}, GET/POST /zones/{id}/dns_records (paginated,
    per_page clamped to max_per_page: result_info says how many pages),
    GET/PATCH/PUT/DELETE /zones/{id}/dns_records/{rid}, POST /zones/{id}/dns_records/batch
    (deletes, patches, puts, posts in that order, all or nothing);
  - validates EVERY request (path, query, body, bearer token) and EVERY response against
    the OpenAPI schema; a violation is logged on stderr, kept for GET /_fake/violations,
    and the request is refused (400, code 9207) or the response replaced by a 500: the fake
    is never more lenient than the schema;
  - enforces what the schema cannot: identical records (81058), CNAME beside other data
    (81053), names outside the zone (1004), type changes in place (1004), unknown ids (81044);
  - writes every committed change through to the zone's Knot server by RFC 2136
    (knsupdate with the world's TSIG key), so DNS answers what the API holds.
Control (never validated, not Cloudflare's): GET /_fake/calls, POST /_fake/calls/reset,
GET /_fake/requests (every API request received, one JSON object a line),
GET /_fake/violations, GET /_fake/records?zone=NAME, POST /_fake/config
({"batch_fail": N, "rate429": N, "drop_after_commit": N}: refuse the next N
batches; answer the next N API calls 429 without Retry-After (code 10429); commit the next
N writes and close the connection without an answer), POST /_fake/seed
({"zone": NAME, "records": [{name,type,content,ttl}]}: bulk insert, written through).
"""
import copy
import datetime
import json
import re
import socket
import subprocess
import sys
import threading
import uuid

from flask import Flask, Response, request
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from werkzeug.serving import make_server

CONFIG = json.load(open(sys.argv[1]))
SPEC = json.load(open(sys.argv[2]))
PORT_FILE = sys.argv[3]
PREFIX = "/client/v4"
MAX_PER_PAGE = int(CONFIG.get("max_per_page", 5000))
LOCK = threading.Lock()
VIOLATIONS = []
CALLS = {}
REQUESTS = []  # every API request as received, for a replay against Prism
KNOBS = {"batch_fail": 0, "rate429": 0, "drop_after_commit": 0}
NOW = "2026-11-23T10:00:00.000000Z"

app = Flask(__name__)

# ---- the schema -------------------------------------------------------------------------------

_validators = {}


def validator(schema):
    key = id(schema)
    if key not in _validators:
        full = dict(schema)
        full["components"] = SPEC["components"]
        _validators[key] = OAS30Validator(full, format_checker=oas30_format_checker)
    return _validators[key]


def add_discriminator_mappings(node):
    """Cloudflare's schema names a discriminator (propertyName "type") without a mapping;
    OpenAPI 3.0 then maps the value to a schema named after it ("#/components/schemas/TXT"),
    which does not exist, so every record would fail. Give each such discriminator the
    mapping its own branches state (each branch's `type` enum), which is what the schema
    means: nothing is loosened, the anyOf still decides."""
    if isinstance(node, dict):
        d = node.get("discriminator")
        branches = node.get("anyOf") or node.get("oneOf")
        if d and branches and "mapping" not in d:
            mapping = {}
            for b in branches:
                target = resolve(b)
                prop = resolve(target.get("properties", {}).get(d["propertyName"], {}))
                for value in prop.get("enum", []):
                    mapping[value] = b["$ref"]
                if not prop.get("enum"):
                    # a branch that is itself a union: its members' values map to it
                    for inner in target.get("anyOf", []) + target.get("oneOf", []):
                        ip = resolve(resolve(inner).get("properties", {}).get(d["propertyName"], {}))
                        for value in ip.get("enum", []):
                            mapping[value] = inner["$ref"]
            d["mapping"] = mapping
        for v in node.values():
            add_discriminator_mappings(v)
    elif isinstance(node, list):
        for v in node:
            add_discriminator_mappings(v)


def resolve(obj):
    while isinstance(obj, dict) and "$ref" in obj:
        node = SPEC
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def errors_of(schema, value, where):
    out = []
    for e in validator(schema).iter_errors(value):
        loc = "/".join(str(p) for p in e.absolute_path)
        out.append(f"{where}{'/' + loc if loc else ''}: {e.message[:300]}")
    return out


add_discriminator_mappings(SPEC)

# Path templates of the spec, as regexes, with their operations.
ROUTES = []
for tmpl, item in SPEC["paths"].items():
    rx = "^" + re.sub(r"\{([a-z_]+)\}", r"(?P<\1>[^/]+)", tmpl) + "$"
    ROUTES.append((re.compile(rx), tmpl, item))


def find_op(method, path):
    for rx, tmpl, item in ROUTES:
        m = rx.match(path)
        if m and method.lower() in item:
            return tmpl, item[method.lower()], m.groupdict()
    return None, None, None


def coerce(schema, raw):
    t = resolve(schema).get("type")
    try:
        if t == "number":
            return float(raw) if "." in raw else int(raw)
        if t == "integer":
            return int(raw)
        if t == "boolean":
            return {"true": True, "false": False}[raw]
    except (ValueError, KeyError):
        return raw
    return raw


def check_request(op, pathvars):
    """Every violation of the request against the operation, as strings."""
    v = []
    params = [resolve(p) for p in op.get("parameters", [])]
    known = {(p["in"], p["name"]): p for p in params}
    for name, value in pathvars.items():
        p = known.get(("path", name))
        if p is None:
            v.append(f"path/{name}: not a parameter of the operation")
        else:
            v += errors_of(p["schema"], coerce(p["schema"], value), f"path/{name}")
    for name in request.args.keys():
        values = request.args.getlist(name)
        p = known.get(("query", name))
        if p is None:
            v.append(f"query/{name}: not a parameter of the operation")
            continue
        if len(values) > 1:
            v.append(f"query/{name}: given {len(values)} times")
        v += errors_of(p["schema"], coerce(p["schema"], values[0]), f"query/{name}")
    for (where, name), p in known.items():
        if p.get("required") and where == "query" and name not in request.args:
            v.append(f"query/{name}: required")
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or len(auth) < 12:
        v.append("header/Authorization: no bearer token (security api_token)")
    body = request.get_data()
    rb = resolve(op.get("requestBody")) if op.get("requestBody") else None
    if rb is None:
        if body:
            v.append("body: this operation takes no body")
        return v, None
    ctype = request.headers.get("Content-Type", "").split(";")[0].strip()
    if ctype not in rb["content"]:
        v.append(f"header/Content-Type: {ctype!r} is not one of {list(rb['content'])}")
        return v, None
    if not body:
        if rb.get("required"):
            v.append("body: required")
        return v, None
    try:
        doc = json.loads(body)
    except ValueError as e:
        v.append(f"body: not JSON ({e})")
        return v, None
    v += errors_of(rb["content"][ctype]["schema"], doc, "body")
    return v, doc


def check_response(op, status, doc):
    rs = op["responses"]
    r = rs.get(str(status)) or rs.get(f"{str(status)[0]}XX") or rs.get("default")
    if r is None:
        return [f"response: status {status} is not in the spec"]
    r = resolve(r)
    schema = r["content"]["application/json"]["schema"]
    return errors_of(schema, doc, f"response {status}")


def violation(kind, where, items):
    with LOCK:
        for i in items:
            line = f"{kind} {where}: {i}"
            VIOLATIONS.append(line)
            sys.stderr.write("VIOLATION " + line + "\n")
    sys.stderr.flush()


# ---- state ------------------------------------------------------------------------------------

ZONES = {}   # id -> zone dict (the API object)
RECORDS = {}  # zone id -> [record dicts]
KNOT = {}    # zone id -> server address


def new_id():
    return uuid.uuid4().hex


def zone_object(z):
    return {
        "id": z["id"], "name": z["name"], "status": z["status"], "paused": False, "type": "full",
        "development_mode": 0, "name_servers": z["name_servers"], "original_name_servers": None,
        "original_registrar": None, "original_dnshost": None, "created_on": NOW, "modified_on": NOW,
        "activated_on": NOW if z["status"] == "active" else None,
        "owner": {"type": "user"},
        "account": {"id": "01a7362d577a6c3019a474fd6f485823", "name": "zonewarden tests"},
        "meta": {"step": 2, "phishing_detected": False}, "plan": {"id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
                                                                 "name": "Free Website", "is_subscribed": True,
                                                                 "frequency": "", "price": 0, "currency": "USD",
                                                                 "can_subscribe": False, "legacy_id": "free",
                                                                 "legacy_discount": False,
                                                                 "externally_managed": False},
        "vanity_name_servers": [], "permissions": ["#dns_records:edit", "#dns_records:read", "#zone:read"],
    }


def record_object(r):
    o = {
        "id": r["id"], "name": r["name"], "type": r["type"], "content": r["content"], "ttl": r["ttl"],
        "proxied": r.get("proxied", False), "proxiable": r["type"] in ("A", "AAAA", "CNAME"),
        "comment": r.get("comment") or "", "tags": r.get("tags", []), "settings": {}, "meta": {},
        "data": {}, "created_on": r["created_on"], "modified_on": r["modified_on"],
    }
    if r["type"] == "MX":
        o["priority"] = r.get("priority", 0)
    if r.get("comment"):
        o["comment_modified_on"] = r["modified_on"]
    return o


# ---- TXT content and rdata for the write-through ----------------------------------------------

def txt_strings(content):
    """Cloudflare content -> byte strings (quoted character-strings, else legacy literal)."""
    s = content.lstrip(" \t")
    if s.startswith('"'):
        out, i, n = [], 0, len(s)
        ok = True
        while True:
            while i < n and s[i] in " \t":
                i += 1
            if i >= n:
                break
            quoted = s[i] == '"'
            if quoted:
                i += 1
            buf = bytearray()
            while True:
                if i >= n:
                    if quoted:
                        ok = False
                    break
                c = s[i]
                if (quoted and c == '"') or (not quoted and (c in " \t" or c == '"')):
                    break
                if c == "\\":
                    i += 1
                    if i < n and s[i].isdigit():
                        if i + 2 < n + 0 and s[i:i + 3].isdigit() and int(s[i:i + 3]) < 256:
                            buf.append(int(s[i:i + 3]))
                            i += 3
                            continue
                        ok = False
                        break
                    if i >= n:
                        ok = False
                        break
                    c = s[i]
                buf += c.encode()
                i += 1
            if not ok:
                break
            if quoted:
                i += 1
            out.append(bytes(buf))
        if ok:
            if not out:
                out = [b""]
            return [p for b in out for p in split255(b)]
    return split255(content.encode())


def split255(b):
    if not b:
        return [b""]
    return [b[i:i + 255] for i in range(0, len(b), 255)]


def quote(b):
    out = '"'
    for c in b:
        if c in (0x22, 0x5C):
            out += "\\" + chr(c)
        elif c < 0x20 or c > 0x7E:
            out += "\\%03d" % c
        else:
            out += chr(c)
    return out + '"'


def rdata(r):
    t, c = r["type"], r["content"]
    if t == "TXT":
        return " ".join(quote(b) for b in txt_strings(c))
    if t in ("CNAME", "NS", "PTR"):
        return c.rstrip(".") + "."
    if t == "MX":
        return "%d %s." % (r.get("priority", 0), c.rstrip("."))
    return c


def write_through(zid, touched):
    """Replace each touched (name, type) rrset in Knot with what the API now holds."""
    if not touched or zid not in KNOT:
        return None
    zone = ZONES[zid]["name"]
    lines = [f"server {KNOT[zid]}", f"zone {zone}.", "origin ."]
    for name, t in sorted(touched):
        lines.append(f"update delete {name}. {t}")
        for r in RECORDS[zid]:
            if r["name"] == name and r["type"] == t:
                ttl = 300 if r["ttl"] == 1 else r["ttl"]
                lines.append(f"update add {name}. {ttl} {t} {rdata(r)}")
    lines += ["send", "quit"]
    p = subprocess.run(["knsupdate", "-y", CONFIG["tsig"]], input="\n".join(lines) + "\n",
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return f"knsupdate failed ({p.returncode}): {p.stderr.strip()[:300]}"
    return None


def import_from_knot(zid):
    zone = ZONES[zid]["name"]
    p = subprocess.run(["kdig", "-y", CONFIG["tsig"], "@" + KNOT[zid], zone, "AXFR", "+nocomments",
                        "+nostats", "+noheader", "+noquestion"], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        sys.exit(f"fake_cf: axfr of {zone} from {KNOT[zid]} failed: {p.stderr.strip()}")
    for line in p.stdout.splitlines():
        f = line.split(None, 4)
        if len(f) < 5 or line.startswith(";"):
            continue
        name, ttl, _cls, t, rd = f[0].rstrip(".").lower(), int(f[1]), f[2], f[3], f[4]
        if t == "SOA" or (t == "NS" and name == zone) or t not in ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "PTR"):
            continue
        r = {"id": new_id(), "name": name, "type": t, "ttl": ttl, "proxied": False,
             "created_on": NOW, "modified_on": NOW, "tags": []}
        if t == "MX":
            prio, host = rd.split(None, 1)
            r["priority"], r["content"] = int(prio), host.rstrip(".")
        elif t in ("CNAME", "NS", "PTR"):
            r["content"] = rd.rstrip(".")
        else:
            r["content"] = rd
        if not any(x["name"] == r["name"] and x["type"] == t and x["content"] == r["content"] for x in RECORDS[zid]):
            RECORDS[zid].append(r)


# ---- record semantics (what the schema cannot say) -------------------------------------------

class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def same_content(a, b):
    if a["type"] == "TXT":
        return txt_strings(a["content"]) == txt_strings(b["content"])
    if a["type"] in ("CNAME", "NS", "PTR", "MX"):
        return a["content"].rstrip(".").lower() == b["content"].rstrip(".").lower() and \
            a.get("priority") == b.get("priority")
    return a["content"] == b["content"]


def make_record(zid, body, old=None):
    zone = ZONES[zid]["name"]
    name = body.get("name", "").rstrip(".").lower()
    if name != zone and not name.endswith("." + zone):
        raise ApiError(400, 1004, f"DNS Validation Error: {name} is not in zone {zone}")
    t = body["type"]
    if "content" not in body:
        raise ApiError(400, 1004, "DNS Validation Error: content is required")
    if old is not None and old["type"] != t:
        raise ApiError(400, 1004, "DNS Validation Error: a record's type cannot be changed; delete and create")
    if t == "CNAME" and body["content"].rstrip(".").lower() == name:
        raise ApiError(400, 1004, "DNS Validation Error: a CNAME cannot point to itself")
    if t == "MX" and "priority" not in body:
        raise ApiError(400, 1004, "DNS Validation Error: priority is required for MX")
    comment = body.get("comment")
    if comment is not None and ("\n" in comment or "\r" in comment):
        raise ApiError(400, 9207, "comment must not contain new lines")
    r = {"id": old["id"] if old else new_id(), "name": name, "type": t, "content": body["content"],
         "ttl": body.get("ttl", 1), "proxied": body.get("proxied", False), "comment": comment,
         "tags": body.get("tags", []), "created_on": old["created_on"] if old else NOW,
         "modified_on": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    if t == "MX":
        r["priority"] = body["priority"]
    return r


def admit(recs, r):
    """Raise if r cannot join recs (r's own id excluded)."""
    for x in recs:
        if x["id"] == r["id"] or x["name"] != r["name"]:
            continue
        if x["type"] == r["type"] and same_content(x, r):
            raise ApiError(400, 81058, "An identical record already exists.")
        if (x["type"] == "CNAME") != (r["type"] == "CNAME"):
            raise ApiError(400, 81053, "An A, AAAA, or CNAME record with that host already exists.")
        if x["type"] == "CNAME" and r["type"] == "CNAME":
            raise ApiError(400, 81054, "A CNAME record with that host already exists.")


def by_id(recs, rid):
    for i, x in enumerate(recs):
        if x["id"] == rid:
            return i
    raise ApiError(404, 81044, "Record does not exist.")


# ---- the API --------------------------------------------------------------------------------

def envelope(result, info=None):
    d = {"success": True, "errors": [], "messages": [], "result": result}
    if info is not None:
        d["result_info"] = info
    return d


def failure(code, message):
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}


def page_of(items):
    page = request.args.get("page", "1")
    per = request.args.get("per_page", "100")
    page = max(1, int(float(page)))
    per = max(1, min(MAX_PER_PAGE, int(float(per))))
    total = len(items)
    pages = (total + per - 1) // per
    chunk = items[(page - 1) * per: page * per]
    return chunk, {"page": page, "per_page": per, "count": len(chunk), "total_count": total, "total_pages": pages}


def zone_or_404(zid):
    if zid not in ZONES:
        raise ApiError(404, 7003, "Could not route to /zones/" + zid + ", perhaps your object identifier is invalid?")
    return ZONES[zid]


def writable():
    if request.headers.get("Authorization", "") == "Bearer " + CONFIG.get("readonly_token", "\0"):
        raise ApiError(403, 10000, "Authentication error")


def handle(tmpl, method, pv, body):
    auth = request.headers.get("Authorization", "")
    if auth not in ("Bearer " + CONFIG["token"], "Bearer " + CONFIG.get("readonly_token", "\0")):
        raise ApiError(403, 9109, "Invalid access token")
    if tmpl == "/zones" and method == "GET":
        name = request.args.get("name")
        zs = [zone_object(z) for z in ZONES.values() if name is None or z["name"] == name.lower()]
        chunk, info = page_of(zs)
        return 200, envelope(chunk, info), None
    zid = pv.get("zone_id")
    if tmpl == "/zones/{zone_id}" and method == "GET":
        return 200, envelope(zone_object(zone_or_404(zid))), None
    zone_or_404(zid)
    recs = RECORDS[zid]
    if tmpl == "/zones/{zone_id}/dns_records" and method == "GET":
        items = recs
        if "type" in request.args:
            items = [r for r in items if r["type"] == request.args["type"]]
        if "name" in request.args:
            items = [r for r in items if r["name"] == request.args["name"].lower()]
        chunk, info = page_of(items)
        return 200, envelope([record_object(r) for r in chunk], info), None
    if tmpl == "/zones/{zone_id}/dns_records" and method == "POST":
        writable()
        r = make_record(zid, body)
        admit(recs, r)
        recs.append(r)
        return 200, envelope(record_object(r)), {(r["name"], r["type"])}
    if tmpl == "/zones/{zone_id}/dns_records/{dns_record_id}":
        i = by_id(recs, pv["dns_record_id"])
        old = recs[i]
        if method == "GET":
            return 200, envelope(record_object(old)), None
        writable()
        if method == "DELETE":
            del recs[i]
            return 200, {"result": {"id": old["id"]}}, {(old["name"], old["type"])}
        if method == "PATCH":
            merged = {**{k: v for k, v in old.items() if k in ("name", "type", "content", "ttl", "proxied",
                                                                  "comment", "tags", "priority")}, **body}
        else:
            merged = body
        r = make_record(zid, merged, old)
        admit(recs, r)
        recs[i] = r
        return 200, envelope(record_object(r)), {(old["name"], old["type"]), (r["name"], r["type"])}
    if tmpl == "/zones/{zone_id}/dns_records/batch" and method == "POST":
        writable()
        if KNOBS["batch_fail"] > 0:
            KNOBS["batch_fail"] -= 1
            raise ApiError(400, 1004, "DNS Validation Error: batch refused by the fake (batch_fail)")
        work = copy.deepcopy(recs)
        res = {"deletes": [], "patches": [], "puts": [], "posts": []}
        touched = set()
        for d in body.get("deletes", []):
            i = by_id(work, d["id"])
            touched.add((work[i]["name"], work[i]["type"]))
            res["deletes"].append(record_object(work[i]))
            del work[i]
        for kind in ("patches", "puts"):
            for p in body.get(kind, []):
                i = by_id(work, p["id"])
                old = work[i]
                src = {k: v for k, v in p.items() if k != "id"}
                if kind == "patches":
                    src = {**{k: v for k, v in old.items() if k in ("name", "type", "content", "ttl", "proxied",
                                                                       "comment", "tags", "priority")}, **src}
                r = make_record(zid, src, old)
                admit(work, r)
                work[i] = r
                touched |= {(old["name"], old["type"]), (r["name"], r["type"])}
                res[kind].append(record_object(r))
        for p in body.get("posts", []):
            r = make_record(zid, p)
            admit(work, r)
            work.append(r)
            touched.add((r["name"], r["type"]))
            res["posts"].append(record_object(r))
        RECORDS[zid] = work
        return 200, envelope(res), touched
    raise ApiError(404, 7003, "No route for the URI")


@app.route(PREFIX + "/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def api(rest):
    path = "/" + rest
    method = request.method
    tmpl, op, pv = find_op(method, path)
    key = f"{method} {tmpl or path}"
    with LOCK:
        CALLS[key] = CALLS.get(key, 0) + 1
        REQUESTS.append({"method": method, "path": request.full_path[len(PREFIX):].rstrip("?"),
                         "content_type": request.headers.get("Content-Type"),
                         "body": request.get_data(as_text=True)})
    if op is None:
        violation("request", key, ["no such operation in the schema"])
        return reply(404, failure(7003, "No route for the URI"), None)
    v, body = check_request(op, pv)
    if v:
        violation("request", key, v)
        return reply(400, failure(9207, "Request is invalid: " + "; ".join(v)[:900]), None)
    with LOCK:
        if KNOBS["rate429"] > 0:
            KNOBS["rate429"] -= 1
            return reply(429, failure(10429, "Rate limited. Please wait and consider throttling your request speed"),
                         op, headers={})
        try:
            status, doc, touched = handle(tmpl, method, pv, body or {})
        except ApiError as e:
            return reply(e.status, failure(e.code, e.message), op)
        err = write_through(pv.get("zone_id"), touched) if touched else None
    if err:
        violation("write-through", key, [err])
        return reply(500, failure(1000, "write-through to knot failed"), None)
    resp = reply(status, doc, op)
    if touched and KNOBS["drop_after_commit"] > 0:
        # the change is committed, the answer never arrives: the truly ambiguous failure
        KNOBS["drop_after_commit"] -= 1
        sock = request.environ.get("werkzeug.socket")
        sys.stderr.write(f"DROP after commit {key}\n")
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
            sock.close()
    return resp


def reply(status, doc, op, headers=None):
    if op is not None:
        v = check_response(op, status, doc)
        if v:
            violation("response", f"{request.method} {request.path}", v)
            return Response(json.dumps(failure(1000, "the fake's response broke the schema")), status=500,
                            mimetype="application/json")
    return Response(json.dumps(doc), status=status, mimetype="application/json", headers=headers or {})


# ---- control -----------------------------------------------------------------------------------

@app.route("/_fake/calls", methods=["GET"])
def calls():
    with LOCK:
        return Response(json.dumps({"total": sum(CALLS.values()), "by": CALLS}), mimetype="application/json")


@app.route("/_fake/calls/reset", methods=["POST"])
def calls_reset():
    with LOCK:
        CALLS.clear()
    return "ok\n"


@app.route("/_fake/requests", methods=["GET"])
def requests_seen():
    with LOCK:
        return Response("".join(json.dumps(r) + "\n" for r in REQUESTS), mimetype="application/x-ndjson")


@app.route("/_fake/violations", methods=["GET"])
def violations():
    with LOCK:
        return Response("".join(v + "\n" for v in VIOLATIONS), mimetype="text/plain")


@app.route("/_fake/records", methods=["GET"])
def records():
    name = request.args.get("zone", "")
    with LOCK:
        for zid, z in ZONES.items():
            if z["name"] == name:
                return Response(json.dumps([record_object(r) for r in RECORDS[zid]]), mimetype="application/json")
    return Response("no such zone\n", status=404)


@app.route("/_fake/config", methods=["POST"])
def config():
    with LOCK:
        KNOBS.update(request.get_json())
    return "ok\n"


@app.route("/_fake/seed", methods=["POST"])
def seed():
    d = request.get_json()
    with LOCK:
        zid = next(i for i, z in ZONES.items() if z["name"] == d["zone"])
        touched = set()
        for b in d["records"]:
            r = make_record(zid, b)
            admit(RECORDS[zid], r)
            RECORDS[zid].append(r)
            touched.add((r["name"], r["type"]))
        err = write_through(zid, touched)
    return ("ok\n", 200) if not err else (err + "\n", 500)


def main():
    for z in CONFIG["zones"]:
        zid = z.get("id") or new_id()
        ZONES[zid] = {"id": zid, "name": z["name"], "status": z.get("status", "active"),
                      "name_servers": z.get("name_servers") or ["ada.ns.cf.test", "bob.ns.cf.test"]}
        RECORDS[zid] = []
        if z.get("knot"):
            KNOT[zid] = z["knot"]
            import_from_knot(zid)
    srv = make_server("127.0.0.1", 0, app, threaded=False)
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write(str(srv.server_port))
    import os
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    srv.serve_forever()


if __name__ == "__main__":
    main()
