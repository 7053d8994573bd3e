/*-------------------------------------------------------------------------
 *
 * ascii.h
 *	  Byte classes of US-ASCII, independent of the locale, for the pure
 *	  parsers of alert e-mails (mail.c) and webhooks (webhook.c).
 *
 * <ctype.h> answers by the process's locale (and the server's LC_CTYPE is
 * whatever initdb chose), so a check written with isalpha() could accept a
 * Latin-1 letter in one cluster and not in another.  These never do.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STOCKPIPE_ASCII_H
#define STOCKPIPE_ASCII_H

#include <stdbool.h>
#include <stddef.h>

static inline bool
sp_ascii_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline bool
sp_ascii_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline bool
sp_ascii_hex(unsigned char c)
{
	return sp_ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline unsigned char
sp_ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + ('a' - 'A')) : c;
}

/*
 * strlen, but stops counting at max + 1 (strnlen is not C11): enough to
 * refuse a value that is too long without reading all of it.
 */
static inline size_t
sp_bounded_len(const char *s, size_t max)
{
	size_t		n = 0;

	while (n <= max && s[n] != '\0')
		n++;
	return n;
}

#endif							/* STOCKPIPE_ASCII_H */
