#!/usr/bin/env bash
# `tools/evnet up --ocpp --plain`: a whole network (Central, one CP with its
# Engine and Monitor, driver D1 with nothing to do) plus the OCPP 1.6-J
# gateway EV_OCPP on Central's port + 2000 and the simulated OCPP charge
# point OC1 (tools/ocpp/sim_charge_point.js, on ocpp-rpc under Node.js):
#   - the gateway starts, OC1's BootNotification is Accepted and Central
#     shows OC1 ACTIVE;
#   - a driver of our own (D2, headless, started here: up started only D1)
#     charges 3 s at OC1 and gets a ticket with kWh > 0 and amount =
#     kWh x 0.30 (OC1's price, set by `up --ocpp`); Central stores the same
#     charge's ticket;
#   - SIGTERM to `up` stops everything it started (Central, EV_OCPP, node...).
#
#   test_up_ocpp.sh BUILD_ROOT SOURCE_ROOT
#
# Exit 0 passed, 1 failed, 77 skipped (no Node.js, or the OCPP client's npm
# packages not installed: tools/evnet test installs them).
set -uo pipefail

build="$(cd "${1:?build root}" && pwd)"
source_root="$(cd "${2:?source root}" && pwd)"
evnet="$source_root/tools/evnet"

skip() {
  echo "SKIP: $*"
  exit 77
}
command -v node >/dev/null 2>&1 || skip "node (Node.js) is missing: tools/evnet test installs it"
[ -d "$source_root/tests/ocpp/client/node_modules/ocpp-rpc" ] ||
  skip "tests/ocpp/client/node_modules/ocpp-rpc is missing: tools/evnet test installs it (npm ci)"
# Without these `up --ocpp` would install Debian packages itself.
command -v npm >/dev/null 2>&1 || skip "npm is missing (up --ocpp would install it): tools/evnet test installs it"
command -v openssl >/dev/null 2>&1 || skip "openssl is missing (up --ocpp would install it): tools/evnet test installs it"
for bin in central/EV_Central gateway/EV_OCPP engine/EV_CP_E monitor/EV_CP_M driver/EV_Driver; do
  [ -x "$build/src/$bin" ] || { echo "FAIL: $build/src/$bin is not built"; exit 1; }
done
[ -x "$build/tools/evnet_keys" ] || { echo "FAIL: $build/tools/evnet_keys is not built"; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/evnet-up-ocpp.XXXXXX")"
up_pid=""      # `tools/evnet up`, leader of its own process group (setsid)
driver_pid=""  # our own EV_Driver
failed=0
started=$SECONDS

fail() {
  failed=1
  echo "FAIL: $*"
  exit 1
}

# Pids of the processes in process group $1 (from /proc/PID/stat: the
# fields after "(comm)" are state, ppid, pgrp, ...).
in_group() {
  local f line fields
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    read -r -a fields <<<"${line##*) }"
    [ "${fields[2]:-}" = "$1" ] && { f="${f#/proc/}"; echo "${f%/stat}"; }
  done
  return 0
}

# Pids of what this test started and may have left: the programs whose
# command line names this test's directory (those `up` started hold their
# keys, stores and logs there; our driver its keys) or this test's OCPP
# port (the simulated charge point), and whatever is in up's process group.
# Bash alone (a grep would find its own command line).
ours() {
  local f args cmd pid
  for f in /proc/[0-9]*/cmdline; do
    pid="${f#/proc/}"
    pid="${pid%/cmdline}"
    [ "$pid" = "$$" ] && continue
    { mapfile -d '' args <"$f"; } 2>/dev/null || continue
    cmd="${args[*]}"
    case "$cmd" in
      *"$work/"*) echo "$pid"; continue ;;
    esac
    [ -n "${ocpp_port:-}" ] && case "$cmd" in *"ws://127.0.0.1:$ocpp_port/"*) echo "$pid"; continue ;; esac
  done
  [ -n "$up_pid" ] && in_group "$up_pid"
  return 0
}

