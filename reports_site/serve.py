"""How ``laogan serve`` publishes the latest build at ``/reports/``.

``reports_site`` does not import Litestar; the server mounts the site with Litestar's own static
files router::

    from litestar.static_files import create_static_files_router
    from reports_site.serve import static_files_options
    route_handlers.append(create_static_files_router(**static_files_options(settings.data_dir / "site")))

``laogan reports build`` replaces the site directory whole (build into a staging directory, then two
renames), so the router keeps serving the same path and picks up each new build.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MOUNT = "/reports"


def default_site_dir(data_dir: Path) -> Path:
    """Where ``laogan reports build`` writes by default and ``laogan serve`` serves from."""
    return Path(data_dir) / "site"


def static_files_options(site_dir: Path) -> dict[str, Any]:
    """Keyword arguments for ``litestar.static_files.create_static_files_router``."""
    return {"path": MOUNT, "directories": [Path(site_dir)], "html_mode": True, "name": "reports",
            "include_in_schema": False, "send_as_attachment": False}
