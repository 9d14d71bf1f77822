#!/usr/bin/env python3
"""Validate tollgate pipeline files against the JSON Schema.

Usage: python3 scripts/check-schema.py [--expect-invalid] SCHEMA FILE...

Prints 'FILE: ok' or 'FILE: PATH: MESSAGE' (the most relevant error) for each file.
Exit status: 0 if every file is valid (with --expect-invalid: if every file is invalid),
1 otherwise, 2 on a usage error (bad arguments, unreadable file, unusable schema).
The schema checks shape only; 'tollgate validate' also checks the cross-entry rules.
"""
import json
import sys

try:
    import yaml
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError, best_match
except ImportError as error:
    sys.exit(f"check-schema: {error}; install them with: python3 -m pip install jsonschema PyYAML")

USAGE = "usage: check-schema.py [--expect-invalid] SCHEMA FILE..."


def usage_error(message):
    print(f"check-schema: {message}", file=sys.stderr)
    sys.exit(2)


def json_path(parts):
    """['environments', 0, 'gate'] -> '$.environments[0].gate'."""
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts)


def check(validator, path):
    """None when the file is valid, else a one-line description of its most relevant error."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        usage_error(f"cannot read '{path}': {error.strerror}")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return f"$: YAML syntax error{where}: {getattr(error, 'problem', None) or error}"
    if document is None:
        return "$: the file is empty"
    error = best_match(validator.iter_errors(document))
    return None if error is None else f"{json_path(error.absolute_path)}: {describe(error)}"


def describe(error):
    """The error's message, made readable, and never showing a secret's value."""
    where = list(error.absolute_path)
    if where[2:3] == ["secrets"] and "propertyNames" not in error.schema_path:
        # Like tollgate itself, never echo what may be the very secret that should not be in the file.
        if len(where) == 4:
            return "not a secret reference: write env:NAME, file:PATH or cmd:COMMAND (the value is not shown)"
        return f"fails '{error.validator}' (the value is not shown)"
    if error.validator == "pattern" and "title" in error.schema:
        return f"{error.instance!r} is not a valid {error.schema['title']} (pattern {error.validator_value})"
    return error.message


def main(argv):
    args = argv[1:]
    if args and args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    expect_invalid = "--expect-invalid" in args
    args = [arg for arg in args if arg != "--expect-invalid"]
    unknown = [arg for arg in args if arg.startswith("-")]
    if unknown:
        usage_error(f"unknown option '{unknown[0]}'\n{USAGE}")
    if len(args) < 2:
        usage_error(f"need a schema and at least one file\n{USAGE}")
    schema_path, files = args[0], args[1:]
    try:
        with open(schema_path, encoding="utf-8") as handle:
            schema = json.load(handle)
        Draft202012Validator.check_schema(schema)
    except OSError as error:
        usage_error(f"cannot read schema '{schema_path}': {error.strerror}")
    except (ValueError, SchemaError) as error:
        usage_error(f"'{schema_path}' is not a usable JSON Schema: {getattr(error, 'message', error)}")
    validator = Draft202012Validator(schema)
    as_expected = True
    for path in files:
        problem = check(validator, path)
        print(f"{path}: {problem or 'ok'}")
        if (problem is None) == expect_invalid:
            as_expected = False
    return 0 if as_expected else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
