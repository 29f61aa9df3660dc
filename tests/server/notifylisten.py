#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""notifylisten.py - a stand-in for systemd's notification socket, for
tests/run-deploy.sh: binds a Unix datagram socket at PATH (what a service
finds in $NOTIFY_SOCKET) and appends each message it receives to LOG as one
line, its newline-separated assignments joined with ';'. Runs until killed.

    notifylisten.py PATH LOG
"""
import os
import socket
import sys


def main():
    path, log = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    open(log, "a").close()  # exists once the socket is bound
    while True:
        data = s.recv(65536)
        with open(log, "a") as f:
            f.write(data.decode("utf-8", "replace").strip("\n").replace("\n", ";") + "\n")
            f.flush()
            os.fsync(f.fileno())


if __name__ == "__main__":
    main()
