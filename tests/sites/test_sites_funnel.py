"""Rates, CIs and funnel limits against closed forms, statsmodels and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from causalips.datasets.sites import load_making_ips_work
from causalips.errors import ColumnNotFoundError, DataError, SpecificationError
from causalips.sites import FunnelPlot, funnel_limits, proportion_ci, site_counts

SITES = load_making_ips_work()
pytestmark = pytest.mark.filterwarnings("ignore::causalips.errors.StatisticalWarning")


@pytest.mark.parametrize("method, sm_method", [("wilson", "wilson"), ("exact", "beta")])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_proportion_ci_matches_statsmodels(method, sm_method, level):
    x = np.array([0, 1, 5, 27, 74, 114, 139, 3])
    n = np.array([10, 10, 5, 139, 240, 264, 139, 1000])
    low, high = proportion_ci(x, n, method=method, conf_level=level)
    ref_low, ref_high = proportion_confint(x, n, alpha=1 - level, method=sm_method)
    np.testing.assert_allclose(low, ref_low, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(high, ref_high, rtol=1e-10, atol=1e-12)


def test_proportion_ci_refuses_impossible_counts():
    with pytest.raises(DataError, match="0 <= events <= n"):
        proportion_ci([5], [4])
    with pytest.raises(SpecificationError, match="method must be one of"):
        proportion_ci([1], [4], method="wald")


def _exact_limit_bruteforce(n, p0, prob):
    """Spiegelhalter's interpolated limit, by scanning the whole distribution function."""
    r_all = np.arange(n + 1)
    cdf = stats.binom.cdf(r_all, n, p0)
    r = int(np.argmax(cdf >= prob))
    below = cdf[r - 1] if r > 0 else 0.0
    alpha = (cdf[r] - prob) / (cdf[r] - below)
    return max(0.0, (r - alpha) / n)


def test_published_site_table_rates_and_exact_limits():
    res = FunnelPlot(site="site", numerator="jobs", denominator="referrals").fit(SITES)
    t = res.tidy()
    assert list(t["site"]) == sorted(SITES["site"])  # by name, never by rank
    p0 = 421 / 1161
    assert res.target == pytest.approx(p0, rel=1e-12)
    np.testing.assert_allclose(t["rate"], t["numerator"] / t["denominator"], rtol=1e-12)
    for _, row in t.iterrows():
        n = int(row["denominator"])
        for level, name in ((0.95, "95"), (0.998, "998")):
            tail = (1 - level) / 2
            assert row[f"lower_{name}"] == pytest.approx(_exact_limit_bruteforce(n, p0, tail),
                                                         abs=1e-12)
            assert row[f"upper_{name}"] == pytest.approx(
                _exact_limit_bruteforce(n, p0, 1 - tail), abs=1e-12)
    flags = dict(zip(t["site"], t["flag"]))
    assert flags["Northamptonshire"] == "below 99.8%"  # 27/139 = 19.4%
    assert flags["Luton & Bedfordshire"] == "above 95%"  # 114/264 = 43.2%
    assert flags["Berkshire"] == "within"
    assert list(res.flagged()["site"]) == ["Luton & Bedfordshire", "Northamptonshire"]
    # broom columns mirror the named ones
    assert (t["term"] == t["site"].astype(str)).all()
    np.testing.assert_allclose(t["estimate"], t["rate"])
    ref_low, ref_high = proportion_confint(t["numerator"], t["denominator"], method="wilson")
    np.testing.assert_allclose(t["conf_low"], ref_low, rtol=1e-10)
    np.testing.assert_allclose(t["conf_high"], ref_high, rtol=1e-10)


def test_normal_limits_closed_form():
    res = FunnelPlot(site="site", numerator="jobs", denominator="referrals",
                     method="normal").fit(SITES)
    t = res.tidy()
    p0 = 421 / 1161
    for level, name in ((0.95, "95"), (0.998, "998")):
        z = stats.norm.ppf(1 - (1 - level) / 2)
        half = z * np.sqrt(p0 * (1 - p0) / t["denominator"])
        np.testing.assert_allclose(t[f"lower_{name}"], p0 - half, rtol=1e-12)
        np.testing.assert_allclose(t[f"upper_{name}"], p0 + half, rtol=1e-12)
    z_scores = (t["rate"] - p0) / np.sqrt(p0 * (1 - p0) / t["denominator"])
    np.testing.assert_allclose(t["statistic"], z_scores, rtol=1e-12)
    np.testing.assert_allclose(t["p_value"], 2 * stats.norm.sf(np.abs(z_scores)), rtol=1e-10)


