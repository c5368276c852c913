/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The shared text rules; see text.h. */
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "format.h"

int text_decimal(const char *text, size_t len, unsigned max, unsigned *value)
{
	unsigned result = 0;

	if (len == 0 || (len > 1 && text[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		unsigned digit = (unsigned)(text[i] - '0');
		if (result > (max - digit) / 10)
			return -1;
		result = result * 10 + digit;
	}
	*value = result;
	return 0;
}

int text_hex4(const char *text, unsigned *value)
{
	unsigned result = 0;

	for (int i = 0; i < 4; i++) {
		char c = text[i];
		unsigned digit;
		if (c >= '0' && c <= '9')
			digit = (unsigned)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			digit = (unsigned)((c | 0x20) - 'a' + 10);
		else
			return -1;
		result = result << 4 | digit;
	}
	*value = result;
	return 0;
}

bool vmid_char(char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '-';
}

bool vmid_valid(const char *text, size_t len)
{
	if (len > VMID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!vmid_char(text[i]))
			return false;
	return true;
}

static unsigned ascii_lower(char c)
{
	unsigned byte = (unsigned char)c;
	return byte >= 'A' && byte <= 'Z' ? byte + ('a' - 'A') : byte;
}

bool vmid_equal(const char *a, const char *b)
{
	for (; *a && ascii_lower(*a) == ascii_lower(*b); a++, b++)
		;
	return *a == '\0' && *b == '\0';
}

bool serial_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == ':' || c == '-';
}

bool serial_valid(const char *text, size_t len)
{
	size_t n = 0;
	while (n < len && serial_char(text[n]))
		n++;
	return n == len && len >= 1 && len <= SERIAL_MAX;
}

size_t root_length(const char *root)
{
	size_t len = strlen(root);
	while (len > 0 && root[len - 1] == '/')
		len--;
	return len;
}

int root_path(const char *root, const char *path, char *buf, size_t size)
{
	size_t root_len = root_length(root), path_len = strlen(path);

	/* every file a run touches is named here: copied, not formatted; cut short when it does not fit */
	if (size == 0)
		return -1;
	size_t from_root = root_len < size - 1 ? root_len : size - 1;
	size_t from_path = path_len < size - 1 - from_root ? path_len : size - 1 - from_root;
	memcpy(buf, root, from_root);
	memcpy(buf + from_root, path, from_path);
	buf[from_root + from_path] = '\0';
	return from_root == root_len && from_path == path_len ? 0 : -1;
}

int path_under_root(const char *root, const char *path, char *buf, size_t size, struct error *err)
{
	if (root_path(root, path, buf, size) == 0)
		return 0;
	error_set(err, "%s%s: path too long", root, path);
	return -1;
}

void quote_untrusted(const char *text, size_t len, char *out, size_t size)
{
	size_t limit = size - 4, o = 0;
	for (size_t i = 0; i < len && o < limit; i++) {
		unsigned char c = (unsigned char)text[i];
		out[o++] = (char)((c >= 0x20 && c < 0x7f) ? c : (unsigned char)'?');
	}
	if (len > limit)
		memcpy(out + o, "...", 3), o += 3;
	out[o] = '\0';
}

void error_set(struct error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vset(err, fmt, ap);
	va_end(ap);
}

/*
 * The longest run of text[0, len) without a space (a path, as a rule):
 * its start, and its length in *run_len.
 */
static size_t longest_word(const char *text, size_t len, size_t *run_len)
{
	size_t best = 0, best_len = 0;
	for (size_t i = 0; i < len;) {
		size_t n = strcspn(text + i, " ");
		if (i + n > len)
			n = len - i;
		if (n > best_len)
			best = i, best_len = n;
		i += n + 1;
	}
	*run_len = best_len;
	return best;
}

/*
 * Shortens text (len bytes, NUL-terminated) to at most max bytes: its
 * longest words lose their middle ("/tmp/aaa...aaa/x.xml"), so that the rest
 * of the line, where the reason is, stays whole; when words alone cannot
 * make room, the start and the end are kept.  Returns the new length.
 */
static size_t shorten_message(char *text, size_t len, size_t max)
{
	const size_t word_ends = 48;   /* what a shortened word keeps of its two ends */
	size_t run_len, at;
	while (len > max && (at = longest_word(text, len, &run_len), run_len > word_ends + 3)) {
		size_t cut = len - max + 3, keep = run_len > cut + word_ends ? run_len - cut : word_ends;
		size_t head = keep / 2, tail = keep - head;
		memset(text + at + head, '.', 3);
		memmove(text + at + head + 3, text + at + run_len - tail, len - (at + run_len - tail) + 1);
		len -= run_len - keep - 3;
	}
	if (len > max) {
		size_t keep = (max - 3) / 2;
		memset(text + keep, '.', 3);
		memmove(text + keep + 3, text + len - keep, keep + 1);
		len = 2 * keep + 3;
	}
	return len;
}

void error_vset(struct error *err, const char *fmt, va_list ap)
{
	char text[4096], *whole = text;
	va_list args;
	va_copy(args, ap);
	int n = vformat(text, sizeof text, fmt, args);
	va_end(args);
	if (n >= (int)sizeof text && (whole = malloc((size_t)n + 1)) != NULL) {
		va_copy(args, ap);
		n = vformat(whole, (size_t)n + 1, fmt, args);
		va_end(args);
	}
	if (!whole)   /* out of memory: the start of the text, cut where it was */
		whole = text;
	size_t len = n < 0 ? 0 : strlen(whole);
	len = shorten_message(whole, len, ERROR_SHOWN);
	memcpy(err->message, whole, len + 1);
	if (whole != text)
		free(whole);
}

void *grow(void *old, size_t old_size, size_t new_size)
{
	void *p = malloc(new_size);
	if (p && old_size)
		memcpy(p, old, old_size);
	if (p)
		free(old);
	return p;
}

int write_all(int fd, const void *data, size_t len)
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

int open_path(const char *path, int flags, unsigned mode)
{
	return openat(AT_FDCWD, path, flags, (mode_t)mode);
}

int open_regular(const char *path, int flags, size_t max, struct stat *st, const char **why)
{
	int fd = open_path(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | flags, 0600);
	if (fd < 0) {
		int error = errno;
		*why = strerror(error);
		return error == ENOENT ? OPEN_MISSING : -1;
	}
	*why = fstat(fd, st) < 0 ? strerror(errno)
	     : !S_ISREG(st->st_mode) ? "not a regular file"
	     : max && (size_t)st->st_size > max ? "file too large" : NULL;
	if (!*why)
		return fd;
	close(fd);
	return -1;
}

int read_small_file(const char *path, size_t max, char **data, size_t *len, bool missing_ok, struct error *err)
{
	struct stat st;
	const char *wrong;
	int fd = open_regular(path, 0, max, &st, &wrong);
	if (fd == OPEN_MISSING && missing_ok)
		return 1;
	if (fd < 0) {
		error_set(err, "%s: %s", path, wrong);
		return -1;
	}
	/* the size fstat gives is all that is read: passwd, group and the journal
	 * (read under its lock) do not grow while we read them */
	size_t size = (size_t)st.st_size, used = 0;
	char *buf = malloc(size + 1);
	if (!buf)
		wrong = strerror(ENOMEM);
	while (buf && !wrong && used < size) {
		ssize_t n = read(fd, buf + used, size - used);
		if (n == 0)
			break;
		if (n < 0 && errno != EINTR)
			wrong = strerror(errno);
		used += n > 0 ? (size_t)n : 0;
	}
	close(fd);
	if (wrong || !buf) {
		error_set(err, "%s: %s", path, wrong ? wrong : strerror(ENOMEM));
		free(buf);
		return -1;
	}
	buf[used] = '\0';
	*data = buf;
	*len = used;
	return 0;
}

/* ---- files replaced whole ---- */

/*
 * Whether this process may give an unnamed file a name (linkat AT_EMPTY_PATH
 * needs CAP_DAC_READ_SEARCH).  capget(2) as the kernel defines it, without
 * <linux/capability.h>, which a musl toolchain need not have.
 */
static bool may_link_unnamed(void)
{
	enum { VERSION_3 = 0x20080522, CAP_DAC_READ_SEARCH_BIT = 2 };
	struct {
		uint32_t version;
		int pid;
	} header = { VERSION_3, 0 };
	struct {
		uint32_t effective, permitted, inheritable;
	} data[2];
	return syscall(SYS_capget, &header, data) == 0 && (data[0].effective & (1u << CAP_DAC_READ_SEARCH_BIT));
}

/* The directory part of path in dir ("." or "/" when there is none). */
static void dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		format(dir, size, ".");
	else
		format(dir, size, "%.*s", (int)(slash == path ? 1 : slash - path), path);
}

