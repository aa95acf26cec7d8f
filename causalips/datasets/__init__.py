"""Bundled data and seeded simulators. Every bundled data set is SYNTHETIC unless its docstring
says it is public published data (calibrated to published figures; see each loader)."""

from .caseload import load_caseload, simulate_caseload
from .sites import load_making_ips_work, simulate_wider_caseload
from .staggered import load_mpdta, simulate_staggered_cross_sections, simulate_staggered_panel

__all__ = ["load_caseload", "simulate_caseload", "load_mpdta", "simulate_staggered_panel",
           "simulate_staggered_cross_sections",
           "load_making_ips_work", "simulate_wider_caseload"]
from .danish_trial import load_danish_trial, simulate_danish_trial  # noqa: E402

__all__ += ["load_danish_trial", "simulate_danish_trial"]
from .norway import load_norway_panel, simulate_norway_panel  # noqa: E402

__all__ += ["load_norway_panel", "simulate_norway_panel"]
from .swiss_trial import load_swiss_trial, simulate_swiss_trial  # noqa: E402

__all__ += ["load_swiss_trial", "simulate_swiss_trial"]