def test_exact_limits_approach_normal_for_large_sites():
    p0 = 0.3
    n = np.array([50_000.0])
    lo_e, hi_e = funnel_limits(n, p0, 0.95, method="exact")
    lo_n, hi_n = funnel_limits(n, p0, 0.95, method="normal")
    assert lo_e[0] == pytest.approx(lo_n[0], abs=2e-5)
    assert hi_e[0] == pytest.approx(hi_n[0], abs=2e-5)


def test_dispersion_without_winsorising_is_the_pearson_chi_squared():
    res = FunnelPlot(site="site", numerator="jobs", denominator="referrals", winsor=0).fit(SITES)
    g = res.glance().iloc[0]
    table = np.column_stack([SITES["jobs"], SITES["referrals"] - SITES["jobs"]])
    chi = stats.chi2_contingency(table, correction=False)
    assert g["dispersion_chisq"] == pytest.approx(chi[0], rel=1e-10)
    assert g["phi"] == pytest.approx(chi[0] / 6, rel=1e-10)
    assert g["dispersion_df"] == 5
    assert g["dispersion_p_value"] == pytest.approx(chi[1], rel=1e-8)


def test_overdispersion_multiplicative_and_additive_closed_forms():
    p0 = 421 / 1161
    n = SITES.sort_values("site")["referrals"].to_numpy(float)
    y = SITES.sort_values("site")["jobs"].to_numpy() / n
    s2 = p0 * (1 - p0) / n
    z = (y - p0) / np.sqrt(s2)
    lo, hi = np.quantile(z, [0.1, 0.9])
    zw = np.clip(z, lo, hi)
    phi = np.mean(zw**2)
    w = 1 / s2
    tau2 = max(0.0, (6 * phi - 5) / (w.sum() - (w**2).sum() / w.sum()))

    mult = FunnelPlot(site="site", numerator="jobs", denominator="referrals",
                      overdispersion="multiplicative").fit(SITES)
    t = mult.tidy()
    assert mult.phi == pytest.approx(phi, rel=1e-12)
    z95 = stats.norm.ppf(0.975)
    np.testing.assert_allclose(t["upper_95"], p0 + z95 * np.sqrt(phi * s2), rtol=1e-12)
    np.testing.assert_allclose(t["statistic"], z / np.sqrt(phi), rtol=1e-12)

    add = FunnelPlot(site="site", numerator="jobs", denominator="referrals",
                     overdispersion="additive").fit(SITES)
    t = add.tidy()
    assert add.tau2 == pytest.approx(tau2, rel=1e-12)
    assert tau2 > 0
    np.testing.assert_allclose(t["lower_998"], p0 - stats.norm.ppf(0.999) * np.sqrt(s2 + tau2),
                               rtol=1e-12)
    assert "additive" in str(add.summary())
    # with over-dispersion the outlying site is no longer beyond 99.8%
    assert dict(zip(t["site"], t["flag"]))["Northamptonshire"] == "below 95%"


def test_underdispersed_sites_get_no_multiplicative_narrowing():
    df = pd.DataFrame({"site": list("ABCDE"), "x": [30, 31, 29, 30, 30],
                       "n": [100, 100, 100, 100, 100]})
    res = FunnelPlot(site="site", numerator="x", denominator="n",
                     overdispersion="multiplicative", method="normal").fit(df)
    plain = FunnelPlot(site="site", numerator="x", denominator="n", method="normal").fit(df)
    assert res.phi < 1
    np.testing.assert_allclose(res.tidy()["upper_95"], plain.tidy()["upper_95"])


