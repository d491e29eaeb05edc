#!/bin/sh
# Container entrypoint. Before gunicorn starts (the image's CMD), bring the storage up to date:
#   1. migrate --noinput   SQLite tables for auth, sessions and the admin log, in $FASHIONSITE_DATA_DIR
#   2. sync_schema         the keyspace, tables and indexes in Cassandra, retried while the cluster comes up
#   3. createadmin         the first superuser from DJANGO_SUPERUSER_*, once
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