cleanup() {
  local p
  exec 7>&-
  [ -n "$driver_pid" ] && kill -TERM "$driver_pid" 2>/dev/null
  if [ -n "$up_pid" ]; then
    kill -TERM "$up_pid" 2>/dev/null
    for _ in $(seq 1 150); do
      kill -0 "$up_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$up_pid" 2>/dev/null
  fi
  # Whatever of ours is left (only if `up` failed to stop its programs).
  for p in $(ours); do
    kill -KILL "$p" 2>/dev/null
  done
  if [ "$failed" -ne 0 ]; then
    local f
    for f in "$work"/*.out "$work"/*.err "$work"/var/*.log; do
      [ -s "$f" ] || continue
      echo "---- ${f#"$work"/} (last 25 lines)"
      tail -n 25 "$f" | cut -c1-300
    done
    echo "(kept $work)"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'failed=1; exit 1' INT TERM

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s, at most
# SECONDS, and never past the whole test's budget (240 s from the start,
# well inside meson's 300 s with the cleanup).
budget_end=$((SECONDS + 240))
wait_for() {
  local seconds="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  [ "$deadline" -le "$budget_end" ] || deadline=$budget_end
  while [ "$SECONDS" -le "$deadline" ]; do
    "$@" && return 0
    sleep 0.1
  done
  echo "timed out after ${seconds}s waiting for: $what"
  return 1
}
has() { grep -Eq -- "$2" "$1" 2>/dev/null; }
# up_has PATTERN: up's output has a line matching PATTERN; fails at once
# when up has stopped, or when a program it started could not be run.
up_has() {
  has "$out" "$1" && return 0
  kill -0 "$up_pid" 2>/dev/null || fail "tools/evnet up stopped early"
  local log
  for log in "$work"/var/*.log; do
    has "$log" 'No such file or directory|Permission denied|cannot execute|error while loading shared libraries' &&
      fail "a program up started could not be run: ${log#"$work"/}: $(head -n 3 "$log")"
  done
  # Once up has started everything, the gateway and the simulated charge
  # point must be running.
  if has "$out" '^evnet: up: [0-9]+ processes'; then
    local p gateway=0 sim=0
    for p in $(in_group "$up_pid"); do
      case "$(prog_of "$p")" in
        "$build/src/gateway/EV_OCPP "*) gateway=1 ;;
        node\ *sim_charge_point.js* | "sh -c exec node "*) sim=1 ;;  # (sh: before its exec)
      esac
    done
    # (the line may have come just before the program stopped)
    [ "$gateway" -eq 1 ] || has "$out" "$1" || fail "EV_OCPP is not running (see var/ocpp.log)"
    [ "$sim" -eq 1 ] || has "$out" "$1" || fail "the simulated charge point is not running (see var/ocpp-OC1.log)"
  fi
  return 1
}
prog_of() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null; }

# ---- ports: Central P and its stream P+1, ALC1's Engine P+100, the gateway P+2000 ----
# Free: no socket of any state on it, IPv4 or IPv6 (read from /proc, no
# connection made). Below the ephemeral range (32768+), so that no outgoing
# connection of a test running alongside can hold them.
port_free() {
  local hex
  hex="$(printf '%04X' "$1")"
  ! awk -v port=":$hex" '$2 ~ (port "$") { found = 1 } END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
pick_port() {
  local p tries
  for tries in $(seq 1 100); do
    p=$((20000 + (RANDOM * 7 + $$ + tries * 131) % 10000))
    if port_free "$p" && port_free $((p + 1)) && port_free $((p + 100)) && port_free $((p + 2000)); then
      echo "$p"
      return 0
    fi
  done
  return 1
}
port="$(pick_port)" || fail "no free ports in 20000-32000"
ocpp_port=$((port + 2000))

# ---- up --ocpp -----------------------------------------------------------------------------
export EVNET_BUILD_DIR="$build" EVNET_NO_BUILD=1 EVNET_VAR_DIR="$work/var"
unset EVNET_TMUX_SOCKET EVNET_TMUX_SESSION EVNET_INSECURE
pdeath=()
command -v setpriv >/dev/null 2>&1 && pdeath=(setpriv --pdeathsig KILL)
# D1 (the one driver up starts) has nothing to do: its file holds no charge.
printf '# D1 stays idle: the test charges at OC1 with its own driver D2\n' >"$work/d1.txt"
setsid "${pdeath[@]}" "$evnet" up --ocpp --plain --port "$port" --cps 1 --drivers 1 --file "$work/d1.txt" \
  >"$work/up.out" 2>&1 </dev/null &
up_pid=$!
out="$work/up.out"

wait_for 60 "the gateway started" up_has "^\\[ocpp\\] \\{\"event\":\"started\",.*\"listen\":\"?[^,]*$ocpp_port" ||
  fail "EV_OCPP did not start on port $ocpp_port"
wait_for 60 "OC1's boot Accepted" up_has '^\[ocpp-OC1\] \{"event":"boot","cp":"OC1","status":"Accepted"' ||
  fail "the simulated charge point OC1 was not accepted"
wait_for 60 "OC1 ACTIVE at Central" up_has '^\[central\] \{"event":"cp_state",.*"cp":"OC1".*"state":"ACTIVE"' ||
  fail "OC1 never ACTIVE at Central"
has "$out" 'evnet: Central on port '"$port"', 1 CPs \(ALC1\), 1 drivers' || fail "up's summary is not the plan asked for"
[ -s "$work/var/ocpp-OC1.password" ] || fail "no var/ocpp-OC1.password"
[ "$(stat -c %a "$work/var/ocpp-OC1.password")" = 600 ] || fail "var/ocpp-OC1.password must be 0600"

# ---- our driver D2 charges 3 s at OC1 ---------------------------------------------------------
for f in driver-D2.key driver-D2.pub; do
  [ -f "$work/var/keys/$f" ] || fail "up made no $f (keys init from config/db.json)"
done
has "$out" '^\[driver-D2\] ' && fail "up started D2 (only D1 was asked for)"
mkfifo "$work/driver.in" || fail "mkfifo"
"$build/src/driver/EV_Driver" 127.0.0.1 "$port" D2 --keys "$work/var/keys" --headless \
  <"$work/driver.in" >"$work/driver.out" 2>"$work/driver.err" &
driver_pid=$!
exec 7>"$work/driver.in"
wait_for 30 "D2's snapshot of the CPs" has "$work/driver.out" '^\{"event":"cps",.*"cp":"OC1"' ||
  fail "D2 got no list of CPs with OC1"
echo "charge OC1 3" >&7
wait_for 30 "D2 authorized at OC1" has "$work/driver.out" '^\{"event":"authorized",.*"cp":"OC1"' ||
  fail "D2 was not authorized at OC1"
charge_id="$(grep -m1 -E '^\{"event":"authorized",.*"cp":"OC1"' "$work/driver.out" | sed -n 's/.*"charge_id":"\{0,1\}\([^",}]*\)"\{0,1\}.*/\1/p')"
[ -n "$charge_id" ] || fail "no charge_id in D2's authorized event"
ticket_re="\"event\":\"ticket\",.*\"charge_id\":\"?$charge_id\"?[,}]"
wait_for 30 "D2's ticket for charge $charge_id" has "$work/driver.out" "^\\{$ticket_re" ||
  fail "no ticket at D2 for charge $charge_id"
ticket="$(grep -m1 -E "^\\{$ticket_re" "$work/driver.out")"
# shellcheck disable=SC2016  # JavaScript, not shell
check="$(node -e '
  const t = JSON.parse(process.argv[1]);
  const problems = [];
  if (t.cp !== "OC1") problems.push(`cp ${t.cp}`);
  if (t.driver !== "D2") problems.push(`driver ${t.driver}`);
  if (!(t.kwh > 0)) problems.push(`kwh ${t.kwh} not > 0`);
  if (Math.abs(t.price - 0.30) > 1e-9) problems.push(`price ${t.price} not 0.30`);
  if (!(Math.abs(t.amount - t.kwh * 0.30) <= 1e-9)) problems.push(`amount ${t.amount} != kwh ${t.kwh} x 0.30`);
  console.log(problems.length ? problems.join("; ") : `ok ${t.kwh} kWh ${t.amount} EUR`);
' "$ticket" 2>&1)"
case "$check" in
  ok*) ;;
  *) fail "D2's ticket is wrong ($check): $ticket" ;;
