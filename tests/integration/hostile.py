#!/usr/bin/python3
"""hostile.py - a DNS responder that answers badly on purpose (stdlib only).

    /usr/bin/python3 tests/integration/hostile.py ADDR [PORT]

Listens on ADDR:PORT (53 by default), UDP and TCP, until SIGTERM. What it sends
depends on the first label of the question name:

  ok        a valid answer: one TXT "ok"
  loop      the answer's owner is a compression pointer to itself
  past      a compression pointer past the end of the message
  trunc     ANCOUNT=1 but the record is cut in its RDATA (TC=0)
  counts    ANCOUNT=50 with one record present
  badid     a valid answer with another ID
  badq      a valid answer to another question name
  qr0       a valid answer with QR=0
  short     a 5-octet datagram
  twoopt    a valid answer with two OPT records
  silent    nothing at all
  formerr   FORMERR without OPT to an EDNS query; a valid answer to a plain one
  tctcp     UDP: TC=1; TCP: a valid answer
  tcplen    UDP: TC=1; TCP: length prefix 4000, 100 octets, then close
  tcphang   UDP: TC=1; TCP: length prefix 4000, 100 octets, then nothing
  tcpbadid  UDP: TC=1; TCP: a valid answer with another ID
The apex hostile.parent.test. answers SOA with `loop` and NS with `tcplen`; any other
name answers as `past` (so resolving the server's own name fails too).
"""
import signal
import socket
import struct
import sys
import threading
import time

TYPE_TXT, TYPE_OPT = 16, 41


def parse_query(msg):
    """(id, flags, labels, qtype, question wire, has_opt) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    if qd != 1:
        return None
    pos, labels = 12, []
    while pos < len(msg):
        n = msg[pos]
        if n == 0 or n >= 64:
            break
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace").lower())
        pos += 1 + n
    pos += 1
    if pos + 4 > len(msg):
        return None
    qtype, _ = struct.unpack(">HH", msg[pos:pos + 4])
    qwire = msg[12:pos + 4]
    return qid, flags, labels, qtype, qwire, ar > 0


def header(qid, flags, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def txt_rr(text, owner=b"\xc0\x0c"):
    data = bytes([len(text)]) + text
    return owner + struct.pack(">HHIH", TYPE_TXT, 1, 60, len(data)) + data


def opt_rr():
    return b"\x00" + struct.pack(">HHIH", TYPE_OPT, 1232, 0, 0)


QR_AA = 0x8400  # QR=1, AA=1, RCODE=0


def good(qid, qwire):
    return header(qid, QR_AA, an=1) + qwire + txt_rr(b"ok")


def mode_of(labels, qtype):
    if labels[:3] == ["hostile", "parent", "test"]:
        return "loop" if qtype == 6 else "tcplen"
    return labels[0] if labels else "past"


def answer_udp(msg):
    q = parse_query(msg)
    if not q:
        return None
    qid, _, labels, qtype, qwire, has_opt = q
    mode = mode_of(labels, qtype)
    body_at = 12 + len(qwire)
    if mode == "ok":
        return good(qid, qwire)
    if mode == "loop":
        # The owner at offset body_at is a pointer to body_at itself.
        ptr = struct.pack(">H", 0xC000 | body_at)
        return header(qid, QR_AA, an=1) + qwire + txt_rr(b"x", owner=ptr)
    if mode == "trunc":
        return (header(qid, QR_AA, an=1) + qwire + txt_rr(b"a longer text record"))[:-8]
    if mode == "counts":
        return header(qid, QR_AA, an=50) + qwire + txt_rr(b"one")
    if mode == "badid":
        return good((qid + 1) & 0xFFFF, qwire)
    if mode == "badq":
        other = b"\x05other\x00" + qwire[-4:]
        return header(qid, QR_AA, an=1) + other + txt_rr(b"ok")
    if mode == "qr0":
        return header(qid, 0x0400, an=1) + qwire + txt_rr(b"ok")
    if mode == "short":
        return b"\x00\x01\x02\x03\x04"
    if mode == "twoopt":
        return header(qid, QR_AA, an=1, ar=2) + qwire + txt_rr(b"ok") + opt_rr() + opt_rr()
    if mode == "silent":
        return None
    if mode == "formerr":
        if has_opt:
            return header(qid, 0x8001, qd=0)
        return good(qid, qwire)
    if mode in ("tctcp", "tcplen", "tcphang", "tcpbadid"):
        return header(qid, QR_AA | 0x0200) + qwire
    # past, and anything else: a pointer far past the end
    return header(qid, QR_AA, an=1) + qwire + txt_rr(b"x", owner=b"\xcf\xff")


def serve_udp(sock):
    while True:
        try:
            msg, peer = sock.recvfrom(65535)
        except OSError:
            return
        out = answer_udp(msg)
        if out is not None:
            sock.sendto(out, peer)


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def serve_tcp_conn(conn):
    with conn:
        conn.settimeout(10)
        try:
            ln = recv_exact(conn, 2)
            if not ln:
                return
            msg = recv_exact(conn, struct.unpack(">H", ln)[0])
            q = parse_query(msg or b"")
            if not q:
                return
            qid, _, labels, qtype, qwire, _ = q
            mode = mode_of(labels, qtype)
            if mode == "tctcp":
                out = good(qid, qwire)
                conn.sendall(struct.pack(">H", len(out)) + out)
            elif mode == "tcpbadid":
                out = good((qid + 7) & 0xFFFF, qwire)
                conn.sendall(struct.pack(">H", len(out)) + out)
            elif mode in ("tcplen", "tcphang"):
                out = (good(qid, qwire) + b"\x00" * 100)[:100]
                conn.sendall(struct.pack(">H", 4000) + out)
                if mode == "tcphang":
                    time.sleep(8)
            else:
                out = answer_udp(msg)
                if out is not None:
                    conn.sendall(struct.pack(">H", len(out)) + out)
        except OSError:
            return


def serve_tcp(sock):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=serve_tcp_conn, args=(conn,), daemon=True).start()


def main():
    addr = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 53
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, port))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, port))
    t.listen(16)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Thread(target=serve_udp, args=(u,), daemon=True).start()
    threading.Thread(target=serve_tcp, args=(t,), daemon=True).start()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
