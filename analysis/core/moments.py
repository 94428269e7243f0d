"""Means and variances of 1-D float arrays by NumPy's own arithmetic, without its per-call wrappers.

``a.mean()`` and ``a.var(ddof=1)`` go through several layers of Python (dtype resolution, keyword handling,
``_methods._var``) before the two sums they take. A robustness run calls them tens of thousands of times on
arrays of a few dozen values, where those layers cost more than the sums. The functions here take the same
steps (sum, divide, subtract, square, sum) with the same reductions, so they give the same bits
(``tests/test_stats_fast.py`` checks them against NumPy on thousands of random arrays).
"""
from __future__ import annotations

import numpy as np

__all__ = ["mean_ss", "mean_var"]

_add = np.add.reduce  # the reduction np.mean and np.var take, without their wrappers


def mean_ss(a: np.ndarray) -> tuple:
    """Mean and sum of squared deviations of a 1-D float array of one or more values.

    ``mean == a.mean()`` and ``ss / (a.size - ddof) == a.var(ddof=ddof)``, bit for bit.

    Parameters
    ----------
    a : numpy.ndarray
        1-D float array, no NaN expected (a NaN gives NaN), at least one value.

    Returns
    -------
    (numpy.float64, numpy.float64)
        The mean and the sum of squared deviations from it.

    Examples
    --------
    >>> m, ss = mean_ss(np.array([1.0, 2, 4]))
    >>> bool(m == np.array([1.0, 2, 4]).mean()), bool(ss / 2 == np.array([1.0, 2, 4]).var(ddof=1))
    (True, True)
    """
    m = _add(a) / a.size
    dev = a - m
    np.square(dev, out=dev)
    return m, _add(dev)


def mean_var(a: np.ndarray) -> tuple:
    """``(a.mean(), a.var(ddof=1))`` of a 1-D float array of at least two values, bit for bit (:func:`mean_ss`).

    Examples
    --------
    >>> mean_var(np.array([1.0, 2.0, 3.0]))
    (np.float64(2.0), np.float64(1.0))
    """
    m, ss = mean_ss(a)
    return m, ss / (a.size - 1)
