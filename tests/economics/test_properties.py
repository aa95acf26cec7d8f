"""Property tests of the decision rules (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from causalips.economics.cost_effectiveness import classify, icer, net_monetary_benefit

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
wtp = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@given(finite, finite)
@example(dc=-5e-324, de=-2.0)  # a subnormal cost difference is round-off, not "cheaper"
@example(dc=2e-320, de=3.0)
def test_icer_is_never_negative(dc, de):
    r = icer(dc, de)
    assert np.isnan(r) or r > 0
    assert np.isnan(r) == (classify(dc, de) not in ("ICER", "ICER_SW"))


@given(finite, finite, wtp)
@example(dc=2e-320, de=3.0, lam=0.0)
def test_net_benefit_agrees_with_dominance_and_icer(dc, de, lam):
    nb = float(net_monetary_benefit(dc, de, lam))
    kind = classify(dc, de)
    if kind == "dominant":
        assert nb >= 0
    elif kind == "dominated":
        assert nb <= 0
    elif kind == "ICER":  # cost-effective iff ICER <= wtp
        assert (nb > 0) == (dc / de < lam) or np.isclose(dc / de, lam)
    elif kind == "ICER_SW":  # cost-effective iff saving per unit forgone >= wtp
        assert (nb > 0) == (dc / de > lam) or np.isclose(dc / de, lam)


@given(finite, finite)
def test_classification_is_antisymmetric(dc, de):
    swap = {"dominant": "dominated", "dominated": "dominant", "ICER": "ICER_SW",
            "ICER_SW": "ICER", "equivalent": "equivalent"}
    assert classify(-dc, -de) == swap[classify(dc, de)]
