#!/usr/bin/env bash
# `tools/evnet up --role ...` on three hosts: network namespaces joined by
# veth pairs to a bridge (as in test_hosts.cpp), each host with its own var
# directory, as if on its own machine:
#   A (10.77.0.1): up --role central, which makes every key;
#   B (10.77.0.2): up --role cps for ALC1 and ALC2, first without keys (it
#     must say which are missing and how to get them), then with what
#     `tools/evnet keys export --role cps` packed on A;
#   C (10.77.0.3): up --role drivers, D1 and D2 each running a file.
# Each charge ends in a ticket with exact figures; SIGTERM to each `up`
# stops every program it started.
#
#   test_hosts_roles.sh BUILD_ROOT SOURCE_ROOT
#
# Exit 0 passed, 1 failed, 77 skipped (not root, or no network namespaces).
set -uo pipefail

build="$(cd "${1:?build root}" && pwd)"
source_root="$(cd "${2:?source root}" && pwd)"
evnet="$source_root/tools/evnet"

skip() {
  echo "SKIP: $*"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces (ip netns add)"
command -v ip >/dev/null 2>&1 || skip "the ip command (iproute2) is missing: apt-get install iproute2"

tag="evnet-roles-$$-$RANDOM"
work="$(mktemp -d "${TMPDIR:-/tmp}/evnet-roles.XXXXXX")"
namespaces=()
ups=()  # pids of the `tools/evnet up` processes this test started
failed=0

fail() {
  failed=1
  echo "FAIL: $*"
  exit 1
}

# Pids of the processes whose command line names this test's directory
# (every program an `up` started: their keys, stores and logs are there).
ours() {
  local f
  for f in /proc/[0-9]*/cmdline; do
    grep -qaF -- "$work/" "$f" 2>/dev/null && { f="${f#/proc/}"; echo "${f%/cmdline}"; }
  done
  return 0
}

cleanup() {
  local p
  for p in "${ups[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for _ in $(seq 1 150); do
    local alive=0
    for p in "${ups[@]}"; do
      kill -0 "$p" 2>/dev/null && alive=1
    done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for p in "${ups[@]}"; do
    kill -KILL "$p" 2>/dev/null || true
  done
  # Whatever of ours is left (only if an `up` failed to stop its programs).
  for p in $(ours); do
    kill -KILL "$p" 2>/dev/null || true
  done
  local ns
  for ns in "${namespaces[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
  done
  if [ "$failed" -ne 0 ]; then
    local f
    for f in "$work"/*.out "$work"/*/var/*.log; do
      [ -s "$f" ] || continue
      echo "---- ${f#"$work"/} (last 25 lines)"
      tail -n 25 "$f" | cut -c1-300
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s, at most SECONDS.
wait_for() {
  local seconds="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  while [ "$SECONDS" -le "$deadline" ]; do
    "$@" && return 0
    sleep 0.1
  done
  echo "timed out after ${seconds}s waiting for: $what"
  return 1
}
has() { grep -Eq -- "$2" "$1" 2>/dev/null; }

# ---- the hosts --------------------------------------------------------------------------
# Namespaces of earlier runs whose test is gone (killed before its cleanup).
for ns in $(ip netns list 2>/dev/null | grep -o '^evnet-roles-[0-9]*-[0-9]*-[a-z]*'); do
  pid="${ns#evnet-roles-}"
  pid="${pid%%-*}"
  [ -d "/proc/$pid" ] || ip netns del "$ns" 2>/dev/null || true
done
if ! ip netns add "$tag-bridge" 2>"$work/netns.err"; then
  skip "ip netns add failed (no network namespaces here): $(cat "$work/netns.err")"
fi
namespaces+=("$tag-bridge")
ip -n "$tag-bridge" link add br0 type bridge || skip "cannot create a bridge in a namespace"
ip -n "$tag-bridge" link set dev br0 up
i=1
for host in central cps drivers; do
  ns="$tag-$host"
  ip netns add "$ns" || fail "ip netns add $ns"
  namespaces+=("$ns")
  ip -n "$ns" link set dev lo up
  ip link add eth0 netns "$ns" type veth peer name "$host" netns "$tag-bridge" || fail "veth for $host"
  ip -n "$tag-bridge" link set dev "$host" master br0 up
  ip -n "$ns" addr add "10.77.0.$i/24" dev eth0
  ip -n "$ns" link set dev eth0 up
  i=$((i + 1))
done

export EVNET_BUILD_DIR="$build" EVNET_NO_BUILD=1
unset EVNET_TMUX_SOCKET EVNET_TMUX_SESSION EVNET_INSECURE
pdeath=()
command -v setpriv >/dev/null 2>&1 && pdeath=(setpriv --pdeathsig KILL)

# up HOST NAME ARGS...: `tools/evnet up ARGS --plain` inside HOST, with that
# host's var directory, output in $work/NAME.out.
up() {
  local host="$1" name="$2"
  shift 2
  EVNET_VAR_DIR="$work/$name/var" ip netns exec "$tag-$host" "${pdeath[@]}" \
    "$evnet" up "$@" --plain >"$work/$name.out" 2>&1 </dev/null &
  ups+=($!)
}

central=10.77.0.1:7000

# ---- host A: Central, and every key -------------------------------------------------------
up central A --role central --central "$central"
wait_for 60 "Central started on A" has "$work/A.out" '^\[central\] \{"event":"started"' || fail "Central did not start"
[ -f "$work/A/var/keys/central.key" ] || fail "up --role central made no keys"

# ---- host B without its keys: says which and how -------------------------------------------
if EVNET_VAR_DIR="$work/B/var" ip netns exec "$tag-cps" "$evnet" up --role cps --central "$central" \
  --cp-ids ALC1,ALC2 --plain >"$work/B-nokeys.out" 2>&1 </dev/null; then
  fail "up --role cps without keys should fail"
fi
has "$work/B-nokeys.out" 'cp-ALC1.key' || fail "the missing key files are not named: $(cat "$work/B-nokeys.out")"
has "$work/B-nokeys.out" 'keys export --role cps --cp-ids ALC1,ALC2' || fail "no export command in the message"

# ---- keys for B and C, packed on A -----------------------------------------------------------
mkdir -p "$work/B" "$work/C"
EVNET_VAR_DIR="$work/A/var" "$evnet" keys export --role cps --cp-ids ALC1,ALC2 >"$work/keys-cps.tgz" 2>>"$work/export.out" ||
  fail "keys export --role cps"
EVNET_VAR_DIR="$work/A/var" "$evnet" keys export --role drivers --drivers 2 >"$work/keys-drivers.tgz" 2>>"$work/export.out" ||
  fail "keys export --role drivers"
tar -xzf "$work/keys-cps.tgz" -C "$work/B" || fail "unpack the cps keys"
tar -xzf "$work/keys-drivers.tgz" -C "$work/C" || fail "unpack the drivers keys"
listing() { (cd "$1" && LC_ALL=C printf '%s ' *); }
[ "$(listing "$work/B/var/keys")" = "central.pub cp-ALC1.key cp-ALC1.pub cp-ALC2.key cp-ALC2.pub " ] ||
  fail "a cps host gets central.pub and its CPs' pairs, got: $(listing "$work/B/var/keys")"
[ "$(listing "$work/C/var/keys")" = "central.pub driver-D1.key driver-D1.pub driver-D2.key driver-D2.pub " ] ||
  fail "a drivers host gets central.pub and its drivers' pairs, got: $(listing "$work/C/var/keys")"
[ "$(stat -c %a "$work/B/var/keys/cp-ALC1.key")" = 600 ] || fail "a secret key must stay 0600"

# ---- host B: two CPs ---------------------------------------------------------------------------
up cps B --role cps --central "$central" --cp-ids ALC1,ALC2
for cp in ALC1 ALC2; do
  wait_for 30 "$cp ACTIVE at Central" has "$work/A.out" "\"event\":\"cp_state\",.*\"cp\":\"$cp\".*\"state\":\"ACTIVE\"" ||
    fail "$cp never ACTIVE at Central"
done

# ---- host C: two drivers, each with a file ------------------------------------------------------
printf '# D1\nALC1 2\n' >"$work/d1.txt"
printf '# D2\nALC2 3\n' >"$work/d2.txt"
up drivers C --role drivers --central "$central" --drivers 2 --file "$work/d1.txt" --file "$work/d2.txt"
# Exact figures: kWh = seconds, amount = kWh x price (ALC1 0.35, ALC2 0.42 in config/db.json).
wait_for 30 "D1's ticket" has "$work/C.out" \
  '^\[driver-D1\] \{"event":"ticket",.*"cp":"ALC1",.*"driver":"D1","kwh":2(\.0)?,"price":0\.35,"amount":0\.7,' ||
  fail "no exact ticket for D1 at ALC1"
wait_for 30 "D2's ticket" has "$work/C.out" \
  '^\[driver-D2\] \{"event":"ticket",.*"cp":"ALC2",.*"driver":"D2","kwh":3(\.0)?,"price":0\.42,"amount":1\.26,' ||
  fail "no exact ticket for D2 at ALC2"
for d in D1 D2; do
  wait_for 20 "$d's file done" has "$work/C.out" "^\\[driver-$d\\] \\{\"event\":\"file_done\",.*\"done\":1,\"failed\":0" ||
    fail "$d's file did not finish cleanly"
done
[ "$(grep -c '"event":"ticket"' "$work/A.out")" -eq 2 ] || fail "Central should have stored exactly 2 tickets"

# ---- SIGTERM to each `up` stops what it started ------------------------------------------------
gone() { ! kill -0 "$1" 2>/dev/null; }
none_left() { [ -z "$(ours)" ]; }
for i in 2 1 0; do
  kill -TERM "${ups[$i]}"
  wait_for 20 "up #$i to stop" gone "${ups[$i]}" || fail "up #$i did not stop"
done
wait_for 10 "every program to stop" none_left || fail "programs left running: $(ours | tr '\n' ' ')"
has "$work/A.out" 'CENTRAL shutting down' || fail "Central was not stopped in order"
echo "PASS: three hosts with tools/evnet up --role central|cps|drivers"
