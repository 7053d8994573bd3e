/*
 * sources.h -- the three sources of quotes.  Each runs until done or until
 * a stop signal and returns the process exit status it asks for.
 */
#ifndef STOCKPIPE_SOURCES_H
#define STOCKPIPE_SOURCES_H

#include "runtime.h"

int			source_yahoo_run(struct runtime *rt);
int			source_replay_run(struct runtime *rt);
int			source_sim_run(struct runtime *rt);

#endif
