"""Pagination helpers for the API's lists."""

from django.core.paginator import Paginator


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
