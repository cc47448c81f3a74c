// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bpf/exec.bpf.c
 * Records every exec, every new thread group and every thread-group exit from the sched tracepoints
 * (tp_btf: no kprobes, fentry or LSM are needed) into one BPF ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "execscope_event.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct es_config cfg = {
	.wakeup_watermark = 256 * 1024,
	.cgroup_v1_ssid = -1,
	.env_mode = ES_ENV_TRACE_CONTEXT,
	.args_max = ES_ARGS_MAX,
};

/* Record under construction plus room for path walks; one per CPU (index = CPU id). */
#define ES_REC_AREA (256 * 1024)
/* Every write offset is masked with this, and every write is < 64 KiB, so the verifier can prove each
 * write stays inside rec; real records never come near the mask (largest ~92 KiB). */
#define ES_OFF_MASK (128 * 1024 - 1)
#define ES_TMP_AREA (8 * 1024)
#define ES_TMP_ORIGIN 4096 /* paths are built backwards, ending here */
struct es_scratch {
	char rec[ES_REC_AREA];
	char tmp[ES_TMP_AREA];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024); /* resized by user space before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set to the number of possible CPUs before load */
	__type(key, __u32);
	__type(value, struct es_scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ES_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Kernels before 6.15 call kernfs_node's parent "parent"; later ones "__parent". */
struct kernfs_node___old {
	struct kernfs_node___old *parent;
} __attribute__((preserve_access_index));

/* Masks a value in a way clang cannot optimise away, so the verifier sees the bound at the use. */
#define BOUND(v, mask) asm volatile("%0 &= " #mask : "+r"(v))

static __always_inline __u64 *stat_slot(__u32 slot)
{
	return bpf_map_lookup_elem(&stats, &slot);
}

static __always_inline void stat_add(__u32 slot)
{
	__u64 *v = stat_slot(slot);
	if (v)
		*v += 1;
}

/* Stamps the header; the sequence number advances for every record attempted, sent or not. */
static __always_inline void fill_header(struct es_header *h, __u8 kind, __u32 size)
{
	__u64 *seq = stat_slot(ES_STAT_SEQ);
	h->kind = kind;
	h->version = ES_RECORD_VERSION;
	h->cpu = (__u16)bpf_get_smp_processor_id();
	h->size = size;
	h->ktime = bpf_ktime_get_boot_ns();
	h->seq = 0;
	if (seq) {
		*seq += 1;
		h->seq = *seq;
	}
}

/* Watermark wakeup: waking the consumer per record costs the producer more than the record itself. */
static __always_inline __u64 wakeup_flags(void)
{
	__u64 pending = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	return pending >= cfg.wakeup_watermark ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* Sends a record and counts it as seen, or as dropped when the ring is full. */
static __always_inline void send(void *rec, __u32 size, __u32 seen_slot, __u32 dropped_slot)
{
	stat_add(seen_slot);
	if (bpf_ringbuf_output(&events, rec, size, wakeup_flags()))
		stat_add(dropped_slot);
}

static __always_inline struct es_scratch *scratch_buf(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct es_scratch *s = bpf_map_lookup_elem(&scratch, &cpu);
	if (!s)
		stat_add(ES_STAT_SCRATCH_MISS);
	return s;
}

/* pid in the task's own pid namespace, and that namespace's nesting level. */
static __always_inline void task_nspid(struct task_struct *task, __u32 *nspid, __u32 *level)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	struct upid upid = {};
	__u32 lvl;

	*nspid = 0;
	*level = 0;
	if (!pid)
		return;
	lvl = BPF_CORE_READ(pid, level);
	*level = lvl;
	bpf_probe_read_kernel(&upid, sizeof(upid),
			      (char *)pid + bpf_core_field_offset(struct pid, numbers) +
				      (lvl & 31) * bpf_core_type_size(struct upid));
	*nspid = upid.nr;
}

/* ---- path building: names are prepended into scratch->tmp, ending at ES_TMP_ORIGIN ---- */

struct walk_ctx {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	__u32 pos;  /* start of the path built so far in tmp */
	__u32 done; /* reached the root */
	__u32 truncated;
};

/* Prepends "/" + name; returns 0 when it did not fit. */
static __always_inline int prepend_name(struct es_scratch *s, __u32 *pos, const unsigned char *name, __u32 len)
{
	__u32 p = *pos;
	BOUND(len, 255);
	if (len + 1 > p)
		return 0;
	p -= len + 1;
	bpf_probe_read_kernel(&s->tmp[(p + 1) & (ES_TMP_ORIGIN - 1)], len, name);
	s->tmp[p & (ES_TMP_ORIGIN - 1)] = '/';
	*pos = p;
	return 1;
}

static long cwd_step(__u32 index, struct walk_ctx *c)
{
	struct es_scratch *s = scratch_buf();
	struct dentry *d = c->dentry;
	struct vfsmount *vm = c->vfsmnt;
	struct mount *mnt;
	struct dentry *parent;

	if (!s)
		return 1;
	if (d == c->root_dentry && vm == c->root_mnt) {
		c->done = 1;
		return 1;
	}
	mnt = (struct mount *)((char *)vm - bpf_core_field_offset(struct mount, mnt));
	if (d == BPF_CORE_READ(vm, mnt_root)) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);
		if (up == mnt) { /* the global root */
			c->done = 1;
			return 1;
		}
		/* cross into the mount we are mounted on, then keep walking from the mountpoint */
		c->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		c->vfsmnt = (struct vfsmount *)((char *)up + bpf_core_field_offset(struct mount, mnt));
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (parent == d) { /* root of an unmounted or foreign tree */
		c->done = 1;
		return 1;
	}
	if (!prepend_name(s, &c->pos, BPF_CORE_READ(d, d_name.name), BPF_CORE_READ(d, d_name.len))) {
		c->truncated = 1;
		return 1;
	}
	c->dentry = parent;
	return 0;
}

