# SPDX-License-Identifier: Apache-2.0
class ServerClientError(Exception):
    """What dstack answers a client with (a 400 and the message)."""

    def __init__(self, msg=None):
        super().__init__(msg)
        self.msg = msg
