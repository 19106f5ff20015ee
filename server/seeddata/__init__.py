"""Realistic, deterministic data for a central database (``laogan seed-data``).

* :func:`generate` — a new database file for a profile and seed, with :class:`GenerateStats`.
* :func:`generate_into` — fill an already-open, migrated, empty central connection.
* :func:`summarise` / :func:`format_summary` — the summary table (also used by the demo).

Same profile, seed and as-of date give the same database content, row for row.
"""

from server.seeddata.generate import GenerateStats, Progress, generate, generate_into
from server.seeddata.profiles import CLI_PROFILES, PROFILES, Profile
from server.seeddata.summary import DEFAULT_AS_OF, format_summary, summarise

__all__ = [
    "CLI_PROFILES", "DEFAULT_AS_OF", "PROFILES", "GenerateStats", "Profile", "Progress", "format_summary",
    "generate", "generate_into", "summarise",
]
