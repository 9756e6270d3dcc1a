#!/bin/bash
# SPDX-License-Identifier: ISC
# examples/container: the Kubernetes manifest and the Dockerfile agree
# (probe paths and ports, container ports, grace period against the stop
# delay and timeout, startup budget against the ready timeout) and every
# option they give baton is one baton accepts. No container engine or
# cluster needed: the end-to-end run is examples/container/check.sh.
. "$(dirname "$0")/lib.sh"

baton_only_script "the manifest and the image run baton's extensions"
python3 -c 'import yaml' 2>/dev/null ||
	skip_all "python3 with yaml is missing (Debian: apt-get install python3-yaml)"

DIR=$top_srcdir/examples/container
MARGIN=5 # seconds baton needs after the workers are gone (README.md)

# The analysis: TAP verdicts as "pass<TAB>DESC" or "fail<TAB>DESC<TAB>WHY",
# and the argument vectors the shell part runs, one word a line, into $T.
python3 - "$DIR/Dockerfile" "$DIR/baton.yaml" "$T" "$MARGIN" >"$T/verdicts" <<'EOF' || bail_out "the analysis failed"
import json, re, shlex, sys, yaml

dockerfile, manifest, tmp, margin = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def verdict(ok, desc, why=""):
    print("%s\t%s\t%s" % ("pass" if ok else "fail", desc, why))

# Dockerfile instructions, continuation lines joined, comments dropped
text = re.sub(r"\\\n", " ", "".join(
    l for l in open(dockerfile) if not l.lstrip().startswith("#")))
instr = [(l.split(None, 1)[0].upper(), l.split(None, 1)[1].strip())
         for l in text.splitlines() if l.strip()]
last = lambda k: [v for i, v in instr if i == k][-1]
entrypoint = json.loads(last("ENTRYPOINT"))
expose = {int(p.split("/")[0]) for v in (v for i, v in instr if i == "EXPOSE")
          for p in v.split()}
hc = last("HEALTHCHECK")
hc_opts = dict(o.lstrip("-").split("=", 1) for o in shlex.split(hc.split("CMD")[0]))
hc_cmd = json.loads(hc.split("CMD", 1)[1])

docs = [d for d in yaml.safe_load_all(open(manifest)) if d]
kinds = {d["kind"]: d for d in docs}
pod = kinds["Deployment"]["spec"]["template"]
spec = pod["spec"]
ctr = [c for c in spec["containers"] if c["name"] == "baton"][0]
# what the container runs: the manifest's command/args over the image's
argv = (ctr.get("command") or entrypoint) + (ctr.get("args") or [])
verdict(not ctr.get("args") and not ctr.get("command"),
        "the manifest leaves baton's options to the image's ENTRYPOINT",
        "args: %r command: %r" % (ctr.get("args"), ctr.get("command")))
sep = argv.index("--")
opts = dict(o[2:].split("=", 1) if "=" in o else (o[2:], "")
            for o in argv[1:sep])
ports = [o.split("=", 1)[1] for o in argv[1:sep] if o.startswith("--port=")]
port_of = lambda spec: int(spec.rsplit(":", 1)[-1].split("=")[0])
metrics = port_of(opts["metrics-listen"])
app = {port_of(p) for p in ports}
# --stop-delay=auto[:MAX] waits at most MAX (default 30): the budget
sd = opts["stop-delay"]
delay = int(sd.split(":", 1)[1]) if sd.startswith("auto:") else 30 if sd == "auto" else int(sd)
stop_timeout = int(opts["stop-timeout"])
ready_timeout = int(opts.get("ready-timeout", 60 if opts.get("ready") == "notify" else 0))

cports = {p["containerPort"] for p in ctr["ports"]}
named = {p["name"]: p["containerPort"] for p in ctr["ports"] if "name" in p}
verdict(cports == expose == app | {metrics},
        "containerPorts = EXPOSE = --port and --metrics-listen ports",
        "containerPorts %s, EXPOSE %s, baton %s" % (sorted(cports), sorted(expose), sorted(app | {metrics})))

