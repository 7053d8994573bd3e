/*-------------------------------------------------------------------------
 *
 * spi.h
 *	  The one way stockpipe's workers run SQL through SPI: a statement with
 *	  parameters (or a plan kept for the life of the process) that must
 *	  return what the caller expects, and typed getters for its rows.
 *
 * Inside sp_tx_begin() / sp_tx_end() (worker.c).  A result stays valid
 * until the transaction ends, also when other statements run meanwhile,
 * so callers keep the SPITupleTable they are given instead of reading the
 * SPI_tuptable global.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STOCKPIPE_SPI_H
#define STOCKPIPE_SPI_H

#include "postgres.h"

#include "executor/spi.h"

/*
 * Run sql with nargs parameters (types, values; none NULL); ERROR unless
 * SPI answers expected (SPI_OK_SELECT, SPI_OK_UPDATE, ...).  Returns the
 * number of rows processed; *rows (when not NULL) gets the rows returned.
 */
extern uint64 sp_sql(const char *sql, int nargs, const Oid *types,
					 const Datum *values, int expected, SPITupleTable **rows);

/* The same with a plan prepared once, on first use, and kept in *cache. */
extern SPIPlanPtr sp_sql_prepare(SPIPlanPtr *cache, const char *sql,
								 int nargs, const Oid *types);
extern uint64 sp_sql_plan(SPIPlanPtr plan, const Datum *values, int expected,
						  SPITupleTable **rows);

/* Column col (from 1) of row row; a NULL reads as isnull / NULL / 0 / false. */
extern Datum sp_col(SPITupleTable *rows, uint64 row, int col, bool *isnull);
extern bool sp_col_isnull(SPITupleTable *rows, uint64 row, int col);
extern char *sp_col_text(SPITupleTable *rows, uint64 row, int col);
extern int32 sp_col_int32(SPITupleTable *rows, uint64 row, int col);
extern int64 sp_col_int64(SPITupleTable *rows, uint64 row, int col);
extern double sp_col_float8(SPITupleTable *rows, uint64 row, int col);
extern bool sp_col_bool(SPITupleTable *rows, uint64 row, int col);

#endif							/* STOCKPIPE_SPI_H */
