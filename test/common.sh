# test/common.sh: what `make test` and `make demo` share, sourced by test/run
# and test/demo.
#
# - orion_install_deps: installs the Debian packages that are missing (and
#   only those), so a fresh Debian 12 needs nothing done by hand;
# - orion_install_node: Node.js and npm, when either command is missing;
# - orion_build_install: builds with -Wall -Wextra -Werror and installs;
# - orion_cluster_start / orion_cluster_stop: a private, throwaway cluster
#   in a directory of its own, run by an unprivileged user, listening on a
#   Unix socket in that directory only (no TCP port, so it can never collide
#   with, or be mistaken for, a system cluster);
# - as_pg: runs a command as that unprivileged user.
#
# Settings, from the environment:
#   PGVER            PostgreSQL major version (default: the Debian release's
#                    own, 15 on Debian 12, 17 on Debian 13, 18 on sid)
#   ORION_TEST_PORT  port number of the private cluster's socket (default 54329)
#   ORION_KEEP=1     keep the private cluster's directory after the run

set -Eeuo pipefail

# orion_debian_pgver: the PostgreSQL major version the running Debian
# release ships (its postgresql package's), which make test and make demo
# install and test against unless PGVER says otherwise.
orion_debian_pgver() {
    local codename=
    if [ -r /etc/os-release ]; then
        codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
    fi
    case $codename in
        bookworm) echo 15 ;;
        trixie) echo 17 ;;
        forky) echo 18 ;;   # sid, and testing after trixie
        *) echo 15 ;;
    esac
}
PGVER=${PGVER:-$(orion_debian_pgver)}
PGBIN=/usr/lib/postgresql/$PGVER/bin
PG_CONFIG=$PGBIN/pg_config
PGPORT_PRIVATE=${ORION_TEST_PORT:-54329}
ORION_CFLAGS="-DUSE_ASSERT_CHECKING -Wall -Wextra -Werror -Wno-unused-parameter"
# SANITIZE=1: orion built with AddressSanitizer and UndefinedBehaviorSanitizer
# (any finding ends the process), their runtime preloaded into every server
# (orion_sanitizer_setup); PostgreSQL itself is not instrumented.
if [ "${SANITIZE:-0}" = 1 ]; then
    ORION_CFLAGS+=" -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
fi
ORION_SANITIZER_ENV=()
export LC_ALL=C.UTF-8 LANG=C.UTF-8

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { printf 'orion: %s\n' "$*" >&2; exit 1; }

# Packages every run needs; callers add their own.
ORION_BASE_PACKAGES=(
    build-essential             # gcc, make: a fresh Debian has no compiler
    ca-certificates
    "postgresql-$PGVER"         # server, contrib modules (pgcrypto)
    "postgresql-server-dev-$PGVER"  # PGXS, pg_regress, pg_isolation_regress, TAP modules
    "postgresql-$PGVER-cron"    # pg_cron, preloaded by the private cluster
    libargon2-dev               # Argon2id password hashing
    libssl-dev                  # libcrypto: AES-256-GCM sealing of TOTP secrets
)

# orion_install_deps PACKAGE...: install what is missing, nothing else.
orion_install_deps() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "all required packages are present"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        die "missing packages: ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root"
    fi
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # (a mirror that does not answer at once is tried again)
    apt-get -o Acquire::Retries=3 update -qq
    apt-get -o Acquire::Retries=3 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# orion_install_node: the node and npm commands, which the bcrypt
# compatibility test (test/t/003_bcrypt_compat.pl) needs to install npm
# bcryptjs. Nothing is done when both exist, whatever installed them (a
# NodeSource nodejs bundles npm, and Debian's npm package conflicts with it);
# otherwise Debian's nodejs and npm.
orion_install_node() {
    if command -v node >/dev/null && command -v npm >/dev/null; then
        echo "node $(node --version) and npm $(npm --version) are present"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        die "node or npm is missing (test/t/003_bcrypt_compat.pl needs both); install them (apt-get install nodejs npm) or run as root"
    fi
    orion_install_deps nodejs npm
    command -v node >/dev/null && command -v npm >/dev/null \
        || die "node or npm is still missing after installing the Debian packages nodejs and npm"
}

# orion_build_install: a warning-free build, installed into PostgreSQL.
orion_build_install() {
    make -s clean PG_CONFIG="$PG_CONFIG"
    make -s PG_CONFIG="$PG_CONFIG" PG_CFLAGS="$ORION_CFLAGS"
    make -s install PG_CONFIG="$PG_CONFIG"
}

# The unprivileged user that runs the server. PostgreSQL refuses to run as
# root; the Debian packages create "postgres".
if [ "$(id -u)" -eq 0 ]; then
    PG_OS_USER=postgres
else
    PG_OS_USER=$(id -un)
