/* SPDX-License-Identifier: ISC */
/* statusjson.h: STATUS.json, the snapshot (snapshot.h) as JSON: its
 * writer and its strict reader. */
#ifndef BATON_STATUSJSON_H
#define BATON_STATUSJSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "snapshot.h"

/* Write s as one line of JSON ending in "\n". -1 (errno) on a write
 * error. Strings are escaped; bytes that are not UTF-8 become U+FFFD. */
int status_json_write(FILE *f, const struct snapshot *s);
/* The same into a malloc'd buffer (*len without the NUL); NULL on ENOMEM. */
char *status_json_format(const struct snapshot *s, size_t *len);

/* Read text written by status_json_write (or a later version: unknown
 * keys are skipped). Strict JSON, bounded in depth, sizes and counts;
 * every key as old as the object holding it is required (the top level's
 * age is 0.1, the oldest file read), later ones are optional and left at
 * their null value. A duplicate key, a value of the wrong type or out of
 * its row's bounds is an error naming the key and the offset. -1 with err
 * on bad input; on success out's strings and arrays are malloc'd: free
 * them with status_json_free(). */
int status_json_parse(const char *text, struct snapshot *out, char *err,
                      size_t errlen);
void status_json_free(struct snapshot *s);

/* One key of the schema, for tests and documentation. */
struct status_json_key {
	char path[128];    /* "listeners.queue.len" */
	const char *name;  /* "len" */
	const char *since; /* the release that first wrote it: "0.2" */
	int required;      /* as old as the object holding it */
};
/* The i-th key, depth first in the writer's order (a listener's
 * "options" callback is not one); -1 past the last. */
int status_json_key(size_t i, struct status_json_key *out);

#endif
