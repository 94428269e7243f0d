"""The published claims: the registry (CSVs, margins, ``paper.txt``, verdict names), the rules' arithmetic,
and ``ClaimLog``, which judges one chapter's claims.

May import: ``core``.
"""
