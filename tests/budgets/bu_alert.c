/* bu_alert.c - budget violations reach the game's callback and stderr
 *
 *     bu_alert
 *
 * Node "small" (hard 1 MiB) bound to tag "small". Under it: a 700 KiB block
 * (fits), a second 700 KiB block (over the hard limit: no asset to evict;
 * soft mode lets it through with a violation, strict fails it), then both
 * freed. The callback allocates and frees a block of its own (never under
 * the budget: callbacks run with no tag) and notes every call; the JSON
 * line lists them: event, live bytes, limit, size, failed.
 */
#include <gmtrace.h>
#include <stdio.h>
#include <stdlib.h>

#define BU_KIB(k) ((size_t)(k) << 10)

static void *(*volatile bu_malloc)(size_t) = malloc;
static void (*volatile bu_free)(void *) = free;

static struct {
	uint32_t event;
	int64_t live;
	uint64_t limit, size;
	int failed;
	int node_ok;
} bu_calls[16];
static int bu_ncalls;

static void bu_on_violation(const gmtrace_budget_violation_t *v, void *user)
{
	void *mine = bu_malloc(100); /* the callback may allocate */
	if (bu_ncalls < 16) {
		bu_calls[bu_ncalls].event = v->event;
		bu_calls[bu_ncalls].live = v->live_bytes;
		bu_calls[bu_ncalls].limit = v->limit_bytes;
		bu_calls[bu_ncalls].size = v->size;
		bu_calls[bu_ncalls].failed = v->failed;
		bu_calls[bu_ncalls].node_ok = v->name && v->node == *(uint32_t *)user;
	}
	bu_ncalls++;
	bu_free(mine);
}

int main(void)
{
	static uint32_t node;
	void *a, *b;
	int i;
	node = gmtrace_budget_define("small", NULL, 0, BU_KIB(1024));
	gmtrace_budget_bind_tag(node, "small");
	gmtrace_budget_violation_callback(bu_on_violation, &node);
	gmtrace_tag_push("small");
	a = bu_malloc(BU_KIB(700));
	b = bu_malloc(BU_KIB(700));
	gmtrace_tag_pop();
	bu_free(a);
	bu_free(b);
	printf("{\"fixture\":\"bu_alert\",\"second_ok\":%d,\"calls\":[", b != NULL);
	for (i = 0; i < bu_ncalls && i < 16; i++)
		printf("%s{\"event\":%u,\"live\":%lld,\"limit\":%llu,\"size\":%llu,\"failed\":%d,"
		       "\"node_ok\":%d}",
		       i ? "," : "", bu_calls[i].event, (long long)bu_calls[i].live,
		       (unsigned long long)bu_calls[i].limit, (unsigned long long)bu_calls[i].size,
		       bu_calls[i].failed, bu_calls[i].node_ok);
	printf("]}\n");
	return 0;
}
