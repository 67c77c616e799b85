"""Accessibility checks with axe-core, run inside the page under test.

Only "serious" and "critical" findings fail a test: those block or badly hinder
someone using a screen reader, a keyboard or magnification.
"""
from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

BLOCKING_IMPACTS = frozenset({"serious", "critical"})

_axe = Axe()


def blocking_violations(page) -> list[dict]:
    results = _axe.run(page)
    return [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(node['target'])}: {node.get('failureSummary', '').replace(chr(10), ' ')}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


def assert_accessible(page, label: str) -> None:
    violations = blocking_violations(page)
    assert not violations, f"axe found serious accessibility problems on {label} ({page.url}):\n{describe(violations)}"