def test_given_target_and_ratio_funnel():
    res = FunnelPlot(site="site", numerator="jobs", denominator="referrals",
                     target=0.4).fit(SITES)
    assert res.target == 0.4 and res.glance()["dispersion_df"].iloc[0] == 6
    df = pd.DataFrame({"site": ["A", "B"], "o": [10, 30], "n": [50, 80], "e": [12.5, 20.0]})
    ratio = FunnelPlot(site="site", numerator="o", denominator="n", expected="e",
                       method="normal").fit(df)
    t = ratio.tidy()
    np.testing.assert_allclose(t["rate"], [0.8, 1.5])
    np.testing.assert_allclose(t["upper_95"], 1 + stats.norm.ppf(0.975) / np.sqrt([12.5, 20.0]))
    # exact Poisson CI of O, divided by E
    assert t["conf_high"].iloc[0] == pytest.approx(stats.chi2.ppf(0.975, 22) / 2 / 12.5)
    assert t["conf_low"].iloc[0] == pytest.approx(stats.chi2.ppf(0.025, 20) / 2 / 12.5)


def test_funnel_bad_input():
    with pytest.raises(ColumnNotFoundError, match="closest: 'referrals'"):
        FunnelPlot(site="site", numerator="jobs", denominator="referral").fit(SITES)
    bad = SITES.copy()
    bad.loc[0, "jobs"] = 500
    with pytest.raises(DataError, match="1 sites need 0 <= jobs <= referrals"):
        FunnelPlot(site="site", numerator="jobs", denominator="referrals").fit(bad)
    dup = pd.concat([SITES, SITES.iloc[:1]])
    with pytest.raises(DataError, match="share the same site"):
        FunnelPlot(site="site", numerator="jobs", denominator="referrals").fit(dup)
    with pytest.raises(SpecificationError, match="overdispersion must be one of"):
        FunnelPlot(site="s", numerator="x", denominator="n", overdispersion="mult")
    with pytest.raises(SpecificationError, match="limits must lie in"):
        FunnelPlot(site="s", numerator="x", denominator="n", limits=(0.95, 99.8))
    with pytest.raises(SpecificationError, match="method must be one of"):
        FunnelPlot(site="s", numerator="x", denominator="n", method="poisson")


def test_site_counts_from_person_level_and_weights():
    people = pd.DataFrame({"team": ["A", "A", "B", "B", "B"], "job": [1, 0, 1, 1, 0]})
    out = site_counts(people, site="team", outcome="job")
    assert out.to_dict("list") == {"team": ["A", "B"], "numerator": [1, 2],
                                   "denominator": [2, 3]}
    weighted = pd.DataFrame({"team": ["A", "A", "B", "B"], "job": [1, 0, 1, 0],
                             "count": [1, 1, 2, 1]})
    out2 = site_counts(weighted, site="team", outcome="job", weight="count")
    pd.testing.assert_frame_equal(out, out2)
    with pytest.raises(DataError, match="must be 0/1"):
        site_counts(people.assign(job=[2, 0, 1, 1, 0]), site="team", outcome="job")


def test_plots_draw_limits_and_points():
    res = FunnelPlot(site="site", numerator="jobs", denominator="referrals").fit(SITES)
    ax = res.plot()
    assert len(ax.lines) == 5 and len(ax.collections) >= 1  # target + 2 pairs of limits
    assert any(t.get_text() == "Northamptonshire" for t in ax.texts)
    ax2 = res.plot(kind="caterpillar")
    labels = [t.get_text() for t in ax2.get_yticklabels()]
    assert labels[0].startswith("Northamptonshire")  # smallest site first: ordered by size
    section = res.report_section()
    assert len(section.figures) == 2
    assert "Sites outside the control limits" in [t[0] for t in section.tables]


def test_overdispersion_warning_is_issued():
    from causalips.errors import StatisticalWarning

    with pytest.warns(StatisticalWarning, match="vary more than chance"):
        res = FunnelPlot(site="site", numerator="jobs", denominator="referrals").fit(SITES)
    assert res.warnings


def test_sites_without_real_differences_fall_outside_the_95_limits_about_5_percent():
    rng = np.random.default_rng(42)
    k = 4000
    n = rng.integers(30, 400, k)
    x = rng.binomial(n, 0.3)
    df = pd.DataFrame({"site": [f"s{i:05d}" for i in range(k)], "x": x, "n": n})
    res = FunnelPlot(site="site", numerator="x", denominator="n", target=0.3).fit(df)
    t = res.tidy()
    outside = np.mean((t["rate"] > t["upper_95"]) | (t["rate"] < t["lower_95"]))
    # a discrete count crosses an interpolated limit a little more often than 5%; MC SE 0.0034
    assert 0.04 < outside < 0.065
    assert np.mean(t["rate"] > t["upper_998"]) < 0.004


