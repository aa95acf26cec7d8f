"""The shared ground floor: one way to warn, one duration reader, one magnitude check, one shim
for old reps/seed keywords, the split modules still importable from their old homes."""

from __future__ import annotations

import doctest
import importlib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalips
from causalips.errors import DataError, DroppedRowsWarning, SpecificationError

HOUSE_MODULES = ["causalips.errors", "causalips.inference", "causalips._presentation",
                 "causalips._frozen", "causalips._progress", "causalips._checks.plan",
                 "causalips._checks.rows", "causalips._checks.numbers", "causalips._checks.codes",
                 "causalips.plotting._text"]


@pytest.mark.parametrize("name", HOUSE_MODULES)
def test_docstring_examples_run(name):
    failures, tried = doctest.testmod(importlib.import_module(name),
                                      extraglobs={"ci": causalips},
                                      optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0


def test_a_warning_points_at_the_callers_line_and_is_recorded():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 0, 1, 1], "w": [1.0, 0.0, 2.0, 1.0]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = causalips.KaplanMeier(duration="t", event="e", weights="w").fit(df)
    dropped = [w for w in caught if issubclass(w.category, DroppedRowsWarning)]
    assert len(dropped) == 1 and dropped[0].message.n_dropped == 1
    assert Path(dropped[0].filename) == Path(__file__)  # this line, not one inside causalips
    assert str(dropped[0].message) in res.warnings


def test_warn_records_and_returns_the_message():
    from causalips.errors import StatisticalWarning, warn, warn_all

    notes: list[str] = []
    with pytest.warns(StatisticalWarning) as caught:
        assert warn("few clusters", record=notes) == "few clusters"
        warn_all(["a", "b"], StatisticalWarning, record=notes)
    assert notes == ["few clusters", "a", "b"] == [str(w.message) for w in caught]
    assert all(Path(w.filename) == Path(__file__) for w in caught)


def test_one_duration_reader():
    from causalips._checks import duration_column, duration_values

    spans = pd.DataFrame({"t": pd.to_timedelta([1.5, 2.0, 36.25], unit="D")})
    values, unit = duration_values(spans, "t")
    assert unit == "days"
    np.testing.assert_array_equal(values, [1.5, 2.0, 36.25])
    np.testing.assert_array_equal(duration_column(spans, "t"), values)
    ints = pd.DataFrame({"t": np.array([3, 5, 8], dtype=np.int32)})
    assert duration_column(ints, "t").dtype == np.int32  # the counting fast path
    floats = pd.DataFrame({"t": [1.0, np.nan]})
    read, unit = duration_values(floats, "t")
    assert unit is None and not read.flags.writeable  # a view of the data, read-only
    assert np.shares_memory(read, floats["t"].to_numpy())
    with pytest.raises(DataError, match=r"'t' \(the duration\) has 1 missing or infinite values "
                                        r"\(e.g. row 1\); drop or impute"):
        duration_column(floats, "t")
    dates = pd.DataFrame({"t": pd.to_datetime(["2024-01-01", "2024-02-01"])})
    for read_it in (duration_column, lambda d, c: duration_values(d, c)[0]):
        with pytest.raises(DataError, match="holds dates.*durations_from_dates"):
            read_it(dates, "t")
    with pytest.raises(DataError, match="1 negative values"):
        duration_column(pd.DataFrame({"t": [1.0, -2.0]}), "t")
    # duration_values leaves signs alone: a delayed entry may be negative in a counting process
    assert duration_values(pd.DataFrame({"t": [1.0, -2.0]}), "t")[0][1] == -2.0


def test_one_magnitude_check_for_panels_and_the_rest():
    from causalips._checks import MAX_MAGNITUDE, check_magnitude
    from causalips._panel_checks import MAX_MAGNITUDE as PANEL_MAX
    from causalips._panel_checks import bounded

    assert PANEL_MAX == MAX_MAGNITUDE
    df = pd.DataFrame({"y": [1.0, 2e300, np.inf, np.nan]}, index=[10, 11, 12, 13])
    y = df["y"].to_numpy()
    with pytest.raises(DataError, match=r"1 values beyond 1e\+100 .*\(e.g. row 11: 2e\+300\)"):
        check_magnitude(y, "y", role="outcome", df=df)
    with pytest.raises(DataError) as panel:
        bounded(y, df, "y", "outcome")
    with pytest.raises(DataError) as plain:
        check_magnitude(y, "y", role="outcome", df=df)
    assert str(panel.value) == str(plain.value)
    ok = np.array([1.0, np.inf, np.nan, -1e99])
    assert check_magnitude(ok, "y", role="outcome") is ok  # missing and infinite: not its job


def test_missing_values_are_worded_one_way():
    from causalips._checks import event_indicator, group_codes, refuse_missing

    df = pd.DataFrame({"g": ["a", None, "b"], "e": [1, None, 0]}, index=[4, 5, 6])
    with pytest.raises(DataError, match=r"^column 'g' \(the group\) has 1 missing values "
                                        r"\(e.g. row 5\); give them a label"):
        group_codes(df, "g")
    with pytest.raises(DataError, match=r"^column 'e' \(the event\) has 1 missing values "
                                        r"\(e.g. row 5\); code censored rows as 0"):
        event_indicator(df, "e")
    with pytest.raises(DataError, match=r"^column 'g' \(the site\) has 1 missing values"):
        refuse_missing(df, "g", role="site", advice="name every site")


