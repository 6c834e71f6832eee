#!/usr/bin/env bash
# evnet_keys end to end, in a private directory: init (and init again: no
# change), key file modes, secrets never printed, list, revoke (init keeps a
# revocation; add-cp renews it), add-cp/add-driver, bad arguments (exit 2)
# and file/store errors (exit 1).
#
#   test_keys_tool.sh PATH/TO/evnet_keys
set -uo pipefail

tool="$(realpath "$1")"
work="$(mktemp -d "${TMPDIR:-/tmp}/evnet-keys-tool-XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
failures=0
out="$work/out.txt"
all_output="$work/all-output.txt"
: >"$all_output"

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# Runs the tool; keeps stdout+stderr in $out (and in $all_output); sets $rc.
run() {
  "$tool" "$@" >"$out" 2>&1
  rc=$?
  cat "$out" >>"$all_output"
}

expect_rc() {
  local want="$1"; shift
  run "$@"
  if [ "$rc" -ne "$want" ]; then
    fail "evnet_keys $* exited $rc, expected $want; output:"
    sed 's/^/    /' "$out" >&2
  fi
}

expect_out() {
  if ! grep -q -- "$1" "$out"; then
    fail "expected '$1' in the output of the last run; got:"
    sed 's/^/    /' "$out" >&2
  fi
}

mode_of() { stat -c '%a' "$1"; }

# The status of one identity in `list --json`.
status_of() {
  "$tool" list --json | grep "\"identity\":\"$1\"" | sed 's/.*"status":"\([^"]*\)".*/\1/'
}
key_of() {
  "$tool" list --json | grep "\"identity\":\"$1\"" | sed 's/.*"public_key":"\([^"]*\)".*/\1/'
}

mkdir config
cat >config/db.json <<'EOF'
{ "cps": [ { "id": "ALC1", "location": "C/ Italia 5, Alicante", "price": 0.35 },
           { "id": "MAD1", "location": "Gran Via 31, Madrid", "price": 0.45 } ],
  "drivers": [ { "id": "D1", "name": "Ana" } ] }
EOF

# ---- list before anything exists: no store ---------------------------------
expect_rc 1 list
expect_out "no store at var/central.db"
[ ! -e var/central.db ] || fail "list created a store"

# ---- init --------------------------------------------------------------------
expect_rc 0 init
expect_out "created the store var/central.db from config/db.json"
expect_out "central: made key pair var/keys/central"
expect_out "cp ALC1: made key pair var/keys/cp-ALC1"
expect_out "driver D1: made key pair var/keys/driver-D1"
for name in central cp-ALC1 cp-MAD1 driver-D1; do
  [ -f "var/keys/$name.pub" ] || fail "missing var/keys/$name.pub"
  [ "$(mode_of "var/keys/$name.key")" = 600 ] || fail "var/keys/$name.key has mode $(mode_of "var/keys/$name.key")"
  [ "$(wc -c <"var/keys/$name.pub")" -eq 41 ] || fail "var/keys/$name.pub is not 40 characters and a newline"
done
[ "$(mode_of var/keys)" = 700 ] || fail "var/keys has mode $(mode_of var/keys)"
[ "$(find var/keys -type f | wc -l)" -eq 8 ] || fail "expected 8 key files, found $(find var/keys -type f | wc -l)"

for id in cp:ALC1 cp:MAD1 driver:D1; do
  [ "$(status_of "$id")" = active ] || fail "$id is not active after init"
done
name_of() { case "$1" in cp:*) echo "cp-${1#cp:}" ;; driver:*) echo "driver-${1#driver:}" ;; esac; }
for id in cp:ALC1 driver:D1; do
  [ "$(key_of "$id")" = "$(cat "var/keys/$(name_of "$id").pub")" ] || fail "the store's key of $id is not the one on disk"
done

# ---- init again: nothing changes ---------------------------------------------
before="$(cat var/keys/* | md5sum) $("$tool" list --json | md5sum)"
expect_rc 0 init
expect_out "nothing to do"
[ "$(wc -l <"$out")" -eq 1 ] || fail "a second init printed more than its summary"
after="$(cat var/keys/* | md5sum) $("$tool" list --json | md5sum)"
[ "$before" = "$after" ] || fail "a second init changed keys or the store"