esac
wait_for 30 "Central's ticket for charge $charge_id" has "$out" "^\\[central\\] \\{$ticket_re" ||
  fail "Central stored no ticket for charge $charge_id"
# (the charge point prints it once its StopTransaction is answered: it may come just after the ticket)
wait_for 15 "OC1's StopTransaction" has "$out" '^\[ocpp-OC1\] \{"event":"stopped","cp":"OC1"' ||
  fail "OC1 did not report its StopTransaction"
echo quit >&7
exec 7>&-
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_for 10 "D2 to quit" gone "$driver_pid" || fail "D2 did not quit"
driver_pid=""

# ---- SIGTERM to up stops what it started --------------------------------------------------------
# What up started, by process group (up is its leader): Central, EV_OCPP, node.
central_pids="" ocpp_pids="" node_pids=""
for p in $(in_group "$up_pid"); do
  case "$(prog_of "$p")" in
    "$build/src/central/EV_Central "*) central_pids+=" $p" ;;
    "$build/src/gateway/EV_OCPP "*) ocpp_pids+=" $p" ;;
    node\ *sim_charge_point.js*) node_pids+=" $p" ;;
  esac
done
[ -n "$central_pids" ] || fail "no EV_Central in up's process group"
[ -n "$ocpp_pids" ] || fail "no EV_OCPP in up's process group"
[ -n "$node_pids" ] || fail "no node (simulated OC1) in up's process group"
kill -TERM "$up_pid"
wait_for 30 "up to stop" gone "$up_pid" || fail "up did not stop on SIGTERM"
wait "$up_pid" 2>/dev/null
all_gone() {
  local p
  for p in $central_pids $ocpp_pids $node_pids; do
    kill -0 "$p" 2>/dev/null && return 1
  done
  return 0
}
wait_for 10 "EV_Central, EV_OCPP and node to stop" all_gone ||
  fail "left running: $(for p in $central_pids $ocpp_pids $node_pids; do kill -0 "$p" 2>/dev/null && echo "$p: $(prog_of "$p")"; done)"
none_left() { [ -z "$(ours)" ]; }
wait_for 10 "every program up started to stop" none_left ||
  fail "programs left running: $(for p in $(ours); do echo "$p: $(prog_of "$p")"; done)"
has "$out" 'CENTRAL shutting down' || fail "Central was not stopped in order"
up_pid=""
echo "PASS: tools/evnet up --ocpp: gateway on $ocpp_port, OC1 accepted and ACTIVE, D2 charged $charge_id at OC1 (${check#ok }), everything stopped ($((SECONDS - started)) s)"
