"""Pagination helpers for the API's lists."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from drf_spectacular.utils import OpenApiParameter
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError


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
    """DRF's cursor pagination, except that a bad cursor (not one of ours, or forged: a
    position that is not a value of the ordering field, a date that is not a date...) is a
    400 naming the `cursor` parameter, as any other bad query parameter: DRF answers 404,
    which reads as "this list does not exist", and the database asked with a forged
    position is a server error."""

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise self._invalid() from None

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise self._invalid() from None

    def _invalid(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})


def cursor_parameters(paginator: type[CursorPagination]) -> list[OpenApiParameter]:
    """The query parameters of a view's cursor pages, for its schema (an APIView that
    paginates by hand declares no pagination_class, so drf-spectacular cannot see them)."""
    size = f"items a page (default {paginator.page_size}, at most {paginator.max_page_size})"
    return [
        OpenApiParameter(
            paginator.cursor_query_param, str, description="the page: follow `next` / `previous`"
        ),
        OpenApiParameter(paginator.page_size_query_param, int, description=size),
    ]
