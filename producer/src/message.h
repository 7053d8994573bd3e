/*
 * message.h -- encoding of quotes and bars as the Kafka JSON messages fixed
 * by DESIGN.md, and the small formatting helpers they need.
 */
#ifndef STOCKPIPE_MESSAGE_H
#define STOCKPIPE_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "quote.h"

/* Large enough for any quote or bar message. */
#define MESSAGE_MAX 512

int			message_quote_json(const struct quote *q, char *buf, size_t size);
int			message_bar_json(const struct bar *b, char *buf, size_t size);

int			format_double(double v, char *buf, size_t size);
int			format_rfc3339_ms(int64_t ts_ms, char *buf, size_t size);
int			format_date(int64_t epoch_s, char *buf, size_t size);
int			parse_rfc3339_ms(const char *s, int64_t *ts_ms);

int			symbol_is_valid(const char *s);

#endif
