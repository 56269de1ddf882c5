#!/bin/sh
# The compose `buckets` job: creates the hub's bucket and a MinIO user for the hub whose policy
# (hub-policy.json, which names the same bucket) reaches that bucket alone; the administrator's
# credentials stay with MinIO. Idempotent: a second run changes nothing.
set -eu
secret() { cat "/run/secrets/$1"; }  # $(...) drops the trailing newline
mc alias set hub "$MINIO_URL" "$(secret minio_root_user)" "$(secret minio_root_password)" >/dev/null
mc mb --ignore-existing "hub/$BUCKET"
mc admin policy create hub pysetl-hub /deploy/minio/hub-policy.json
mc admin user add hub "$(secret s3_access_key_id)" "$(secret s3_secret_access_key)"
# Attaching a policy the user already has is an error to mc; anything else is reported.
if ! out=$(mc admin policy attach hub pysetl-hub --user "$(secret s3_access_key_id)" 2>&1); then
    case "$out" in
        *already*) ;;
        *) echo "$out" >&2; exit 1 ;;
    esac
fi
echo "buckets: $BUCKET ready for the hub's user"
