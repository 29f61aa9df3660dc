#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""slowclients.py - many slow clients against rulesd while ordinary requests
must still be served (tests/run-server.sh; loopback only, bounded in time).

  slowclients.py PORT COUNT SECONDS [options]

COUNT sockets (from the --source addresses in turn, default 127.0.0.1;
loopback has all of 127.0.0.0/8) each send a request line
one byte every --interval seconds (default 2), never finishing their
headers; a socket the server closes is opened again at its next tick, so
the client keeps trying to hold COUNT. Meanwhile, from 127.0.0.1, a fresh
connection every 0.25 s asks GET /healthz or, with --post PATH BODY WANT,
POSTs BODY to PATH and expects WANT back byte for byte.

Passes (exit 0) when every ordinary request got its answer within
--max-latency seconds (default 3); with --max-life S, when no slow socket
was held open longer than S seconds; with --max-open N, when the server's
/metrics reports at most N open connections at the end. Prints one summary
line; exit 1 with the reason otherwise. If the open-file limit cannot be
raised to COUNT + 100, COUNT is lowered to fit and the line says so.
"""
import argparse
import collections
import errno
import http.client
import re
import resource
import selectors
import socket
import sys
import threading
import time

REQUEST = b"POST /v1/evaluate HTTP/1.1\r\nHost: rulesd\r\nX-Slow: " + b"a" * 4096


def fit_count(count):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = count + 100
    if soft != resource.RLIM_INFINITY and soft < need:
        new = need if hard == resource.RLIM_INFINITY or hard >= need else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            soft = new
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < need:
        return max(1, soft - 100), f" (open-file limit {soft}: {max(1, soft - 100)} sockets, not {count})"
    return count, ""


class Slow:
    """One slow client socket, reopened whenever the server closes it."""

    def __init__(self, source):
        self.source = source
        self.sock = None
        self.opened = 0.0
        self.sent = 0
        self.connected = False
        self.gen = 0        # due entries of an earlier socket are stale


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("seconds", type=float)
    ap.add_argument("--source", action="append", help="a source address (repeatable: round robin)")
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--post", nargs=3, metavar=("PATH", "BODY", "WANT"))
    ap.add_argument("--max-latency", type=float, default=3.0)
    ap.add_argument("--max-life", type=float)
    ap.add_argument("--max-open", type=int)
    a = ap.parse_args()
    sources = a.source or ["127.0.0.1"]
    count, note = fit_count(a.count)
    post = None
    if a.post:
        post = (a.post[0], open(a.post[1], "rb").read(), open(a.post[2], "rb").read())

    sel = selectors.DefaultSelector()
    slows = [Slow(sources[k % len(sources)]) for k in range(count)]
    due = collections.deque()   # (time, slow, gen): the next byte, or a reopening
    stats = {"opened": 0, "closed_by_server": 0, "longest": 0.0, "peak": 0, "open": 0}

    def reopen(s, now):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.bind((s.source, 0))
        try:
            sock.connect((("127.0.0.1", a.port)))
        except BlockingIOError:
            pass
        except OSError:
            sock.close()
            due.append((now + a.interval, s, s.gen))
            return
        s.sock, s.opened, s.sent, s.connected = sock, now, 0, False
        sel.register(sock, selectors.EVENT_WRITE, s)
        stats["opened"] += 1

    def closed(s, now, by_server):
        sel.unregister(s.sock)
        s.sock.close()
        s.sock = None
        s.gen += 1
        if s.connected:
            stats["open"] -= 1
        if by_server:
            stats["closed_by_server"] += 1
            stats["longest"] = max(stats["longest"], now - s.opened)
        due.append((now + a.interval, s, s.gen))

    # The ordinary client, on its own thread.
    checks = {"ok": 0, "failed": [], "slowest": 0.0}
    stop = threading.Event()

    def ordinary():
        i = 0
        while not stop.is_set():
            t0 = time.monotonic()
            what = "GET /healthz" if post is None or i % 2 == 0 else "POST " + post[0]
            try:
                c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=a.max_latency + 2)
                if what.startswith("GET"):
                    c.request("GET", "/healthz")
                else:
                    c.request("POST", post[0], body=post[1], headers={"Content-Type": "application/json"})
                r = c.getresponse()
                body = r.read()
                c.close()
                took = time.monotonic() - t0
                checks["slowest"] = max(checks["slowest"], took)
                if r.status != 200:
                    checks["failed"].append(f"{what}: status {r.status}")
                elif post is not None and what.startswith("POST") and body.rstrip(b"\n") != post[2].rstrip(b"\n"):
                    checks["failed"].append(f"{what}: unexpected answer {body[:100]!r}")
                elif took > a.max_latency:
                    checks["failed"].append(f"{what}: took {took:.2f} s")
                else:
                    checks["ok"] += 1
            except OSError as e:
                checks["failed"].append(f"{what}: {e} after {time.monotonic() - t0:.2f} s")
            i += 1
            stop.wait(0.25)

    start = time.monotonic()
    for k, s in enumerate(slows):
        # Spread over the first interval, as clients arriving one by one.
        due.append((start + a.interval * k / count, s, 0))
    t = threading.Thread(target=ordinary)
    t.start()
    end = start + a.seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        while due and due[0][0] <= now:
            _, s, gen = due.popleft()
            if gen != s.gen:
                continue
            if s.sock is None:
                reopen(s, now)
            elif s.connected:
                try:
                    s.sock.send(REQUEST[s.sent:s.sent + 1])
                    s.sent += 1
                    due.append((now + a.interval, s, s.gen))
                except OSError:
                    closed(s, now, True)
        timeout = max(0.0, min(0.05, (due[0][0] - now) if due else 0.05))
        for key, ev in sel.select(timeout):
            s = key.data
            now = time.monotonic()
            if not s.connected:
                err = s.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    closed(s, now, False)
                    continue
                s.connected = True
                stats["open"] += 1
                stats["peak"] = max(stats["peak"], stats["open"])
                try:
                    s.sock.send(REQUEST[:1])
                    s.sent = 1
                except OSError:
                    closed(s, now, True)
                    continue
                sel.modify(s.sock, selectors.EVENT_READ, s)
                due.append((now + a.interval, s, s.gen))
            else:
                try:
                    data = s.sock.recv(4096)
                except OSError as e:
                    data = b"" if e.errno in (errno.ECONNRESET, errno.EPIPE) else None
                if not data:
                    closed(s, now, True)
    now = time.monotonic()
    # Sockets still held count too: one older than --max-life was never cut.
    held_longest = max((now - s.opened for s in slows if s.sock is not None and s.connected), default=0.0)
    stop.set()
    t.join()
    open_now = None
    if a.max_open is not None:
        try:
            c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=5)
            c.request("GET", "/metrics")
            m = re.search(rb"^rulesd_connections_open (\d+)$", c.getresponse().read(), re.M)
            open_now = int(m.group(1)) if m else None
        except OSError:
            pass
    for s in slows:
        if s.sock is not None:
            s.sock.close()

    line = (f"slow clients: {count} from {', '.join(sources)}{note}, {stats['opened']} connections opened, "
            f"at most {stats['peak']} at once, {stats['closed_by_server']} closed by the server, longest held "
            f"{max(stats['longest'], held_longest):.1f} s; ordinary requests: {checks['ok']} ok, "
            f"{len(checks['failed'])} failed, slowest {checks['slowest']:.3f} s"
            + (f"; server reports {open_now} open" if a.max_open is not None else ""))
    problems = checks["failed"][:3]
    if checks["ok"] < a.seconds * 2:
        problems.append(f"only {checks['ok']} ordinary requests answered in {a.seconds:.0f} s")
    if a.max_life is not None and max(stats["longest"], held_longest) > a.max_life:
        problems.append(f"a slow socket was held {max(stats['longest'], held_longest):.1f} s (limit {a.max_life} s)")
    if stats["opened"] < count:
        problems.append(f"only {stats['opened']} of {count} slow sockets could connect")
    if a.max_open is not None and (open_now is None or open_now > a.max_open):
        problems.append(f"the server holds {open_now} connections (limit {a.max_open})")
    print(line + ("" if not problems else ": " + "; ".join(problems)))
    sys.exit(1 if problems else 0)


main()
