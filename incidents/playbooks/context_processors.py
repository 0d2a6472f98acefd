from . import selectors


def notifications(request) -> dict:
    """The bell's count in the top bar (one COUNT query, signed-in pages only)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": selectors.unread_count(user)}
