from . import selectors


def promotion_freezes(request) -> dict:
    """The promotion freeze banner's incidents (base.html), read only when a page shows the
    banner (not for the htmx panels that never do), and once per request: one query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def freezes() -> selectors.Freezes:  # templates call it when they use the value
        if not hasattr(request, "_promotion_freezes"):
            request._promotion_freezes = selectors.promotion_freezes_for(user)
        return request._promotion_freezes

    return {"promotion_freezes": freezes}