def test_one_shim_for_old_resampling_keywords():
    from causalips.inference import Bootstrap, Placebo, spec_from_old_options

    assert spec_from_old_options("X", "given", reps=None, seed=None) == "given"
    with pytest.warns(FutureWarning, match=r"X\(reps=99, seed=1\) is replaced by "
                                           r"inference=Bootstrap\(reps=99, seed=1\)"):
        assert spec_from_old_options("X", None, reps=99, seed=1) == Bootstrap(reps=99, seed=1)
    with pytest.raises(SpecificationError, match=r"X: pass inference= only \(reps= is its old"):
        spec_from_old_options("X", Bootstrap(), reps=99)
    with pytest.warns(FutureWarning, match="inference=Placebo"):
        built = spec_from_old_options("Y", "default", "default",
                                      lambda placebos: Placebo(), placebos=True)
    assert built == Placebo()
    with pytest.warns(FutureWarning, match="inference=a spec"), \
            pytest.raises(SpecificationError, match="seed must be"):
        spec_from_old_options("X", None, reps=99, seed=-1)


def test_split_modules_keep_their_old_import_paths():
    from causalips import _checks, _frozen, _presentation, base

    for name in ("Summary", "ReportSection", "tidy_frame", "json_safe", "ID_COLUMNS",
                 "STAT_COLUMNS", "TIDY_COLUMNS"):
        assert getattr(base, name) is getattr(_presentation, name)
    assert base.freeze is _frozen.freeze and base.FrozenMapping is _frozen.FrozenMapping
    assert base.warn_all is causalips.errors.warn_all
    old_checks = ["as_dataframe", "closest_names", "check_columns", "check_choice",
                  "check_range", "_example_rows", "numeric_column", "refuse_dates",
                  "MAX_MAGNITUDE", "check_magnitude", "duration_column", "positive_weights",
                  "check_nonnegative", "event_indicator", "cause_codes", "check_no_duplicates",
                  "check_not_empty", "CodedColumn", "coded_column", "numeric_values",
                  "duration_values", "group_codes", "_plain", "MAX_PEOPLE", "refuse_missing",
                  "binary_column", "labels_column", "weight_column", "non_whole_counts"]
    assert [n for n in old_checks if not hasattr(_checks, n)] == []


def test_estimator_warnings_point_at_the_users_line():
    # every estimator warns through errors.warn, so the warning names the caller's file and
    # line (not a line inside causalips or pytest), whatever the call depth inside the package
    import warnings

    import numpy as np
    import pandas as pd

    import causalips as ci

    rng = np.random.default_rng(0)
    panel = pd.DataFrame({"id": np.repeat(np.arange(60), 4), "t": np.tile(np.arange(4), 60)})
    panel["m"] = panel["id"] // 10
    panel["ft"] = np.where(panel["m"] == 0, 2.0, np.nan)
    panel["y"] = rng.normal(size=len(panel))
    spells = pd.DataFrame({"t": rng.integers(1, 50, 80), "e": rng.integers(0, 2, 80),
                           "w": np.r_[np.zeros(3), np.ones(77)], "x": rng.normal(size=80)})
    fits = [lambda: ci.DiD(outcome="y", unit="id", time="t", first_treated="ft",
                           cluster="m").fit(panel),
            lambda: ci.Cox(duration="t", event="e", covariates=["x"], weights="w").fit(spells),
            lambda: ci.KaplanMeier(duration="t", event="e", weights="w").fit(spells)]
    for fit in fits:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit()
        assert caught, "expected a warning"
        assert all(w.filename == __file__ for w in caught), [(w.filename, w.lineno)
                                                               for w in caught]


def test_long_resampling_shows_a_progress_bar_that_progress_false_silences(monkeypatch):
    # every resampling loop (economics bootstrap, parametric draws, support-cap bootstrap, the
    # equity Monte Carlo tables) reports through _progress.progress_bar, switched by the spec
    import numpy as np
    import pandas as pd

    import causalips as ci
    from causalips import _progress

    calls = []
    real = _progress.progress_bar

    def spy(*args, enabled=True, **kwargs):
        calls.append(enabled)
        return real(*args, enabled=False, **kwargs)

    for module in ("causalips.economics._bootstrap", "causalips.survival.caps",
                   "causalips.sites._contingency"):
        monkeypatch.setattr(f"{module}.progress_bar", spy)
    rng = np.random.default_rng(0)
    trial = pd.DataFrame({"arm": np.repeat(["ips", "usual"], 40), "cost": rng.gamma(2, 500, 80),
                          "qaly": rng.normal(0.7, 0.1, 80)})
    for progress in (True, False):
        ci.CostEffectiveness(group="arm", cost="cost", effect="qaly", reference="usual",
                             inference=ci.Bootstrap(reps=50, seed=1, progress=progress)
                             ).fit(trial)
    assert calls == [True, False]


def test_messages_name_options_and_plain_values():
    # a misspelt covariate names the option to fix, and values seen print as the user wrote
    # them (1, not np.int64(1))
    import pandas as pd

    import causalips as ci
    from causalips.errors import ColumnNotFoundError, DataError

    df = pd.DataFrame({"days": [3, 5, 8, 9], "job": [1, 0, 2, 1], "team": list("abab")})
    with pytest.raises(ColumnNotFoundError, match=r"'tem' \(one of the covariates\) not found; "
                                                  r"closest: 'team'.*as covariates=\.$"):
        ci.Cox(duration="days", event="job", covariates=["tem"]).fit(df)
    with pytest.raises(DataError, match=r"values seen: 1, 0, 2$"):
        ci.KaplanMeier(duration="days", event="job").fit(df)
