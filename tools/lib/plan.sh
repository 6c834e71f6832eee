# shellcheck shell=bash
# What to start for a network, or for one host's share of it, as a plan
# that both launchers (tools/lib/tmux.sh, and `tools/evnet up --plain`) run.
# Sourced; no side effects until a function is called.
#
#   evnet_plan ROLE    ROLE: all | central | cps | drivers | fleet
#
# prints one line per step, fields separated by tabs:
#
#   run    NAME  WINDOW  LAYOUT  TITLE  COMMAND   an evnet program: the launcher adds
#                                                 --log (tmux) or --headless (plain)
#   raw    NAME  WINDOW  LAYOUT  TITLE  COMMAND   another program (ev_fleet): run as is
#   await  PORT...                                 wait until these local TCP ports listen
#
# NAME names the log (VAR/NAME.log) and the plain output prefix; WINDOW is
# the tmux window; LAYOUT says where a pane goes in it (new: the window's
# first pane; right: beside the first, 45% wide; tiled: another tile);
# COMMAND is the argv, each word quoted with printf %q.
#
# It reads these variables (the caller sets them; arrays where marked):
#   plan_build         build directory (programs under src/*/ and tools/)
#   plan_var           var directory (stores, logs)
#   plan_config        Central's registry seed (config/db.json)
#   plan_host          Central's host as the others reach it (name, IPv4 or IPv6, no brackets)
#   plan_port          Central's port (its stream: plan_pub_port, or port+1)
#   plan_bind          central: the address Central binds (empty: all interfaces)
#   plan_pub_port      central: Central's stream port (empty: port+1)
#   plan_cps[]         cps: the CPs of this host (Engine + Monitor each)
#   plan_drivers[]     drivers: the drivers of this host
#   plan_files[]       drivers: the i-th driver runs the i-th file (empty: none)
#   plan_trust[]       --keys DIR, or --insecure
#   plan_fleet_dir     fleet: the directory `ev_fleet --setup` made (db.json, central.db, keys/)
#   plan_fleet_cps plan_fleet_drivers plan_fleet_args[]   fleet: ev_fleet's size and extra options
#   plan_ocpp_cp plan_ocpp_port plan_ocpp_password_file   central/all with --ocpp: EV_OCPP on
#                      that port and a simulated OCPP charge point (empty: none)
#
# Ports on a host: Central's port P (and its stream port); the Engine of the
# i-th CP of a cps host (from 0) listens on P+100+i for its Monitor, which
# runs on the same host and reaches it at 127.0.0.1.

# shellcheck disable=SC2154  # the plan_* variables are the caller's (see above)
true

# Every word quoted for a shell, separated by spaces.
evnet_plan_quote() {
  local out="" word
  for word in "$@"; do
    out+="$(printf '%q' "$word") "
  done
  printf '%s' "${out% }"
}

_evnet_plan_step() {
  local kind="$1" name="$2" window="$3" layout="$4" title="$5"
  shift 5
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$name" "$window" "$layout" "$title" "$(evnet_plan_quote "$@")"
}

# True when PROGRAM's --help mentions OPTION (options newer than some builds).
evnet_plan_supports() {
  "$1" --help 2>&1 | grep -q -- "$2"
}

_evnet_plan_central() {
  local bin="$plan_build/src/central/EV_Central"
  local argv=("$bin" "$plan_port" --config "$plan_config" --db "$plan_var/central.db")
  [ -n "${plan_bind:-}" ] && argv+=(--bind "$plan_bind")
  [ -n "${plan_pub_port:-}" ] && argv+=(--pub-port "$plan_pub_port")
  _evnet_plan_step run central central new "EV_Central :$plan_port" "${argv[@]}" "${plan_trust[@]}"
  # Its ports listen before anything local connects (a driver's first
  # service would otherwise find no CP).
  printf 'await\t%s %s\n' "$plan_port" "${plan_pub_port:-$((plan_port + 1))}"
}

# The OCPP gateway, then a simulated OCPP charge point connected to it.
_evnet_plan_ocpp() {
  [ -n "${plan_ocpp_cp:-}" ] || return 0
  local root_dir
  root_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  _evnet_plan_step run ocpp ocpp new "EV_OCPP :$plan_ocpp_port (OCPP 1.6-J)" \
    "$plan_build/src/gateway/EV_OCPP" "$plan_host" "$plan_port" --listen "$plan_ocpp_port" \
    --db "$plan_var/ocpp-gateway.db" --heartbeat 30 "${plan_trust[@]}"
  printf 'await\t%s\n' "$plan_ocpp_port"
  _evnet_plan_step raw "ocpp-$plan_ocpp_cp" ocpp right "OCPP charge point $plan_ocpp_cp (simulated)" \
    node "$root_dir/tools/ocpp/sim_charge_point.js" --url "ws://127.0.0.1:$plan_ocpp_port/ocpp" --id "$plan_ocpp_cp" \
    --password-file "$plan_ocpp_password_file"
}

_evnet_plan_cps() {
  local engine="$plan_build/src/engine/EV_CP_E" monitor="$plan_build/src/monitor/EV_CP_M"
  # The Engine serves only its Monitor, on this host: it listens on the
  # loopback interface where EV_CP_E can be told so (--bind).
  local local_only=()
  evnet_plan_supports "$engine" --bind && local_only=(--bind 127.0.0.1)
  local i id eport ports=()
  for i in "${!plan_cps[@]}"; do
    id="${plan_cps[$i]}"
    eport=$((plan_port + 100 + i))
    ports+=("$eport")
    _evnet_plan_step run "monitor-$id" "$id" new "Monitor $id" \
      "$monitor" 127.0.0.1 "$eport" "$plan_host" "$plan_port" "$id" "${plan_trust[@]}"
    _evnet_plan_step run "engine-$id" "$id" right "Engine $id (ENTER: fault)" \
      "$engine" "$plan_host" "$plan_port" --cp "$id" --listen "$eport" "${local_only[@]}" \
      --store "$plan_var/engine-$id.db" "${plan_trust[@]}"
  done
  [ "${#ports[@]}" -gt 0 ] && printf 'await\t%s\n' "${ports[*]}"
  return 0
}

