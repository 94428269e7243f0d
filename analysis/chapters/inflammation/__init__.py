"""Chapter: Inflammation."""