struct cgroup_walk_ctx {
	struct kernfs_node *kn;
	__u32 pos;
	__u32 truncated;
};

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return (struct kernfs_node *)BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

static long cgroup_step(__u32 index, struct cgroup_walk_ctx *c)
{
	struct es_scratch *s = scratch_buf();
	struct kernfs_node *kn = c->kn; /* a local copy: CO-RE cannot relocate through our own struct */
	struct kernfs_node *parent;
	const char *name;
	long len;

	if (!s || !kn)
		return 1;
	parent = kn_parent(kn);
	if (!parent) /* the hierarchy's root contributes no name */
		return 1;
	name = BPF_CORE_READ(kn, name);
	/* read the name just below the current start, then prepend it with its slash */
	len = bpf_probe_read_kernel_str(&s->tmp[ES_TMP_ORIGIN], 256, name);
	if (len <= 1) {
		c->kn = parent;
		return 0;
	}
	if (!prepend_name(s, &c->pos, (const unsigned char *)&s->tmp[ES_TMP_ORIGIN], (__u32)(len - 1))) {
		c->truncated = 1;
		return 1;
	}
	c->kn = parent;
	return 0;
}

/* Copies the path built in tmp[pos, ORIGIN) into the record at off; returns its length. */
static __always_inline __u32 copy_path(struct es_scratch *s, __u32 off, __u32 pos, __u32 max)
{
	__u32 len = ES_TMP_ORIGIN - pos;
	if (len > max)
		len = max;
	if (len == 0)
		return 0;
	BOUND(len, 4095);
	BOUND(pos, 4095);
	BOUND(off, 0x1ffff);
	bpf_probe_read_kernel(&s->rec[off], len, &s->tmp[pos]);
	return len;
}

static __always_inline __u32 cgroup_path(struct es_scratch *s, struct kernfs_node *kn, __u32 off, __u32 *flags)
{
	struct cgroup_walk_ctx c = { .kn = kn, .pos = ES_TMP_ORIGIN };

	if (!kn) {
		*flags |= ES_EXEC_ERROR_CGROUP;
		return 0;
	}
	bpf_loop(32, cgroup_step, &c, 0);
	if (c.truncated)
		*flags |= ES_EXEC_ERROR_CGROUP;
	if (c.pos == ES_TMP_ORIGIN) { /* the root cgroup */
		s->rec[off & ES_OFF_MASK] = '/';
		return 1;
	}
	return copy_path(s, off, c.pos, ES_CGROUP_PATH_MAX);
}

/* ---- environment: TRACEPARENT / TRACESTATE, or the whole block ---- */

struct env_ctx {
	unsigned long pos;
	unsigned long end;
	__u32 off;        /* where the next captured entry goes in rec */
	__u32 captured;   /* bytes captured so far */
	__u32 mid_entry;  /* the last read stopped inside a long entry */
	__u32 error;
};

#define TRACEPAR_LE 0x5241504543415254ULL /* "TRACEPAR" */
#define TRACESTA_LE 0x4154534543415254ULL /* "TRACESTA" */

