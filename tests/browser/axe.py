"""WCAG 2.2 AA checks in the browser with axe-core, vendored in tests/browser/vendor/axe-core
(from its npm package, with its licence; nothing is fetched at test time).

The public crisis pages forbid every script (their Content-Security-Policy): a context that
injects axe must be opened with `bypass_csp=True`, for these checks only.
"""

from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2, levels A and AA (axe's "best-practice" rules are not WCAG).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

RUN = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => ({target: n.target.join(" "), why: n.failureSummary})),
    count: v.nodes.length,
  }));
}"""


def violations(page) -> list[dict]:
    """axe's WCAG A/AA violations of the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN, TAGS)


def summary(found: list[dict]) -> str:
    lines = []
    for violation in found:
        lines.append(
            f"- {violation['id']} ({violation['impact']}, {violation['count']} element(s)): "
            f"{violation['help']}"
        )
        for node in violation["nodes"]:
            why = " ".join(node["why"].split())
            lines.append(f"    {node['target']}: {why}")
    return "\n".join(lines)


def assert_accessible(page, what: str) -> None:
    found = violations(page)
    assert not found, f"{what} ({page.url}) fails WCAG 2.2 AA:\n{summary(found)}"
