/* SPDX-License-Identifier: ISC */
/* monotime.h: the clock every deadline of baton is measured on. */
#ifndef BATON_MONOTIME_H
#define BATON_MONOTIME_H

/* Seconds on CLOCK_MONOTONIC. ev_now() is wall time, which a step of the
 * clock (NTP, a resumed virtual machine, date -s) moves by hours: never
 * add a grace to it and compare later. Wall time is only for what a
 * person reads (the log, STATUS.json); an ev_timer is monotonic in libev
 * already. */
double monotime_now(void);

#endif
