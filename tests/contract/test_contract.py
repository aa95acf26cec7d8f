"""Every estimator honours the one interface.

Cases come from ``tests/contract/cases_<area>.py`` files, each defining
``CASES = [(id, make_estimator, make_data), ...]``.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
from pathlib import Path

import matplotlib.axes
import pandas as pd
import pytest

from causalips.base import TIDY_COLUMNS, Estimator, ReportSection, Result, Summary
from causalips.errors import SpecificationError

HERE = Path(__file__).parent


def _load_cases():
    found = []
    for path in sorted(HERE.glob("cases_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for case in module.CASES:
            found.append(pytest.param(case[1], case[2], id=case[0]))
    return found


CASES = _load_cases()


@pytest.mark.parametrize("make_estimator, make_data", CASES)
def test_fit_returns_result_with_the_common_interface(make_estimator, make_data):
    est = make_estimator()
    assert isinstance(est, Estimator)
    data = make_data()
    before = data.copy(deep=True)
    res = est.fit(data)
    pd.testing.assert_frame_equal(data, before)  # input not mutated
    assert isinstance(res, Result)

    tidy = res.tidy()
    assert list(tidy.columns[: 0]) == []
    for col in TIDY_COLUMNS:
        assert col in tidy.columns, f"tidy() lacks {col}"
    assert len(tidy) > 0
    tidy.iloc[0, 0] = None  # a copy: the result must not change
    assert res.tidy().iloc[0, 0] is not None or pd.isna(res.tidy().iloc[0, 0])

    glance = res.glance()
    assert isinstance(glance, pd.DataFrame) and len(glance) >= 1

    summ = res.summary()
    assert isinstance(summ, Summary)
    assert str(summ) and repr(res)
    assert "<" in summ._repr_html_()

    ax = res.plot()
    assert isinstance(ax, matplotlib.axes.Axes)

    d = res.to_dict()
    json.dumps(d)
    assert d["estimator"] == type(est).__name__
    assert "causalips_version" in d

    section = res.report_section()
    assert isinstance(section, ReportSection)

    with pytest.raises(AttributeError):
        res.n_obs = 0  # immutable


@pytest.mark.parametrize("make_estimator, make_data", CASES)
def test_unknown_options_refused(make_estimator, make_data):
    est = make_estimator()
    params = est.get_params()
    with pytest.raises(TypeError):
        type(est)(**params, not_an_option=1)
    sig = inspect.signature(type(est).__init__)
    assert all(
        p.kind is inspect.Parameter.KEYWORD_ONLY
        for name, p in sig.parameters.items()
        if name != "self"
    ), "estimator options must be keyword-only"


def test_specification_errors_name_the_choices():
    from causalips import KaplanMeier

    with pytest.raises(SpecificationError, match="conf_type must be one of"):
        KaplanMeier(duration="t", event="e", conf_type="loglog")


def test_every_exported_estimator_has_a_contract_case():
    import causalips

    exported = {
        name for name in causalips.__all__
        if inspect.isclass(getattr(causalips, name))
        and issubclass(getattr(causalips, name), Estimator)
    }
    covered = {type(param.values[0]()).__name__ for param in CASES}
    assert exported - covered == set(), "add a case in tests/contract/cases_<area>.py"


# Plan roles where a missing value has a documented meaning (first_treated: never treated).
MISSING_MEANS_SOMETHING = ("first_treated",)


def _column_roles(est, data, *, skip=()):
    """The data columns the plan names (string params and lists of strings)."""
    cols = []
    for name, value in est.get_params().items():
        if name in skip:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        cols += [v for v in values if isinstance(v, str) and v in data.columns]
    return list(dict.fromkeys(cols))


@pytest.mark.parametrize("make_estimator, make_data", CASES)
def test_missing_column_is_our_error_naming_it(make_estimator, make_data):
    from causalips.errors import CausalipsError

    est, data = make_estimator(), make_data()
    roles = _column_roles(est, data)
    assert roles, "the plan names no column of the data"
    for col in roles:
        with pytest.raises(CausalipsError, match=re.escape(repr(col))):
            est.fit(data.drop(columns=col))


@pytest.mark.parametrize("make_estimator, make_data", CASES)
def test_missing_values_give_our_error_or_a_dropped_rows_warning(make_estimator, make_data):
    import warnings

    import numpy as np

    from causalips.errors import CausalipsError, DroppedRowsWarning

    est, data = make_estimator(), make_data()
    for col in _column_roles(est, data, skip=MISSING_MEANS_SOMETHING):
        if not pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col]):
            continue
        bad = data.copy()
        bad[col] = bad[col].astype(float)
        bad.iloc[len(bad) // 2, bad.columns.get_loc(col)] = np.nan
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                est.fit(bad)
            except CausalipsError:
                continue
        assert any(issubclass(w.category, DroppedRowsWarning) for w in caught), (
            f"NaN in {col!r} was neither refused nor reported as dropped rows")


@pytest.mark.parametrize("make_estimator, make_data", CASES)
def test_text_in_a_numeric_column_is_our_error(make_estimator, make_data):
    from causalips.errors import CausalipsError

    est, data = make_estimator(), make_data()
    numeric = [c for c in _column_roles(est, data)
               if pd.api.types.is_float_dtype(data[c])]
    for col in numeric:
        bad = data.copy()
        bad[col] = bad[col].astype(object)
        bad.iloc[0, bad.columns.get_loc(col)] = "n/a"
        with pytest.raises(CausalipsError):
            est.fit(bad)
