#!/usr/bin/env python3
"""Checks the plan fixtures in terraform-*/ against the actions we expect.

Usage: python3 Tests/Fixtures/plans/verify.py [--list]
  --list  also print every resource/drift/output action per fixture.
Exits non-zero if a fixture is missing or its actions differ.
"""
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent

C, D, U, N = ["create"], ["delete"], ["update"], ["no-op"]
DC, CD = ["delete", "create"], ["create", "delete"]

# fixture -> (resource_changes, resource_drift, output_changes); same for both engines.
EXPECTED = {
    "create": (
        {
            "null_resource.a": C,
            "null_resource.b": C,
            'null_resource.each["x"]': C,
            'null_resource.each["y"]': C,
            "null_resource.after_child": C,
            "module.child.null_resource.this[0]": C,
            "module.child.null_resource.this[1]": C,
        },
        {},
        {"a_id": C, "child_ids": C},
    ),
    "update": (
        {"null_resource.a": U, "null_resource.unchanged": N},
        {},
        {"stage": U},
    ),
    "replace": (
        {
            "null_resource.destroy_first": DC,
            "null_resource.create_first": CD,
            "null_resource.dependent": DC,
            "null_resource.forced": DC,
            "null_resource.untouched": N,
        },
        {},
        {},
    ),
    "delete": (
        {
            "null_resource.kept": N,
            "null_resource.removed": D,
            "null_resource.counted[0]": N,
            "null_resource.counted[1]": D,
            "module.child.null_resource.this[0]": D,
        },
        {},
        {},
    ),
    "outputs": (
        {"null_resource.a": N, "null_resource.new": C},
        {},
        {
            "changed": U,
            "unchanged": N,
            "removed": D,
            "was_sensitive": U,
            "added_sensitive": C,
            "added_unknown": C,
            "added_object": C,
        },
    ),
    "sensitive": (
        {"null_resource.holder": DC, "null_resource.new_holder": C},
        {},
        {"secret_echo": C},
    ),
    "empty": (
        {"null_resource.a": N, "null_resource.b": N},
        {},
        {"b_id": N},
    ),
    "drift": (
        {
            "null_resource.kept": N,
            "null_resource.gone": C,
            "null_resource.watcher": DC,
        },
        {"null_resource.gone": D},
        {},
    ),
    "drift-refresh-only": ({}, {"null_resource.gone": D}, {}),
    "targeted": ({"null_resource.a": C}, {}, {"a_id": C}),
    "moved-checks": ({"null_resource.web": N, "null_resource.extra": C}, {}, {}),
    "import": ({"terraform_data.adopted": U, "terraform_data.fresh": C}, {}, {}),
    "errored": ({"null_resource.fine": C}, {}, {}),
}

# Fixtures that need a newer engine (moved, import and check blocks came in Terraform 1.5).
LEAST = {"moved-checks": (1, 5), "import": (1, 5), "errored": (1, 5)}


def actions(plan):
    rc = {r["address"]: r["change"]["actions"] for r in plan.get("resource_changes") or []}
    rd = {r["address"]: r["change"]["actions"] for r in plan.get("resource_drift") or []}
    oc = {k: v["actions"] for k, v in (plan.get("output_changes") or {}).items()}
    return rc, rd, oc


def main():
    listing = "--list" in sys.argv[1:]
    engines = sorted(p for p in HERE.glob("terraform-*") if p.is_dir())
    if not engines:
        print("no terraform-*/ directories found", file=sys.stderr)
        return 1
    failures = 0
    for engine in engines:
        version = tuple(int(part) for part in engine.name.removeprefix("terraform-").split(".")[:2])
        for name, want in EXPECTED.items():
            if version < LEAST.get(name, (0, 0)):
                continue
            path = engine / f"{name}.json"
            if not path.exists():
                print(f"MISSING {path.relative_to(HERE)}")
                failures += 1
                continue
            plan = json.loads(path.read_bytes())
            got = actions(plan)
            ok = got == want
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {engine.name}/{name}.json "
                  f"(format_version {plan.get('format_version')})")
            if listing or not ok:
                for label, g, w in zip(("resource", "drift", "output"), got, want):
                    for addr in sorted(set(g) | set(w)):
                        mark = "" if g.get(addr) == w.get(addr) else f"   <-- expected {w.get(addr)}"
                        print(f"       {label:8} {addr}: {json.dumps(g.get(addr))}{mark}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
