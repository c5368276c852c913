/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostusb: hands host USB devices to a virtual machine, as a VDSM hook.
 *
 * One binary serves three hook points, chosen by the directory it runs from:
 * before_vm_start claims the devices named by the "hostusb" custom property,
 * chowns their nodes to qemu and adds <hostdev> elements to the domain XML;
 * after_vm_destroy gives them back; before_vm_migrate_source refuses to
 * migrate a VM that uses them.  The original owners are kept in a journal so a
 * crash at any point can be undone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "sysfs.h"
#include "text.h"
#include "xmlpatch.h"

#ifndef HOSTUSB_VERSION
#define HOSTUSB_VERSION "unknown"
#endif
/* Fixed at build time: never taken from the environment. */
#ifndef HOSTUSB_SUDO
#define HOSTUSB_SUDO "/usr/bin/sudo"
#endif
#ifndef HOSTUSB_CHOWN
#define HOSTUSB_CHOWN "/bin/chown"
#endif

#define JOURNAL_DIR       "/var/run/vdsm/hooks"
#define JOURNAL_PATH      JOURNAL_DIR "/hostusb-permissions"
#define LOCK_PATH         JOURNAL_PATH ".lock"
#define MAX_ENTRIES       32
#define MAX_JOURNAL_BYTES (1u << 20)
#define MAX_DB_BYTES      (16u << 20)
#define DEVPATH_SIZE      24          /* "/dev/bus/usb/BBB/DDD" */
#define NODE_DIR          "/dev/bus/usb"
#define PATH_SIZE         4096
#define FRAGMENT_SIZE     256
#define EXIT_HOOK_FAILED  2
#define DEFAULT_OWNER     "qemu:qemu"
#define DEFAULT_LOCK_WAIT 30

enum command {
	CMD_NONE,
	CMD_BEFORE_VM_START,
	CMD_AFTER_VM_DESTROY,
	CMD_BEFORE_VM_MIGRATE_SOURCE,
	CMD_LIST,
	CMD_HELP,
	CMD_VERSION,
};

struct options {
	const char *root;        /* prefix of every host path, "" for the host */
	const char *owner;       /* USER:GROUP the devices are given to */
	bool dry_run;
	unsigned lock_wait;      /* seconds to wait for the journal lock */
	enum command command;
};

struct request {
	struct usb_id ids[MAX_ENTRIES];
	size_t count;
};

struct journal_entry {
	char devpath[DEVPATH_SIZE];
	unsigned uid, gid;
	char vmid[VMID_MAX + 1];    /* "" for a line without one (an unknown VM) */
};

struct journal {
	struct journal_entry *entries;
	size_t count;
	char *original;             /* the file's bytes as read, for rollback */
	size_t original_len;
	bool existed;
};

/* One requested device, from the plan to the change of its owner. */
struct claim {
	struct usb_device device;
	char devpath[DEVPATH_SIZE];
	bool ambiguous;             /* its id matches more than one host device */
	bool recorded;              /* the journal already holds its original owner */
	int node_fd;                /* O_PATH descriptor of the verified node */
	bool node_unchecked;        /* a dry run in a root without device nodes */
	unsigned old_uid, old_gid;  /* owner before this run */
	bool changed;
};

/* Everything one run works with; built once in main. */
struct context {
	const struct options *opt;
	const char *property;       /* hostusb=..., "" when unset */
	const char *domxml;         /* _hook_domxml */
	char vmid[VMID_MAX + 1];
	unsigned uid, gid;          /* the new owner */
};

/* ---- messages ---------------------------------------------------------- */

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * One line on stderr, "hostusb: ...", written with a single write(2).  An
 * overlong message (a huge path) keeps its start and its end, where the
 * reason is.
 */
