/*-------------------------------------------------------------------------
 *
 * fields_pg.h
 *	  The message fields (contract/fields.h) as PostgreSQL values.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STOCKPIPE_FIELDS_PG_H
#define STOCKPIPE_FIELDS_PG_H

#include "postgres.h"

#include "contract.h"

extern Oid	sp_field_type_oid(sp_field_kind kind);
extern Datum sp_field_datum(const sp_field *f, const void *msg,
							unsigned present, bool *isnull);
extern char *sp_fields_insert_sql(const char *table, const sp_field *fields,
								  int n, bool replace, const char *extra_set);

#endif							/* STOCKPIPE_FIELDS_PG_H */
