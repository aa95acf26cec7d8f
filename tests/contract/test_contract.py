"""Every estimator honours the one interface.

Cases come from ``tests/contract/cases_<area>.py`` files, each defining
``CASES = [(id, make_estimator, make_data), ...]``.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib.util
import inspect
import json
import re
from collections.abc import Mapping
from pathlib import Path

import matplotlib.axes
import numpy as np
import pandas as pd
import pytest

from causalips.base import ID_COLUMNS, STAT_COLUMNS, Estimator, ReportSection, Result, Summary
from causalips.errors import SpecificationError
from causalips.inference import (
    Bootstrap,
    ConleyTaber,
    ModelBased,
    MultiplierBootstrap,
    Placebo,
    Randomization,
    Robust,
    WildBootstrap,
)

HERE = Path(__file__).parent

# The contract cases use today's names: any FutureWarning means a case (or the library on its
# own path) still goes through a deprecated alias.
pytestmark = pytest.mark.filterwarnings("error::FutureWarning")


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

# Results whose glance() still has a row per group (per-group numbers move to by_group(), #14).
# strict: the day one is fixed, this list must shrink.
PENDING_ONE_ROW_GLANCE: set[str] = set()


@pytest.mark.parametrize("make_estimator, make_data", [
    pytest.param(*c.values, id=c.id, marks=pytest.mark.xfail(strict=True, reason="glance rows"))
    if c.id in PENDING_ONE_ROW_GLANCE else c for c in CASES])
def test_fit_returns_result_with_the_common_interface(make_estimator, make_data):
    est = make_estimator()
    assert isinstance(est, Estimator)
    data = make_data()
    before = data.copy(deep=True)
    res = est.fit(data)
    pd.testing.assert_frame_equal(data, before)  # input not mutated
    assert isinstance(res, Result)

    tidy = res.tidy()
    assert len(tidy) > 0
    _assert_tidy_order(list(tidy.columns))
    # tidy() hands out a copy: changing it cannot change the result
    first = tidy.columns.get_loc("estimate")
    original = res.tidy().iloc[:, first].copy()
    tidy.iloc[:, first] = -123456.0
    pd.testing.assert_series_equal(res.tidy().iloc[:, first], original)

    glance = res.glance()
    assert isinstance(glance, pd.DataFrame) and len(glance) == 1, "glance() is one row"

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
        res.n_obs = 0  # immutable against reassignment ...
    _assert_immutable_in_depth(res)  # ... and in depth


def _assert_tidy_order(columns):
    """Identifying columns (ID_COLUMNS order, term among them), then the statistics, then extras."""
    n_id = columns.index("estimate")
    ids = columns[:n_id]
    assert "term" in ids, columns
    assert all(c in ID_COLUMNS for c in ids), f"{ids} are not all identifying columns"
    assert ids == [c for c in ID_COLUMNS if c in ids], f"identifying columns out of order: {ids}"
    assert columns[n_id:n_id + len(STAT_COLUMNS)] == list(STAT_COLUMNS), columns
    assert not set(ID_COLUMNS) & set(columns[n_id:]), f"identifying column after the stats: {columns}"


def _public_values(res):
    for name in dir(res):
        if name.startswith("_") or name == "estimator":
            continue
        attr = getattr(type(res), name, None)
        if callable(attr) or isinstance(attr, property | functools.cached_property):
            continue
        yield name, getattr(res, name)


def _walk(value, path):
    yield path, value
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _walk(v, f"{path}[{k!r}]")
    elif isinstance(value, tuple | list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _walk(getattr(value, f.name), f"{path}.{f.name}")


def _assert_immutable_in_depth(res):
    for name, value in _public_values(res):
        for path, item in _walk(value, name):
            assert not isinstance(item, dict | list | set), (
                f"{path} is a mutable {type(item).__name__}: freeze it (Result._freeze)")
            if isinstance(item, np.ndarray):
                assert not item.flags.writeable, f"{path} is a writeable array"
            if isinstance(item, pd.DataFrame | pd.Series) and len(item) and item.size:
                again = _lookup(res, path)
                item.drop(index=item.index, inplace=True)  # empties it in place, if it can
                after = _lookup(res, path)
                pd.testing.assert_frame_equal(pd.DataFrame(after), pd.DataFrame(again),
                                              obj=f"{path} after changing a copy")


def _lookup(res, path):
    """Read ``path`` (as _walk spells it) from ``res`` again."""
    name = re.match(r"\w+", path).group(0)
    value = getattr(res, name)
    for attr, key in re.findall(r"\.(\w+)|\[([^\]]*)\]", path[len(name):]):
        value = getattr(value, attr) if attr else value[ast.literal_eval(key)]
    return value


@pytest.mark.parametrize("make_estimator, make_data", CASES)
def test_unknown_options_refused(make_estimator, make_data):
    from causalips.errors import OptionError

    est = make_estimator()
    params = est.get_params()
    with pytest.raises(OptionError, match="has no option 'not_an_option'"):
        type(est)(**params, not_an_option=1)
    with pytest.raises(OptionError, match="by name"):
        type(est)(*params.values())
    assert type(est)(**params).get_params() == params  # the plan round-trips
    sig = inspect.signature(type(est).__init__)
    assert all(
        p.kind is inspect.Parameter.KEYWORD_ONLY
        for name, p in sig.parameters.items()
        if name != "self"
    ), "estimator options must be keyword-only"


def test_specification_errors_name_the_choices():
    from causalips import KaplanMeier

    with pytest.raises(SpecificationError, match="ci_method must be one of"):
        KaplanMeier(duration="t", event="e", ci_method="loglog")


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


# Small specs of every kind that need no column of the data (a spec naming a column the data
# lack is a data error, not the contract's business).
SMALL_SPECS = (ModelBased(), Robust(), Bootstrap(reps=19, seed=1, progress=False),
               MultiplierBootstrap(reps=19, seed=1, progress=False),
               WildBootstrap(reps=19, seed=1, progress=False),
               Randomization(reps=19, seed=1, progress=False),
               ConleyTaber(reps=19, seed=1, progress=False), Placebo(reps=19, seed=1,
                                                                     progress=False))


@pytest.mark.parametrize("make_estimator, make_data", CASES)
def test_with_inference_returns_a_result_or_refuses_clearly(make_estimator, make_data):
    """``with_inference(spec)`` on every result: a new result of the same kind, leaving the
    original as it was, or a SpecificationError (never another exception)."""
    import warnings

    res = make_estimator().fit(make_data())
    before = res.tidy()
    for spec in SMALL_SPECS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # small reps warn; that is not the point here
            warnings.simplefilter("error", FutureWarning)
            try:
                again = res.with_inference(spec)
            except SpecificationError as exc:
                assert str(exc), f"{type(spec).__name__}: an empty message"
                continue
        assert isinstance(again, type(res)), f"{type(spec).__name__} gave {type(again)}"
        assert again is not res
        _assert_tidy_order(list(again.tidy().columns))
    pd.testing.assert_frame_equal(res.tidy(), before)  # the original is unchanged
    with pytest.raises(SpecificationError):
        res.with_inference("bootstrap")  # not a spec


@pytest.mark.parametrize("make_estimator, make_data", CASES)
def test_vcov_matrix_is_a_named_square_table_or_refused(make_estimator, make_data):
    res = make_estimator().fit(make_data())
    try:
        vcov = res.vcov_matrix()
    except SpecificationError as exc:
        assert "covariance" in str(exc) or "vcov" in str(exc), str(exc)
        return
    assert isinstance(vcov, pd.DataFrame)
    assert vcov.shape[0] == vcov.shape[1] > 0
    assert list(vcov.index) == list(vcov.columns), "rows and columns named by the same terms"
    values = vcov.to_numpy(dtype=float)
    np.testing.assert_allclose(values, values.T, rtol=1e-10, atol=1e-14, equal_nan=True)
    diagonal = np.diag(values)
    assert np.all(diagonal[np.isfinite(diagonal)] >= -1e-12), "variances are not negative"
    first = float(values[0, 0])
    vcov.iloc[0, 0] = -1.0  # a copy: changing it cannot change the result
    again = float(res.vcov_matrix().iloc[0, 0])
    assert again == first or (np.isnan(again) and np.isnan(first))


def _plan_specs(est):
    return [v for k, v in est.get_params().items()
            if k in ("vcov", "inference") and v is not None and not isinstance(v, str)]


@pytest.mark.parametrize("make_estimator, make_data",
                         [c for c in CASES if _plan_specs(c.values[0]())])
def test_the_plans_own_spec_applies_to_its_results(make_estimator, make_data):
    """Given back the spec its plan used, ``with_inference`` redoes the same uncertainty: the
    estimates stay, only what the spec governs may change."""
    import warnings

    est = make_estimator()
    specs = _plan_specs(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", FutureWarning)
        res = est.fit(make_data())
        for spec in specs:
            again = res.with_inference(spec)
            assert isinstance(again, type(res))
            pd.testing.assert_series_equal(again.tidy()["estimate"], res.tidy()["estimate"],
                                           obj=f"estimates after with_inference({spec!r})")
