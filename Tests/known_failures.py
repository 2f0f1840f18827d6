"""Reads Tests/known-failures: the strict checks the product does not pass yet, per suite.
A suite still runs those checks as strictly as any other; it reports a listed check that
failed as a known failure instead of counting it (see the list's header)."""
import os

LIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "known-failures")


def load(suite, path=LIST):
    """{check: "#issue what fails"} for one suite. A malformed line is an error naming the
    line, never ignored: a typo must not turn a known failure into a counted one unseen,
    nor the other way round."""
    known = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split(None, 3)
            if len(fields) < 4 or not fields[2].startswith("#") or "/" not in fields[0]:
                raise ValueError("%s:%d: expected 'SUITE CHECK #ISSUE what fails', got %r" % (path, number, line))
            if fields[0] == suite:
                known[fields[1]] = "%s %s" % (fields[2], fields[3])
    return known


def settle(results, suite, path=LIST):
    """Splits (name, ok, description, detail) results into counted failures and known
    ones, prints a line for each known check, and returns (passed, failed, known_failed)."""
    known = load(suite, path)
    passed = failed = known_failed = 0
    for name, ok, _, detail in results:
        if ok:
            passed += 1
            if name in known:
                print("KNOWN FAIL PASSED - %s %s: listed in Tests/known-failures (%s) but passed this run" % (suite, name, known[name]), flush=True)
        elif name in known:
            known_failed += 1
            print("KNOWN FAIL - %s %s (%s), not counted: %s" % (suite, name, known[name], detail), flush=True)
        else:
            failed += 1
    return passed, failed, known_failed
