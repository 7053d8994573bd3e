/*
 * symbols.h -- the list of symbols to follow: parsing, validation, files.
 */
#ifndef STOCKPIPE_SYMBOLS_H
#define STOCKPIPE_SYMBOLS_H

#include <stddef.h>

#define SYMBOLS_MAX 10000

struct symbols
{
	char	  **items;
	size_t		count;
};

int			symbols_add_list(struct symbols *s, const char *text, char *err, size_t errlen);
int			symbols_load_file(struct symbols *s, const char *path, char *err, size_t errlen);
void		symbols_free(struct symbols *s);

#endif
