"""Executable reproduction of Yang et al. 2018 (J Transl Med 16:165): the shared analysis package.

The chapters of the book call this package; it holds every computation, in rooms by role (CONTRIBUTING.md):
``core`` <- ``intake`` | ``claims`` <- ``science`` <- ``chapters`` <- ``scorecard`` <- ``engine`` <- ``cli``.
The flow of a chapter is ``intake.io.load`` (validated data) -> ``science.derive.derive`` (analysis tables) ->
``chapters.<chapter>.analysis`` (its steps) -> ``chapters.<chapter>.verdicts`` (claims judged by stated rules).
Submodules are imported on demand so that ``python -m analysis --help`` stays fast.
"""

__version__ = "0.1.0"
