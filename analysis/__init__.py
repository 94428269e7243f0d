"""Executable reproduction of Yang et al. 2018 (J Transl Med 16:165): the shared analysis package.

The chapters of the book call this package; it holds every computation. The flow is
``io.load`` (validated data) → ``derive.derive`` (analysis tables) → ``stats`` and the chapter modules
→ ``claims`` (verdicts against the published values). See CONTRIBUTING.md for the module map.
Submodules are imported on demand so that ``python -m analysis --help`` stays fast.
"""

__version__ = "0.1.0"
