/*-------------------------------------------------------------------------
 *
 * mail_sql.c
 *	  The mailer's address and webhook URL rules, callable from SQL:
 *	  set_alert(), set_channel() and check_alerts() ask the very functions
 *	  the mailer asks (mail.c, webhook.c), so the API refuses exactly what
 *	  the mailer would not send.
 *
 *-------------------------------------------------------------------------
 */
#include "stockpipe.h"

#include "fmgr.h"
#include "mail.h"
#include "utils/builtins.h"
#include "webhook.h"

PG_FUNCTION_INFO_V1(stockpipe_mail_domain_allowed);
PG_FUNCTION_INFO_V1(stockpipe_email_problem);
PG_FUNCTION_INFO_V1(stockpipe_webhook_url_problem);
PG_FUNCTION_INFO_V1(stockpipe_webhook_host_problem);

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

/* stockpipe.webhook_url_problem(): the mailer's own URL rule, in words. */
Datum
stockpipe_webhook_url_problem(PG_FUNCTION_ARGS)
{
	char	   *url = text_to_cstring(PG_GETARG_TEXT_PP(0));
	const char *problem = sp_webhook_url_problem(url);

	if (problem == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(problem));
}

/* stockpipe.webhook_host_problem(): stockpipe.webhook_allowed_hosts, as the mailer reads it. */
Datum
stockpipe_webhook_host_problem(PG_FUNCTION_ARGS)
{
	char	   *url = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char		why[SP_WEBHOOK_HOST_MAX + 200];
	const char *problem = sp_webhook_host_problem(url, sp_webhook_allowed_hosts, why, sizeof(why));

	if (problem == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(problem));
}
