/* envdir.h: start_server's --envdir, applied to baton's own environment. */
#ifndef BATON_ENVDIR_H
#define BATON_ENVDIR_H

/* Load $ENVDIR (one variable per file, the first line its value; names
 * starting with '.' skipped; an empty file unsets the variable). A
 * variable whose file was removed since the last load gets back the
 * value it had before envdir first set it (start_server restores the
 * value from start-up instead: a bug). Returns the number of files read,
 * -1 with errno when $ENVDIR is set but cannot be read. */
int envdir_load(void);

#endif
