#!/bin/sh
# The compose `buckets` job: creates the hub's bucket and a MinIO user for the hub whose policy
# (hub-policy.json) reaches that bucket alone; the root credentials stay with MinIO. Idempotent.
set -eu
secret() { head -n 1 "/run/secrets/$1"; }
mc alias set hub "$MINIO_URL" "$(secret minio_root_user)" "$(secret minio_root_password)" >/dev/null
mc mb --ignore-existing "hub/$BUCKET"
sed "s/BUCKET/$BUCKET/g" /deploy/minio/hub-policy.json > /tmp/hub-policy.json
mc admin policy create hub pysetl-hub /tmp/hub-policy.json
mc admin user add hub "$(secret s3_access_key_id)" "$(secret s3_secret_access_key)"
mc admin policy attach hub pysetl-hub --user "$(secret s3_access_key_id)" 2>/dev/null || true
echo "buckets: $BUCKET ready for the hub's user"
