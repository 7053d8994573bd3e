/*
 * symbols.c -- parses symbol lists ("AAPL,MSFT" or a file with one or more
 * symbols per line, '#' starting a comment), upper-cases them, checks them
 * against DESIGN.md's alphabet and drops duplicates, so that a typo is a
 * usage error at start-up instead of a stream of rejected messages.
 */
#include "symbols.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"

static int
symbols_add_one(struct symbols *s, const char *tok, size_t len, char *err, size_t errlen)
{
	char		sym[SP_SYMBOL_MAX + 2];
	char	  **grown;

	if (len > SP_SYMBOL_MAX)
	{
		snprintf(err, errlen, "invalid symbol \"%.*s\": longer than %d characters",
				 (int) (len > 40 ? 40 : len), tok, SP_SYMBOL_MAX);
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		sym[i] = (char) toupper((unsigned char) tok[i]);
	sym[len] = '\0';
	if (!sp_valid_symbol(sym))
	{
		snprintf(err, errlen, "invalid symbol \"%s\": use 1-%d characters of A-Z 0-9 . - ^ =",
				 sym, SP_SYMBOL_MAX);
		return -1;
	}
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->items[i], sym) == 0)
			return 0;
	if (s->count >= SYMBOLS_MAX)
	{
		snprintf(err, errlen, "too many symbols (at most %d)", SYMBOLS_MAX);
		return -1;
	}
	grown = realloc(s->items, (s->count + 1) * sizeof(char *));
	if (grown == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->items = grown;
	s->items[s->count] = strdup(sym);
	if (s->items[s->count] == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->count++;
	return 0;
}

/* Adds every symbol of TEXT (separated by commas or white space). */
int
symbols_add_list(struct symbols *s, const char *text, char *err, size_t errlen)
{
	const char *p = text;

	while (*p)
	{
		size_t		len;

		while (*p == ',' || isspace((unsigned char) *p))
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, ", \t\r\n");
		if (symbols_add_one(s, p, len, err, errlen) != 0)
			return -1;
		p += len;
	}
	return 0;
}

/* Adds every symbol of the file at PATH; '#' comments out the rest of a line. */
int
symbols_load_file(struct symbols *s, const char *path, char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "r");
	char		line[4096];
	int			lineno = 0;

	if (f == NULL)
	{
		snprintf(err, errlen, "cannot open symbols file \"%s\": %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f))
	{
		char		inner[256];

		lineno++;
		line[strcspn(line, "#")] = '\0';
		if (symbols_add_list(s, line, inner, sizeof(inner)) != 0)
		{
			snprintf(err, errlen, "%s:%d: %s", path, lineno, inner);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

void
symbols_free(struct symbols *s)
{
	for (size_t i = 0; i < s->count; i++)
		free(s->items[i]);
	free(s->items);
	s->items = NULL;
	s->count = 0;
}
