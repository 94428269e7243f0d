"""Chapter: Disease activity."""
