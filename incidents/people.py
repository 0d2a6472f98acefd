"""How people are named on every page, API answer, timeline entry and presence chip."""


def display_name(user) -> str:
    """The person's full name, or their username when they have none."""
    return user.get_full_name() or user.get_username()


def initials(user) -> str:
    """Initials for an avatar: "Camille Laurent" -> "CL", "Dana" -> "D"."""
    words = user.get_full_name().split() or [user.get_username()]
    letters = words[0][:1] + (words[-1][:1] if len(words) > 1 else "")
    return letters.upper()
