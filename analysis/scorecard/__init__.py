"""Collecting verdicts: the scorecard's tables, headless evaluation of every chapter and the robustness runs.

May import every room below it; never ``engine``.
"""
