"""laogan server package."""
