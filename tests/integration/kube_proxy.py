#!/usr/bin/env python3
"""kube_proxy.py - a TCP forwarder on 127.0.0.1 that kube.test can cut, for the watch-expiry
test: the informer talks to the API server through it (TLS passes through untouched).

    kube_proxy.py LISTEN_PORT TARGET_PORT PIDFILE

SIGUSR1 cuts: every connection is closed and the port refuses new ones.
SIGUSR2 restores: the port accepts again. SIGTERM ends it.
"""
import os
import select
import signal
import socket
import sys

listen_port, target_port, pidfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
state = {"up": True, "changed": False, "stop": False}


def on_signal(sig, _frame):
    if sig == signal.SIGTERM:
        state["stop"] = True
    else:
        state["up"] = sig == signal.SIGUSR2
    state["changed"] = True


for s in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM):
    signal.signal(s, on_signal)


def listener():
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", listen_port))
    ls.listen(16)
    return ls


ls = listener()
peer = {}  # socket -> its partner
with open(pidfile, "w") as f:
    f.write(str(os.getpid()))

while not state["stop"]:
    if state["changed"]:
        state["changed"] = False
        if not state["up"]:
            for s in list(peer):
                s.close()
            peer.clear()
            if ls:
                ls.close()
                ls = None
        elif ls is None:
            ls = listener()
    socks = list(peer) + ([ls] if ls else [])
    try:
        readable, _, _ = select.select(socks, [], [], 0.1)
    except (InterruptedError, OSError, ValueError):
        continue
    for s in readable:
        if s is ls:
            c, _ = ls.accept()
            try:
                t = socket.create_connection(("127.0.0.1", target_port))
            except OSError:
                c.close()
                continue
            peer[c], peer[t] = t, c
            continue
        if s not in peer:
            continue
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        other = peer[s]
        if data:
            try:
                other.sendall(data)
                continue
            except OSError:
                pass
        for x in (s, other):
            peer.pop(x, None)
            x.close()
