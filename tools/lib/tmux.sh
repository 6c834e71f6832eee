# shellcheck shell=bash
# The tmux launcher, sourced by tools/evnet: one tmux session with the whole
# network. Window 0 "central" is the operator console (what the user sees
# first); one window per CP with its Monitor (left) and Engine (right); a
# window "drivers" with the drivers, D1 running config/requests.txt.
#
#   evnet_tmux_up BUILD_DIR CPS DRIVERS BASE_PORT
#   evnet_tmux_down
#   evnet_tmux_attach
#
# Ports: Central listens on BASE_PORT (and BASE_PORT+1 for its stream); the
# Engine of the i-th CP (from 0) on BASE_PORT+100+i. Logs, stores and keys go
# to var/ (EVNET_VAR_DIR): up runs `evnet_keys init` on var/keys and
# var/central.db first (a no-op once made), and every program gets
# --keys var/keys, each Engine --cp <its CP>. EVNET_INSECURE=1 runs every
# program with --insecure instead (no CURVE; debugging only).
# EVNET_TMUX_SOCKET picks a private tmux server (tests use one so they never
# touch the user's sessions).

EVNET_TMUX_SESSION="${EVNET_TMUX_SESSION:-evnet}"

_evnet_tmux() {
  if [ -n "${EVNET_TMUX_SOCKET:-}" ]; then
    tmux -L "$EVNET_TMUX_SOCKET" "$@"
  else
    tmux "$@"
  fi
}

_evnet_tmux_say() { printf 'evnet: %s\n' "$*" >&2; }

_evnet_tmux_root() { (cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd); }

_evnet_tmux_require() {
  if ! command -v tmux >/dev/null 2>&1; then
    _evnet_tmux_say "tmux is not installed. Install it with:"
    echo "  sudo apt-get install tmux" >&2
    _evnet_tmux_say "or run the network without panels: tools/evnet up --plain"
    return 1
  fi
}

_evnet_tmux_running() {
  _evnet_tmux has-session -t "=$EVNET_TMUX_SESSION" 2>/dev/null
}

# CP ids from the "cps" array of config/db.json, in file order.
_evnet_tmux_cp_ids() {
  local config="$1"
  tr -d '\n' <"$config" |
    sed -n 's/.*"cps"[[:space:]]*:[[:space:]]*\[\([^]]*\)\].*/\1/p' |
    grep -o '"id"[[:space:]]*:[[:space:]]*"[^"]*"' |
    sed 's/.*"\([^"]*\)"$/\1/'
}

# A command line for a pane, every word quoted for the shell tmux runs it with.
_evnet_tmux_cmd() {
  local out="" word
  for word in "$@"; do
    out+="$(printf '%q' "$word") "
  done
  printf '%s' "$out"
}

