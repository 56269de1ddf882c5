#!/bin/sh
# Mutation testing of the security-critical modules (the [tool.mutmut] list in pyproject.toml):
# each mutant is a deliberate break of a rule; the score is the share of mutants the tests kill.
# mutmut mutates a single `src/` tree, so the provenance, server and client packages are staged side by
# side under build/mutate/ with the tests, and mutmut runs there. An hour or more for all;
# mutant-name globs narrow it: sh scripts/mutate.sh "pysetl_hub_server.publishing.zipframe*"
# MUTATE_TESTS (test paths, space-separated) replaces the [tool.mutmut] test selection, so one module
# is judged by its own tests in minutes rather than by every live-server test that happens to call it:
# MUTATE_TESTS=tests/provenance sh scripts/mutate.sh "pysetl_hub_provenance.*"
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
stage="${MUTATE_STAGE:-$root/build/mutate}"  # another directory lets two runs go side by side
rm -rf "$stage"
mkdir -p "$stage/src"
cp -r "$root/provenance/src/pysetl_hub_provenance" "$root/server/src/pysetl_hub_server" \
    "$root/client/src/pysetl_hub" "$stage/src/"
cp -r "$root/tests" "$root/examples" "$root/pyproject.toml" "$stage/"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
if [ -n "${MUTATE_TESTS:-}" ]; then
    # shellcheck disable=SC2086 # one argument per test path
    "$root/.venv/bin/python" "$root/scripts/mutate_tests.py" "$stage/pyproject.toml" $MUTATE_TESTS
fi
cd "$stage"
"$root/.venv/bin/mutmut" run --max-children "${MUTATE_JOBS:-2}" "$@" || true
"$root/.venv/bin/mutmut" results --all true > "$stage/results.txt" || true
"$root/.venv/bin/python" "$root/scripts/mutate_score.py" "$stage"