# ---- list ----------------------------------------------------------------------
expect_rc 0 list
[ "$(wc -l <"$out")" -eq 3 ] || fail "list: expected 3 lines"
expect_out "^cp     ALC1 .* active$"
expect_out "^driver D1 .* active$"
expect_rc 0 list --json
[ "$(grep -c '^{.*}$' "$out")" -eq 3 ] || fail "list --json: expected 3 JSON lines"

# ---- a pair on disk is the truth -------------------------------------------------
old_key="$(key_of cp:MAD1)"
rm var/keys/cp-MAD1.pub var/keys/cp-MAD1.key
expect_rc 0 init
expect_out "cp MAD1: made key pair"
[ "$(key_of cp:MAD1)" != "$old_key" ] || fail "init did not register MAD1's new pair"
[ "$(key_of cp:MAD1)" = "$(cat var/keys/cp-MAD1.pub)" ] || fail "MAD1's stored key is not the one on disk"

# Half a pair is never overwritten.
rm var/keys/cp-MAD1.pub
expect_rc 1 init
expect_out "cp-MAD1.pub"
[ -f var/keys/cp-MAD1.key ] || fail "init removed a lone secret key"

expect_rc 1 add-cp MAD1
rm var/keys/cp-MAD1.key
expect_rc 0 init
expect_out "cp MAD1: made key pair"

# A secret open to others is refused, with the fix.
chmod 644 var/keys/cp-ALC1.key
expect_rc 1 init
expect_out "chmod 600"
chmod 600 var/keys/cp-ALC1.key
expect_rc 0 init

# ---- revoke ----------------------------------------------------------------------
alc1_key="$(key_of cp:ALC1)"
expect_rc 0 revoke ALC1
expect_out "cp ALC1: key revoked"
[ "$(status_of cp:ALC1)" = revoked ] || fail "ALC1 not revoked"
expect_rc 0 revoke D1
expect_out "driver D1: key revoked"
expect_rc 1 revoke NOPE
expect_out "no key is registered for NOPE"
# init never undoes a revocation, even when the key files are gone.
expect_rc 0 init
expect_out "cp ALC1: key revoked; left as it is"
rm var/keys/driver-D1.pub var/keys/driver-D1.key
expect_rc 0 init
[ "$(status_of cp:ALC1)" = revoked ] || fail "init re-activated ALC1"
[ "$(status_of driver:D1)" = revoked ] || fail "init re-activated D1"
# add-cp gives a revoked CP a new pair.
expect_rc 0 add-cp ALC1
expect_out "replaces the revoked key"
[ "$(status_of cp:ALC1)" = active ] || fail "add-cp did not renew ALC1"
[ "$(key_of cp:ALC1)" != "$alc1_key" ] || fail "add-cp renewed ALC1 with its revoked key"
[ "$(key_of cp:ALC1)" = "$(cat var/keys/cp-ALC1.pub)" ] || fail "ALC1's stored key is not the one on disk"
expect_rc 0 add-driver D1
[ "$(status_of driver:D1)" = active ] || fail "add-driver did not renew D1"

# ---- add-cp / add-driver -----------------------------------------------------------
expect_rc 2 add-cp NEW1
expect_out "give its PRICE and LOCATION"
expect_rc 2 add-cp NEW1 abc Somewhere
expect_rc 2 add-cp NEW1 0
expect_rc 2 add-cp NEW1 0.4
expect_rc 0 add-cp NEW1 0.40 Plaza Mayor 1, Madrid
expect_out "cp NEW1: registered (0.40 EUR/kWh, Plaza Mayor 1, Madrid)"
expect_out "cp NEW1: made key pair"
[ "$(status_of cp:NEW1)" = active ] || fail "NEW1 has no active key"
expect_rc 0 add-cp NEW1
expect_out "already registered"
expect_rc 0 add-driver D9 Eva Ruiz
expect_out "driver D9: registered (Eva Ruiz)"
[ "$(status_of driver:D9)" = active ] || fail "D9 has no active key"

