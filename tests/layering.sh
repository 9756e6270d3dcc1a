#!/bin/sh
# SPDX-License-Identifier: ISC
# layering.sh: no two files of supervisor/ depend on each other, directly
# or through others. A file depends on another when it includes its
# header ("b.h" with a b.c beside it) or calls a function, or uses a
# variable, the other's object defines (nm). Each loop found is printed
# with the edges that close it; callbacks passed as function pointers are
# how a lower file reaches back up.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
exec python3 - "$top_srcdir/supervisor" "$top_builddir/supervisor" <<'PY'
import os, re, subprocess, sys
src, obj = sys.argv[1], sys.argv[2]
mods = sorted(f[:-2] for f in os.listdir(src) if f.endswith(".c"))
print("1..2")
inc = {m: set() for m in mods}
for m in mods:
    for line in open(os.path.join(src, m + ".c"), errors="replace"):
        r = re.match(r'\s*#\s*include\s+"([^"/]+)\.h"', line)
        if r and r.group(1) in inc and r.group(1) != m:
            inc[m].add(r.group(1))
defs, undef = {}, {m: set() for m in mods}
for m in mods:
    o = os.path.join(obj, m + ".o")
    if not os.path.exists(o):
        print("Bail out! %s is not built" % o)
        sys.exit(1)
    out = subprocess.run(["nm", o], capture_output=True, text=True,
                         check=True).stdout
    for l in out.splitlines():
        p = l.split()
        if len(p) == 3 and p[1] in "TDBRC":
            defs[p[2]] = m
        elif len(p) == 2 and p[0] == "U":
            undef[m].add(p[1])
calls, why = {m: set() for m in mods}, {}
for m in mods:
    for s in undef[m]:
        d = defs.get(s)
        if d and d != m:
            calls[m].add(d)
            why.setdefault((m, d), []).append(s)

def loops(g):
    idx, low, st, on, res, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)
    def visit(v):
        idx[v] = low[v] = n[0]; n[0] += 1; st.append(v); on.add(v)
        for w in sorted(g[v]):
            if w not in idx:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], idx[w])
        if low[v] == idx[v]:
            c = []
            while True:
                w = st.pop(); on.discard(w); c.append(w)
                if w == v:
                    break
            if len(c) > 1:
                res.append(sorted(c))
    for v in sorted(g):
        if v not in idx:
            visit(v)
    return res

for num, (name, g) in enumerate((("include", inc), ("call", calls)), 1):
    found = loops(g)
    for c in found:
        print("# %s loop: %s" % (name, " ".join(c)))
        for a in c:
            for b in sorted(g[a] & set(c)):
                extra = ""
                if name == "call":
                    extra = " (" + ", ".join(sorted(why[(a, b)])[:4]) + ")"
                print("#    %s -> %s%s" % (a, b, extra))
    print("%s %d - no %s loop between the files of supervisor/ (%d files)"
          % ("not ok" if found else "ok", num, name, len(mods)))
PY
