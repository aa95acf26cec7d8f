"""Formulas into analysis plans: the R, fixest and survival syntax users already write.

``Estimator.from_formula(formula, **options)`` reads the formula with `formulaic` (the
Wilkinson-formula parser behind pyfixest) and builds the *same* plan the keyword constructor
builds, so ``from_formula(f).get_params()`` equals the keyword plan and both fit identically.
Nothing here looks at data: a column the data lack is reported by ``fit`` as usual.

Three grammars, chosen by the options the estimator takes (so classes renamed or split keep
working):

- **panel** (estimators with ``outcome``, ``unit``, ``time``: DiD, EventStudy, StaggeredDiD):
  ``"outcome ~ treatment + covariates | unit + time [+ more fixed effects]"``. The first
  regressor is the 0/1 treatment column unless ``first_treated=`` (or ``treatment=``) is passed
  as an option; then every regressor is a covariate. The first fixed effect is the unit, the
  second the period, further ones are extra fixed effects. When ``unit=``/``time=`` are options,
  fixed effects are matched to the roles by name (the ``cluster=`` column gives the
  ``"cluster"`` role). Without ``|`` the plan has no fixed effects.
- **survival regression** (``duration``, ``event``, ``covariates``: Cox, FineGray):
  ``"Surv([entry,] time, event) ~ terms"``; terms are columns, ``log(x)``/``sqrt(x)``/``exp(x)``,
  ``C(x)`` or ``factor(x)`` (a factor), ``C(x, Treatment('ref'))`` (its reference level),
  interactions ``a:b`` and ``a*b``, ``strata(x)`` and ``cluster(x)`` (``vcov=Cluster(x)``).
  ``Surv(time, status == 'job')`` sets ``event_value``. Terms come in R's order (main effects,
  then interactions).
- **survival curves** (``duration``, ``event``, ``group``: KaplanMeier, LogRank, ...):
  ``"Surv(time, event) ~ group [+ strata(x)]"`` (``~ 1`` for one curve), as R's ``survfit``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .errors import SpecificationError

PANEL_HELP = ("write 'outcome ~ treatment + covariates | unit + time', e.g. "
              "'workdays ~ treat + age | person + year'")
SURVIVAL_HELP = ("terms can be columns, log(x), sqrt(x), exp(x), C(x), C(x, Treatment('level')), "
                 "interactions a:b, strata(x) and cluster(x)")
TRANSFORMS = ("log", "sqrt", "exp")
FACTORS = ("C", "factor")
_ANSI = re.compile(r"\x1b\[[0-9;]*m|[⧛⧚]")


@dataclass(frozen=True)
class Factor:
    """One factor of a formula term: a plain column (``func`` None) or a call such as
    ``log(x)``; ``node`` is the parsed call, ``aliases`` maps sanitised names back to columns
    written in backticks."""

    text: str
    func: str | None
    column: str | None
    node: ast.Call | None = None
    aliases: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Parsed:
    """A formula read by formulaic: the left-hand terms and the right-hand parts (split at
    ``|``), each term a tuple of factors; intercept terms (``1``, ``0``) left out."""

    text: str
    lhs: tuple[tuple[Factor, ...], ...]
    parts: tuple[tuple[tuple[Factor, ...], ...], ...]


# -- reading the formula ----------------------------------------------------------------------
def parse(formula: str) -> Parsed:
    """Read ``formula`` with formulaic into terms and factors (no data needed)."""
    from formulaic import Formula
    from formulaic.errors import FormulaicError

    if not isinstance(formula, str) or not formula.strip():
        raise SpecificationError(f"a formula must be a non-empty string; got {formula!r}")
    if "~" not in formula:
        raise SpecificationError(f"formula {formula!r} has no '~': put the outcome on its left, "
                                 "e.g. 'workdays ~ treat | person + year'")
    if "^" in formula:
        raise SpecificationError(f"formula {formula!r}: interacted fixed effects (a^b) are not "
                                 "supported; make a column of the combinations and name it")
    try:
        parsed = Formula(formula)
    except FormulaicError as exc:
        first = _ANSI.sub("", str(exc)).strip().splitlines()[0]
        if "`.` operator" in first:
            first = "'.' (all other columns) needs the data; list the columns instead"
        raise SpecificationError(f"formula {formula!r} cannot be read: {first}") from None
    if not hasattr(parsed, "lhs") or parsed.lhs is None or not list(parsed.lhs):
        raise SpecificationError(f"formula {formula!r} has nothing left of '~'")
    rhs = parsed.rhs if isinstance(parsed.rhs, tuple) else (parsed.rhs,)
    return Parsed(text=formula, lhs=_terms(parsed.lhs, formula),
                  parts=tuple(_terms(part, formula) for part in rhs))


def _terms(formula_part, text: str) -> tuple[tuple[Factor, ...], ...]:
    out = []
    for term in formula_part:
        factors = tuple(_factor(f.expr, f.eval_method.value, text) for f in term.factors)
        if all(f is None for f in factors):
            continue  # the intercept
        out.append(factors)
    return tuple(out)


def _factor(expr: str, method: str, text: str) -> Factor | None:
    if method == "literal":
        if expr in ("0", "1", "-1"):
            return None
        raise SpecificationError(f"formula {text!r}: the constant {expr!r} is not a term")
    if method == "lookup":
        return Factor(text=expr, func=None, column=expr)
    from formulaic.utils.code import sanitize_variable_names

    aliases: dict[str, str] = {}
    code = sanitize_variable_names(expr, {}, aliases)
    try:
        node = ast.parse(code, mode="eval").body
    except SyntaxError:
        raise SpecificationError(f"formula {text!r}: the term {expr!r} cannot be read") from None
    alias_items = tuple(aliases.items())
    column = _column(node, dict(alias_items))
    if column is not None:
        return Factor(text=expr, func=None, column=column)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return Factor(text=expr, func=node.func.id, column=None, node=node, aliases=alias_items)
    return Factor(text=expr, func="?", column=None)


def _column(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """A column written as a name, a dotted R-style name (``first.treat``) or in backticks."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        head = _column(node.value, aliases)
        return None if head is None else f"{head}.{node.attr}"
    return None


