/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The journal of original owners; see journal.h. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "format.h"

#define JOURNAL_DIR       "/var/run/vdsm/hooks"
#define LOCK_PATH         JOURNAL_PATH ".lock"
/* the one temporary name every run uses, under the lock */
#define TEMP_SUFFIX       ".update"
/* what is read and what is written alike: a journal written is always one that can be read */
#define MAX_JOURNAL_BYTES (2u << 20)
/* "/dev/bus/usb/BBB/DDD" 20, ":UID" and ":GID" 11 each, ":VMID" 65, ":MODE" 5, '\n' */
#define LINE_MAX_BYTES    113u
#define MODE_DIGITS       4
/* (uid_t)-1 means "unchanged" to chown: never an owner */
#define MAX_OWNER 0xfffffffeu
#define PATH_SIZE 4096

/* buf = root + path; err set when it does not fit */
static int path_in(const char *root, const char *path, char *buf, size_t size, struct error *err)
{
	if (root_path(root, path, buf, size) == 0)
		return 0;
	error_set(err, "%s%s: path too long", root, path);
	return -1;
}

/* ---- the text ---- */

static size_t count_digits(const char *s, const char *end)
{
	size_t n = 0;
	while (s + n < end && s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/* "/dev/bus/usb/BBB/DDD" at s, exactly: three digits each */
static const char *parse_node(const char *s, const char *end, struct usb_addr *addr)
{
	static const char prefix[] = "/dev/bus/usb/";
	size_t plen = sizeof prefix - 1;
	if ((size_t)(end - s) < plen + 7 || memcmp(s, prefix, plen) != 0)
		return NULL;
	s += plen;
	unsigned *parts[2] = { &addr->bus, &addr->device };
	for (int i = 0; i < 2; i++, s += 4) {
		if (count_digits(s, s + 3) != 3 || (i == 0 && s[3] != '/'))
			return NULL;
		*parts[i] = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
	}
	return s - 1;
}

/* ":MODE" at s: exactly four octal digits; the end of it, or NULL */
static const char *parse_mode(const char *s, const char *end, unsigned *mode)
{
	if (end - s < 1 + MODE_DIGITS || *s++ != ':')
		return NULL;
	*mode = 0;
	for (int i = 0; i < MODE_DIGITS; i++, s++) {
		if (*s < '0' || *s > '7')
			return NULL;
		*mode = *mode * 8 + (unsigned)(*s - '0');
	}
	return s;
}

/*
 * Parses one record at *p: DEVPATH:UID:GID[:VMID[:MODE]] (VMID may be empty
 * only before a MODE), ended by '\n', the end of the text, or directly by the
 * next record's '/' (the Python hook wrote its records without newlines).
 */
static int parse_record(const char **p, const char *end, struct journal_entry *e)
{
	const char *s = parse_node(*p, end, &e->addr);
	if (!s)
		return -1;
	unsigned *fields[2] = { &e->uid, &e->gid };
	for (int i = 0; i < 2; i++) {
		if (s >= end || *s++ != ':')
			return -1;
		size_t digits = count_digits(s, end);
		if (text_decimal(s, digits, MAX_OWNER, fields[i]) < 0)
			return -1;
		s += digits;
	}
	size_t vmid_len = 0;
	e->has_mode = false;
	e->mode = 0;
	const char *vmid = s + 1;
	if (s < end && *s == ':') {
		s++;
		while (s + vmid_len < end && vmid_char(s[vmid_len]))
			vmid_len++;
		s += vmid_len;
		if (s < end && *s == ':') {
			s = parse_mode(s, end, &e->mode);
			if (!s)
				return -1;
			e->has_mode = true;
		}
		if ((vmid_len == 0 && !e->has_mode) || vmid_len > VMID_MAX)
			return -1;
	}
	memcpy(e->vmid, vmid, vmid_len);
	e->vmid[vmid_len] = '\0';
	if (s < end && *s == '\n')
		s++;
	else if (s < end && *s != '/')
		return -1;
	*p = s;
	return 0;
}

/* ---- the index by address ---- */

static int compare_at(const struct journal *j, size_t a, size_t b)
{
	return usb_addr_compare(j->entries[a].addr, j->entries[b].addr);
}

/* Stable bottom-up merge sort of j->by_addr (equal addresses keep file order). */
static void sort_index(struct journal *j, size_t *scratch)
{
	size_t n = j->count, *from = j->by_addr, *to = scratch;
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t a = lo, b = mid, k = lo;
			while (a < mid && b < hi)
				to[k++] = compare_at(j, from[b], from[a]) < 0 ? from[b++] : from[a++];
			while (a < mid)
				to[k++] = from[a++];
			while (b < hi)
				to[k++] = from[b++];
		}
		size_t *t = from;
		from = to;
		to = t;
	}
	if (from != j->by_addr)
		memcpy(j->by_addr, from, n * sizeof *from);
}

