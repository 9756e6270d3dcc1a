/* sig.h: signal names <-> numbers, as start_server and kill(1) spell them. */
#ifndef BATON_SIG_H
#define BATON_SIG_H

/* "TERM", "SIGTERM", "term" or "15"; returns the number or -1. */
int sig_parse(const char *name);
/* "TERM" for SIGTERM; "15" style for unnamed ones (static buffer). */
const char *sig_name(int sig);

#endif
