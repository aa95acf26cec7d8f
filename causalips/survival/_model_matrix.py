"""Model matrices from regression terms (R's ``model.matrix``): numeric columns, factors
(treatment contrasts), log/sqrt/exp transforms and ``a:b`` interactions.

Term syntax (a deliberately tiny, safe parser; no ``eval``):

- ``"age"``: a numeric column as is (or a categorical one, expanded; see below);
- ``"log(bili)"``, ``"sqrt(x)"``, ``"exp(x)"``: the transform of one numeric column;
- ``"budget:age"``: the product of the parts' columns (any number of parts).

A column is a factor when it is text, ``category`` or boolean, or is named in ``categorical``
or ``reference``. It is expanded into 0/1 columns, one per level except the reference (R's
treatment contrasts). The reference is ``reference[col]`` or else the first level: the first
category of a pandas ``Categorical``, otherwise the first sorted value (R's default for factors).
A factor with about one level per row (more than 1,000 levels, or more than half the rows) is
refused before the fit: it is almost always an identifier given as a covariate.
Coefficient names are ``col[level]``, e.g. ``stage[3]`` for R's ``factor(stage)3``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._checks import CodedColumn
from ..errors import DataError, SpecificationError
from ._model_frame import ModelColumns

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


def is_factor_dtype(dtype) -> bool:
    """Text, categorical and boolean columns are factors (read from the dtype, no data scan)."""
    return bool(
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    )


def factor_columns(df: pd.DataFrame, terms: Sequence[Term], categorical, reference) -> set[str]:
    """The columns that enter the model as factors (coded once, see ``_model_frame``)."""
    return {p.column for t in terms for p in t.parts
            if p.func is None and (p.column in categorical or p.column in reference
                                   or is_factor_dtype(df[p.column].dtype))}


#: A factor with more levels than this (or than half the rows) is refused before the fit.
MAX_LEVELS = 1000


def _level_name(v):
    if isinstance(v, float) and v.is_integer():
        return int(v)  # 3.0 -> 3, so a float-coded factor reads stage[3]
    return v


def factor_info(coded: CodedColumn, n_rows: int, reference) -> dict:
    """Levels and reference of a factor; refuses a factor with about one level per row."""
    col = coded.name
    n_levels = len(coded.levels)
    if n_levels > MAX_LEVELS or (n_levels > 10 and n_levels > n_rows / 2):
        raise DataError(
            f"column {col!r} (a covariate) has {n_levels:,} distinct values in {n_rows:,} rows; "
            f"as a factor it would need {n_levels - 1:,} coefficients. An identifier belongs in "
            f"strata= or vcov=Cluster({col!r}); a numeric measure should be a numeric column (not "
            "text, and not in categorical=); a factor with many levels should be grouped first.")
    levels = [_level_name(v) for v in coded.levels]
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
    return {"levels": levels, "reference": ref}


@dataclass(frozen=True)
class Design:
    matrix: np.ndarray
    names: tuple[str, ...]
    assign: dict[str, tuple[int, ...]]  # term label -> coefficient indices
    factors: dict[str, dict]  # categorical column -> {"levels": [...], "reference": ref}
    indicator: tuple[bool, ...]  # coefficient is a 0/1 level indicator (main effect)


class _Columns:
    """Fills design columns in the row order ``rows`` from the model's columns."""

    def __init__(self, cols: ModelColumns, factors: set[str], rows, reference):
        self.cols, self.rows, self.reference = cols, rows, reference
        self.factor_names = factors
        self.factors: dict[str, dict] = {}
        self._codes: dict[str, np.ndarray] = {}

    def factor_codes(self, col: str) -> np.ndarray:
        """The codes in row order, in the smallest integer type (a cheap gather and compare)."""
        out = self._codes.get(col)
        if out is None:
            coded = self.cols.codes[col]
            self.factors[col] = factor_info(coded, self.cols.n, self.reference)
            small = coded.codes.astype(np.min_scalar_type(max(len(coded.levels), 1)) if
                                       len(coded.levels) < 2**15 else np.int64)
            out = self._codes[col] = small if self.rows is None else small[self.rows]
        return out

    def part(self, part: Part):
        """(fillers, names, is_factor): each filler writes one column into the array given."""
        if part.func is None and part.column in self.factor_names:
            codes = self.factor_codes(part.column)
            info = self.factors[part.column]
            fillers, names = [], []
            for k, lv in enumerate(info["levels"]):
                if lv == info["reference"]:
                    continue
                fillers.append(lambda out, k=k: np.equal(codes, k, out=out))
                names.append(f"{part.column}[{lv}]")
            return fillers, names, True
        label = part.column if part.func is None else f"{part.func}({part.column})"
        if part.column not in self.cols.numbers:
            raise DataError(f"column {part.column!r} in term {label!r} must be numeric for "
                            f"{part.func}()")
        x = self.cols.numbers[part.column]
        if part.func is not None:
            x = self._transform(x, part, label)
        rows = self.rows
        if rows is None:
            return [lambda out: np.copyto(out, x)], [label], False
        return [lambda out: np.take(x, rows, out=out, mode="wrap")], [label], False

    def _transform(self, x, part: Part, label: str) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            y = _TRANSFORMS[part.func](x)
        bad = ~np.isfinite(y)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{label} is not finite for {int(bad.sum())} rows (e.g. row "
                f"{self.cols.index[i]!r}: {part.column}={x[i]!r}); "
                f"{part.func}() needs {'positive' if part.func != 'exp' else 'moderate'} values"
            )
        return y


