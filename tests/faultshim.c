/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * faultshim.so: an LD_PRELOAD library for tests/hostusb-dyn (a dynamically
 * linked build of the same sources) that makes one chosen libc call fail, or
 * kills the process there.  The shipped hostusb is static: LD_PRELOAD does not
 * reach it, and it carries no test hook.
 *
 *   HOSTUSB_FAULT=FUNC:N:ACTION[,FUNC:N:ACTION]   at the N-th call (1-based)
 *                                 of FUNC; a second fault may follow (two
 *                                 failures in one run: one in the transaction,
 *                                 one in its rollback)
 *       FUNC    open (openat of AT_FDCWD too) openat mkostemp read write
 *               fchmod fchown fsync close
 *               rename unlink mkdir flock fchownat, openat2 (made through
 *               syscall(2)), or "any" (every one of them)
 *       ACTION  an errno name (EIO ENOSPC EPERM EROFS ENOENT EACCES EXDEV
 *               ENOLCK EDQUOT EMFILE ENOMEM EBADF ENOSYS): the call fails with it and
 *               does nothing;
 *               KILL: the process gets SIGKILL before the call;
 *               UNLINK: HOSTUSB_FAULT_PATH is removed, then the call runs;
 *               SWAP: HOSTUSB_FAULT_FROM is renamed over HOSTUSB_FAULT_PATH,
 *               then the call runs (a node replaced under the program's feet).
 *   HOSTUSB_FAULT_TRACE=FILE      appends "FUNC N ARG" for every counted call
 *
 * read and write on descriptors 0-2 (messages, dry-run output) are neither
 * counted nor failed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

enum fn {
	F_OPEN, F_OPENAT, F_MKOSTEMP, F_READ, F_WRITE, F_FCHMOD, F_FCHOWN, F_FSYNC, F_CLOSE,
	F_RENAME, F_UNLINK, F_MKDIR, F_FLOCK, F_FCHOWNAT, F_OPENAT2, F_COUNT, F_ANY = F_COUNT
};

static const char *const fn_names[] = {
	"open", "openat", "mkostemp", "read", "write", "fchmod", "fchown", "fsync", "close",
	"rename", "unlink", "mkdir", "flock", "fchownat", "openat2",
};

static const struct {
	const char *name;
	int value;
} errnos[] = {
	{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EPERM", EPERM }, { "EROFS", EROFS },
	{ "ENOENT", ENOENT }, { "EACCES", EACCES }, { "EXDEV", EXDEV }, { "ENOLCK", ENOLCK },
	{ "EDQUOT", EDQUOT }, { "EMFILE", EMFILE }, { "ENOMEM", ENOMEM }, { "EBADF", EBADF },
	{ "EOPNOTSUPP", EOPNOTSUPP }, { "ENOSYS", ENOSYS },
};

enum action { A_NONE, A_ERRNO, A_KILL, A_UNLINK, A_SWAP };

#define MAX_FAULTS 2

struct fault {
	int target;            /* enum fn, F_ANY for any */
	unsigned long nth;
	enum action action;
	int error;
};

static struct {
	int loaded;
	struct fault faults[MAX_FAULTS];
	int nfaults;
	const char *path, *from;
	int trace_fd;
	unsigned long calls[F_COUNT + 1];
} shim = { .trace_fd = -1 };

static void die_config(const char *what)
{
	static const char prefix[] = "faultshim: bad HOSTUSB_FAULT: ";
	(void)syscall(SYS_write, 2, prefix, sizeof prefix - 1);
	(void)syscall(SYS_write, 2, what, strlen(what));
	(void)syscall(SYS_write, 2, "\n", 1);
	_exit(99);
}

/* One FUNC:N:ACTION (spec is changed in place); dies on a bad one. */
static void parse_fault(char *spec, const char *whole, struct fault *f)
{
	char *fn = spec, *n = strchr(fn, ':'), *act = n ? strchr(n + 1, ':') : NULL;
	if (!n || !act)
		die_config(whole);
	*n++ = '\0';
	*act++ = '\0';
	f->target = -1;
	if (strcmp(fn, "any") == 0)
		f->target = F_ANY;
	for (int i = 0; i < F_COUNT; i++)
		if (strcmp(fn, fn_names[i]) == 0)
			f->target = i;
	char *end;
	f->nth = strtoul(n, &end, 10);
	if (f->target < 0 || *end || f->nth == 0)
		die_config(whole);
	if (strcmp(act, "KILL") == 0) {
		f->action = A_KILL;
	} else if (strcmp(act, "UNLINK") == 0) {
		f->action = A_UNLINK;
		shim.path = getenv("HOSTUSB_FAULT_PATH");
		if (!shim.path)
			die_config("UNLINK needs HOSTUSB_FAULT_PATH");
	} else if (strcmp(act, "SWAP") == 0) {
		f->action = A_SWAP;
		shim.path = getenv("HOSTUSB_FAULT_PATH");
		shim.from = getenv("HOSTUSB_FAULT_FROM");
		if (!shim.path || !shim.from)
			die_config("SWAP needs HOSTUSB_FAULT_PATH and HOSTUSB_FAULT_FROM");
	} else {
		for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
			if (strcmp(act, errnos[i].name) == 0)
				f->action = A_ERRNO, f->error = errnos[i].value;
		if (f->action != A_ERRNO)
			die_config(whole);
	}
}

static void load(void)
{
	if (shim.loaded)
		return;
	shim.loaded = 1;
	const char *spec = getenv("HOSTUSB_FAULT"), *trace = getenv("HOSTUSB_FAULT_TRACE");
	if (trace && *trace)
		shim.trace_fd = (int)syscall(SYS_openat, AT_FDCWD, trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (!spec || !*spec)
		return;
	char buf[256];
	if (strlen(spec) >= sizeof buf)
		die_config(spec);
	strcpy(buf, spec);
	for (char *next = buf; next; shim.nfaults++) {
		char *one = next;
		next = strchr(one, ',');
		if (next)
			*next++ = '\0';
		if (shim.nfaults == MAX_FAULTS)
			die_config(spec);
		parse_fault(one, spec, &shim.faults[shim.nfaults]);
	}
}

static void trace(enum fn f, unsigned long n, const char *arg)
{
	if (shim.trace_fd < 0)
		return;
	char line[512];
	int len = snprintf(line, sizeof line, "%s %lu %s\n", fn_names[f], n, arg ? arg : "-");
	if (len > 0)
		(void)syscall(SYS_write, shim.trace_fd, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1);
}

/* The fault due at this call, or NULL. */
static const struct fault *due(enum fn f, unsigned long own, unsigned long any)
{
	for (int i = 0; i < shim.nfaults; i++) {
		const struct fault *t = &shim.faults[i];
		unsigned long count = t->target == F_ANY ? any : own;
		if ((t->target == F_ANY || t->target == (int)f) && count == t->nth)
			return t;
	}
	return NULL;
}

/* Counts the call; returns -1 with errno set when it must fail. */
static int hit(enum fn f, const char *arg)
{
	load();
	unsigned long own = ++shim.calls[f], any = ++shim.calls[F_ANY];
	trace(f, any, arg);
	const struct fault *t = due(f, own, any);
	if (!t)
		return 0;
	switch (t->action) {
	case A_KILL:
		(void)syscall(SYS_kill, getpid(), SIGKILL);
		break;
	case A_UNLINK:
		(void)syscall(SYS_unlinkat, AT_FDCWD, shim.path, 0);
		return 0;
	case A_SWAP:
		(void)syscall(SYS_renameat, AT_FDCWD, shim.from, AT_FDCWD, shim.path);
		return 0;
	case A_ERRNO:
		errno = t->error;
		return -1;
	case A_NONE:
		break;
	}
	return 0;
}

#define REAL(type, name, args) \
	static type(*real) args; \
	if (!real) \
		*(void **)&real = dlsym(RTLD_NEXT, name)

static char *fd_arg(int fd, char *buf, size_t size)
{
	snprintf(buf, size, "fd=%d", fd);
	return buf;
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (hit(F_OPEN, path) < 0)
		return -1;
	REAL(int, "open", (const char *, int, ...));
	return real(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	/* openat(AT_FDCWD, ...) is open(2) by another name: counted as one */
	if (hit(dirfd == AT_FDCWD ? F_OPEN : F_OPENAT, path) < 0)
		return -1;
	REAL(int, "openat", (int, const char *, int, ...));
	return real(dirfd, path, flags, mode);
}

int mkostemp(char *template, int flags)
{
	if (hit(F_MKOSTEMP, template) < 0)
		return -1;
	REAL(int, "mkostemp", (char *, int));
	return real(template, flags);
}

ssize_t read(int fd, void *buf, size_t count)
{
	char arg[32];
	if (fd > 2 && hit(F_READ, fd_arg(fd, arg, sizeof arg)) < 0)
		return -1;
	REAL(ssize_t, "read", (int, void *, size_t));
	return real(fd, buf, count);
}

ssize_t write(int fd, const void *buf, size_t count)
{
	char arg[32];
	if (fd > 2 && hit(F_WRITE, fd_arg(fd, arg, sizeof arg)) < 0)
		return -1;
	REAL(ssize_t, "write", (int, const void *, size_t));
	return real(fd, buf, count);
}

int fchmod(int fd, mode_t mode)
{
	char arg[32];
	if (hit(F_FCHMOD, fd_arg(fd, arg, sizeof arg)) < 0)
		return -1;
	REAL(int, "fchmod", (int, mode_t));
	return real(fd, mode);
}

int fchown(int fd, uid_t uid, gid_t gid)
{
	char arg[32];
	if (hit(F_FCHOWN, fd_arg(fd, arg, sizeof arg)) < 0)
		return -1;
	REAL(int, "fchown", (int, uid_t, gid_t));
	return real(fd, uid, gid);
}

int fsync(int fd)
{
	char arg[32];
	if (hit(F_FSYNC, fd_arg(fd, arg, sizeof arg)) < 0)
		return -1;
	REAL(int, "fsync", (int));
	return real(fd);
}

int close(int fd)
{
	char arg[32];
	if (fd > 2 && hit(F_CLOSE, fd_arg(fd, arg, sizeof arg)) < 0) {
		/* like Linux: the descriptor is released even when close reports an error */
		(void)syscall(SYS_close, fd);
		return -1;
	}
	REAL(int, "close", (int));
	return real(fd);
}

int rename(const char *from, const char *to)
{
	if (hit(F_RENAME, to) < 0)
		return -1;
	REAL(int, "rename", (const char *, const char *));
	return real(from, to);
}

int unlink(const char *path)
{
	if (hit(F_UNLINK, path) < 0)
		return -1;
	REAL(int, "unlink", (const char *));
	return real(path);
}

int mkdir(const char *path, mode_t mode)
{
	if (hit(F_MKDIR, path) < 0)
		return -1;
	REAL(int, "mkdir", (const char *, mode_t));
	return real(path, mode);
}

int flock(int fd, int op)
{
	char arg[32];
	if (hit(F_FLOCK, fd_arg(fd, arg, sizeof arg)) < 0)
		return -1;
	REAL(int, "flock", (int, int));
	return real(fd, op);
}

int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	char arg[32];
	if (hit(F_FCHOWNAT, *path ? path : fd_arg(dirfd, arg, sizeof arg)) < 0)
		return -1;
	REAL(int, "fchownat", (int, const char *, uid_t, gid_t, int));
	return real(dirfd, path, uid, gid, flags);
}

/* what _FORTIFY_SOURCE turns openat with non-constant flags into */
int __openat_2(int dirfd, const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags)
{
	if (hit(dirfd == AT_FDCWD ? F_OPEN : F_OPENAT, path) < 0)
		return -1;
	REAL(int, "__openat_2", (int, const char *, int));
	return real(dirfd, path, flags);
}

/*
 * openat2(2) has no libc wrapper: the program makes it through syscall(2).
 * Six arguments are taken, whatever the call, as syscall(2) itself does;
 * every other number passes through.
 */
long syscall(long number, ...);
long syscall(long number, ...)
{
	va_list ap;
	long a[6];
	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number == SYS_openat2 && hit(F_OPENAT2, (const char *)a[1]) < 0)
		return -1;
	REAL(long, "syscall", (long, ...));
	return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
