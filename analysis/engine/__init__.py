"""Building the book: plan and cache, papermill runners, the fork server, the render, publishing, ``Page``.

May import every room below it.
"""
