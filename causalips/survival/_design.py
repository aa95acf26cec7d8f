"""Design matrices for regression terms: numeric, categorical (treatment contrasts), log/sqrt/exp
transforms and ``a:b`` interactions.

Term syntax (a deliberately tiny, safe parser; no ``eval``):

- ``"age"``: a numeric column as is (or a categorical one, expanded; see below);
- ``"log(bili)"``, ``"sqrt(x)"``, ``"exp(x)"``: the transform of one numeric column;
- ``"budget:age"``: the product of the parts' columns (any number of parts).

A column is categorical when it is text, ``category`` or boolean, or is named in ``categorical``
or ``reference``. It is expanded into 0/1 columns, one per level except the reference (R's
treatment contrasts). The reference is ``reference[col]`` or else the first level: the first
category of a pandas ``Categorical``, otherwise the first sorted value (R's default for factors).
Coefficient names are ``col[level]``, e.g. ``stage[3]`` for R's ``factor(stage)3``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, SpecificationError

_FUNC = re.compile(r"^\s*(log|sqrt|exp)\(\s*([^()]+?)\s*\)\s*$")
_TRANSFORMS = {"log": np.log, "sqrt": np.sqrt, "exp": np.exp}


@dataclass(frozen=True)
class Part:
    column: str
    func: str | None  # log/sqrt/exp or None


@dataclass(frozen=True)
class Term:
    label: str
    parts: tuple[Part, ...]


def parse_term(text: str) -> Term:
    if not isinstance(text, str) or not text.strip():
        raise SpecificationError(f"covariates must be column names or terms; got {text!r}")
    parts = []
    for piece in text.split(":"):
        piece = piece.strip()
        m = _FUNC.match(piece)
        if m:
            parts.append(Part(column=m.group(2), func=m.group(1)))
        elif "(" in piece or ")" in piece:
            raise SpecificationError(
                f"term {text!r}: only log(), sqrt() and exp() of one column are understood; "
                "precompute other transforms as a column"
            )
        else:
            parts.append(Part(column=piece, func=None))
    return Term(label=text.strip(), parts=tuple(parts))


def source_columns(terms: Sequence[Term]) -> list[str]:
    seen: list[str] = []
    for t in terms:
        for p in t.parts:
            if p.column not in seen:
                seen.append(p.column)
    return seen


def is_categorical(s: pd.Series, col: str, categorical, reference) -> bool:
    if col in categorical or col in reference:
        return True
    return bool(
        pd.api.types.is_object_dtype(s)
        or isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(s)
        or pd.api.types.is_string_dtype(s)
    )


def _plain(v):
    v = v.item() if isinstance(v, np.generic) else v
    if isinstance(v, float) and v.is_integer():
        return int(v)  # 3.0 -> 3, so a float-coded factor reads stage[3]
    return v


def factor_levels(s: pd.Series, col: str, reference) -> tuple[list, object]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories.tolist()
        codes = s.cat.codes.to_numpy()
        present = np.bincount(codes[codes >= 0], minlength=len(cats)) > 0
        levels = [c for c, k in zip(cats, present, strict=True) if k]
    else:
        levels = sorted(pd.unique(s.dropna()).tolist(), key=lambda v: (str(type(v)), v))
    levels = [_plain(v) for v in levels]
    if col in reference:
        ref = reference[col]
        match = [lv for lv in levels if lv == ref or str(lv) == str(ref)]
        if not match:
            shown = ", ".join(repr(v) for v in levels)
            raise SpecificationError(
                f"reference level {ref!r} for {col!r} is not in the data; levels: {shown}"
            )
        ref = match[0]
    else:
        ref = levels[0] if levels else None
    return levels, ref


@dataclass(frozen=True)
class Design:
    matrix: np.ndarray
    names: tuple[str, ...]
    assign: dict[str, tuple[int, ...]]  # term label -> coefficient indices
    factors: dict[str, dict]  # categorical column -> {"levels": [...], "reference": ref}
    indicator: tuple[bool, ...]  # coefficient is a 0/1 level indicator (main effect)


def _part_columns(df, part: Part, categorical, reference, factors, rows=None, defer=False):
    """The columns of one part of a term, in ``rows`` order (numeric columns are left in data
    order when ``defer``: the caller gathers them straight into the design matrix)."""
    s = df[part.column]
    if part.func is None and is_categorical(s, part.column, categorical, reference):
        if part.column not in factors:
            levels, ref = factor_levels(s, part.column, reference)
            factors[part.column] = {"levels": levels, "reference": ref}
        info = factors[part.column]
        cols, names = [], []
        if isinstance(s.dtype, pd.CategoricalDtype):
            codes, uniques = s.cat.codes.to_numpy(), s.cat.categories
        else:
            codes, uniques = pd.factorize(s)
        if rows is not None:
            codes = codes[rows]
        lookup = {_plain(u): i for i, u in enumerate(uniques)}
        for lv in info["levels"]:
            if lv == info["reference"]:
                continue
            cols.append((codes == lookup[lv]).astype(np.float64))
            names.append(f"{part.column}[{lv}]")
        return cols, names, True
    if part.func is None:
        label = part.column
    else:
        label = f"{part.func}({part.column})"
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        raise DataError(f"column {part.column!r} in term {label!r} must be numeric for {part.func}()")
    x = s.to_numpy(dtype=np.float64, na_value=np.nan)
    if part.func is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            x = _TRANSFORMS[part.func](x)
        bad = ~np.isfinite(x)
        if bad.any():
            raise DataError(
                f"{label} is not finite for {int(bad.sum())} rows (e.g. row "
                f"{df.index[bad][0]!r}: {part.column}={s[bad].iloc[0]!r}); "
                f"{part.func}() needs {'positive' if part.func != 'exp' else 'moderate'} values"
            )
    return [x if rows is None or defer else x[rows]], [label], False


def build_design(df: pd.DataFrame, terms: Sequence[Term], *, categorical=(), reference=None,
                 rows: np.ndarray | None = None) -> Design:
    """The design matrix (column-major); with ``rows`` (a permutation) in that row order."""
    reference = dict(reference or {})
    factors: dict[str, dict] = {}
    cols: list[np.ndarray] = []
    names: list[str] = []
    indicator: list[bool] = []
    assign: dict[str, tuple[int, ...]] = {}
    deferred: set[int] = set()  # columns still in data order (gathered into the matrix below)
    for term in terms:
        combo_cols = [np.ones(len(df))] if len(term.parts) > 1 else [None]
        combo_names = [""]
        all_cat = True
        single = len(term.parts) == 1
        for part in term.parts:
            pc, pn, cat = _part_columns(df, part, categorical, reference, factors, rows,
                                        defer=single)
            all_cat = all_cat and cat
            combo_cols = [b if a is None else a * b for a in combo_cols for b in pc]
            combo_names = [f"{a}:{b}" if a else b for a in combo_names for b in pn]
        start = len(cols)
        if single and not all_cat and rows is not None:
            deferred.update(range(start, start + len(combo_cols)))
        cols.extend(combo_cols)
        names.extend(combo_names)
        indicator.extend([all_cat and len(term.parts) == 1] * len(combo_cols))
        assign[term.label] = tuple(range(start, len(cols)))
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise SpecificationError(f"covariates give duplicate coefficients {dup}; list each term once")
    matrix = np.empty((len(df), len(cols)), order="F")  # column-major: fast column access
    for j, c in enumerate(cols):
        if j in deferred:
            np.take(c, rows, out=matrix[:, j], mode="wrap")  # "raise" would buffer
        else:
            matrix[:, j] = c
    return Design(matrix=matrix, names=tuple(names), assign=assign, factors=factors,
                  indicator=tuple(indicator))


def check_collinearity(xc: np.ndarray, names: Sequence[str], within=None,
                       means: np.ndarray | None = None) -> np.ndarray:
    """Raise a DataError naming columns that are constant or linear combinations of others.

    ``xc`` must be centred. With stratum codes ``within``, columns are compared after removing
    stratum means (a column constant within every stratum carries no information in a
    stratified Cox model). ``means`` (the column means removed) also sets the scale below which
    a column counts as constant (rounding noise left by the centring). Returns the (within-stratum) sums of squares of the columns.
    """
    p = xc.shape[1]
    if p == 0:
        return np.zeros(0)
    n = xc.shape[0]
    gram = xc.T @ xc
    rms = np.sqrt(np.clip(np.diag(gram), 0, None) / max(n, 1))  # overall spread
    if within is not None and within.max() > 0:
        counts = np.bincount(within).astype(float)
        sums = np.column_stack([np.bincount(within, weights=xc[:, j]) for j in range(p)])
        nz = counts > 0
        gram = gram - (sums[nz] / counts[nz, None]).T @ sums[nz]
    diag = np.clip(np.diag(gram), 0, None)
    # a (within-stratum) spread below 1e-10 of the column's magnitude (its mean, or its overall
    # spread) is rounding noise: the column is constant (within strata)
    size = rms if means is None else np.maximum(rms, np.abs(np.asarray(means, dtype=float)))
    const = diag <= (1e-10 * size) ** 2 * n
    if const.any():
        bad = [names[j] for j in np.flatnonzero(const)]
        raise DataError(
            f"covariate column(s) {bad} do not vary"
            + (" within strata" if within is not None and within.max() > 0 else "")
            + " in the rows used, so their hazard ratio cannot be estimated; drop them "
            "(or, for a factor, check that each level occurs)"
        )
    scale = np.sqrt(diag)
    corr = gram / np.outer(scale, scale)  # correlation matrix
    kept: list[int] = []
    for j in range(p):
        if kept:
            g_kk = corr[np.ix_(kept, kept)]
            g_kj = corr[kept, j]
            coef = np.linalg.solve(g_kk, g_kj)
            resid = corr[j, j] - g_kj @ coef
            if resid < 1e-10:
                others = [names[kept[i]] for i in np.flatnonzero(np.abs(coef) > 1e-6)]
                raise DataError(
                    f"covariates are collinear: {names[j]!r} is a linear combination of "
                    f"{others}; drop one of these columns (or merge factor levels)"
                )
        kept.append(j)
    return diag
