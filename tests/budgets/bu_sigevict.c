/* bu_sigevict.c - a signal handler that allocates, and evicts, while its
 * thread is setting an evictor
 *
 *     bu_sigevict [MS]   (default 1500: how long the main loop runs)
 *
 * Node "n": hard 1 MiB, bound to tag "t" and type "tex". Asset "x" (900 KiB)
 * is resident; the evictor frees nothing. The main thread, inside tag "t",
 * sets the node's evictor again and again (200 times, then a frame end with
 * the signal blocked, as a frame end takes locks a handler must not), while
 * another thread sends it SIGUSR1 every 30 us. The handler allocates 200 KiB
 * under the tag: over the hard limit, so it evicts, and reads the evictor
 * that its own thread may be in the middle of setting. That read must never
 * wait for the set (the interrupted thread cannot finish it): the loop runs
 * its time and ends; a hang is a failure (the test's timeout).
 *
 * JSON: rounds (of 200 sets), signals (handled), evictor_calls, verdicts.
 */
#define _GNU_SOURCE
#include "bu_common.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

static pthread_t bu_main;
static volatile sig_atomic_t bu_stop;
static volatile uint64_t bu_signals, bu_calls;
static int bu_user;

static void bu_evict(uint64_t asset, void *user)
{
	(void)asset;
	if (user == &bu_user)
		bu_calls++;
}

static void bu_on_signal(int sig)
{
	(void)sig;
	void *p = bu_malloc(BU_KIB(200));
	bu_free(p);
	bu_signals++;
}

static void *bu_pester(void *arg)
{
	struct timespec ts = {0, 30000};
	(void)arg;
	while (!bu_stop) {
		pthread_kill(bu_main, SIGUSR1);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static double bu_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	uint64_t ms = 1500, rounds = 0, asset;
	sigset_t usr1;
	pthread_t pester;
	void *volatile big;
	double end;

	fx_name = "bu_sigevict";
	ms = fx_arg_u64(argc > 1 ? argv[1] : NULL, 1500);
	FX_CHECK(gmtrace_enabled(), "runs under libgmtrace");
	uint32_t node = gmtrace_budget_define("n", NULL, 0, BU_MIB(1));
	FX_CHECK(node != 0, "node defined");
	FX_CHECK(gmtrace_budget_bind_tag(node, "t") == 0, "tag bound");
	FX_CHECK(gmtrace_budget_bind_type(node, "tex") == 0, "type bound");
	gmtrace_tag_push("t");
	asset = gmtrace_asset_load_begin("x", "tex");
	big = bu_malloc(BU_KIB(900));
	FX_CHECK(big != NULL, "the resident asset's block");
	gmtrace_asset_load_end(asset, 1);

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	bu_main = pthread_self();
	FX_CHECK(signal(SIGUSR1, bu_on_signal) != SIG_ERR, "handler");
	FX_CHECK(pthread_create(&pester, NULL, bu_pester, NULL) == 0, "signal thread");
	end = bu_now_ms() + (double)ms;
	while (bu_now_ms() < end) {
		pthread_sigmask(SIG_BLOCK, &usr1, NULL);
		GMTRACE_FRAME();
		pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
		for (int k = 0; k < 200; k++)
			gmtrace_budget_evictor(node, bu_evict, &bu_user);
		rounds++;
	}
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	bu_stop = 1;
	pthread_join(pester, NULL);
	gmtrace_tag_pop();
	bu_expect_true("signals came while evictors were set", bu_signals > 0);

	fx_json_begin();
	fx_json_u64("rounds", rounds);
	fx_json_u64("signals", bu_signals);
	fx_json_u64("evictor_calls", bu_calls);
	bu_json_verdicts();
	return fx_json_write(1) == 0 ? 0 : 1;
}
