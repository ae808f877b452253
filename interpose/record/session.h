/* session.h - this process's recording session: its log, capture, drainer
 *
 * A session is the life of one process image under gmtrace: the shared-
 * memory log it writes, the capture file that log drains into, and the
 * agent thread that drains it (or heartbeats for `gmtrace run` when the
 * drain is external), samples the clock and notices loaded modules. A fork
 * child starts a session of its own; an exec ends the session cleanly.
 */
#ifndef GM_SESSION_H
#define GM_SESSION_H

#include <stdint.h>

#include "../log/ring.h"
#include "../support/options.h"

extern gm_ring_t gm_session_log;
extern gm_options_t gm_session_options;
/* 1 in a fork child's session: warnings about the environment (a bad
 * option, a budget file or profile that cannot be read) were the parent's
 * to give, and are not given again */
extern int gm_session_forked;
/* 1 in a fork child's session whose options are its parent's, as read at
 * the parent's start (the child's environment holds no GMTRACE_ setting:
 * a launcher cleared it); what the parent found from its environment (a
 * platform profile's file) is then taken as the parent found it. */
extern int gm_session_options_inherited;

/* Start recording this process: options, private arena, log, capture file,
 * agent thread, process and module records. On any failure it warns once
 * and leaves recording off; the game runs on. */
void gm_session_start(void);

/* End the session at process exit: final records, last drain, capture
 * closed, log removed once everything is in the file. known: the status is
 * the one the process exits with (exit or _exit seen). Idempotent. */
void gm_session_stop(int status, int known);

/* A thread calling exit() while another thread is already in it: waits
 * (at most GM_SESSION_EXIT_WAIT_MS) for the other's exit to finish the
 * session. Without the wait, the C library
 * lets the second caller end the process as soon as it finds no exit
 * handler left to run, cutting the first one's last drain short. */
#define GM_SESSION_EXIT_WAIT_MS 5000
void gm_session_exit_wait(void);

/* Called by a producer that committed a chunk or waits for a free one:
 * while no core is free for the drainer (log/drain.h), drains the
 * thread's own committed chunks. Returns 1 if it drained something, 0 if
 * a waiting caller should sleep a little. The agent thread, writing a
 * record of its own, drains the whole log instead (or, under `gmtrace
 * run`, takes the drain back if the run is gone): it never waits for
 * itself. */
int gm_session_drain_help(void);

/* Before exec: everything written so far goes to the capture. */
void gm_session_exec(void);

/* Before an exec of file (search: looked up on PATH when it has no '/', as
 * execvp does): a program the loader will run in secure mode (set-user-ID
 * or set-group-ID to another user or group) ignores LD_PRELOAD, so it
 * would not be recorded; said on stderr, with what to do, when children
 * are followed (a launcher script that execs a set-group-ID game). */
void gm_session_exec_check(const char *file, int search);

/* The exec that gm_session_exec prepared for failed: the process goes on
 * recording into the same log, and its threads drain as before (DRAIN_HELP).
 * Leaves errno as the exec set it. */
void gm_session_exec_failed(void);

/* Fork hooks (pthread_atfork); the parent also records the child's pid. */
void gm_session_fork_parent(int child_pid);

/* The environment for a program exec'd with envp (FOLLOW_CHILDREN): room
 * gives the entries (0: envp as it is) and *text the bytes of the new
 * LD_PRELOAD entry; gm_session_exec_env fills out (room entries) and text
 * and returns the list to pass, envp itself when nothing is missing. */
size_t gm_session_exec_env_room(char *const envp[], size_t *text);
char *const *gm_session_exec_env(char *const envp[], char **out, size_t room, char *text,
                                 size_t ntext);

/* A child of clone() without CLONE_VM, first thing: it runs unrecorded,
 * the parent's log and capture left untouched (files_shared: CLONE_FILES,
 * the parent's descriptors are not closed either). */
void gm_session_clone_child(int files_shared);

/* Walk the modules now (around a dlclose), not at the next 50 ms walk:
 * a module's load and unload are recorded however short its life, and a
 * plugin loaded at its addresses right after is named as itself. wait:
 * a walker at work is waited for (up to 250 ms). Returns 1 when the walk
 * was made or none was needed (not recording), 0 when it was left to
 * the walker at work (the caller's next walk need not wait for it). */
int gm_session_modules_changed(int wait);

/* A stack about to be recorded for the first time, pcs[0, n) (Python
 * frames skipped): an address in no module recorded yet is in one loaded
 * since the last walk (every 50 ms), so the modules are walked now, before
 * the stack's record. A game killed right after loading a plugin otherwise
 * left its stacks with no module to name their frames. */
void gm_session_modules_cover(const uint64_t *pcs, unsigned n);

/* Number of modules recorded so far (for tests and the agent). */
uint32_t gm_session_modules(void);

#endif
