#!/usr/bin/env bash
# Mutation testing of the core modules against their own test files (not part of .ci/run).
#
#   bench/mutation.sh                    # every core module, with the table below
#   bench/mutation.sh _tree tests/test_wire.py ...   # one module, these test files
#
# Each module runs in its own scratch copy of the repository (mutmut writes mutants/ next to
# the code), with mutmut from the active environment (pip install mutmut). It prints, per
# module, the mutants killed, survived and the score; `mutmut results` in the scratch copy
# (its path is printed) lists the survivors, and `mutmut show NAME` shows one.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-dev}"

# module -> its own test files (space-separated)
declare -A TESTS=(
  [_grammar]="tests/test_grammar.py tests/test_wire.py tests/test_pairs.py"
  [_pairs]="tests/test_wire.py tests/test_pairs.py"
  [_tree]="tests/test_tree.py tests/test_wire.py"
  [_fast]="tests/test_decode.py tests/test_wire.py"
  [_decode]="tests/test_decode.py tests/test_request.py"
  [_rules]="tests/test_rules.py tests/test_request.py tests/test_model.py"
  [_model]="tests/test_model.py tests/test_rules.py tests/test_request.py"
  [_encode]="tests/test_rules.py tests/test_model.py tests/test_request.py"
  [_errors]="tests/test_errors.py tests/test_spec.py"
  [_json]="tests/test_json.py tests/test_server.py"
  [_signing]="tests/test_signing.py"
  [_tc3]="tests/test_tc3.py tests/test_server.py"
  [_nonces]="tests/test_signing.py"
  [_query]="tests/test_query.py tests/test_server.py"
)

run_one() {
  local module="$1"; shift
  local scratch; scratch="$(mktemp -d "${TMPDIR:-/tmp}/mutation-${module}-XXXX")"
  (cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$scratch" 2>/dev/null || true)
  local args=""
  for t in "$@"; do [ -e "$scratch/$t" ] && args+="    $t"$'\n'; done
  cat > "$scratch/setup.cfg" <<CFG
[mutmut]
source_paths = describe_images
only_mutate = describe_images/${module}.py
pytest_add_cli_args_test_selection =
${args}also_copy =
    spec
    bench
pytest_add_cli_args = -p no:cacheprovider -q
CFG
  (cd "$scratch" && mutmut run >"$scratch/mutmut-run.log" 2>&1 || true)
  local results; results="$(cd "$scratch" && mutmut results --all true 2>/dev/null || true)"
  # mutmut 3 sometimes ends its first run early (seen on _json and _tc3: after about 40 s,
  # every mutant still unchecked); a second run in the same copy picks up where it stopped.
  if ! grep -q ': killed$\|: survived$' <<<"$results"; then
    (cd "$scratch" && mutmut run >>"$scratch/mutmut-run.log" 2>&1 || true)
    results="$(cd "$scratch" && mutmut results --all true 2>/dev/null || true)"
  fi
  local killed survived other
  killed=$(grep -c ': killed$' <<<"$results" || true)
  survived=$(grep -c ': survived$' <<<"$results" || true)
  other=$(grep -vc ': killed$\|: survived$' <<<"$results" || true)
  local total=$((killed + survived))
  local score="n/a"
  [ "$total" -gt 0 ] && score=$(python3 -c "print(f'{100*$killed/$total:.1f}%')")
  printf '%-10s killed %5d  survived %4d  other %3d  score %s   (%s)\n' \
    "$module" "$killed" "$survived" "$other" "$score" "$scratch"
}

if [ $# -ge 1 ]; then
  m="$1"; shift
  if [ $# -eq 0 ]; then read -r -a files <<<"${TESTS[$m]}"; set -- "${files[@]}"; fi
  run_one "$m" "$@"
else
  for m in _grammar _pairs _tree _fast _decode _rules _model _encode _errors _json _signing _tc3 _nonces _query; do
    [ -e "$root/describe_images/$m.py" ] || continue
    read -r -a files <<<"${TESTS[$m]}"
    run_one "$m" "${files[@]}"
  done
fi
