"""One folder per chapter: ``analysis.py`` (the chapter's steps), ``second_look.py`` and ``verdicts.py``.

May import: ``core``, ``intake``, ``claims``, ``science``; never another chapter (what two chapters share
moves down to ``science``).
"""