def _constant(node: ast.AST, where: str):
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise SpecificationError(f"{where}: expected a constant such as 'job' or 3, got "
                                 f"{ast.unparse(node)!r}") from None


def _call_columns(factor: Factor, n: tuple[int, int], help_text: str) -> list[str]:
    """The column arguments of ``factor``'s call, checking their number is within ``n``."""
    node = factor.node
    aliases = dict(factor.aliases)
    if node.keywords or not n[0] <= len(node.args) <= n[1]:
        want = f"{n[0]}" if n[0] == n[1] else f"{n[0]} to {n[1]}"
        raise SpecificationError(f"{factor.text!r} takes {want} column(s); {help_text}")
    cols = [_column(a, aliases) for a in node.args]
    if any(c is None for c in cols):
        raise SpecificationError(f"{factor.text!r}: the arguments must be column names; "
                                 f"{help_text}")
    return cols


# -- building the plan ------------------------------------------------------------------------
def plan_from_formula(cls, formula: str, /, **options):
    """The plan ``cls(**keywords)`` that ``formula`` (plus ``options``) describes."""
    import inspect

    signature = inspect.signature(cls.__init__).parameters.values()
    params = {p.name for p in signature if p.kind is inspect.Parameter.KEYWORD_ONLY}
    required = {p.name for p in signature if p.kind is inspect.Parameter.KEYWORD_ONLY
                and p.default is inspect.Parameter.empty}
    parsed = parse(formula)
    if {"outcome", "unit", "time"} <= params:
        keywords = _panel_keywords(parsed, params, options, cls.__name__, required)
    elif {"duration", "event", "covariates"} <= params:
        keywords = _survival_keywords(parsed, params, options, cls.__name__)
    elif {"duration", "event", "group"} <= params:
        keywords = _curve_keywords(parsed, params, options, cls.__name__)
    else:
        raise SpecificationError(
            f"{cls.__name__} has no formula interface; formulas build the plans of panel "
            "estimators (DiD, EventStudy, StaggeredDiD), Cox, FineGray and survival curves "
            f"(KaplanMeier, LogRank); give {cls.__name__} its options by name")
    clash = sorted(set(keywords) & set(options))
    if clash:
        raise SpecificationError(
            f"{cls.__name__}.from_formula: {', '.join(f'{c}=' for c in clash)} is set by the "
            f"formula {formula!r}; remove the option or the part of the formula")
    return cls(**keywords, **options)


def _plain_columns(terms, where: str, help_text: str) -> list[str]:
    cols = []
    for term in terms:
        if len(term) != 1 or term[0].func is not None:
            label = ":".join(f.text for f in term)
            raise SpecificationError(f"{where}: {label!r} is not a column; {help_text}")
        cols.append(term[0].column)
    return cols


