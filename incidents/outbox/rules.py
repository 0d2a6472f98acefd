"""Who may watch and steer the outbox: staff. One place for the page, the admin action and
the management command (which acts as the system, `actor=None`)."""


def can_watch_outbox(user) -> bool:
    """The staff page /outbox/ and the admin listing."""
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def can_retry_messages(actor) -> bool:
    """ "Retry now": active staff allowed to change outgoing messages; None is the system."""
    if actor is None:
        return True
    return can_watch_outbox(actor) and actor.has_perm("outbox.change_outboundmessage")
