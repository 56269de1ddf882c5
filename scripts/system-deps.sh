#!/bin/sh
# System packages the tests (and, with "bench", the benchmarks) need. Idempotent:
# installs only what is missing. CI runs as root on Debian, so apt-get works.
set -e
need=""
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    need="$need postgresql"
fi
if ! command -v redis-server >/dev/null 2>&1; then
    need="$need redis-server"  # shared rate-limit counters (tests/support/redis.py)
fi
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    need="$need nginx"  # the load balancer of the multi-process topology (tests/topology)
fi
if ! command -v java >/dev/null 2>&1; then
    need="$need openjdk-17-jre-headless"  # Spark, for the newcomer end-to-end test
fi
if ! command -v chromium >/dev/null 2>&1; then
    # The browser tests (tests/server/web): Playwright drives Debian's Chromium, and the
    # Noto fonts give the Arabic pages real glyphs in the screenshots.
    need="$need chromium fonts-noto-core"
fi
if [ "${1:-}" = "bench" ] && ! command -v wrk >/dev/null 2>&1; then
    need="$need wrk"
fi
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: missing:$need (install them; tests that need them skip without them, and fail under CI=true)" >&2
    [ "${CI:-}" = "true" ] && exit 1
    exit 0
fi
echo "system-deps: installing$need" >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