fi

# as_pg CMD...: run CMD as the server's user, with this environment (and,
# with SANITIZE=1, the sanitizer runtime and its options).
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$PG_OS_USER" -- env PATH="$PGBIN:$PATH" LC_ALL=C.UTF-8 LANG=C.UTF-8 \
            ${ORION_SANITIZER_ENV[@]+"${ORION_SANITIZER_ENV[@]}"} "$@"
    else
        env PATH="$PGBIN:$PATH" ${ORION_SANITIZER_ENV[@]+"${ORION_SANITIZER_ENV[@]}"} "$@"
    fi
}

# orion_sanitizer_setup DIR: with SANITIZE=1, every process as_pg starts
# (servers, and the clients that start TAP tests' servers) preloads the
# sanitizer runtime, whose reports go to DIR/asan.PID and DIR/ubsan.PID.
# Leak detection is off: PostgreSQL frees memory by contexts, not at exit.
orion_sanitizer_setup() {
    [ "${SANITIZE:-0}" = 1 ] || return 0
    local runtime
    runtime=$(gcc -print-file-name=libasan.so)
    [ -e "$runtime" ] || die "SANITIZE=1: gcc has no AddressSanitizer runtime (libasan.so)"
    mkdir -p "$1"
    # see test/sanitizer/swift_demangle.c: without it every server hangs
    gcc -shared -fPIC -o "$1/libswift_demangle.so" test/sanitizer/swift_demangle.c
    chmod 755 "$1" "$1/libswift_demangle.so"
    if [ "$(id -u)" -eq 0 ]; then chown "$PG_OS_USER:" "$1"; fi
    ORION_SANITIZER_ENV=(
        LD_PRELOAD="$(readlink -f "$runtime"):$1/libswift_demangle.so"
        ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:verify_asan_link_order=0:log_path=$1/asan"
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$1/ubsan"
    )
}

# orion_sanitizer_reports DIR: print the sanitizers' reports; false if any.
orion_sanitizer_reports() {
    [ "${SANITIZE:-0}" = 1 ] || return 0
    local f found=0
    for f in "$1"/asan.* "$1"/ubsan.*; do
        [ -e "$f" ] || continue
        found=1
        echo "---- $f"
        cat "$f"
    done
    [ "$found" -eq 0 ]
}

# orion_workdir: a fresh directory the server's user owns. Sets WORK.
orion_workdir() {
    WORK=$(mktemp -d /tmp/orion.XXXXXX)
    chmod 755 "$WORK"
    if [ "$(id -u)" -eq 0 ]; then chown "$PG_OS_USER:" "$WORK"; fi
}

# orion_new_secret_key: 32 random bytes in hex, what orion.secret_key_file holds.
orion_new_secret_key() {
    od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
}

# orion_cluster_start: initdb and start a private cluster in $WORK/data,
# configured by test/orion.conf. Exports PGHOST, PGPORT, PGUSER for clients.
orion_cluster_start() {
    as_pg initdb -D "$WORK/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 \
        || { cat "$WORK/initdb.log"; die "initdb failed"; }
    cp test/orion.conf "$WORK/orion.conf"
    chmod 644 "$WORK/orion.conf"
    cat >>"$WORK/data/postgresql.conf" <<EOF
include '$WORK/orion.conf'
port = $PGPORT_PRIVATE
listen_addresses = ''
unix_socket_directories = '$WORK'
# a throwaway key of this cluster's own, for the TOTP secrets it seals
orion.secret_key_file = '$WORK/orion_secret.key'
EOF
    orion_new_secret_key >"$WORK/orion_secret.key"
    chmod 600 "$WORK/orion_secret.key"
    if [ "$(id -u)" -eq 0 ]; then chown "$PG_OS_USER:" "$WORK/orion_secret.key"; fi
    as_pg pg_ctl -D "$WORK/data" -l "$WORK/server.log" -w -t 60 start >/dev/null \
        || { cat "$WORK/server.log"; die "the private cluster did not start"; }
    CLUSTER_STARTED=1
    export PGHOST=$WORK PGPORT=$PGPORT_PRIVATE PGUSER=postgres
}

# orion_cluster_stop: stop the private cluster if it runs; remove $WORK.
orion_cluster_stop() {
    if [ "${CLUSTER_STARTED:-0}" = 1 ]; then
        as_pg pg_ctl -D "$WORK/data" -m fast -w -t 60 stop >/dev/null 2>&1 \
            || as_pg pg_ctl -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
        CLUSTER_STARTED=0
    fi
    if [ -n "${WORK:-}" ] && [ -d "$WORK" ]; then
        if [ "${ORION_KEEP:-0}" = 1 ]; then
            echo "kept $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
}

# Stop the cluster however the script ends: success, failure or Ctrl-C.
trap orion_cluster_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