static long env_step(__u32 index, struct env_ctx *c)
{
	struct es_scratch *s = scratch_buf();
	long n;
	__u64 head;
	__u32 want = 0;

	if (!s || c->pos >= c->end)
		return 1;
	n = bpf_probe_read_user_str(s->tmp, ES_ENV_ENTRY_MAX + 1, (void *)c->pos);
	if (n <= 0) {
		c->error = 1;
		return 1;
	}
	c->pos += n;
	if (c->mid_entry) { /* tail of an entry longer than one read: never a match */
		c->mid_entry = (n == ES_ENV_ENTRY_MAX + 1);
		return 0;
	}
	c->mid_entry = (n == ES_ENV_ENTRY_MAX + 1);
	if (n < 13 || c->mid_entry)
		return 0;
	head = *(__u64 *)s->tmp;
	if (head == TRACEPAR_LE && s->tmp[8] == 'E' && s->tmp[9] == 'N' && s->tmp[10] == 'T' && s->tmp[11] == '=')
		want = 1;
	else if (head == TRACESTA_LE && s->tmp[8] == 'T' && s->tmp[9] == 'E' && s->tmp[10] == '=')
		want = 1;
	if (!want || c->captured + n > 2 * (ES_ENV_ENTRY_MAX + 1))
		return 0;
	/* copy "NAME=value\0" */
	{
		__u32 len = (__u32)n;
		__u32 at = c->off;
		BOUND(len, 511);
		BOUND(at, 0x1ffff);
		bpf_probe_read_kernel(&s->rec[at], len, s->tmp);
		c->off += len;
		c->captured += len;
	}
	return 0;
}

