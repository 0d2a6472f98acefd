class IdConverter:
    """A database id in a URL: digits only, and few enough to fit a 64-bit integer, so an
    absurd id is a plain 404 instead of an overflow deep in the database driver."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))