_evnet_plan_drivers() {
  local bin="$plan_build/src/driver/EV_Driver"
  local i id file layout=new
  for i in "${!plan_drivers[@]}"; do
    id="${plan_drivers[$i]}"
    file="${plan_files[$i]:-}"
    local extra=()
    [ -n "$file" ] && extra=(--file "$file")
    _evnet_plan_step run "driver-$id" drivers "$layout" "Driver $id" \
      "$bin" "$plan_host" "$plan_port" "$id" "${extra[@]}" "${plan_trust[@]}"
    layout=tiled
  done
}

_evnet_plan_fleet() {
  local dir="$plan_fleet_dir"
  local keys=(--keys "$dir/keys")
  [ "${plan_trust[0]:-}" = --insecure ] && keys=(--insecure)
  _evnet_plan_step run central central new "EV_Central :$plan_port ($plan_fleet_cps simulated CPs)" \
    "$plan_build/src/central/EV_Central" "$plan_port" --config "$dir/db.json" --db "$dir/central.db" "${keys[@]}"
  printf 'await\t%s %s\n' "$plan_port" "$((plan_port + 1))"
  _evnet_plan_step raw fleet fleet new "ev_fleet: $plan_fleet_cps CPs, $plan_fleet_drivers drivers" \
    "$plan_build/tools/ev_fleet" --cps "$plan_fleet_cps" --drivers "$plan_fleet_drivers" \
    --central "$(evnet_plan_host_port "$plan_host" "$plan_port")" "${keys[@]}" "${plan_fleet_args[@]}"
}

# HOST:PORT, with an IPv6 address in brackets.
evnet_plan_host_port() {
  case "$1" in
    *:*) printf '[%s]:%s' "$1" "$2" ;;
    *) printf '%s:%s' "$1" "$2" ;;
  esac
}

evnet_plan() {
  case "$1" in
    central)
      _evnet_plan_central
      _evnet_plan_ocpp
      ;;
    cps) _evnet_plan_cps ;;
    drivers) _evnet_plan_drivers ;;
    fleet) _evnet_plan_fleet ;;
    all)
      _evnet_plan_central
      _evnet_plan_ocpp
      _evnet_plan_cps
      _evnet_plan_drivers
      ;;
    *)
      printf 'evnet: unknown role %s\n' "$1" >&2
      return 2
      ;;
  esac
}

# Splits HOST:PORT, [IPV6]:PORT, HOST or [IPV6] into plan_host and plan_port
# (the port stays as it was when none is given). An IPv6 address with a port
# needs the brackets; without them a string with several colons is an
# address alone. Prints why and returns 2 when it cannot.
evnet_plan_parse_central() {
  local spec="$1" host port=""
  case "$spec" in
    \[*\]:*) host="${spec%%]*}"; host="${host#[}"; port="${spec##*]:}" ;;
    \[*\]) host="${spec#[}"; host="${host%]}" ;;
    *:*:*)
      host="$spec"
      printf 'evnet: taking %s as an IPv6 address (port %s); with another port write [ADDRESS]:PORT\n' \
        "$spec" "$plan_port" >&2
      ;;
    *:*) host="${spec%:*}"; port="${spec##*:}" ;;
    *) host="$spec" ;;
  esac
  if [ -z "$host" ]; then
    printf 'evnet: --central needs HOST:PORT, got "%s"\n' "$spec" >&2
    return 2
  fi
  if [ -n "$port" ]; then
    case "$port" in
      '' | *[!0-9]*)
        printf 'evnet: bad port in --central %s (IPv6 addresses with a port go in brackets: [2001:db8::1]:7000)\n' \
          "$spec" >&2
        return 2
        ;;
    esac
    plan_port="$port"
  fi
  plan_host="$host"
}

# CP or driver ids of a registry file (config/db.json), in file order: KIND
# is "cps" or "drivers". One object per line there, as config/db.json has it;
# other layouts are read whole.
evnet_plan_ids() {
  local kind="$1" config="$2"
  [ -f "$config" ] || return 0
  tr -d '\n' <"$config" |
    sed -n "s/.*\"$kind\"[[:space:]]*:[[:space:]]*\\[\\([^]]*\\)\\].*/\\1/p" |
    grep -o '"id"[[:space:]]*:[[:space:]]*"[^"]*"' |
    sed 's/.*"\([^"]*\)"$/\1/' || true
}

# True when something listens on local TCP PORT. Reads /proc instead of
# connecting: a stray connection would show up in Central's messages.
evnet_plan_listening() {
  local hex
  hex="$(printf '%04X' "$1")"
  awk -v port=":$hex" '$2 ~ (port "$") && $4 == "0A" { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Waits up to 10 s for each local PORT to listen (an `await` step), so that
# what starts next finds its peers; says so and goes on when one does not.
evnet_plan_await_ports() {
  local port tries
  for port in "$@"; do
    tries=100
    while ! evnet_plan_listening "$port"; do
      tries=$((tries - 1))
      if [ "$tries" -le 0 ]; then
        printf 'evnet: nothing listens on port %s yet; see the panes and var/*.log\n' "$port" >&2
        return 0
      fi
      sleep 0.1
    done
  done
}
