#!/bin/sh
# Migrate first, then roll the replicas: what a Helm or Argo CD hook would do, for plain
# kustomize (docs/operations/deploy.md). Usage: sh deploy/kubernetes/rollout.sh OVERLAY_DIR
#   1. the finished Job of the previous release is deleted (a Job's template is immutable);
#   2. everything but the server (namespace, config, secrets, the Job, ...) is applied;
#   3. the Job (`pysetl-hub-server db upgrade`) must complete; on failure nothing rolls;
#   4. the whole overlay is applied: the Deployment rolls one pod at a time (maxUnavailable 0),
#      old pods keep serving on the expanded schema until their turn.
set -eu
overlay=${1:?usage: rollout.sh deploy/kubernetes/overlays/NAME}
ns=$(kubectl kustomize "$overlay" | sed -n 's/^  namespace: //p' | head -n 1)
kubectl -n "$ns" delete job pysetl-hub-migrate --ignore-not-found
kubectl apply -k "$overlay" -l 'app.kubernetes.io/component!=server'
if ! kubectl -n "$ns" wait --for=condition=complete --timeout=15m job/pysetl-hub-migrate; then
    kubectl -n "$ns" logs job/pysetl-hub-migrate --tail=50 >&2 || true
    echo "rollout.sh: the migration failed; the running release is untouched" >&2
    exit 1
fi
kubectl apply -k "$overlay"
kubectl -n "$ns" rollout status deployment/pysetl-hub --timeout=15m
