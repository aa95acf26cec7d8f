"""Staggered-adoption data: seeded municipality simulators and the public ``mpdta`` data.

``simulate_staggered_panel`` is SYNTHETIC: municipalities adopting IPS in different years, with
known effects that differ by cohort and grow with time since adoption (the truth is in the
``true_effect`` column); ``simulate_staggered_cross_sections`` draws different people each year
from it (a registry extract). ``load_mpdta`` is PUBLIC published data (see its docstring).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

import numpy as np
import pandas as pd

MPDTA_FILE = "mpdta.csv"


def simulate_staggered_panel(
    n_municipalities: int = 60,
    first_year: int = 2010,
    n_years: int = 12,
    cohorts: Sequence[int] = (2014, 2016, 2018),
    share_never: float = 0.4,
    effect_start: Sequence[float] = (3.0, 2.0, 1.0),
    effect_growth: Sequence[float] = (2.5, 2.0, 1.5),
    noise_sd: float = 4.0,
    covariate_effect: float = 1.5,
    seed: int = 2024,
) -> pd.DataFrame:
    """Municipality-year panel of workdays per person-year under staggered IPS adoption.

    SYNTHETIC DATA. Each municipality belongs to one adoption cohort (or never adopts). The
    outcome is ``workdays = 60 + municipality effect + year effect + covariate_effect * unemployment
    + true_effect + noise``; the effect in a cohort's e-th year of exposure (e = 0, 1, ...) is
    ``effect_start[c] + effect_growth[c] * e`` — heterogeneous over cohorts and event time, the
    case where two-way fixed effects are biased and Callaway–Sant'Anna is not. Municipalities
    that adopt later have slightly higher baseline workdays (selection on levels, which DiD
    removes); ``unemployment`` (a local rate, in %) varies over time.

    Parameters
    ----------
    n_municipalities : int
        Number of municipalities (units).
    first_year, n_years : int
        Calendar years covered.
    cohorts : sequence of int
        Adoption years (each must leave at least one earlier year).
    share_never : float
        Share of municipalities that never adopt; the rest are split evenly over ``cohorts``.
    effect_start, effect_growth : sequence of float
        Effect in the adoption year and its growth per year of exposure, per cohort (workdays).
    noise_sd : float
        SD of the idiosyncratic noise (workdays).
    covariate_effect : float
        Workdays per percentage point of local unemployment (0: parallel trends hold exactly
        without covariates).
    seed : int
        Seed of the generator (same seed, same data).

    Returns
    -------
    DataFrame
        Columns ``municipality``, ``year``, ``first_treated`` (adoption year; 0 = never),
        ``treated`` (0/1 exposure), ``workdays``, ``unemployment``, ``population``,
        ``true_effect`` (the effect built into that row; 0 when unexposed). The true ATT(g,t) is
        the mean of ``true_effect`` over a cohort's rows in year t.

    Example
    -------
    >>> from causalips.datasets import simulate_staggered_panel
    >>> df = simulate_staggered_panel(seed=1)
    >>> sorted(df["first_treated"].unique().tolist())
    [0, 2014, 2016, 2018]
    """
    cohorts = [int(c) for c in cohorts]
    if not (len(cohorts) == len(effect_start) == len(effect_growth)):
        raise ValueError("cohorts, effect_start and effect_growth must have the same length")
    if any(c <= first_year or c >= first_year + n_years for c in cohorts):
        raise ValueError("every cohort year must fall after the first year and within the panel")
    rng = np.random.default_rng(seed)
    n = int(n_municipalities)
    n_never = int(round(share_never * n))
    cohort_of = np.concatenate([np.full(n_never, -1),
                                np.arange(n - n_never) % len(cohorts)])
    rng.shuffle(cohort_of)
    first = np.where(cohort_of >= 0, np.array(cohorts + [0])[cohort_of], 0)
    years = np.arange(first_year, first_year + n_years)
    alpha = rng.normal(0, 6, n) + np.where(cohort_of >= 0, 2.0 * (cohort_of + 1), 0.0)
    gamma = np.cumsum(rng.normal(0.5, 1.0, n_years))
    unemp_level = rng.uniform(3, 9, n)
    unemp = unemp_level[:, None] + rng.normal(0, 0.5, (n, n_years)) - 0.1 * (years - first_year)
    e = years[None, :] - first[:, None]
    exposed = (first[:, None] > 0) & (e >= 0)
    start = np.array(list(effect_start) + [0.0])[cohort_of]
    growth = np.array(list(effect_growth) + [0.0])[cohort_of]
    effect = np.where(exposed, start[:, None] + growth[:, None] * e, 0.0)
    y = (60 + alpha[:, None] + gamma[None, :] + covariate_effect * unemp + effect
         + rng.normal(0, noise_sd, (n, n_years)))
    pop = rng.integers(200, 3000, n)
    return pd.DataFrame({
        "municipality": np.repeat([f"M{i + 1:03d}" for i in range(n)], n_years),
        "year": np.tile(years, n),
        "first_treated": np.repeat(first, n_years).astype(np.int64),
        "treated": exposed.ravel().astype(np.int64),
        "workdays": y.ravel(),
        "unemployment": unemp.ravel(),
        "population": np.repeat(pop, n_years),
        "true_effect": effect.ravel(),
    })


def simulate_staggered_cross_sections(
    n_municipalities: int = 60,
    people_per_year: float = 30.0,
    person_sd: float = 25.0,
    seed: int = 2024,
    **panel_options,
) -> pd.DataFrame:
    """Repeated cross-sections under staggered adoption: a registry extract with different
    people each year and no person id.

    SYNTHETIC DATA. Starts from :func:`simulate_staggered_panel` (municipality-year means with
    known effects; ``panel_options`` are passed on) and draws, for every municipality and year, a
    Poisson(``people_per_year``) number of people (at least one) whose workdays scatter around
    the municipality-year mean with SD ``person_sd``. People share their municipality-year's
    shock, so inference should cluster on ``municipality``.

    Returns
    -------
    DataFrame
        One row per person-year: the columns of :func:`simulate_staggered_panel` (``workdays``
        now the person's), no person id. The true ATT(g,t) is ``true_effect`` of a cohort's rows
        in year t (the same for all of them).

    Example
    -------
    >>> from causalips.datasets import simulate_staggered_cross_sections
    >>> df = simulate_staggered_cross_sections(n_municipalities=10, seed=1)
    >>> bool(df.groupby(["municipality", "year"]).size().min() >= 1)
    True
    """
    panel = simulate_staggered_panel(n_municipalities=n_municipalities, seed=seed,
                                     **panel_options)
    rng = np.random.default_rng([seed, 1])
    counts = np.maximum(rng.poisson(people_per_year, len(panel)), 1)
    rows = panel.loc[panel.index.repeat(counts)].reset_index(drop=True)
    rows["workdays"] = rows["workdays"] + rng.normal(0, person_sd, len(rows))
    return rows


def load_mpdta() -> pd.DataFrame:
    """The ``mpdta`` minimum-wage panel (public data from R's ``did`` package).

    PUBLIC PUBLISHED DATA, bundled unchanged: county-level teen employment for 500 US counties,
    2003–2007, used by Callaway & Sant'Anna (2021), "Difference-in-differences with multiple
    time periods", *Journal of Econometrics* 225(2), 200–230, and shipped as ``mpdta`` with the R
    package ``did`` (Callaway & Sant'Anna, CRAN). Columns: ``year``, ``countyreal`` (county id),
    ``lpop`` (log population, time-invariant), ``lemp`` (log teen employment), ``first.treat``
    (first year with a minimum wage above the federal level; 0 = never in the period) and
    ``treat`` (ever treated). Cohorts 2004, 2006, 2007; 309 never-treated counties.

    Example
    -------
    >>> from causalips.datasets import load_mpdta
    >>> load_mpdta().shape
    (2500, 6)
    """
    path = resources.files("causalips.datasets") / "data" / MPDTA_FILE
    with resources.as_file(path) as p:
        return pd.read_csv(p)


__all__ = ["simulate_staggered_panel", "simulate_staggered_cross_sections", "load_mpdta"]
