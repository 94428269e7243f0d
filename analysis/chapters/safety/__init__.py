"""Chapter: Safety and trial profile."""
