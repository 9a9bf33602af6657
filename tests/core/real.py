"""The real annual figures in ``../shared``, read through the project's own annual reader,
cached per year so that several test modules can share them cheaply."""

from __future__ import annotations

from functools import cache, lru_cache

import pandas as pd

from core import readers
from tests.conftest import annual_csv, annual_frames

YEARS = tuple(f"{y}-{(y + 1) % 100:02d}" for y in range(2017, 2025))


@lru_cache(maxsize=1)
def _wide() -> dict[str, pd.DataFrame]:
    return annual_frames()


@cache
def year(label: str) -> pd.DataFrame:
    """One year's tidy rows, as the app would store them."""
    return readers.read_file(annual_csv(_wide()[label], label),
                             f"psych-ther-annual-{label}.csv").frame
