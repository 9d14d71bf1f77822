#!/usr/bin/env python3
"""Differential check of tollgate's HCL parser against python-hcl2.

usage: hcl2-differential.py [--skip-rejected] OURS.json FILE...

OURS.json maps each file to {"attribute.path": value-or-null}, where a value is the literal value
tollgate's parser gives (null when the attribute is not a literal). For every file this script
checks that python-hcl2 parses it too, and that every attribute both parsers see as a literal has
the same value. It prints one line per problem and exits 1 if there is any.

With --skip-rejected, a file python-hcl2 cannot parse is counted and named on a "skipped" line
instead of being a problem: for a corpus of valid HCL where python-hcl2's own gaps are expected,
and only the files both parsers read are compared.
"""
import json, sys

import hcl2

SKIP = object()

def normalize(value):
    """python-hcl2's value as plain JSON, or SKIP when it is an expression, not a literal."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        if value.startswith('"<<') or value.startswith("${"):
            return SKIP
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            inner = value[1:-1]
            probe = inner.replace("$${", "").replace("%%{", "")
            if "${" in probe or "%{" in probe:
                return SKIP
            text = json.loads('"' + inner + '"')
            return text.replace("$${", "${").replace("%%{", "%{")
        return SKIP
    if isinstance(value, list):
        items = [normalize(v) for v in value]
        return SKIP if any(i is SKIP for i in items) else items
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = normalize(k) if k.startswith('"') else k
            nv = normalize(v)
            if key is SKIP or nv is SKIP:
                return SKIP
            out[key] = nv
        return out
    return SKIP

def is_block(entry):
    if not isinstance(entry, dict):
        return False
    if "__is_block__" in entry:
        return True
    return len(entry) == 1 and is_block(next(iter(entry.values())))

def walk(body, path, out):
    for key, value in body.items():
        if key == "__is_block__":
            continue
        if isinstance(value, list) and value and all(is_block(e) for e in value):
            for entry in value:
                walk_block(entry, path + [key], out)
        else:
            out[".".join(path + [key])] = value

def walk_block(entry, path, out):
    if "__is_block__" in entry:
        walk(entry, path, out)
        return
    for label, inner in entry.items():
        walk_block(inner, path + [label.strip('"')], out)

def ours_normalized(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, list):
        return [ours_normalized(v) for v in value]
    if isinstance(value, dict):
        return {k: ours_normalized(v) for k, v in value.items()}
    return value

def main():
    arguments = sys.argv[1:]
    skip_rejected = bool(arguments) and arguments[0] == "--skip-rejected"
    if skip_rejected:
        arguments = arguments[1:]
    if len(arguments) < 2:
        print(__doc__)
        return 2
    ours = json.load(open(arguments[0]))
    files = arguments[1:]
    problems = compared = skipped = 0
    for path in files:
        try:
            with open(path) as handle:
                theirs_tree = hcl2.load(handle)
        except Exception as error:  # noqa: BLE001 - any parse failure is a finding
            reason = (str(error).splitlines() or [type(error).__name__])[0]
            if skip_rejected:
                print(f"skipped {path}: python-hcl2 rejects it: {reason}")
                skipped += 1
            else:
                print(f"{path}: python-hcl2 rejects it: {reason}")
                problems += 1
            continue
        theirs = {}
        walk(theirs_tree, [], theirs)
        mine = ours.get(path, {})
        for name, value in theirs.items():
            expected = normalize(value)
            if expected is SKIP or name not in mine or mine[name] is None:
                continue
            compared += 1
            actual = ours_normalized(mine[name]["value"])
            if actual != expected:
                print(f"{path}: {name}: tollgate {actual!r} but python-hcl2 {expected!r}")
                problems += 1
    print(f"compared {compared} literal attributes in {len(files) - skipped} files, {problems} problems, {skipped} skipped")
    return 1 if problems else 0

sys.exit(main())
