#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bundleserver.py - a small static file server for tests/run-fleet.sh: what
an object store or CDN does for rulesd's bundle puller, on loopback.

    bundleserver.py DIR PORTFILE LOG [PORT]

Serves the files of DIR with a strong ETag (the SHA-256 of the content),
answers If-None-Match with 304 when it matches, writes the port it bound
(127.0.0.1, PORT or any) to PORTFILE once listening, and appends one line
per request to LOG: "METHOD PATH STATUS INM=<If-None-Match or ->".

DIR/control (optional, re-read on every request) holds words that change
how the next responses misbehave:
    truncate    send the full Content-Length but only half of the body,
                then close the connection (a download cut short)
    no-etag     send no ETag and ignore If-None-Match
    error500    answer 500 to everything
"""
import hashlib
import http.server
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # the LOG file instead of stderr
        pass

    def record(self, status):
        inm = self.headers.get("If-None-Match") or "-"
        with open(self.server.logfile, "a") as f:
            f.write("%s %s %d INM=%s\n" % (self.command, self.path, status, inm))

    def do_GET(self):
        root = self.server.root
        try:
            with open(os.path.join(root, "control")) as f:
                control = f.read().split()
        except OSError:
            control = []
        if "error500" in control:
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.record(500)
            return
        name = os.path.basename(self.path.split("?")[0])
        path = os.path.join(root, name)
        try:
            with open(path, "rb") as f:
                body = f.read()
        except OSError:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.record(404)
            return
        etag = '"%s"' % hashlib.sha256(body).hexdigest()
        use_etag = "no-etag" not in control
        if use_etag and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            self.record(304)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        if use_etag:
            self.send_header("ETag", etag)
        if "truncate" in control:
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.record(200)
            return
        self.end_headers()
        self.wfile.write(body)
        self.record(200)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    root, portfile, logfile = sys.argv[1], sys.argv[2], sys.argv[3]
    port = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    srv = Server(("127.0.0.1", port), Handler)
    srv.root, srv.logfile = root, logfile
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, portfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
