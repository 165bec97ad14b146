"""What `docker build` would send as its context (honouring .dockerignore the way
Docker does: patterns in order, `!` re-includes, the last matching line wins, a match on
a folder covers everything in it), and the secrets found in it."""

from __future__ import annotations

import os
import re
from pathlib import Path

SECRET_FILE_NAMES = re.compile(
    r"(^\.env$|^\.env\..+|\.pem$|\.key$|\.p12$|\.pfx$|^id_(rsa|ed25519|ecdsa)|\.keystore$)"
)
SECRET_CONTENT = [
    re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    # our own secrets, written as a .env line with a real-looking value
    re.compile(
        rb"PHOTOFLUX_(SECRET_KEY|HASH_KEY|FIELD_KEYS|WORKER_TOKEN|METRICS_TOKEN|SMTP_PASSWORD"
        rb"|FIRST_ADMIN_PASSWORD)\s*=\s*['\"]?[A-Za-z0-9_:+/=-]{20,}"
    ),
    re.compile(rb"mongodb(\+srv)?://[^:/\s\"'<>]+:[^@/\s\"'<>]{6,}@"),  # URI with a password
    re.compile(rb"AKIA[0-9A-Z]{16}"),  # AWS access key id
    re.compile(rb"gh[pousr]_[A-Za-z0-9]{36}"),  # GitHub token
    re.compile(rb"xox[baprs]-[A-Za-z0-9-]{10,}"),  # Slack token
]
MAX_SCANNED_BYTES = 2 * 1024 * 1024


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + "(?:/.*)?$")  # a folder's pattern covers what is inside


def read_dockerignore(context: Path) -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    path = context / ".dockerignore"
    if not path.exists():
        return rules
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        line = line.lstrip("!").strip().strip("/")
        line = os.path.normpath(line) if line not in ("*", "**") else line
        rules.append((keep, _pattern_regex(line)))
    return rules


def context_files(context: Path) -> list[str]:
    """Relative paths of the files that would be sent."""
    rules = read_dockerignore(context)
    sent = []
    for folder, dirs, files in os.walk(context):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            rel = os.path.relpath(os.path.join(folder, name), context)
            excluded = False
            for keep, regex in rules:
                if regex.match(rel):
                    excluded = not keep
            if not excluded:
                sent.append(rel)
    return sorted(sent)


def secrets_in(context: Path) -> list[str]:
    """`path: why` for each file in the context that holds or is a secret."""
    found = []
    for rel in context_files(context):
        if SECRET_FILE_NAMES.search(os.path.basename(rel)):
            found.append(f"{rel}: a secret file by its name")
            continue
        path = context / rel
        if path.is_symlink() or path.stat().st_size > MAX_SCANNED_BYTES:
            continue
        data = path.read_bytes()
        for pattern in SECRET_CONTENT:
            if pattern.search(data):
                found.append(f"{rel}: matches {pattern.pattern[:40]!r}")
    return found
