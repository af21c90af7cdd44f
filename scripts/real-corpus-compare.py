#!/usr/bin/python3
"""Compares `dh-mlmodel scan --json` output with docs/real-world/expected.toml.

Called by scripts/real-corpus as: real-corpus-compare.py EXPECTED.toml SCANS_DIR LIST, where
LIST has one `name<TAB>tree` line per artefact scanned and SCANS_DIR/NAME.json is its scan.
Prints per artefact the must-find items hit and missed and the false flags (findings in scope
that no `find` or `may` entry allows); exits 1 when any artefact has a miss or a false flag.
"""

import fnmatch
import json
import re
import sys
import tomllib


def expand_braces(pattern):
    """`a/{b,c}.py` -> [`a/b.py`, `a/c.py`] (one level per brace group, nested groups too)."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if not match:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    out = []
    for alternative in match.group(1).split(","):
        out.extend(expand_braces(head + alternative + tail))
    return out


def glob_match(value, pattern):
    return value is not None and any(
        fnmatch.fnmatchcase(value, p) for p in expand_braces(pattern)
    )


def effective_kind(finding):
    """A download marked as a dataset counts as kind `dataset`."""
    if finding.get("kind") == "download" and finding.get("dataset") is True:
        return "dataset"
    return finding.get("kind")


def matches(entry, finding):
    if not glob_match(finding.get("path"), entry["path"]):
        return False
    if "kind" in entry and effective_kind(finding) != entry["kind"]:
        return False
    if "format" in entry and finding.get("format") not in entry["format"]:
        return False
    if "url" in entry and not glob_match(finding.get("url"), entry["url"]):
        return False
    for key in ("when", "verification", "offset"):
        if key in entry and finding.get(key) != entry[key]:
            return False
    return True


def describe_entry(entry):
    parts = [entry["path"], entry.get("kind", "any kind")]
    if "format" in entry:
        parts.append("/".join(entry["format"]))
    for key in ("url", "when", "verification", "offset"):
        if key in entry:
            parts.append(f"{key}={entry[key]}")
    return ", ".join(str(p) for p in parts)


def describe_finding(finding):
    parts = [finding.get("path"), finding.get("kind"), finding.get("format")]
    for key in ("url", "when", "verification", "offset", "reason"):
        if key in finding:
            parts.append(f"{key}={finding[key]}")
    text = ", ".join(str(p) for p in parts)
    return text if len(text) <= 200 else text[:197] + "..."


def compare(artefact, findings):
    """Returns (hits, wanted, missed entries, false flags)."""
    scope = artefact.get("scope")
    if scope:
        findings = [f for f in findings if any(glob_match(f.get("path"), s) for s in scope)]
    covered = set()
    hits = wanted = 0
    missed = []
    for entry in artefact.get("find", []):
        count = entry.get("count", 1)
        found = [i for i, f in enumerate(findings) if matches(entry, f)]
        covered.update(found)
        wanted += count
        hits += min(len(found), count)
        if len(found) < count:
            missed.append((entry, len(found), count))
    for entry in artefact.get("may", []):
        covered.update(i for i, f in enumerate(findings) if matches(entry, f))
    false_flags = [f for i, f in enumerate(findings) if i not in covered]
    return hits, wanted, missed, false_flags


def main():
    expected_path, scans, listing = sys.argv[1:4]
    with open(expected_path, "rb") as f:
        artefacts = {a["name"]: a for a in tomllib.load(f)["artefact"]}
    with open(listing) as f:
        names = [line.split("\t", 1)[0] for line in f if line.strip()]
    total_hits = total_wanted = total_missed = total_false = 0
    failed = []
    rows = []
    for name in names:
        artefact = artefacts.get(name)
        if artefact is None:
            print(f"{name}: not in {expected_path}: add its expectations first")
            failed.append(name)
            continue
        with open(f"{scans}/{name}.json") as f:
            findings = json.load(f)["findings"]
        hits, wanted, missed, false_flags = compare(artefact, findings)
        missed_items = sum(count - got for _, got, count in missed)
        total_hits += hits
        total_wanted += wanted
        total_missed += missed_items
        total_false += len(false_flags)
        status = "ok" if not missed and not false_flags else "FAIL"
        if status == "FAIL":
            failed.append(name)
        print(
            f"{name}: {status}: must-find {hits}/{wanted} found, "
            f"{missed_items} missed, {len(false_flags)} false flags"
        )
        for entry, got, count in missed:
            print(f"  miss ({got} of {count}): {describe_entry(entry)}")
        for finding in false_flags[:20]:
            print(f"  false flag: {describe_finding(finding)}")
        if len(false_flags) > 20:
            print(f"  … and {len(false_flags) - 20} more false flags")
        rows.append((name, hits, wanted, missed_items, len(false_flags)))
    print(
        f"\n{len(names)} artefacts: must-find {total_hits}/{total_wanted} found, "
        f"{total_missed} missed, {total_false} false flags"
    )
    if failed:
        print("failing: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