def _panel_keywords(parsed: Parsed, params: set, options: dict, name: str,
                    required: set) -> dict:
    if len(parsed.lhs) != 1 or len(parsed.parts) > 2:
        raise SpecificationError(f"{name}: formula {parsed.text!r} has "
                                 f"{len(parsed.lhs)} outcome(s) and {len(parsed.parts)} part(s) "
                                 f"separated by '|'; {PANEL_HELP}")
    where = f"{name} formula {parsed.text!r}"
    (outcome,) = _plain_columns(parsed.lhs, where, PANEL_HELP)
    regressors = _plain_columns(parsed.parts[0], where, PANEL_HELP + " (precompute transforms "
                                "as columns)")
    keywords: dict = {"outcome": outcome}
    timing_given = "first_treated" in options or "treatment" in options
    if "treatment" in params and not timing_given:
        if not regressors:
            raise SpecificationError(
                f"{where} names no treatment: put the 0/1 treatment column first after '~', or "
                "pass first_treated= (the first exposed period per unit)")
        keywords["treatment"] = regressors.pop(0)
    if regressors:
        if "covariates" not in params:
            raise SpecificationError(f"{where}: {name} takes no covariates; drop "
                                     f"{', '.join(regressors)}")
        keywords["covariates"] = regressors
    if len(parsed.parts) == 2:
        fes = _plain_columns(parsed.parts[1], where, "fixed effects after '|' are columns")
        keywords.update(_fixed_effect_roles(fes, params, options, where))
    elif "fixed_effects" in params and "fixed_effects" not in options:
        keywords["fixed_effects"] = ()  # as in fixest: no '|', no fixed effects
    for role in ("unit", "time"):
        if role in required and role not in keywords and role not in options:
            raise SpecificationError(f"{where} does not say which column is the {role}: write "
                                     f"the fixed effects as '| unit + time' or pass {role}=")
    return keywords


def _fixed_effect_roles(fes: list[str], params: set, options: dict, where: str) -> dict:
    """Fixed-effect columns -> the plan's unit/time roles and ``fixed_effects``."""
    out: dict = {}
    named = {r: options[r] for r in ("unit", "time", "cluster") if r in options}
    roles: list[str] = []
    for col in fes:
        if named.get("unit") == col or named.get("time") == col:
            roles.append("unit" if named.get("unit") == col else "time")
        elif "unit" not in named and "unit" not in out:
            out["unit"] = col
            roles.append("unit")
        elif "time" not in named and "time" not in out:
            out["time"] = col
            roles.append("time")
        elif named.get("cluster") == col:
            roles.append("cluster")
        else:
            roles.append(col)
    if "fixed_effects" in params:
        if "fixed_effects" in options:
            raise SpecificationError(f"{where}: give the fixed effects after '|' or as "
                                     "fixed_effects=, not both")
        out["fixed_effects"] = tuple(roles)
    elif any(r not in ("unit", "time") for r in roles):
        extra = [c for c, r in zip(fes, roles) if r not in ("unit", "time")]
        raise SpecificationError(
            f"{where}: after '|' this estimator takes only the unit and the period (it compares "
            f"cohorts over time and has no fixed effects); drop {', '.join(extra)}")
    return out


def _surv_keywords(parsed: Parsed, params: set, name: str) -> dict:
    """``Surv([entry,] time, event)`` on the left -> duration, event (entry, event_value)."""
    help_text = "write Surv(time, event) or Surv(entry, time, event) left of '~'"
    if len(parsed.lhs) != 1 or len(parsed.lhs[0]) != 1 or parsed.lhs[0][0].func != "Surv":
        left = " + ".join(":".join(f.text for f in t) for t in parsed.lhs)
        raise SpecificationError(f"{name} formula {parsed.text!r}: the left side {left!r} is "
                                 f"not a survival outcome; {help_text}")
    surv = parsed.lhs[0][0]
    node = surv.node
    most = 3 if "entry" in params else 2
    if node.keywords or not 2 <= len(node.args) <= most:
        raise SpecificationError(
            f"{name} formula: {surv.text!r} has {len(node.args)} argument(s); {name} takes "
            + ("Surv(time, event) or Surv(entry, time, event)" if most == 3 else
               "Surv(time, event) (no delayed entry)"))
    keywords: dict = {}
    *times, event = node.args
    if isinstance(event, ast.Compare) and len(event.ops) == 1 and isinstance(event.ops[0], ast.Eq):
        if "event_value" not in params:
            raise SpecificationError(f"{name} takes no event_value; write Surv(time, event) "
                                     "with the event column")
        keywords["event_value"] = _constant(event.comparators[0], surv.text)
        event = event.left
    aliases = dict(surv.aliases)
    cols = [_column(a, aliases) for a in (*times, event)]
    if any(c is None for c in cols):
        raise SpecificationError(f"{surv.text!r}: Surv() takes column names (and event == "
                                 "value); precompute other expressions as columns")
    if len(cols) == 3:
        keywords["entry"] = cols[0]
    keywords["duration"], keywords["event"] = cols[-2], cols[-1]
    return keywords


