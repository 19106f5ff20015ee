"""Click command groups of the ``laogan`` CLI, one module per noun."""
