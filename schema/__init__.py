"""laogan's contract: the table registry, migrations, validation and the wire format.

This package imports nothing else of ours; ``sync`` (the tablet) and ``server`` both build on it.
"""

SCHEMA_VERSION = 4
