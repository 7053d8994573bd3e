/*
 * fence.h -- the split-brain fence's pure rules (fence.c): the tag a
 * server attaches to the offsets it commits to Kafka, and when another
 * server's tag means this one has been superseded.  No PostgreSQL and no
 * I/O here, so that the unit tests can run them.
 */
#ifndef SP_FENCE_H
#define SP_FENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "stockpipe <system identifier> <timeline>": at most this long. */
#define SP_FENCE_TAG_LEN 64

/* Write this server's tag; returns buf. */
extern char *sp_fence_tag(char *buf, size_t cap, uint64_t sysid, uint32_t tli);

/*
 * Read a tag of up to len bytes (Kafka's commit metadata is not
 * NUL-terminated); false for anything else, which is ignored.
 */
extern bool sp_fence_parse(const char *s, size_t len, uint64_t *sysid, uint32_t *tli);

/*
 * Whether a server with (sysid, tli) has been superseded by one that
 * committed (other_sysid, other_tli): the same system (a physical copy of
 * this one, i.e. a standby that was promoted) on a later timeline.
 */
extern bool sp_fence_superseded(uint64_t sysid, uint32_t tli,
								uint64_t other_sysid, uint32_t other_tli);

#endif