__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
	enum { SHOWN = 1024, KEEP = SHOWN / 2 - 8 };
	char text[16384], line[SHOWN + 16];
	va_list ap;
	va_start(ap, fmt);
	int n = vformat(text, sizeof text, fmt, ap);
	va_end(ap);
	size_t len = n < 0 ? 0 : strnlen(text, sizeof text);
	if (len > SHOWN) {
		text[KEEP] = text[KEEP + 1] = text[KEEP + 2] = '.';
		memmove(text + KEEP + 3, text + len - KEEP, KEEP);
		len = 2 * KEEP + 3;
	}
	n = format(line, sizeof line, "hostusb: %.*s\n", (int)len, text);
	if (n > 0)
		(void)write_all(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* ---- paths and files ---------------------------------------------------- */

/* buf = root + path, where path is as seen inside the root. */
static int host_path(const struct context *ctx, const char *path, char *buf, size_t size)
{
	if (root_path(ctx->opt->root, path, buf, size) < 0) {
		say("%s%s: path too long", ctx->opt->root, path);
		return -1;
	}
	return 0;
}

/*
 * Reads a whole small file.  Returns 0, 1 when it does not exist and
 * missing_ok, or -1 after saying why.
 */
static int read_small_file(const char *path, size_t max, char **data, size_t *len, bool missing_ok)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT && missing_ok)
			return 1;
		say("%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	const char *wrong = fstat(fd, &st) < 0 ? strerror(errno)
			  : !S_ISREG(st.st_mode) ? "not a regular file"
			  : (size_t)st.st_size > max ? "file too large" : NULL;
	if (wrong) {
		say("%s: %s", path, wrong);
		close(fd);
		return -1;
	}
	/* the size fstat gives is all that is read: passwd, group and the journal
	 * (read under its lock) do not grow while we read them */
	size_t size = (size_t)st.st_size, used = 0;
	char *buf = malloc(size + 1);
	if (!buf) {
		say("%s: %s", path, strerror(ENOMEM));
		close(fd);
		return -1;
	}
	while (used < size) {
		ssize_t n = read(fd, buf + used, size - used);
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			say("%s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	*data = buf;
	*len = used;
	return 0;
}

/* (uid_t)-1 means "unchanged" to chown */
#define MAX_ID 0xfffffffeu

/* ---- the property ------------------------------------------------------ */

/*
 * One entry of the property.  Returns NULL, or what an entry must look like
 * for the message that names the bad one.
 */
static const char *parse_entry(const char *s, size_t len, struct usb_id *id)
{
	static const char expected[] = "expected 0xVVVV:0xPPPP with a lowercase x and 4 hex digits each";
	if (len != 13 || s[0] != '0' || s[1] != 'x' || s[6] != ':' || s[7] != '0' || s[8] != 'x')
		return expected;
	if (text_hex4(s + 2, &id->vendor) < 0 || text_hex4(s + 9, &id->product) < 0)
		return expected;
	return NULL;
}

static int parse_property(const char *text, struct request *req)
{
	size_t entries = 1;
	for (const char *p = text; *p; p++)
		entries += *p == '&';
	if (entries > MAX_ENTRIES) {
		say("hostusb property has %zu entries; at most %d are allowed", entries, MAX_ENTRIES);
		return -1;
	}
	const char *entry = text;
	for (size_t i = 0; i < entries; i++) {
		const char *amp = strchr(entry, '&');
		size_t len = amp ? (size_t)(amp - entry) : strlen(entry);
		const char *expected = parse_entry(entry, len, &req->ids[i]);
		if (expected) {
			char shown[48];
			quote_untrusted(entry, len, shown, sizeof shown);
			say("hostusb property, entry %zu \"%s\": %s; entries are separated by &", i + 1, shown,
			    expected);
			return -1;
		}
		entry += len + 1;
	}
	req->count = entries;
	return 0;
}

/* A VM id is used in the journal: a plain UUID-like token, nothing else. */
static int check_vmid(const char *vmid)
{
	size_t len = strlen(vmid);
	if (!vmid_valid(vmid, len)) {
		char shown[48];
		quote_untrusted(vmid, len, shown, sizeof shown);
		say("vmId \"%s\": not a UUID-like token", shown);
		return -1;
	}
	return 0;
}

/* ---- the owner, without NSS ------------------------------------------- */

/* The third field of the line whose first field is name, in passwd or group. */
static int lookup_db(const char *db, const char *name, size_t name_len, unsigned *id)
{
	for (const char *line = db; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *f1 = memchr(line, ':', len);
		if (f1 && (size_t)(f1 - line) == name_len && memcmp(line, name, name_len) == 0) {
			const char *f2 = memchr(f1 + 1, ':', len - (size_t)(f1 + 1 - line));
			const char *f3 = f2 ? memchr(f2 + 1, ':', len - (size_t)(f2 + 1 - line)) : NULL;
			size_t id_len = f3 ? (size_t)(f3 - f2 - 1) : f2 ? len - (size_t)(f2 + 1 - line) : 0;
			return f2 && text_decimal(f2 + 1, id_len, MAX_ID, id) == 0 ? 0 : -1;
		}
		line += len + (end != NULL);
	}
	return -1;
}

static int resolve_name(const struct context *ctx, const char *name, size_t len,
			const char *db_path, unsigned *id)
{
	if (text_decimal(name, len, MAX_ID, id) == 0)
		return 0;
	char path[PATH_SIZE], shown[48], *db;
	size_t db_len;
	quote_untrusted(name, len, shown, sizeof shown);
	if (len == 0 || host_path(ctx, db_path, path, sizeof path) < 0 ||
	    read_small_file(path, MAX_DB_BYTES, &db, &db_len, false) != 0) {
		if (len == 0)
			say("--owner: empty name");
		return -1;
	}
	int found = lookup_db(db, name, len, id);
	free(db);
	if (found < 0)
		say("%s: no valid entry for \"%s\"", path, shown);
	return found;
}

static int resolve_owner(struct context *ctx)
{
	const char *spec = ctx->opt->owner, *colon = strchr(spec, ':');
	if (!colon) {
		say("--owner %s: expected USER:GROUP", spec);
		return -1;
	}
	if (resolve_name(ctx, spec, (size_t)(colon - spec), "/etc/passwd", &ctx->uid) < 0)
		return -1;
	return resolve_name(ctx, colon + 1, strlen(colon + 1), "/etc/group", &ctx->gid);
}

/* ---- the journal -------------------------------------------------------- */

/* "/dev/bus/usb/BBB/DDD" at s, exactly */
static bool is_devpath(const char *s, size_t avail)
{
	static const char shape[] = "/dev/bus/usb/999/999";
	if (avail < sizeof shape - 1)
		return false;
	for (size_t i = 0; i < sizeof shape - 1; i++) {
		bool ok = shape[i] == '9' ? (s[i] >= '0' && s[i] <= '9') : s[i] == shape[i];
		if (!ok)
			return false;
	}
	return true;
}

static size_t count_digits(const char *s, const char *end)
{
	size_t n = 0;
	while (s + n < end && s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/*
 * Parses one record at *p: DEVPATH:UID:GID[:VMID], ended by '\n', the end of
 * the text, or directly by the next record's '/' (the Python hook wrote its
 * records without newlines).
 */
static int parse_journal_record(const char **p, const char *end, struct journal_entry *e)
{
	const char *s = *p;
	if (!is_devpath(s, (size_t)(end - s)))
		return -1;
	memcpy(e->devpath, s, 20);
	e->devpath[20] = '\0';
	s += 20;
	unsigned *fields[2] = { &e->uid, &e->gid };
	for (int i = 0; i < 2; i++) {
		if (s >= end || *s++ != ':')
			return -1;
		size_t digits = count_digits(s, end);
		if (text_decimal(s, digits, MAX_ID, fields[i]) < 0)
			return -1;
		s += digits;
	}
	size_t vmid_len = 0;
	if (s < end && *s == ':') {
		s++;
		while (s + vmid_len < end && vmid_char(s[vmid_len]))
			vmid_len++;
		if (vmid_len == 0 || vmid_len > VMID_MAX)
			return -1;
	}
	memcpy(e->vmid, s, vmid_len);
	e->vmid[vmid_len] = '\0';
	s += vmid_len;
	if (s < end && *s == '\n')
		s++;
	else if (s < end && *s != '/')
		return -1;
	*p = s;
	return 0;
}

static void journal_free(struct journal *j)
{
	free(j->entries);
	free(j->original);
	*j = (struct journal){ 0 };
}

static const struct journal_entry *journal_find(const struct journal *j, const char *devpath)
{
	for (size_t i = 0; i < j->count; i++)
		if (strcmp(j->entries[i].devpath, devpath) == 0)
			return &j->entries[i];
	return NULL;
}

/* Parses text into j->entries; on error, names the record in err. */
static int journal_parse(const char *text, size_t len, struct journal *j, char *err, size_t errlen)
{
	size_t records = 0;
	for (size_t i = 0; i < len; i++)
		records += text[i] == '/' && i + 4 < len && memcmp(text + i, "/dev/", 5) == 0;
	j->entries = calloc(records ? records : 1, sizeof *j->entries);
	if (!j->entries) {
		format(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	const char *p = text, *end = text + len;
	size_t line = 1;
	while (p < end) {
		if (*p == '\n') {
			p++, line++;
			continue;
		}
		struct journal_entry *e = &j->entries[j->count];
		if (j->count == records || parse_journal_record(&p, end, e) < 0) {
			format(err, errlen, "line %zu: malformed record", line);
			return -1;
		}
		/* a later line for the same node is not the original owner */
		if (!journal_find(j, e->devpath))
			j->count++;
		line += p[-1] == '\n';
	}
	return 0;
}

/* Reads the journal (absent: empty).  Returns 0 or -1 after saying why. */
static int journal_read(const struct context *ctx, struct journal *j)
{
	char path[PATH_SIZE], err[128];
	*j = (struct journal){ 0 };
	if (host_path(ctx, JOURNAL_PATH, path, sizeof path) < 0)
		return -1;
	int found = read_small_file(path, MAX_JOURNAL_BYTES, &j->original, &j->original_len, true);
	if (found < 0)
		return -1;
	j->existed = found == 0;
	if (journal_parse(j->original ? j->original : "", j->original_len, j, err, sizeof err) < 0) {
		say("%s: %s", path, err);
		journal_free(j);
		return -1;
	}
	return 0; /* NOLINT(clang-analyzer-unix.Malloc): *j owns original; journal_free releases it */
}

static size_t journal_format(const struct journal *j, char *buf, size_t size)
{
	size_t used = 0;
	for (size_t i = 0; i < j->count; i++) {
		const struct journal_entry *e = &j->entries[i];
		int n = format(buf + used, size - used, "%s:%u:%u%s%s\n", e->devpath, e->uid, e->gid,
			       e->vmid[0] ? ":" : "", e->vmid);
		if (n < 0 || (size_t)n >= size - used)
			return (size_t)-1;
		used += (size_t)n;
	}
	return used;
}

static int fsync_dir_of(const char *path)
{
	char dir[PATH_SIZE];
	const char *slash = strrchr(path, '/');
	size_t len = slash && slash != path ? (size_t)(slash - path) : 1;
	if (!slash || len >= sizeof dir)
		return 0;
	memcpy(dir, slash == path ? "/" : path, len);
	dir[len] = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Removes the files "<template>XXXXXX" that mkostemp(template) made in a run
 * that was killed.  Only called under the journal lock, which every run that
 * makes them holds.
 */
static void remove_stale_temps(const char *template)
{
	char dir[PATH_SIZE];
	const char *slash = strrchr(template, '/');
	size_t dir_len = slash ? (size_t)(slash - template) : 0;
	if (!slash || dir_len >= sizeof dir)
		return;
	memcpy(dir, template, dir_len);
	dir[dir_len] = '\0';
	const char *prefix = slash + 1;
	size_t prefix_len = strlen(prefix);
	DIR *d = opendir(dir_len ? dir : "/");
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));)
		if (strlen(e->d_name) == prefix_len + 6 && strncmp(e->d_name, prefix, prefix_len) == 0 &&
		    unlinkat(dirfd(d), e->d_name, 0) < 0)
			say("warning: %s/%s: cannot remove a stale temporary file: %s", dir, e->d_name,
			    strerror(errno));
	closedir(d);
}

/*
 * Replaces path durably with data: temp file, fsync, rename, fsync of the
 * directory.  -1: failed, path untouched; 1: replaced, but the directory
 * could not be synced (said); 0: done.
 */
static int replace_file_durably(const char *path, const char *data, size_t len)
{
	char temp[PATH_SIZE];
	if (format(temp, sizeof temp, "%s.XXXXXX", path) >= (int)sizeof temp) {
		say("%s: path too long", path);
		return -1;
	}
	int fd = mkostemp(temp, O_CLOEXEC);
	if (fd < 0) {
		say("%s: cannot create temporary file: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0644) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		say("%s: %s", temp, strerror(errno));
		close(fd);
		unlink(temp);
		return -1;
	}
	if (close(fd) < 0 || rename(temp, path) < 0) {
		say("%s: %s", path, strerror(errno));
		unlink(temp);
		return -1;
	}
	if (fsync_dir_of(path) < 0) {
		say("%s: fsync of its directory: %s", path, strerror(errno));
		return 1;
	}
	return 0;
}

/* As replace_file_durably: -1 untouched, 1 replaced but not durable, 0 done. */
static int journal_write(const struct context *ctx, const struct journal *j)
{
	char path[PATH_SIZE];
	size_t size = j->count * (DEVPATH_SIZE + 24 + VMID_MAX) + 1;
	char *buf = malloc(size);
	if (!buf) {
		say("journal: %s", strerror(ENOMEM));
		return -1;
	}
	size_t len = journal_format(j, buf, size);
	int rc = host_path(ctx, JOURNAL_PATH, path, sizeof path) < 0 || len == (size_t)-1 ? -1
		: replace_file_durably(path, buf, len);
	free(buf);
	return rc;
}

/* Puts the journal back exactly as it was read (or removes it if it did not exist). */
static int journal_restore_original(const struct context *ctx, const struct journal *j)
{
	char path[PATH_SIZE];
	if (host_path(ctx, JOURNAL_PATH, path, sizeof path) < 0)
		return -1;
	if (j->existed)
		return replace_file_durably(path, j->original, j->original_len);
	if (unlink(path) < 0 && errno != ENOENT) {
		say("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int make_journal_dirs(const struct context *ctx)
{
	static const char *const dirs[] = { "/var", "/var/run", "/var/run/vdsm", JOURNAL_DIR };
	char path[PATH_SIZE];
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (host_path(ctx, dirs[i], path, sizeof path) < 0)
			return -1;
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			say("%s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Takes the journal lock: an flock on a file that is never replaced, waited
 * for at most lock_wait seconds.  Returns the lock's descriptor or -1.
 */
static int journal_lock(const struct context *ctx)
{
	char path[PATH_SIZE];
	if (make_journal_dirs(ctx) < 0 || host_path(ctx, LOCK_PATH, path, sizeof path) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	struct stat st;
	const char *wrong = fd < 0 || fstat(fd, &st) < 0 ? strerror(errno)
			  : !S_ISREG(st.st_mode) ? "not a regular file" : NULL;
	if (wrong) {
		say("%s: %s", path, wrong);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	const struct timespec pause = { 0, 10L * 1000 * 1000 };
	for (unsigned long waited_ms = 0;; waited_ms += 10) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			char template[PATH_SIZE];
			if (host_path(ctx, JOURNAL_PATH ".", template, sizeof template) == 0)
				remove_stale_temps(template);
			return fd;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			say("%s: %s", path, strerror(errno));
			break;
		}
		if (waited_ms >= ctx->opt->lock_wait * 1000ul) {
			say("%s: still locked by another hostusb after %u s", path, ctx->opt->lock_wait);
			break;
		}
		nanosleep(&pause, NULL);
	}
	close(fd);
	return -1;
}

/* ---- device nodes ------------------------------------------------------ */

/*
 * Opens <root>/dev/bus/usb/BBB/DDD without following a symlink at any step
 * and checks it is the character device sysfs names.  Returns an O_PATH
 * descriptor, or -1 after saying why; with missing_ok, -2 without a word when
 * the node (or a directory above it) does not exist.
 */
static int open_node(const struct context *ctx, const struct usb_device *dev, const char *devpath,
		     struct stat *st, bool missing_ok)
{
	char top[PATH_SIZE], part[4][8];
	format(part[0], sizeof part[0], "%03u", dev->addr.bus);
	format(part[1], sizeof part[1], "%03u", dev->addr.device);
	if (host_path(ctx, "/", top, sizeof top) < 0)
		return -1;
	const char *steps[] = { "dev", "bus", "usb", part[0], part[1] };
	int fd = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; fd >= 0 && i < 5; i++) {
		int flags = O_PATH | O_NOFOLLOW | O_CLOEXEC | (i < 4 ? O_DIRECTORY : 0);
		int next = openat(fd, steps[i], flags);
		close(fd);   /* of an O_PATH descriptor: does not fail, errno stays openat's */
		fd = next;
	}
	if (fd < 0 && errno == ENOENT && missing_ok)
		return -2;
	if (fd < 0) {
		say("%s%s: %s", ctx->opt->root, devpath, errno == ENOTDIR ? "not a directory or a symlink" :
		    strerror(errno));
		return -1;
	}
	const char *wrong = NULL;
	if (fstat(fd, st) < 0)
		wrong = strerror(errno);
	else if (!S_ISCHR(st->st_mode))
		wrong = S_ISLNK(st->st_mode) ? "a symbolic link, not a device" : "not a character device";
	else if (st->st_rdev != makedev(dev->dev_major, dev->dev_minor))
		wrong = "its device number is not the one sysfs gives";
	if (wrong) {
		say("%s%s: %s", ctx->opt->root, devpath, wrong);
		close(fd);
		return -1;
	}
	return fd;
}

/* The first line of what fd gives until EOF (the rest is read and dropped). */
static void read_first_line(int fd, char *line, size_t size)
{
	char scratch[512] = "";
	size_t len = 0;
	for (;;) {
		bool room = len < size - 1;
		ssize_t n = read(fd, room ? line + len : scratch, room ? size - 1 - len : sizeof scratch);
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
		if (n > 0 && room)
			len += (size_t)n;
	}
	line[len] = '\0';
	line[strcspn(line, "\n")] = '\0';
}

/* Runs HOSTUSB_SUDO -n HOSTUSB_CHOWN UID:GID PATH; on failure says sudo's own words. */
static int sudo_chown(const char *path, unsigned uid, unsigned gid)
{
	char owner[32];
	format(owner, sizeof owner, "%u:%u", uid, gid);
	char *const argv[] = { HOSTUSB_SUDO, "-n", HOSTUSB_CHOWN, owner, (char *)path, NULL };
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0) {
		say("%s: pipe: %s", path, strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		say("%s: fork: %s", path, strerror(errno));
		close(out[0]);
		close(out[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(126);
		execve(HOSTUSB_SUDO, argv, envp);
		_exit(127);
	}
	close(out[1]);
	char said[512];
	read_first_line(out[0], said, sizeof said);
	close(out[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			say("%s: waitpid: %s", path, strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !said[0])
		say("%s: cannot run %s", path, HOSTUSB_SUDO);
	else
		say("%s: %s -n %s %s failed: %s", path, HOSTUSB_SUDO, HOSTUSB_CHOWN, owner,
		    said[0] ? said : "no reason given");
	return -1;
}

/*
 * Gives the node behind fd to uid:gid: directly, or through sudo when we are
 * not root and the kernel says we may not.
 */
static int chown_node(const struct context *ctx, int fd, const char *devpath, unsigned uid, unsigned gid)
{
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) == 0)
		return 0;
	char path[PATH_SIZE];
	/* sudo's rule names the host's /dev/bus/usb: never used under --root */
	if (errno != EPERM || geteuid() == 0 || ctx->opt->root[0]) {
		say("%s%s: chown to %u:%u: %s", ctx->opt->root, devpath, uid, gid, strerror(errno));
		return -1;
	}
	if (host_path(ctx, devpath, path, sizeof path) < 0 || sudo_chown(path, uid, gid) < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_uid != uid || st.st_gid != gid) {
		say("%s: owner did not change to %u:%u after sudo chown", path, uid, gid);
		return -1;
	}
	return 0;
}

/* ---- the plan ---------------------------------------------------------- */

static bool same_id(const struct usb_device *dev, struct usb_id id)
{
	return usb_id_equal(dev->id, id);
}

static bool held_by_vm(const struct journal_entry *e, const char *vmid)
{
	return e && vmid[0] && strcmp(e->vmid, vmid) == 0;
}

static void describe_holder(const struct journal_entry *e, char *buf, size_t size)
{
	if (e->vmid[0])
		format(buf, size, "VM %s", e->vmid);
	else
		format(buf, size, "an unknown VM (a line without vmId)");
}

static size_t count_matching(const struct usb_device_list *list, struct usb_id id)
{
	size_t n = 0;
	for (size_t i = 0; i < list->count; i++)
		n += same_id(&list->devices[i], id);
	return n;
}

/*
 * Chooses count devices with the given id: ones this VM already holds first,
 * then free ones, each in ascending (bus, devnum) order; never one another VM
 * holds.  chosen[] receives indexes into list, sorted ascending.
 */
static int choose_devices(const struct usb_device_list *list, const struct journal *j, const char *vmid,
			  struct usb_id id, size_t count, size_t *chosen)
{
	size_t present = count_matching(list, id), found = 0;
	if (present < count) {
		say("device 0x%04x:0x%04x: %zu requested, %zu present", id.vendor, id.product, count, present);
		return -1;
	}
	const struct journal_entry *other = NULL;
	char devpath[DEVPATH_SIZE];
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < list->count && found < count; i++) {
			if (!same_id(&list->devices[i], id))
				continue;
			sysfs_node_path(list->devices[i].addr, devpath, sizeof devpath);
			const struct journal_entry *e = journal_find(j, devpath);
			if (pass == 0 ? held_by_vm(e, vmid) : e == NULL)
				chosen[found++] = i;
			else if (e && !held_by_vm(e, vmid) && !other)
				other = e;
		}
	}
	if (found < count) {
		char holder[96];
		if (!other)
			return -1;
		describe_holder(other, holder, sizeof holder);
		say("device 0x%04x:0x%04x: %zu requested, %zu free; %s is held by %s", id.vendor, id.product,
		    count, found, other->devpath, holder);
		return -1;
	}
	/* ascending order, whichever pass found them */
	for (size_t a = 1; a < found; a++)
		for (size_t b = a; b > 0 && chosen[b - 1] > chosen[b]; b--) {
			size_t t = chosen[b];
			chosen[b] = chosen[b - 1];
			chosen[b - 1] = t;
		}
	return 0;
}

/*
 * One claim per requested entry.  The k entries of one id get the k chosen
 * devices in ascending order.
 */
static int plan_claims(const struct context *ctx, const struct request *req, const struct usb_device_list *list,
		       const struct journal *j, struct claim *claims)
{
	bool done[MAX_ENTRIES] = { false };
	for (size_t i = 0; i < req->count; i++) {
		if (done[i])
			continue;
		size_t count = 0, chosen[MAX_ENTRIES];
		for (size_t k = i; k < req->count; k++)
			count += usb_id_equal(req->ids[k], req->ids[i]);
		if (choose_devices(list, j, ctx->vmid, req->ids[i], count, chosen) < 0)
			return -1;
		for (size_t k = i, used = 0; k < req->count; k++) {
			if (!usb_id_equal(req->ids[k], req->ids[i]))
				continue;
			struct claim *c = &claims[k];
			*c = (struct claim){ .device = list->devices[chosen[used++]], .node_fd = -1 };
			c->ambiguous = count_matching(list, req->ids[i]) > 1;
			sysfs_node_path(c->device.addr, c->devpath, sizeof c->devpath);
			c->recorded = journal_find(j, c->devpath) != NULL;
			done[k] = true;
		}
	}
	return 0;
}

static void close_claims(struct claim *claims, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (claims[i].node_fd >= 0) {
			close(claims[i].node_fd);
			claims[i].node_fd = -1;
		}
}

/*
 * True for a dry run in a root with no NODE_DIR at all, where there is no node
 * to check: a chroot without /dev, or an example root built by a user who may
 * not make device nodes.  On a host whose sysfs lists USB devices devtmpfs
 * always has NODE_DIR, and a real start in such a root refuses every node.
 */
static bool dry_run_without_nodes(const struct context *ctx)
{
	char path[PATH_SIZE];
	struct stat st;
	if (!ctx->opt->dry_run || host_path(ctx, NODE_DIR, path, sizeof path) < 0)
		return false;
	return lstat(path, &st) < 0 && errno == ENOENT;
}

/*
 * Opens and verifies every claimed node.  A dry run goes on past a refused
 * node (its owner read with lstat) so the whole plan is shown: returns 1.
 */
static int open_claimed_nodes(const struct context *ctx, struct claim *claims, size_t n)
{
	int rc = 0;
	if (dry_run_without_nodes(ctx)) {
		for (size_t i = 0; i < n; i++)
			claims[i].node_unchecked = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct stat st = { .st_uid = (uid_t)-1, .st_gid = (gid_t)-1 };
		char path[PATH_SIZE];
		claims[i].node_fd = open_node(ctx, &claims[i].device, claims[i].devpath, &st, false);
		if (claims[i].node_fd < 0 && !ctx->opt->dry_run)
			return -1;
		if (claims[i].node_fd < 0) {
			rc = 1;
			if (host_path(ctx, claims[i].devpath, path, sizeof path) == 0)
				(void)lstat(path, &st);
		}
		claims[i].old_uid = st.st_uid;
		claims[i].old_gid = st.st_gid;
	}
	return rc;
}

/* ---- the domain XML ---------------------------------------------------- */

static void format_hostdev(const struct claim *c, char *buf, size_t size)
{
	char address[64] = "";
	if (c->ambiguous)
		format(address, sizeof address, "\n    <address bus='%u' device='%u'/>", c->device.addr.bus,
		       c->device.addr.device);
	format(buf, size,
	       "<hostdev mode='subsystem' type='usb'>\n"
	       "  <source>\n"
	       "    <vendor id='0x%04x'/>\n"
	       "    <product id='0x%04x'/>%s\n"
	       "  </source>\n"
	       "</hostdev>",
	       c->device.id.vendor, c->device.id.product, address);
}

/* Streams the domain XML from in_fd to out_fd with a hostdev per claim. */
static int patch_domain(const struct context *ctx, int in_fd, int out_fd, const struct claim *claims, size_t n)
{
	char text[MAX_ENTRIES][FRAGMENT_SIZE];
	const char *fragments[MAX_ENTRIES];
	for (size_t i = 0; i < n; i++) {
		format_hostdev(&claims[i], text[i], sizeof text[i]);
		fragments[i] = text[i];
	}
	struct xmlpatch_result result;
	struct xmlpatch_error err;
	if (xmlpatch_stream(in_fd, out_fd, fragments, n, &result, &err) < 0) {
		say("%s: %s", ctx->domxml, err.message);
		return -1;
	}
	return 0;
}

/* Says so when _hook_domxml does not name a file. */
static int check_domxml_set(const struct context *ctx)
{
	if (ctx->domxml && ctx->domxml[0])
		return 0;
	say("_hook_domxml is not set: VDSM sets it to the domain XML file; to run by hand, "
	    "set it to a copy (virsh -r dumpxml VM >vm.xml)");
	return -1;
}

/* Opens the domain file, which must be a regular file (before_vm_start checked it is named). */
static int open_domain(const struct context *ctx, struct stat *st)
{
	int fd = open(ctx->domxml, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	const char *wrong = fd < 0 ? strerror(errno) : fstat(fd, st) < 0 ? strerror(errno)
			  : !S_ISREG(st->st_mode) ? "not a regular file" : NULL;
	if (wrong) {
		say("%s (from _hook_domxml): %s", ctx->domxml, wrong);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The patched document in a temp file beside the domain file, with its mode and owner. */
static int write_domain_temp(const struct context *ctx, int in_fd, const struct stat *st,
			     const struct claim *claims, size_t n, char *temp, size_t size)
{
	if (format(temp, size, "%s.hostusb-XXXXXX", ctx->domxml) >= (int)size) {
		say("%s: path too long", ctx->domxml);
		return -1;
	}
	int fd = mkostemp(temp, O_CLOEXEC);
	if (fd < 0) {
		say("%s: cannot create a temporary file beside it: %s", ctx->domxml, strerror(errno));
		return -1;
	}
	bool ok = patch_domain(ctx, in_fd, fd, claims, n) == 0;
	if (ok && (fchmod(fd, st->st_mode & 07777) < 0 ||
		   ((st->st_uid != geteuid() || st->st_gid != getegid()) && fchown(fd, st->st_uid, st->st_gid) < 0))) {
		say("%s: cannot give it the domain file's mode and owner: %s", temp, strerror(errno));
		ok = false;
	}
	if (close(fd) < 0 && ok) {
		say("%s: %s", temp, strerror(errno));
		ok = false;
	}
	if (!ok) {
		unlink(temp);
		return -1;
	}
	return 0;
}

/* ---- before_vm_start --------------------------------------------------- */

/* Adds a line for each claim the journal does not hold yet. */
static int journal_add_claims(struct journal *j, const struct claim *claims, size_t n, const char *vmid)
{
	struct journal_entry *grown = realloc(j->entries, (j->count + n + 1) * sizeof *grown);
	if (!grown) {
		say("journal: %s", strerror(ENOMEM));
		return -1;
	}
	j->entries = grown;
	for (size_t i = 0; i < n; i++) {
		if (claims[i].recorded)
			continue;
		struct journal_entry *e = &j->entries[j->count++];
		*e = (struct journal_entry){ .uid = claims[i].old_uid, .gid = claims[i].old_gid };
		memcpy(e->devpath, claims[i].devpath, sizeof e->devpath);
		memcpy(e->vmid, vmid, strlen(vmid) + 1);
	}
	return 0;
}

/* Gives every changed node back its owner from before this run. */
static int undo_chowns(const struct context *ctx, struct claim *claims, size_t n)
{
	int rc = 0;
	for (size_t i = n; i-- > 0;) {
		if (!claims[i].changed)
			continue;
		if (chown_node(ctx, claims[i].node_fd, claims[i].devpath, claims[i].old_uid, claims[i].old_gid) < 0)
			rc = -1;
		else
			claims[i].changed = false;
	}
	return rc;
}

/* The node's path still names the inode that was verified and chowned. */
static bool node_still_in_place(const struct context *ctx, const struct claim *c)
{
	char path[PATH_SIZE];
	struct stat at_path, chowned;
	if (host_path(ctx, c->devpath, path, sizeof path) < 0)
		return false;
	if (lstat(path, &at_path) < 0 || fstat(c->node_fd, &chowned) < 0 || at_path.st_ino != chowned.st_ino ||
	    at_path.st_dev != chowned.st_dev) {
		say("%s: replaced or removed while it was being given to the VM", path);
		return false;
	}
	return true;
}

static int chown_claims(const struct context *ctx, struct claim *claims, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (chown_node(ctx, claims[i].node_fd, claims[i].devpath, ctx->uid, ctx->gid) < 0)
			return -1;
		claims[i].changed = true;
		if (!node_still_in_place(ctx, &claims[i]))
			return -1;
	}
	return 0;
}

static void say_plan(const struct context *ctx, const struct claim *claims, size_t n)
{
	const char *root = ctx->opt->root;
	for (size_t i = 0; i < n; i++) {
		const struct claim *c = &claims[i];
		char from[32] = "", unchecked[PATH_SIZE + 48] = "";
		if (c->node_unchecked)
			format(unchecked, sizeof unchecked, "; not checked: %s" NODE_DIR " does not exist", root);
		else
			format(from, sizeof from, " from %d:%d", (int)c->old_uid, (int)c->old_gid);
		say("dry run: %s %s%s (bus %u device %u, 0x%04x:0x%04x)%s to %u:%u%s",
		    c->node_fd >= 0 || c->node_unchecked ? "would chown" : "REFUSED, would not chown", root,
		    c->devpath, c->device.addr.bus, c->device.addr.device, c->device.id.vendor, c->device.id.product, from,
		    ctx->uid, ctx->gid, unchecked);
	}
}

/* --dry-run: the patched XML to stdout, the plan to stderr, nothing changed. */
static int dry_run_start(const struct context *ctx, struct claim *claims, size_t n)
{
	struct stat st;
	int in_fd = open_domain(ctx, &st);
	if (in_fd < 0)
		return -1;
	int rc = patch_domain(ctx, in_fd, STDOUT_FILENO, claims, n);
	close(in_fd);
	if (rc == 0)
		say_plan(ctx, claims, n);
	return rc;
}

/*
 * The transaction: temp XML, journal lines (durable), chowns, rename.  A
 * failure at any step puts back everything done before it.
 */
static int commit_start(const struct context *ctx, struct claim *claims, size_t n, struct journal *j)
{
	struct stat st;
	char temp[PATH_SIZE];
	int in_fd = open_domain(ctx, &st);
	if (in_fd < 0)
		return -1;
	if (format(temp, sizeof temp, "%s.hostusb-", ctx->domxml) < (int)sizeof temp)
		remove_stale_temps(temp);
	int rc = write_domain_temp(ctx, in_fd, &st, claims, n, temp, sizeof temp);
	close(in_fd);
	if (rc < 0)
		return -1;
	int written = journal_add_claims(j, claims, n, ctx->vmid) < 0 ? -1 : journal_write(ctx, j);
	if (written != 0) {
		if (written > 0)
			journal_restore_original(ctx, j);
		unlink(temp);
		return -1;
	}
	rc = chown_claims(ctx, claims, n);
	if (rc == 0 && rename(temp, ctx->domxml) < 0) {
		say("%s: cannot replace it: %s", ctx->domxml, strerror(errno));
		rc = -1;
	}
	if (rc == 0)
		return 0;
	undo_chowns(ctx, claims, n);
	journal_restore_original(ctx, j);
	unlink(temp);
	return -1;
}

/*
 * Reads the journal, chooses the devices and verifies their nodes; changes
 * nothing.  0: all good; 1: a dry run found a node it would refuse; -1: failed.
 */
static int plan_start(const struct context *ctx, const struct request *req, const struct usb_device_list *list,
		      struct journal *j, struct claim *claims)
{
	for (size_t i = 0; i < req->count; i++)
		claims[i].node_fd = -1;
	if (journal_read(ctx, j) < 0)
		return -1;
	if (plan_claims(ctx, req, list, j, claims) < 0)
		return -1;
	return open_claimed_nodes(ctx, claims, req->count);
}

static void forget_plan(struct journal *j, struct claim *claims, size_t n)
{
	close_claims(claims, n);
	journal_free(j);
}

static int before_vm_start(struct context *ctx)
{
	struct request req;
	struct usb_device_list list = { 0 };
	struct journal j = { 0 };
	struct claim claims[MAX_ENTRIES] = { 0 };
	char err[256];
	if (!ctx->property[0]) {
		if (ctx->opt->dry_run)
			say("dry run: the hostusb property is not set or empty: nothing to do");
		return 0;
	}
	if (parse_property(ctx->property, &req) < 0 || check_domxml_set(ctx) < 0 || resolve_owner(ctx) < 0)
		return -1;
	if (sysfs_scan_ids(ctx->opt->root, req.ids, req.count, &list, err, sizeof err) < 0) {
		say("%s", err);
		return -1;
	}
	/* Everything is checked before the lock is even created ... */
	int lock_fd = -1, rc = plan_start(ctx, &req, &list, &j, claims);
	if (rc >= 0 && ctx->opt->dry_run) {
		rc = dry_run_start(ctx, claims, req.count) < 0 ? -1 : -rc;
	} else if (rc == 0) {
		/* ... and again under it: another VM may have claimed a device meanwhile. */
		forget_plan(&j, claims, req.count);
		lock_fd = journal_lock(ctx);
		rc = lock_fd < 0 ? -1 : plan_start(ctx, &req, &list, &j, claims);
		if (rc == 0)
			rc = commit_start(ctx, claims, req.count, &j);
	}
	forget_plan(&j, claims, req.count);
	sysfs_free(&list);
	if (lock_fd >= 0)
		close(lock_fd);
	return rc;
}

/* ---- after_vm_destroy -------------------------------------------------- */

static const struct usb_device *device_at(const struct usb_device_list *list, const char *devpath)
{
	char path[DEVPATH_SIZE];
	for (size_t i = 0; i < list->count; i++) {
		sysfs_node_path(list->devices[i].addr, path, sizeof path);
		if (strcmp(path, devpath) == 0)
			return &list->devices[i];
	}
	return NULL;
}

/*
 * Marks the journal lines this VM gives back: every line of its vmId, and for
 * an id of the property it holds fewer of than requested, lines without a
 * vmId (the Python hook's) on matching devices, ascending.
 */
static void select_releases(const struct context *ctx, const struct request *req, const struct usb_device_list *list,
			    const struct journal *j, bool *release)
{
	for (size_t i = 0; i < j->count; i++)
		release[i] = held_by_vm(&j->entries[i], ctx->vmid);
	bool done[MAX_ENTRIES] = { false };
	for (size_t r = 0; r < req->count; r++) {
		if (done[r])
			continue;
		size_t wanted = 0;
		for (size_t k = r; k < req->count; k++)
			if (usb_id_equal(req->ids[k], req->ids[r]))
				wanted++, done[k] = true;
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < j->count && wanted > 0; i++) {
				const struct usb_device *dev = device_at(list, j->entries[i].devpath);
				if (!dev || !same_id(dev, req->ids[r]))
					continue;
				if (pass == 0 && release[i])
					wanted--;
				else if (pass == 1 && !release[i] && !j->entries[i].vmid[0])
					release[i] = true, wanted--;
			}
		if (wanted > 0)
			say("warning: device 0x%04x:0x%04x: %zu requested but not recorded as held by this VM",
			    req->ids[r].vendor, req->ids[r].product, wanted);
	}
}

/*
 * What became of one journal line: given back or its device gone (the line is
 * dropped); kept (not this VM's, or its node is missing: warned); or failed.
 */
enum release_outcome { RELEASED, DEVICE_GONE, RELEASE_KEPT, RELEASE_FAILED };

/*
 * A device still in sysfs whose node is missing cannot be given back now; its
 * line stays, so its original owner is not lost, and the warning says how to
 * finish once the node is back.
 */
static void warn_node_missing(const struct context *ctx, const struct usb_device *dev,
			      const struct journal_entry *e)
{
	say("warning: %s%s: device 0x%04x:0x%04x is in sysfs but its node is missing; still held by VM %s, "
	    "owner %u:%u kept to restore: once the node is back, run after_vm_destroy for that VM again",
	    ctx->opt->root, e->devpath, dev->id.vendor, dev->id.product, e->vmid[0] ? e->vmid : "(no vmId)", e->uid,
	    e->gid);
}

/* Gives one node back its recorded owner; says why when it does not. */
static enum release_outcome release_entry(const struct context *ctx, const struct usb_device_list *list,
					  const struct journal_entry *e)
{
	const struct usb_device *dev = device_at(list, e->devpath);
	if (!dev) {
		say("warning: %s is gone; forgetting its recorded owner %u:%u", e->devpath, e->uid, e->gid);
		return DEVICE_GONE;
	}
	struct stat st;
	int fd = open_node(ctx, dev, e->devpath, &st, true);
	if (fd == -2)
		warn_node_missing(ctx, dev, e);
	if (fd < 0)
		return fd == -2 ? RELEASE_KEPT : RELEASE_FAILED;
	int rc = chown_node(ctx, fd, e->devpath, e->uid, e->gid);
	close(fd);
	return rc < 0 ? RELEASE_FAILED : RELEASED;
}

static int release_all(const struct context *ctx, const struct request *req, struct journal *j)
{
	struct usb_device_list list = { 0 };
	char err[256];
	if (sysfs_scan(ctx->opt->root, &list, err, sizeof err) < 0) {
		say("%s", err);
		return -1;
	}
	bool *release = calloc(j->count + 1, sizeof *release);
	if (!release) {
		sysfs_free(&list);
		say("journal: %s", strerror(ENOMEM));
		return -1;
	}
	select_releases(ctx, req, &list, j, release);
	int rc = 0;
	size_t kept = 0, released = 0;
	for (size_t i = 0; i < j->count; i++) {
		enum release_outcome outcome = release[i] ? release_entry(ctx, &list, &j->entries[i]) : RELEASE_KEPT;
		if (outcome == RELEASED || outcome == DEVICE_GONE) {
			released++;
			continue;
		}
		rc = outcome == RELEASE_FAILED ? -1 : rc;
		j->entries[kept++] = j->entries[i];
	}
	j->count = kept;
	if (released && journal_write(ctx, j) != 0)
		rc = -1;
	free(release);
	sysfs_free(&list);
	return rc;
}

static int after_vm_destroy(const struct context *ctx)
{
	struct request req = { .count = 0 };
	struct journal j = { 0 };
	char path[PATH_SIZE];
	struct stat st;
	if (ctx->property[0] && parse_property(ctx->property, &req) < 0)
		req.count = 0;   /* said; the lines of this vmId are still given back */
	if (host_path(ctx, JOURNAL_PATH, path, sizeof path) < 0)
		return -1;
	if (lstat(path, &st) < 0 && errno == ENOENT) {
		if (req.count)
			say("warning: %s does not exist: no device to give back", path);
		return 0;
	}
	int lock_fd = journal_lock(ctx);
	if (lock_fd < 0)
		return -1;
	int rc = journal_read(ctx, &j) == 0 ? release_all(ctx, &req, &j) : -1;
	journal_free(&j);
	close(lock_fd);
	return rc;
}

/* ---- list -------------------------------------------------------------- */

static void list_line(const struct context *ctx, const struct usb_device *dev, const struct journal *j,
		      char *buf, size_t size)
{
	char devpath[DEVPATH_SIZE], node[PATH_SIZE], owner[32] = "-", holder[VMID_MAX + 1] = "-";
	struct stat st;
	sysfs_node_path(dev->addr, devpath, sizeof devpath);
	format(node, sizeof node, "%s%s", ctx->opt->root, devpath);
	if (lstat(node, &st) == 0)
		format(owner, sizeof owner, "%u:%u", (unsigned)st.st_uid, (unsigned)st.st_gid);
	const struct journal_entry *e = journal_find(j, devpath);
	if (e)
		format(holder, sizeof holder, "%s", e->vmid[0] ? e->vmid : "unknown");
	format(buf, size, "%03u %03u %04x:%04x %-20s %-11s %-36s hostusb=0x%04x:0x%04x\n", dev->addr.bus,
	       dev->addr.device, dev->id.vendor, dev->id.product, devpath, owner, holder, dev->id.vendor, dev->id.product);
}

static int list_devices(const struct context *ctx)
{
	struct usb_device_list list = { 0 };
	struct journal j = { 0 };
	char err[256], line[512];
	if (sysfs_scan(ctx->opt->root, &list, err, sizeof err) < 0) {
		say("%s", err);
		return -1;
	}
	int rc = journal_read(ctx, &j);
	static const char header[] = "BUS DEV ID        NODE                 OWNER       HELD-BY"
				     "                              SELECT\n";
	if (rc == 0 && write_all(STDOUT_FILENO, header, sizeof header - 1) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < list.count; i++) {
		list_line(ctx, &list.devices[i], &j, line, sizeof line);
		rc = write_all(STDOUT_FILENO, line, strlen(line));
	}
	if (rc < 0 && errno)
		say("stdout: %s", strerror(errno));
	journal_free(&j);
	sysfs_free(&list);
	return rc;
}

/* ---- options and main -------------------------------------------------- */

#define HOOK_POINT_NAMES "before_vm_start, after_vm_destroy, before_vm_migrate_source"

static const struct {
	const char *name;
	enum command command;
} hook_points[] = {
	{ "before_vm_start", CMD_BEFORE_VM_START },
	{ "after_vm_destroy", CMD_AFTER_VM_DESTROY },
	{ "before_vm_migrate_source", CMD_BEFORE_VM_MIGRATE_SOURCE },
};

static enum command hook_point_named(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof hook_points / sizeof hook_points[0]; i++)
		if (strlen(hook_points[i].name) == len && memcmp(hook_points[i].name, name, len) == 0)
			return hook_points[i].command;
	return CMD_NONE;
}

/*
 * The directory dir[0, dir_len), followed by "/" and up, is its parent's
 * entry "name": the same file as .../up../name, as the kernel resolves ".",
 * ".." and symlinks.
 */
static bool dir_is_named(const char *dir, int dir_len, const char *up, const char *name)
{
	char path[PATH_SIZE];
	struct stat at_dir, at_name;
	int n = format(path, sizeof path, "%.*s/%s../%s", dir_len, dir, up, name);
	if (n < 0 || (size_t)n >= sizeof path || stat(path, &at_name) < 0)
		return false;
	format(path, sizeof path, "%.*s/%s", dir_len, dir, up);   /* shorter: fits */
	return stat(path, &at_dir) == 0 && at_dir.st_dev == at_name.st_dev && at_dir.st_ino == at_name.st_ino;
}

/*
 * The command when none is named, from the directory part of argv[0]: the
 * hook point it is named after (VDSM runs .../hooks/before_vm_start/50_hostusb;
 * "./50_hostusb" there too).  A program elsewhere (/usr/sbin/hostusb, or a
 * name found through PATH) runs list; one in another directory of a "hooks"
 * directory fails, so a hook never silently does nothing.
 */
static int command_of_program(const char *argv0, enum command *command)
{
	const char *slash = strrchr(argv0, '/');
	int dir_len = slash ? (int)(slash - argv0) : 0;
	*command = CMD_LIST;
	for (size_t i = 0; slash && i < sizeof hook_points / sizeof hook_points[0]; i++)
		if (dir_is_named(argv0, dir_len, "", hook_points[i].name)) {
			*command = hook_points[i].command;
			return 0;
		}
	if (slash && dir_is_named(argv0, dir_len, "../", "hooks")) {
		say("%s: its directory is not a hook point hostusb serves (" HOOK_POINT_NAMES "); install it "
		    "in one of those, or give the hook point or list as an argument; see hostusb --help", argv0);
		return -1;
	}
	return 0;
}

static enum command command_named(const char *word)
{
	return strcmp(word, "list") == 0 ? CMD_LIST : hook_point_named(word, strlen(word));
}

static const char usage_text[] =
	"usage: hostusb [--root DIR] [--owner USER:GROUP] [--dry-run] [--lock-wait SEC] [HOOK]\n"
	"       hostusb [--root DIR] [list]\n"
	"       hostusb --help | --version\n"
	"HOOK is before_vm_start, after_vm_destroy or before_vm_migrate_source.  Without HOOK\n"
	"or list, the program runs the hook point its directory is named after, as VDSM runs\n"
	"hooks/HOOK/50_hostusb (./50_hostusb there works too).  Anywhere else it does what\n"
	"list does: a line per host USB device with its owner, the VM holding it and the\n"
	"hostusb= value that selects it; in another directory of a hooks/ directory it fails.\n"
	"Environment: hostusb=0xVVVV:0xPPPP[&0xVVVV:0xPPPP]..., _hook_domxml, vmId.\n";

/* What parse_options keeps between arguments. */
struct parse_state {
	const char *lock_wait;      /* --lock-wait's text, checked at the end */
	const char *hook_option;    /* an option only a hook point uses, if given */
};

/* The options that take a value, and what each needs. */
static const struct {
	const char *name, *needs;
} valued_options[] = {
	{ "--root", "a directory" },
	{ "--owner", "USER:GROUP" },
	{ "--lock-wait", "a number of seconds" },
};

/*
 * valued_options[k] at argv[*i], as "--name VALUE" or "--name=VALUE".  1:
 * *value set, *i past what it took; 0: not this option; -1: its value is
 * missing (said).
 */
static int option_value(int argc, char **argv, int *i, size_t k, const char **value)
{
	const char *arg = argv[*i], *name = valued_options[k].name;
	size_t len = strlen(name);
	if (strncmp(arg, name, len) != 0 || (arg[len] != '=' && arg[len] != '\0'))
		return 0;
	if (arg[len] == '=') {
		*value = arg + len + 1;
		return 1;
	}
	if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0) {
		*value = argv[++*i];
		return 1;
	}
	say("%s needs %s; see hostusb --help", name, valued_options[k].needs);
	return -1;
}

static int set_command(struct options *opt, enum command command, const char *word)
{
	if (command == CMD_NONE) {
		say("unknown command \"%s\": expected " HOOK_POINT_NAMES " or list; see hostusb --help", word);
		return -1;
	}
	if (opt->command != CMD_NONE) {
		say("unexpected argument \"%s\": give one command; see hostusb --help", word);
		return -1;
	}
	opt->command = command;
	return 0;
}

/* The option or command at argv[*i] (and its value); 0, or -1 after saying why. */
static int parse_argument(int argc, char **argv, int *i, struct options *opt, struct parse_state *ps)
{
	const char *arg = argv[*i], *value = NULL;
	for (size_t k = 0; k < sizeof valued_options / sizeof valued_options[0]; k++) {
		int taken = option_value(argc, argv, i, k, &value);
		if (taken < 0)
			return -1;
		if (taken == 0)
			continue;
		if (k == 0)
			opt->root = value;
		else if (k == 1)
			opt->owner = value;
		else
			ps->lock_wait = value;
		ps->hook_option = k > 0 ? valued_options[k].name : ps->hook_option;
		return 0;
	}
	if (strcmp(arg, "--dry-run") == 0) {
		opt->dry_run = true;
		ps->hook_option = arg;
		return 0;
	}
	if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
		return set_command(opt, CMD_HELP, arg);
	if (strcmp(arg, "--version") == 0)
		return set_command(opt, CMD_VERSION, arg);
	if (arg[0] != '-')
		return set_command(opt, command_named(arg), arg);
	say("unknown option \"%s\"; see hostusb --help", arg);
	return -1;
}

/* --owner, --dry-run and --lock-wait mean nothing to list: a mistake to point out. */
static int check_hook_option(const struct options *opt, const struct parse_state *ps)
{
	if (opt->command != CMD_LIST || !ps->hook_option)
		return 0;
	say("%s is for a hook point (" HOOK_POINT_NAMES "), not for list: name the hook point, or run the "
	    "program from its hooks/ directory; see hostusb --help", ps->hook_option);
	return -1;
}

static int parse_options(int argc, char **argv, struct options *opt)
{
	*opt = (struct options){ .root = "", .owner = DEFAULT_OWNER, .lock_wait = DEFAULT_LOCK_WAIT };
	struct parse_state ps = { NULL, NULL };
	for (int i = 1; i < argc; i++)
		if (parse_argument(argc, argv, &i, opt, &ps) < 0)
			return -1;
	const char *lock_wait = ps.lock_wait;
	if (lock_wait && text_decimal(lock_wait, strlen(lock_wait), MAX_ID, &opt->lock_wait) < 0) {
		say("--lock-wait \"%s\": expected a number of seconds", lock_wait);
		return -1;
	}
	if (opt->command == CMD_NONE && command_of_program(argc > 0 ? argv[0] : "", &opt->command) < 0)
		return -1;
	return check_hook_option(opt, &ps);
}

/* "/" and trailing slashes mean the host itself: root paths are root + "/..." */
static char *normalize_root(const char *root)
{
	size_t len = strlen(root);
	while (len > 0 && root[len - 1] == '/')
		len--;
	return strndup(root, len);
}

static int run(const struct options *opt)
{
	const char *vmid = getenv("vmId"), *property = getenv("hostusb");
	struct context ctx = { .opt = opt, .property = property ? property : "", .domxml = getenv("_hook_domxml") };
	if (vmid && (check_vmid(vmid) < 0))
		return -1;
	format(ctx.vmid, sizeof ctx.vmid, "%s", vmid ? vmid : "");
	switch (opt->command) {
	case CMD_BEFORE_VM_START:
		return before_vm_start(&ctx);
	case CMD_AFTER_VM_DESTROY:
		return after_vm_destroy(&ctx);
	case CMD_BEFORE_VM_MIGRATE_SOURCE:
		if (ctx.property[0]) {
			say("cannot migrate VM with host usb devices");
			return -1;
		}
		return 0;
	case CMD_LIST:
		return list_devices(&ctx);
	case CMD_HELP:
		return write_all(STDOUT_FILENO, usage_text, sizeof usage_text - 1);
	case CMD_VERSION:
		return write_all(STDOUT_FILENO, "hostusb " HOSTUSB_VERSION "\n", sizeof "hostusb " HOSTUSB_VERSION);
	case CMD_NONE:
		break;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct options opt;
	if (parse_options(argc, argv, &opt) < 0)
		return EXIT_HOOK_FAILED;
	char *root = normalize_root(opt.root);
	if (!root) {
		say("%s", strerror(ENOMEM));
		return EXIT_HOOK_FAILED;
	}
	opt.root = root;
	int rc = run(&opt);
	free(root);
	return rc == 0 ? 0 : EXIT_HOOK_FAILED;
}
