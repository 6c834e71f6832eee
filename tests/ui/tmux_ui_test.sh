#!/usr/bin/env bash
# UI tests in a real terminal: the panels run inside a private tmux server
# (tmux -L evnet-test-<pid>), keys go in with send-keys and the screen comes
# back with capture-pane -e, colours included. The other programs run
# headless in the background, driven through their stdin.
#
#   tmux_ui_test.sh CASE BUILD_ROOT SOURCE_ROOT
#
# CASE: central_charge_and_stop | driver_charge_and_ticket | engine_fault | launcher
# Exit 0 passed, 1 failed, 77 skipped (tmux missing).
set -uo pipefail

case_name="${1:?case}"
build="$(cd "${2:?build root}" && pwd)"
source_root="$(cd "${3:?source root}" && pwd)"

if ! command -v tmux >/dev/null 2>&1; then
  echo "SKIP: tmux is not installed (sudo apt-get install tmux)"
  exit 77
fi
unset TMUX

central_bin="$build/src/central/EV_Central"
engine_bin="$build/src/engine/EV_CP_E"
monitor_bin="$build/src/monitor/EV_CP_M"
driver_bin="$build/src/driver/EV_Driver"
keys_bin="$build/tools/evnet_keys"
config="$source_root/config/db.json"

socket="evnet-test-$$"
work="$(mktemp -d "${TMPDIR:-/tmp}/evnet-ui-test.XXXXXX")"
pids=()
failed=0

t() { tmux -L "$socket" -f /dev/null "$@"; }

# Zombies (exited, not yet reaped by their parent) count as gone.
alive() {
  local state
  state="$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)"
  [ -n "$state" ] && [ "$state" != Z ]
}

# Stops what this test started: SIGTERM, up to 10 s to go, then SIGKILL.
stop_pids() {
  local p running
  [ "$#" -eq 0 ] && return 0
  kill -TERM "$@" 2>/dev/null || true
  for _ in $(seq 1 100); do
    running=0
    for p in "$@"; do
      alive "$p" && running=1
    done
    [ "$running" -eq 0 ] && break
    sleep 0.1
  done
  for p in "$@"; do
    if alive "$p"; then
      echo "note: pid $p ignored SIGTERM for 10 s; killed"
      kill -KILL "$p" 2>/dev/null || true
    fi
    wait "$p" 2>/dev/null || true
  done
}

