#!/bin/bash
# SPDX-License-Identifier: ISC
# Drop-in retry: start_server's own scenario. Generation 1 fails
# and 2 serves; after a HUP, 3 and 4 fail, and 5 serves within 6 s, while 2
# keeps serving throughout and is retired only once 5 is up. Runs against
# Perl's start_server too (BATON=/usr/bin/start_server): the same outcome.
. "$(dirname "$0")/lib.sh"

cat >"$T/app" <<APP
#!/bin/sh
case "\$SERVER_STARTER_GENERATION" in 1|3|4) exit 1 ;; esac
exec "$WORKER" --report "$T/report.%g" --on-signal-log "$T/signals.log"
APP
chmod +x "$T/app"
P=$(free_port)
start_baton --port=127.0.0.1:$P ${LOG_OPT:-} --pid-file="$T/pid" --status-file="$T/status" -- "$T/app"
check "generation 1 fails at start-up, generation 2 serves" wait_gen 127.0.0.1:$P 2 15
check "generation 2 is settled (the status file lists it)" wait_status "$T/status" 2 10
pid2=$(http_pid 127.0.0.1:$P)

# every answer while the restart is retried: 2 until 5 takes over
seen=
_answer() {
	local g
	g=$(http_gen 127.0.0.1:$P) || g=refused
	case " $seen " in *" $g "*) ;; *) seen="$seen $g" ;; esac
	[ "$g" = 5 ]
}
t0=$(now_ms)
kill -HUP "$BATON_PID"
# generation 5 must start within 6 s (start_server's test), by the worker's
# own clock; it then has --interval and the machine's load to be up
check "after a HUP, generations 3 and 4 fail and 5 serves" wait_until 20 _answer
diag "after $(($(now_ms) - t0)) ms; answers seen:$seen"
cmp_ok "$(ms_between "$t0" "$(report_ms "$(report 5)")")" -le "$(scaled_ms 6000)" \
	"generation 5 started within $(scaled 6) s of the HUP"
is "$seen" " 2 5" "generation 2 answered every request until 5 took over"
check "generation 5 is the one in the status file" wait_status "$T/status" 5 5
check "generation 2's worker is retired once 5 serves" wait_pid_gone "$pid2" 10
like "$(signals_of "$pid2")" '^TERM' "with --signal-on-hup (TERM), after generation 5 was up"
is "$(ls "$T"/report.* 2>/dev/null | sed 's/.*report\.//' | sort -n | tr '\n' ' ')" "2 5 " \
	"only generations 2 and 5 ever ran a worker"
done_testing
