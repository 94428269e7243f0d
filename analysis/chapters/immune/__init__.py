"""Chapter: Immune function."""
