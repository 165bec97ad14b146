"""scripts/audit_deps.py's decisions, on pip-audit's own JSON shape: an allow-listed
vulnerability (by id or alias) passes, any other fails, and an allow-list entry without
a reason is refused. (Whether a vulnerability source is reachable is the script's canary,
run by scripts/test.sh.)"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_deps.py"
spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

REPORT = {
    "dependencies": [
        {"name": "jinja2", "version": "3.1.2", "vulns": [
            {"id": "GHSA-h5c8-rqwp-cp95", "aliases": ["CVE-2024-22195"], "fix_versions": ["3.1.3"]},
        ]},
        {"name": "pillow", "version": "9.0.0", "vulns": [
            {"id": "PYSEC-2022-168", "aliases": [], "fix_versions": ["9.0.1"]},
        ]},
        {"name": "photoflux", "skip_reason": "not on PyPI"},
    ]
}  # fmt: skip


def test_unlisted_vulnerabilities_fail_and_listed_ones_pass(tmp_path: Path) -> None:
    allow = tmp_path / "allow.txt"
    allow.write_text("# header\nCVE-2024-22195  # jinja2: we render no user templates\n")
    allowed = audit.read_allowlist(allow)
    assert allowed == {"CVE-2024-22195": "jinja2: we render no user templates"}
    assert audit.findings(REPORT, allowed) == ["pillow 9.0.0: PYSEC-2022-168 (fixed in 9.0.1)"]
    assert len(audit.findings(REPORT, {})) == 2


def test_an_entry_must_say_why(tmp_path: Path) -> None:
    allow = tmp_path / "allow.txt"
    allow.write_text("PYSEC-2022-168\n")
    with pytest.raises(SystemExit, match="why"):
        audit.read_allowlist(allow)


def test_the_shipped_allowlist_is_valid() -> None:
    for vuln_id, why in audit.read_allowlist(audit.ALLOWLIST).items():
        assert vuln_id and len(why) > 10