int copy_mode_and_owner(int fd, const struct stat *st)
{
	if (fchmod(fd, st->st_mode & 07777) < 0 ||
	    ((st->st_uid != geteuid() || st->st_gid != getegid()) && fchown(fd, st->st_uid, st->st_gid) < 0))
		return -1;
	return 0;
}

/* The temporary file's name, path + suffix, into temp (PATH_SIZE bytes: replacement_begin saw it fit). */
static void temp_name(const struct replacement *r, char *temp)
{
	format(temp, PATH_SIZE, "%s%s", r->path, r->suffix);
}

static int open_named(struct replacement *r, char *temp)
{
	const int flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	temp_name(r, temp);
	int fd = open_path(temp, flags, 0600);
	/* a file a killed run left in the way is removed only now: most runs find none */
	if (fd < 0 && errno == EEXIST && unlink(temp) == 0)
		fd = open_path(temp, flags, 0600);
	r->named = fd >= 0;
	return fd;
}

int replacement_begin(struct replacement *r, const char *path, const char *suffix, struct error *err)
{
	char buf[PATH_SIZE];   /* the directory, then (named) the temporary file's name */
	*r = (struct replacement){ .fd = -1, .path = path, .suffix = suffix };
	if (strlen(path) + strlen(suffix) >= sizeof buf) {
		error_set(err, "%s: path too long", path);
		return -1;
	}
	dir_of(path, buf, sizeof buf);
	bool unnamed = may_link_unnamed();
	if (unnamed)
		r->fd = open_path(buf, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	/* EISDIR: a kernel without O_TMPFILE; EOPNOTSUPP: a file system without it */
	if (!unnamed || (r->fd < 0 && (errno == EISDIR || errno == EOPNOTSUPP || errno == EINVAL)))
		r->fd = open_named(r, buf);
	if (r->fd < 0) {
		error_set(err, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Copies what fd holds into a new named temp: the unnamed one could not be linked. */
static int copy_to_named(struct replacement *r, char *temp)
{
	struct stat st;
	char buf[65536];
	int from = r->fd;
	if (fstat(from, &st) < 0 || (r->fd = open_named(r, temp)) < 0) {
		r->fd = from;
		return -1;
	}
	off_t at = 0;
	for (ssize_t n; (n = pread(from, buf, sizeof buf, at)) != 0; at += n)
		if (n < 0 || write_all(r->fd, buf, (size_t)n) < 0)
			goto fail;
	if (copy_mode_and_owner(r->fd, &st) < 0)
		goto fail;
	close(from);
	return 0;
fail:
	close(from);
	return -1;
}

/* fsync of path's directory, its name made in dir (PATH_SIZE bytes). */
static int sync_dir_of(const char *path, char *dir)
{
	dir_of(path, dir, PATH_SIZE);
	int fd = open_path(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int replacement_commit(struct replacement *r, bool durable, struct error *err)
{
	char temp[PATH_SIZE];
	temp_name(r, temp);
	if (!r->named && linkat(r->fd, "", AT_FDCWD, temp, AT_EMPTY_PATH) == 0)
		r->named = true;
	/*
	 * Synced once named, before the rename.  EEXIST: a file a killed run
	 * left has the name; the copy to a named file takes its place.
	 */
	if ((!r->named && ((errno != ENOENT && errno != EPERM && errno != EACCES && errno != EEXIST) ||
			   copy_to_named(r, temp) < 0)) ||
	    (durable && fsync(r->fd) < 0)) {
		error_set(err, "%s: %s", temp, strerror(errno));
		replacement_abandon(r);
		return -1;
	}
	int closed = close(r->fd);
	r->fd = -1;
	if (closed < 0 || rename(temp, r->path) < 0) {
		error_set(err, "%s: cannot replace it: %s", r->path, strerror(errno));
		replacement_abandon(r);
		return -1;
	}
	r->named = false;
	if (durable && sync_dir_of(r->path, temp) < 0) {   /* temp's buffer is free */
		error_set(err, "%s: fsync of its directory: %s", r->path, strerror(errno));
		return 1;
	}
	return 0;
}

void replacement_abandon(struct replacement *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->named) {
		char temp[PATH_SIZE];
		temp_name(r, temp);
		unlink(temp);
	}
	r->fd = -1;
	r->named = false;
}