def http_probe(name, path):
    p = ctr.get(name) or {}
    g = p.get("httpGet") or {}
    port = named.get(g.get("port"), g.get("port"))
    verdict(g.get("path") == path and port == metrics,
            "%s: GET %s on the --metrics-listen port (%d)" % (name, path, metrics),
            "it has %r" % (p,))
    return p
readiness = http_probe("readinessProbe", "/readyz")
http_probe("livenessProbe", "/healthz")
startup = http_probe("startupProbe", "/readyz")
budget = lambda p: p.get("periodSeconds", 10) * p.get("failureThreshold", 3)
verdict(budget(startup) >= ready_timeout,
        "startupProbe allows --ready-timeout (%ds)" % ready_timeout,
        "periodSeconds x failureThreshold = %d" % budget(startup))
verdict(budget(readiness) <= delay,
        "readinessProbe sees the 503 within --stop-delay (%ds)" % delay,
        "periodSeconds x failureThreshold = %d" % budget(readiness))
grace = spec.get("terminationGracePeriodSeconds", 30)
verdict(grace >= delay + stop_timeout + margin,
        "terminationGracePeriodSeconds %d >= --stop-delay %d + --stop-timeout %d + %d"
        % (grace, delay, stop_timeout, margin), "it is %d" % grace)
ann = pod["metadata"].get("annotations", {})
verdict(ann.get("prometheus.io/port") == str(metrics)
        and ann.get("prometheus.io/path") == "/metrics",
        "prometheus.io annotations name /metrics on port %d" % metrics, repr(ann))
svc = kinds["Service"]
verdict(svc["spec"]["selector"] == pod["metadata"]["labels"] and
        all(named.get(p.get("targetPort"), p.get("targetPort")) in app
            for p in svc["spec"]["ports"]),
        "the Service selects the pods and targets an app port", repr(svc["spec"]))
verdict(hc_cmd[0] == argv[0] and "--health" in hc_cmd and
        "--status-file=" + opts.get("status-file", "?") in hc_cmd,
        "HEALTHCHECK runs the same baton with --health on its --status-file",
        repr(hc_cmd))
dur = lambda s: int(s[:-1]) * {"s": 1, "m": 60}[s[-1]] if s[-1] in "sm" else int(s)
verdict(dur(hc_opts.get("start-period", "0s")) >= ready_timeout,
        "HEALTHCHECK --start-period allows --ready-timeout (%ds)" % ready_timeout,
        "it is %r" % hc_opts.get("start-period"))
exec_probes = [p["exec"]["command"] for p in
               (ctr.get(k) or {} for k in ("readinessProbe", "livenessProbe", "startupProbe"))
               if "exec" in p]

# For the shell part: the options as baton would get them, with the
# addresses and files moved to this test's loopback ports and directory.
def local(o):
    if o.startswith("--port="):
        return "--port=127.0.0.1:0"
    if o.startswith("--metrics-listen="):
        return "--metrics-listen=127.0.0.1:@METRICS@"
    if o.startswith("--status-file="):
        return "--status-file=" + tmp + "/status"
    if o.startswith("--pid-file="):
        return "--pid-file=" + tmp + "/pid"
    return o
open(tmp + "/entry.args", "w").write("\n".join(local(o) for o in argv[1:sep]) + "\n")
open(tmp + "/worker.args", "w").write("\n".join(argv[sep + 1:]) + "\n")
probes = [hc_cmd] + exec_probes
open(tmp + "/probes", "w").write("".join(
    "\n".join(local(o) for o in p[1:]) + "\n\n" for p in probes))
for o in argv[1:sep]:
    print("option\t" + o)
# For kubectl: each object alone, with a "set" that only adds (kubectl
# prints nothing when a set changes nothing)
sets = {"Deployment": ["env", "BATON_MANIFEST_CHECK=1"],
        "Service": ["selector", ",".join("%s=%s" % kv for kv in
                                         svc["spec"]["selector"].items())]}
for d in docs:
    yaml.safe_dump(d, open("%s/k8s-%s.yaml" % (tmp, d["kind"]), "w"))
    open("%s/k8s-%s.set" % (tmp, d["kind"]), "w").write("\n".join(sets[d["kind"]]) + "\n")