# Other directories and files.
expect_rc 0 init --keys other/keys --db other/c.db --config config/db.json
{ [ -f other/keys/cp-ALC1.key ] && [ -f other/c.db ]; } || fail "--keys/--db were not used"
expect_rc 0 list --db=other/c.db
expect_rc 1 init --config missing.json

# ---- bad arguments -----------------------------------------------------------------
expect_rc 2
expect_rc 2 frob
expect_rc 2 add-cp 'bad id' 0.4 x
expect_out "invalid CP id"
expect_rc 2 add-driver 'x/y'
expect_rc 2 revoke
expect_rc 2 revoke A B
expect_rc 2 init extra
expect_rc 2 init --json
expect_rc 2 list --nope x
expect_rc 2 list --keys
expect_rc 0 --help
expect_out "usage: evnet_keys"

# ---- OCPP passwords: from the config at init, or on stdin; only hashes stored ---------
cat >config/ocpp.json <<'EOF2'
{ "cps": [ { "id": "OC1", "location": "Parking 1", "price": 0.30, "ocpp_password": "oc1-secret-password" },
           { "id": "OC2", "location": "Parking 2", "price": 0.30, "ocpp_password": "short" } ],
  "drivers": [] }
EOF2
expect_rc 1 init --config config/ocpp.json --db ocpp/central.db --keys ocpp/keys
expect_out "ocpp_password of CP OC2"
expect_out "16 to 40"
sed -i 's/"short"/"oc2-secret-password"/' config/ocpp.json
expect_rc 0 init --config config/ocpp.json --db ocpp/central.db --keys ocpp/keys
expect_out "cp OC2: OCPP password registered"
# OC1's was registered by the first run; a second init changes nothing.
expect_rc 0 init --config config/ocpp.json --db ocpp/central.db --keys ocpp/keys
if grep -q "OCPP password registered" "$out"; then
  fail "init registered an OCPP password twice"
fi
hashes="$(sqlite3 ocpp/central.db 'SELECT cp_id, hash FROM ocpp_passwords ORDER BY cp_id' 2>/dev/null || true)"
if command -v sqlite3 >/dev/null; then
  echo "$hashes" | grep -q '^OC1|\$argon2id\$' || fail "no Argon2id hash stored for OC1: $hashes"
  echo "$hashes" | grep -q '^OC2|\$argon2id\$' || fail "no Argon2id hash stored for OC2: $hashes"
fi
if grep -qaF "secret-password" ocpp/central.db ocpp/central.db-wal 2>/dev/null; then
  fail "a password reached the store in clear"
fi
run ocpp-password OC1 --db ocpp/central.db --keys ocpp/keys <<<"a-new-password-for-oc1"
[ "$rc" -eq 0 ] || fail "ocpp-password OC1 exited $rc: $(cat "$out")"
expect_out "cp OC1: OCPP password registered"
run ocpp-password OC1 --db ocpp/central.db <<<"too short"
[ "$rc" -eq 1 ] || fail "a short password: exit $rc, expected 1"
expect_out "16 to 40"
run ocpp-password NOPE1 --db ocpp/central.db <<<"a-long-enough-password"
[ "$rc" -eq 1 ] || fail "an unknown CP: exit $rc, expected 1"
expect_out "not registered"
run ocpp-password OC1 --db ocpp/central.db </dev/null
[ "$rc" -eq 1 ] || fail "no password on stdin: exit $rc, expected 1"
expect_rc 2 ocpp-password
expect_rc 2 ocpp-password 'bad id'
if grep -qF -- "a-new-password-for-oc1" "$all_output"; then
  fail "a password was printed"
fi

# ---- no secret key ever reached the output -------------------------------------------
for f in var/keys/*.key other/keys/*.key; do
  secret="$(cat "$f")"
  if grep -qF -- "$secret" "$all_output"; then
    fail "the secret key of $f was printed"
  fi
done

if [ "$failures" -gt 0 ]; then
  echo "$failures failures" >&2
  exit 1
fi
echo "evnet_keys: all checks passed"
