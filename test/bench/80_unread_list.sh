# test/bench/80_unread_list.sh: row "unread list".
#
# orion.list_notifications(user_id, unread_only => true), first page of 20,
# over N notifications (1,000,000; QUICK 100,000) of 10,000 users (QUICK
# 1,000): 100 each, a third of them read. The baseline is a copy of the
# notifications in `base.notifications` with only the seed's indexes (on
# user_id, on read, on created_at) and the seed's query. Per-call latency of
# pgbench -M prepared, 1 client, a random user per call, -T 10 (QUICK 3) each,
# p50 and p99 from pgbench's per-transaction log.

. "$(dirname "$0")/lib.sh"

N=$(scale 1000000 100000)
USERS=$(scale 10000 1000)
T=$(scale 10 3)

# thousands N: N with thousands separators.
thousands() { echo "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }

SECONDS=0
echo "unread list: setting up $N notifications of $USERS users" >&2
psql -X -q -v ON_ERROR_STOP=1 -v n="$N" -v users="$USERS" >&2 <<'SQL'
CREATE TABLE bench_users (n integer PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench_users SELECT i, gen_random_uuid() FROM generate_series(1, :users) AS i;
INSERT INTO orion_auth.users (id, email, password_hash)
SELECT id, 'user-' || n || '@example.com', '$argon2id$x' FROM bench_users;
-- notification k of a user: created k minutes ago, read when k % 3 = 0
INSERT INTO orion_notifications.notifications
       (user_id, type, channel, title, message, read, read_at, created_at, status)
SELECT u.id, 'info', 'in_app', 'Title ' || k, 'Message ' || k || ' for user ' || u.n,
       k % 3 = 0, CASE WHEN k % 3 = 0 THEN now() END,
       now() - k * interval '1 minute' - u.n * interval '1 ms', 'delivered'
  FROM bench_users u, generate_series(1, :n / :users) AS k;
-- the baseline: the seed's table and indexes only
CREATE SCHEMA base;
CREATE TABLE base.notifications (LIKE orion_notifications.notifications INCLUDING DEFAULTS);
ALTER TABLE base.notifications ADD PRIMARY KEY (id);
INSERT INTO base.notifications SELECT * FROM orion_notifications.notifications;
CREATE INDEX idx_base_notifications_user_id ON base.notifications (user_id);
CREATE INDEX idx_base_notifications_read ON base.notifications (read);
CREATE INDEX idx_base_notifications_created_at ON base.notifications (created_at);
VACUUM ANALYZE orion_notifications.notifications, base.notifications, bench_users, orion_auth.users;
SQL
echo "unread list: set up in $SECONDS s" >&2

# both give the same first page
same=$(psql_value "
SELECT bool_and(o = b) FROM bench_users u,
  LATERAL (SELECT array_agg(id ORDER BY created_at DESC, id DESC) AS o
             FROM orion.list_notifications(u.id, unread_only => true)) x,
  LATERAL (SELECT array_agg(id ORDER BY created_at DESC, id DESC) AS b
             FROM (SELECT * FROM base.notifications WHERE user_id = u.id AND read = false
                    ORDER BY created_at DESC LIMIT 20) s) y
 WHERE u.n <= 100 AND cardinality(o) = 20")
if [ "$same" != t ]; then
    echo "unread list: orion and the baseline gave different pages ($same)" >&2
    exit 1
fi

cat >"$BENCH_TMP/orion.sql" <<SQL
\\set n random(1, $USERS)
SELECT * FROM orion.list_notifications((SELECT id FROM bench_users WHERE n = :n), unread_only => true);
SQL
cat >"$BENCH_TMP/base.sql" <<SQL
\\set n random(1, $USERS)
SELECT * FROM base.notifications WHERE user_id = (SELECT id FROM bench_users WHERE n = :n) AND read = false ORDER BY created_at DESC LIMIT 20;
SQL

# latency NAME: run NAME.sql for T seconds, print "p50 p99" in ms.
latency() {
    rm -f "$BENCH_TMP/$1".[0-9]*
    (cd "$BENCH_TMP" && pgbench -n -M prepared -c 1 -T "$T" --log --log-prefix="$1" -f "$1.sql") \
        >"$BENCH_TMP/$1.out" 2>&1 || { cat "$BENCH_TMP/$1.out" >&2; return 1; }
    cat "$BENCH_TMP/$1".[0-9]* | awk '{ print $3 }' | sort -n |
        awk '{ a[NR] = $1 } END {
            p50 = a[int(NR * 0.50 + 0.5)]; p99 = a[int(NR * 0.99 + 0.5)];
            if (NR == 0) exit 1;
            printf "%.3f %.3f %d\n", p50 / 1000, p99 / 1000, NR }'
}

res=$(latency orion) || exit 1
read -r o50 o99 on <<<"$res"
res=$(latency base) || exit 1
read -r b50 b99 bn <<<"$res"
echo "unread list: orion p50 $o50 ms p99 $o99 ms ($on calls); baseline p50 $b50 ms p99 $b99 ms ($bn calls)" >&2

r=$(ratio "$o99" "$b99")
met=$(awk -v p="$o99" 'BEGIN { print (p < 1) ? "met" : "MISSED" }')
fmt=$(thousands "$N")
bench_row "unread list" "list_notifications(unread_only), first 20, $fmt notifications, p50 / p99 per call" \
    "$o50 / $o99 ms" "$b50 / $b99 ms" "${r}x (p99)" "p99 < 1 ms" "$met"
