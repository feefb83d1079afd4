"""Run reports (DESIGN D7): a finished run's folder, its terminal summary, and reading a
folder back to re-render it or compare two runs.

``write_run`` is what the runner calls; ``render_summary`` is what ``mockex run`` prints;
``load_run`` + ``compare_runs`` back ``mockex report RUN --compare OTHER``.
"""

from scenarios.report.folder import REPORT_FILES, RunFolderError, load_run, write_run, write_views
from scenarios.report.html import render_html
from scenarios.report.junit import junit_xml
from scenarios.report.serialize import SCHEMA_NAME, report_document, report_json
from scenarios.report.text import compare_runs, render_markdown, render_summary

__all__ = [
    "REPORT_FILES",
    "SCHEMA_NAME",
    "RunFolderError",
    "compare_runs",
    "junit_xml",
    "load_run",
    "render_html",
    "render_markdown",
    "render_summary",
    "report_document",
    "report_json",
    "write_run",
    "write_views",
]
