# shellcheck shell=bash source-path=SCRIPTDIR
# The tmux launcher, sourced by tools/evnet: one tmux session with the whole
# network, or with one host's share of it. Window 0 "central" is the
# operator console (what the user sees first); one window per CP with its
# Monitor (left) and Engine (right); a window "drivers" with the drivers, D1
# running config/requests.txt; with a fleet, a window "fleet" with ev_fleet.
#
#   evnet_tmux_up BUILD_DIR CPS DRIVERS BASE_PORT   the whole network on this machine
#   evnet_tmux_launch PLAN_FILE                     run a plan of tools/lib/plan.sh
#   evnet_tmux_down
#   evnet_tmux_attach
#
# Ports: Central listens on BASE_PORT (and BASE_PORT+1 for its stream); the
# Engine of the i-th CP (from 0) on BASE_PORT+100+i. Logs, stores and keys go
# to var/ (EVNET_VAR_DIR): up runs `evnet_keys init` on var/keys and
# var/central.db first (a no-op once made), and every program gets
# --keys var/keys, each Engine --cp <its CP>. EVNET_INSECURE=1 runs every
# program with --insecure instead (no CURVE; debugging only).
# EVNET_TMUX_SESSION names the session (default evnet); EVNET_TMUX_SOCKET
# picks a private tmux server (tests use one so they never touch the user's
# sessions).

EVNET_TMUX_SESSION="${EVNET_TMUX_SESSION:-evnet}"

# shellcheck source=plan.sh
. "$(dirname "${BASH_SOURCE[0]}")/plan.sh"

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

# Runs the plan in PLAN_FILE (tools/lib/plan.sh) in a new session named
# EVNET_TMUX_SESSION, from the repository's root, logs in EVNET_VAR_DIR.
# Each evnet program gets --log VAR/<name>.log; a program that dies leaves
# its pane open with the exit status, so the reason stays on screen.
evnet_tmux_launch() {
  local plan="$1"
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

  # Orange needs 256 colours; tmux emulates them whatever the outer terminal.
  local term=""
  if infocmp tmux-256color >/dev/null 2>&1; then
    term="env TERM=tmux-256color "
  fi
  local width=80 height=24
  if [ -t 1 ]; then
    width="$(tput cols 2>/dev/null || echo 80)"
    height="$(tput lines 2>/dev/null || echo 24)"
  fi

  local s="$EVNET_TMUX_SESSION"
  local -A first_pane=()  # window name -> its first pane (%N: indexes shift as panes are added)
  local windows=() first_window=""
  local kind name window layout title cmd pane
  while IFS=$'\t' read -r kind name window layout title cmd; do
    case "$kind" in
      await)
        # shellcheck disable=SC2086
        evnet_plan_await_ports $name
        continue
        ;;
      run) cmd="$term$cmd $(evnet_plan_quote --log "$var/$name.log")" ;;
      raw) cmd="$term$cmd" ;;
      *) continue ;;
    esac
    if ! _evnet_tmux_running; then
      pane="$(_evnet_tmux new-session -d -P -F '#{pane_id}' -s "$s" -n "$window" -c "$root" \
        -x "$width" -y "$height" "$cmd")"
      _evnet_tmux set-option -t "$s" remain-on-exit on >/dev/null
      _evnet_tmux set-option -t "$s" pane-border-status top >/dev/null
      _evnet_tmux set-option -t "$s" pane-border-format ' #{pane_title} ' >/dev/null
      _evnet_tmux set-option -t "$s" status-right ' tools/evnet down: stop ' >/dev/null
      first_pane[$window]="$pane"
      windows+=("$window")
      first_window="$pane"
    elif [ -z "${first_pane[$window]:-}" ]; then
      pane="$(_evnet_tmux new-window -d -P -F '#{pane_id}' -t "$s:" -n "$window" -c "$root" "$cmd")"
      first_pane[$window]="$pane"
      windows+=("$window")
    elif [ "$layout" = right ]; then
      pane="$(_evnet_tmux split-window -d -h -l 45% -P -F '#{pane_id}' -t "${first_pane[$window]}" -c "$root" \
        "$cmd")"
    else
      pane="$(_evnet_tmux split-window -d -P -F '#{pane_id}' -t "${first_pane[$window]}" -c "$root" "$cmd")"
      _evnet_tmux select-layout -t "${first_pane[$window]}" tiled >/dev/null
    fi
    _evnet_tmux select-pane -t "$pane" -T "$title"
  done <"$plan"

  if [ -z "$first_window" ]; then
    _evnet_tmux_say "nothing to start"
    return 1
  fi
  _evnet_tmux select-window -t "$first_window"
  _evnet_tmux_say "up in tmux session '$s': windows ${windows[*]}"
  _evnet_tmux_say "Ctrl-b n/p: next/previous window, Ctrl-b d: detach, tools/evnet attach: back," \
    "tools/evnet down: stop. Logs in ${var#"$root"/}/"
  _evnet_tmux_show
}

# The plan_* variables are read by evnet_plan (plan.sh).
# shellcheck disable=SC2034
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
  local bin_keys="$build/tools/evnet_keys"
  local bin
  for bin in "$build/src/central/EV_Central" "$build/src/engine/EV_CP_E" "$build/src/monitor/EV_CP_M" \
    "$build/src/driver/EV_Driver" "$bin_keys"; do
    if [ ! -x "$bin" ]; then
      _evnet_tmux_say "missing $bin; build first (tools/evnet setup)"
      return 1
    fi
  done

  local plan_cps=()
  mapfile -t plan_cps < <(evnet_plan_ids cps "$root/config/db.json" | head -n "$cps")
  if [ "${#plan_cps[@]}" -eq 0 ]; then
    _evnet_tmux_say "no CPs found in $root/config/db.json"
    return 1
  fi

  # Keys: every program's pair in $var/keys, their public keys registered in
  # Central's store. Made once; afterwards this says nothing.
  local plan_trust=(--keys "$var/keys")
  if [ "${EVNET_INSECURE:-0}" = 1 ]; then
    plan_trust=(--insecure)
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

  local plan_build="$build" plan_var="$var" plan_config=config/db.json plan_host=127.0.0.1 plan_port="$port"
  local plan_bind="" plan_pub_port="" plan_drivers=() plan_files=(config/requests.txt) d
  for d in $(seq 1 "$drivers"); do
    plan_drivers+=("D$d")
  done
  local plan
  plan="$(mktemp "${TMPDIR:-/tmp}/evnet-plan.XXXXXX")"
  evnet_plan all >"$plan"
  local status=0
  evnet_tmux_launch "$plan" || status=$?
  rm -f "$plan"
  return $status
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