def _product(fillers):
    """A filler for the product of several parts' columns (an interaction)."""
    def fill(out):
        fillers[0](out)
        tmp = np.empty_like(out)
        for f in fillers[1:]:
            f(tmp)
            out *= tmp
    return fill


def expand_terms(terms: Sequence[Term], part, product):
    """The design columns of ``terms``, however a column is represented.

    ``part(p)`` gives (columns, names, is_factor) of one part (a factor: one column per level
    but the reference); ``product(columns)`` combines the parts of an interaction. Returns
    (columns, names, indicator, assign). Shared by the design matrix in memory (columns are
    fillers) and the design expressions of a fit run in a data engine.
    """
    columns: list = []
    names: list[str] = []
    indicator: list[bool] = []
    assign: dict[str, tuple[int, ...]] = {}
    for term in terms:
        combo, combo_names, all_factor = [[]], [""], True
        for p in term.parts:
            pf, pn, is_factor = part(p)
            all_factor = all_factor and is_factor
            combo = [a + [b] for a in combo for b in pf]
            combo_names = [f"{a}:{b}" if a else b for a in combo_names for b in pn]
        start = len(columns)
        columns.extend(c[0] if len(c) == 1 else product(c) for c in combo)
        names.extend(combo_names)
        indicator.extend([all_factor and len(term.parts) == 1] * len(combo))
        assign[term.label] = tuple(range(start, len(columns)))
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise SpecificationError(f"covariates give duplicate coefficients {dup}; list each term once")
    return columns, names, indicator, assign


def build_design(cols: ModelColumns, terms: Sequence[Term], *, factors: set[str],
                 reference=None, rows: np.ndarray | None = None) -> Design:
    """The design matrix (column-major), with ``rows`` (a permutation) in that row order.

    ``factors`` (columns coded in ``cols``) get one 0/1 column per level except the reference;
    numeric columns are gathered straight into the matrix.
    """
    source = _Columns(cols, factors, rows, dict(reference or {}))
    fillers, names, indicator, assign = expand_terms(terms, source.part, _product)
    matrix = np.empty((cols.n, len(fillers)), order="F")  # column-major: fast column access
    for j, fill in enumerate(fillers):
        fill(matrix[:, j])
    return Design(matrix=matrix, names=tuple(names), assign=assign, factors=source.factors,
                  indicator=tuple(indicator))


def check_collinearity(xc: np.ndarray, names: Sequence[str], within=None,
                       means: np.ndarray | None = None) -> np.ndarray:
    """Raise a DataError naming columns that are constant or linear combinations of others.

    ``xc`` must be centred. With stratum codes ``within``, columns are compared after removing
    stratum means (a column constant within every stratum carries no information in a
    stratified Cox model). ``means`` (the column means removed) also sets the scale below which
    a column counts as constant (rounding noise left by the centring). Returns the
    (within-stratum) sums of squares of the columns.
    """
    p = xc.shape[1]
    if p == 0:
        return np.zeros(0)
    gram = xc.T @ xc
    counts = sums = None
    if within is not None and within.max() > 0:
        counts = np.bincount(within).astype(float)
        sums = np.column_stack([np.bincount(within, weights=xc[:, j]) for j in range(p)])
    return check_gram(gram, xc.shape[0], names, counts=counts, sums=sums, means=means)


def check_gram(gram: np.ndarray, n: int, names: Sequence[str], *, counts=None, sums=None,
               means=None) -> np.ndarray:
    """:func:`check_collinearity` from the cross-products of the centred columns.

    ``gram`` is X_c'X_c over the ``n`` rows; with strata, ``counts`` (rows per stratum) and
    ``sums`` (per stratum, the column sums of X_c) remove the stratum means. A fit run in a
    data engine gets these sums from one aggregation.
    """
    p = gram.shape[0]
    rms = np.sqrt(np.clip(np.diag(gram), 0, None) / max(n, 1))  # overall spread
    stratified = counts is not None
    if stratified:
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
            + (" within strata" if stratified else "")
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
