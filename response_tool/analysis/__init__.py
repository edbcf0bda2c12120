"""The analyses the source papers publish beyond Kaplan–Meier curves: Cox proportional hazards
tables (:mod:`~response_tool.analysis.cox`), logistic regression of response
(:mod:`~response_tool.analysis.logistic`), Table 1 of baseline characteristics
(:mod:`~response_tool.analysis.table1`) and landmark analysis
(:mod:`~response_tool.analysis.landmark`), with one rule for coding covariates
(:mod:`~response_tool.analysis.coding`).

Pure statistics on data frames (lifelines, statsmodels, scipy): no file is read or written
here; :mod:`response_tool.report` lays the results out and writes them.
"""

from response_tool.analysis.coding import CATEGORICAL, NUMERIC, Term, design, kind_of
from response_tool.analysis.cox import COLUMNS as COX_COLUMNS
from response_tool.analysis.cox import ENTRY_P
from response_tool.analysis.landmark import Landmark, at_landmark, landmark_months
from response_tool.analysis.logistic import COLUMNS as LOGISTIC_COLUMNS
from response_tool.analysis.table1 import baseline_table

__all__ = ["CATEGORICAL", "COX_COLUMNS", "ENTRY_P", "LOGISTIC_COLUMNS", "NUMERIC", "Landmark",
           "Term", "at_landmark", "baseline_table", "design", "kind_of", "landmark_months"]
