/*
 * sim_test.c -- the random-walk generator: reproducible with a seed,
 * plausible values, unique increasing timestamps per symbol.
 */
#include "sim.h"
#include "tap.h"

static char msg_err[SP_ERR_MAX];

int
main(void)
{
	char	   *syms[] = {"AAPL", "MSFT", "^GSPC"};
	struct sim	a, b;
	sp_quote	qa,
				qb;
	int			same = 1, valid = 1, cents = 1, increasing = 1, rr = 1, ohlc = 1;
	int64_t		last[3] = {0, 0, 0};
	char		msg[SP_MESSAGE_MAX];

	sim_init(&a, syms, 3, 7);
	sim_init(&b, syms, 3, 7);
	for (int i = 0; i < 30000; i++)
	{
		int64_t		now = 1795807801000LL + i / 10;	/* ten quotes per ms */

		sim_next(&a, now, &qa);
		sim_next(&b, now, &qb);
		if (qa.price != qb.price || qa.volume != qb.volume || strcmp(qa.symbol, qb.symbol))
			same = 0;
		if (sp_encode_quote(&qa, msg, sizeof(msg), msg_err) < 0 || qa.price <= 0 || qa.volume < 0)
			valid = 0;
		if (fabs(qa.price * 100 - round(qa.price * 100)) > 1e-6)
			cents = 0;
		if (strcmp(qa.symbol, syms[i % 3]) != 0)
			rr = 0;
		if (qa.ts_us <= last[i % 3] || qa.ts_us % 1000 != 0)
			increasing = 0;
		last[i % 3] = qa.ts_us;
		if (!(qa.low <= qa.price && qa.price <= qa.high && qa.low <= qa.open && qa.open <= qa.high))
			ohlc = 0;
	}
	CHECK(same, "sim: same seed, same quotes");
	CHECK(valid, "sim: every quote encodes (valid symbol, price > 0)");
	CHECK(cents, "sim: prices in cents");
	CHECK(rr, "sim: symbols take turns");
	CHECK(increasing, "sim: timestamps strictly increase per symbol, in whole milliseconds");
	CHECK(ohlc, "sim: low <= open, price <= high");
	CHECK(strcmp(qa.source, "sim") == 0 && strcmp(qa.currency, "USD") == 0 &&
		  qa.present == (SP_HAS_VOLUME | SP_HAS_OPEN | SP_HAS_HIGH | SP_HAS_LOW |
						 SP_HAS_PREV_CLOSE | SP_HAS_CURRENCY | SP_HAS_SOURCE),
		  "sim: source and currency, every field present");
	sim_free(&b);
	sim_init(&b, syms, 3, 8);
	sim_next(&b, 0, &qb);
	sim_next(&b, 0, &qb);
	sim_next(&b, 0, &qb);
	sim_next(&b, 0, &qb);
	CHECK(qb.prev_close == a.quotes[0].prev_close, "sim: start price depends on the symbol only");
	sim_free(&a);
	sim_free(&b);
	return tap_summary();
}
