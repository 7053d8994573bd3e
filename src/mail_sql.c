/*-------------------------------------------------------------------------
 *
 * mail_sql.c
 *	  The mailer's address rules, callable from SQL: set_alert() and
 *	  check_alerts() ask the very function the mailer asks (mail.c), so the
 *	  API refuses exactly what the mailer would not send.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include "fmgr.h"
#include "mail.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(stockpipe_mail_domain_allowed);
PG_FUNCTION_INFO_V1(stockpipe_email_problem);

Datum
stockpipe_mail_domain_allowed(PG_FUNCTION_ARGS)
{
	char	   *email = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_BOOL(sp_mail_domain_allowed(email, sp_mail_allowed_domains ? sp_mail_allowed_domains : ""));
}

/* stockpipe.email_problem(): the mailer's own address rule, in words. */
Datum
stockpipe_email_problem(PG_FUNCTION_ARGS)
{
	char	   *email = text_to_cstring(PG_GETARG_TEXT_PP(0));
	const char *problem = sp_mail_address_problem(email);

	if (problem == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(problem));
}
