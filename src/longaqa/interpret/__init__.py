"""Interpretability: explanations as data, query-to-clip mapping, plots, the temporal-skipping
index, quantitative measures (agreement with per-clip truth, deletion/insertion) and an HTML report.

Everything here is drawn from the model's outputs (``AQAOutput``) or from files written from them.
"""

from longaqa.interpret.explanation import VideoExplanation, explain_video, read_explanation, write_explanation
from longaqa.interpret.report import write_report
from longaqa.interpret.skipping import model_skipping_index, skipping_index

__all__ = [
    "VideoExplanation",
    "explain_video",
    "model_skipping_index",
    "read_explanation",
    "skipping_index",
    "write_explanation",
    "write_report",
]
