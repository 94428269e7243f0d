"""Chapter: Audit of the published statistics."""
