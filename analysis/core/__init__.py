"""The ground floor: paths, errors, argument checks, provenance, the study ``Design``, THE chapter registry and
the chapter notebooks' parameters (``notebooks``).

Imports nothing of ``analysis``; every other room may import it.
"""
