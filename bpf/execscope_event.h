/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * bpf/execscope_event.h
 * The one contract between the kernel programs and user space: record layouts, flag bits, stat slots and
 * the load-time configuration. Mirrored in receiver/src/wire/layout.ts; test/native/layout.test.ts fails
 * when the two drift (the addon reports sizeof/offsetof of everything below).
 *
 * Rules: only fixed-width types, explicit padding, every record starts with struct es_header, and strings
 * follow the fixed part back to back, without NUL terminators, in the order of their length fields.
 */
#ifndef EXECSCOPE_EVENT_H
#define EXECSCOPE_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <stddef.h>
#endif

#define ES_RECORD_VERSION 1

/* Record kinds (es_header.kind). */
#define ES_KIND_EXEC 1
#define ES_KIND_FORK 2
#define ES_KIND_EXIT 3

/* Limits of the variable tail of an exec record. Lengths exclude NUL terminators. */
#define ES_FILENAME_MAX 4095 /* PATH_MAX - 1 */
#define ES_ARGS_MAX 65535    /* argv blocks up to 64 KiB arrive whole */
#define ES_CWD_MAX 4095
#define ES_CGROUP_PATH_MAX 1023
#define ES_ENV_MAX 16383     /* whole-environment capture */
#define ES_ENV_ENTRY_MAX 511 /* one TRACEPARENT/TRACESTATE entry */

/* Bits of es_exec.flags set by the kernel program. User space maps them to Tetragon's flag words. */
#define ES_EXEC_TRUNC_FILENAME (1u << 0)
#define ES_EXEC_TRUNC_ARGS (1u << 1)
#define ES_EXEC_ERROR_ARGS (1u << 2)
#define ES_EXEC_ERROR_CWD (1u << 3)
#define ES_EXEC_TRUNC_CWD (1u << 4)   /* walk ran out of depth or space: cwd incomplete */
#define ES_EXEC_ERROR_FILENAME (1u << 5)
#define ES_EXEC_ERROR_CGROUP (1u << 6)
#define ES_EXEC_TRUNC_ENV (1u << 7)
#define ES_EXEC_ERROR_ENV (1u << 8)
#define ES_EXEC_CWD_DELETED (1u << 9) /* the cwd directory has been removed */
#define ES_EXEC_NO_MM (1u << 10)      /* no user memory to read argv/env from */

/* Environment capture modes (es_config.env_mode). */
#define ES_ENV_NONE 0
#define ES_ENV_TRACE_CONTEXT 1 /* only TRACEPARENT= and TRACESTATE= entries */
#define ES_ENV_ALL 2           /* the whole block, filtered in user space */

/* Slots of the per-CPU stats array. */
#define ES_STAT_EXEC_SEEN 0
#define ES_STAT_EXEC_DROPPED 1
#define ES_STAT_FORK_SEEN 2
#define ES_STAT_FORK_DROPPED 3
#define ES_STAT_EXIT_SEEN 4
#define ES_STAT_EXIT_DROPPED 5
#define ES_STAT_SEQ 6          /* per-CPU sequence of attempted records; stamped into es_header.seq */
#define ES_STAT_SCRATCH_MISS 7 /* no scratch buffer for this CPU (should never happen) */
#define ES_STAT_COUNT 8

/* Load-time configuration, written into .rodata before the programs are verified. */
struct es_config {
	__u32 wakeup_watermark; /* force a consumer wakeup once this many bytes are pending */
	__s32 cgroup_v1_ssid;   /* v1 controller whose cgroup path is recorded; -1 for none */
	__u32 env_mode;         /* ES_ENV_* */
	__u32 args_max;         /* argv bytes to copy, <= ES_ARGS_MAX */
};

/* 24 bytes at the start of every record. */
struct es_header {
	__u8 kind;
	__u8 version;
	__u16 cpu;
	__u32 size; /* whole record in bytes, header included */
	__u64 ktime; /* CLOCK_BOOTTIME nanoseconds when the event happened */
	__u64 seq;   /* per-CPU sequence number; a gap means records were lost */
};

/* sched_process_exec. Followed by filename, args, cwd, cgroup v2 path, cgroup v1 path, env. */
struct es_exec {
	struct es_header hdr;
	__u32 tgid;
	__u32 tid; /* the thread that called execve (differs from tgid for a non-leader thread) */
	__u32 ppid;
	__u32 uid;
	__u32 euid;
	__u32 auid; /* 4294967295 when unset */
	__u32 nspid;
	__u32 pidns_level; /* 0 in the host pid namespace */
	__u32 flags;       /* ES_EXEC_* */
	__u32 args_total;  /* real size of the argv block, even when truncated */
	__u64 start_boottime; /* thread group start (fork time) */
	__u64 cgroup_id;      /* cgroup v2 id */
	__u16 filename_len;
	__u16 args_len;
	__u16 cwd_len;
	__u16 cgroup_v2_len;
	__u16 cgroup_v1_len;
	__u16 env_len;
	__u16 pad[2];
};

/* sched_process_fork of a new thread group (threads are skipped). */
struct es_fork {
	struct es_header hdr;
	__u32 tgid;
	__u32 ppid;
	__u32 nspid;
	__u32 pidns_level;
	__u64 start_boottime;
};

/* sched_process_exit of a thread group's last thread. */
struct es_exit {
	struct es_header hdr;
	__u32 tgid;
	__u32 tid;       /* the last thread to exit */
	__u32 exit_code; /* raw task->exit_code: status << 8 | core dump 0x80 | signal */
	__u32 pad;
	__u64 start_boottime;
};

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct es_header) == 24, "es_header layout");
_Static_assert(sizeof(struct es_exec) == 96, "es_exec layout");
_Static_assert(sizeof(struct es_fork) == 48, "es_fork layout");
_Static_assert(sizeof(struct es_exit) == 48, "es_exit layout");
_Static_assert(sizeof(struct es_config) == 16, "es_config layout");
#endif

#endif /* EXECSCOPE_EVENT_H */
