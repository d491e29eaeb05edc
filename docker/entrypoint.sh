#!/bin/sh
# The serve image's entrypoint. Before gunicorn starts (the image's CMD), bring the storage up to date:
#   1. the model           every version shipped in the image that $MODEL_DIR lacks, and the shipped
#                          ACTIVE if it has none (a volume shared with the `train` image keeps the rest)
#   2. migrate --noinput   SQLite tables for auth, sessions and the admin log, in $FASHIONSITE_DATA_DIR
#   3. sync_schema         the keyspace, tables and indexes in Cassandra, retried while the cluster comes up
#   4. createadmin         the first superuser from DJANGO_SUPERUSER_*, once
# then exec the command, so gunicorn is PID 1 and gets docker stop's SIGTERM.
# Any other command (`docker compose run web python manage.py shell`) runs as it is, with no setup.
set -eu

log() {
    printf 'entrypoint: %s\n' "$*" >&2
}

fail() {
    log "$*"
    exit 1
}

# Copied under a hidden name, then renamed, so that nothing ever loads half a version
# (mlmodel/artifacts.py publishes the same way and skips such names). Neither rename replaces what
# another replica, or a training run, put there first (mv -T fails on a full directory, ln on a file).
install_shipped_models() {
    shipped=/app/mlmodel/artifacts
    model_dir=${MODEL_DIR:-$shipped}
    if [ "$model_dir" = "$shipped" ]; then
        return 0
    fi
    mkdir -p "$model_dir" 2>/dev/null && [ -w "$model_dir" ] \
        || fail "$model_dir is not writable by uid $(id -u): give the model volume to that user."
    for version in "$shipped"/*/; do
        name=$(basename "$version")
        if [ ! -e "$model_dir/$name" ]; then
            log "installing the shipped model $name into $model_dir"
            staging="$model_dir/.staging-$name-$$"
            cp -R "$version" "$staging"
            mv -T "$staging" "$model_dir/$name" 2>/dev/null || rm -rf "$staging"
        fi
    done
    if [ ! -e "$model_dir/ACTIVE" ]; then
        cp "$shipped/ACTIVE" "$model_dir/.ACTIVE-$$"
        ln "$model_dir/.ACTIVE-$$" "$model_dir/ACTIVE" 2>/dev/null || true
        rm -f "$model_dir/.ACTIVE-$$"
    fi
}

prepare() {
    if [ -z "${CASSANDRA_HOSTS:-}" ]; then
        fail "CASSANDRA_HOSTS is not set: this image runs no Cassandra node; name your cluster's hosts."
    fi
    if [ -z "${DJANGO_SECRET_KEY:-}" ]; then
        fail "DJANGO_SECRET_KEY is not set: refusing to serve with the development key."
    fi
    data_dir=${FASHIONSITE_DATA_DIR:-/data}
    if [ ! -w "$data_dir" ]; then
        fail "$data_dir is not writable by uid $(id -u): give the volume to that user."
    fi

    install_shipped_models

    log "migrating SQLite in $data_dir"
    python manage.py migrate --noinput

    # compose starts this container once Cassandra is healthy, but a restart after a reboot does
    # not wait: retry for a while (CASSANDRA_SYNC_ATTEMPTS tries, 5 s apart) before giving up.
    attempts=${CASSANDRA_SYNC_ATTEMPTS:-24}
    attempt=1
    log "creating the Cassandra keyspace and tables on $CASSANDRA_HOSTS"
    until CQLENG_ALLOW_SCHEMA_MANAGEMENT=1 python manage.py sync_schema; do
        if [ "$attempt" -ge "$attempts" ]; then
            fail "sync_schema failed $attempt times; is Cassandra up at $CASSANDRA_HOSTS?"
        fi
        log "Cassandra not ready (try $attempt of $attempts); retrying in 5 s"
        attempt=$((attempt + 1))
        sleep 5
    done

    python manage.py createadmin
}

if [ "${1:-}" = "gunicorn" ]; then
    prepare
fi

exec "$@"
