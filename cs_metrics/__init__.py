"""csm: customer-success KPIs and explainable health scores from exported spreadsheets.

The library works without the CLI:

    from cs_metrics import load, compute, score, build_report
"""

__version__ = "0.1.0"
