"""Argument checks shared by the analysis modules (one wording for every error message)."""
from __future__ import annotations

from typing import Sequence

import pandas as pd


def check_frame(data, name: str, cols: Sequence[str]) -> None:
    """Raise if ``data`` is not a DataFrame holding ``cols``.

    Examples
    --------
    >>> check_frame(pd.DataFrame({"a": [1]}), "visits", ["b"])
    Traceback (most recent call last):
    ValueError: `visits` lacks column(s) ['b']; it has ['a'].
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"`{name}` must be a pandas DataFrame; got {type(data).__name__}.")
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ValueError(f"`{name}` lacks column(s) {missing}; it has {list(data.columns)}.")


def check_choice(name: str, value, allowed: Sequence) -> None:
    """Raise if ``value`` is not one of ``allowed``.

    Examples
    --------
    >>> check_choice("test", "z", ["t", "welch"])
    Traceback (most recent call last):
    ValueError: `test` must be one of ['t', 'welch']; got 'z'.
    """
    if value not in allowed:
        raise ValueError(f"`{name}` must be one of {list(allowed)}; got {value!r}.")


def check_alpha(alpha) -> None:
    """Raise unless ``alpha`` is a number strictly between 0 and 1.

    Examples
    --------
    >>> check_alpha(0.05)
    >>> check_alpha(True)
    Traceback (most recent call last):
    ValueError: `alpha` must be a number strictly between 0 and 1; got True.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ValueError(f"`alpha` must be a number strictly between 0 and 1; got {alpha!r}.")
