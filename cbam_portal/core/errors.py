class UserFacingError(Exception):
    """An error whose message is safe and useful to show to the user as it is (bad input, a rule)."""