cleanup() {
  local panes
  panes="$(t list-panes -a -F '#{pane_pid}' 2>/dev/null | tr '\n' ' ')"
  # shellcheck disable=SC2086
  stop_pids "${pids[@]}" $panes
  t kill-server 2>/dev/null || true
  # tmux leaves the socket file of a killed server behind.
  rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$socket"
  if [ "$failed" -ne 0 ]; then
    local f
    for f in "$work"/*.log "$work"/*.out "$work"/var/*.log; do
      [ -s "$f" ] || continue
      echo "---- ${f#"$work"/} (last 30 lines)"
      tail -n 30 "$f"
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  failed=1
  echo "FAIL: $*"
  local pane
  for pane in $(t list-panes -a -F '#{session_name}:#{window_index}.#{pane_index}' 2>/dev/null); do
    echo "---- screen of $pane"
    t capture-pane -p -t "$pane"
  done
  exit 1
}

# 256 colours when the terminfo exists: orange is then colour 208.
term=tmux-256color
infocmp "$term" >/dev/null 2>&1 || term=screen

# A port P with P and P+1 free (Central also binds P+1 for its stream).
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_ports() {
  local p tries
  for tries in $(seq 1 50); do
    # Below the kernel's ephemeral range (32768+): an outgoing connection of
    # a test running alongside can never hold these ports.
    p=$((20000 + (RANDOM * 7 + $$ + tries * 131) % 12000))
    if port_free "$p" && port_free $((p + 1)) && port_free $((p + 100)) && port_free $((p + 101)); then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s.
wait_for() {
  local seconds="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  while [ "$SECONDS" -le "$deadline" ]; do
    if "$@"; then
      return 0
    fi
    sleep 0.1
  done
  echo "timed out after ${seconds}s waiting for: $what"
  return 1
}

screen() { t capture-pane -p -t "$1"; }
session_gone() { ! t has-session -t "=$1" 2>/dev/null; }
screen_has() { screen "$1" | grep -Eq -- "$2"; }
file_has() { grep -Eq -- "$2" "$1" 2>/dev/null; }

# Prints "bg=<code> fg=<code> rev=<0|1>" for the first cell of the first
# occurrence of TEXT on the pane, from the SGR codes of capture-pane -e.
# tmux only emits changes, so the state is carried across the whole capture.
colour_at() {
  t capture-pane -e -p -t "$1" | awk -v needle="$2" '
    function apply(params,   n, a, i) {
      n = split(params, a, ";")
      if (n == 0) { n = 1; a[1] = "0" }
      for (i = 1; i <= n; i++) {
        if (a[i] == "" || a[i] == "0") { bg = "49"; fg = "39"; rev = 0 }
        else if (a[i] == "7") { rev = 1 }
        else if (a[i] == "27") { rev = 0 }
        else if (a[i] == "38" || a[i] == "48") {
          kind = a[i]; v = kind
          if (a[i + 1] == "5") { v = kind ";5;" a[i + 2]; i += 2 }
          else if (a[i + 1] == "2") { v = kind ";2;" a[i + 2] ";" a[i + 3] ";" a[i + 4]; i += 4 }
          if (kind == "38") { fg = v } else { bg = v }
        }
        else if (a[i] ~ /^(3[0-7]|39|9[0-7])$/) { fg = a[i] }
        else if (a[i] ~ /^(4[0-7]|49|10[0-7])$/) { bg = a[i] }
      }
    }
    BEGIN { bg = "49"; fg = "39"; rev = 0; esc = sprintf("%c", 27) }
    {
      line = $0; plain = ""; nseg = 0
      while (length(line) > 0) {
        p = index(line, esc "[")
        if (p == 0) { text = line; line = "" } else { text = substr(line, 1, p - 1) }
        if (length(text) > 0) {
          nseg++; start[nseg] = length(plain) + 1; sbg[nseg] = bg; sfg[nseg] = fg; srev[nseg] = rev
          plain = plain text
        }
        if (p == 0) { break }
        rest = substr(line, p + 2)
        if (match(rest, /^[0-9;]*m/)) {
          apply(substr(rest, 1, RLENGTH - 1))
          line = substr(rest, RLENGTH + 1)
        } else {
          line = rest
        }
      }
      at = index(plain, needle)
      if (at > 0) {
        for (s = nseg; s >= 1; s--) {
          if (start[s] <= at) { print "bg=" sbg[s] " fg=" sfg[s] " rev=" srev[s]; exit }
        }
      }
    }'
}

# colour_is PANE TEXT REGEX: the background under TEXT matches REGEX.
colour_is() { colour_at "$1" "$2" | grep -Eq -- "$3"; }

readonly green='bg=42 '
readonly blue='bg=44 '
readonly orange='bg=(48;5;208|43) '

start_headless() {  # NAME STDIN COMMAND...: output to NAME.out, stderr to NAME.log
  local name="$1" input="$2"
  shift 2
  "$@" --headless <"$input" >"$work/$name.out" 2>"$work/$name.log" &
  pids+=($!)
}

# Central shows a CP ACTIVE once its Monitor authenticates; a charge also
# needs the Engine configured through that Monitor.
engine_ready() {
  wait_for 30 "the Engine of $1 configured" file_has "$work/engine-$1.out" '"event":"configured"' ||
    fail "the Engine of $1 was never configured"
}

start_cp() {  # ID ENGINE_PORT CENTRAL_PORT: Engine and Monitor, both headless
  local id="$1" eport="$2" port="$3"
  start_headless "engine-$id" /dev/null "$engine_bin" 127.0.0.1 "$port" --cp "$id" --listen "$eport" \
    --store "$work/engine-$id.db" --keys "$work/keys"
  start_headless "monitor-$id" /dev/null "$monitor_bin" 127.0.0.1 "$eport" 127.0.0.1 "$port" "$id" --keys "$work/keys"
}

# A command channel kept open for the whole test: a reader never sees EOF.
open_fifo() {  # NAME FD_VAR
  mkfifo "$work/$1.in"
  exec {fd}<>"$work/$1.in"
  printf -v "$2" '%s' "$fd"
}

# tmux runs the command through sh; every word is quoted.
quoted() { local w out=""; for w in "$@"; do out+="$(printf '%q' "$w") "; done; printf '%s' "$out"; }

panel() {  # NAME WIDTH HEIGHT COMMAND...: a panel in its own tmux session
  local name="$1" w="$2" h="$3"
  shift 3
  t new-session -d -s "$name" -x "$w" -y "$h" -c "$work" "$(quoted env TERM="$term" "$@")"
}

require_binaries() {
  local b
  for b in "$central_bin" "$engine_bin" "$monitor_bin" "$driver_bin" "$keys_bin"; do
    [ -x "$b" ] || fail "missing $b (build the tree first)"
  done
}

# Every program runs with CURVE: the keys of config/db.json in $work/keys,
# registered in the store Central opens.
make_keys() {
  "$keys_bin" init --keys "$work/keys" --db "$work/central.db" --config "$config" >"$work/keys.out" 2>&1 ||
    fail "evnet_keys init failed: $(cat "$work/keys.out")"
}

# ---- cases -------------------------------------------------------------------

# The operator console: ALC1's tile turns blue while a driver charges, and
# orange with "Out of Order" after STOP from the keyboard.
case_central_charge_and_stop() {
  local port
  port="$(pick_ports)" || fail "no free ports"
  panel central 100 30 "$central_bin" "$port" --config "$config" --db "$work/central.db" --log "$work/central.log" \
    --keys "$work/keys"
  wait_for 20 "the console lists ALC1" screen_has central 'ALC1' || fail "no tile for ALC1"
  start_cp ALC1 $((port + 100)) "$port"
  wait_for 30 "ALC1 green (ACTIVE)" colour_is central 'C/ Italia 5' "$green" || fail "ALC1 never turned green"
  engine_ready ALC1

  local driver_fd
  open_fifo driver driver_fd
  start_headless driver "$work/driver.in" "$driver_bin" 127.0.0.1 "$port" D1 --keys "$work/keys"
  wait_for 20 "the driver connected" file_has "$work/driver.out" '"status":"connected"' || fail "driver not connected"
  echo "charge ALC1 60" >&"$driver_fd"

  wait_for 20 "ALC1 blue (BUSY)" colour_is central 'C/ Italia 5' "$blue" || fail "ALC1 did not turn blue"
  wait_for 10 "live kWh and driver on the tile" screen_has central 'driver D1' || fail "no driver on the tile"
  wait_for 10 "the request in the on-going table" screen_has central 'D1 +ALC1 +charging' || fail "no request row"
  wait_for 10 "live kWh above zero" screen_has central '[1-9][0-9]*\.[0-9]{3} kWh' || fail "no live kWh"

  # STOP by cursor: ALC1 is the first tile, selected at start.
  t send-keys -t central s
  wait_for 5 "the STOP prompt" screen_has central 'STOP which CP' || fail "no STOP prompt"
  t send-keys -t central Enter
  wait_for 20 "ALC1 orange (OUT_OF_ORDER)" colour_is central 'C/ Italia 5' "$orange" || fail "ALC1 did not turn orange"
  wait_for 5 "the Out of Order legend on the tile" screen_has central 'ALC1 +Out of Order' || fail "no Out of Order label"
  wait_for 5 "the STOP confirmation" screen_has central '> stop ALC1' || fail "no echo of the command"
  wait_for 5 "Central confirms" screen_has central '[0-9] ALC1 out of order' || fail "no STOP confirmation"
  wait_for 10 "the driver told of the interruption" \
    file_has "$work/driver.out" '"event":"interrupted"|"event":"ticket".*"reason":"stopped by CENTRAL"' ||
    fail "driver not told"

  # RESUME by typed id brings it back to green.
  t send-keys -t central r
  wait_for 5 "the RESUME prompt" screen_has central 'RESUME which CP' || fail "no RESUME prompt"
  t send-keys -t central -l ALC1
  t send-keys -t central Enter
  wait_for 20 "ALC1 green again" colour_is central 'C/ Italia 5' "$green" || fail "ALC1 did not resume"

  # Quit from the keyboard restores the terminal.
  t send-keys -t central q
  wait_for 5 "the quit question" screen_has central 'Quit EV_Central\? \(y/n\)' || fail "no quit question"
  t send-keys -t central y
  wait_for 15 "Central gone" session_gone central || fail "Central did not quit"
}

# The driver's app: live kWh during the charge, then the ticket.
case_driver_charge_and_ticket() {
  local port
  port="$(pick_ports)" || fail "no free ports"
  start_headless central /dev/null "$central_bin" "$port" --config "$config" --db "$work/central.db" --keys "$work/keys"
  start_cp ALC1 $((port + 100)) "$port"
  wait_for 30 "ALC1 ACTIVE at Central" file_has "$work/central.out" '"cp":"ALC1".*"state":"ACTIVE"' ||
    fail "ALC1 never ACTIVE"
  engine_ready ALC1

  panel driver 80 24 "$driver_bin" 127.0.0.1 "$port" D1 --log "$work/driver.log" --keys "$work/keys"
  wait_for 20 "the CP list" screen_has driver 'ALC1 +Active' || fail "no CP list"
  colour_at driver ' ALC1 ' | grep -q 'fg=32 ' || fail "ALC1 row not green: $(colour_at driver ' ALC1 ')"

  t send-keys -t driver c
  wait_for 5 "the charge form" screen_has driver 'Charge at CP' || fail "no charge form"
  t send-keys -t driver -l ALC1
  t send-keys -t driver Enter
  t send-keys -t driver -l 6
  t send-keys -t driver Enter
  wait_for 10 "the steps" screen_has driver '\[x\] requested +\[x\] authorised' || fail "no steps"
  wait_for 10 "live kWh" screen_has driver 'Energy +[1-9][0-9]*\.[0-9]{3} kWh' || fail "no live kWh"
  wait_for 5 "live amount" screen_has driver 'Amount +[0-9]+\.[0-9]{2} EUR' || fail "no live amount"
  wait_for 20 "the ticket" screen_has driver 'Finished: ticket [0-9.]+ kWh, [0-9.]+ EUR' || fail "no ticket"
  t send-keys -t driver 4
  wait_for 5 "the ticket history" screen_has driver '[0-9:]{8} ALC1 +[0-9]+\.[0-9]{3}' || fail "no history row"

  t send-keys -t driver q
  wait_for 15 "driver gone" session_gone driver || fail "driver did not quit"
}

# ENTER on the Engine's console breaks the CP (red on Central), ENTER again repairs it.
case_engine_fault() {
  local port eport
  port="$(pick_ports)" || fail "no free ports"
  eport=$((port + 100))
  start_headless central /dev/null "$central_bin" "$port" --config "$config" --db "$work/central.db" --keys "$work/keys"
  panel engine 80 24 "$engine_bin" 127.0.0.1 "$port" --cp ALC1 --listen "$eport" --store "$work/engine.db" \
    --log "$work/engine.log" --keys "$work/keys"
  start_headless monitor /dev/null "$monitor_bin" 127.0.0.1 "$eport" 127.0.0.1 "$port" ALC1 --keys "$work/keys"
  wait_for 30 "ALC1 ACTIVE at Central" file_has "$work/central.out" '"cp":"ALC1".*"state":"ACTIVE"' ||
    fail "ALC1 never ACTIVE"
  wait_for 30 "the Engine configured" screen_has engine 'ALC1 +Active' || fail "engine status line"
  colour_is engine 'ALC1  Active' "$green" || fail "status line not green: $(colour_at engine 'ALC1  Active')"

  t send-keys -t engine Enter
  wait_for 20 "ALC1 BROKEN at Central" file_has "$work/central.out" '"cp":"ALC1".*"state":"BROKEN"' ||
    fail "Central never saw BROKEN"
  wait_for 5 "FAULT on the console" screen_has engine 'FAULT' || fail "no FAULT on the console"

  t send-keys -t engine Enter
  wait_for 20 "ALC1 back to ACTIVE" bash -c "tail -n 5 '$work/central.out' | grep -q '\"cp\":\"ALC1\".*\"state\":\"ACTIVE\"'" ||
    fail "Central never saw the repair"
}

# tools/lib/tmux.sh: up opens the windows, the console shows the CPs, down stops everything.
case_launcher() {
  local port
  port="$(pick_ports)" || fail "no free ports"
  export EVNET_TMUX_SOCKET="$socket" EVNET_TMUX_SESSION=evnet EVNET_VAR_DIR="$work/var"
  # shellcheck source=/dev/null
  . "$source_root/tools/lib/tmux.sh"
  evnet_tmux_up "$build" 2 2 "$port" </dev/null >"$work/up.out" 2>&1 || { cat "$work/up.out"; fail "up failed"; }
  local windows
  windows="$(t list-windows -t evnet -F '#{window_index}:#{window_name}' | tr '\n' ' ')"
  [ "$windows" = "0:central 1:ALC1 2:ALC2 3:drivers " ] || fail "windows: $windows"
  [ "$(t list-panes -t evnet:ALC1 | wc -l)" -eq 2 ] || fail "ALC1 window needs Monitor and Engine"
  [ "$(t list-panes -t evnet:drivers | wc -l)" -eq 2 ] || fail "drivers window needs 2 panes"
  [ "$(t display-message -p -t evnet '#{window_name}')" = central ] || fail "central is not the current window"

  wait_for 30 "both CPs on the console" screen_has evnet:central 'ALC2 ' || fail "console without ALC2"
  wait_for 30 "ALC2 green" colour_is evnet:central 'Av. de Maisonnave' "$green" || fail "ALC2 not green"
  wait_for 30 "the Monitor authenticated" screen_has evnet:ALC1.0 'authenticated' || fail "monitor not authenticated"
  wait_for 30 "driver D1 running the file" screen_has evnet:drivers.0 'File config/requests.txt' ||
    fail "driver 1 not running the file"

  local before
  before="$(t list-panes -s -t evnet -F '#{pane_pid}' | tr '\n' ' ')"
  evnet_tmux_attach </dev/null >"$work/attach.out" 2>&1 || fail "attach failed"
  grep -q 'tools/evnet attach' "$work/attach.out" || fail "attach without a terminal should say how"
  evnet_tmux_up "$build" 2 2 "$port" </dev/null >"$work/up2.out" 2>&1
  grep -q 'already running' "$work/up2.out" || fail "second up should say it is running"

  evnet_tmux_down >"$work/down.out" 2>&1 || fail "down failed"
  t has-session -t evnet 2>/dev/null && fail "session still there"
  local p
  for p in $before; do
    alive "$p" && fail "process $p survived down"
  done
  evnet_tmux_down 2>&1 | grep -q 'no tmux session' || fail "down twice should say nothing runs"
}

require_binaries
make_keys
case "$case_name" in
  central_charge_and_stop) case_central_charge_and_stop ;;
  driver_charge_and_ticket) case_driver_charge_and_ticket ;;
  engine_fault) case_engine_fault ;;
  launcher) case_launcher ;;
  *) echo "unknown case $case_name"; exit 2 ;;
esac
echo "PASS: $case_name"
