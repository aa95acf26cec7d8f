"""Kaplan–Meier curves as they may be published: coarsened so no step reveals a small count.

A curve of a small group shows every event: a group of 12 with steps 0.9167, 0.8333 tells a
reader that one person, then another, found a job. (Numbers censored per interval are not
printed; they follow from the at-risk numbers, as in any published at-risk table.)
:class:`PublishedCurves` applies the rule of
:func:`causalips.disclosure.release_points` to a fitted Kaplan–Meier result: groups with fewer
than ``threshold`` people are left out, and each published step holds at least ``threshold``
events (the curve is held flat in between). Its ``tidy()``, ``at()`` and ``quantiles()`` read
off the coarsened curve, and the plotting function draws it as it draws a result. The report,
the CLI text and ``--json`` all publish through it; ``_km_section.kaplan_meier_section`` (the
report section of every Kaplan–Meier result) draws and tabulates it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._presentation import json_safe
from ..disclosure import left_out_note, release_points, suppress_small_counts

_COUNTS = ("n_risk", "n_event", "n_censor")
_VALUES = ("estimate", "std_error", "conf_low", "conf_high")


class PublishedCurves:
    """The publishable view of a Kaplan–Meier result at a disclosure ``threshold``.

    With the threshold off (0 or 1) it shows the result exactly. Otherwise ``groups`` lists the
    groups drawn, ``left_out`` maps each other group to the reason, and every table is read off
    the coarsened curve (its at-risk numbers treat each block's events and censorings as
    happening at the block's last time).
    """

    def __init__(self, result, threshold: int):
        self.result = result
        self.threshold = int(threshold)
        self.estimator = result.estimator
        self.curve = result.curve
        self.conf_level = result.conf_level
        self.exact = self.threshold <= 1
        table = result.tidy()
        self._start = 0.0 if self.curve == "incidence" else 1.0
        self._totals: dict = {}
        self.left_out: dict = {}
        parts = []
        for label in result.groups:
            rows = table[table["group"] == label]
            total = float(rows["n_risk"].iloc[0]) if len(rows) else 0.0
            self._totals[label] = total
            if self.exact:
                parts.append(rows)
                continue
            if total < self.threshold:
                self.left_out[label] = "people"
                continue
            ends = release_points(rows["n_event"], rows["n_censor"], total, self.threshold)
            if ends.size == 0:
                self.left_out[label] = "events"
                continue
            parts.append(_coarse_rows(rows, ends))
        self.groups = tuple(g for g in result.groups if g not in self.left_out)
        self._table = (pd.concat(parts, ignore_index=True) if parts
                       else table.iloc[:0].reset_index(drop=True))

    # -- what the plotting function and the tables read ------------------------------------
    def tidy(self) -> pd.DataFrame:
        return self._table.copy()

    def at(self, times: float | Sequence[float]) -> pd.DataFrame:
        """Estimates and counts at horizons, read off the published curve.

        ``as_of`` is the time of the published step each estimate is read from (the horizon
        itself when the threshold is off).
        """
        if self.exact:
            out = self.result.at(times)
            out.insert(2, "as_of", out["time"])
            return out
        horizons = np.sort(np.atleast_1d(np.asarray(times, dtype=float)))
        frames = [self._at_group(label, horizons) for label in self.groups]
        columns = ["group", "time", "as_of", *_COUNTS, *_VALUES]
        return (pd.concat(frames, ignore_index=True) if frames
                else pd.DataFrame(columns=columns))[columns]

    def _at_group(self, label, horizons) -> pd.DataFrame:
        rows = self._table[self._table["group"] == label]
        time = rows["time"].to_numpy(dtype=float)
        pos = np.searchsorted(time, horizons, side="right") - 1
        before = pos < 0
        safe = np.maximum(pos, 0)
        cum = {c: np.concatenate([[0.0], np.cumsum(rows[c].to_numpy(dtype=float))])
               for c in ("n_event", "n_censor")}
        gone = cum["n_event"] + cum["n_censor"]
        out = {"group": label, "time": horizons,
               "n_risk": self._totals[label] - gone[np.searchsorted(time, horizons, side="left")]}
        for c in ("n_event", "n_censor"):
            out[c] = np.diff(np.concatenate([[0.0], cum[c][pos + 1]]))
        out["as_of"] = np.where(before, 0.0, time[safe] if time.size else 0.0)
        for c in _VALUES:
            start = 0.0 if c == "std_error" else self._start
            out[c] = np.where(before, start, rows[c].to_numpy(dtype=float)[safe])
        return pd.DataFrame(out)

    def quantiles(self, probs: Sequence[float] = (0.25, 0.5, 0.75)) -> pd.DataFrame:
        """Times by which a share ``p`` had the event: the first published step reaching it."""
        if self.exact:
            return self.result.quantiles(list(probs))[["group", "quantile", "estimate",
                                                       "conf_low", "conf_high"]]
        records = []
        for label in self.groups:
            rows = self._table[self._table["group"] == label]
            time = rows["time"].to_numpy(dtype=float)
            cols = {c: rows[c].to_numpy(dtype=float) for c in ("estimate", "conf_low", "conf_high")}
            if self.curve == "incidence":  # back to survival and its bands
                surv = {"estimate": 1 - cols["estimate"], "conf_low": 1 - cols["conf_high"],
                        "conf_high": 1 - cols["conf_low"]}
            else:
                surv = cols
            for p in probs:
                rec = {"group": label, "quantile": p}
                # the lower band of S falls first: it gives the lower limit of the time
                for key, band in (("estimate", "estimate"), ("conf_low", "conf_low"),
                                  ("conf_high", "conf_high")):
                    hit = np.flatnonzero(surv[band] <= 1 - p + 1e-12)
                    rec[key] = time[hit[0]] if hit.size else np.nan
                records.append(rec)
        return pd.DataFrame(records, columns=["group", "quantile", "estimate", "conf_low",
                                              "conf_high"])

    def numbers(self) -> pd.DataFrame:
        """People and events per group (every group, drawn or not; counts as they are)."""
        table = self.result.tidy()
        events = table.groupby("group", sort=False)["n_event"].sum()
        frame = pd.DataFrame({"group": list(self._totals),
                              "n_obs": list(self._totals.values()),
                              "n_events": [events.get(g, 0.0) for g in self._totals]})
        if self.estimator.weights is None:  # whole people unless the fit was weighted
            frame[["n_obs", "n_events"]] = frame[["n_obs", "n_events"]].astype(np.int64)
        return frame

    def notes(self) -> tuple[str, ...]:
        """Why groups are missing from the figure and how the curve was coarsened."""
        if self.exact:
            return ()
        notes = []
        for reason in ("people", "events"):
            k = sum(1 for r in self.left_out.values() if r == reason)
            if k:
                notes.append(left_out_note(k, "group", f"fewer than {self.threshold} {reason}"))
        notes.append(f"Curves are shown in steps of at least {self.threshold} events (held flat "
                     "in between), so no step reveals a small count; estimates at horizons are "
                     "read off the last step before them (its time is 'as_of'), quantiles off "
                     "the steps.")
        return tuple(notes)

    def to_dict(self) -> dict:
        """JSON-safe record of everything published (the CLI's ``--json``)."""
        numbers = suppress_small_counts(self.numbers(), ("n_obs", "n_events"), self.threshold)
        return json_safe({
            "estimator": type(self.estimator).__name__,
            "plan": self.estimator.get_params(),
            "disclosure": {"threshold": self.threshold, "groups_not_shown": len(self.left_out),
                           "notes": list(self.notes())},
            "numbers": numbers,
            "estimates": self._table.drop(columns="n_censor"),
            "warnings": list(self.result.warnings),
        })


def _coarse_rows(rows: pd.DataFrame, ends: np.ndarray) -> pd.DataFrame:
    """One row per block: its last time's estimates, the block's summed counts."""
    starts = np.concatenate([[0], ends[:-1] + 1])
    out = rows.iloc[ends].reset_index(drop=True).copy()
    n_risk = rows["n_risk"].to_numpy(dtype=float)
    out["n_risk"] = n_risk[starts]
    for c in ("n_event", "n_censor"):
        out[c] = np.add.reduceat(rows[c].to_numpy(dtype=float), starts)
    return out


__all__ = ["PublishedCurves"]
