/*
 * message.h -- the producer's side of the message contract.  The quotes and
 * bars it publishes are the contract's own sp_quote and sp_bar
 * (contract/contract.h), so the quote row and the bar row are spelled once;
 * these helpers fill their optional fields and show a bar's date.
 */
#ifndef STOCKPIPE_MESSAGE_H
#define STOCKPIPE_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "contract.h"

/*
 * An optional field of a quote or a bar: *FIELD = V and BIT set in
 * *PRESENT when V is known (an amount not NAN, a volume >= 0, a text the
 * contract allows); otherwise the field stays absent, never 0 or "".
 */
void		message_set_amount(double *field, unsigned *present, unsigned bit, double v);
void		message_set_volume(int64_t *field, unsigned *present, int64_t v);
void		message_set_currency(sp_quote *q, const char *currency);
void		message_set_source(sp_quote *q, const char *source);
void		message_set_exchange_tz(sp_quote *q, const char *tz);
void		message_set_session(sp_quote *q, const char *session);

/* A date (days since 1970-01-01) as YYYY-MM-DD: 10, or -1 if not years 0001..9999. */
int			message_format_date(int32_t days, char *buf, size_t size);

#endif
