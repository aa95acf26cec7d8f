"""Base for the site/equity results: their summaries already carry the warnings."""

from __future__ import annotations

from ..base import ReportSection, Result


class SiteResult(Result):
    """A Result whose report section is its summary (with warnings) and its plot."""

    def report_section(self) -> ReportSection:
        import matplotlib.pyplot as plt

        summ = self.summary()
        ax = self.plot()
        fig = ax.get_figure()
        section = ReportSection(
            title=summ.title,
            paragraphs=tuple(f"{k}: {v}" for k, v in summ.header),
            tables=tuple((h, t, self.count_columns) for h, t in summ.tables),
            figures=((summ.title, fig),),
            notes=summ.notes,
        )
        plt.close(fig)
        return section
