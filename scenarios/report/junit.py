"""junit.xml: one test case per expectation, so CI systems show a scenario's verdicts as tests.

A run that raised (strategy or runner error) adds a ``run`` case with an ``<error>`` element
holding the traceback: it fails the suite even when every expectation happened to pass.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from scenarios.record import RunRecord

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters, and tracebacks sometimes do."""
    return _INVALID_XML.sub("?", text)


def junit_xml(record: RunRecord) -> str:
    failures = sum(1 for e in record.expectations if not e.passed)
    errors = 0 if record.error is None else 1
    suites = ET.Element("testsuites", name="mockex")
    suite = ET.SubElement(suites, "testsuite", {
        "name": _clean(record.scenario_name), "tests": str(len(record.expectations) + errors),
        "failures": str(failures), "errors": str(errors), "skipped": "0", "time": f"{record.wall_seconds:.3f}",
    })  # fmt: skip
    props = ET.SubElement(suite, "properties")
    for name, value in (("seed", str(record.seed)), ("trading_pair", record.trading_pair),
                        ("virtual_seconds", f"{record.virtual_seconds:.3f}")):
        ET.SubElement(props, "property", name=name, value=_clean(value))
    classname = f"mockex.{record.scenario_name}"
    for result in record.expectations:
        case = ET.SubElement(suite, "testcase", name=_clean(result.name), classname=_clean(classname))
        if result.source_line:
            case.set("line", str(result.source_line))
        if not result.passed:
            failure = ET.SubElement(case, "failure", message=_clean(result.message), type=_clean(result.type))
            lines = ", ".join(map(str, result.journal_lines)) or "none"
            failure.text = _clean(f"{result.message}\njournal lines: {lines}")
        else:
            ET.SubElement(case, "system-out").text = _clean(result.message)
    if record.error is not None:
        case = ET.SubElement(suite, "testcase", name="run", classname=_clean(classname))
        last = next((ln.strip() for ln in reversed(record.error.splitlines()) if ln.strip()), "error")
        error = ET.SubElement(case, "error", message=_clean(last), type="RunError")
        error.text = _clean(record.error)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
