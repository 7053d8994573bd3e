/*
 * fence.c -- the split-brain fence's pure rules (fence.h).  The consumers
 * (consumer.c) tag their Kafka offset commits and read the others' tags;
 * shared memory (shmem.c) tells the mailer and the scheduler.
 *
 * A promoted standby has the same system identifier as its old primary
 * (it is a physical copy) and a higher timeline: promotion always starts a
 * new one.  So when an old primary comes back as a primary and finds, on
 * the offsets committed to the shared consumer group, the tag of its own
 * system on a later timeline, it knows a standby was promoted after it:
 * it is the stale side of a split brain.
 */
#include "fence.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

char *
sp_fence_tag(char *buf, size_t cap, uint64_t sysid, uint32_t tli)
{
	snprintf(buf, cap, "stockpipe %" PRIu64 " %" PRIu32, sysid, tli);
	return buf;
}

/* Digits only, no sign, no leading zero but "0", within UINT64_MAX. */
static bool
parse_u64(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t	v = 0;

	if (s >= end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9'))
		return false;
	for (; s < end && *s >= '0' && *s <= '9'; s++)
	{
		unsigned	d = (unsigned) (*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return true;
}

bool
sp_fence_parse(const char *s, size_t len, uint64_t *sysid, uint32_t *tli)
{
	static const char prefix[] = "stockpipe ";
	const char *p;
	const char *end;
	uint64_t	id;
	uint64_t	t;

	if (s == NULL || len < sizeof(prefix) - 1 || len >= SP_FENCE_TAG_LEN ||
		memcmp(s, prefix, sizeof(prefix) - 1) != 0)
		return false;
	p = s + sizeof(prefix) - 1;
	end = s + len;
	if (!parse_u64(&p, end, &id) || p >= end || *p++ != ' ' ||
		!parse_u64(&p, end, &t) || p != end || t == 0 || t > UINT32_MAX)
		return false;
	*sysid = id;
	*tli = (uint32_t) t;
	return true;
}

bool
sp_fence_superseded(uint64_t sysid, uint32_t tli, uint64_t other_sysid, uint32_t other_tli)
{
	return sysid == other_sysid && other_tli > tli;
}
