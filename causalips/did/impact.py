"""From an effect in workdays per person-year to years of work gained.

``years = effect (workdays per person-year) x exposed person-years / workdays per work-year``.

The Norwegian study stated +5.6 workdays per person-year as 12.7 years of work and +10.5 as 23.8
years: both use the same constant ``exposed / workdays_per_year`` of about 2.27 (e.g. about 522
exposed person-years a year with 230 workdays in a work-year). The interval is carried through
the same linear map (the exposure and the work-year length are fixed, known numbers, so the
conversion adds no uncertainty of its own).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._checks import check_range
from ..errors import SpecificationError


def years_of_work(effect, *, exposed: float, workdays_per_year: float = 230.0,
                  conf_low: float | None = None, conf_high: float | None = None,
                  term: str = "att") -> pd.DataFrame:
    """Total years of work gained from a per-person-year effect on workdays.

    Parameters
    ----------
    effect : float or a DiD / EventStudy result
        Effect in workdays per person-year; a result contributes its ``term`` row (estimate
        and CI).
    exposed : float
        Exposed person-years the effect applies to (e.g. people exposed in a year, or summed
        over the exposure years for a total).
    workdays_per_year : float
        Workdays in one year of full-time work (default 230).
    conf_low, conf_high : float, optional
        CI of the effect when ``effect`` is a number.
    term : str
        Row of the result to convert (default ``"att"``; e.g. ``"event_time::3"``).

    Returns
    -------
    DataFrame
        One row: ``term``, ``effect_days``, ``estimate`` (years of work), ``conf_low``,
        ``conf_high``, ``exposed``, ``workdays_per_year``, ``factor`` (= exposed / workdays).

    Example
    -------
    >>> round(float(years_of_work(5.6, exposed=522, workdays_per_year=230)["estimate"].iloc[0]), 1)
    12.7
    """
    exposed = check_range("exposed", exposed, 0, np.inf)
    workdays_per_year = check_range("workdays_per_year", workdays_per_year, 0, 366,
                                    inclusive=(False, True))
    if hasattr(effect, "tidy"):
        tab = effect.tidy()
        rows = tab[tab["term"] == term]
        if rows.empty:
            raise SpecificationError(f"term {term!r} not in the result; terms: "
                                     f"{tab['term'].tolist()}")
        row = rows.iloc[0]
        days, lo, hi = float(row["estimate"]), row["conf_low"], row["conf_high"]
    else:
        days, lo, hi = float(effect), conf_low, conf_high
    factor = exposed / workdays_per_year
    lo = np.nan if lo is None else float(lo) * factor
    hi = np.nan if hi is None else float(hi) * factor
    return pd.DataFrame([{"term": term, "effect_days": days, "estimate": days * factor,
                          "conf_low": lo, "conf_high": hi, "exposed": exposed,
                          "workdays_per_year": workdays_per_year, "factor": factor}])


def implied_factor(days: float, years: float, *, digits: int = 1) -> tuple[float, float]:
    """Range of ``exposed / workdays_per_year`` consistent with a published, rounded pair."""
    half = 0.5 * 10.0**-digits
    return (years - half) / (days + half), (years + half) / (days - half)


__all__ = ["years_of_work", "implied_factor"]
