"""Comparing many areas when they differ by more than chance: Spiegelhalter's adjustment.

Binomial funnel limits assume that every area has the same underlying rate and differs only by
chance. Real ICBs differ for reasons nobody measured (case mix, service models, recording), so
with large denominators half of them fall outside the 99.8% limits and "significantly
different" stops meaning anything. The source of the method here:

    Spiegelhalter DJ. Handling over-dispersion of performance indicators.
    Quality and Safety in Health Care 2005; 14: 347-351.
    (and Spiegelhalter DJ. Funnel plots for comparing institutional performance.
    Statistics in Medicine 2005; 24: 1185-1202.)

In plain words: work out each area's z-score against the overall rate; pull the most extreme
10% at each end in to the 10th/90th percentile ("Winsorise"), so that the outliers we are
looking for do not hide themselves by inflating the spread; the mean of the squared z-scores
is the dispersion ratio phi (1 when areas differ only by chance). If phi is clearly above 1,
estimate the between-area variance tau^2 by the DerSimonian-Laird moment method and widen every
area's limits to ``P0 +- z*sqrt(P0(1-P0)/n + tau^2)``: an area is then unusual only if it
stands out from the spread that areas really have. NHS-R's FunnelPlotR implements the same
steps (with an arcsine scale for proportions; here the proportion scale, so the limits are the
Fingertips limits of ``methods.md`` when tau^2 = 0).

Every function works on fractions (0-1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import stats

#: Fraction Winsorised at each end, as in the paper and FunnelPlotR.
WINSOR_FRACTION = 0.10


@dataclass(frozen=True)
class Overdispersion:
    """What the adjustment found, for a page to state ("phi = 13.1: areas differ by more
    than chance, limits widened").

    ``overdispersed`` is the paper's approximate test (``phi > 1 + 2*sqrt(2/I)``); ``tau2`` is
    0 unless it holds, so the adjusted limits are the ordinary ones when areas differ only by
    chance. ``tau2_estimate`` is the DerSimonian-Laird value before that test.
    """

    baseline: float
    phi: float
    overdispersed: bool
    tau2: float
    tau2_estimate: float
    areas: int
    winsor_fraction: float

    def describe(self) -> str:
        if self.areas < 2:
            return "Too few areas to judge the spread between them."
        if self.overdispersed:
            return (f"The {self.areas} areas differ by more than chance alone would explain "
                    f"(dispersion ratio phi = {self.phi:.1f}, where 1 means chance alone), so "
                    "the limits are widened by Spiegelhalter's (2005) random-effects "
                    "adjustment.")
        return (f"The {self.areas} areas differ by no more than chance would explain "
                f"(dispersion ratio phi = {self.phi:.1f}); the limits are not widened.")


def _valid(numerator, denominator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    o, n = stats._arr(numerator), stats._arr(denominator)
    ok = np.isfinite(o) & np.isfinite(n) & (n > 0) & (o >= 0) & (o <= n)
    return o, n, ok


def z_scores(numerator, denominator, baseline: float | None = None) -> np.ndarray:
    """Each area's ``(p - P0) / sqrt(P0(1-P0)/n)``: the funnel plot's distance, in standard
    errors under the binomial. ``P0`` is the pooled rate of the valid areas unless given.
    NaN where an area has no usable rate."""
    o, n, ok = _valid(numerator, denominator)
    p0 = float(o[ok].sum() / n[ok].sum()) if baseline is None else float(baseline)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (o / n - p0) / np.sqrt(p0 * (1 - p0) / n)
    return np.where(ok, z, np.nan)


def winsorise(z: np.ndarray, fraction: float = WINSOR_FRACTION) -> np.ndarray:
    """Pull values below the ``fraction`` quantile up to it and above the ``1 - fraction``
    quantile down to it (linear interpolation between order statistics, R's default type 7,
    which FunnelPlotR uses). NaN stays NaN."""
    if not 0 <= fraction < 0.5:
        raise ValueError(f"Winsorising fraction must be in [0, 0.5), not {fraction}")
    z = np.asarray(z, dtype=float)
    finite = z[np.isfinite(z)]
    if finite.size == 0 or fraction == 0:
        return z.copy()
    lo, hi = np.quantile(finite, [fraction, 1 - fraction])
    return np.where(np.isfinite(z), np.clip(z, lo, hi), np.nan)


def overdispersion_threshold(areas: int) -> float:
    """The paper's approximate test: with no overdispersion, ``I*phi`` is about chi-squared on
    I degrees of freedom (mean I, standard deviation sqrt(2I)), so phi more than two standard
    deviations above 1, ``1 + 2*sqrt(2/I)``, says the areas really differ."""
    return 1 + 2 * np.sqrt(2 / areas) if areas > 0 else np.inf


def estimate(numerator, denominator, baseline: float | None = None,
             winsor_fraction: float = WINSOR_FRACTION) -> Overdispersion:
    """phi from the Winsorised z-scores and tau^2 by DerSimonian-Laird, as in the paper:

    ``phi = sum(zw^2) / I``; ``tau^2 = (I*phi - (I - 1)) / (sum(w) - sum(w^2)/sum(w))`` with
    ``w = 1/s^2 = n / (P0(1-P0))``, and 0 unless overdispersion is present.
    """
    o, n, ok = _valid(numerator, denominator)
    areas = int(ok.sum())
    p0 = (float(o[ok].sum() / n[ok].sum()) if baseline is None else float(baseline)) \
        if areas else float("nan")
    if areas < 2 or not 0 < p0 < 1:
        return Overdispersion(p0, float("nan"), False, 0.0, 0.0, areas, winsor_fraction)
    z = z_scores(o[ok], n[ok], p0)
    zw = winsorise(z, winsor_fraction)
    phi = float(np.mean(zw**2))
    w = n[ok] / (p0 * (1 - p0))
    tau2_est = max(0.0, float((areas * phi - (areas - 1)) / (w.sum() - (w**2).sum() / w.sum())))
    present = bool(phi > overdispersion_threshold(areas))
    return Overdispersion(p0, phi, present, tau2_est if present else 0.0, tau2_est, areas,
                          winsor_fraction)


def overdispersion_present(numerator, denominator, baseline: float | None = None,
                           winsor_fraction: float = WINSOR_FRACTION) -> bool:
    """Whether areas differ by more than chance (the paper's test on phi)."""
    return estimate(numerator, denominator, baseline, winsor_fraction).overdispersed


def adjusted_limits(baseline: float, denominator, tau2: float, confidence: float = 0.95):
    """Funnel limits ``P0 +- z*sqrt(P0(1-P0)/N + tau^2)``, clipped to [0, 1]: the additive
    random-effects limits of the paper; the Fingertips limits when ``tau2`` is 0."""
    z = stats._z(confidence)
    n = stats._arr(denominator)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.where(n > 0, z * np.sqrt(baseline * (1 - baseline) / n + tau2), np.nan)
    lower = np.clip(baseline - half, 0, 1)
    upper = np.clip(baseline + half, 0, 1)
    return stats._like(denominator, lower), stats._like(denominator, upper)


def adjusted_z_scores(numerator, denominator, baseline: float, tau2: float) -> np.ndarray:
    """``(p - P0) / sqrt(P0(1-P0)/n + tau^2)``: an area's distance from the overall rate
    against the spread areas really have. |z| > 3.09 is outside the adjusted 99.8% limits."""
    o, n, ok = _valid(numerator, denominator)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (o / n - baseline) / np.sqrt(baseline * (1 - baseline) / n + tau2)
    return np.where(ok, z, np.nan)


def _band(z: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Five bands from a z-score against the 95% and 99.8% two-sided cut-offs."""
    if not higher_is_better:
        z = -z
    return np.where(
        ~np.isfinite(z), "no data",
        np.where(z > stats.Z998, "better (99.8%)",
                 np.where(z > stats.Z95, "better (95%)",
                          np.where(z < -stats.Z998, "worse (99.8%)",
                                   np.where(z < -stats.Z95, "worse (95%)", "similar")))))


def compare_five_bands(numerator, denominator, benchmark: float | None = None,
                       higher_is_better: bool = True, adjust: bool | None = None,
                       winsor_fraction: float = WINSOR_FRACTION):
    """The five-band comparison (better/worse at 99.8% or 95%, similar), either Fingertips'
    way or allowing for overdispersion.

    ``adjust=False`` gives Fingertips' two-level comparison exactly (each area's Wilson
    intervals against the benchmark, ``stats.compare_two_levels``). ``adjust=True`` bands each
    area by its Spiegelhalter-adjusted z-score against the benchmark (the funnel plot's
    adjusted limits). ``adjust=None`` (the default) adjusts only when overdispersion is present.
    The benchmark is England's rate where given, else the pooled rate of the areas.

    Returns ``(bands, Overdispersion)`` so the page can say which rule it used and why.
    """
    o, n, _ = _valid(numerator, denominator)
    info = estimate(o, n, benchmark, winsor_fraction)
    use = info.overdispersed if adjust is None else adjust
    if not use:
        bench = info.baseline if benchmark is None else benchmark
        bands = np.atleast_1d(np.asarray(
            stats.compare_two_levels(o, n, bench, higher_is_better), dtype=object))
    else:
        bands = _band(adjusted_z_scores(o, n, info.baseline, info.tau2), higher_is_better)
    return stats._like_obj(numerator, bands), info


def compare_areas(numerator, denominator, benchmark: float | None = None,
                  higher_is_better: bool = True,
                  winsor_fraction: float = WINSOR_FRACTION) -> tuple[pd.DataFrame, Overdispersion]:
    """One row per area with both verdicts, for the compare table and the funnel plot.

    Columns (percentages for rates and limits): ``rate``, ``z`` and ``adjusted_z``, binomial
    and adjusted 95%/99.8% funnel limits at the area's denominator (``limit95_low`` ...,
    ``adjusted95_low`` ...), ``band`` (Fingertips' two-level bands from Wilson intervals
    against the benchmark) and ``adjusted_band`` (Spiegelhalter-adjusted). The index follows
    ``numerator`` when it is a Series. The adjusted columns equal the plain ones when no
    overdispersion is found (tau^2 = 0).
    """
    out, info = area_columns(numerator, denominator, benchmark, higher_is_better,
                             winsor_fraction)
    index = numerator.index if isinstance(numerator, pd.Series) else None
    return pd.DataFrame(out, index=index), info


def area_columns(numerator, denominator, benchmark: float | None = None,
                 higher_is_better: bool = True, winsor_fraction: float = WINSOR_FRACTION
                 ) -> tuple[dict[str, np.ndarray], Overdispersion]:
    """``compare_areas``'s columns as arrays (what a view adds to its own table)."""
    o, n, ok = _valid(numerator, denominator)
    info = estimate(o, n, benchmark, winsor_fraction)
    p0 = info.baseline
    out = {"rate": np.where(ok, o / np.where(n > 0, n, np.nan), np.nan) * 100,
           "z": z_scores(o, n, p0), "adjusted_z": adjusted_z_scores(o, n, p0, info.tau2)}
    for conf, tag in ((0.95, "95"), (0.998, "998")):
        lo, hi = adjusted_limits(p0, n, 0.0, conf)
        alo, ahi = adjusted_limits(p0, n, info.tau2, conf)
        out[f"limit{tag}_low"], out[f"limit{tag}_high"] = lo * 100, hi * 100
        out[f"adjusted{tag}_low"], out[f"adjusted{tag}_high"] = alo * 100, ahi * 100
    out["band"] = np.atleast_1d(np.asarray(
        compare_five_bands(o, n, p0, higher_is_better, False, winsor_fraction)[0], dtype=object))
    out["adjusted_band"] = np.where(
        ok, _band(out["adjusted_z"], higher_is_better), "no data").astype(object)
    return out, info


def expected_outside(areas: int, confidence: float = 0.95) -> dict[str, float]:
    """How many of ``areas`` areas would fall outside the ``confidence`` limits by chance alone,
    if all had the same underlying rate: each does so with probability ``1 - confidence``,
    independently, so the count is binomial. Returns the expected number and the chance that
    at least one does (with 42 ICBs and 95% limits: 2.1 expected, 89% chance of at least one).
    """
    if areas < 0:
        raise ValueError(f"number of areas must be 0 or more, not {areas}")
    alpha = 1 - confidence
    return {"expected": areas * alpha, "at_least_one": 1 - confidence**areas,
            "confidence": confidence, "areas": areas}


def chance_sentence(areas: int) -> str:
    """The sentence a page puts under a comparison of many areas."""
    e95, e998 = expected_outside(areas, 0.95), expected_outside(areas, 0.998)
    return (f"With {areas} areas, about {e95['expected']:.1f} would fall outside the 95% limits "
            f"and {e998['expected']:.2f} outside the 99.8% limits by chance alone, even if all "
            "had the same underlying rate.")


__all__ = [
    "WINSOR_FRACTION", "Overdispersion", "z_scores", "winsorise", "overdispersion_threshold",
    "estimate", "overdispersion_present", "adjusted_limits", "adjusted_z_scores",
    "compare_five_bands", "compare_areas", "area_columns", "expected_outside", "chance_sentence",
]
