from . import selectors


def notifications(request) -> dict:
    """The bell's unread count, counted only when a page shows the bell (not for the htmx
    panels that never do), and once per request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def unread() -> int:  # templates call it when they use the value
        if not hasattr(request, "_unread_notifications"):
            request._unread_notifications = selectors.unread_count(user)
        return request._unread_notifications

    return {"unread_notifications": unread}
