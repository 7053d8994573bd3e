/*
 * fence_test.c -- the split-brain fence's tag and rule (src/fence.c): a
 * tag reads back as written, anything else is not a tag, and only the same
 * system on a later timeline supersedes a server.
 */
#include "fence.h"

#include <stdint.h>
#include <string.h>

#include "tap.h"

static bool
parses(const char *s, uint64_t *id, uint32_t *tli)
{
	return sp_fence_parse(s, strlen(s), id, tli);
}

static void
test_tags(void)
{
	char		buf[SP_FENCE_TAG_LEN];
	uint64_t	id = 0;
	uint32_t	tli = 0;

	sp_fence_tag(buf, sizeof(buf), 7449912117081309817ULL, 2);
	CHECK(strcmp(buf, "stockpipe 7449912117081309817 2") == 0, "tag: system identifier and timeline");
	CHECK(parses(buf, &id, &tli) && id == 7449912117081309817ULL && tli == 2, "tag reads back");
	sp_fence_tag(buf, sizeof(buf), UINT64_MAX, UINT32_MAX);
	CHECK(parses(buf, &id, &tli) && id == UINT64_MAX && tli == UINT32_MAX, "largest values read back");
	CHECK(sp_fence_parse("stockpipe 5 3 and more", 13, &id, &tli) && id == 5 && tli == 3,
		  "metadata is read to its length, not to a NUL");
}

static void
test_not_tags(void)
{
	static const char *bad[] = {
		"", "stockpipe", "stockpipe ", "stockpipe 5", "stockpipe 5 ", "stockpipe  5 3",
		"stockpipe 5  3", "stockpipe 5 3 ", "stockpipe -5 3", "stockpipe 5 -3", "stockpipe +5 3",
		"stockpipe 05 3", "stockpipe 5 03", "stockpipe 5 0", "stockpipe 5 4294967296",
		"stockpipe 18446744073709551616 1", "stockpipe 5 3x", "Stockpipe 5 3", "other 5 3",
		"stockpipe 0x5 3", "stockpipe 5 3\n",
	};
	uint64_t	id;
	uint32_t	tli;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check(!parses(bad[i], &id, &tli), "not a tag: \"%s\"", bad[i]);
	CHECK(!sp_fence_parse(NULL, 0, &id, &tli), "not a tag: NULL");
	{
		char		longer[200];

		memset(longer, '1', sizeof(longer));
		memcpy(longer, "stockpipe 5 ", 12);
		CHECK(!sp_fence_parse(longer, sizeof(longer), &id, &tli), "not a tag: 200 bytes");
	}
}

static void
test_rule(void)
{
	CHECK(sp_fence_superseded(42, 1, 42, 2), "same system, later timeline: superseded (a promoted standby)");
	CHECK(sp_fence_superseded(42, 1, 42, 9), "... however much later");
	CHECK(!sp_fence_superseded(42, 2, 42, 2), "same system, same timeline: this server itself");
	CHECK(!sp_fence_superseded(42, 3, 42, 2), "same system, earlier timeline: the stale one is the other");
	CHECK(!sp_fence_superseded(42, 1, 43, 5), "another system: not a copy of this one");
}

int
main(void)
{
	test_tags();
	test_not_tags();
	test_rule();
	return tap_summary();
}
