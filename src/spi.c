/*-------------------------------------------------------------------------
 *
 * spi.c
 *	  Running SQL through SPI, and reading its rows (see spi.h).
 *
 * Every statement of every worker goes through sp_sql() or sp_sql_plan(),
 * so a statement that does not do what it should always fails the same
 * way: an ERROR that names the statement, which ends the transaction (and
 * the worker, which the postmaster restarts).
 *
 *-------------------------------------------------------------------------
 */
#include "spi.h"

static void
check_result(int got, int expected, const char *sql)
{
	if (got != expected)
		elog(ERROR, "stockpipe: statement failed (%s, expected %s): %s",
			 SPI_result_code_string(got), SPI_result_code_string(expected),
			 sql ? sql : "(prepared statement)");
}

uint64
sp_sql(const char *sql, int nargs, const Oid *types, const Datum *values,
	   int expected, SPITupleTable **rows)
{
	int			got = SPI_execute_with_args(sql, nargs, (Oid *) types,
											(Datum *) values, NULL, false, 0);

	check_result(got, expected, sql);
	if (rows != NULL)
		*rows = SPI_tuptable;
	return SPI_processed;
}

SPIPlanPtr
sp_sql_prepare(SPIPlanPtr *cache, const char *sql, int nargs, const Oid *types)
{
	SPIPlanPtr	plan;

	if (*cache != NULL)
		return *cache;
	plan = SPI_prepare(sql, nargs, (Oid *) types);
	if (plan == NULL)
		elog(ERROR, "stockpipe: preparing a statement failed (%s): %s",
			 SPI_result_code_string(SPI_result), sql);
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "stockpipe: SPI_keepplan failed");
	*cache = plan;
	return plan;
}

uint64
sp_sql_plan(SPIPlanPtr plan, const Datum *values, int expected,
			SPITupleTable **rows)
{
	int			got = SPI_execute_plan(plan, (Datum *) values, NULL, false, 0);

	check_result(got, expected, NULL);
	if (rows != NULL)
		*rows = SPI_tuptable;
	return SPI_processed;
}

Datum
sp_col(SPITupleTable *rows, uint64 row, int col, bool *isnull)
{
	return SPI_getbinval(rows->vals[row], rows->tupdesc, col, isnull);
}

bool
sp_col_isnull(SPITupleTable *rows, uint64 row, int col)
{
	bool		isnull;

	(void) sp_col(rows, row, col, &isnull);
	return isnull;
}

char *
sp_col_text(SPITupleTable *rows, uint64 row, int col)
{
	return SPI_getvalue(rows->vals[row], rows->tupdesc, col);
}

/* The column's value, or zero (of any pass-by-value type) when it is NULL. */
static Datum
col_or_zero(SPITupleTable *rows, uint64 row, int col)
{
	bool		isnull;
	Datum		d = sp_col(rows, row, col, &isnull);

	return isnull ? (Datum) 0 : d;
}

int32
sp_col_int32(SPITupleTable *rows, uint64 row, int col)
{
	return DatumGetInt32(col_or_zero(rows, row, col));
}

int64
sp_col_int64(SPITupleTable *rows, uint64 row, int col)
{
	return DatumGetInt64(col_or_zero(rows, row, col));
}

double
sp_col_float8(SPITupleTable *rows, uint64 row, int col)
{
	bool		isnull;
	Datum		d = sp_col(rows, row, col, &isnull);

	return isnull ? 0 : DatumGetFloat8(d);
}

bool
sp_col_bool(SPITupleTable *rows, uint64 row, int col)
{
	return DatumGetBool(col_or_zero(rows, row, col));
}
