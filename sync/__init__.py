"""laogan sync package."""
