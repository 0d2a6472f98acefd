"""Pagination helpers for the API's lists."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from rest_framework import pagination
from rest_framework.exceptions import NotFound


class FirstPageCountingPaginator(Paginator):
    """Django's paginator, except that the first page is read first (one row more than a
    page) and, when it holds every row, counts them itself instead of asking the database
    for a COUNT: a list that fits on one page costs one query. Other pages, and a first
    page with more behind it, are counted as usual (when the count is read)."""

    def page(self, number):
        try:
            first = int(number) == 1
        except (TypeError, ValueError):
            first = False
        if not first or self.orphans:
            return super().page(number)
        rows = list(self.object_list[: self.per_page + 1])
        if len(rows) <= self.per_page:
            self.count = len(rows)  # sets the cached property: no COUNT query
        return self._get_page(rows[: self.per_page], 1, self)


class CursorPagination(pagination.CursorPagination):
    """DRF's cursor pagination, except that a forged cursor whose position is not a value
    of the ordering field (a date that is not a date...) is a 404 "Invalid cursor" like
    any other bad cursor, not a server error when the database is asked."""

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise NotFound(self.invalid_cursor_message) from None
