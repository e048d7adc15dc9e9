#!/usr/bin/env bash
# test/bench/40_password_hashing.sh: row "password hashing".
#
# orion.hash_password and orion.verify_password at the Argon2id defaults
# (reported, in ms per call), and bcrypt verification at costs 10 and 12:
# orion.verify_password(pw, hash) against pgcrypto's crypt(pw, hash) = hash,
# for a $2a$ hash made by pgcrypto. One call per timed statement, median of 5
# calls (QUICK: 3), orion and pgcrypto alternating.

. "$(dirname "$0")/lib.sh"

runs=$(scale 5 3)
pw='correct horse battery staple'

echo "password hashing: $runs calls each" >&2

fmt_ms() { awk -v ms="$1" 'BEGIN { printf "%.1f ms/call", ms }'; }

# Argon2id at the defaults (this session's settings are the server's).
params=$(psql_value "SELECT string_agg(format('%s=%s', v.k, s.setting), ',' ORDER BY v.n)
                      FROM (VALUES (1, 'm', 'orion.argon2_memory_kib'), (2, 't', 'orion.argon2_iterations'),
                                   (3, 'p', 'orion.argon2_parallelism')) AS v(n, k, name)
                      JOIN pg_settings s USING (name)")
argon=$(psql_value "SELECT orion.hash_password('$pw')")
[ "$(psql_value "SELECT orion.verify_password('$pw', '$argon')")" = t ] || {
    echo "password hashing: an Argon2id hash did not verify" >&2
    exit 1
}
t_hash=() t_verify=()
for ((i = 1; i <= runs; i++)); do
    t_hash+=("$(sql_ms "SELECT orion.hash_password('$pw')")")
    t_verify+=("$(sql_ms "SELECT orion.verify_password('$pw', '$argon')")")
done
echo "Argon2id ($params): hash ${t_hash[*]} ms, verify ${t_verify[*]} ms" >&2
m_hash=$(median "${t_hash[@]}")
m_verify=$(median "${t_verify[@]}")
bench_row "password hashing" \
    "orion.hash_password, Argon2id defaults ($params), median of $runs calls" \
    "$(fmt_ms "$m_hash")" "—" "—" "reported" "reported"
bench_row "password hashing" \
    "orion.verify_password of an Argon2id hash at the defaults, median of $runs calls" \
    "$(fmt_ms "$m_verify")" "—" "—" "reported" "reported"

for cost in 10 12; do
    bf=$(psql_value "SELECT crypt('$pw', gen_salt('bf', $cost))")
    case $bf in '$2a$'*) ;; *) echo "password hashing: pgcrypto made $bf" >&2; exit 1 ;; esac
    [ "$(psql_value "SELECT orion.verify_password('$pw', '$bf') AND crypt('$pw', '$bf') = '$bf'")" = t ] || {
        echo "password hashing: the bcrypt hash did not verify with both" >&2
        exit 1
    }
    t_orion=() t_pg=()
    for ((i = 1; i <= runs; i++)); do
        if ((i % 2)); then
            t_orion+=("$(sql_ms "SELECT orion.verify_password('$pw', '$bf')")")
            t_pg+=("$(sql_ms "SELECT crypt('$pw', '$bf') = '$bf'")")
        else
            t_pg+=("$(sql_ms "SELECT crypt('$pw', '$bf') = '$bf'")")
            t_orion+=("$(sql_ms "SELECT orion.verify_password('$pw', '$bf')")")
        fi
    done
    echo "bcrypt cost $cost: orion ${t_orion[*]} ms, pgcrypto ${t_pg[*]} ms" >&2
    m_orion=$(median "${t_orion[@]}")
    m_pg=$(median "${t_pg[@]}")
    r=$(ratio "$m_orion" "$m_pg")
    bench_row "password hashing" \
        "bcrypt verification at cost $cost (\$2a\$ hash by pgcrypto): orion.verify_password vs pgcrypto crypt(pw, hash) = hash, median of $runs calls" \
        "$(fmt_ms "$m_orion")" "$(fmt_ms "$m_pg")" "${r}x" "<= 1.05x" \
        "$(verdict "$r" '<=' 1.05)"
done