EOF

while IFS=$'\t' read -r what desc why; do
	case $what in
	pass) pass "$desc" ;;
	fail) fail "$desc" "$why" ;;
	option) OPTIONS+=("$desc") ;;
	esac
done <"$T/verdicts"

# Every ENTRYPOINT option is one baton takes: --check parses the whole
# command line as a start would and binds the listeners.
mapfile -t entry <"$T/entry.args"
M=$(free_port)
entry=("${entry[@]//@METRICS@/$M}")
run_baton --check "${entry[@]}" -- /bin/true
is "$RUN_STATUS" 0 "baton --check takes the ENTRYPOINT's options: ${OPTIONS[*]}"
unlike "$RUN_ERR" 'Try .baton --help' "... with no usage error"

# The worker's options are the example worker's.
mapfile -t worker <"$T/worker.args"
HW=$top_builddir/examples/c/http-worker
if [ -x "$HW" ]; then
	usage=$("$HW" --no-such-option 2>&1)
	for w in "${worker[@]:1}"; do
		case $w in -*) like "$usage" "\\[$w " "http-worker has $w" ;; esac
	done
else
	skip "http-worker's options" "$HW is not built"
fi

# The exec probes (HEALTHCHECK, and any exec probe in the manifest) use
# options baton has: against a status file that does not exist they
# answer "not running" and exit 1, not a usage error.
probe=()
while IFS= read -r word || [ ${#probe[@]} -gt 0 ]; do
	if [ -n "$word" ]; then
		probe+=("$word")
		continue
	fi
	run_baton "${probe[@]}"
	is "$RUN_STATUS" 1 "exec probe 'baton ${probe[*]}' exits 1 with no baton running"
	like "$RUN_ERR" "^${MSG_PREFIX}not running: " "... and says it is not running"
	probe=()
done <"$T/probes"

# The image builds from a clean context: .dockerignore (at the top, where
# docker looks for it) keeps a tree built here out of the build.
for pat in config.status '**/*.o' '**/Makefile'; do
	file_like "$top_srcdir/.dockerignore" "^${pat//\*/\\*}\$" ".dockerignore excludes $pat"
done

# kubectl, when there is one, decodes the manifest into the API's own
# types offline (set --local); a field it does not know is dropped, so
# the round trip must give every field back.
if command -v kubectl >/dev/null 2>&1; then
	for f in "$T"/k8s-*.yaml; do
		mapfile -t set <"${f%.yaml}.set"
		kubectl set "${set[@]}" --local -o json -f "$f" >"${f%.yaml}.json" 2>>"$T/kubectl.err"
	done
	lost=$(python3 - "$DIR/baton.yaml" "$T"/k8s-*.json <<'EOF' 2>&1
import json, sys, yaml
got = {}
for f in sys.argv[2:]:
    try:
        o = json.load(open(f))
        got[o["kind"]] = o
    except ValueError:
        pass  # kubectl failed: every field of that object is lost
def lost(a, b, path):
    if isinstance(a, dict):
        for k, v in a.items():
            if not isinstance(b, dict) or k not in b:
                if v not in ([], {}):  # the API omits empty ones
                    yield path + "." + k
            else:
                yield from lost(v, b[k], path + "." + k)
    elif isinstance(a, list):
        for i, v in enumerate(a):
            if not isinstance(b, list) or i >= len(b):
                yield "%s[%d]" % (path, i)
            else:
                yield from lost(v, b[i], "%s[%d]" % (path, i))
    elif str(a) != str(b):
        yield "%s: %r became %r" % (path, a, b)
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d:
        for p in lost(d, got.get(d["kind"]), d["kind"]):
            print(p)
EOF
	)
	is "$lost" "" "kubectl decodes every field of baton.yaml (no unknown or mistyped field)"
	[ -s "$T/kubectl.err" ] && diag "kubectl: $(cat "$T/kubectl.err")"
else
	skip "kubectl decodes every field of baton.yaml" "no kubectl"
fi

done_testing
