"""Groups a file does not publish, summed from the groups it does, and marked ``derived`` so
that every table, export and tooltip can say the product made them, not NHS England.

A broad ethnic group is summed from its detailed groups where a file gives no broad row; BME
and White British from the Ethnic Group rows where no BME Group row exists (the annual files
to 2019-20 have none). A sum is null wherever any part is: never a partial sum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import model

_AREA = ["period", "period_start", "period_end", "period_type", "level", "area_code",
         "area_name", "parent_code", "parent_name"]


def _sum_parts(parts: pd.DataFrame, extra: tuple[str, ...] = ()) -> tuple[pd.DataFrame, np.ndarray]:
    """Counts summed per area (and ``extra``), null wherever any part's count is null: never a
    partial sum. Also each part's group number, for callers that count parts."""
    by = ["period_start", "period_end", "level", "area_code", *extra]
    codes = parts.groupby(by, sort=False, dropna=False).ngroup().to_numpy()
    n = int(codes.max()) + 1
    out = parts.iloc[np.unique(codes, return_index=True)[1]][[*_AREA, *extra]]
    out = out.reset_index(drop=True)
    per = lambda w: np.bincount(codes, weights=w, minlength=n)  # noqa: E731
    suppressed = per(parts["suppressed"].to_numpy(dtype=float)) > 0
    for c in model.COUNT_COLUMNS:
        v = parts[c].to_numpy("float64", na_value=np.nan)
        null = per(np.isnan(v).astype(float)) > 0
        out[c] = np.where(null, np.nan, per(np.nan_to_num(v)))
        suppressed |= null
    out["suppressed"] = suppressed
    return out, codes


def _derived(out: pd.DataFrame, breakdown: str, group: str | None = None) -> pd.DataFrame:
    """Summed rows: no published percentage, and marked ``derived`` so that every table,
    export and tooltip can say the product made them, not NHS England."""
    out = out.assign(breakdown=breakdown, published_recovery=np.nan, published_reliable=np.nan,
                     derived=True)
    if group is not None:
        out["group"] = out["group_parent"] = group
    else:
        out["group"] = out["group_parent"]
    return out


def broad_groups(wide: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Sum detailed ethnic groups into their broad group where a file gives no broad row."""
    detailed = wide[wide["breakdown"] == "Ethnic Group (detailed)"]
    if detailed.empty:
        return wide, 0
    by = ["period_start", "period_end", "level", "area_code", "group_parent"]
    have = wide[wide["breakdown"] == "Ethnic Group"].set_index(by).index
    todo = detailed[~detailed.set_index(by).index.isin(have)]
    if todo.empty:
        return wide, 0
    broad = _derived(_sum_parts(todo, ("group_parent",))[0], "Ethnic Group")
    return pd.concat([wide, broad], ignore_index=True), len(broad)


#: Parts of BME (every group but White British and not stated): the four broad groups other
#: than White, and the detailed White groups other than British.
_BME_BROAD = ("Asian or Asian British", "Black or Black British", "Mixed", "Other Ethnic Groups")


def bme(wide: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """BME and White British summed from the Ethnic Group rows where no BME Group row exists
    (the annual files to 2019-20 have none)."""
    area = ["period_start", "period_end", "level", "area_code"]
    ethnic = wide[wide["breakdown"].isin(["Ethnic Group", "Ethnic Group (detailed)"])]
    has_bme = wide.loc[wide["breakdown"] == "BME Group", area].drop_duplicates()
    if ethnic.empty:
        return wide, 0
    if not has_bme.empty:
        done = pd.MultiIndex.from_frame(has_bme)
        ethnic = ethnic[~pd.MultiIndex.from_frame(ethnic[area]).isin(done)]
    white = ethnic["group_parent"] == "White"
    detailed = ethnic["breakdown"] == "Ethnic Group (detailed)"
    broad = (ethnic["breakdown"] == "Ethnic Group") & ethnic["group"].isin(_BME_BROAD)
    british = detailed & white & (ethnic["group"] == "British")
    out = []
    bme_mask = broad | (detailed & white & ~british)
    if bme_mask.any():
        sums, codes = _sum_parts(ethnic[bme_mask])
        # A broad group with no row at all makes the sum unknown, as a suppressed one does.
        n_broad = np.bincount(codes, weights=broad[bme_mask].to_numpy(dtype=float),
                              minlength=len(sums))
        short = n_broad < len(_BME_BROAD)
        sums.loc[short, list(model.COUNT_COLUMNS)] = np.nan
        sums.loc[short, "suppressed"] = True
        out.append(_derived(sums, "BME Group", "BME"))
    if british.any():
        out.append(_derived(_sum_parts(ethnic[british])[0], "BME Group", "White British"))
    if not out:
        return wide, 0
    derived = pd.concat(out, ignore_index=True)
    return pd.concat([wide, derived], ignore_index=True), len(derived)
