# shellcheck shell=bash
# A throwaway PostgreSQL server for the tests, used by .ci/run.
#
# Source this file, then:
#
#   pg_ensure_installed   install PostgreSQL from Debian packages if it is missing
#   pg_start              start a server on 127.0.0.1 and export PGHOST, PGPORT, PGUSER
#   pg_stop               stop it and remove its files (safe to call twice)
#
# The server lives in a fresh directory under /tmp, trusts every local
# connection (superuser "postgres", no password), listens on 127.0.0.1 only,
# and trades durability for speed (fsync=off).  It never touches a cluster
# that the Debian package may have created and started: when that one holds
# port 5432, the next free port is used.

PG_BINDIR="${PG_BINDIR:-/usr/lib/postgresql/15/bin}"
PG_FIRST_PORT="${PG_FIRST_PORT:-5432}"
PG_LAST_PORT="${PG_LAST_PORT:-5499}"
PG_START_TIMEOUT="${PG_START_TIMEOUT:-60}"
PG_TMPDIR=""

_pg_log() { printf '%s\n' "$*" >&2; }

# Run a command as the owner of the server files: the server refuses to run as root.
_pg_as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        # Run from / so that the postgres user can always read the working directory.
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Print the newest installed server's bin directory (PG_BINDIR if it has one).
_pg_find_bindir() {
    if [[ -x "$PG_BINDIR/postgres" ]]; then
        printf '%s\n' "$PG_BINDIR"
        return 0
    fi
    local dir
    dir=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' \
        2>/dev/null | sort -V | tail -n 1)
    [[ -n "$dir" ]] || return 1
    dirname "$dir"
}

# Install PostgreSQL from Debian's repositories unless a server is already installed.
pg_ensure_installed() {
    if [[ -x "$PG_BINDIR/postgres" ]]; then
        return 0
    fi
    if [[ $(id -u) -ne 0 ]]; then
        _pg_log "ERROR: $PG_BINDIR/postgres is missing and only root can install it" \
            "(apt-get install postgresql)."
        return 1
    fi
    _pg_log "Installing PostgreSQL from Debian packages..."
    # The package may create and start its own cluster on port 5432; pg_start
    # ignores it and takes another port if that one is busy.
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        postgresql >/dev/null
    PG_BINDIR=$(_pg_find_bindir) || {
        _pg_log "ERROR: apt-get installed postgresql but no server binary was found" \
            "under /usr/lib/postgresql/*/bin."
        return 1
    }
}

# Succeed if nothing listens on 127.0.0.1:$1.
_pg_port_is_free() {
    python3 - "$1" <<'EOF'
import socket
import sys

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
EOF
}

# Start a server on a free port from PG_FIRST_PORT upwards and export the libpq variables.
pg_start() {
    local bindir data log locale_opt port
    bindir=$(_pg_find_bindir) || {
        _pg_log "ERROR: no PostgreSQL server found (call pg_ensure_installed first)."
        return 1
    }
    # A short path: the unix socket path must fit in 107 bytes.
    PG_TMPDIR=$(mktemp -d /tmp/lino-migrate-pg.XXXXXX)
    data="$PG_TMPDIR/data"
    log="$PG_TMPDIR/server.log"
    mkdir "$data" "$PG_TMPDIR/socket"
    if [[ $(id -u) -eq 0 ]]; then
        chown -R postgres:postgres "$PG_TMPDIR"
    fi

    if locale -a 2>/dev/null | grep -qixE 'c\.utf-?8'; then
        locale_opt="--locale=C.UTF-8"
    else
        locale_opt="--no-locale"
    fi
    if ! _pg_as_owner "$bindir/initdb" -D "$data" -A trust -U postgres \
        --encoding=UTF8 "$locale_opt" >"$PG_TMPDIR/initdb.log" 2>&1; then
        _pg_log "ERROR: initdb failed:"
        cat "$PG_TMPDIR/initdb.log" >&2
        return 1
    fi
    cat >>"$data/postgresql.conf" <<EOF

# Added by .ci/postgres.sh: a local, disposable test server.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_TMPDIR/socket'
fsync = off
full_page_writes = off
synchronous_commit = off
EOF

    for ((port = PG_FIRST_PORT; port <= PG_LAST_PORT; port++)); do
        _pg_port_is_free "$port" || continue
        # -w waits until the server accepts connections, or reports that it died.
        if _pg_as_owner "$bindir/pg_ctl" start -D "$data" -l "$log" -o "-p $port" \
            -w -t "$PG_START_TIMEOUT" >"$PG_TMPDIR/pg_ctl.out" 2>&1; then
            break
        fi
        # Another process may have taken the port since the check: try the next one.
        if grep -q 'could not create any TCP/IP sockets' "$log" 2>/dev/null; then
            _pg_log "Port $port was taken meanwhile, trying the next one."
            : >"$log"
            continue
        fi
        _pg_log "ERROR: the PostgreSQL server did not start on 127.0.0.1:$port."
        cat "$PG_TMPDIR/pg_ctl.out" >&2
        _pg_log "Server log ($log):"
        cat "$log" >&2
        return 1
    done
    if ((port > PG_LAST_PORT)); then
        _pg_log "ERROR: no free port between $PG_FIRST_PORT and $PG_LAST_PORT on 127.0.0.1."
        return 1
    fi

    local waited=0
    until "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -t 1; do
        if ((waited >= PG_START_TIMEOUT)); then
            _pg_log "ERROR: PostgreSQL on 127.0.0.1:$port is not ready after" \
                "${PG_START_TIMEOUT}s. Server log ($log):"
            cat "$log" >&2
            return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done

    export PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres
    PATH="$bindir:$PATH"
    export PATH
    _pg_log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') is ready" \
        "on 127.0.0.1:$port (data in $data)."
}

# Stop the server started by pg_start and remove its directory.
pg_stop() {
    [[ -n "$PG_TMPDIR" ]] || return 0
    local bindir
    if [[ -f "$PG_TMPDIR/data/postmaster.pid" ]] && bindir=$(_pg_find_bindir); then
        _pg_as_owner "$bindir/pg_ctl" stop -D "$PG_TMPDIR/data" -m fast -w -t 30 \
            >/dev/null 2>&1 ||
            _pg_as_owner "$bindir/pg_ctl" stop -D "$PG_TMPDIR/data" -m immediate \
                >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_TMPDIR"
    PG_TMPDIR=""
}