/* ---- programs ---- */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct es_scratch *s = scratch_buf();
	struct es_exec *e;
	struct mm_struct *mm;
	struct fs_struct *fs;
	const struct cred *cred;
	__u32 off = sizeof(struct es_exec);
	__u32 flags = 0;
	long n;

	if (!s) {
		stat_add(ES_STAT_EXEC_SEEN);
		stat_add(ES_STAT_EXEC_DROPPED);
		return 0;
	}
	e = (struct es_exec *)s->rec;

	e->tgid = BPF_CORE_READ(task, tgid);
	e->tid = (__u32)old_pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	cred = BPF_CORE_READ(task, cred);
	e->uid = BPF_CORE_READ(cred, uid.val);
	e->euid = BPF_CORE_READ(cred, euid.val);
	e->auid = 4294967295u;
	if (bpf_core_field_exists(task->loginuid))
		e->auid = BPF_CORE_READ(task, loginuid.val);
	task_nspid(task, &e->nspid, &e->pidns_level);
	e->start_boottime = BPF_CORE_READ(task, group_leader, start_boottime);
	e->cgroup_id = bpf_get_current_cgroup_id();

	/* filename as passed to execve (may be relative) */
	n = bpf_probe_read_kernel_str(&s->rec[off], ES_FILENAME_MAX + 1, BPF_CORE_READ(bprm, filename));
	if (n <= 0) {
		flags |= ES_EXEC_ERROR_FILENAME;
		n = 1;
	} else if (n == ES_FILENAME_MAX + 1) {
		flags |= ES_EXEC_TRUNC_FILENAME;
	}
	e->filename_len = (n - 1) & ES_FILENAME_MAX;
	off += e->filename_len;

	/* argv of the new image, whole up to args_max */
	mm = BPF_CORE_READ(task, mm);
	e->args_len = 0;
	e->args_total = 0;
	if (mm) {
		unsigned long start = BPF_CORE_READ(mm, arg_start);
		unsigned long end = BPF_CORE_READ(mm, arg_end);
		__u32 total = end > start ? (__u32)(end - start) : 0;
		__u32 len = total;
		if (len > cfg.args_max)
			len = cfg.args_max;
		if (len > ES_ARGS_MAX)
			len = ES_ARGS_MAX;
		len &= ES_ARGS_MAX;
		if (len < total)
			flags |= ES_EXEC_TRUNC_ARGS;
		e->args_total = total;
		if (len > 0) {
			BOUND(len, 0xffff);
			if (bpf_probe_read_user(&s->rec[off & ES_OFF_MASK], len, (void *)start)) {
				flags |= ES_EXEC_ERROR_ARGS;
				len = 0;
			}
			e->args_len = len;
			off = (off & ES_OFF_MASK) + (len & ES_ARGS_MAX);
		}
	} else {
		flags |= ES_EXEC_NO_MM;
	}

	/* cwd by walking dentries up to the task's root, crossing mounts */
	fs = BPF_CORE_READ(task, fs);
	e->cwd_len = 0;
	if (fs) {
		struct walk_ctx c = {
			.dentry = BPF_CORE_READ(fs, pwd.dentry),
			.vfsmnt = BPF_CORE_READ(fs, pwd.mnt),
			.root_dentry = BPF_CORE_READ(fs, root.dentry),
			.root_mnt = BPF_CORE_READ(fs, root.mnt),
			.pos = ES_TMP_ORIGIN,
		};
		struct dentry *cwd = c.dentry;
		/* an unhashed dentry that is not a root has been deleted */
		if (BPF_CORE_READ(cwd, d_hash.pprev) == NULL && BPF_CORE_READ(cwd, d_parent) != cwd)
			flags |= ES_EXEC_CWD_DELETED;
		bpf_loop(256, cwd_step, &c, 0);
		if (c.truncated || !c.done)
			flags |= ES_EXEC_TRUNC_CWD;
		if (c.pos == ES_TMP_ORIGIN) {
			s->rec[off & ES_OFF_MASK] = '/';
			e->cwd_len = 1;
		} else {
			e->cwd_len = copy_path(s, off, c.pos, ES_CWD_MAX);
		}
		off = (off & ES_OFF_MASK) + (e->cwd_len & ES_CWD_MAX);
	} else {
		flags |= ES_EXEC_ERROR_CWD;
	}

	/* cgroup paths: the v2 (default) hierarchy, and one v1 controller on hybrid hosts */
	{
		struct css_set *cgroups = BPF_CORE_READ(task, cgroups);
		struct kernfs_node *kn = BPF_CORE_READ(cgroups, dfl_cgrp, kn);
		e->cgroup_v2_len = cgroup_path(s, kn, off, &flags) & ES_CGROUP_PATH_MAX;
		off = (off & ES_OFF_MASK) + e->cgroup_v2_len;
		e->cgroup_v1_len = 0;
		if (cfg.cgroup_v1_ssid >= 0) {
			struct cgroup_subsys_state *css = NULL;
			bpf_probe_read_kernel(&css, sizeof(css), &cgroups->subsys[cfg.cgroup_v1_ssid & 15]);
			kn = css ? BPF_CORE_READ(css, cgroup, kn) : NULL;
			e->cgroup_v1_len = cgroup_path(s, kn, off, &flags) & ES_CGROUP_PATH_MAX;
			off = (off & ES_OFF_MASK) + e->cgroup_v1_len;
		}
	}

	/* environment */
	e->env_len = 0;
	if (mm && cfg.env_mode != ES_ENV_NONE) {
		unsigned long start = BPF_CORE_READ(mm, env_start);
		unsigned long end = BPF_CORE_READ(mm, env_end);
		off &= ES_OFF_MASK;
		if (cfg.env_mode == ES_ENV_ALL) {
			__u32 total = end > start ? (__u32)(end - start) : 0;
			__u32 len = total > ES_ENV_MAX ? ES_ENV_MAX : total;
			len &= ES_ENV_MAX;
			if (len < total)
				flags |= ES_EXEC_TRUNC_ENV;
			BOUND(len, 0x3fff);
			if (len > 0 && bpf_probe_read_user(&s->rec[off], len, (void *)start)) {
				flags |= ES_EXEC_ERROR_ENV;
				len = 0;
			}
			e->env_len = len;
		} else {
			struct env_ctx c = { .pos = start, .end = end, .off = off };
			bpf_loop(1024, env_step, &c, 0);
			if (c.error)
				flags |= ES_EXEC_ERROR_ENV;
			else if (c.pos < c.end)
				flags |= ES_EXEC_TRUNC_ENV;
			e->env_len = c.captured & 2047;
		}
		off += e->env_len & ES_ENV_MAX;
	}

	e->flags = flags;
	e->pad[0] = 0;
	e->pad[1] = 0;
	off &= ES_OFF_MASK;
	fill_header(&e->hdr, ES_KIND_EXEC, off);
	if (off < sizeof(struct es_exec))
		return 0;
	send(s->rec, off, ES_STAT_EXEC_SEEN, ES_STAT_EXEC_DROPPED);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct es_fork f = {};

	/* a new thread of an existing process is not a new process */
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0;
	f.tgid = BPF_CORE_READ(child, tgid);
	f.ppid = BPF_CORE_READ(child, real_parent, tgid);
	task_nspid(child, &f.nspid, &f.pidns_level);
	f.start_boottime = BPF_CORE_READ(child, start_boottime);
	fill_header(&f.hdr, ES_KIND_FORK, sizeof(f));
	send(&f, sizeof(f), ES_STAT_FORK_SEEN, ES_STAT_FORK_DROPPED);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task, bool group_dead)
{
	struct es_exit x = {};

	/* one exit per thread group, from whichever thread is last (not necessarily the leader) */
	if (!group_dead)
		return 0;
	x.tgid = BPF_CORE_READ(task, tgid);
	x.tid = BPF_CORE_READ(task, pid);
	x.exit_code = BPF_CORE_READ(task, exit_code);
	x.start_boottime = BPF_CORE_READ(task, group_leader, start_boottime);
	fill_header(&x.hdr, ES_KIND_EXIT, sizeof(x));
	send(&x, sizeof(x), ES_STAT_EXIT_SEEN, ES_STAT_EXIT_DROPPED);
	return 0;
}