# True when something listens on TCP PORT. Reads /proc instead of
# connecting: a stray connection would show up in Central's messages.
_evnet_tmux_listening() {
  local hex
  hex="$(printf '%04X' "$1")"
  awk -v port=":$hex" '$2 ~ (port "$") && $4 == "0A" { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Waits up to 10 s for each PORT to listen, so that what starts next finds
# its peers (a driver's first service would otherwise fail).
_evnet_tmux_await_ports() {
  local port tries
  for port in "$@"; do
    tries=100
    while ! _evnet_tmux_listening "$port"; do
      tries=$((tries - 1))
      if [ "$tries" -le 0 ]; then
        _evnet_tmux_say "nothing listens on port $port yet; see the panes and var/*.log"
        return 0
      fi
      sleep 0.1
    done
  done
}

# Only switch or attach when a person is there to see it.
_evnet_tmux_show() {
  if [ -n "${TMUX:-}" ] && [ -z "${EVNET_TMUX_SOCKET:-}" ]; then
    _evnet_tmux switch-client -t "=$EVNET_TMUX_SESSION"
  elif [ -t 0 ] && [ -t 1 ]; then
    _evnet_tmux attach-session -t "=$EVNET_TMUX_SESSION"
  else
    _evnet_tmux_say "attach with: tools/evnet attach"
  fi
}

evnet_tmux_up() {
  local build="$1" cps="$2" drivers="$3" port="$4"
  _evnet_tmux_require || return 1
  if _evnet_tmux_running; then
    _evnet_tmux_say "the network is already running in tmux session '$EVNET_TMUX_SESSION'; attaching" \
      "(tools/evnet down stops it)"
    _evnet_tmux_show
    return 0
  fi

  local root var
  root="$(_evnet_tmux_root)"
  var="${EVNET_VAR_DIR:-$root/var}"
  mkdir -p "$var"
  local bin_central="$build/src/central/EV_Central" bin_engine="$build/src/engine/EV_CP_E"
  local bin_monitor="$build/src/monitor/EV_CP_M" bin_driver="$build/src/driver/EV_Driver"
  local bin_keys="$build/tools/evnet_keys"
  local bin
  for bin in "$bin_central" "$bin_engine" "$bin_monitor" "$bin_driver" "$bin_keys"; do
    if [ ! -x "$bin" ]; then
      _evnet_tmux_say "missing $bin; build first (tools/evnet setup)"
      return 1
    fi
  done

  local ids=()
  mapfile -t ids < <(_evnet_tmux_cp_ids "$root/config/db.json" | head -n "$cps")
  if [ "${#ids[@]}" -eq 0 ]; then
    _evnet_tmux_say "no CPs found in $root/config/db.json"
    return 1
  fi

  # Keys: every program's pair in $var/keys, their public keys registered in
  # Central's store. Made once; afterwards this says nothing.
  local trust=(--keys "$var/keys")
  if [ "${EVNET_INSECURE:-0}" = 1 ]; then
    trust=(--insecure)
  else
    local keys_out
    if ! keys_out="$(cd "$root" && "$bin_keys" init --keys "$var/keys" --db "$var/central.db" \
      --config "$root/config/db.json" 2>&1)"; then
      printf '%s\n' "$keys_out" >&2
      _evnet_tmux_say "could not make the keys (see above)"
      return 1
    fi
    if ! printf '%s\n' "$keys_out" | grep -q '^keys: nothing to do'; then
      printf '%s\n' "$keys_out" >&2
    fi
  fi

  # Orange needs 256 colours; tmux emulates them whatever the outer terminal.
  local term=()
  if infocmp tmux-256color >/dev/null 2>&1; then
    term=(env TERM=tmux-256color)
  fi
  local width=80 height=24
  if [ -t 1 ]; then
    width="$(tput cols 2>/dev/null || echo 80)"
    height="$(tput lines 2>/dev/null || echo 24)"
  fi

  local s="$EVNET_TMUX_SESSION"
  _evnet_tmux new-session -d -s "$s" -n central -c "$root" -x "$width" -y "$height" \
    "$(_evnet_tmux_cmd "${term[@]}" "$bin_central" "$port" --config config/db.json \
      --db "$var/central.db" --log "$var/central.log" "${trust[@]}")"
  # A program that dies leaves its pane open with the exit status, so the
  # reason stays on screen; its log is in var/.
  _evnet_tmux set-option -t "$s" remain-on-exit on >/dev/null
  _evnet_tmux set-option -t "$s" pane-border-status top >/dev/null
  _evnet_tmux set-option -t "$s" pane-border-format ' #{pane_title} ' >/dev/null
  _evnet_tmux set-option -t "$s" status-right ' tools/evnet down: stop ' >/dev/null
  _evnet_tmux select-pane -t "$s:central.0" -T "EV_Central :$port"

  _evnet_tmux_await_ports "$port" $((port + 1))

  # Panes are named by their id (%N): indexes shift as panes are added.
  local i id eport pane
  local engine_ports=()
  for i in "${!ids[@]}"; do
    id="${ids[$i]}"
    eport=$((port + 100 + i))
    engine_ports+=("$eport")
    pane="$(_evnet_tmux new-window -d -P -F '#{pane_id}' -t "$s:" -n "$id" -c "$root" \
      "$(_evnet_tmux_cmd "${term[@]}" "$bin_monitor" 127.0.0.1 "$eport" 127.0.0.1 "$port" "$id" \
        --log "$var/monitor-$id.log" "${trust[@]}")")"
    _evnet_tmux select-pane -t "$pane" -T "Monitor $id"
    pane="$(_evnet_tmux split-window -d -h -l 45% -P -F '#{pane_id}' -t "$pane" -c "$root" \
      "$(_evnet_tmux_cmd "${term[@]}" "$bin_engine" 127.0.0.1 "$port" --cp "$id" --listen "$eport" \
        --store "$var/engine-$id.db" --log "$var/engine-$id.log" "${trust[@]}")")"
    _evnet_tmux select-pane -t "$pane" -T "Engine $id (ENTER: fault)"
  done

  _evnet_tmux_await_ports "${engine_ports[@]}"

  local d cmd extra
  for d in $(seq 1 "$drivers"); do
    extra=()
    if [ "$d" -eq 1 ]; then
      extra=(--file config/requests.txt)
    fi
    cmd="$(_evnet_tmux_cmd "${term[@]}" "$bin_driver" 127.0.0.1 "$port" "D$d" "${extra[@]}" \
      --log "$var/driver-D$d.log" "${trust[@]}")"
    if [ "$d" -eq 1 ]; then
      pane="$(_evnet_tmux new-window -d -P -F '#{pane_id}' -t "$s:" -n drivers -c "$root" "$cmd")"
    else
      pane="$(_evnet_tmux split-window -d -P -F '#{pane_id}' -t "$s:drivers" -c "$root" "$cmd")"
      _evnet_tmux select-layout -t "$s:drivers" tiled >/dev/null
    fi
    _evnet_tmux select-pane -t "$pane" -T "Driver D$d"
  done

  _evnet_tmux select-window -t "$s:central"
  _evnet_tmux_say "network up in tmux session '$s': CENTRAL on port $port, ${#ids[@]} CPs (${ids[*]}), $drivers drivers"
  _evnet_tmux_say "windows: central, one per CP (Monitor | Engine), drivers. Ctrl-b n/p: next/previous window," \
    "Ctrl-b d: detach, tools/evnet attach: back, tools/evnet down: stop. Logs in ${var#"$root"/}/"
  _evnet_tmux_show
}

# Pids of the programs in the session's panes that are still running.
_evnet_tmux_pids() {
  local filter="$1"
  _evnet_tmux list-panes -s -t "=$EVNET_TMUX_SESSION" -F '#{window_name} #{pane_dead} #{pane_pid}' 2>/dev/null |
    awk -v f="$filter" '$2 == 0 && (f == "" || (f == "central") == ($1 == "central")) { print $3 }'
}

# A program that has exited stays a zombie until tmux reaps it, which can
# take a while under load: that counts as gone.
_evnet_tmux_alive() {
  local state
  state="$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)"
  [ -n "$state" ] && [ "$state" != Z ]
}

# Sends SIGTERM (each program turns it into an orderly quit) and waits up
# to 10 s for them to go; whatever is left then gets SIGKILL.
_evnet_tmux_stop_pids() {
  local pids=("$@") left i
  [ "${#pids[@]}" -eq 0 ] && return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for i in $(seq 1 100); do
    left=()
    local p
    for p in "${pids[@]}"; do
      if _evnet_tmux_alive "$p"; then
        left+=("$p")
      fi
    done
    [ "${#left[@]}" -eq 0 ] && return 0
    sleep 0.1
  done
  _evnet_tmux_say "still running after 10 s, killing: $(ps -o pid=,comm= -p "$(IFS=,; echo "${left[*]}")" | tr -s ' \n' ' ')"
  kill -KILL "${left[@]}" 2>/dev/null || true
}

evnet_tmux_down() {
  _evnet_tmux_require || return 1
  if ! _evnet_tmux_running; then
    _evnet_tmux_say "no tmux session '$EVNET_TMUX_SESSION' is running"
    return 0
  fi
  local others central
  # CPs and drivers first, so that Central sees them leave and stores what they owe.
  mapfile -t others < <(_evnet_tmux_pids others)
  _evnet_tmux_stop_pids "${others[@]}"
  mapfile -t central < <(_evnet_tmux_pids central)
  _evnet_tmux_stop_pids "${central[@]}"
  _evnet_tmux kill-session -t "=$EVNET_TMUX_SESSION" 2>/dev/null || true
  _evnet_tmux_say "network stopped (tmux session '$EVNET_TMUX_SESSION' closed)"
}

evnet_tmux_attach() {
  _evnet_tmux_require || return 1
  if ! _evnet_tmux_running; then
    _evnet_tmux_say "no tmux session '$EVNET_TMUX_SESSION' is running; start one with: tools/evnet up"
    return 1
  fi
  _evnet_tmux_show
}
