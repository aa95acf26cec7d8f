"""Checks on user input with the project's standard messages.

Each check either returns a clean value or raises a :mod:`causalips.errors` exception whose
message names the column or argument, shows a count and an example, and says what to do.
The checks live by what they read: ``plan`` (the table, column names, option values),
``numbers`` (numbers and durations), ``codes`` (labels, events, 0/1 columns), ``weights``, and
``rows`` (the wording they share). Import them from here.
"""

from .codes import (
                    CodedColumn,
                    binary_column,
                    cause_codes,
                    coded_column,
                    event_indicator,
                    group_codes,
                    labels_column,
)
from .numbers import (
                    MAX_MAGNITUDE,
                    check_magnitude,
                    check_nonnegative,
                    duration_column,
                    duration_values,
                    numeric_column,
                    numeric_values,
                    refuse_dates,
)
from .plan import (
                    as_dataframe,
                    check_choice,
                    check_columns,
                    check_no_duplicates,
                    check_not_empty,
                    check_range,
                    closest_names,
)
from .rows import example_rows, missing_message, plain, refuse_missing
from .weights import MAX_PEOPLE, non_whole_counts, positive_weights, weight_column

# the names other modules have imported since before the split
_plain = plain
_example_rows = example_rows

__all__ = ["CodedColumn", "binary_column", "cause_codes", "coded_column", "event_indicator",
           "group_codes", "labels_column", "MAX_MAGNITUDE", "check_magnitude",
           "check_nonnegative", "duration_column", "duration_values", "numeric_column",
           "numeric_values", "refuse_dates", "as_dataframe", "check_choice", "check_columns",
           "check_no_duplicates", "check_not_empty", "check_range", "closest_names",
           "example_rows", "missing_message", "plain", "refuse_missing", "MAX_PEOPLE",
           "non_whole_counts", "positive_weights", "weight_column"]
