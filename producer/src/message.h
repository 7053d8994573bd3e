/*
 * message.h -- encoding of quotes and bars as the Kafka JSON messages fixed
 * by DESIGN.md, and the small formatting helpers they need.
 */
#ifndef STOCKPIPE_MESSAGE_H
#define STOCKPIPE_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "contract.h"
#include "quote.h"

/* Large enough for any quote or bar message. */
#define MESSAGE_MAX SP_MESSAGE_MAX

/*
 * The message of q (b) in buf; its length, or -1 with the reason in err
 * (SP_ERR_MAX bytes) when the consumers would not store it as it is.
 */
int			message_quote_json(const struct quote *q, char *buf, size_t size, char *err);
int			message_bar_json(const struct bar *b, char *buf, size_t size, char *err);

int			format_rfc3339_ms(int64_t ts_ms, char *buf, size_t size);
int			format_date(int64_t epoch_s, char *buf, size_t size);
int			parse_rfc3339_ms(const char *s, int64_t *ts_ms);

int			symbol_is_valid(const char *s);

#endif
