#!/bin/sh
# Random secrets for docker-compose.yml and compose.dev.yml, written as one file each into a
# directory git ignores (deploy/secrets/generated/ by default). An existing file is kept, so
# running it again never changes a password a running database already holds. See README.md.
#
#   sh deploy/secrets/generate.sh [DIR]          the secrets
#   sh deploy/secrets/generate.sh --dev-cert [DIR]  also a self-signed cert for https://localhost
set -eu
dev_cert=0
if [ "${1:-}" = "--dev-cert" ]; then dev_cert=1; shift; fi
dir=${1:-$(dirname "$0")/generated}
umask 077
mkdir -p "$dir"
chmod 700 "$dir"

random() {  # 32 random bytes as 64 hex digits: safe in URLs, config files and shells
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
}

put() {  # put NAME VALUE: write once; the containers read it as their own user, so 0644
    # inside a 0700 directory (compose bind-mounts the file, not the directory)
    if [ ! -s "$dir/$1" ]; then
        printf '%s\n' "$2" > "$dir/$1"
        echo "generate.sh: wrote $dir/$1" >&2
    fi
    chmod 644 "$dir/$1"
}

value() { head -n 1 "$dir/$1"; }

put postgres_password "$(random)"
put database_url "postgresql+asyncpg://hub:$(value postgres_password)@db:5432/hub"
put redis_password "$(random)"
put redis_url "redis://:$(value redis_password)@redis:6379/0"
put redis_acl "user default on >$(value redis_password) ~* &* +@all"
put minio_root_user "hub-admin-$(random | cut -c1-12)"
put minio_root_password "$(random)"
put s3_access_key_id "hub-$(random | cut -c1-16)"
put s3_secret_access_key "$(random)"
put meili_master_key "$(random)"
put metrics_token "$(random)"
# The Ed25519 key that signs the change feed: 32 random bytes, base64 (one key for every replica).
put feed_signing_key "$(head -c 32 /dev/urandom | base64)"

if [ "$dev_cert" = 1 ] && [ ! -s "$dir/tls_cert" ]; then
    # A throwaway certificate for https://localhost, valid 30 days; never for a real host.
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$dir/tls_key" -out "$dir/tls_cert" 2>/dev/null
    chmod 644 "$dir/tls_cert" "$dir/tls_key"
    echo "generate.sh: wrote a self-signed $dir/tls_cert for localhost" >&2
fi
