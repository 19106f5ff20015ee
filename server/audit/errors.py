"""Error pages of the audit Datasette, without Datasette's default console dump.

Datasette's default ``handle_exception`` prints every error (403 and 404 included) with
``rich``'s ``show_locals=True``: request headers (Bearer tokens, session cookies) and query results
would land in the server's log. For our instance the plugin replaces that handler's answer with
:func:`error_response`, which logs one line (status and exception type, never values) and renders the
same page. A ``DatasetteError`` left at its default status 500 (``Cannot sort table by …``) is a
client's mistake and answers 400.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from datasette.utils.asgi import Base400, Response
from datasette.views.base import DatasetteError
from markupsafe import Markup

log = logging.getLogger("laogan.audit")


def status_and_message(exception: BaseException) -> tuple[int, str | Markup, str | None]:
    if isinstance(exception, Base400):
        return int(exception.status), str(exception.args[0] if exception.args else ""), None
    if isinstance(exception, DatasetteError):
        status = 400 if exception.status == 500 else int(exception.status)
        message = Markup(exception.message) if exception.message_is_html else str(exception.message)
        return status, message, exception.title
    return 500, "内部错误 internal error", None


def error_response(datasette: Any, request: Any, exception: BaseException) -> Callable[[], Awaitable[Response]]:
    status, message, title = status_and_message(exception)
    if status >= 500:
        log.error("audit: %s on %s", type(exception).__name__, request.path)

    async def inner() -> Response:
        info = {"ok": False, "error": message, "status": status, "title": title}
        if request.path.split("?")[0].endswith(".json"):
            return Response.json({**info, "error": str(message)}, status=status)
        template = datasette.jinja_env.select_template([f"{status}.html", "error.html"])
        page = await template.render_async(dict(info, urls=datasette.urls, app_css_hash=datasette.app_css_hash(),
                                                menu_links=lambda: []))
        return Response.html(page, status=status)

    return inner