def test_wilson_coverage_within_monte_carlo_error():
    rng = np.random.default_rng(7)
    reps, n, p = 4000, 60, 0.2
    x = rng.binomial(n, p, reps)
    low, high = proportion_ci(x, np.full(reps, n))
    cover = np.mean((low <= p) & (p <= high))
    assert abs(cover - 0.95) < 3 * np.sqrt(0.05 * 0.95 / reps) + 0.01


def test_additive_tau2_recovers_the_between_site_variance():
    rng = np.random.default_rng(3)
    k, tau = 400, 0.06
    n = rng.integers(100, 600, k)
    p = np.clip(0.35 + tau * rng.standard_normal(k), 0.01, 0.99)
    df = pd.DataFrame({"site": [f"s{i:04d}" for i in range(k)], "x": rng.binomial(n, p),
                       "n": n})
    res = FunnelPlot(site="site", numerator="x", denominator="n", overdispersion="additive",
                     winsor=0, method="normal").fit(df)
    # DerSimonian-Laird is consistent; SE of tau2 here is about 0.0003
    assert res.tau2 == pytest.approx(tau**2, rel=0.25)
    t = res.tidy()
    outside = np.mean((t["rate"] > t["upper_95"]) | (t["rate"] < t["lower_95"]))
    assert outside < 0.08  # unadjusted limits flag about 45% here


def test_funnel_ci_is_renamed_ci_method_and_plots_read_the_limit_columns():
    with pytest.warns(FutureWarning, match=r"FunnelPlot\(ci=\) is renamed ci_method="):
        old = FunnelPlot(site="site", numerator="jobs", denominator="referrals", ci="exact")
    new = FunnelPlot(site="site", numerator="jobs", denominator="referrals", ci_method="exact")
    pd.testing.assert_frame_equal(old.fit(SITES).tidy(), new.fit(SITES).tidy())
    res = FunnelPlot(site="site", numerator="jobs", denominator="referrals",
                     limits=(0.9, 0.95, 0.999)).fit(SITES)
    assert res.limit_columns[2] == (0.999, "lower_999", "upper_999")
    assert all(c in res.limits_curve() and c in res.tidy()
               for _, *cols in res.limit_columns for c in cols)
    assert len(res.plot().lines) == 1 + 2 * 3


def test_fractional_site_counts_are_refused_for_exact_limits_and_warned_otherwise():
    from causalips.errors import StatisticalWarning

    weighted = SITES.assign(jobs=SITES["jobs"] + 0.5, referrals=SITES["referrals"] + 0.25)
    with pytest.raises(DataError, match="'referrals' .the denominator. holds 6 counts that are "
                                        "not whole numbers.*exact binomial limits"):
        FunnelPlot(site="site", numerator="jobs", denominator="referrals").fit(weighted)
    with pytest.warns(StatisticalWarning, match="'jobs' .the numerator. holds 6 counts"):
        res = FunnelPlot(site="site", numerator="jobs", denominator="referrals",
                         method="normal").fit(weighted)
    assert res.tidy()["numerator"].dtype == float  # shown as given, not rounded
    with pytest.warns(StatisticalWarning, match="'jobs' .the numerator. holds 6 counts"):
        FunnelPlot(site="site", numerator="jobs", denominator="referrals").fit(
            SITES.assign(jobs=SITES["jobs"] + 0.5))


def test_docstring_examples_of_the_site_modules_run():
    import doctest
    import importlib

    import causalips

    for name in ("proportions", "funnel", "risk", "reach", "representativeness",
                 "numeric_comparison", "outcome_equity", "ips_grow", "productivity", "fidelity"):
        module = importlib.import_module(f"causalips.sites.{name}")
        failures, tried = doctest.testmod(module, extraglobs={"ci": causalips},
                                          optionflags=doctest.NORMALIZE_WHITESPACE)
        assert tried > 0 and failures == 0, name