/* Where addr is, or would be inserted, in by_addr. */
static size_t index_position(const struct journal *j, struct usb_addr addr, bool *found)
{
	size_t low = 0, high = j->count;
	*found = false;
	while (low < high) {
		size_t mid = low + (high - low) / 2;
		int order = usb_addr_compare(j->entries[j->by_addr[mid]].addr, addr);
		if (order == 0) {
			*found = true;
			return mid;
		}
		if (order < 0)
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

/*
 * Removes the entries i with drop[i] (and their slots in by_addr), keeping
 * the order of the others; new_index is scratch for count indexes.
 */
static void compact(struct journal *j, const bool *drop, size_t *new_index)
{
	size_t kept = 0;
	for (size_t i = 0; i < j->count; i++) {
		new_index[i] = kept;
		if (!drop[i])
			j->entries[kept++] = j->entries[i];
	}
	size_t slots = 0;
	for (size_t k = 0; k < j->count; k++)
		if (!drop[j->by_addr[k]])
			j->by_addr[slots++] = new_index[j->by_addr[k]];
	j->count = kept;
}

static int reserve(struct journal *j, size_t count)
{
	if (count <= j->capacity)
		return 0;
	size_t capacity = count > 2 * j->capacity ? count : 2 * j->capacity;
	capacity = capacity < 16 ? 16 : capacity;
	struct journal_entry *entries = grow(j->entries, j->count * sizeof *entries, capacity * sizeof *entries);
	if (!entries)
		return -1;
	j->entries = entries;
	size_t *by_addr = grow(j->by_addr, j->count * sizeof *by_addr, capacity * sizeof *by_addr);
	if (!by_addr)
		return -1;
	j->by_addr = by_addr;
	j->capacity = capacity;
	return 0;
}

/* ---- the interface ---- */

void journal_free(struct journal *j)
{
	free(j->entries);
	free(j->by_addr);
	free(j->original);
	*j = (struct journal){ 0 };
}

const struct journal_entry *journal_find(const struct journal *j, struct usb_addr addr)
{
	bool found;
	size_t k = index_position(j, addr, &found);
	return found ? &j->entries[j->by_addr[k]] : NULL;
}

/* Indexes the parsed entries and drops every later line of a node. */
static int index_entries(struct journal *j)
{
	size_t *scratch = malloc((j->count ? j->count : 1) * sizeof *scratch);
	bool *later = malloc(j->count ? j->count : 1);
	int rc = scratch && later ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < j->count; i++)
		j->by_addr[i] = i;
	if (rc == 0)
		sort_index(j, scratch);
	for (size_t k = 0; rc == 0 && k < j->count; k++)
		later[j->by_addr[k]] = k > 0 && compare_at(j, j->by_addr[k - 1], j->by_addr[k]) == 0;
	free(scratch);
	if (rc == 0)
		rc = journal_drop(j, later);
	free(later);
	return rc;
}

int journal_parse(const char *text, size_t len, struct journal *j, struct error *err)
{
	*j = (struct journal){ 0 };
	size_t records = 0;
	for (const char *at = text; (at = memchr(at, '/', len - (size_t)(at - text))); at++)
		records += (size_t)(text + len - at) >= 5 && memcmp(at, "/dev/", 5) == 0;
	if (reserve(j, records) < 0) {
		error_set(err, "%s", strerror(ENOMEM));
		return -1;
	}
	const char *p = text, *end = text + len;
	size_t line = 1;
	while (p < end) {
		if (*p == '\n') {
			p++, line++;
			continue;
		}
		if (j->count == records || parse_record(&p, end, &j->entries[j->count]) < 0) {
			error_set(err, "line %zu: malformed record", line);
			journal_free(j);
			return -1;
		}
		j->count++;
		line += p[-1] == '\n';
	}
	if (index_entries(j) < 0) {
		error_set(err, "%s", strerror(ENOMEM));
		journal_free(j);
		return -1;
	}
	return 0;
}

int journal_read(const char *root, struct journal *j, struct error *err)
{
	char path[PATH_SIZE];
	char *text = NULL;
	size_t len = 0;
	*j = (struct journal){ 0 };
	if (path_in(root, JOURNAL_PATH, path, sizeof path, err) < 0)
		return -1;
	int found = read_small_file(path, MAX_JOURNAL_BYTES, &text, &len, true, err);
	if (found < 0)
		return -1;
	struct error parse_err;
	if (journal_parse(text ? text : "", len, j, &parse_err) < 0) {
		error_set(err, "%s: %s", path, parse_err.message);
		free(text);
		return -1;
	}
	j->original = text;
	j->original_len = len;
	j->existed = found == 0;
	return 0;
}

int journal_add(struct journal *j, struct usb_addr addr, unsigned uid, unsigned gid, const char *vmid,
		unsigned mode)
{
	bool found;
	size_t k = index_position(j, addr, &found);
	if (found)
		return 0;
	if (reserve(j, j->count + 1) < 0)
		return -1;
	struct journal_entry *e = &j->entries[j->count];
	*e = (struct journal_entry){ .addr = addr, .uid = uid, .gid = gid, .has_mode = true, .mode = mode & 07777 };
	format(e->vmid, sizeof e->vmid, "%s", vmid);
	memmove(&j->by_addr[k + 1], &j->by_addr[k], (j->count - k) * sizeof *j->by_addr);
	j->by_addr[k] = j->count++;
	return 0;
}

int journal_drop(struct journal *j, const bool *drop)
{
	size_t *new_index = malloc((j->count ? j->count : 1) * sizeof *new_index);
	if (!new_index)
		return -1;
	compact(j, drop, new_index);
	free(new_index);
	return 0;
}

size_t journal_format(const struct journal *j, char *buf, size_t size)
{
	size_t used = 0;
	for (size_t i = 0; i < j->count; i++) {
		const struct journal_entry *e = &j->entries[i];
		char mode[8] = "";
		if (e->has_mode)
			format(mode, sizeof mode, ":%04o", e->mode);
		int n = format(buf + used, size - used, "/dev/bus/usb/%03u/%03u:%u:%u%s%s%s\n", e->addr.bus,
			       e->addr.device, e->uid, e->gid, e->vmid[0] || e->has_mode ? ":" : "", e->vmid, mode);
		if (n < 0 || (size_t)n >= size - used)
			return (size_t)-1;
		used += (size_t)n;
	}
	return used;
}

/* Replaces the journal file with data durably; as journal_commit. */
static int replace_journal(const char *root, const char *data, size_t len, struct error *err)
{
	char path[PATH_SIZE];
	struct replacement r;
	if (path_in(root, JOURNAL_PATH, path, sizeof path, err) < 0)
		return -1;
	if (replacement_begin(&r, path, TEMP_SUFFIX, err) < 0)
		return -1;
	if (fchmod(r.fd, 0644) < 0 || write_all(r.fd, data, len) < 0) {
		error_set(err, "%s: %s", r.temp, strerror(errno));
		replacement_abandon(&r);
		return -1;
	}
	return replacement_commit(&r, true, err);
}

int journal_commit(const char *root, const struct journal *j, struct error *err)
{
	size_t size = j->count * LINE_MAX_BYTES + 1;
	char *buf = malloc(size);
	size_t len = buf ? journal_format(j, buf, size) : (size_t)-1;
	if (len == (size_t)-1) {
		error_set(err, "journal: %s", strerror(ENOMEM));
		free(buf);
		return -1;
	}
	if (len > MAX_JOURNAL_BYTES) {
		error_set(err, "journal: %zu bytes, over the %u a journal may have", len, MAX_JOURNAL_BYTES);
		free(buf);
		return -1;
	}
	int rc = replace_journal(root, buf, len, err);
	free(buf);
	return rc;
}

int journal_restore(const char *root, const struct journal *j, struct error *err)
{
	char path[PATH_SIZE];
	if (j->existed)
		return replace_journal(root, j->original, j->original_len, err);
	if (path_in(root, JOURNAL_PATH, path, sizeof path, err) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT) {
		error_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the lock ---- */

static int make_journal_dirs(const char *root, struct error *err)
{
	static const char *const dirs[] = { "/var", "/var/run", "/var/run/vdsm", JOURNAL_DIR };
	char path[PATH_SIZE];
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (root_path(root, dirs[i], path, sizeof path) < 0) {
			error_set(err, "%s%s: path too long", root, dirs[i]);
			return -1;
		}
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			error_set(err, "%s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int open_lock(const char *path, struct error *err)
{
	int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
	struct stat st;
	const char *wrong = fd < 0 || fstat(fd, &st) < 0 ? strerror(errno)
			  : !S_ISREG(st.st_mode) ? "not a regular file" : NULL;
	if (wrong) {
		error_set(err, "%s: %s", path, wrong);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * Removes the temporary file a run killed between naming it and renaming it
 * left; called under the lock.  Should that fail, the next write says why.
 */
static void remove_stale_temp(const char *root)
{
	char path[PATH_SIZE];
	if (root_path(root, JOURNAL_PATH TEMP_SUFFIX, path, sizeof path) == 0)
		(void)unlink(path);
}

int journal_lock(const char *root, unsigned wait_seconds, struct error *err)
{
	char path[PATH_SIZE];
	if (make_journal_dirs(root, err) < 0)
		return -1;
	if (path_in(root, LOCK_PATH, path, sizeof path, err) < 0)
		return -1;
	int fd = open_lock(path, err);
	if (fd < 0)
		return -1;
	const struct timespec pause = { 0, 10L * 1000 * 1000 };
	for (unsigned long waited_ms = 0;; waited_ms += 10) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			remove_stale_temp(root);
			return fd;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			error_set(err, "%s: %s", path, strerror(errno));
			break;
		}
		if (waited_ms >= wait_seconds * 1000ul) {
			error_set(err, "%s: still locked by another hostusb after %u s", path, wait_seconds);
			break;
		}
		nanosleep(&pause, NULL);
	}
	close(fd);
	return -1;
}
