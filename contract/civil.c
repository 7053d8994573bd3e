/*-------------------------------------------------------------------------
 *
 * civil.c
 *	  Proleptic Gregorian calendar arithmetic (see civil.h).
 *
 * Howard Hinnant's days_from_civil / civil_from_days: counting years from
 * March puts the leap day at the end of the year, so the day of the year
 * is a linear function of the month, and the 400-year era repeats exactly;
 * exact for every year, no tables beyond the month lengths.
 *
 *-------------------------------------------------------------------------
 */
#include "civil.h"

bool
sp_is_leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
sp_days_in_month(int64_t y, int m)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return (m == 2 && sp_is_leap_year(y)) ? 29 : mdays[m - 1];
}

int64_t
sp_days_from_civil(int64_t y, int m, int d)
{
	int64_t		yy = y - (m <= 2);
	int64_t		era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t		yoe = yy - era * 400;	/* [0, 399] */
	int64_t		doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
	int64_t		doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;	/* [0, 146096] */

	return era * 146097 + doe - 719468;
}

void
sp_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t		era;
	int64_t		doe;
	int64_t		yoe;
	int64_t		doy;
	int64_t		mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;		/* [0, 146096] */
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;	/* [0, 399] */
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);	/* [0, 365] */
	mp = (5 * doy + 2) / 153;	/* [0, 11], from March */
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = (int) (yoe + era * 400 + (*m <= 2));
}
