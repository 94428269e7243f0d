"""The ground floor: paths, errors, argument checks, provenance, the study ``Design`` and THE chapter registry.

Imports nothing of ``analysis``; every other room may import it.
"""
