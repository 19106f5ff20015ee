"""Errors of the report site, each with a stable code.

::

    ReportError            base of everything raised by ``reports_site``
    ├── BadAsOf            ``--as-of`` is not a YYYY-MM month, or no month can be derived from the data
    ├── DisclosureError    a suppressed cell could be recovered, or cannot be protected
    ├── OfflineError       a built file refers to an outside host
    └── SiteBuildError     MkDocs failed (strict mode turns its warnings into this)
"""

from __future__ import annotations


class ReportError(Exception):
    """Base class of every error raised by the report site."""

    code = "report_error"


class BadAsOf(ReportError):
    """The report month is missing or malformed."""

    code = "bad_as_of"


class DisclosureError(ReportError):
    """Publishing would let a reader recover a suppressed cell."""

    code = "disclosure"


class OfflineError(ReportError):
    """The built site would make a request to an outside host."""

    code = "not_offline"


class SiteBuildError(ReportError):
    """MkDocs refused to build the site."""

    code = "site_build"
