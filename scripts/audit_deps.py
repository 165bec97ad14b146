"""Dependency vulnerability audit for scripts/test.sh (pip-audit on the installed env).

Fails (exit 1) on every known vulnerability that scripts/audit-allowlist.txt does not
excuse with a reason. pip-audit's sources give no severity, so "critical" cannot be told
apart: every known vulnerability fails until fixed or allow-listed.

First a canary: a pin with a long-known vulnerability (requests 2.19.0, PYSEC-2018-28 /
CVE-2018-18074) must be reported. When it is not, the vulnerability source cannot be
reached (offline machine, a registry mirror without PyPI's JSON API, no OSV) and an audit
would pass in silence: the step then says so loudly and exits 0 without auditing.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ALLOWLIST = Path(__file__).with_name("audit-allowlist.txt")
CANARY = "requests==2.19.0"
ENTRY = re.compile(r"^(?P<id>[A-Za-z0-9][A-Za-z0-9._:-]+)\s+#\s*(?P<why>\S.*)$")


def read_allowlist(path: Path) -> dict[str, str]:
    """vulnerability id -> why it is accepted; an entry without a reason is an error."""
    allowed: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = ENTRY.match(line)
        if match is None:
            raise SystemExit(f"{path}:{number}: write `ID  # why this is accepted`")
        allowed[match["id"]] = match["why"]
    return allowed


def findings(report: dict, allowed: dict[str, str]) -> list[str]:
    """`package version: id` for each vulnerability not allow-listed (by id or alias)."""
    bad = []
    for dep in report.get("dependencies", []):
        for vuln in dep.get("vulns", []):
            ids = {vuln["id"], *vuln.get("aliases", [])}
            if not ids & allowed.keys():
                fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
                bad.append(f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    return bad


def _pip_audit(*args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off", *args],
        check=False,  # its exit status is 1 whenever it finds something: read the JSON
        capture_output=True,
        text=True,
        timeout=900,
    )
    try:
        return json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        return {"error": (result.stderr or result.stdout)[-2000:]}


def source_reachable() -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        canary = Path(tmp) / "canary.txt"
        canary.write_text(CANARY + "\n")
        report = _pip_audit("--no-deps", "--disable-pip", "--requirement", str(canary))
    return any(dep.get("vulns") for dep in report.get("dependencies", []))


def main() -> int:
    allowed = read_allowlist(ALLOWLIST)
    if not source_reachable():
        banner = "!" * 78
        print(
            f"{banner}\n"
            "!! DEPENDENCY AUDIT SKIPPED: pip-audit cannot reach a vulnerability source\n"
            f"!! (the canary {CANARY} came back clean). Nothing was audited. Run\n"
            "!! scripts/audit_deps.py where https://pypi.org/pypi/<name>/<version>/json or\n"
            f"!! https://api.osv.dev is reachable before a release.\n{banner}",
            file=sys.stderr,
        )
        return 0
    report = _pip_audit(*(arg for vid in allowed for arg in ("--ignore-vuln", vid)))
    if "error" in report:
        print(f"dependency audit could not run:\n{report['error']}", file=sys.stderr)
        return 1
    bad = findings(report, allowed)
    skipped = [d["name"] for d in report.get("dependencies", []) if d.get("skip_reason")]
    if skipped:
        print(f"not audited (not on PyPI): {', '.join(skipped)}")
    if bad:
        print("known vulnerabilities (fix, or allow-list with a reason):", file=sys.stderr)
        print("\n".join(f"  {line}" for line in bad), file=sys.stderr)
        return 1
    print(f"dependency audit: {len(report.get('dependencies', []))} packages, none vulnerable")
    return 0


if __name__ == "__main__":
    sys.exit(main())
