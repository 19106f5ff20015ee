"""laogan reports_site package."""
