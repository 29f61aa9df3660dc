class UserRequestRejectedByPolicy(Exception):
    """Raised when a user request is rejected by an admin policy."""
