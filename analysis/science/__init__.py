"""The science every chapter shares: scores, ``derive``, generic statistics, figures, the simulator, section
inputs and shared reshaping; ``methods/`` holds the general models (mixed models, survival, prediction, rates).

May import: ``core``, ``intake``, ``claims``.
"""
