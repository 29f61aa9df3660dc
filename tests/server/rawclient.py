#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""rawclient.py - socket-level cases curl cannot express, for
tests/run-server.sh:
  idle PORT LIMIT          connect, send nothing: closed within LIMIT+3 s?
  stall PORT LIMIT         half a body, then silence: closed in time?
  drip PORT LIMIT          a body one byte every 0.4 s: cut after LIMIT?
  trickle PORT LIMIT       request line and headers one byte every 0.4 s,
                           never finished: cut after LIMIT (not reset by
                           each byte, as an inactivity timeout would be)?
  garbage PORT [_]         a request line that is not HTTP: refused, no crash
  inflight PORT PID BODY   half a request, SIGTERM the server, the rest:
                           the request must still be answered with 200
Exit 0 = pass, else one line saying what happened."""
import os
import signal
import socket
import sys
import time


def connect(port):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=15)
    s.settimeout(15)
    return s


def closed_within(s, limit):
    t0 = time.monotonic()
    try:
        while True:
            data = s.recv(4096)
            if not data:
                break
    except socket.timeout:
        return False, time.monotonic() - t0
    except OSError:
        pass
    return time.monotonic() - t0 <= limit, time.monotonic() - t0


def main():
    mode, port = sys.argv[1], sys.argv[2]
    if mode in ("idle", "stall"):
        limit = float(sys.argv[3])
        s = connect(port)
        if mode == "stall":
            s.sendall(b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"kind\":")
        ok, took = closed_within(s, limit + 3)
        print(f"{mode}: closed after {took:.1f} s")
        sys.exit(0 if ok and took >= limit - 1 else 1)
    if mode == "drip":
        limit = float(sys.argv[3])
        s = connect(port)
        s.sendall(b"POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        t0 = time.monotonic()
        try:
            while time.monotonic() - t0 < limit + 6:
                s.sendall(b" ")
                time.sleep(0.4)
        except OSError:
            took = time.monotonic() - t0
            print(f"drip: cut after {took:.1f} s")
            sys.exit(0 if took <= limit + 3 else 1)
        print("drip: never cut")
        sys.exit(1)
    if mode == "trickle":
        limit = float(sys.argv[3])
        s = connect(port)
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
        t0 = time.monotonic()
        try:
            for i in range(len(head)):
                if time.monotonic() - t0 > limit + 6:
                    break
                s.sendall(head[i:i + 1])
                time.sleep(0.4)
        except OSError:
            took = time.monotonic() - t0
            print(f"trickle: cut after {took:.1f} s")
            sys.exit(0 if limit - 1 <= took <= limit + 2 else 1)
        print(f"trickle: never cut in {time.monotonic() - t0:.1f} s")
        sys.exit(1)
    if mode == "garbage":
        s = connect(port)
        s.sendall(b"\x00\x01garbage \xff\r\n\r\n")
        data = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        print(f"garbage: got {data[:12]!r}")
        sys.exit(0 if data == b"" or data.startswith(b"HTTP/1.1 4") else 1)
    if mode == "inflight":
        pid, body = int(sys.argv[3]), open(sys.argv[4], "rb").read()
        s = connect(port)
        head = (b"POST /apply_policies/on_run_apply HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n")
        s.sendall(head + body[: len(body) // 2])
        time.sleep(0.3)
        os.kill(pid, signal.SIGTERM)
        time.sleep(0.5)
        s.sendall(body[len(body) // 2:])
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        status = data.split(b" ", 2)[1] if data.startswith(b"HTTP/") else b"none"
        ok = status == b"200" and b'"error":' in data
        print(f"inflight: status {status.decode()}")
        sys.exit(0 if ok else 1)
    print(f"unknown mode {mode}")
    sys.exit(2)


main()
