# SPDX-License-Identifier: Apache-2.0
class UserRequestRejectedByPolicy(Exception):
    """Raised when a user request is rejected by an admin policy."""
