/* as_forkctx.c - a fork child inherits its thread's tag and asset scope
 *
 *     as_forkctx
 *
 * The main thread pushes tag "job/fork", begins loading asset "F" (type
 * "level") and forks. The child allocates one block of FX_SIZE(1) bytes
 * and exits at once: no marker call of its own, so its capture must define
 * the tag and the asset itself (the parent's capture has their
 * definitions, the child's would otherwise name them by id only). The
 * parent waits for it, ends the load and pops the tag.
 *
 * JSON (from each process, role "child" first, then "parent"): role, pid,
 * block_bytes.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "gmtrace.h"

int main(void)
{
	uint64_t f;
	pid_t child;
	int status = 0;
	fx_name = "as_forkctx";
	gmtrace_tag_push("job/fork");
	f = gmtrace_asset_load_begin("F", "level");
	child = fork();
	FX_CHECK(child >= 0, "fork");
	if (child == 0) {
		fx_sink = malloc(FX_SIZE(1));
		FX_CHECK(fx_sink != NULL, "the child's block");
		fx_json_begin();
		fx_json_str("role", "child");
		fx_json_u64("pid", (uint64_t)getpid());
		fx_json_u64("block_bytes", FX_SIZE(1));
		exit(fx_json_write(1) == 0 ? 0 : 1);
	}
	FX_CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) &&
	                 WEXITSTATUS(status) == 0,
	         "the child ends well");
	gmtrace_asset_load_end(f, 1);
	gmtrace_tag_pop();
	fx_json_begin();
	fx_json_str("role", "parent");
	fx_json_u64("pid", (uint64_t)getpid());
	fx_json_u64("block_bytes", 0);
	return fx_json_write(1) == 0 ? 0 : 1;
}