def _survival_keywords(parsed: Parsed, params: set, options: dict, name: str) -> dict:
    keywords = _surv_keywords(parsed, params, name)
    if len(parsed.parts) != 1:
        raise SpecificationError(f"{name} formula {parsed.text!r}: '|' has no meaning here; "
                                 f"{SURVIVAL_HELP}")
    covariates: list[str] = []
    categorical: list[str] = []
    reference: dict = {}
    strata: list[str] = []
    for term in parsed.parts[0]:
        special = term[0].func if len(term) == 1 else None
        if special == "strata":
            if "strata" not in params:
                raise SpecificationError(f"{name} takes no strata; drop {term[0].text!r}")
            strata += _call_columns(term[0], (1, 8), SURVIVAL_HELP)
        elif special == "cluster":
            if "vcov" in keywords:
                raise SpecificationError(f"{name} formula: cluster() appears twice")
            from .inference import Cluster

            (col,) = _call_columns(term[0], (1, 1), SURVIVAL_HELP)
            keywords["vcov"] = Cluster(col)
        else:
            parts = [_covariate_part(f, categorical, reference, name) for f in term]
            covariates.append(":".join(parts))
    keywords["covariates"] = covariates
    if categorical:
        keywords["categorical"] = categorical
    if reference:
        keywords["reference"] = reference
    if strata:
        keywords["strata"] = strata
    return keywords


def _covariate_part(factor: Factor, categorical: list, reference: dict, name: str) -> str:
    """One factor of a Cox term as the covariate syntax Cox takes (``x``, ``log(x)``)."""
    if factor.func is None:
        return factor.column
    if factor.func in TRANSFORMS:
        (col,) = _call_columns(factor, (1, 1), SURVIVAL_HELP)
        return f"{factor.func}({col})"
    if factor.func in FACTORS:
        node = factor.node
        if node.keywords or not 1 <= len(node.args) <= 2:
            raise SpecificationError(f"{factor.text!r}: write C(x) or C(x, Treatment('level'))")
        col = _column(node.args[0], dict(factor.aliases))
        if col is None:
            raise SpecificationError(f"{factor.text!r}: C() takes a column name")
        if len(node.args) == 1:
            if col not in categorical:
                categorical.append(col)
        else:
            reference[col] = _treatment_level(node.args[1], factor.text)
        return col
    if factor.func in ("strata", "cluster"):
        raise SpecificationError(f"{name}: {factor.text!r} must be a term of its own, not part "
                                 "of an interaction")
    raise SpecificationError(f"{name}: the term {factor.text!r} is not understood; "
                             f"{SURVIVAL_HELP} (precompute other transforms as a column)")


def _treatment_level(node: ast.AST, where: str):
    """``Treatment('55h')`` or ``Treatment(reference='55h')`` -> ``'55h'``."""
    ok = (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
          and node.func.id in ("Treatment", "T"))
    if ok and len(node.args) == 1 and not node.keywords:
        return _constant(node.args[0], where)
    if ok and not node.args and len(node.keywords) == 1 and node.keywords[0].arg == "reference":
        return _constant(node.keywords[0].value, where)
    raise SpecificationError(f"{where}: the second argument of C() must be "
                             "Treatment('level') (the reference level)")


def _curve_keywords(parsed: Parsed, params: set, options: dict, name: str) -> dict:
    keywords = _surv_keywords(parsed, params, name)
    help_text = "write Surv(time, event) ~ group (or ~ 1 for one curve), optionally + strata(x)"
    groups, strata = [], []
    for term in (parsed.parts[0] if len(parsed.parts) == 1 else ()):
        if len(term) == 1 and term[0].func == "strata" and "strata" in params:
            strata += _call_columns(term[0], (1, 1), help_text)
        elif len(term) == 1 and term[0].func is None:
            groups.append(term[0].column)
        else:
            raise SpecificationError(f"{name} formula {parsed.text!r}: {help_text}")
    if len(parsed.parts) != 1 or len(groups) > 1 or len(strata) > 1:
        raise SpecificationError(f"{name} formula {parsed.text!r}: {help_text}")
    if groups:
        keywords["group"] = groups[0]
    if strata:
        keywords["strata"] = strata[0]
    return keywords


__all__ = ["parse", "plan_from_formula", "Parsed", "Factor"]
