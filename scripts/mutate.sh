#!/bin/sh
# Mutation testing of the security-critical modules (the [tool.mutmut] list in pyproject.toml):
# each mutant is a deliberate break of a rule; the score is the share of mutants the tests kill.
# mutmut mutates a single `src/` tree, so the provenance, server and client packages are staged side by
# side under build/mutate/ with the tests, and mutmut runs there. An hour or more for all;
# mutant-name globs narrow it: sh scripts/mutate.sh "pysetl_hub_server.publishing.zipframe*"
# MUTATE_TESTS="tests/a.py tests/b.py" narrows the tests each mutant runs against (a quicker,
# stricter look: a survivor there may still be killed by the full selection).
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
stage="$root/build/mutate"
rm -rf "$stage"
mkdir -p "$stage/src"
cp -r "$root/provenance/src/pysetl_hub_provenance" "$root/server/src/pysetl_hub_server" \
    "$root/client/src/pysetl_hub" "$stage/src/"
cp -r "$root/tests" "$root/examples" "$root/pyproject.toml" "$stage/"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
if [ -n "${MUTATE_TESTS:-}" ]; then
    "$root/.venv/bin/python" - "$stage/pyproject.toml" $MUTATE_TESTS <<'PY'
import re, sys
path, tests = sys.argv[1], sys.argv[2:]
text = open(path).read()
listed = ", ".join(f'"{t}"' for t in tests)
text = re.sub(r"pytest_add_cli_args_test_selection = \[[^\]]*\]",
              f"pytest_add_cli_args_test_selection = [{listed}]", text)
open(path, "w").write(text)
PY
fi
cd "$stage"
"$root/.venv/bin/mutmut" run --max-children "${MUTATE_JOBS:-2}" "$@" || true
"$root/.venv/bin/mutmut" results --all true > "$stage/results.txt" || true
"$root/.venv/bin/python" "$root/scripts/mutate_score.py" "$stage"
